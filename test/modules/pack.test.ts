import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { suite } from './util';

// pack (lpack) against two independent references: Lua's own string.pack (same byte layouts
// for the fixed-size codes) and byte vectors written out from the format (doc example of
// luat_lib_pack.c, IEEE 754 encodings).
const BODY = String.raw`
local H = function(s) return (string.toHex(s)) end
-- the firmware doc example
eq("doc pack", H(pack.pack(">IIHA", 0x1234, 0x4567, 0x12, "abcdefg")), "00001234000045670012" .. H("abcdefg"))
eqv("doc unpack", {18, 0x1234, 0x4567, 0x12, "abcdefg"}, pack.unpack(pack.pack(">IIHA", 0x1234, 0x4567, 0x12, "abcdefg"), ">IIHA7"))
-- fixed-size codes against string.pack
eq("b c h H i I (le)", pack.pack("<bchHiI", 200, -1, -2, 0xFFFE, -3, 7), string.pack("<BbhHi4I4", 200, -1, -2, 0xFFFE, -3, 7))
eq("same (be)", pack.pack(">bchHiI", 1, -128, 0x1234, 0x8001, 0x01020304, 0xA0B0C0), string.pack(">BbhHi4I4", 1, -128, 0x1234, 0x8001, 0x01020304, 0xA0B0C0))
eq("default little endian", pack.pack("H", 1), "\1\0")
eq("= native (little)", pack.pack("=H", 1), "\1\0")
eq("f le", pack.pack("<f", 1.5), string.pack("<f", 1.5))
eq("d be", pack.pack(">d", -2.25), string.pack(">d", -2.25))
eq("n is a double", pack.pack("<n", 0.1), string.pack("<d", 0.1))
eq("f bytes", H(pack.pack(">f", 1.0)), "3F800000")
eq("d bytes", H(pack.pack(">d", 1.0)), "3FF0000000000000")
eq("l small", pack.pack("<l", -2), string.pack("<i8", -2))
eq("L small", pack.pack(">L", 0x7FFFFFFF), string.pack(">I8", 0x7FFFFFFF))
if I64 then
  eq("l 64-bit", H(pack.pack(">l", 0x0102030405060708)), "0102030405060708")
  eqv("L 64-bit unpack", {9, 0x0102030405060708}, pack.unpack("\8\7\6\5\4\3\2\1", "<L"))
  eqv("I unsigned 64-bit VM", {5, 4294967295}, pack.unpack("\255\255\255\255", "I"))
else
  -- fengari has 32-bit integers, like the firmware's 32-bit VM: 64-bit values are truncated
  eqv("L truncated on a 32-bit VM", {9, 0x05060708}, pack.unpack("\8\7\6\5\4\3\2\1", "<L"))
  eqv("I wraps on a 32-bit VM", {5, -1}, pack.unpack("\255\255\255\255", "I"))
end
-- wrapping like a C cast
eq("b wraps", pack.pack("b", 0x1FF), "\255")
eq("h wraps", pack.pack("<h", 0x18000), "\0\128")
-- strings
eq("z", pack.pack("z", "ab"), "ab\0")
eq("p", pack.pack("p", "xyz"), "\3xyz")
eq("P big endian", pack.pack(">P", "xyz"), "\0\3xyz")
eq("a size_t 4 bytes", pack.pack("<a", "xy"), "\2\0\0\0xy")
eq("A plain", pack.pack("A", "hello"), "hello")
eq("A3 truncates", pack.pack("A3", "hello"), "hel")
eq("A6 pads", pack.pack("A6", "hi"), "hi\0\0\0\0")
eq("A0 consumes", pack.pack("A0b", "zzz", 7), "\7")
eq("repeat count", pack.pack("<h3", 1, 2, 3), string.pack("<hhh", 1, 2, 3))
eq("spaces and commas", pack.pack("b, b b", 1, 2, 3), "\1\2\3")
raises("bad code", "bad argument #1 to 'pack' (bad code \96Q')", pack.pack, "Q", 1)
raises("integer codes reject fractions", "number has no integer representation", pack.pack, "i", 1.5)
raises("missing argument", "bad argument #2", pack.pack, "i")
-- unpack
eqv("c sign-extends", {3, -1, 255}, pack.unpack("\255\255", "cb"))
eqv("z p P a", {16, "ab", "xyz", "q", "r"}, pack.unpack("ab\0\3xyz\0\1q\1\0\0\0r", "zp>P<a"))
eqv("A reads 1 by default", {2, "a"}, pack.unpack("abc", "A"))
eqv("A0 gives empty", {1, ""}, pack.unpack("abc", "A0"))
eqv("init position", {4, 0x0302}, pack.unpack("\1\2\3", "<H", 2))
eqv("stops when data runs out", {3, 0x0201}, pack.unpack("\1\2\3", "<HH"))
eqv("p with short data stops before the prefix", {1}, pack.unpack("\9ab", "p"))
eqv("values before a short string are kept", {2, 7}, pack.unpack("\7\9ab", "bp"))
eqv("f", {5, 1.5}, pack.unpack(string.pack("<f", 1.5), "<f"))
eqv("d be", {9, -2.25}, pack.unpack(string.pack(">d", -2.25), ">d"))
eqv("repeat unpack", {7, 1, 2, 3}, pack.unpack(string.pack("<hhh", 1, 2, 3), "<h3"))
raises("unpack bad code", "bad argument #1 to 'unpack' (bad code \96Q')", pack.unpack, "abc", "Q")
-- hostile sizes: bounded, clear errors
raises("A count beyond memory", "not enough memory", pack.pack, "A2000000000", "x")
raises("too many results", "too many results to unpack", pack.unpack, string.rep("\0", 100001), "b100001")
eq("many results", select("#", pack.unpack(string.rep("\1", 5000), "b5000")), 5001)
eqv("huge repeat on short data stops", {2, 0}, pack.unpack("\0", "b999999999"))
-- strings only, as luaL_checklstring
raises("zbuff is not a string", "string expected", pack.unpack, zbuff.create(4), "b")
`;

for (const engine of ENGINE_NAMES) {
  test(`pack: lpack codes, byte order, strings, repeat counts against string.pack and IEEE vectors (${engine})`, async () => {
    const r = await suite(engine, BODY);
    assert.ok(r.checks >= 47);
  });
}
