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
 *
 * The C calls whose shape 5.3 and 5.4 share, the heap helpers and the registries are in
 * emscripten-api.ts (shared with lua53.ts); this file keeps what is 5.4's and wasmoon's own.
 */
import { EmscriptenLuaEngine, Module, REGISTRYINDEX, S, T } from './emscripten-api';
import { Continuation, hostErrorMessage, HookFunction, HostFunction, LuaEngine, LuaState, LUA_HOOKLINE, LUA_OK } from './types';

const LUA_RIDX_MAINTHREAD = 1;
/** lua_Debug (wasm32): int event @0, ..., int currentline @24 */
const AR_EVENT = 0;
const AR_CURRENTLINE = 24;

export class WasmoonEngine extends EmscriptenLuaEngine implements LuaEngine {
  readonly name = 'wasmoon' as const;
  readonly luaVersion = '5.4';

  private readonly dispatcher: number;
  private readonly kdispatcher: number;
  private readonly hookdispatcher: number;
  /** byte offset of lua_State.l_G, or -1 when the layout probe failed (slower fallback) */
  private gOffset = -1;

  static async create(): Promise<WasmoonEngine> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LuaWasm } = require('wasmoon');
    const w = await LuaWasm.initialize();
    return new WasmoonEngine(w.module);
  }

  constructor(module: Module) {
    super(module);
    this.dispatcher = this.m.addFunction((L: number) => this.dispatch(L), 'ii');
    this.kdispatcher = this.m.addFunction((L: number, status: number, ctx: number) => this.kdispatch(L, status, ctx), 'iiii');
    this.hookdispatcher = this.m.addFunction((L: number, ar: number) => this.hookdispatch(L, ar), 'vii');
    this.probeLayout();
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

  protected stateOf(L: number): number {
    if (this.gOffset >= 0) return this.m.HEAP32[(L + this.gOffset) >> 2];
    this.m._lua_rawgeti(L, REGISTRYINDEX, BigInt(LUA_RIDX_MAINTHREAD));
    const main = this.m._lua_tothread(L, -1);
    this.m._lua_settop(L, -2);
    return main;
  }
  protected newstateRaw(): number {
    return this.m._luaL_newstate();
  }
  protected closeState(L: number): void {
    this.m._lua_close(L);
  }

  /**
   * The message of what a host function (or continuation, or hook) threw, to raise as a Lua
   * error. Lua's own longjmps (error or yield: JS numbers) and traps go on unwinding.
   */
  private thrownMessage(e: unknown): string {
    if (typeof e === 'number') throw e;
    this.rethrowTrap(e);
    return hostErrorMessage(e);
  }

  private dispatch(L: number): number {
    const id = Number(this.m._lua_tointegerx(L, REGISTRYINDEX - 1, 0));
    let msg: string;
    try {
      return this.hostFunction(L, id)(T(L));
    } catch (e) {
      msg = this.thrownMessage(e);
    }
    return this.raiseWithWhere(L, msg);
  }

  private kdispatch(L: number, status: number, ctx: number): number {
    let msg: string;
    try {
      return this.takeContinuation(L, ctx)(T(L), status);
    } catch (e) {
      msg = this.thrownMessage(e);
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
      msg = this.thrownMessage(e);
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

  remove(L: LuaState, idx: number): void {
    this.m._lua_rotate(S(L), idx, -1);
    this.m._lua_settop(S(L), -2);
  }

  pushinteger(L: LuaState, n: number): void {
    this.m._lua_pushinteger(S(L), BigInt(Math.trunc(n)));
  }
  pushfunction(L: LuaState, fn: HostFunction, nup = 0): void {
    const id = this.registerFunction(L, fn);
    this.m._lua_pushinteger(S(L), BigInt(id));
    if (nup > 0) this.m._lua_rotate(S(L), -(nup + 1), 1);
    this.m._lua_pushcclosure(S(L), this.dispatcher, nup + 1);
  }
  tointeger(L: LuaState, idx: number): number | null {
    const v = this.m._lua_tointegerx(S(L), idx, this.isnumPtr);
    if (this.m.HEAP32[this.isnumPtr >> 2] === 0) return null;
    return Number(v);
  }
  rawlen(L: LuaState, idx: number): number {
    return Number(this.m._lua_rawlen(S(L), idx));
  }
  rawgeti(L: LuaState, idx: number, n: number): number {
    return this.m._lua_rawgeti(S(L), idx, BigInt(n));
  }
  rawseti(L: LuaState, idx: number, n: number): void {
    this.m._lua_rawseti(S(L), idx, BigInt(n));
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

  error(L: LuaState): never {
    this.m._lua_error(S(L));
    throw new Error('unreachable: lua_error returned');
  }
  resume(L: LuaState, from: LuaState | null, nargs: number): { status: number; nres: number } {
    const status = this.guard(() => this.m._lua_resume(S(L), from ? S(from) : 0, nargs, this.lenPtr));
    return { status, nres: this.m.HEAP32[this.lenPtr >> 2] };
  }
  yieldk(L: LuaState, nresults: number, k: Continuation): never {
    this.m._lua_yieldk(S(L), nresults, this.newContinuation(L, k), this.kdispatcher);
    throw new Error('unreachable: lua_yieldk returned');
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

  isUnwind(e: unknown): boolean {
    return typeof e === 'number';
  }
}
