/**
 * bit (the same table as `bit32`): Lua 5.2's bit32 library as the firmware's Lua 5.3 builds it (lbitlib.c
 * with the compat switch), plus the LuatOS extras (luatos-api-2.md §11).
 *
 * - Arguments are integers (luaL_checkinteger: 1.5 raises "number has no integer
 *   representation"), reduced modulo 2^32.
 * - Results are unsigned 32-bit values pushed as Lua integers: on a 64-bit-integer engine
 *   (wasmoon) `bit.bnot(0)` is 4294967295, on a 32-bit one (fengari, and most devices) -1.
 * - Shifts by >= 32 give 0, negative counts shift the other way; `arshift` fills with the sign.
 * - `extract(n, field, width=1)` / `replace(n, v, field, width=1)`: field 0..31, width 1..32,
 *   field+width <= 32, else the stock errors.
 * - Extras, plain C `int` arithmetic: `bit.bit(n)` = 1 << n (a signed int: bit.bit(31) is
 *   -2147483648; shift counts are taken modulo 256 and >= 32 give 0, as ARM's register shifts
 *   do: a choice, C leaves it undefined), `set(v, p...)`, `clear(v, p...)`, `isset(v, p)` (v &
 *   (1 << p) non-zero), `isclear(v, p)` (booleans). v and n are luaL_checknumber values (a
 *   float is truncated), positions integers.
 */
import { LuaError } from '../runtime/core/engine/types';
import type { Args } from '../runtime/core/vm/lua-value';
import type { Vm } from '../runtime/core/vm/vm';
import { checkInt64, pushInt64 } from './shared/zbuff';

const ALL = 0xffffffff;

export function openBit(vm: Vm): void {
  const { e } = vm;
  const u32 = (a: Args, i: number): number => {
    const n = a.integer(i);
    if (Number.isSafeInteger(n) && Math.abs(n) < 2 ** 53) return n >>> 0 === n ? n : Number(BigInt.asUintN(32, BigInt(n)));
    return Number(BigInt.asUintN(32, checkInt64(a, i)));
  };
  const pushU = (a: Args, r: number) => {
    r = r >>> 0;
    e.pushinteger(a.L, e.integerBits === 32 ? r | 0 : r);
    return 1;
  };
  const shift = (r: number, i: number): number => {
    if (i < 0) {
      i = -i;
      return i >= 32 ? 0 : r >>> i;
    }
    return i >= 32 ? 0 : (r << i) >>> 0;
  };
  const fieldArgs = (a: Args, fi: number): [number, number] => {
    const f = a.integer(fi);
    const w = a.optInteger(fi + 1, 1);
    if (f < 0) a.argError(fi, 'field cannot be negative');
    if (w <= 0) a.argError(fi + 1, 'width must be positive');
    if (f + w > 32) throw new LuaError('trying to access non-existent bits');
    return [f, w];
  };
  /** (lua_Unsigned)luaL_checknumber: a float is truncated, integers stay exact */
  const cvalue = (a: Args, i: number): bigint => {
    if (e.isinteger(a.L, i)) return checkInt64(a, i);
    const x = Math.trunc(a.number(i));
    return Number.isFinite(x) ? BigInt(x) : 0n;
  };
  const mask = (w: number) => (w >= 32 ? ALL : (2 ** w - 1)) >>> 0;
  const cshift = (p: number): number => {
    p = p & 0xff;
    return p >= 32 ? 0 : (1 << p) | 0; // C int
  };

  const fns: Record<string, (a: Args) => number> = {
    band: (a) => {
      let r = ALL;
      for (let i = 1; i <= a.count; i++) r = (r & u32(a, i)) >>> 0;
      return pushU(a, r);
    },
    bor: (a) => {
      let r = 0;
      for (let i = 1; i <= a.count; i++) r = (r | u32(a, i)) >>> 0;
      return pushU(a, r);
    },
    bxor: (a) => {
      let r = 0;
      for (let i = 1; i <= a.count; i++) r = (r ^ u32(a, i)) >>> 0;
      return pushU(a, r);
    },
    btest: (a) => {
      let r = ALL;
      for (let i = 1; i <= a.count; i++) r = (r & u32(a, i)) >>> 0;
      e.pushboolean(a.L, r !== 0);
      return 1;
    },
    bnot: (a) => pushU(a, ~u32(a, 1)),
    lshift: (a) => pushU(a, shift(u32(a, 1), a.integer(2))),
    rshift: (a) => pushU(a, shift(u32(a, 1), -a.integer(2))),
    arshift: (a) => {
      const r = u32(a, 1);
      const i = a.integer(2);
      if (i < 0 || !(r & 0x80000000)) return pushU(a, shift(r, -i));
      return pushU(a, i >= 32 ? ALL : r >> i);
    },
    lrotate: (a) => {
      const r = u32(a, 1);
      const i = a.integer(2) & 31;
      return pushU(a, i === 0 ? r : (r << i) | (r >>> (32 - i)));
    },
    rrotate: (a) => {
      const r = u32(a, 1);
      const i = -a.integer(2) & 31;
      return pushU(a, i === 0 ? r : (r << i) | (r >>> (32 - i)));
    },
    extract: (a) => {
      const r = u32(a, 1);
      const [f, w] = fieldArgs(a, 2);
      return pushU(a, (r >>> f) & mask(w));
    },
    replace: (a) => {
      const r = u32(a, 1);
      const v = u32(a, 2);
      const [f, w] = fieldArgs(a, 3);
      const m = mask(w);
      const res = ((r & ~((m << f) >>> 0)) | ((v & m) << f)) >>> 0;
      return pushU(a, res);
    },
    bit: (a) => {
      e.pushinteger(a.L, cshift(Math.trunc(a.number(1))));
      return 1;
    },
    set: (a) => {
      let x = cvalue(a, 1);
      for (let i = 2; i <= a.count; i++) x |= BigInt(cshift(a.integer(i)));
      pushInt64(vm, a.L, x);
      return 1;
    },
    clear: (a) => {
      let x = cvalue(a, 1);
      for (let i = 2; i <= a.count; i++) x &= ~BigInt(cshift(a.integer(i)));
      pushInt64(vm, a.L, x);
      return 1;
    },
    isset: (a) => {
      const m = BigInt(cshift(a.integer(2)));
      e.pushboolean(a.L, (cvalue(a, 1) & m) !== 0n);
      return 1;
    },
    isclear: (a) => {
      const m = BigInt(cshift(a.integer(2)));
      e.pushboolean(a.L, (cvalue(a, 1) & m) === 0n);
      return 1;
    },
  };
  // one table under both names, as lbitlib.c registers it
  vm.defineModule('bit', fns);
  e.getglobal(vm.L, 'bit');
  e.setglobal(vm.L, 'bit32');
}
