/**
 * Moving values between JS and Lua, and checking Lua arguments the way luaL_check* do
 * (same error texts: "bad argument #1 to 'x' (number expected, got nil)").
 */
import {
  LuaEngine,
  LuaError,
  LuaState,
  LUA_TBOOLEAN,
  LUA_TFUNCTION,
  LUA_TNIL,
  LUA_TNONE,
  LUA_TNUMBER,
  LUA_TSTRING,
  LUA_TTABLE,
} from '../engine/types';

/** A float that must stay a float in Lua even when integral (e.g. 2.0). */
export class LuaFloat {
  constructor(readonly value: number) {}
}
/** An explicit nil inside arrays/argument lists. */
export const NIL = Symbol('nil');

export type JsLuaValue =
  | undefined
  | null
  | typeof NIL
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | LuaFloat
  | JsLuaValue[]
  | { [k: string]: JsLuaValue };

/** Push a JS value: integers as Lua integers, Buffers as byte strings, arrays and objects as tables. */
export function pushValue(e: LuaEngine, L: LuaState, v: JsLuaValue, depth = 0): void {
  if (depth > 100) throw new LuaError('value nested too deeply');
  if (v === undefined || v === null || v === NIL) return e.pushnil(L);
  switch (typeof v) {
    case 'boolean':
      return e.pushboolean(L, v);
    case 'number':
      return Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER ? e.pushinteger(L, v) : e.pushnumber(L, v);
    case 'bigint':
      return e.pushinteger(L, Number(v));
    case 'string':
      return e.pushstring(L, v);
  }
  if (v instanceof Uint8Array) return e.pushbytes(L, v);
  if (v instanceof LuaFloat) return e.pushnumber(L, v.value);
  if (Array.isArray(v)) {
    e.createtable(L, v.length, 0);
    for (let i = 0; i < v.length; i++) {
      pushValue(e, L, v[i], depth + 1);
      e.rawseti(L, -2, i + 1);
    }
    return;
  }
  const obj = v as { [k: string]: JsLuaValue };
  const keys = Object.keys(obj);
  e.createtable(L, 0, keys.length);
  for (const k of keys) {
    if (obj[k] === undefined) continue;
    pushValue(e, L, obj[k], depth + 1);
    e.setfield(L, -2, k);
  }
}

/** Push several values, return how many. */
export function pushValues(e: LuaEngine, L: LuaState, vs: JsLuaValue[]): number {
  for (const v of vs) pushValue(e, L, v);
  return vs.length;
}

/** Read a Lua value as JS (tables become objects/arrays; strings become Buffers when binary). */
export function readValue(e: LuaEngine, L: LuaState, idx: number, depth = 0): JsLuaValue {
  const t = e.type(L, idx);
  switch (t) {
    case LUA_TNIL:
    case LUA_TNONE:
      return undefined;
    case LUA_TBOOLEAN:
      return e.toboolean(L, idx);
    case LUA_TNUMBER:
      return e.isinteger(L, idx) ? (e.tointeger(L, idx) as number) : new LuaFloat(e.tonumber(L, idx) as number);
    case LUA_TSTRING:
      return e.tobytes(L, idx) as Uint8Array;
    case LUA_TTABLE: {
      if (depth > 50) return undefined;
      const a = e.absindex(L, idx);
      // prototype-less: table keys (often outside data: decoded JSON) such as `__proto__` stay keys
      const out: { [k: string]: JsLuaValue } = Object.create(null);
      e.pushnil(L);
      while (e.next(L, a)) {
        let key: string;
        if (e.type(L, -2) === LUA_TSTRING) key = e.tostring(L, -2) as string;
        else if (e.type(L, -2) === LUA_TNUMBER) {
          e.pushvalue(L, -2);
          key = e.tostring(L, -1) as string;
          e.pop(L, 1);
        } else {
          e.pop(L, 1);
          continue;
        }
        out[key] = readValue(e, L, -1, depth + 1);
        e.pop(L, 1);
      }
      return out;
    }
    default:
      return undefined;
  }
}

const TYPE_NAMES = ['nil', 'boolean', 'userdata', 'number', 'string', 'table', 'function', 'userdata', 'thread'];

/** Argument checking bound to one function name, with luaL-style messages. */
export class Args {
  constructor(
    readonly e: LuaEngine,
    readonly L: LuaState,
    readonly fname: string,
  ) {}

  get count(): number {
    return this.e.gettop(this.L);
  }

  typeName(i: number): string {
    const t = this.e.type(this.L, i);
    return t === LUA_TNONE ? 'no value' : TYPE_NAMES[t] ?? 'userdata';
  }

  argError(i: number, msg: string): never {
    throw new LuaError(`bad argument #${i} to '${this.fname}' (${msg})`);
  }

  typeError(i: number, expected: string): never {
    return this.argError(i, `${expected} expected, got ${this.typeName(i)}`);
  }

  isNoneOrNil(i: number): boolean {
    const t = this.e.type(this.L, i);
    return t === LUA_TNONE || t === LUA_TNIL;
  }

  type(i: number): number {
    return this.e.type(this.L, i);
  }

  integer(i: number): number {
    const v = this.e.tointeger(this.L, i);
    if (v === null) {
      if (this.e.isnumber(this.L, i)) this.argError(i, 'number has no integer representation');
      this.typeError(i, 'number');
    }
    return v;
  }

  optInteger(i: number, def: number): number {
    return this.isNoneOrNil(i) ? def : this.integer(i);
  }

  number(i: number): number {
    const v = this.e.tonumber(this.L, i);
    if (v === null) this.typeError(i, 'number');
    return v;
  }

  optNumber(i: number, def: number): number {
    return this.isNoneOrNil(i) ? def : this.number(i);
  }

  bytes(i: number): Uint8Array {
    if (!this.e.isstring(this.L, i)) this.typeError(i, 'string');
    return this.e.tobytes(this.L, i) as Uint8Array;
  }

  string(i: number): string {
    if (!this.e.isstring(this.L, i)) this.typeError(i, 'string');
    return this.e.tostring(this.L, i) as string;
  }

  optString(i: number, def: string): string;
  optString(i: number, def: null): string | null;
  optString(i: number, def: string | null): string | null {
    return this.isNoneOrNil(i) ? def : this.string(i);
  }

  optBytes(i: number): Uint8Array | null {
    return this.isNoneOrNil(i) ? null : this.bytes(i);
  }

  boolean(i: number): boolean {
    return this.e.toboolean(this.L, i);
  }

  table(i: number): void {
    if (this.e.type(this.L, i) !== LUA_TTABLE) this.typeError(i, 'table');
  }

  func(i: number): void {
    if (this.e.type(this.L, i) !== LUA_TFUNCTION) this.typeError(i, 'function');
  }

  any(i: number): void {
    if (this.e.type(this.L, i) === LUA_TNONE) this.argError(i, 'value expected');
  }

  /** a field of the table at i, as integer or default */
  fieldInteger(i: number, k: string, def: number): number {
    this.e.getfield(this.L, i, k);
    const v = this.e.tointeger(this.L, -1);
    this.e.pop(this.L, 1);
    return v === null ? def : v;
  }

  fieldString(i: number, k: string): string | null {
    this.e.getfield(this.L, i, k);
    const v = this.e.isstring(this.L, -1) ? this.e.tostring(this.L, -1) : null;
    this.e.pop(this.L, 1);
    return v;
  }

  fieldBoolean(i: number, k: string): boolean | null {
    const t = this.e.getfield(this.L, i, k);
    const v = t === LUA_TNIL ? null : this.e.toboolean(this.L, -1);
    this.e.pop(this.L, 1);
    return v;
  }
}
