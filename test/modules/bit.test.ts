import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { suite } from './util';

// bit/bit32: results from the Lua 5.2 reference manual's definitions (§6.7) written out as
// numbers; the 32-bit unsigned results read as negative on a 32-bit-integer VM (fengari, and
// the firmware's default build), so U() converts the expected value the same way.
const BODY = String.raw`
local function U(x) if I64 then return x end return x >= 0x80000000 and x - 0x100000000 or x end
eq("bit and bit32 are one table", bit == bit32 and bit.band ~= nil, true)
eq("bnot 0", bit.bnot(0), U(0xFFFFFFFF))
eq("bnot 0x0F", bit.bnot(0x0F), U(0xFFFFFFF0))
eq("band", bit.band(0xF0, 0x3C), 0x30)
eq("band no args", bit.band(), U(0xFFFFFFFF))
eq("band 3 args", bit.band(0xFF, 0x0F, 0x03), 3)
eq("bor", bit.bor(0xF0, 0x0F, 0x100), 0x1FF)
eq("bxor", bit.bxor(0xFF, 0x0F), 0xF0)
eq("btest", bit.btest(1, 2), false)
eq("btest true", bit.btest(3, 2), true)
eq("negative input is mod 2^32", bit.band(-1, 0xFFFF), 0xFFFF)
eq("lshift", bit.lshift(1, 4), 16)
eq("lshift 31", bit.lshift(1, 31), U(0x80000000))
eq("lshift 32 gives 0", bit.lshift(1, 32), 0)
eq("lshift negative is rshift", bit.lshift(16, -4), 1)
eq("rshift logical", bit.rshift(0x80000000, 31), 1)
eq("rshift 32", bit.rshift(0xFFFFFFFF, 32), 0)
eq("arshift sign fill", bit.arshift(0x80000000, 4), U(0xF8000000))
eq("arshift positive", bit.arshift(0x40000000, 4), 0x04000000)
eq("arshift 40 negative", bit.arshift(0x80000000, 40), U(0xFFFFFFFF))
eq("lrotate", bit.lrotate(0x80000001, 1), 3)
eq("rrotate", bit.rrotate(3, 1), U(0x80000001))
eq("rotate by 32", bit.lrotate(0x12345678, 32), 0x12345678)
eq("extract", bit.extract(0xABCD, 4, 8), 0xBC)
eq("extract width 1", bit.extract(0x8, 3), 1)
eq("replace", bit.replace(0xABCD, 0x0, 4, 8), 0xA00D)
eq("replace width 1", bit.replace(0, 1, 31), U(0x80000000))
raises("extract out of range", "trying to access non-existent bits", bit.extract, 1, 30, 4)
raises("extract negative field", "field cannot be negative", bit.extract, 1, -1)
raises("extract zero width", "width must be positive", bit.extract, 1, 0, 0)
raises("fraction", "number has no integer representation", bit.band, 1.5)
-- LuatOS extras (C int arithmetic)
eq("bit(3)", bit.bit(3), 8)
eq("bit(31) is a signed int", bit.bit(31), -2147483647 - 1)
eq("set", bit.set(0, 0, 2, 4), 0x15)
eq("clear", bit.clear(0xFF, 0, 7), 0x7E)
eq("isset", bit.isset(5, 2), true)
eq("isset false", bit.isset(5, 1), false)
eq("isclear", bit.isclear(5, 1), true)
eq("isclear false", bit.isclear(5, 0), false)
eq("extras truncate floats", bit.bit(3.7) + bit.set(1.9, 1), 8 + 3)
eq("isset of bit 31 tests a non-zero and", bit.isset(-1, 31), true)
`;

for (const engine of ENGINE_NAMES) {
  test(`bit: bit32 semantics (shifts, rotations, extract/replace, 32-bit results) and LuatOS extras (${engine})`, async () => {
    const r = await suite(engine, BODY);
    assert.ok(r.checks >= 41);
  });
}
