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
 * - Strings cross as bytes: lua_tolstring + HEAPU8 copy, lua_pushlstring from a scratch buffer.
 * - lua_Integer is 64-bit (passed as BigInt by this build).
 */
import {
  Continuation,
  HostFunction,
  LuaEngine,
  LuaError,
  LuaState,
  LUA_OK,
} from './types';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Module = any;

const LUAI_MAXSTACK = 1000000;
const REGISTRYINDEX = -LUAI_MAXSTACK - 1000;
const LUA_RIDX_MAINTHREAD = 1;
const LUA_MASKCOUNT = 1 << 3;

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8');

function errMessage(e: unknown): string {
  if (e instanceof LuaError) return e.message;
  if (e instanceof Error) return e.message || String(e);
  return String(e);
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
  private readonly freeFnIds: number[] = [];
  private readonly conts = new Map<number, Continuation>();
  private nextCont = 1;
  private readonly dispatcher: number;
  private readonly kdispatcher: number;
  private readonly hookdispatcher: number;
  private readonly hooks = new Map<number, (L: LuaState) => void>();
  private readonly cstrings = new Map<string, number>();
  private scratch = 0;
  private scratchSize = 0;
  private readonly lenPtr: number;
  private readonly isnumPtr: number;

  static async create(): Promise<WasmoonEngine> {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { LuaWasm } = require('wasmoon');
    const w = await LuaWasm.initialize();
    return new WasmoonEngine(w.module);
  }

  constructor(module: Module) {
    this.m = module;
    this.lenPtr = this.m._malloc(8);
    this.isnumPtr = this.m._malloc(8);
    this.dispatcher = this.m.addFunction((L: number) => this.dispatch(L), 'ii');
    this.kdispatcher = this.m.addFunction((L: number, status: number, ctx: number) => this.kdispatch(L, status, ctx), 'iiii');
    this.hookdispatcher = this.m.addFunction((L: number, _ar: number) => this.hookdispatch(L), 'vii');
  }

  private dispatch(L: number): number {
    const id = Number(this.m._lua_tointegerx(L, REGISTRYINDEX - 1, 0));
    const fn = this.fns[id];
    let msg: string;
    try {
      if (!fn) throw new LuaError('host function was released');
      return fn(T(L));
    } catch (e) {
      if (typeof e === 'number') throw e; // Lua longjmp (error or yield): let it unwind
      msg = errMessage(e);
    }
    return this.raiseWithWhere(L, msg);
  }

  private kdispatch(L: number, status: number, ctx: number): number {
    const k = this.conts.get(ctx);
    this.conts.delete(ctx);
    let msg: string;
    try {
      if (!k) throw new LuaError('continuation lost');
      return k(T(L), status);
    } catch (e) {
      if (typeof e === 'number') throw e;
      msg = errMessage(e);
    }
    return this.raiseWithWhere(L, msg);
  }

  private hookdispatch(L: number): void {
    // find the handler by the main thread of L's global state
    this.m._lua_rawgeti(L, REGISTRYINDEX, BigInt(LUA_RIDX_MAINTHREAD));
    const main = this.m._lua_tothread(L, -1);
    this.m._lua_settop(L, -2);
    const h = this.hooks.get(main);
    if (!h) return;
    let msg: string;
    try {
      h(T(L));
      return;
    } catch (e) {
      if (typeof e === 'number') throw e;
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

  private cstr(s: string): number {
    let p = this.cstrings.get(s);
    if (p === undefined) {
      const b = utf8.encode(s);
      p = this.m._malloc(b.length + 1) as number;
      this.m.HEAPU8.set(b, p);
      this.m.HEAPU8[p + b.length] = 0;
      this.cstrings.set(s, p);
    }
    return p;
  }

  private scratchFor(n: number): number {
    if (n > this.scratchSize) {
      if (this.scratch) this.m._free(this.scratch);
      this.scratchSize = Math.max(n, this.scratchSize * 2, 256);
      this.scratch = this.m._malloc(this.scratchSize);
    }
    return this.scratch;
  }

  upvalueindex(i: number): number {
    // upvalue 1 is the dispatcher's id; user upvalues start at 2
    return REGISTRYINDEX - (i + 1);
  }

  newstate(): LuaState {
    const L = this.m._luaL_newstate();
    if (!L) throw new Error('luaL_newstate failed (out of memory)');
    return T(L);
  }
  close(L: LuaState): void {
    this.hooks.delete(S(L));
    this.m._lua_close(S(L));
  }
  openlibs(L: LuaState): void {
    this.m._luaL_openlibs(S(L));
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
    const p = this.scratchFor(s.length + 1);
    this.m.HEAPU8.set(s, p);
    this.m._lua_pushlstring(S(L), p, s.length);
  }
  pushstring(L: LuaState, s: string): void {
    this.pushbytes(L, utf8.encode(s));
  }
  pushfunction(L: LuaState, fn: HostFunction, nup = 0): void {
    const id = this.freeFnIds.length ? (this.freeFnIds.pop() as number) : this.fns.length;
    this.fns[id] = fn;
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
    const p = this.m._malloc(code.length + 1);
    try {
      this.m.HEAPU8.set(code, p);
      return this.m._luaL_loadbufferx(S(L), p, code.length, this.cstr(chunkname), this.cstr('bt'));
    } finally {
      this.m._free(p);
    }
  }
  pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number {
    return this.m._lua_pcallk(S(L), nargs, nresults, msgh, 0, 0);
  }
  call(L: LuaState, nargs: number, nresults: number): void {
    this.m._lua_callk(S(L), nargs, nresults, 0, 0);
  }
  error(L: LuaState): never {
    this.m._lua_error(S(L));
    throw new Error('unreachable: lua_error returned');
  }
  newthread(L: LuaState): LuaState {
    return T(this.m._lua_newthread(S(L)));
  }
  resume(L: LuaState, from: LuaState | null, nargs: number): { status: number; nres: number } {
    const status = this.m._lua_resume(S(L), from ? S(from) : 0, nargs, this.lenPtr);
    return { status, nres: this.m.HEAP32[this.lenPtr >> 2] };
  }
  status(L: LuaState): number {
    return this.m._lua_status(S(L));
  }
  yieldk(L: LuaState, nresults: number, k: Continuation): never {
    const ctx = this.nextCont++;
    if (this.nextCont > 0x7ffffff0) this.nextCont = 1;
    this.conts.set(ctx, k);
    this.m._lua_yieldk(S(L), nresults, ctx, this.kdispatcher);
    throw new Error('unreachable: lua_yieldk returned');
  }
  isyieldable(L: LuaState): boolean {
    return this.m._lua_isyieldable(S(L)) !== 0;
  }
  traceback(L: LuaState, L1: LuaState, msg: string | null, level: number): void {
    this.m._luaL_traceback(S(L), S(L1), msg === null ? 0 : this.cstrTemp(msg), level);
  }
  private cstrTemp(s: string): number {
    const b = utf8.encode(s);
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
    // handlers are keyed by the main thread of the state, so coroutines share them
    this.m._lua_rawgeti(S(L), REGISTRYINDEX, BigInt(LUA_RIDX_MAINTHREAD));
    const main = this.m._lua_tothread(S(L), -1);
    this.m._lua_settop(S(L), -2);
    if (fn) {
      this.hooks.set(main, fn);
      this.m._lua_sethook(S(L), this.hookdispatcher, LUA_MASKCOUNT, count);
    } else {
      this.hooks.delete(main);
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
    this.pcall(L, 1, 0, 0) === LUA_OK || this.pop(L, 1);
  }

  isUnwind(e: unknown): boolean {
    return typeof e === 'number';
  }

  /** Release a host function id (used when a device VM is closed). */
  releaseFunctions(ids: number[]): void {
    for (const id of ids) {
      if (this.fns[id]) {
        this.fns[id] = undefined;
        this.freeFnIds.push(id);
      }
    }
  }
}
