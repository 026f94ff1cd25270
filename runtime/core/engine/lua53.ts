/**
 * lua53 adapter: the firmware's own Lua, 5.3.6, compiled as C++ to WebAssembly with native wasm
 * exceptions by scripts/build-engine.sh (our build; outputs, patch and glue in ./lua53/, with a
 * manifest of compiler, flags and hashes). The default engine.
 *
 * Driven only through exports designed for this adapter (glue.c) plus the plain C API:
 * - Host functions: one C dispatcher (`glue_dispatch`) calls the imported `hostCall(L, id)`.
 *   That JS side never lets a JS exception into wasm: it returns the result count or a code
 *   (-1 raise the value on top, -2 raise the message on top with the caller's position, -3 yield
 *   with the count and continuation id written to the glue's yield slot), and the C side does
 *   `lua_error` / `return lua_yieldk(...)` itself. `error(L)` therefore throws a JS sentinel
 *   that only the dispatcher catches. `yieldk` does not throw: it records the yield (a flag the
 *   dispatcher reads when the host function returns) and returns a marker, which every caller
 *   returns at once (`return e.yieldk(...)`, as the interface asks). A JS throw costs V8 a
 *   message object with the throw site's location on every call (the host's top-level
 *   v8::TryCatch is verbose), several µs at the depth of a device's resume: the cost of every
 *   `sys.wait` and every message the VM receives.
 * - Lua's own non-local exits are native wasm exceptions (C++ throw). One raised in a Lua call
 *   made from a host function (`call`) passes through the JS frames as a
 *   `WebAssembly.Exception` and is rethrown untouched (`isUnwind`).
 * - Yields: with the build's yield patch, `coroutine.yield` and yields of host functions called
 *   by Lua code return through the VM instead of throwing (runtime/core/engine/lua53/yield-return.patch).
 * - Memory: every lua_State has its own allocator budget (glue.c); `setMemoryLimit` sets it, so
 *   one instance serves many devices and each runs out of memory at its own limit with Lua's
 *   "not enough memory". Every `_malloc` of the adapter is checked as in wasmoon.ts.
 * - Traps (wasm RuntimeError: out-of-bounds, abort from an unprotected error) mark the engine
 *   `broken` and unwind to the host; the factory then starts a fresh instance.
 * - Ownership: host function ids and continuations are recorded with the state that created
 *   them (the identity is the state's allocator block), checked on every call, released on close.
 * - lua_Integer is 64-bit; integers cross as doubles through glue helpers (exact to 2^53),
 *   which spares BigInt conversions.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Continuation,
  hostErrorMessage,
  HookFunction,
  HostFunction,
  LuaEngine,
  LuaError,
  LuaState,
  LUA_MASKCOUNT,
  LUA_OK,
  LUA_YIELD,
  NOT_ENOUGH_MEMORY,
} from './types';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Module = any;

const LUAI_MAXSTACK = 1000000;
const REGISTRYINDEX = -LUAI_MAXSTACK - 1000;
const SCRATCH_MAX = 64 * 1024;
const CSTRING_CACHE_MAX = 2048;
const LUA_GCCOUNT = 3;
const LUA_GCCOUNTB = 4;

/** glue.c's return codes of hostCall/hostK/hostHook */
const RAISE = -1;
const RAISE_WHERE = -2;
const YIELD = -3;

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8');

/** thrown by error(L) / yieldk inside a host function; caught by the dispatcher only */
const RAISE_SIGNAL: unique symbol = Symbol('lua53.raise');
const YIELD_SIGNAL: unique symbol = Symbol('lua53.yield');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const WA = (globalThis as any).WebAssembly as { RuntimeError?: new (...a: unknown[]) => Error; Exception?: new (...a: unknown[]) => Error } | undefined;

function isTrap(e: unknown): boolean {
  return WA?.RuntimeError !== undefined && e instanceof WA.RuntimeError;
}
function isWasmException(e: unknown): boolean {
  return WA?.Exception !== undefined && e instanceof WA.Exception;
}

/**
 * The folder of the build outputs. Compiled, this file runs from dist/<same path>; the outputs
 * stay next to the sources, so the path is rebuilt from the project root (the folder holding
 * package.json) and this file's place under dist/.
 */
function engineDir(): string {
  // path: runtime/core/engine/lua53/ (lua53.wasm, lua53.js, manifest.json), next to this file's source
  const here = path.join(__dirname, 'lua53');
  if (fs.existsSync(path.join(here, 'lua53.wasm'))) return here;
  let root = __dirname;
  while (!fs.existsSync(path.join(root, 'package.json')) && path.dirname(root) !== root) root = path.dirname(root);
  return path.join(root, path.relative(path.join(root, 'dist'), __dirname), 'lua53');
}

const S = (L: LuaState) => L as unknown as number;
const T = (p: number) => p as unknown as LuaState;

export class Lua53Engine implements LuaEngine {
  readonly name = 'lua53' as const;
  readonly luaVersion = '5.3';
  readonly integerBits = 64;
  readonly REGISTRYINDEX = REGISTRYINDEX;

  private readonly m: Module;
  private readonly fns: (HostFunction | undefined)[] = [];
  private readonly fnOwner: number[] = [];
  private readonly freeFnIds: number[] = [];
  private liveFns = 0;
  private readonly conts = new Map<number, { k: Continuation; g: number }>();
  private nextCont = 1;
  /** set by yieldk, read (and cleared) by the dispatcher that called the host function */
  private yieldPending = false;
  private readonly hooks = new Map<number, HookFunction>();
  private readonly cstrings = new Map<string, number>();
  private readonly typenames: string[] = [];
  private scratch = 0;
  private scratchSize = 0;
  private readonly lenPtr: number;
  private readonly isnumPtr: number;
  private readonly yieldSlot: number;
  private brokenFlag = false;

  static async create(): Promise<Lua53Engine> {
    const dir = engineDir();
    const wasmBinary = fs.readFileSync(path.join(dir, 'lua53.wasm'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the build's loader
    const factory = require(path.join(dir, 'lua53.js')) as (o: object) => Promise<Module>;
    const box: { e?: Lua53Engine } = {};
    const stderr = (s: string) => process.stderr.write(`lua53: ${s}\n`);
    const m = await factory({
      wasmBinary,
      hostCall: (L: number, id: number) => (box.e as Lua53Engine).hostCall(L, id),
      hostK: (L: number, status: number, ctx: number) => (box.e as Lua53Engine).hostK(L, status, ctx),
      hostHook: (L: number, event: number, line: number) => (box.e as Lua53Engine).hostHook(L, event, line),
      print: stderr,
      printErr: stderr,
    });
    box.e = new Lua53Engine(m);
    return box.e;
  }

  private constructor(module: Module) {
    this.m = module;
    this.lenPtr = this.mallocChecked(8);
    this.isnumPtr = this.mallocChecked(8);
    this.yieldSlot = this.m._glue_yield_slot();
  }

  get broken(): boolean {
    return this.brokenFlag;
  }

  private stateOf(L: number): number {
    return this.m._glue_stateof(L);
  }

  private guard<R>(f: () => R): R {
    try {
      return f();
    } catch (e) {
      if (isTrap(e)) this.brokenFlag = true;
      throw e;
    }
  }

  private mallocChecked(n: number): number {
    const p = n >= 0x7fffffff ? 0 : (this.m._malloc(n) as number);
    if (!p) throw new LuaError(NOT_ENOUGH_MEMORY);
    return p;
  }

  /** What a caught JS value means for the C side: a code, or rethrown (Lua exits, traps). */
  private signal(L: number, e: unknown, where: boolean): number {
    if (e === RAISE_SIGNAL) return RAISE;
    if (e === YIELD_SIGNAL) return YIELD;
    if (isWasmException(e)) throw e; // a Lua error of a nested call: let it unwind
    if (isTrap(e)) {
      this.brokenFlag = true;
      throw e;
    }
    // room for the message and luaL_where's string (the host function may have used its
    // LUA_MINSTACK slots); fails only at LUAI_MAXSTACK, where the message replaces the top
    if (!this.m._lua_checkstack(L, 3)) this.m._lua_settop(L, -2);
    this.pushstring(T(L), hostErrorMessage(e));
    return where ? RAISE_WHERE : RAISE;
  }

  private hostCall(L: number, id: number): number {
    const fn = this.fns[id];
    this.yieldPending = false;
    try {
      if (!fn || this.fnOwner[id] !== this.stateOf(L)) throw new LuaError('host function was released');
      const n = fn(T(L));
      return this.takeYield() ? YIELD : n;
    } catch (e) {
      this.yieldPending = false;
      return this.signal(L, e, true);
    }
  }

  /** whether the host function just run called yieldk (cleared) */
  private takeYield(): boolean {
    if (!this.yieldPending) return false;
    this.yieldPending = false;
    return true;
  }

  private hostK(L: number, status: number, ctx: number): number {
    const c = this.conts.get(ctx);
    this.conts.delete(ctx);
    try {
      if (!c || c.g !== this.stateOf(L)) throw new LuaError('continuation lost');
      this.yieldPending = false;
      const n = c.k(T(L), status);
      return this.takeYield() ? YIELD : n;
    } catch (e) {
      this.yieldPending = false;
      return this.signal(L, e, true);
    }
  }

  private hostHook(L: number, event: number, line: number): number {
    const h = this.hooks.get(this.stateOf(L));
    if (!h) return 0;
    this.yieldPending = false;
    try {
      h(T(L), event, line);
      return this.takeYield() ? YIELD : 0;
    } catch (e) {
      this.yieldPending = false;
      return this.signal(L, e, false);
    }
  }

  private cstr(s: string): number {
    const p = this.cstrings.get(s);
    if (p !== undefined) return p;
    if (this.cstrings.size >= CSTRING_CACHE_MAX || s.length > 256) return this.cstrTemp(s);
    const b = utf8.encode(s);
    const q = this.mallocChecked(b.length + 1);
    this.m.HEAPU8.set(b, q);
    this.m.HEAPU8[q + b.length] = 0;
    this.cstrings.set(s, q);
    return q;
  }

  private cstrTemp(s: string): number {
    const b = utf8.encode(s);
    if (b.length + 1 > SCRATCH_MAX) throw new LuaError(NOT_ENOUGH_MEMORY);
    const p = this.scratchFor(b.length + 1);
    this.m.HEAPU8.set(b, p);
    this.m.HEAPU8[p + b.length] = 0;
    return p;
  }

  private scratchFor(n: number): number {
    if (n > this.scratchSize) {
      const size = Math.min(SCRATCH_MAX, Math.max(n, this.scratchSize * 2, 256));
      const p = this.mallocChecked(size);
      if (this.scratch) this.m._free(this.scratch);
      this.scratch = p;
      this.scratchSize = size;
    }
    return this.scratch;
  }

  private withBytes<R>(s: Uint8Array, f: (p: number) => R): R {
    const n = s.length;
    if (n + 1 <= SCRATCH_MAX) {
      const p = this.scratchFor(n + 1);
      this.m.HEAPU8.set(s, p);
      this.m.HEAPU8[p + n] = 0;
      return f(p);
    }
    const p = this.mallocChecked(n + 1);
    try {
      this.m.HEAPU8.set(s, p);
      this.m.HEAPU8[p + n] = 0;
      return f(p);
    } finally {
      this.m._free(p);
    }
  }

  upvalueindex(i: number): number {
    // upvalue 1 is the dispatcher's id; user upvalues start at 2
    return REGISTRYINDEX - (i + 1);
  }

  newstate(): LuaState {
    if (this.brokenFlag) throw new Error('the Lua engine trapped earlier and cannot create states (a fresh engine is needed)');
    const L = this.guard(() => this.m._glue_newstate(0));
    if (!L) throw new Error('lua_newstate failed (out of memory)');
    return T(L);
  }

  /**
   * The byte budget of L's state (all its threads): allocations past it fail, Lua collects
   * and retries, then raises "not enough memory". 0 removes the limit.
   */
  setMemoryLimit(L: LuaState, bytes: number): void {
    this.m._glue_setlimit(S(L), Math.max(0, Math.min(0x7fffffff, Math.floor(bytes))));
  }
  /** Bytes the state holds now (the allocator's own count). */
  memoryUsed(L: LuaState): number {
    return this.m._glue_memused(S(L));
  }

  close(L: LuaState): void {
    const g = this.stateOf(S(L));
    this.hooks.delete(g);
    for (const [ctx, c] of this.conts) if (c.g === g) this.conts.delete(ctx);
    try {
      if (!this.brokenFlag) this.guard(() => this.m._glue_close(S(L)));
    } finally {
      for (let id = 0; id < this.fns.length; id++) {
        if (this.fns[id] && this.fnOwner[id] === g) this.releaseId(id);
      }
    }
  }
  private releaseId(id: number): void {
    this.fns[id] = undefined;
    this.fnOwner[id] = 0;
    this.freeFnIds.push(id);
    this.liveFns--;
  }
  hostFunctionCount(): number {
    return this.liveFns;
  }
  /** Release host function ids (close() releases a state's ids by itself). */
  releaseFunctions(ids: number[]): void {
    for (const id of ids) if (this.fns[id]) this.releaseId(id);
  }
  openlibs(L: LuaState): void {
    this.guard(() => this.m._luaL_openlibs(S(L)));
  }

  gettop(L: LuaState): number {
    return this.m._lua_gettop(S(L));
  }
  settop(L: LuaState, idx: number): void {
    this.m._lua_settop(S(L), idx);
  }
  pop(L: LuaState, n: number): void {
    this.m._lua_settop(S(L), -n - 1);
  }
  pushvalue(L: LuaState, idx: number): void {
    this.m._lua_pushvalue(S(L), idx);
  }
  absindex(L: LuaState, idx: number): number {
    return this.m._lua_absindex(S(L), idx);
  }
  insert(L: LuaState, idx: number): void {
    this.m._lua_rotate(S(L), idx, 1);
  }
  remove(L: LuaState, idx: number): void {
    this.m._glue_remove(S(L), idx);
  }
  checkstack(L: LuaState, n: number): boolean {
    return this.m._lua_checkstack(S(L), n) !== 0;
  }
  xmove(from: LuaState, to: LuaState, n: number): void {
    this.m._lua_xmove(S(from), S(to), n);
  }

  type(L: LuaState, idx: number): number {
    return this.m._lua_type(S(L), idx);
  }
  typename(L: LuaState, idx: number): string {
    const t = this.m._lua_type(S(L), idx) as number;
    let s = this.typenames[t + 1];
    if (s === undefined) {
      s = this.readCString(this.m._lua_typename(S(L), t));
      this.typenames[t + 1] = s;
    }
    return s;
  }
  private readCString(p: number): string {
    const h: Uint8Array = this.m.HEAPU8;
    let e = p;
    while (h[e] !== 0) e++;
    return utf8d.decode(h.subarray(p, e));
  }
  isinteger(L: LuaState, idx: number): boolean {
    return this.m._lua_isinteger(S(L), idx) !== 0;
  }
  isnumber(L: LuaState, idx: number): boolean {
    return this.m._lua_isnumber(S(L), idx) !== 0;
  }
  isstring(L: LuaState, idx: number): boolean {
    return this.m._lua_isstring(S(L), idx) !== 0;
  }

  pushnil(L: LuaState): void {
    this.m._lua_pushnil(S(L));
  }
  pushboolean(L: LuaState, b: boolean): void {
    this.m._lua_pushboolean(S(L), b ? 1 : 0);
  }
  pushinteger(L: LuaState, n: number): void {
    this.m._glue_pushinteger(S(L), Math.trunc(n));
  }
  pushnumber(L: LuaState, n: number): void {
    this.m._lua_pushnumber(S(L), n);
  }
  pushbytes(L: LuaState, s: Uint8Array): void {
    this.withBytes(s, (p) => this.m._lua_pushlstring(S(L), p, s.length));
  }
  pushstring(L: LuaState, s: string): void {
    this.pushbytes(L, utf8.encode(s));
  }
  pushfunction(L: LuaState, fn: HostFunction, nup = 0): void {
    const id = this.freeFnIds.length ? (this.freeFnIds.pop() as number) : this.fns.length;
    this.fns[id] = fn;
    this.fnOwner[id] = this.stateOf(S(L));
    this.liveFns++;
    this.m._glue_pushfunction(S(L), id, nup);
  }
  pushlightuserdata(L: LuaState, p: number): void {
    this.m._lua_pushlightuserdata(S(L), p);
  }
  pushthread(L: LuaState): boolean {
    return this.m._lua_pushthread(S(L)) === 1;
  }

  toboolean(L: LuaState, idx: number): boolean {
    return this.m._lua_toboolean(S(L), idx) !== 0;
  }
  tointeger(L: LuaState, idx: number): number | null {
    const v = this.m._glue_tointeger(S(L), idx, this.isnumPtr);
    if (this.m.HEAP32[this.isnumPtr >> 2] === 0) return null;
    return v;
  }
  tonumber(L: LuaState, idx: number): number | null {
    const v = this.m._lua_tonumberx(S(L), idx, this.isnumPtr);
    if (this.m.HEAP32[this.isnumPtr >> 2] === 0) return null;
    return v;
  }
  tobytes(L: LuaState, idx: number): Uint8Array | null {
    const p = this.m._lua_tolstring(S(L), idx, this.lenPtr);
    if (!p) return null;
    const len = this.m.HEAPU32[this.lenPtr >> 2];
    return Buffer.from(this.m.HEAPU8.subarray(p, p + len));
  }
  tobytesView(L: LuaState, idx: number): Uint8Array | null {
    const p = this.m._lua_tolstring(S(L), idx, this.lenPtr);
    if (!p) return null;
    return this.m.HEAPU8.subarray(p, p + this.m.HEAPU32[this.lenPtr >> 2]);
  }
  tostring(L: LuaState, idx: number): string | null {
    const p = this.m._lua_tolstring(S(L), idx, this.lenPtr);
    if (!p) return null;
    const len = this.m.HEAPU32[this.lenPtr >> 2];
    return utf8d.decode(this.m.HEAPU8.subarray(p, p + len));
  }
  tothread(L: LuaState, idx: number): LuaState | null {
    const t = this.m._lua_tothread(S(L), idx);
    return t ? T(t) : null;
  }
  topointer(L: LuaState, idx: number): number {
    return this.m._lua_topointer(S(L), idx);
  }
  rawequal(L: LuaState, a: number, b: number): boolean {
    return this.m._lua_rawequal(S(L), a, b) !== 0;
  }
  rawlen(L: LuaState, idx: number): number {
    return this.m._glue_rawlen(S(L), idx);
  }

  createtable(L: LuaState, narr: number, nrec: number): void {
    this.m._lua_createtable(S(L), narr, nrec);
  }
  getfield(L: LuaState, idx: number, k: string): number {
    return this.m._lua_getfield(S(L), idx, this.cstr(k));
  }
  setfield(L: LuaState, idx: number, k: string): void {
    this.m._lua_setfield(S(L), idx, this.cstr(k));
  }
  gettable(L: LuaState, idx: number): number {
    return this.m._lua_gettable(S(L), idx);
  }
  settable(L: LuaState, idx: number): void {
    this.m._lua_settable(S(L), idx);
  }
  rawget(L: LuaState, idx: number): number {
    return this.m._lua_rawget(S(L), idx);
  }
  rawset(L: LuaState, idx: number): void {
    this.m._lua_rawset(S(L), idx);
  }
  rawgeti(L: LuaState, idx: number, n: number): number {
    return this.m._glue_rawgeti(S(L), idx, n);
  }
  rawseti(L: LuaState, idx: number, n: number): void {
    this.m._glue_rawseti(S(L), idx, n);
  }
  getglobal(L: LuaState, name: string): number {
    return this.m._lua_getglobal(S(L), this.cstr(name));
  }
  setglobal(L: LuaState, name: string): void {
    this.m._lua_setglobal(S(L), this.cstr(name));
  }
  next(L: LuaState, idx: number): boolean {
    return this.m._lua_next(S(L), idx) !== 0;
  }
  getmetatable(L: LuaState, idx: number): boolean {
    return this.m._lua_getmetatable(S(L), idx) !== 0;
  }
  setmetatable(L: LuaState, idx: number): void {
    this.m._lua_setmetatable(S(L), idx);
  }
  newmetatable(L: LuaState, tname: string): boolean {
    return this.m._luaL_newmetatable(S(L), this.cstr(tname)) !== 0;
  }
  getnamedmetatable(L: LuaState, tname: string): number {
    return this.m._lua_getfield(S(L), REGISTRYINDEX, this.cstr(tname));
  }
  newhostobject(L: LuaState, id: number, tname: string): void {
    this.m._glue_newhostobject(S(L), id, this.cstr(tname));
  }
  tohostobject(L: LuaState, idx: number, tname: string): number | null {
    const v = this.m._glue_tohostobject(S(L), idx, this.cstr(tname)) as number;
    return Number.isNaN(v) ? null : v;
  }

  ref(L: LuaState, t: number): number {
    return this.m._luaL_ref(S(L), t);
  }
  unref(L: LuaState, t: number, r: number): void {
    this.m._luaL_unref(S(L), t, r);
  }

  loadbuffer(L: LuaState, code: Uint8Array, chunkname: string): number {
    const mode = this.cstr('bt');
    const name = utf8.encode(chunkname);
    const p = this.mallocChecked(code.length + name.length + 2);
    try {
      this.m.HEAPU8.set(code, p);
      const q = p + code.length + 1;
      this.m.HEAPU8.set(name, q);
      this.m.HEAPU8[q + name.length] = 0;
      return this.guard(() => this.m._luaL_loadbufferx(S(L), p, code.length, q, mode));
    } finally {
      this.m._free(p);
    }
  }
  pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number {
    return this.guard(() => this.m._lua_pcallk(S(L), nargs, nresults, msgh, 0, 0));
  }
  call(L: LuaState, nargs: number, nresults: number): void {
    this.guard(() => this.m._lua_callk(S(L), nargs, nresults, 0, 0));
  }
  error(_L: LuaState): never {
    throw RAISE_SIGNAL;
  }
  newthread(L: LuaState): LuaState {
    return T(this.m._lua_newthread(S(L)));
  }
  resume(L: LuaState, from: LuaState | null, nargs: number): { status: number; nres: number } {
    const status = this.guard(() => this.m._lua_resume(S(L), from ? S(from) : 0, nargs));
    // 5.3: the stack then holds exactly the yielded / returned values (or the error object)
    const nres = status === LUA_OK || status === LUA_YIELD ? this.m._lua_gettop(S(L)) : 1;
    return { status, nres };
  }
  status(L: LuaState): number {
    return this.m._lua_status(S(L));
  }
  yieldk(L: LuaState, nresults: number, k: Continuation): never {
    const ctx = this.nextCont++;
    if (this.nextCont > 0x7ffffff0) this.nextCont = 1;
    this.conts.set(ctx, { k, g: this.stateOf(S(L)) });
    this.m.HEAP32[this.yieldSlot >> 2] = nresults;
    this.m.HEAP32[(this.yieldSlot >> 2) + 1] = ctx;
    this.yieldPending = true;
    // the caller returns this at once (`return e.yieldk(...)`); the dispatcher sees the flag
    return YIELD_SIGNAL as never;
  }
  isyieldable(L: LuaState): boolean {
    return this.m._lua_isyieldable(S(L)) !== 0;
  }
  traceback(L: LuaState, L1: LuaState, msg: string | null, level: number): void {
    this.m._luaL_traceback(S(L), S(L1), msg === null ? 0 : this.cstrTemp(msg), level);
  }
  tolstringmeta(L: LuaState, idx: number): Uint8Array {
    const p = this.m._luaL_tolstring(S(L), idx, this.lenPtr);
    const len = this.m.HEAPU32[this.lenPtr >> 2];
    return Buffer.from(this.m.HEAPU8.subarray(p, p + len));
  }

  setcounthook(L: LuaState, count: number, fn: ((L: LuaState) => void) | null): void {
    this.sethook(L, fn ? LUA_MASKCOUNT : 0, count, fn ? (L2) => fn(L2) : null);
  }
  sethook(L: LuaState, mask: number, count: number, fn: HookFunction | null): void {
    if (fn && mask) {
      this.hooks.set(this.stateOf(S(L)), fn);
      this.m._glue_sethook(S(L), mask, count);
    } else {
      this.m._glue_sethook(S(L), 0, 0);
    }
  }
  gcCountKB(L: LuaState): number | null {
    return this.m._glue_gc(S(L), LUA_GCCOUNT, 0) + this.m._glue_gc(S(L), LUA_GCCOUNTB, 0) / 1024;
  }
  gcCollect(L: LuaState): void {
    // through collectgarbage in a protected call: a __gc error must not escape unprotected
    if (this.getglobal(L, 'collectgarbage') !== 6) {
      this.pop(L, 1);
      return;
    }
    this.pushstring(L, 'collect');
    if (this.pcall(L, 1, 0, 0) !== LUA_OK) this.pop(L, 1);
  }

  isUnwind(e: unknown): boolean {
    return e === RAISE_SIGNAL || e === YIELD_SIGNAL || isWasmException(e);
  }
}
