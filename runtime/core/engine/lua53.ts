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
 *   "not enough memory". Every `_malloc` of the adapter is checked (emscripten-api.ts).
 * - Traps (wasm RuntimeError: out-of-bounds, abort from an unprotected error) mark the engine
 *   `broken` and unwind to the host; the factory then starts a fresh instance.
 * - Ownership: host function ids and continuations are recorded with the state that created
 *   them (the identity is the state's allocator block), checked on every call, released on close.
 * - lua_Integer is 64-bit; integers cross as doubles through glue helpers (exact to 2^53),
 *   which spares BigInt conversions.
 *
 * The C calls whose shape 5.3 and 5.4 share, the heap helpers and the registries are in
 * emscripten-api.ts (shared with wasmoon.ts); this file keeps what is 5.3's and glue.c's own.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EmscriptenLuaEngine, Module, S, T } from './emscripten-api';
import { Continuation, hostErrorMessage, HookFunction, HostFunction, LuaEngine, LuaState, LUA_OK, LUA_YIELD } from './types';

const LUA_GCCOUNT = 3;
const LUA_GCCOUNTB = 4;

/** glue.c's return codes of hostCall/hostK/hostHook */
const RAISE = -1;
const RAISE_WHERE = -2;
const YIELD = -3;

/** thrown by error(L) / yieldk inside a host function; caught by the dispatcher only */
const RAISE_SIGNAL: unique symbol = Symbol('lua53.raise');
const YIELD_SIGNAL: unique symbol = Symbol('lua53.yield');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const WasmException = (globalThis as any).WebAssembly?.Exception as (new (...a: unknown[]) => Error) | undefined;

function isWasmException(e: unknown): boolean {
  return WasmException !== undefined && e instanceof WasmException;
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

export class Lua53Engine extends EmscriptenLuaEngine implements LuaEngine {
  readonly name = 'lua53' as const;
  readonly luaVersion = '5.3';

  /** set by yieldk, read (and cleared) by the dispatcher that called the host function */
  private yieldPending = false;
  private readonly yieldSlot: number;

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
    super(module);
    this.yieldSlot = this.m._glue_yield_slot();
  }

  protected stateOf(L: number): number {
    return this.m._glue_stateof(L);
  }
  protected newstateRaw(): number {
    return this.m._glue_newstate(0);
  }
  protected closeState(L: number): void {
    this.m._glue_close(L);
  }

  /**
   * What a caught JS value means for the C side: a code, or rethrown (Lua exits, traps). A
   * yield recorded before the throw is dropped.
   */
  private signal(L: number, e: unknown, where: boolean): number {
    this.yieldPending = false;
    if (e === RAISE_SIGNAL) return RAISE;
    if (e === YIELD_SIGNAL) return YIELD;
    if (isWasmException(e)) throw e; // a Lua error of a nested call: let it unwind
    this.rethrowTrap(e);
    // room for the message and luaL_where's string (the host function may have used its
    // LUA_MINSTACK slots); fails only at LUAI_MAXSTACK, where the message replaces the top
    if (!this.m._lua_checkstack(L, 3)) this.m._lua_settop(L, -2);
    this.pushstring(T(L), hostErrorMessage(e));
    return where ? RAISE_WHERE : RAISE;
  }

  private hostCall(L: number, id: number): number {
    this.yieldPending = false;
    try {
      const n = this.hostFunction(L, id)(T(L));
      return this.takeYield() ? YIELD : n;
    } catch (e) {
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
    this.yieldPending = false;
    try {
      const n = this.takeContinuation(L, ctx)(T(L), status);
      return this.takeYield() ? YIELD : n;
    } catch (e) {
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
      return this.signal(L, e, false);
    }
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

  remove(L: LuaState, idx: number): void {
    this.m._glue_remove(S(L), idx);
  }

  pushinteger(L: LuaState, n: number): void {
    this.m._glue_pushinteger(S(L), Math.trunc(n));
  }
  pushfunction(L: LuaState, fn: HostFunction, nup = 0): void {
    this.m._glue_pushfunction(S(L), this.registerFunction(L, fn), nup);
  }
  tointeger(L: LuaState, idx: number): number | null {
    const v = this.m._glue_tointeger(S(L), idx, this.isnumPtr);
    if (this.m.HEAP32[this.isnumPtr >> 2] === 0) return null;
    return v;
  }
  rawlen(L: LuaState, idx: number): number {
    return this.m._glue_rawlen(S(L), idx);
  }
  rawgeti(L: LuaState, idx: number, n: number): number {
    return this.m._glue_rawgeti(S(L), idx, n);
  }
  rawseti(L: LuaState, idx: number, n: number): void {
    this.m._glue_rawseti(S(L), idx, n);
  }
  newhostobject(L: LuaState, id: number, tname: string): void {
    this.m._glue_newhostobject(S(L), id, this.cstr(tname));
  }
  tohostobject(L: LuaState, idx: number, tname: string): number | null {
    const v = this.m._glue_tohostobject(S(L), idx, this.cstr(tname)) as number;
    return Number.isNaN(v) ? null : v;
  }

  error(_L: LuaState): never {
    throw RAISE_SIGNAL;
  }
  resume(L: LuaState, from: LuaState | null, nargs: number): { status: number; nres: number } {
    const status = this.guard(() => this.m._lua_resume(S(L), from ? S(from) : 0, nargs));
    // 5.3: the stack then holds exactly the yielded / returned values (or the error object)
    const nres = status === LUA_OK || status === LUA_YIELD ? this.m._lua_gettop(S(L)) : 1;
    return { status, nres };
  }
  yieldk(L: LuaState, nresults: number, k: Continuation): never {
    const ctx = this.newContinuation(L, k);
    this.m.HEAP32[this.yieldSlot >> 2] = nresults;
    this.m.HEAP32[(this.yieldSlot >> 2) + 1] = ctx;
    this.yieldPending = true;
    // the caller returns this at once (`return e.yieldk(...)`); the dispatcher sees the flag
    return YIELD_SIGNAL as never;
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

  isUnwind(e: unknown): boolean {
    return e === RAISE_SIGNAL || e === YIELD_SIGNAL || isWasmException(e);
  }
}
