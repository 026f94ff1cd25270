/**
 * protobuf (components/serialization/protobuf/luat_lib_protobuf.c, which is lua-protobuf),
 * luatos-api-2.md §19, on protobufjs:
 * - `load(desc)`: a binary FileDescriptorSet (`protoc -o x.pb`) → `(true, #desc)`, or
 *   `(false, 0)` when it does not parse (lua-protobuf gives the failing position; protobufjs
 *   does not, so 0 — a deviation). Loads accumulate; `clear()` forgets every type.
 * - `encode(type, tbl)` → bytes; `decode(type, bytes)` → table. Type names as in the .proto
 *   ("pkg.Msg"; a leading "." is accepted). An unknown type raises
 *   "bad argument #1 to 'encode' (type 'X' does not exists)" (lua-protobuf's text); bad input to
 *   decode raises "invalid message at offset N" (wording **unsure**; the firmware says
 *   "invalid … at offset N").
 * - lua-protobuf's default options: enums decode to their names (numbers accepted on encode),
 *   64-bit integers to numbers, float/double fields stay Lua floats, proto2 scalar and enum
 *   fields that are absent get their default values, proto3 ones do not (**unsure**, as the
 *   facts say). Fields of a Lua table that the type does not have are ignored.
 * State lives per VM (one set of loaded types per boot), nothing module-global.
 */
import * as protobuf from 'protobufjs';
import * as descriptor from 'protobufjs/ext/descriptor';
import { LuaError } from '../runtime/core/engine/types';
import { JsLuaValue, LuaFloat, pushValue, readValue } from '../runtime/core/vm/lua-value';
import type { Vm } from '../runtime/core/vm/vm';

type Dict = { [k: string]: JsLuaValue };

const FLOAT_TYPES = new Set(['float', 'double']);
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

export class ProtoState {
  private roots: protobuf.Root[] = [];
  /** full name (".pkg.Msg") → "proto2" | "proto3" */
  private syntax = new Map<string, string>();

  load(desc: Uint8Array): boolean {
    let set: descriptor.IFileDescriptorSet;
    let root: protobuf.Root;
    try {
      set = descriptor.FileDescriptorSet.decode(desc) as unknown as descriptor.IFileDescriptorSet;
      root = protobuf.Root.fromDescriptor(set as never, { keepCase: true });
      root.resolveAll();
    } catch {
      return false;
    }
    for (const f of set.file ?? []) {
      const syn = f.syntax === 'proto3' ? 'proto3' : 'proto2';
      const walk = (prefix: string, msgs: descriptor.IDescriptorProto[] | null | undefined) => {
        for (const m of msgs ?? []) {
          const full = `${prefix}.${m.name}`;
          this.syntax.set(full, syn);
          walk(full, m.nestedType);
        }
      };
      walk(f.package ? `.${f.package}` : '', f.messageType);
    }
    this.roots.unshift(root);
    return true;
  }

  clear(): void {
    this.roots = [];
    this.syntax.clear();
  }

  find(name: string): protobuf.Type | null {
    const full = name.startsWith('.') ? name : '.' + name;
    for (const r of this.roots) {
      const t = r.lookup(full);
      if (t instanceof protobuf.Type) return t;
    }
    return null;
  }

  isProto2(t: protobuf.Type): boolean {
    return (this.syntax.get(t.fullName) ?? 'proto2') === 'proto2';
  }
}

function text(v: JsLuaValue): string | null {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return null;
}

function num(v: JsLuaValue): number | null {
  if (typeof v === 'number') return v;
  if (v instanceof LuaFloat) return v.value;
  if (v instanceof Uint8Array) {
    const n = Number(Buffer.from(v).toString('latin1'));
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

const kindName = (v: JsLuaValue): string =>
  v instanceof Uint8Array ? 'string' : v instanceof LuaFloat ? 'number' : v === undefined ? 'nil' : typeof v === 'object' ? 'table' : typeof v;

/** One scalar/enum/message value from Lua into a protobufjs plain value. */
function fromLuaScalar(field: protobuf.Field, type: string, resolved: protobuf.ReflectionObject | null, v: JsLuaValue, depth: number): unknown {
  if (resolved instanceof protobuf.Type) {
    if (typeof v !== 'object' || v === null || v instanceof Uint8Array || v instanceof LuaFloat || Array.isArray(v)) {
      throw new LuaError(`table expected at field '${field.name}', got ${kindName(v)}`);
    }
    return fromLua(resolved, v as Dict, depth + 1);
  }
  if (resolved instanceof protobuf.Enum) {
    const s = text(v);
    if (s !== null) {
      if (!(s in resolved.values)) throw new LuaError(`can not encode unknown enum '${s}' at field '${field.name}'`);
      return resolved.values[s];
    }
    const n = num(v);
    if (n === null) throw new LuaError(`number/string expected at field '${field.name}', got ${kindName(v)}`);
    return Math.trunc(n);
  }
  if (type === 'string') {
    const s = text(v);
    if (s === null) throw new LuaError(`string expected at field '${field.name}', got ${kindName(v)}`);
    return s;
  }
  if (type === 'bytes') {
    if (!(v instanceof Uint8Array)) throw new LuaError(`string expected at field '${field.name}', got ${kindName(v)}`);
    return Buffer.from(v);
  }
  if (type === 'bool') return v !== false && v !== undefined;
  const n = num(v);
  if (n === null) throw new LuaError(`number expected at field '${field.name}', got ${kindName(v)}`);
  if (FLOAT_TYPES.has(type)) return n;
  if (!Number.isInteger(n)) throw new LuaError(`integer format error at field '${field.name}'`);
  return n;
}

/** A Lua table (as read by readValue) into a protobufjs plain object for `type`. */
function fromLua(type: protobuf.Type, t: Dict, depth = 0): Record<string, unknown> {
  if (depth > 100) throw new LuaError('message nested too deeply');
  const out: Record<string, unknown> = Object.create(null);
  for (const field of type.fieldsArray) {
    const v = t[field.name];
    if (v === undefined) continue;
    const resolved = field.resolvedType;
    if (field.map) {
      if (typeof v !== 'object' || v === null || v instanceof Uint8Array || v instanceof LuaFloat) {
        throw new LuaError(`table expected at field '${field.name}', got ${kindName(v)}`);
      }
      const m: Record<string, unknown> = Object.create(null);
      for (const [k, mv] of Object.entries(v as Dict)) m[k] = fromLuaScalar(field, field.type, resolved, mv, depth);
      out[field.name] = m;
    } else if (field.repeated) {
      if (typeof v !== 'object' || v === null || v instanceof Uint8Array || v instanceof LuaFloat) {
        throw new LuaError(`table expected at field '${field.name}', got ${kindName(v)}`);
      }
      const list: unknown[] = [];
      const d = v as Dict;
      for (let i = 1; d[String(i)] !== undefined; i++) list.push(fromLuaScalar(field, field.type, resolved, d[String(i)], depth));
      out[field.name] = list;
    } else {
      out[field.name] = fromLuaScalar(field, field.type, resolved, v, depth);
    }
  }
  return out;
}

function toLuaScalar(field: protobuf.Field, type: string, resolved: protobuf.ReflectionObject | null, v: unknown, st: ProtoState, depth: number): JsLuaValue {
  if (resolved instanceof protobuf.Type) return toLua(resolved, v as protobuf.Message, st, depth + 1);
  if (resolved instanceof protobuf.Enum) return typeof v === 'number' ? resolved.valuesById[v] ?? v : (v as string);
  if (type === 'bytes') return Buffer.from(v as Uint8Array);
  if (type === 'string') return v as string;
  if (type === 'bool') return Boolean(v);
  if (LONG_TYPES.has(type)) {
    const n = typeof v === 'number' ? v : protobuf.util.LongBits.from(v as protobuf.Long).toNumber(type.startsWith('u') || type === 'fixed64');
    return n;
  }
  if (FLOAT_TYPES.has(type)) return new LuaFloat(v as number);
  return v as number;
}

/** A decoded protobufjs message into Lua-ready values (objects without a JS prototype). */
function toLua(type: protobuf.Type, msg: protobuf.Message, st: ProtoState, depth = 0): Dict {
  if (depth > 100) throw new LuaError('message nested too deeply');
  const m = msg as unknown as Record<string, unknown>;
  const out: Dict = Object.create(null);
  for (const field of type.fieldsArray) {
    const present = Object.prototype.hasOwnProperty.call(m, field.name);
    const v = m[field.name];
    const resolved = field.resolvedType;
    if (field.map) {
      if (!present || !v || Object.keys(v).length === 0) continue;
      const d: Dict = Object.create(null);
      for (const [k, mv] of Object.entries(v as Record<string, unknown>)) d[k] = toLuaScalar(field, field.type, resolved, mv, st, depth);
      out[field.name] = d;
    } else if (field.repeated) {
      if (!present || !Array.isArray(v) || v.length === 0) continue;
      out[field.name] = v.map((x) => toLuaScalar(field, field.type, resolved, x, st, depth));
    } else if (present && v !== null && v !== undefined) {
      out[field.name] = toLuaScalar(field, field.type, resolved, v, st, depth);
    } else if (st.isProto2(type) && !(resolved instanceof protobuf.Type)) {
      const def = field.defaultValue;
      if (def !== undefined && def !== null) out[field.name] = toLuaScalar(field, field.type, resolved, def, st, depth);
    }
  }
  return out;
}

export function openProtobuf(vm: Vm): void {
  const { e } = vm;
  const st = new ProtoState();
  const typeOf = (fname: string, name: string): protobuf.Type => {
    const t = st.find(name);
    if (!t) throw new LuaError(`bad argument #1 to '${fname}' (type '${name}' does not exists)`);
    return t;
  };
  vm.defineModule('protobuf', {
    load: (a) => {
      const desc = a.bytes(1);
      const ok = st.load(desc);
      e.pushboolean(a.L, ok);
      e.pushinteger(a.L, ok ? desc.length : 0);
      return 2;
    },
    clear: () => {
      st.clear();
      return 0;
    },
    encode: (a) => {
      const t = typeOf('encode', a.string(1));
      a.table(2);
      const plain = fromLua(t, (readValue(e, a.L, 2) ?? Object.create(null)) as Dict);
      const err = t.verify(plain);
      if (err) throw new LuaError(err);
      e.pushbytes(a.L, t.encode(t.fromObject(plain)).finish());
      return 1;
    },
    decode: (a) => {
      const t = typeOf('decode', a.string(1));
      const data = a.bytes(2);
      let msg: protobuf.Message;
      try {
        msg = t.decode(data);
      } catch (err) {
        const m = /index out of range: (\d+)/.exec((err as Error).message);
        throw new LuaError(`invalid message at offset ${m ? m[1] : 0}`);
      }
      pushValue(e, a.L, toLua(t, msg, st));
      return 1;
    },
  });
}
