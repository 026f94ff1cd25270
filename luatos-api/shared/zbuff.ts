/**
 * The state behind a LuatOS `zbuff` userdata, and helpers shared by the base-library bindings.
 *
 * A zbuff is a fixed-size byte area (`data`, its length is the zbuff's `len()`) with ONE
 * position: the firmware keeps `cursor` and `used` in a C union, so `seek`, `read`, `write`,
 * `pack`, `copy` and `used(n)` all move the same number. Other bindings (http body / response
 * sink, camera capture, socket rx) reach a zbuff through `getZbuff(vm, L, idx)`:
 *
 *   const z = getZbuff(vm, L, 2);
 *   if (z) { send(z.data.subarray(0, z.used)); }          // the used part
 *   if (z) { z.append(bytes); }                           // grow-and-append like buff:copy(nil, s)
 *
 * A zbuff never grows past `maxLen` (the largest single allocation the device grants, set by
 * zbuff.create from the profile): `resize` then refuses and leaves the buffer as it was, and
 * `append` stores what fits, as the firmware's realloc failure does.
 */
import { LuaEngine, LuaError, LuaState, LUA_TFUNCTION, LUA_TTABLE } from '../../runtime/core/engine/types';
import type { Vm } from '../../runtime/core/vm/vm';
import type { Args } from '../../runtime/core/vm/lua-value';

/** Metatable name, as the firmware's LUAT_ZBUFF_TYPE. */
export const ZBUFF_TYPE = 'ZBUFF*';

/** Default growth limit (the Air8101's 8 MB PSRAM) for a zbuff made without a profile value. */
export const ZBUFF_DEFAULT_MAX = 8 * 1024 * 1024;

export class ZbuffState {
  /** the allocated area; `data.length` is the zbuff's len() */
  data: Buffer;
  /** cursor == used (one field in the firmware) */
  used = 0;
  /** memory type given at creation (zbuff.HEAP_*) */
  memType: number;
  /** framebuffer attributes (zbuff.create({w,h,bit}) / setFrameBuffer) */
  width = 0;
  height = 0;
  bit = 0;

  /** the largest size this buffer may grow to (bytes) */
  readonly maxLen: number;

  constructor(len: number, memType = 0, maxLen = ZBUFF_DEFAULT_MAX) {
    this.maxLen = Math.max(maxLen, len);
    this.data = Buffer.alloc(len);
    this.memType = memType;
  }

  get len(): number {
    return this.data.length;
  }

  /**
   * realloc to n bytes (keeps the common prefix); used is clamped. False, and nothing changes,
   * when n is over the growth limit (the device's realloc fails).
   */
  resize(n: number): boolean {
    n = Math.max(0, Math.floor(n));
    if (!(n <= this.maxLen)) return false;
    const d = Buffer.alloc(n);
    this.data.copy(d, 0, 0, Math.min(n, this.data.length));
    this.data = d;
    if (this.used > n) this.used = n;
    return true;
  }

  /** buff:free(): the memory goes, the userdata stays (len 0) */
  free(): void {
    this.data = Buffer.alloc(0);
    this.used = 0;
  }

  /** The bytes between 0 and used. */
  usedBytes(): Buffer {
    return this.data.subarray(0, this.used);
  }

  /**
   * Append at `used`, growing the area when needed (like buff:copy(nil, bytes)). Returns the
   * bytes stored: fewer than given when the buffer cannot grow enough (growth limit).
   */
  append(b: Uint8Array): number {
    const need = this.used + b.length;
    if (need > this.data.length && !this.resize(this.data.length + b.length + this.used)) this.resize(Math.min(need, this.maxLen));
    const n = Math.max(0, Math.min(b.length, this.data.length - this.used));
    this.data.set(b.subarray(0, n), this.used);
    this.used += n;
    return n;
  }
}

/** The zbuff at stack index idx, or null when the value is not a zbuff. */
export function getZbuff(vm: Vm, L: LuaState, idx: number): ZbuffState | null {
  const id = vm.e.tohostobject(L, idx, ZBUFF_TYPE);
  if (id === null) return null;
  return vm.getHostObject<ZbuffState>(id) ?? null;
}

/** Push a new zbuff userdata holding `z`. */
export function pushZbuff(vm: Vm, L: LuaState, z: ZbuffState): void {
  vm.e.newhostobject(L, vm.addHostObject(z), ZBUFF_TYPE);
}

// ------------------------------------------------------------------ 64-bit integers

const SAFE = 2 ** 53;

/**
 * Read a Lua integer exactly as a bigint (wasmoon's integers are 64-bit; the engine interface
 * hands out JS numbers, which are exact only up to 2^53, so larger ones go through their
 * decimal text). Raises the luaL_checkinteger errors.
 */
export function checkInt64(a: Args, i: number): bigint {
  const n = a.integer(i);
  if (Math.abs(n) < SAFE) return BigInt(n);
  const { e, L } = a;
  if (e.isinteger(L, i)) {
    e.pushvalue(L, i);
    const s = e.tostring(L, -1) as string;
    e.pop(L, 1);
    return BigInt(s);
  }
  // a float with an integral value (e.g. 2^60 written as 2.0^60)
  return BigInt(n);
}

/**
 * Push an integer that may not fit 53 bits. On 64-bit engines the value is exact (via the
 * saved `tonumber` of the decimal text); on 32-bit engines it wraps like a C cast to int32.
 */
export function pushInt64(vm: Vm, L: LuaState, v: bigint): void {
  const e = vm.e;
  if (e.integerBits === 32) {
    e.pushinteger(L, Number(BigInt.asIntN(32, v)));
    return;
  }
  v = BigInt.asIntN(64, v);
  if (v > -BigInt(SAFE) && v < BigInt(SAFE)) {
    e.pushinteger(L, Number(v));
    return;
  }
  pushSavedGlobal(vm, L, 'tonumber');
  e.pushstring(L, v.toString());
  e.call(L, 1, 1);
}

// ------------------------------------------------------------------ saved stdlib functions

const SAVED_KEY = '__luatos_pc_saved_stdlib';

/**
 * Push a standard-library function as it was when the base modules were opened (scripts may
 * replace globals; the bindings must not follow them). Dotted names reach into tables
 * ("debug.getinfo"). Saved per VM in the registry on first use.
 */
export function pushSavedGlobal(vm: Vm, L: LuaState, name: string): void {
  const e = vm.e;
  if (e.getfield(L, e.REGISTRYINDEX, SAVED_KEY) !== LUA_TTABLE) {
    e.pop(L, 1);
    e.createtable(L, 0, 4);
    e.pushvalue(L, -1);
    e.setfield(L, e.REGISTRYINDEX, SAVED_KEY);
  }
  if (e.getfield(L, -1, name) !== LUA_TFUNCTION) {
    e.pop(L, 1);
    resolveDotted(e, L, name);
    e.pushvalue(L, -1);
    e.setfield(L, -3, name);
  }
  e.remove(L, -2);
}

/** Record the current standard functions (call at module open, before scripts run). */
export function saveStdlib(vm: Vm, names: string[]): void {
  for (const n of names) {
    pushSavedGlobal(vm, vm.L, n);
    vm.e.pop(vm.L, 1);
  }
}

function resolveDotted(e: LuaEngine, L: LuaState, name: string): void {
  const parts = name.split('.');
  e.getglobal(L, parts[0]);
  for (let k = 1; k < parts.length; k++) {
    if (e.type(L, -1) !== LUA_TTABLE) break;
    e.getfield(L, -1, parts[k]);
    e.remove(L, -2);
  }
}

// ------------------------------------------------------------------ method argument errors

const ARG_ERR = /^bad argument #(\d+) to '([^']*)' \(([\s\S]*)\)$/;

/**
 * Wrap a method binding so its argument errors read like luaL_argerror's for `obj:m(...)`:
 * when the function was called as a method the argument number drops by one and errors on
 * argument 1 become "calling 'm' on bad self (...)". Only LuaError is rewritten; engine
 * unwinds pass through untouched.
 */
export function asMethod(vm: Vm, fn: (a: Args) => number | void): (a: Args) => number | void {
  return (a: Args) => {
    try {
      return fn(a);
    } catch (err) {
      if (!(err instanceof LuaError)) throw err;
      const m = ARG_ERR.exec(err.message);
      if (!m || !calledAsMethod(vm, a.L)) throw err;
      const n = Number(m[1]) - 1;
      if (n === 0) throw new LuaError(`calling '${m[2]}' on bad self (${m[3]})`);
      throw new LuaError(`bad argument #${n} to '${m[2]}' (${m[3]})`);
    }
  };
}

function calledAsMethod(vm: Vm, L: LuaState): boolean {
  const e = vm.e;
  const top = e.gettop(L);
  try {
    pushSavedGlobal(vm, L, 'debug.getinfo');
    if (e.type(L, -1) !== LUA_TFUNCTION) return false;
    e.pushinteger(L, 1);
    e.pushstring(L, 'n');
    if (e.pcall(L, 2, 1, 0) !== 0) return false;
    if (e.type(L, -1) !== LUA_TTABLE) return false;
    e.getfield(L, -1, 'namewhat');
    return e.tostring(L, -1) === 'method';
  } finally {
    e.settop(L, top);
  }
}
