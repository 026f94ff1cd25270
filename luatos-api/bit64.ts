/**
 * bit64: 64-bit arithmetic for 32-bit VMs (luat_lib_bit64.c; luatos-api-2.md §12).
 *
 * A value is a 9-byte string: bytes 0..7 the value little endian, byte 8 = 0 (int64) or 1
 * (double).
 * - `to32(s)` → Lua number (int64 cast to lua_Integer: the low 32 bits on fengari; doubles as
 *   floats). A string that is not 9 bytes still decodes (the firmware's quirk): missing bytes
 *   read as 0 here (C reads past the end).
 * - `to64(n)` → 9-byte string (integers sign-extended, floats as double).
 * - `show(s, base=10, unsigned=false)` → `%lld` / `%llu` / (base 16) `0x%llx` / double `%f`;
 *   a wrong length → nil.
 * - `plus`/`minus`/`multi`/`pide(a, b, unsigned=false, float2int=false)`: b is a 9-byte string
 *   or a Lua number; any double operand makes a double operation (result type 1, or int64 when
 *   float2int). `unsigned` makes the integer operation unsigned (it matters for `pide`). A bad
 *   length gives 9 zero bytes. Integer division by 0 (undefined in C) gives 0 here: a choice.
 * - `shift(s, n, left=false)`: n 0 or not an integer → the input unchanged; the shift is on the
 *   int64 (right shift arithmetic: unsure, the firmware shifts an int64_t); type byte kept.
 * - `strtoll(str, base=10)` → 9-byte int64 like C strtoll (whitespace, sign, 0x for base 16/0,
 *   saturates on overflow, invalid → 0); empty string → nothing.
 */
import { LUA_TNUMBER, LUA_TSTRING } from '../runtime/engine/types';
import type { Args } from '../runtime/lua-value';
import type { Vm } from '../runtime/vm';
import { formatF } from '../runtime/numfmt';
import { checkInt64, pushInt64 } from '../runtime/zbuff';

interface V64 {
  isFloat: boolean;
  i: bigint;
  f: number;
}

function decode(s: Uint8Array): V64 {
  const b = Buffer.alloc(9);
  b.set(s.subarray(0, 9));
  const isFloat = b[8] === 1;
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
  /** operand b: a 9-byte string or a Lua number */
  const operand = (a: Args, i: number): V64 | null => {
    if (a.type(i) === LUA_TNUMBER) {
      if (e.isinteger(a.L, i)) return { isFloat: false, i: checkInt64(a, i), f: 0 };
      return { isFloat: true, i: 0n, f: a.number(i) };
    }
    const s = a.bytes(i);
    return s.length === 9 ? decode(s) : null;
  };
  const arith = (op: (x: bigint, y: bigint, unsigned: boolean) => bigint, fop: (x: number, y: number) => number) => (a: Args) => {
    const s = a.bytes(1);
    const x = s.length === 9 ? decode(s) : null;
    const y = operand(a, 2);
    if (!x || !y) return push(a, Buffer.alloc(9));
    const unsigned = a.boolean(3);
    const float2int = a.boolean(4);
    if (x.isFloat || y.isFloat) {
      const xf = x.isFloat ? x.f : unsigned ? Number(BigInt.asUintN(64, x.i)) : Number(x.i);
      const yf = y.isFloat ? y.f : unsigned ? Number(BigInt.asUintN(64, y.i)) : Number(y.i);
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
      if (a.type(1) !== LUA_TNUMBER) a.typeError(1, 'number');
      if (e.isinteger(a.L, 1)) return push(a, encInt(checkInt64(a, 1)));
      return push(a, encFloat(a.number(1)));
    },
    show: (a) => {
      const s = a.bytes(1);
      if (s.length !== 9) {
        e.pushnil(a.L);
        return 1;
      }
      const base = a.optInteger(2, 10);
      const unsigned = a.boolean(3);
      const v = decode(s);
      let out: string;
      if (v.isFloat) out = formatF(v.f, 6);
      else if (base === 16) out = '0x' + BigInt.asUintN(64, v.i).toString(16);
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
      const left = a.boolean(3);
      let r: bigint;
      if (n < 0 || n >= 64) r = left || v.i >= 0n ? 0n : -1n; // C leaves these undefined: a choice
      else r = left ? v.i << BigInt(n) : v.i >> BigInt(n);
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
