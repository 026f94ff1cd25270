/**
 * json: the firmware's lua-cjson behaviour (luatos-api.md §8).
 *
 * encode(value, fmt?) -> string | nil, err
 *   nil -> "" ; integers "%d" ; floats "%.7f" by default (fmt "12f", "7g" or "%.3f" changes it;
 *   anything else -> nil, "invalid float format"); |x| <= DBL_EPSILON -> "0"; NaN/Inf -> error;
 *   empty table -> {} ; arrays when every key is an integer >= 1 (holes -> null; too sparse ->
 *   error); object keys in pairs order; "/" not escaped; bytes >= 0x80 pass through.
 * decode(str) -> value, 1 | nil, false, err
 *   numbers without "." are integers ("1e5" fails), null -> json.null (a light userdata, truthy).
 */
import { LuaEngine, LuaError, LuaState, LUA_TBOOLEAN, LUA_TLIGHTUSERDATA, LUA_TNIL, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE } from '../runtime/core/engine/types';
import type { Vm } from '../runtime/core/vm/vm';
import { formatF, formatG } from './shared/numfmt';

const MAX_DEPTH = 1000;
const DBL_EPSILON = 2.220446049250313e-16;
const TYPE_NAMES = ['nil', 'boolean', 'userdata', 'number', 'string', 'table', 'function', 'userdata', 'thread'];

class EncodeError extends Error {}

interface FloatFormat {
  kind: 'f' | 'g';
  prec: number;
}

function parseFormat(s: string): FloatFormat | null {
  const m = /^%?\.?(\d{1,3})([fg])$/.exec(s);
  if (!m) return null;
  return { kind: m[2] as 'f' | 'g', prec: Number(m[1]) };
}

class Out {
  private parts: Buffer[] = [];
  private str = '';
  push(s: string): void {
    this.str += s;
    if (this.str.length > 4096) this.flushStr();
  }
  bytes(b: Uint8Array): void {
    this.flushStr();
    this.parts.push(Buffer.from(b));
  }
  private flushStr(): void {
    if (this.str) {
      this.parts.push(Buffer.from(this.str, 'latin1'));
      this.str = '';
    }
  }
  result(): Buffer {
    this.flushStr();
    return Buffer.concat(this.parts);
  }
}

const ESC: string[] = [];
for (let i = 0; i < 32; i++) ESC[i] = '\\u' + i.toString(16).padStart(4, '0');
ESC[8] = '\\b';
ESC[9] = '\\t';
ESC[10] = '\\n';
ESC[12] = '\\f';
ESC[13] = '\\r';
ESC[0x22] = '\\"';
ESC[0x5c] = '\\\\';
ESC[0x7f] = '\\u007f';

function encodeString(out: Out, b: Uint8Array): void {
  out.push('"');
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    const esc = c < 32 || c === 0x22 || c === 0x5c || c === 0x7f ? ESC[c] : undefined;
    if (esc) {
      if (i > start) out.bytes(b.subarray(start, i));
      out.push(esc);
      start = i + 1;
    }
  }
  if (start < b.length) out.bytes(b.subarray(start));
  out.push('"');
}

function encodeNumber(e: LuaEngine, L: LuaState, idx: number, fmt: FloatFormat): string {
  if (e.isinteger(L, idx)) {
    e.pushvalue(L, idx);
    const s = e.tostring(L, -1) as string; // exact for 64-bit integers
    e.pop(L, 1);
    return s;
  }
  const x = e.tonumber(L, idx) as number;
  if (!Number.isFinite(x)) throw new EncodeError('Cannot serialise number: must not be NaN or Inf');
  if (Math.abs(x) <= DBL_EPSILON) return '0';
  return fmt.kind === 'f' ? formatF(x, fmt.prec) : formatG(x, fmt.prec);
}

function encode(e: LuaEngine, L: LuaState, idx: number, depth: number, fmt: FloatFormat, out: Out, nullPtr: number): void {
  idx = e.absindex(L, idx);
  const t = e.type(L, idx);
  switch (t) {
    case LUA_TNIL:
      out.push('null');
      return;
    case LUA_TBOOLEAN:
      out.push(e.toboolean(L, idx) ? 'true' : 'false');
      return;
    case LUA_TNUMBER:
      out.push(encodeNumber(e, L, idx, fmt));
      return;
    case LUA_TSTRING:
      encodeString(out, e.tobytes(L, idx) as Uint8Array);
      return;
    case LUA_TLIGHTUSERDATA:
      if (e.topointer(L, idx) === nullPtr) {
        out.push('null');
        return;
      }
      break;
    case LUA_TTABLE:
      encodeTable(e, L, idx, depth + 1, fmt, out, nullPtr);
      return;
  }
  throw new EncodeError(`Cannot serialise ${TYPE_NAMES[t] ?? 'userdata'}: type not supported`);
}

function encodeTable(e: LuaEngine, L: LuaState, idx: number, depth: number, fmt: FloatFormat, out: Out, nullPtr: number): void {
  if (depth > MAX_DEPTH) throw new EncodeError(`Cannot serialise, excessive nesting (${depth})`);
  if (!e.checkstack(L, 4)) throw new EncodeError('Cannot serialise, excessive nesting');
  // array check: every key a number with an integral value >= 1
  let max = 0;
  let items = 0;
  let isArray = true;
  e.pushnil(L);
  while (e.next(L, idx)) {
    if (isArray) {
      const k = e.type(L, -2) === LUA_TNUMBER ? (e.tonumber(L, -2) as number) : NaN;
      if (Number.isInteger(k) && k >= 1) {
        if (k > max) max = k;
        items++;
      } else {
        isArray = false;
      }
    }
    e.pop(L, 1);
  }
  if (isArray && max > items * 2 && max > 10) throw new EncodeError('Cannot serialise table: excessively sparse array');
  if (isArray && max > 0) {
    out.push('[');
    for (let i = 1; i <= max; i++) {
      if (i > 1) out.push(',');
      e.rawgeti(L, idx, i);
      encode(e, L, -1, depth, fmt, out, nullPtr);
      e.pop(L, 1);
    }
    out.push(']');
    return;
  }
  out.push('{');
  let first = true;
  e.pushnil(L);
  while (e.next(L, idx)) {
    if (!first) out.push(',');
    first = false;
    const kt = e.type(L, -2);
    if (kt === LUA_TSTRING) encodeString(out, e.tobytes(L, -2) as Uint8Array);
    else if (kt === LUA_TNUMBER) out.push('"' + encodeNumber(e, L, -2, fmt) + '"');
    else throw new EncodeError(`Cannot serialise ${TYPE_NAMES[kt] ?? 'userdata'}: table key must be a number or string`);
    out.push(':');
    encode(e, L, -1, depth, fmt, out, nullPtr);
    e.pop(L, 1);
  }
  out.push('}');
}

// ------------------------------------------------------------------ decode

class DecodeError extends Error {}

const TOKEN = {
  value: 'value',
};
void TOKEN;

class Decoder {
  private i = 0;
  constructor(
    private readonly e: LuaEngine,
    private readonly L: LuaState,
    private readonly s: Uint8Array,
  ) {}

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
  }

  /** name of the token at the cursor, cjson style */
  private found(): string {
    const c = this.s[this.i];
    if (this.i >= this.s.length) return 'T_END';
    switch (c) {
      case 0x7b:
        return 'T_OBJ_BEGIN';
      case 0x7d:
        return 'T_OBJ_END';
      case 0x5b:
        return 'T_ARR_BEGIN';
      case 0x5d:
        return 'T_ARR_END';
      case 0x22:
        return 'T_STRING';
      case 0x3a:
        return 'T_COLON';
      case 0x2c:
        return 'T_COMMA';
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return 'T_NUMBER';
    if (this.match('true') || this.match('false')) return 'T_BOOLEAN';
    if (this.match('null')) return 'T_NULL';
    return 'invalid token';
  }

  private fail(what: string): never {
    throw new DecodeError(`Expected ${what} but found ${this.found()} at character ${this.i + 1}`);
  }

  private match(word: string): boolean {
    for (let k = 0; k < word.length; k++) if (this.s[this.i + k] !== word.charCodeAt(k)) return false;
    return true;
  }

  run(): void {
    this.ws();
    this.value(0);
    this.ws();
    if (this.i < this.s.length) this.fail('the end');
  }

  private value(depth: number): void {
    const { e, L, s } = this;
    const c = s[this.i];
    if (c === 0x7b) return this.object(depth + 1);
    if (c === 0x5b) return this.array(depth + 1);
    if (c === 0x22) return e.pushbytes(L, this.string());
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.match('true')) {
      this.i += 4;
      return e.pushboolean(L, true);
    }
    if (this.match('false')) {
      this.i += 5;
      return e.pushboolean(L, false);
    }
    if (this.match('null')) {
      this.i += 4;
      return e.pushlightuserdata(L, 0);
    }
    this.fail('value');
  }

  private nest(depth: number): void {
    if (depth > MAX_DEPTH) throw new DecodeError(`Found too many nested data structures (${depth}) at character ${this.i + 1}`);
    if (!this.e.checkstack(this.L, 4)) throw new DecodeError(`Found too many nested data structures (${depth}) at character ${this.i + 1}`);
  }

  private object(depth: number): void {
    this.nest(depth);
    const { e, L, s } = this;
    e.createtable(L, 0, 0);
    this.i++;
    this.ws();
    if (s[this.i] === 0x7d) {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      if (s[this.i] !== 0x22) this.fail('object key string');
      e.pushbytes(L, this.string());
      this.ws();
      if (s[this.i] !== 0x3a) this.fail('colon');
      this.i++;
      this.ws();
      this.value(depth);
      e.rawset(L, -3);
      this.ws();
      if (s[this.i] === 0x7d) {
        this.i++;
        return;
      }
      if (s[this.i] !== 0x2c) this.fail('comma or object end');
      this.i++;
    }
  }

  private array(depth: number): void {
    this.nest(depth);
    const { e, L, s } = this;
    e.createtable(L, 0, 0);
    this.i++;
    this.ws();
    if (s[this.i] === 0x5d) {
      this.i++;
      return;
    }
    for (let n = 1; ; n++) {
      this.ws();
      this.value(depth);
      e.rawseti(L, -2, n);
      this.ws();
      if (s[this.i] === 0x5d) {
        this.i++;
        return;
      }
      if (s[this.i] !== 0x2c) this.fail('comma or array end');
      this.i++;
    }
  }

  private number(): void {
    const s = this.s;
    const start = this.i;
    let j = this.i;
    if (s[j] === 0x2d) j++;
    const digitsStart = j;
    while (j < s.length && s[j] >= 0x30 && s[j] <= 0x39) j++;
    if (j === digitsStart) this.fail('value');
    // leading zeros are rejected (cjson: "01" is invalid)
    if (s[digitsStart] === 0x30 && j - digitsStart > 1) this.fail('value');
    let isFloat = false;
    if (s[j] === 0x2e) {
      isFloat = true;
      j++;
      const f = j;
      while (j < s.length && s[j] >= 0x30 && s[j] <= 0x39) j++;
      if (j === f) this.fail('value');
      if (s[j] === 0x65 || s[j] === 0x45) {
        let k = j + 1;
        if (s[k] === 0x2b || s[k] === 0x2d) k++;
        const ed = k;
        while (k < s.length && s[k] >= 0x30 && s[k] <= 0x39) k++;
        if (k > ed) j = k;
      }
    }
    const text = Buffer.from(s.subarray(start, j)).toString('latin1');
    this.i = j;
    if (isFloat) this.e.pushnumber(this.L, Number(text));
    else {
      const v = BigInt(text);
      const lim = this.e.integerBits === 32 ? 0x7fffffffn : 0x7fffffffffffffffn;
      // strtoll saturates on overflow
      const clamped = v > lim ? lim : v < -lim - 1n ? -lim - 1n : v;
      if (clamped >= BigInt(Number.MIN_SAFE_INTEGER) && clamped <= BigInt(Number.MAX_SAFE_INTEGER)) this.e.pushinteger(this.L, Number(clamped));
      else this.e.pushnumber(this.L, Number(clamped));
    }
  }

  private string(): Buffer {
    const s = this.s;
    const startAt = this.i;
    this.i++;
    const parts: Buffer[] = [];
    let run = this.i;
    for (;;) {
      if (this.i >= s.length) {
        this.i = startAt;
        throw new DecodeError(`Expected object key string but found invalid token at character ${startAt + 1}`);
      }
      const c = s[this.i];
      if (c === 0x22) break;
      if (c === 0x5c) {
        if (this.i > run) parts.push(Buffer.from(s.subarray(run, this.i)));
        const n = s[this.i + 1];
        const simple: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9 };
        if (n in simple) {
          parts.push(Buffer.from([simple[n]]));
          this.i += 2;
        } else if (n === 0x75) {
          let cp = this.hex4(this.i + 2);
          this.i += 6;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (s[this.i] === 0x5c && s[this.i + 1] === 0x75) {
              const lo = this.hex4(this.i + 2);
              if (lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                this.i += 6;
              } else throw new DecodeError(`Expected value but found invalid unicode escape code at character ${this.i + 1}`);
            } else throw new DecodeError(`Expected value but found invalid unicode escape code at character ${this.i + 1}`);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            throw new DecodeError(`Expected value but found invalid unicode escape code at character ${this.i + 1}`);
          }
          parts.push(Buffer.from(String.fromCodePoint(cp), 'utf8'));
        } else {
          throw new DecodeError(`Expected value but found invalid escape code at character ${this.i + 1}`);
        }
        run = this.i;
        continue;
      }
      this.i++;
    }
    if (this.i > run) parts.push(Buffer.from(s.subarray(run, this.i)));
    this.i++;
    return Buffer.concat(parts);
  }

  private hex4(at: number): number {
    const t = Buffer.from(this.s.subarray(at, at + 4)).toString('latin1');
    if (!/^[0-9a-fA-F]{4}$/.test(t)) throw new DecodeError(`Expected value but found invalid unicode escape code at character ${at - 1}`);
    return parseInt(t, 16);
  }
}

export function openJson(vm: Vm): void {
  const { e } = vm;
  vm.defineModule('json', {
    encode: (a) => {
      const L = a.L;
      a.any(1);
      let fmt: FloatFormat = { kind: 'f', prec: 7 };
      if (!a.isNoneOrNil(2)) {
        const f = e.isstring(L, 2) ? parseFormat(e.tostring(L, 2) as string) : null;
        if (!f) {
          e.pushnil(L);
          e.pushstring(L, 'invalid float format');
          return 2;
        }
        fmt = f;
      }
      if (e.type(L, 1) === LUA_TNIL) {
        e.pushstring(L, '');
        return 1;
      }
      const top = e.gettop(L);
      try {
        const out = new Out();
        encode(e, L, 1, 0, fmt, out, 0);
        e.settop(L, top);
        e.pushbytes(L, out.result());
        return 1;
      } catch (err) {
        if (!(err instanceof EncodeError)) throw err;
        e.settop(L, top);
        e.pushnil(L);
        e.pushstring(L, err.message);
        return 2;
      }
    },
    decode: (a) => {
      const L = a.L;
      if (a.count !== 1) throw new LuaError('expected 1 argument');
      const s = a.bytes(1);
      const top = e.gettop(L);
      try {
        new Decoder(e, L, s).run();
        e.pushinteger(L, 1);
        return 2;
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        e.settop(L, top);
        e.pushnil(L);
        e.pushboolean(L, false);
        e.pushstring(L, err.message);
        return 3;
      }
    },
  });
  e.getglobal(vm.L, 'json');
  e.pushlightuserdata(vm.L, 0);
  e.setfield(vm.L, -2, 'null');
  e.pop(vm.L, 1);
}
