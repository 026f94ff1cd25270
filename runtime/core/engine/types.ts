/**
 * The Lua engine interface: a small subset of the Lua C API, so the runtime can sit on
 * our own Lua 5.3.6 wasm build (lua53, default), wasmoon's raw C exports or fengari without
 * knowing which.
 *
 * Conventions follow the C API: stack indices, `push*`/`to*`, status codes. Strings are bytes
 * (`Uint8Array`); `pushstring`/`tostring` are UTF-8 conveniences on top of them.
 *
 * Host functions (`HostFunction`) receive the calling thread and return the number of results
 * they pushed. They may throw a JS `Error` (or a `LuaError`); the engine turns it into a Lua
 * error with the message, so a JS exception never unwinds through the VM. To raise a Lua value
 * as is, push it and `return engine.error(L)`.
 */

/** An opaque handle to a lua_State (a thread). */
export type LuaState = { readonly __luaState: unique symbol };

export type HostFunction = (L: LuaState) => number;
/** Continuation of a yielding host function (lua_KFunction): called on resume. */
export type Continuation = (L: LuaState, status: number) => number;

export const LUA_OK = 0;
export const LUA_YIELD = 1;
export const LUA_ERRRUN = 2;
export const LUA_ERRSYNTAX = 3;
export const LUA_ERRMEM = 4;
export const LUA_ERRERR = 5;

export const LUA_TNONE = -1;
export const LUA_TNIL = 0;
export const LUA_TBOOLEAN = 1;
export const LUA_TLIGHTUSERDATA = 2;
export const LUA_TNUMBER = 3;
export const LUA_TSTRING = 4;
export const LUA_TTABLE = 5;
export const LUA_TFUNCTION = 6;
export const LUA_TUSERDATA = 7;
export const LUA_TTHREAD = 8;

export const LUA_MULTRET = -1;

/** Thrown by host functions to raise a Lua error with this message. */
export class LuaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LuaError';
  }
}

/** Lua's own text for a failed allocation (LUA_ERRMEM), used for every refused allocation. */
export const NOT_ENOUGH_MEMORY = 'not enough memory';

/**
 * The Lua error text for a JS exception thrown by a host function. A failed JS allocation
 * (`Buffer.alloc` past the platform limit, "Array buffer allocation failed", an oversized
 * string) becomes Lua's "not enough memory", so no JS wording leaks into the script.
 */
export function hostErrorMessage(e: unknown): string {
  if (e instanceof LuaError) return e.message;
  if (e instanceof RangeError) {
    const code = (e as { code?: string }).code;
    if (
      code === 'ERR_OUT_OF_RANGE' ||
      code === 'ERR_STRING_TOO_LONG' ||
      code === 'ERR_BUFFER_TOO_LARGE' ||
      /allocation failed|Invalid (typed )?array length|Invalid string length|out of memory/i.test(e.message)
    )
      return NOT_ENOUGH_MEMORY;
  }
  if (e instanceof Error) return e.message || String(e);
  return String(e);
}

/** Hook events (lua_Debug.event) and masks, as in lua.h. */
export const LUA_HOOKCALL = 0;
export const LUA_HOOKRET = 1;
export const LUA_HOOKLINE = 2;
export const LUA_HOOKCOUNT = 3;
export const LUA_HOOKTAILCALL = 4;
export const LUA_MASKCALL = 1 << LUA_HOOKCALL;
export const LUA_MASKRET = 1 << LUA_HOOKRET;
export const LUA_MASKLINE = 1 << LUA_HOOKLINE;
export const LUA_MASKCOUNT = 1 << LUA_HOOKCOUNT;

/** A hook handler: the event (LUA_HOOK*) and, for line events, the line (else -1). */
export type HookFunction = (L: LuaState, event: number, line: number) => void;

export interface LuaEngine {
  readonly name: 'lua53' | 'wasmoon' | 'fengari';
  /** Lua version the engine implements, e.g. "5.4" */
  readonly luaVersion: string;
  /** integer width in bits (fengari: 32, wasmoon and lua53: 64) */
  readonly integerBits: number;
  /** pseudo-index of the registry */
  readonly REGISTRYINDEX: number;
  upvalueindex(i: number): number;

  newstate(): LuaState;
  close(L: LuaState): void;
  openlibs(L: LuaState): void;

  // stack
  gettop(L: LuaState): number;
  settop(L: LuaState, idx: number): void;
  pop(L: LuaState, n: number): void;
  pushvalue(L: LuaState, idx: number): void;
  absindex(L: LuaState, idx: number): number;
  insert(L: LuaState, idx: number): void;
  remove(L: LuaState, idx: number): void;
  checkstack(L: LuaState, n: number): boolean;
  xmove(from: LuaState, to: LuaState, n: number): void;

  // type checks
  type(L: LuaState, idx: number): number;
  typename(L: LuaState, idx: number): string;
  isinteger(L: LuaState, idx: number): boolean;
  isnumber(L: LuaState, idx: number): boolean;
  isstring(L: LuaState, idx: number): boolean;

  // push
  pushnil(L: LuaState): void;
  pushboolean(L: LuaState, b: boolean): void;
  pushinteger(L: LuaState, n: number): void;
  pushnumber(L: LuaState, n: number): void;
  /** push bytes as a Lua string (binary-safe) */
  pushbytes(L: LuaState, s: Uint8Array): void;
  /** push a JS string encoded as UTF-8 */
  pushstring(L: LuaState, s: string): void;
  pushfunction(L: LuaState, fn: HostFunction, nup?: number): void;
  pushlightuserdata(L: LuaState, p: number): void;
  pushthread(L: LuaState): boolean;

  // read
  toboolean(L: LuaState, idx: number): boolean;
  /** integer value, or null when the value is not convertible to an integer */
  tointeger(L: LuaState, idx: number): number | null;
  /** number value, or null when not convertible */
  tonumber(L: LuaState, idx: number): number | null;
  /** string bytes (numbers are converted in place, as lua_tolstring does), or null */
  tobytes(L: LuaState, idx: number): Uint8Array | null;
  /**
   * Optional: the string's bytes without a copy, valid only until the next call into this engine
   * (copy them before anything else touches Lua); engines without it: use tobytes.
   */
  tobytesView?(L: LuaState, idx: number): Uint8Array | null;
  /** UTF-8 decoded string, or null */
  tostring(L: LuaState, idx: number): string | null;
  tothread(L: LuaState, idx: number): LuaState | null;
  /** identity of a reference value (for equality in the host) */
  topointer(L: LuaState, idx: number): number;
  rawequal(L: LuaState, a: number, b: number): boolean;
  rawlen(L: LuaState, idx: number): number;

  // tables
  createtable(L: LuaState, narr: number, nrec: number): void;
  getfield(L: LuaState, idx: number, k: string): number;
  setfield(L: LuaState, idx: number, k: string): void;
  gettable(L: LuaState, idx: number): number;
  settable(L: LuaState, idx: number): void;
  rawget(L: LuaState, idx: number): number;
  rawset(L: LuaState, idx: number): void;
  rawgeti(L: LuaState, idx: number, n: number): number;
  rawseti(L: LuaState, idx: number, n: number): void;
  getglobal(L: LuaState, name: string): number;
  setglobal(L: LuaState, name: string): void;
  next(L: LuaState, idx: number): boolean;
  getmetatable(L: LuaState, idx: number): boolean;
  setmetatable(L: LuaState, idx: number): void;
  /** luaL_newmetatable: true when created */
  newmetatable(L: LuaState, tname: string): boolean;
  /** luaL_getmetatable */
  getnamedmetatable(L: LuaState, tname: string): number;

  /** Full userdata holding one host object id; the metatable named `tname` is attached. */
  newhostobject(L: LuaState, id: number, tname: string): void;
  /** The host object id of the userdata at idx if its metatable is `tname`, else null. */
  tohostobject(L: LuaState, idx: number, tname: string): number | null;

  // references
  ref(L: LuaState, t: number): number;
  unref(L: LuaState, t: number, r: number): void;

  // calls and threads
  /** luaL_loadbufferx in mode "bt": pushes the chunk, or an error message */
  loadbuffer(L: LuaState, code: Uint8Array, chunkname: string): number;
  pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
  /** unprotected call: Lua errors propagate to the enclosing protected call */
  call(L: LuaState, nargs: number, nresults: number): void;
  /** raise the value on top of the stack; never returns */
  error(L: LuaState): never;
  newthread(L: LuaState): LuaState;
  /** resume a thread: status and the number of values it yielded or returned */
  resume(L: LuaState, from: LuaState | null, nargs: number): { status: number; nres: number };
  status(L: LuaState): number;
  /**
   * Yield from a host function, with a continuation run on resume. Call it as
   * `return e.yieldk(...)`: an engine may unwind with a throw (wasmoon) or return a marker
   * that the host function must return at once (lua53, which spares a JS throw per yield).
   */
  yieldk(L: LuaState, nresults: number, k: Continuation): never;
  isyieldable(L: LuaState): boolean;
  /** luaL_traceback of L1 pushed on L */
  traceback(L: LuaState, L1: LuaState, msg: string | null, level: number): void;
  /** luaL_tolstring: pushes the string form (honours __tostring/__name) */
  tolstringmeta(L: LuaState, idx: number): Uint8Array;

  /** A count hook on L (and threads created from it afterwards); null removes it. */
  setcounthook(L: LuaState, count: number, fn: ((L: LuaState) => void) | null): void;
  /**
   * lua_sethook on thread L with a mask of LUA_MASK*: the handler is shared by every thread of
   * L's state (one per state); mask 0 or a null handler removes the hook from L.
   */
  sethook(L: LuaState, mask: number, count: number, fn: HookFunction | null): void;
  /**
   * Optional (lua53): the byte budget of L's state; past it an allocation fails as on the
   * device (Lua collects, retries, then raises "not enough memory"). 0 removes the limit.
   */
  setMemoryLimit?(L: LuaState, bytes: number): void;
  /** collectgarbage("count") in KB, or null when the engine has no GC API */
  gcCountKB(L: LuaState): number | null;
  /** full collection (no-op where unsupported) */
  gcCollect(L: LuaState): void;

  /** Whether a thrown JS value is the engine's own non-local exit (error/yield unwind). */
  isUnwind(e: unknown): boolean;

  /**
   * True once the engine trapped (a wasm RuntimeError: out-of-bounds access, abort): its
   * memory can no longer be trusted, so no new state may be created in it. Always false on
   * fengari.
   */
  readonly broken: boolean;
  /** Host functions currently registered (all states), or null when the engine keeps none. */
  hostFunctionCount(): number | null;
}
