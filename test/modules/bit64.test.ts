import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { suite } from './util';

// bit64: 9-byte values (8 bytes little endian + type byte); expected bytes are IEEE 754 and
// two's complement encodings written out by hand, decimal results computed by hand.
const BODY = String.raw`
local H = function(s) return (string.toHex(s)) end
eq("to64 1", H(bit64.to64(1)), "010000000000000000")
if I64 then
  eq("to64 -1 sign-extends on a 64-bit VM", H(bit64.to64(-1)), "FFFFFFFFFFFFFFFF00")
else
  -- (lua_Unsigned) is 32 bits on a 32-bit VM: zero-extended, as on most devices
  eq("to64 -1 zero-extends on a 32-bit VM", H(bit64.to64(-1)), "FFFFFFFF0000000000")
end
eq("to64 of a non-number", H(bit64.to64("x")), "000000000000000000")
eq("to64 1.5 is a double", H(bit64.to64(1.5)), "000000000000F83F01")
eq("to32 int", bit64.to32(bit64.strtoll("-7")), -7)
eq("any non-zero type byte is a double", bit64.to32(("000000000000F83F07"):fromHex()), 1.5)
eq("to32 double", bit64.to32(bit64.to64(2.5)), 2.5)
eq("show", bit64.show(bit64.strtoll("-5")), "-5")
eq("show unsigned", bit64.show(bit64.strtoll("-1"), 10, true), "18446744073709551615")
eq("show unsigned needs a boolean", bit64.show(bit64.strtoll("-1"), 10, 1), "-1")
eq("show hex", bit64.show(bit64.to64(255), 16), "0xff")
eq("show double", bit64.show(bit64.to64(1.25)), "1.250000")
eq("show bad length", bit64.show("abc"), nil)
local big = bit64.plus(bit64.to64(0x7FFFFFFF), 1)
eq("plus past 2^31", bit64.show(big), "2147483648")
eq("multi", bit64.show(bit64.multi(bit64.to64(123456789), 1000)), "123456789000")
eq("minus", bit64.show(bit64.minus(bit64.to64(0), bit64.to64(1))), "-1")
eq("pide signed", bit64.show(bit64.pide(bit64.strtoll("-7"), 2)), "-3")
eq("pide unsigned", bit64.show(bit64.pide(bit64.strtoll("-1"), 2, true)), "9223372036854775807")
eq("float op converts the int signed", bit64.show(bit64.plus(bit64.strtoll("-1"), 0.5, true)), "-0.500000")
eq("plus with a float gives a double", H(bit64.plus(bit64.to64(1), 0.5)), H(bit64.to64(1.5)))
eq("float2int", bit64.show(bit64.multi(bit64.to64(3), 0.5, false, true)), "1")
eq("bad length gives zeros", H(bit64.plus("abc", 1)), "000000000000000000")
eq("shift left", bit64.show(bit64.shift(bit64.to64(1), 40, true)), "1099511627776")
eq("shift right", bit64.show(bit64.shift(bit64.strtoll("1099511627776"), 8)), "4294967296")
eq("shift right is logical", bit64.show(bit64.shift(bit64.strtoll("-1"), 60)), "15")
eq("shift 0 unchanged", H(bit64.shift(bit64.to64(5), 0)), H(bit64.to64(5)))
eq("strtoll", bit64.show(bit64.strtoll("-123456789012")), "-123456789012")
eq("strtoll hex", bit64.show(bit64.strtoll("0x1F", 16)), "31")
eq("strtoll base 2", bit64.show(bit64.strtoll("1010", 2)), "10")
eq("strtoll invalid", bit64.show(bit64.strtoll("zz")), "0")
eq("strtoll saturates", bit64.show(bit64.strtoll("99999999999999999999")), "9223372036854775807")
eqv("strtoll empty", {}, bit64.strtoll(""))
if I64 then
  eq("to32 of a 64-bit value", bit64.to32(bit64.strtoll("1099511627776")), 1099511627776)
else
  -- a 32-bit VM keeps the low 32 bits (lua_Integer is int32 there)
  eq("to32 of a 64-bit value truncates", bit64.to32(bit64.strtoll("1099511627777")), 1)
end
`;

for (const engine of ENGINE_NAMES) {
  test(`bit64: 9-byte encoding, arithmetic, show, shift, strtoll (${engine})`, async () => {
    const r = await suite(engine, BODY);
    assert.ok(r.checks >= 33);
  });
}
