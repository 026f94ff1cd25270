/**
 * fengari adapter: Lua 5.3 written in JavaScript. The second engine (`--engine fengari`):
 * exact 5.3 semantics and 32-bit integers, but slow coroutines and no GC API.
 *
 * - Host functions are real JS C-closures; every one is wrapped so a JS exception becomes a
 *   Lua error with the caller's position, and fengari's own non-local exits (error/yield
 *   unwinds, plain objects with a `status` field) pass through untouched.
 * - Strings are fengari's Uint8Arrays: binary-safe both ways.
 * - fengari has no lua_gc: `collectgarbage` raises "lua_gc not implemented". The runtime
 *   replaces it with an estimate (see runtime/core/vm/vm.ts) and `gcCountKB` returns null here.
 */
import { Continuation, hostErrorMessage, HookFunction, HostFunction, LuaEngine, LuaState, LUA_HOOKLINE, LUA_MASKCOUNT } from './types';

/*
 * fengari 0.1.5 bug: the string table key (luaS_hash) concatenates each byte's hex digits
 * without zero padding, so distinct byte strings such as "\1\2" and "\x12" get the same key
 * and become the same Lua string (constants, table keys). That breaks binary safety. Replace
 * it with a padded version before any other fengari module copies the function.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lstring = require('fengari/src/lstring.js');
if (!lstring.luaS_hash.__luatosPatched) {
  const HEX = Array.from({ length: 256 }, (_, i) => (i < 16 ? '0' : '') + i.toString(16));
  const hash = function (str: Uint8Array): string {
    let s = '|';
    for (let i = 0; i < str.length; i++) s += HEX[str[i]];
    return s;
  };
  hash.__luatosPatched = true;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const hashlong = function (ts: any): string {
    if (ts.hash === null) ts.hash = hash(ts.getstr());
    return ts.hash;
  };
  lstring.luaS_hash = hash;
  lstring.luaS_hashlongstr = hashlong;
}

/*
 * fengari 0.1.5 bug: lua_pcallk, on the yieldable path, records the caller's 'allowhook' flag
 * with `callstatus &= ~CIST_OAH | allowhook` instead of setting the bit, so an error raised by
 * a hook and caught by pcall inside a coroutine leaves hooks disabled for good in that thread
 * (the runaway watchdog would then never fire again). Record the flag correctly before the
 * call. This must run before fengari's lua.js copies lua_pcallk, i.e. before require('fengari').
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lapi = require('fengari/src/lapi.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lstate = require('fengari/src/lstate.js');
{
  const original = lapi.lua_pcallk;
  if (!original.__luatosPatched) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const patched = function (L: any, nargs: number, nresults: number, errfunc: number, ctx: unknown, k: unknown) {
      if (L && L.ci) {
        if (L.allowhook) L.ci.callstatus |= lstate.CIST_OAH;
        else L.ci.callstatus &= ~lstate.CIST_OAH;
      }
      return original(L, nargs, nresults, errfunc, ctx, k);
    };
    patched.__luatosPatched = true;
    lapi.lua_pcallk = patched;
  }
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fengari = require('fengari');
const lua = fengari.lua;
const lauxlib = fengari.lauxlib;
const lualib = fengari.lualib;

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type FL = any;
const S = (L: LuaState) => L as unknown as FL;

const errMessage = hostErrorMessage;

export class FengariEngine implements LuaEngine {
  readonly name = 'fengari' as const;
  readonly luaVersion = '5.3';
  readonly integerBits = 32;
  readonly REGISTRYINDEX: number = lua.LUA_REGISTRYINDEX;
  private readonly keys = new Map<string, Uint8Array>();
  private readonly ptrIds = new WeakMap<object, number>();
  private nextPtr = 0x1000;
  /** fengari runs in JS: there is no instance to trap */
  readonly broken = false;

  static async create(): Promise<FengariEngine> {
    return new FengariEngine();
  }

  private k(s: string): Uint8Array {
    let b = this.keys.get(s);
    if (!b) {
      b = fengari.to_luastring(s) as Uint8Array;
      this.keys.set(s, b);
    }
    return b;
  }

  private wrap(fn: (L: FL) => number): (L: FL) => number {
    return (L: FL) => {
      let msg: string;
      try {
        return fn(L);
      } catch (e) {
        if (this.isUnwind(e)) throw e;
        msg = errMessage(e);
      }
      lauxlib.luaL_where(L, 1);
      lua.lua_pushstring(L, fengari.to_luastring(msg));
      lua.lua_concat(L, 2);
      return lua.lua_error(L);
    };
  }

  upvalueindex(i: number): number {
    return lua.lua_upvalueindex(i);
  }
  newstate(): LuaState {
    return lauxlib.luaL_newstate() as LuaState;
  }
  close(L: LuaState): void {
    lua.lua_close(S(L));
  }
  openlibs(L: LuaState): void {
    lualib.luaL_openlibs(S(L));
  }
  gettop(L: LuaState): number {
    return lua.lua_gettop(S(L));
  }
  settop(L: LuaState, idx: number): void {
    lua.lua_settop(S(L), idx);
  }
  pop(L: LuaState, n: number): void {
    lua.lua_settop(S(L), -n - 1);
  }
  pushvalue(L: LuaState, idx: number): void {
    lua.lua_pushvalue(S(L), idx);
  }
  absindex(L: LuaState, idx: number): number {
    return lua.lua_absindex(S(L), idx);
  }
  insert(L: LuaState, idx: number): void {
    lua.lua_rotate(S(L), idx, 1);
  }
  remove(L: LuaState, idx: number): void {
    lua.lua_rotate(S(L), idx, -1);
    lua.lua_settop(S(L), -2);
  }
  checkstack(L: LuaState, n: number): boolean {
    return !!lua.lua_checkstack(S(L), n);
  }
  xmove(from: LuaState, to: LuaState, n: number): void {
    lua.lua_xmove(S(from), S(to), n);
  }
  type(L: LuaState, idx: number): number {
    return lua.lua_type(S(L), idx);
  }
  typename(L: LuaState, idx: number): string {
    return utf8d.decode(lua.lua_typename(S(L), lua.lua_type(S(L), idx)));
  }
  isinteger(L: LuaState, idx: number): boolean {
    return !!lua.lua_isinteger(S(L), idx);
  }
  isnumber(L: LuaState, idx: number): boolean {
    return !!lua.lua_isnumber(S(L), idx);
  }
  isstring(L: LuaState, idx: number): boolean {
    return !!lua.lua_isstring(S(L), idx);
  }
  pushnil(L: LuaState): void {
    lua.lua_pushnil(S(L));
  }
  pushboolean(L: LuaState, b: boolean): void {
    lua.lua_pushboolean(S(L), b ? 1 : 0);
  }
  pushinteger(L: LuaState, n: number): void {
    // fengari integers are 32-bit: wrap like a 32-bit C build would
    lua.lua_pushinteger(S(L), Math.trunc(n) | 0);
  }
  pushnumber(L: LuaState, n: number): void {
    lua.lua_pushnumber(S(L), n);
  }
  pushbytes(L: LuaState, s: Uint8Array): void {
    if (s.length === 0) lua.lua_pushstring(S(L), this.k(''));
    else lua.lua_pushlstring(S(L), Uint8Array.from(s), s.length);
  }
  pushstring(L: LuaState, s: string): void {
    this.pushbytes(L, utf8.encode(s));
  }
  pushfunction(L: LuaState, fn: HostFunction, nup = 0): void {
    lua.lua_pushcclosure(S(L), this.wrap(fn as (L: FL) => number), nup);
  }
  pushlightuserdata(L: LuaState, p: number): void {
    lua.lua_pushlightuserdata(S(L), p);
  }
  pushthread(L: LuaState): boolean {
    return lua.lua_pushthread(S(L)) === 1;
  }
  toboolean(L: LuaState, idx: number): boolean {
    return !!lua.lua_toboolean(S(L), idx);
  }
  tointeger(L: LuaState, idx: number): number | null {
    const v = lua.lua_tointegerx(S(L), idx);
    return v === false ? null : v;
  }
  tonumber(L: LuaState, idx: number): number | null {
    const v = lua.lua_tonumberx(S(L), idx);
    return v === false ? null : v;
  }
  tobytes(L: LuaState, idx: number): Uint8Array | null {
    const v = lua.lua_tolstring(S(L), idx);
    return v === null || v === undefined ? null : Buffer.from(v);
  }
  tostring(L: LuaState, idx: number): string | null {
    const v = lua.lua_tolstring(S(L), idx);
    return v === null || v === undefined ? null : utf8d.decode(v);
  }
  tothread(L: LuaState, idx: number): LuaState | null {
    return (lua.lua_tothread(S(L), idx) as LuaState) ?? null;
  }
  topointer(L: LuaState, idx: number): number {
    const o = lua.lua_topointer(S(L), idx);
    if (o === null || o === undefined) return 0;
    if (typeof o !== 'object' && typeof o !== 'function') return Number(o) || 0;
    let id = this.ptrIds.get(o);
    if (id === undefined) {
      id = this.nextPtr += 16;
      this.ptrIds.set(o, id);
    }
    return id;
  }
  rawequal(L: LuaState, a: number, b: number): boolean {
    return !!lua.lua_rawequal(S(L), a, b);
  }
  rawlen(L: LuaState, idx: number): number {
    return lua.lua_rawlen(S(L), idx);
  }
  createtable(L: LuaState, narr: number, nrec: number): void {
    lua.lua_createtable(S(L), narr, nrec);
  }
  getfield(L: LuaState, idx: number, k: string): number {
    return lua.lua_getfield(S(L), idx, this.k(k));
  }
  setfield(L: LuaState, idx: number, k: string): void {
    lua.lua_setfield(S(L), idx, this.k(k));
  }
  gettable(L: LuaState, idx: number): number {
    return lua.lua_gettable(S(L), idx);
  }
  settable(L: LuaState, idx: number): void {
    lua.lua_settable(S(L), idx);
  }
  rawget(L: LuaState, idx: number): number {
    return lua.lua_rawget(S(L), idx);
  }
  rawset(L: LuaState, idx: number): void {
    lua.lua_rawset(S(L), idx);
  }
  rawgeti(L: LuaState, idx: number, n: number): number {
    return lua.lua_rawgeti(S(L), idx, n);
  }
  rawseti(L: LuaState, idx: number, n: number): void {
    lua.lua_rawseti(S(L), idx, n);
  }
  getglobal(L: LuaState, name: string): number {
    return lua.lua_getglobal(S(L), this.k(name));
  }
  setglobal(L: LuaState, name: string): void {
    lua.lua_setglobal(S(L), this.k(name));
  }
  next(L: LuaState, idx: number): boolean {
    return !!lua.lua_next(S(L), idx);
  }
  getmetatable(L: LuaState, idx: number): boolean {
    return !!lua.lua_getmetatable(S(L), idx);
  }
  setmetatable(L: LuaState, idx: number): void {
    lua.lua_setmetatable(S(L), idx);
  }
  newmetatable(L: LuaState, tname: string): boolean {
    return !!lauxlib.luaL_newmetatable(S(L), this.k(tname));
  }
  getnamedmetatable(L: LuaState, tname: string): number {
    return lua.lua_getfield(S(L), this.REGISTRYINDEX, this.k(tname));
  }
  newhostobject(L: LuaState, id: number, tname: string): void {
    const data = lua.lua_newuserdata(S(L), 8);
    data.hostId = id;
    lauxlib.luaL_setmetatable(S(L), this.k(tname));
  }
  tohostobject(L: LuaState, idx: number, tname: string): number | null {
    const p = lauxlib.luaL_testudata(S(L), idx, this.k(tname));
    return p && typeof p.hostId === 'number' ? p.hostId : null;
  }
  ref(L: LuaState, t: number): number {
    return lauxlib.luaL_ref(S(L), t);
  }
  unref(L: LuaState, t: number, r: number): void {
    lauxlib.luaL_unref(S(L), t, r);
  }
  loadbuffer(L: LuaState, code: Uint8Array, chunkname: string): number {
    return lauxlib.luaL_loadbufferx(S(L), Uint8Array.from(code), code.length, fengari.to_luastring(chunkname), this.k('bt'));
  }
  pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number {
    return lua.lua_pcall(S(L), nargs, nresults, msgh);
  }
  call(L: LuaState, nargs: number, nresults: number): void {
    lua.lua_call(S(L), nargs, nresults);
  }
  error(L: LuaState): never {
    lua.lua_error(S(L));
    throw new Error('unreachable: lua_error returned');
  }
  newthread(L: LuaState): LuaState {
    return lua.lua_newthread(S(L)) as LuaState;
  }
  resume(L: LuaState, from: LuaState | null, nargs: number): { status: number; nres: number } {
    const status = lua.lua_resume(S(L), from ? S(from) : null, nargs);
    return { status, nres: lua.lua_gettop(S(L)) };
  }
  status(L: LuaState): number {
    return lua.lua_status(S(L));
  }
  yieldk(L: LuaState, nresults: number, k: Continuation): never {
    const kk = this.wrap((L2: FL) => k(L2 as LuaState, lua.LUA_YIELD));
    lua.lua_yieldk(S(L), nresults, 0, (L2: FL, status: number) => {
      void status;
      return kk(L2);
    });
    throw new Error('unreachable: lua_yieldk returned');
  }
  isyieldable(L: LuaState): boolean {
    return !!lua.lua_isyieldable(S(L));
  }
  traceback(L: LuaState, L1: LuaState, msg: string | null, level: number): void {
    lauxlib.luaL_traceback(S(L), S(L1), msg === null ? null : fengari.to_luastring(msg), level);
  }
  tolstringmeta(L: LuaState, idx: number): Uint8Array {
    return Buffer.from(lauxlib.luaL_tolstring(S(L), idx));
  }
  setcounthook(L: LuaState, count: number, fn: ((L: LuaState) => void) | null): void {
    this.sethook(L, fn ? LUA_MASKCOUNT : 0, count, fn ? (L2) => fn(L2) : null);
  }
  sethook(L: LuaState, mask: number, count: number, fn: HookFunction | null): void {
    if (fn && mask) {
      const h = (L2: FL, ar: { event: number; currentline: number }) => {
        let msg: string;
        try {
          fn(L2 as LuaState, ar.event, ar.event === LUA_HOOKLINE ? ar.currentline : -1);
          return;
        } catch (e) {
          if (this.isUnwind(e)) throw e;
          msg = errMessage(e);
        }
        lua.lua_pushstring(L2, fengari.to_luastring(msg));
        lua.lua_error(L2);
      };
      lua.lua_sethook(S(L), h, mask, count);
    } else {
      lua.lua_sethook(S(L), null, 0, 0);
    }
  }
  hostFunctionCount(): number | null {
    return null; // host functions are closures owned by the Lua objects: they go with the state
  }
  gcCountKB(_L: LuaState): number | null {
    return null;
  }
  gcCollect(_L: LuaState): void {
    /* fengari has no GC API: JS's collector runs on its own */
  }
  isUnwind(e: unknown): boolean {
    return typeof e === 'object' && e !== null && !(e instanceof Error) && 'status' in e && 'previous' in e;
  }
}
