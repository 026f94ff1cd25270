import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { runSuite } from './suite';

// expected values from lua/src/lstrlib_exts.c (its doc examples and its algorithm).
// string.char(0x12) instead of a "\x12" literal: fengari interns strings by an unpadded hex key,
// so the constants "\1\2" and "\x12" in one chunk collide (an engine bug, reported).
const BODY = String.raw`
eqv("toHex 0102", {"0102", 4}, string.toHex("\1\2"))
eqv("toHex doc", {"313233616263", 12}, string.toHex("123abc"))
eqv("toHex sep after every byte", {"31 32 33 61 62 63 ", 12}, string.toHex("123abc", " "))
eqv("toHex method", {"00FF80", 6}, ("\0\255\128"):toHex())
eqv("toHex empty", {"", 0}, string.toHex(""))
eqv("toHex multi-byte sep", {"01::02::", 4}, string.toHex("\1\2", "::"))
eq("fromHex", string.fromHex("010203"), "\1\2\3")
eq("fromHex doc", string.fromHex("313233616263"), "123abc")
eq("fromHex lower", string.fromHex("ff80a0"), "\255\128\160")
eq("fromHex skips junk", string.fromHex("0G12 3"), string.char(0x12))
eq("fromHex odd", string.fromHex("123"), string.char(0x12))
eq("fromHex nul", string.fromHex("00"), "\0")
local t = string.split("123,233333,122")
eq("split n", #t, 3); eq("split 1", t[1], "123"); eq("split 3", t[3], "122")
t = ("a,,b"):split(",")
eq("split drops empty", #t, 2); eq("split a", t[1], "a"); eq("split b", t[2], "b")
t = ("/tmp//def/1234/"):split("/", true)
eq("split keep n", #t, 6)
eq("split keep 1", t[1], ""); eq("split keep 2", t[2], "tmp"); eq("split keep 3", t[3], "")
eq("split keep 5", t[5], "1234"); eq("split keep 6", t[6], "")
t = ("/tmp//def/1234/"):split("/")
eq("split nokeep n", #t, 3); eq("split nokeep 3", t[3], "1234")
eq("split empty", next(string.split("")), nil)
t = ("a::b::c"):split("::")
eq("split multi n", #t, 3); eq("split multi 2", t[2], "b")
t = ("a b"):split("")
eq("split empty delim = comma", #t, 1); eq("split empty delim v", t[1], "a b")
t = ("x\0y\0z"):split("\0")
eq("split NUL delim", #t, 3); eq("split NUL 3", t[3], "z")
eqv("toValue", {"\1\2\3\4\5\6", 6}, string.toValue("123456"))
eqv("toValue letters", {"\1\2\3\10\11\12", 6}, string.toValue("123abc"))
eqv("toValue empty", {"", 0}, string.toValue(""))
eq("urlEncode default", string.urlEncode("123 abc+/"), "123+abc%2B%2F")
eq("urlEncode rfc3986", string.urlEncode("123 abc+/", 1), "123%20abc%2B%2F")
eq("urlEncode custom", string.urlEncode("123 abc+/", -1, 1, "/"), "123%20abc%2B/")
eq("urlEncode custom plus", string.urlEncode("123 abc+/", -1, 0, "/"), "123+abc%2B/")
eq("urlEncode keep space", string.urlEncode("123 abc+/", -1, 0, "/ "), "123 abc%2B/")
eq("urlEncode bytes", string.urlEncode("\0\255*.-_~"), "%00%FF*.-_%7E")
raises("urlEncode nil mode", "number expected", string.urlEncode, "a", nil)
eq("toBase64", string.toBase64("hello"), "aGVsbG8=")
eq("toBase64 bin", string.toBase64("\0\255\128"), "AP+A")
eq("toBase64 empty", string.toBase64(""), "")
eq("fromBase64", string.fromBase64("aGVsbG8="), "hello")
eq("fromBase64 bin", string.fromBase64("AP+A"), "\0\255\128")
eq("fromBase64 crlf", string.fromBase64("aGVs\r\nbG8="), "hello")
eq("fromBase64 bad char", string.fromBase64("aGV*bG8="), "")
eq("fromBase64 inner space", string.fromBase64("aGV sbG8="), "")
eq("fromBase64 char after =", string.fromBase64("aG=sbG8="), "")
eq("fromBase64 trailing spaces ok", string.fromBase64("aGVsbG8=  "), "hello")
eq("fromBase64 incomplete quartet dropped", string.fromBase64("aGVsbG"), "hel")
eq("toBase32", string.toBase32("hello"), "NBSWY3DP")
eq("toBase32 no padding", string.toBase32("a"), "ME")
eq("toBase32 bin", string.toBase32("\0\255"), "AD7Q")
eq("fromBase32", string.fromBase32("NBSWY3DP"), "hello")
eq("fromBase32 lower + dashes", string.fromBase32("nbsw-y3dp"), "hello")
eq("fromBase32 padding is invalid", string.fromBase32("ME======"), "")
eq("fromBase32 bin", string.fromBase32("AD7Q"), "\0\255")
eq("startsWith", ("abc"):startsWith("a"), true)
eq("startsWith no", ("abc"):startsWith("b"), false)
eq("startsWith longer", ("ab"):startsWith("abc"), false)
eq("startsWith empty", ("ab"):startsWith(""), true)
eq("endsWith", ("abc"):endsWith("c"), true)
eq("endsWith no", ("abc"):endsWith("b"), false)
eq("endsWith bin", ("a\0\255"):endsWith("\0\255"), true)
eq("trim", string.trim("\r\nabc\r\n"), "abc")
eq("trim method", (" \t abc \t "):trim(), "abc")
eq("trim right only", #string.trim("\r\nabc\r\n", false, true), 5)
eq("trim left only", string.trim("  a  ", true, false), "a  ")
eq("trim all ws", string.trim(" \t\r\n "), "")
eq("trim keeps NUL", string.trim(" \0 "), "\0")
raises("toHex needs a string", "bad argument #1 to 'toHex' (string expected, got no value)", string.toHex)
raises("method arg numbering", "bad argument #1 to 'startsWith' (string expected, got no value)", function() return ("x"):startsWith() end)
`;

for (const engine of ENGINE_NAMES) {
  test(`string extensions follow lstrlib_exts.c (${engine})`, async () => {
    const r = await runSuite(engine, BODY);
    assert.ok(r.checks >= 70, `only ${r.checks} checks ran`);
  });
}
