/**
 * wasmoon adapter: Lua 5.4 compiled to wasm, driven only through its raw C-API exports
 * (`module._lua_*`), never through wasmoon's JS convenience layer (which truncates strings at
 * NUL bytes, re-encodes bytes as UTF-8 and corrupts memory after a few dozen doString calls).
 *
 * - Host functions: one wasm function pointer (a dispatcher) is registered once; every host
 *   function is a C closure of that dispatcher whose first upvalue is an integer id into a JS
 *   table. The dispatcher catches every JS exception and raises it as a Lua error, because
 *   emscripten's setjmp/longjmp emulation leaves the lua_State broken if a JS exception
 *   unwinds through wasm. Lua's own non-local exits (longjmp) are thrown as JS numbers by
 *   emscripten; those are rethrown untouched.
 * - Continuations (lua_yieldk) use a second dispatcher with the continuation id as context.
 * - Strings cross as bytes: lua_tolstring + HEAPU8 copy, lua_pushlstring from a scratch buffer
 *   (small strings) or a buffer allocated for the call (large ones, freed right after).
 * - Every `_malloc` is checked: a failed one (0) raises Lua's "not enough memory" and nothing is
 *   written. A JS allocation that fails in a host function gives the same error.
 * - Traps: a wasm RuntimeError (out-of-bounds access, abort) means the instance's memory and
 *   its C stack can no longer be trusted. The engine marks itself `broken`, lets the trap
 *   unwind to the host (never into Lua as an ordinary error) and refuses new states; the
 *   factory (engine/index.ts) and the device then start a fresh instance for the next boot.
 * - Ownership: every host function id and continuation is recorded with the global state
 *   that created it. The dispatcher refuses an id of another state (a script can rewrite the
 *   id upvalue with `debug.setupvalue`), and `close` releases everything the state
 *   registered, so nothing of a closed boot stays reachable from JS.
 * - Hooks: one hook dispatcher; the handler is per global state and receives the event and
 *   the line (lua_Debug.event / .currentline), so the runtime can chain a script's hook.
 * - lua_Integer is 64-bit (passed as BigInt by this build).
 */
import {
  Continuation,
  hostErrorMessage,
  HookFunction,
  HostFunction,
  LuaEngine,
  LuaError,
  LuaState,
  LUA_HOOKLINE,
  LUA_MASKCOUNT,
  LUA_OK,
  NOT_ENOUGH_MEMORY,
} from './types';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Module = any;

const LUAI_MAXSTACK = 1000000;
const REGISTRYINDEX = -LUAI_MAXSTACK - 1000;
const LUA_RIDX_MAINTHREAD = 1;
/** strings up to this size go through the kept scratch buffer; larger ones get their own */
const SCRATCH_MAX = 64 * 1024;
/** C strings kept for field/global names; other names are copied per call */
const CSTRING_CACHE_MAX = 2048;
/** lua_Debug (wasm32): int event @0, ..., int currentline @24 */
const AR_EVENT = 0;
const AR_CURRENTLINE = 24;

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8');

const errMessage = hostErrorMessage;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const WasmRuntimeError: (new (...a: any[]) => Error) | undefined = (globalThis as any).WebAssembly?.RuntimeError;

function isTrap(e: unknown): boolean {
  return WasmRuntimeError !== undefined && e instanceof WasmRuntimeError;
}

const S = (L: LuaState) => L as unknown as number;
const T = (p: number) => p as unknown as LuaState;

export class WasmoonEngine implements LuaEngine {
  readonly name = 'wasmoon' as const;
  readonly luaVersion = '5.4';
  readonly integerBits = 64;
  readonly REGISTRYINDEX = REGISTRYINDEX;

  private readonly m: Module;
  private readonly fns: (HostFunction | undefined)[] = [];
  /** the global state (see stateOf) that registered each host function id */
  private readonly fnOwner: number[] = [];
  private readonly freeFnIds: number[] = [];
  private liveFns = 0;
  private readonly conts = new Map<number, { k: Continuation; g: number }>();
  private nextCont = 1;
  private readonly dispatcher: number;
  private readonly kdispatcher: number;
  private readonly hookdispatcher: number;
  private readonly hooks = new Map<number, HookFunction>();
  private readonly cstrings = new Map<string, number>();
  private scratch = 0;
  private scratchSize = 0;
  private readonly lenPtr: number;
  private readonly isnumPtr: number;
  /** byte offset of lua_State.l_G, or -1 when the layout probe failed (slower fallback) */
  private gOffset = -1;
  private brokenFlag = false;

  static async create(): Promise<WasmoonEngine> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LuaWasm } = require('wasmoon');
    const w = await LuaWasm.initialize();
    return new WasmoonEngine(w.module);
  }

  constructor(module: Module) {
    this.m = module;
    this.lenPtr = this.mallocChecked(8);
    this.isnumPtr = this.mallocChecked(8);
    this.dispatcher = this.m.addFunction((L: number) => this.dispatch(L), 'ii');
    this.kdispatcher = this.m.addFunction((L: number, status: number, ctx: number) => this.kdispatch(L, status, ctx), 'iiii');
    this.hookdispatcher = this.m.addFunction((L: number, ar: number) => this.hookdispatch(L, ar), 'vii');
    this.probeLayout();
  }

  get broken(): boolean {
    return this.brokenFlag;
  }

  /**
   * Find lua_State.l_G (16 on wasm32 Lua 5.4): two threads of one state share it, two states
   * differ. Reading it is a plain memory load, so ownership checks cost nothing per call.
   */
  private probeLayout(): void {
    const a = this.m._luaL_newstate();
    const b = this.m._luaL_newstate();
    if (!a || !b) throw new Error('luaL_newstate failed (out of memory)');
    const t = this.m._lua_newthread(a);
    const at = (p: number) => this.m.HEAP32[(p + 16) >> 2];
    if (at(a) !== 0 && at(a) === at(t) && at(a) !== at(b)) this.gOffset = 16;
    this.m._lua_close(a);
    this.m._lua_close(b);
  }

  /** An identity of L's global state, the same for every thread of it. */
  private stateOf(L: number): number {
    if (this.gOffset >= 0) return this.m.HEAP32[(L + this.gOffset) >> 2];
    this.m._lua_rawgeti(L, REGISTRYINDEX, BigInt(LUA_RIDX_MAINTHREAD));
    const main = this.m._lua_tothread(L, -1);
    this.m._lua_settop(L, -2);
    return main;
  }

  /** A trap: remember that this instance is unusable, and let the trap go on unwinding. */
  private noteTrap(e: unknown): void {
    if (isTrap(e)) this.brokenFlag = true;
  }

  /** Run a call into wasm from the host (not from inside Lua), noting traps. */
  private guard<R>(f: () => R): R {
    try {
      return f();
    } catch (e) {
      this.noteTrap(e);
      throw e;
    }
  }

  private mallocChecked(n: number): number {
    // size_t is 32-bit here: anything at or over 2^31 cannot be allocated (the heap limit is 2 GB)
    const p = n >= 0x7fffffff ? 0 : (this.m._malloc(n) as number);
    if (!p) throw new LuaError(NOT_ENOUGH_MEMORY);
    return p;
  }

  private dispatch(L: number): number {
    const id = Number(this.m._lua_tointegerx(L, REGISTRYINDEX - 1, 0));
    const fn = this.fns[id];
    let msg: string;
    try {
      if (!fn || this.fnOwner[id] !== this.stateOf(L)) throw new LuaError('host function was released');
      return fn(T(L));
    } catch (e) {
      if (typeof e === 'number') throw e; // Lua longjmp (error or yield): let it unwind
      if (isTrap(e)) {
        this.brokenFlag = true;
        throw e;
      }
      msg = errMessage(e);
    }
    return this.raiseWithWhere(L, msg);
  }

  private kdispatch(L: number, status: number, ctx: number): number {
    const c = this.conts.get(ctx);
    this.conts.delete(ctx);
    let msg: string;
    try {
      if (!c || c.g !== this.stateOf(L)) throw new LuaError('continuation lost');
      return c.k(T(L), status);
    } catch (e) {
      if (typeof e === 'number') throw e;
      if (isTrap(e)) {
        this.brokenFlag = true;
        throw e;
      }
      msg = errMessage(e);
    }
    return this.raiseWithWhere(L, msg);
  }

  private hookdispatch(L: number, ar: number): void {
    const h = this.hooks.get(this.stateOf(L));
    if (!h) return;
    const event = this.m.HEAP32[(ar + AR_EVENT) >> 2];
    const line = event === LUA_HOOKLINE ? this.m.HEAP32[(ar + AR_CURRENTLINE) >> 2] : -1;
    let msg: string;
    try {
      h(T(L), event, line);
      return;
    } catch (e) {
      if (typeof e === 'number') throw e;
      if (isTrap(e)) {
        this.brokenFlag = true;
        throw e;
      }
      msg = errMessage(e);
    }
    this.pushstring(T(L), msg);
    this.m._lua_error(L);
  }

  private raiseWithWhere(L: number, msg: string): never {
    this.m._luaL_where(L, 1);
    this.pushstring(T(L), msg);
    this.m._lua_concat(L, 2);
    this.m._lua_error(L);
    throw new Error('unreachable');
  }

  /**
   * A NUL-terminated copy of a name for one C call. Names are cached (field names repeat);
   * once the cache is full, further names (keys from outside data) use the scratch buffer,
   * so hostile key sets cannot grow the wasm heap without bound.
   */
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

  upvalueindex(i: number): number {
    // upvalue 1 is the dispatcher's id; user upvalues start at 2
    return REGISTRYINDEX - (i + 1);
  }

  newstate(): LuaState {
    if (this.brokenFlag) throw new Error('the Lua engine trapped earlier and cannot create states (a fresh engine is needed)');
    const L = this.guard(() => this.m._luaL_newstate());
    if (!L) throw new Error('luaL_newstate failed (out of memory)');
    return T(L);
  }
  /** lua_close, then release every host function, continuation and hook the state registered. */
  close(L: LuaState): void {
    const g = this.stateOf(S(L));
    this.hooks.delete(g);
    for (const [ctx, c] of this.conts) if (c.g === g) this.conts.delete(ctx);
    try {
      // a broken instance is not entered again: its memory is dropped with the instance
      if (!this.brokenFlag) this.guard(() => this.m._lua_close(S(L)));
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
    this.m._lua_rotate(S(L), idx, -1);
    this.m._lua_settop(S(L), -2);
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
    const p = this.m._lua_typename(S(L), this.m._lua_type(S(L), idx));
    return this.m.UTF8ToString ? this.m.UTF8ToString(p) : this.readCString(p);
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
    this.m._lua_pushinteger(S(L), BigInt(Math.trunc(n)));
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
    this.m._lua_pushinteger(S(L), BigInt(id));
    if (nup > 0) this.m._lua_rotate(S(L), -(nup + 1), 1);
    this.m._lua_pushcclosure(S(L), this.dispatcher, nup + 1);
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
    const v = this.m._lua_tointegerx(S(L), idx, this.isnumPtr);
    if (this.m.HEAP32[this.isnumPtr >> 2] === 0) return null;
    return Number(v);
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
    return Number(this.m._lua_rawlen(S(L), idx));
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
    return this.m._lua_rawgeti(S(L), idx, BigInt(n));
  }
  rawseti(L: LuaState, idx: number, n: number): void {
    this.m._lua_rawseti(S(L), idx, BigInt(n));
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
    const p = this.m._lua_newuserdatauv(S(L), 8, 0);
    this.m.HEAPF64[p >> 3] = id;
    this.m._luaL_setmetatable(S(L), this.cstr(tname));
  }
  tohostobject(L: LuaState, idx: number, tname: string): number | null {
    const p = this.m._luaL_testudata(S(L), idx, this.cstr(tname));
    if (!p) return null;
    return this.m.HEAPF64[p >> 3];
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
  error(L: LuaState): never {
    this.m._lua_error(S(L));
    throw new Error('unreachable: lua_error returned');
  }
  newthread(L: LuaState): LuaState {
    return T(this.m._lua_newthread(S(L)));
  }
  resume(L: LuaState, from: LuaState | null, nargs: number): { status: number; nres: number } {
    const status = this.guard(() => this.m._lua_resume(S(L), from ? S(from) : 0, nargs, this.lenPtr));
    return { status, nres: this.m.HEAP32[this.lenPtr >> 2] };
  }
  status(L: LuaState): number {
    return this.m._lua_status(S(L));
  }
  yieldk(L: LuaState, nresults: number, k: Continuation): never {
    const ctx = this.nextCont++;
    if (this.nextCont > 0x7ffffff0) this.nextCont = 1;
    this.conts.set(ctx, { k, g: this.stateOf(S(L)) });
    this.m._lua_yieldk(S(L), nresults, ctx, this.kdispatcher);
    throw new Error('unreachable: lua_yieldk returned');
  }
  isyieldable(L: LuaState): boolean {
    return this.m._lua_isyieldable(S(L)) !== 0;
  }
  traceback(L: LuaState, L1: LuaState, msg: string | null, level: number): void {
    this.m._luaL_traceback(S(L), S(L1), msg === null ? 0 : this.cstrTemp(msg), level);
  }
  /** A NUL-terminated copy in the scratch buffer, valid until the next string crosses. */
  private cstrTemp(s: string): number {
    const b = utf8.encode(s);
    if (b.length + 1 > SCRATCH_MAX) throw new LuaError(NOT_ENOUGH_MEMORY);
    const p = this.scratchFor(b.length + 1);
    this.m.HEAPU8.set(b, p);
    this.m.HEAPU8[p + b.length] = 0;
    return p;
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
    // handlers are keyed by the global state, so coroutines share them
    if (fn && mask) {
      this.hooks.set(this.stateOf(S(L)), fn);
      this.m._lua_sethook(S(L), this.hookdispatcher, mask, count);
    } else {
      this.m._lua_sethook(S(L), 0, 0, 0);
    }
  }
  gcCountKB(L: LuaState): number | null {
    // lua_gc is variadic in 5.4 and not exported; use collectgarbage from the base library
    if (this.getglobal(L, 'collectgarbage') !== 6) {
      this.pop(L, 1);
      return null;
    }
    this.pushstring(L, 'count');
    if (this.pcall(L, 1, 1, 0) !== LUA_OK) {
      this.pop(L, 1);
      return null;
    }
    const v = this.tonumber(L, -1);
    this.pop(L, 1);
    return v;
  }
  gcCollect(L: LuaState): void {
    if (this.getglobal(L, 'collectgarbage') !== 6) {
      this.pop(L, 1);
      return;
    }
    this.pushstring(L, 'collect');
    if (this.pcall(L, 1, 0, 0) !== LUA_OK) this.pop(L, 1);
  }

  isUnwind(e: unknown): boolean {
    return typeof e === 'number';
  }

  /** Release host function ids (close() releases a state's ids by itself). */
  releaseFunctions(ids: number[]): void {
    for (const id of ids) if (this.fns[id]) this.releaseId(id);
  }
}
