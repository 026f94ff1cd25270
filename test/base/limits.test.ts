/**
 * Bindings bounded by the device's memory (issue "Hardening", items 1 and 11): zbuff growth
 * stops at the size zbuff.create accepts, string conversions refuse results larger than the
 * Lua heap with "not enough memory", and no JS error text reaches the script.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { runSuite } from './suite';

const ZBUFF = String.raw`
-- the buffer the issue reported: copy far past the end, then toStr. On a 32-bit-integer
-- engine 2.2e9 and 3e9 are no integers at all (as on a 32-bit firmware build).
local function big(name, f, ...)
  if I64 then eq(name, f(...), 0) else raises(name, "number has no integer representation", f, ...) end
end
local z = zbuff.create(4, "ab")
big("copy 2.2e9 refused", z.copy, z, 2.2e9, "x")
eq("len unchanged", z:len(), 4)
eq("used unchanged", z:used(), 2)
eq("toStr works", z:toStr(), "ab\0\0")
big("copy 3e9 refused", z.copy, z, 3e9, "x")
big("copy 3e9 ints refused", z.copy, z, 3e9, 0x41, 0x42)
local src = zbuff.create(8, "12345678")
big("copy 3e9 zbuff refused", z.copy, z, 3e9, src, 0, 4)
big("copy zbuff 3e9 len refused", z.copy, z, 0, src, 0, 3e9)
-- within 32 bits but past the 8 MB the device grants
eq("copy 2e9 refused", z:copy(2000000000, "x"), 0)
eq("copy 9 MB refused", z:copy(9 * 1024 * 1024, "x"), 0)
eq("len still 4", z:len(), 4)
-- resize past the limit leaves the buffer as it was
z:resize(2000000000)
eq("resize refused", z:len(), 4)
eq("content kept", z:toStr(), "ab\0\0")
-- the same size zbuff.create refuses
eqv("create 2e9 refused", {nil, "memory not enough"}, zbuff.create(2000000000))
-- a growth within the limit still works
eq("copy grows", z:copy(10, "xy"), 2)
eq("grown", z:len() >= 12, true)
eq("grown content", z:toStr(10, 2), "xy")
-- JS error texts never reach the script
local ok, err = pcall(function() return z:copy(2^40, "x") end)
eq("no JS error text", tostring(err):find("out of range") == nil and tostring(err):find("The value of") == nil, true)
`;

const STRINGS = String.raw`
-- inside the Lua heap: exact results (vectors: toHex "\1\171\255" = "01ABFF")
eqv("toHex small", {"01ABFF", 6}, string.toHex("\1\171\255"))
eq("fromHex small", string.fromHex("01abFF"), "\1\171\255")
-- 3 MB of input: the 6 MB hex text is larger than the device's 2 MB Lua heap
local big = string.rep("\171", 3 * 1024 * 1024)
-- (wrapped so a failing check reports the length, not megabytes of text)
local function len(f) return function(...) return #f(...) end end
raises("toHex too large", "not enough memory", len(string.toHex), big)
raises("toHex sep too large", "not enough memory", len(string.toHex), string.rep("a", 800 * 1024), " ")
raises("toBase64 too large", "not enough memory", len(string.toBase64), big)
raises("toBase32 too large", "not enough memory", len(string.toBase32), big)
raises("urlEncode too large", "not enough memory", len(string.urlEncode), big)
raises("fromHex too large", "not enough memory", len(string.fromHex), string.rep("AB", 2 * 1024 * 1024 + 8))
-- a 1.5 MB hex text gives 768 KB: within the heap, one linear pass
local h = string.rep("0aF1", 384 * 1024)
local b = string.fromHex(h)
eq("fromHex large len", #b, 768 * 1024)
eq("fromHex large bytes", b:sub(1, 4) .. b:sub(-2), "\10\241\10\241\10\241")
`;

for (const engine of ENGINE_NAMES) {
  test(`zbuff never grows past the size zbuff.create accepts; copy returns 0, resize refuses (${engine})`, async () => {
    const r = await runSuite(engine, ZBUFF);
    fs.rmSync(r.run.dir, { recursive: true, force: true });
    fs.rmSync(r.run.device.opts.dataDir, { recursive: true, force: true });
    assert.equal(r.checks, 18);
  });

  test(`string conversions larger than the Lua heap fail with "not enough memory" (${engine})`, async () => {
    const r = await runSuite(engine, STRINGS);
    fs.rmSync(r.run.dir, { recursive: true, force: true });
    fs.rmSync(r.run.device.opts.dataDir, { recursive: true, force: true });
    assert.equal(r.checks, 10);
  });
}
