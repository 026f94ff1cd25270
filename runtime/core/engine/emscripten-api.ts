/**
 * What the two wasm engines (lua53.ts: our build of the firmware's Lua 5.3; wasmoon.ts: Lua 5.4)
 * share: both drive an emscripten build's Lua C API through its `_lua_*` exports, so the C calls
 * whose shape is the same in 5.3 and 5.4, the heap helpers (checked malloc, C strings, the
 * scratch buffer, strings read and pushed as bytes), trap handling and the host function /
 * continuation registry with its ownership by global state live here, once.
 *
 * Each adapter keeps its real differences: the state identity (`stateOf`), how a host function
 * reaches JS (lua53: glue.c's C dispatcher; wasmoon: `addFunction` dispatchers), errors and
 * yields from host functions, integers (glue doubles vs BigInt), hooks, resume, the GC calls.
 */
import { Continuation, HookFunction, HostFunction, LuaError, LuaState, LUA_MASKCOUNT, LUA_OK, NOT_ENOUGH_MEMORY } from './types';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Module = any;

const LUAI_MAXSTACK = 1000000;
/** LUA_REGISTRYINDEX of both builds (LUAI_MAXSTACK 1000000) */
export const REGISTRYINDEX = -LUAI_MAXSTACK - 1000;
/** strings up to this size go through the kept scratch buffer; larger ones get their own */
const SCRATCH_MAX = 64 * 1024;
/** C strings kept for field/global names; other names are copied per call */
const CSTRING_CACHE_MAX = 2048;
const LUA_TFUNCTION = 6;

export const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const WasmRuntimeError: (new (...a: any[]) => Error) | undefined = (globalThis as any).WebAssembly?.RuntimeError;

/** A wasm trap (RuntimeError: out-of-bounds access, abort): the instance can no longer be trusted. */
export function isTrap(e: unknown): boolean {
  return WasmRuntimeError !== undefined && e instanceof WasmRuntimeError;
}

export const S = (L: LuaState) => L as unknown as number;
export const T = (p: number) => p as unknown as LuaState;

export abstract class EmscriptenLuaEngine {
  readonly integerBits = 64;
  readonly REGISTRYINDEX = REGISTRYINDEX;

  protected readonly m: Module;
  protected readonly fns: (HostFunction | undefined)[] = [];
  /** the global state (see stateOf) that registered each host function id */
  protected readonly fnOwner: number[] = [];
  private readonly freeFnIds: number[] = [];
  private liveFns = 0;
  protected readonly conts = new Map<number, { k: Continuation; g: number }>();
  private nextCont = 1;
  protected readonly hooks = new Map<number, HookFunction>();
  private readonly cstrings = new Map<string, number>();
  private scratch = 0;
  private scratchSize = 0;
  protected readonly lenPtr: number;
  protected readonly isnumPtr: number;
  protected brokenFlag = false;
  private readonly typenames: string[] = [];

  protected constructor(module: Module) {
    this.m = module;
    this.lenPtr = this.mallocChecked(8);
    this.isnumPtr = this.mallocChecked(8);
  }

  get broken(): boolean {
    return this.brokenFlag;
  }

  /** An identity of L's global state, the same for every thread of it. */
  protected abstract stateOf(L: number): number;
  /** lua_close (or the build's own) of a state that did not trap. */
  protected abstract closeState(L: number): void;
  /** The build's lua_newstate; 0 when out of memory. */
  protected abstract newstateRaw(): number;

  /** Run a call into wasm from the host (not from inside Lua), noting traps. */
  protected guard<R>(f: () => R): R {
    try {
      return f();
    } catch (e) {
      if (isTrap(e)) this.brokenFlag = true;
      throw e;
    }
  }

  /** A trap caught in a dispatcher: mark the engine broken and let it go on unwinding. */
  protected rethrowTrap(e: unknown): void {
    if (isTrap(e)) {
      this.brokenFlag = true;
      throw e;
    }
  }

  protected mallocChecked(n: number): number {
    // size_t is 32-bit here: anything at or over 2^31 cannot be allocated (the heap limit is 2 GB)
    const p = n >= 0x7fffffff ? 0 : (this.m._malloc(n) as number);
    if (!p) throw new LuaError(NOT_ENOUGH_MEMORY);
    return p;
  }

  /** The host function registered as `id`, if the state of L owns it. */
  protected hostFunction(L: number, id: number): HostFunction {
    const fn = this.fns[id];
    if (!fn || this.fnOwner[id] !== this.stateOf(L)) throw new LuaError('host function was released');
    return fn;
  }

  /** Take the continuation `ctx` (once), if the state of L owns it. */
  protected takeContinuation(L: number, ctx: number): Continuation {
    const c = this.conts.get(ctx);
    this.conts.delete(ctx);
    if (!c || c.g !== this.stateOf(L)) throw new LuaError('continuation lost');
    return c.k;
  }

  /** Record a continuation for L's state; its id (the C side's context). */
  protected newContinuation(L: LuaState, k: Continuation): number {
    const ctx = this.nextCont++;
    if (this.nextCont > 0x7ffffff0) this.nextCont = 1;
    this.conts.set(ctx, { k, g: this.stateOf(S(L)) });
    return ctx;
  }

  /** Register fn for L's state; its id. */
  protected registerFunction(L: LuaState, fn: HostFunction): number {
    const id = this.freeFnIds.length ? (this.freeFnIds.pop() as number) : this.fns.length;
    this.fns[id] = fn;
    this.fnOwner[id] = this.stateOf(S(L));
    this.liveFns++;
    return id;
  }

  /**
   * A NUL-terminated copy of a name for one C call. Names are cached (field names repeat);
   * once the cache is full, further names (keys from outside data) use the scratch buffer,
   * so hostile key sets cannot grow the wasm heap without bound.
   */
  protected cstr(s: string): number {
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

  /** A NUL-terminated copy in the scratch buffer, valid until the next string crosses. */
  protected cstrTemp(s: string): number {
    const b = utf8.encode(s);
    if (b.length + 1 > SCRATCH_MAX) throw new LuaError(NOT_ENOUGH_MEMORY);
    const p = this.scratchFor(b.length + 1);
    this.m.HEAPU8.set(b, p);
    this.m.HEAPU8[p + b.length] = 0;
    return p;
  }

  /** The kept scratch buffer, grown to n bytes (n <= SCRATCH_MAX); checked. */
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

  /** Copy bytes (plus a NUL) into wasm memory and run f with the address; checked, freed after. */
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

  private readCString(p: number): string {
    const h: Uint8Array = this.m.HEAPU8;
    let e = p;
    while (h[e] !== 0) e++;
    return utf8d.decode(h.subarray(p, e));
  }

  upvalueindex(i: number): number {
    // upvalue 1 is the dispatcher's id; user upvalues start at 2
    return REGISTRYINDEX - (i + 1);
  }

  newstate(): LuaState {
    if (this.brokenFlag) throw new Error('the Lua engine trapped earlier and cannot create states (a fresh engine is needed)');
    const L = this.guard(() => this.newstateRaw());
    if (!L) throw new Error('lua_newstate failed (out of memory)');
    return T(L);
  }

  /** lua_close, then release every host function, continuation and hook the state registered. */
  close(L: LuaState): void {
    const g = this.stateOf(S(L));
    this.hooks.delete(g);
    for (const [ctx, c] of this.conts) if (c.g === g) this.conts.delete(ctx);
    try {
      // a broken instance is not entered again: its memory is dropped with the instance
      if (!this.brokenFlag) this.guard(() => this.closeState(S(L)));
    } finally {
      // __gc metamethods ran during lua_close; only now can the ids go
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
  checkstack(L: LuaState, n: number): boolean {
    return this.m._lua_checkstack(S(L), n) !== 0;
  }
  xmove(from: LuaState, to: LuaState, n: number): void {
    this.m._lua_xmove(S(from), S(to), n);
  }

  type(L: LuaState, idx: number): number {
    return this.m._lua_type(S(L), idx);
  }
  /** lua_typename of the value at idx (the names are the build's constants: read once per type) */
  typename(L: LuaState, idx: number): string {
    const t = this.m._lua_type(S(L), idx) as number;
    let s = this.typenames[t + 1];
    if (s === undefined) {
      s = this.readCString(this.m._lua_typename(S(L), t));
      this.typenames[t + 1] = s;
    }
    return s;
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
  pushnumber(L: LuaState, n: number): void {
    this.m._lua_pushnumber(S(L), n);
  }
  pushbytes(L: LuaState, s: Uint8Array): void {
    this.withBytes(s, (p) => this.m._lua_pushlstring(S(L), p, s.length));
  }
  pushstring(L: LuaState, s: string): void {
    this.pushbytes(L, utf8.encode(s));
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
  tonumber(L: LuaState, idx: number): number | null {
    const v = this.m._lua_tonumberx(S(L), idx, this.isnumPtr);
    if (this.m.HEAP32[this.isnumPtr >> 2] === 0) return null;
    return v;
  }
  tobytes(L: LuaState, idx: number): Uint8Array | null {
    const v = this.tobytesView(L, idx);
    return v && Buffer.from(v);
  }
  tobytesView(L: LuaState, idx: number): Uint8Array | null {
    const p = this.m._lua_tolstring(S(L), idx, this.lenPtr);
    if (!p) return null;
    return this.m.HEAPU8.subarray(p, p + this.m.HEAPU32[this.lenPtr >> 2]);
  }
  tostring(L: LuaState, idx: number): string | null {
    const v = this.tobytesView(L, idx);
    return v && utf8d.decode(v);
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

  ref(L: LuaState, t: number): number {
    return this.m._luaL_ref(S(L), t);
  }
  unref(L: LuaState, t: number, r: number): void {
    this.m._luaL_unref(S(L), t, r);
  }

  loadbuffer(L: LuaState, code: Uint8Array, chunkname: string): number {
    const mode = this.cstr('bt');
    const name = utf8.encode(chunkname);
    // chunk name and code in one checked allocation (the name must outlive the scratch use)
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
  newthread(L: LuaState): LuaState {
    return T(this.m._lua_newthread(S(L)));
  }
  status(L: LuaState): number {
    return this.m._lua_status(S(L));
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

  abstract sethook(L: LuaState, mask: number, count: number, fn: HookFunction | null): void;
  setcounthook(L: LuaState, count: number, fn: ((L: LuaState) => void) | null): void {
    this.sethook(L, fn ? LUA_MASKCOUNT : 0, count, fn ? (L2) => fn(L2) : null);
  }
  gcCollect(L: LuaState): void {
    // through collectgarbage in a protected call: a __gc error must not escape unprotected
    if (this.getglobal(L, 'collectgarbage') !== LUA_TFUNCTION) {
      this.pop(L, 1);
      return;
    }
    this.pushstring(L, 'collect');
    if (this.pcall(L, 1, 0, 0) !== LUA_OK) this.pop(L, 1);
  }
}
