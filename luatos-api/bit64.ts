/**
 * bit64: 64-bit arithmetic for 32-bit VMs (luat_lib_bit64.c; luatos-api-2.md §12).
 *
 * A value is a 9-byte string: bytes 0..7 the value little endian, byte 8 = 0 (int64) or
 * non-zero (double; to64 writes 1).
 * - `to32(s)` → Lua number (int64 cast to lua_Integer: the low 32 bits on fengari; doubles as
 *   floats). A string that is not 9 bytes still decodes (the firmware's quirk): missing bytes
 *   read as 0 here (C reads past the end).
 * - `to64(n)` → 9-byte string: integers through lua_Unsigned (sign-extended on a 64-bit VM,
 *   zero-extended on a 32-bit one such as fengari and most devices: to64(-1) is 0xFFFFFFFF
 *   there), floats as double, anything else 9 zero bytes.
 * - `show(s, base=10, unsigned=false)` → `%lld` / `%llu` / double `%f`, base 16 `0x%llx`
 *   (of a double: its bits, a choice where C is undefined); a wrong length → nil.
 * - `plus`/`minus`/`multi`/`pide(a, b, unsigned=false, float2int=false)`: b is a 9-byte string
 *   or a Lua number; any double operand makes a double operation (result type 1, or int64 when
 *   float2int; the integer side converts signed). `unsigned` makes the integer operation
 *   unsigned (it matters for `pide`). Flags count only as booleans. A bad length gives 9 zero
 *   bytes. Integer division by 0 (undefined in C) gives 0 here: a choice.
 * - `shift(s, n, left=false)`: n 0 or not an integer, or a bad length → the input unchanged;
 *   a logical shift of the 64 bits (uint64_t), type byte kept; counts >= 64 give 0.
 * - `strtoll(str, base=10)` → 9-byte int64 like C strtoll (whitespace, sign, 0x for base 16/0,
 *   saturates on overflow, invalid → 0); empty string → nothing.
 */
import { LUA_TBOOLEAN, LUA_TNUMBER, LUA_TSTRING } from '../runtime/core/engine/types';
import type { Args } from '../runtime/core/vm/lua-value';
import type { Vm } from '../runtime/core/vm/vm';
import { formatF } from './shared/numfmt';
import { checkInt64, pushInt64 } from './shared/zbuff';

interface V64 {
  isFloat: boolean;
  i: bigint;
  f: number;
}

function decode(s: Uint8Array): V64 {
  const b = Buffer.alloc(9);
  b.set(s.subarray(0, 9));
  const isFloat = b[8] !== 0; // any non-zero type byte is a double
  return { isFloat, i: b.readBigInt64LE(0), f: b.readDoubleLE(0) };
}

function encInt(v: bigint): Buffer {
  const b = Buffer.alloc(9);
  b.writeBigInt64LE(BigInt.asIntN(64, v), 0);
  return b;
}

function encFloat(v: number): Buffer {
  const b = Buffer.alloc(9);
  b.writeDoubleLE(v, 0);
  b[8] = 1;
  return b;
}

/** C's (int64_t) cast of a double (saturating here; C leaves out-of-range undefined) */
function d2i(x: number): bigint {
  if (Number.isNaN(x)) return 0n;
  if (x >= 2 ** 63) return 0x7fffffffffffffffn;
  if (x <= -(2 ** 63)) return -0x8000000000000000n;
  return BigInt(Math.trunc(x));
}

/** C strtoll */
export function strtoll(str: string, base: number): bigint {
  let i = 0;
  while (i < str.length && /[\t\n\v\f\r ]/.test(str[i])) i++;
  let neg = false;
  if (str[i] === '+' || str[i] === '-') neg = str[i++] === '-';
  if ((base === 0 || base === 16) && str[i] === '0' && (str[i + 1] === 'x' || str[i + 1] === 'X') && /[0-9a-fA-F]/.test(str[i + 2] ?? '')) {
    i += 2;
    base = 16;
  } else if (base === 0) base = str[i] === '0' ? 8 : 10;
  if (base < 2 || base > 36) return 0n;
  let v = 0n;
  let any = false;
  const B = BigInt(base);
  for (; i < str.length; i++) {
    const d = parseInt(str[i], 36);
    if (Number.isNaN(d) || d >= base) break;
    any = true;
    v = v * B + BigInt(d);
    if (v > 0x8000000000000000n) v = 0x8000000000000000n; // saturate below
  }
  if (!any) return 0n;
  if (neg) return v >= 0x8000000000000000n ? -0x8000000000000000n : -v;
  return v > 0x7fffffffffffffffn ? 0x7fffffffffffffffn : v;
}

export function openBit64(vm: Vm): void {
  const { e } = vm;
  const push = (a: Args, b: Buffer) => {
    e.pushbytes(a.L, b);
    return 1;
  };
  /** operand b: an integer, else anything lua_isnumber accepts (a double), else a 9-byte string */
  const operand = (a: Args, i: number): V64 | null => {
    if (e.isinteger(a.L, i)) return { isFloat: false, i: checkInt64(a, i), f: 0 };
    if (e.isnumber(a.L, i)) return { isFloat: true, i: 0n, f: a.number(i) };
    const s = a.bytes(i);
    return s.length === 9 ? decode(s) : null;
  };
  /** flags count only when they are booleans */
  const flag = (a: Args, i: number) => a.type(i) === LUA_TBOOLEAN && a.boolean(i);
  const arith = (op: (x: bigint, y: bigint, unsigned: boolean) => bigint, fop: (x: number, y: number) => number) => (a: Args) => {
    const s = a.bytes(1);
    const x = s.length === 9 ? decode(s) : null;
    const y = operand(a, 2);
    if (!x || !y) return push(a, Buffer.alloc(9));
    const unsigned = flag(a, 3);
    const float2int = flag(a, 4);
    if (x.isFloat || y.isFloat) {
      // the integer side converts as a signed int64; `unsigned` does not apply
      const xf = x.isFloat ? x.f : Number(x.i);
      const yf = y.isFloat ? y.f : Number(y.i);
      const r = fop(xf, yf);
      return push(a, float2int ? encInt(d2i(r)) : encFloat(r));
    }
    const xi = unsigned ? BigInt.asUintN(64, x.i) : x.i;
    const yi = unsigned ? BigInt.asUintN(64, y.i) : y.i;
    return push(a, encInt(op(xi, yi, unsigned)));
  };

  vm.defineModule('bit64', {
    to32: (a) => {
      const v = decode(a.bytes(1));
      if (v.isFloat) e.pushnumber(a.L, v.f);
      else pushInt64(vm, a.L, v.i);
      return 1;
    },
    to64: (a) => {
      // (lua_Unsigned)lua_tointeger: zero-extended from 32 bits on a 32-bit VM
      if (e.isinteger(a.L, 1)) return push(a, encInt(e.integerBits === 32 ? BigInt.asUintN(32, checkInt64(a, 1)) : checkInt64(a, 1)));
      if (e.isnumber(a.L, 1)) return push(a, encFloat(a.number(1)));
      return push(a, Buffer.alloc(9));
    },
    show: (a) => {
      const s = a.bytes(1);
      if (s.length !== 9) {
        e.pushnil(a.L);
        return 1;
      }
      const base = a.optInteger(2, 10) & 0xff; // a uint8_t in the firmware
      const unsigned = flag(a, 3);
      const v = decode(s);
      let out: string;
      // base 16 of a double passes the double to %llx (undefined in C): its bits are shown here
      if (base === 16) out = '0x' + BigInt.asUintN(64, v.i).toString(16);
      else if (v.isFloat) out = formatF(v.f, 6);
      else out = (unsigned ? BigInt.asUintN(64, v.i) : v.i).toString();
      e.pushstring(a.L, out);
      return 1;
    },
    plus: arith((x, y) => x + y, (x, y) => x + y),
    minus: arith((x, y) => x - y, (x, y) => x - y),
    multi: arith((x, y) => x * y, (x, y) => x * y),
    pide: arith((x, y) => (y === 0n ? 0n : x / y), (x, y) => x / y),
    shift: (a) => {
      const s = a.bytes(1);
      const isInt = a.type(2) === LUA_TNUMBER && e.isinteger(a.L, 2);
      const n = isInt ? a.integer(2) : 0;
      if (n === 0 || s.length !== 9) return push(a, Buffer.from(s));
      const v = decode(s);
      const left = flag(a, 3);
      const u = BigInt.asUintN(64, v.i);
      const pos = n >>> 0; // uint32_t
      let r: bigint;
      if (pos >= 64) r = 0n; // undefined in C; ARM's 64-bit shift helpers give 0
      else r = left ? u << BigInt(pos) : u >> BigInt(pos);
      const out = encInt(r);
      out[8] = s[8];
      return push(a, out);
    },
    strtoll: (a) => {
      if (a.type(1) !== LUA_TSTRING && a.type(1) !== LUA_TNUMBER) a.typeError(1, 'string');
      const str = a.string(1);
      if (str.length === 0) return 0;
      return push(a, encInt(strtoll(str, a.optInteger(2, 10))));
    },
  });
}
