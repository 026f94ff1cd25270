/**
 * AMF0 encoder and decoder (the subset RTMP commands and onMetaData use, plus the rest of the
 * markers a hostile or unusual server might send).
 *
 * JS mapping:
 *   number <-> Number (0x00)          boolean <-> Boolean (0x01)
 *   string <-> String (0x02) / Long String (0x0C, chosen automatically above 65535 UTF-8 bytes)
 *   plain object <-> Object (0x03)    Amf0EcmaArray <-> ECMA Array (0x08)
 *   Array <-> Strict Array (0x0A)     Date <-> Date (0x0B, time zone written as 0)
 *   null <-> Null (0x05)              undefined <-> Undefined (0x06)
 * Decoding also accepts Unsupported (0x0D → undefined), XML Document (0x0F → string) and Typed
 * Object (0x10 → object); References (0x07), MovieClip/RecordSet (0x04/0x0E) and AVM+ (0x11) are
 * rejected. The decoder never reads past the buffer, bounds nesting depth and the number of values,
 * and throws Amf0DecodeError on any malformed input.
 */
import { Amf0DecodeError } from './errors';

export const AMF0 = {
  NUMBER: 0x00,
  BOOLEAN: 0x01,
  STRING: 0x02,
  OBJECT: 0x03,
  MOVIECLIP: 0x04,
  NULL: 0x05,
  UNDEFINED: 0x06,
  REFERENCE: 0x07,
  ECMA_ARRAY: 0x08,
  OBJECT_END: 0x09,
  STRICT_ARRAY: 0x0a,
  DATE: 0x0b,
  LONG_STRING: 0x0c,
  UNSUPPORTED: 0x0d,
  RECORDSET: 0x0e,
  XML_DOCUMENT: 0x0f,
  TYPED_OBJECT: 0x10,
  AVMPLUS: 0x11,
} as const;

export type Amf0Value =
  | number
  | boolean
  | string
  | null
  | undefined
  | Date
  | Amf0Value[]
  | Amf0EcmaArray
  | Amf0Object;
export interface Amf0Object {
  [key: string]: Amf0Value;
}

/** An ECMA (associative) array: encoded with marker 0x08 instead of 0x03. */
export class Amf0EcmaArray {
  readonly props: Amf0Object;
  constructor(props: Amf0Object = {}) {
    this.props = props;
  }
}

// ------------------------------------------------------------------------------------------ encode

class ByteSink {
  private parts: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u8(v: number): void {
    this.push(Buffer.from([v & 0xff]));
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

function writeKey(sink: ByteSink, key: string): void {
  const k = Buffer.from(key, 'utf8');
  if (k.length > 0xffff) throw new RangeError(`AMF0 property name too long (${k.length} bytes)`);
  const h = Buffer.alloc(2);
  h.writeUInt16BE(k.length, 0);
  sink.push(h);
  sink.push(k);
}

function writeProps(sink: ByteSink, obj: Amf0Object, depth: number): void {
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (typeof v === 'function' || typeof v === 'symbol') continue;
    writeKey(sink, key);
    writeValue(sink, v, depth + 1);
  }
  sink.push(Buffer.from([0x00, 0x00, AMF0.OBJECT_END]));
}

function writeValue(sink: ByteSink, v: Amf0Value, depth: number): void {
  if (depth > 64) throw new RangeError('AMF0 value nested too deeply (or cyclic)');
  if (v === null) return sink.u8(AMF0.NULL);
  if (v === undefined) return sink.u8(AMF0.UNDEFINED);
  switch (typeof v) {
    case 'number': {
      const b = Buffer.alloc(9);
      b[0] = AMF0.NUMBER;
      b.writeDoubleBE(v, 1);
      return sink.push(b);
    }
    case 'boolean':
      return sink.push(Buffer.from([AMF0.BOOLEAN, v ? 1 : 0]));
    case 'string': {
      const s = Buffer.from(v, 'utf8');
      if (s.length <= 0xffff) {
        const h = Buffer.alloc(3);
        h[0] = AMF0.STRING;
        h.writeUInt16BE(s.length, 1);
        sink.push(h);
      } else {
        const h = Buffer.alloc(5);
        h[0] = AMF0.LONG_STRING;
        h.writeUInt32BE(s.length, 1);
        sink.push(h);
      }
      return sink.push(s);
    }
    default:
      break;
  }
  if (v instanceof Date) {
    const b = Buffer.alloc(11);
    b[0] = AMF0.DATE;
    b.writeDoubleBE(v.getTime(), 1);
    b.writeInt16BE(0, 9);
    return sink.push(b);
  }
  if (Array.isArray(v)) {
    const h = Buffer.alloc(5);
    h[0] = AMF0.STRICT_ARRAY;
    h.writeUInt32BE(v.length, 1);
    sink.push(h);
    for (const item of v) writeValue(sink, item, depth + 1);
    return;
  }
  if (v instanceof Amf0EcmaArray) {
    const h = Buffer.alloc(5);
    h[0] = AMF0.ECMA_ARRAY;
    h.writeUInt32BE(Object.keys(v.props).length, 1);
    sink.push(h);
    return writeProps(sink, v.props, depth);
  }
  if (typeof v === 'object') {
    sink.u8(AMF0.OBJECT);
    return writeProps(sink, v as Amf0Object, depth);
  }
  throw new TypeError(`cannot encode ${typeof v} as AMF0`);
}

/** Encode values back to back (e.g. a command: name, transaction id, command object, args...). */
export function encodeAmf0(...values: Amf0Value[]): Buffer {
  const sink = new ByteSink();
  for (const v of values) writeValue(sink, v, 0);
  return sink.toBuffer();
}

// ------------------------------------------------------------------------------------------ decode

export interface Amf0DecodeOptions {
  /** maximum nesting of objects/arrays (default 32) */
  maxDepth?: number;
  /** maximum total number of values including nested ones (default 100 000) */
  maxValues?: number;
}

class Reader {
  pos = 0;
  values = 0;
  constructor(
    readonly buf: Buffer,
    readonly maxDepth: number,
    readonly maxValues: number,
  ) {}
  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new Amf0DecodeError(`truncated AMF0 ${what} at offset ${this.pos} (need ${n} bytes, ${this.buf.length - this.pos} left)`);
    }
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  f64(what: string): number {
    this.need(8, what);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }
  utf8(len: number, what: string): string {
    this.need(len, what);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
}

function setProp(obj: Amf0Object, key: string, value: Amf0Value): void {
  // the object has no prototype, and defineProperty: a key named "__proto__" is a plain key
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Reads `key value` pairs until the empty key + object-end marker. */
function readProps(r: Reader, depth: number, declared: number | undefined): Amf0Object {
  // server data: no prototype, so `constructor`, `toString`, `__proto__` are only its own keys
  const obj: Amf0Object = Object.create(null);
  let n = 0;
  for (;;) {
    if (declared !== undefined && n >= declared && r.pos === r.buf.length) return obj; // lenient: ECMA array without end marker
    const klen = r.u16('property name length');
    if (klen === 0) {
      const m = r.u8('object end marker');
      if (m === AMF0.OBJECT_END) return obj;
      // an empty key followed by a value is legal (rare): decode it
      r.pos -= 1;
      setProp(obj, '', readValue(r, depth + 1));
    } else {
      const key = r.utf8(klen, 'property name');
      setProp(obj, key, readValue(r, depth + 1));
    }
    n++;
  }
}

function readValue(r: Reader, depth: number): Amf0Value {
  if (depth > r.maxDepth) throw new Amf0DecodeError(`AMF0 nesting deeper than ${r.maxDepth}`);
  if (++r.values > r.maxValues) throw new Amf0DecodeError(`more than ${r.maxValues} AMF0 values`);
  const at = r.pos;
  const marker = r.u8('type marker');
  switch (marker) {
    case AMF0.NUMBER:
      return r.f64('number');
    case AMF0.BOOLEAN:
      return r.u8('boolean') !== 0;
    case AMF0.STRING:
      return r.utf8(r.u16('string length'), 'string');
    case AMF0.LONG_STRING:
    case AMF0.XML_DOCUMENT: {
      const len = r.u32('long string length');
      return r.utf8(len, 'long string');
    }
    case AMF0.OBJECT:
      return readProps(r, depth, undefined);
    case AMF0.TYPED_OBJECT: {
      r.utf8(r.u16('class name length'), 'class name');
      return readProps(r, depth, undefined);
    }
    case AMF0.ECMA_ARRAY: {
      const count = r.u32('ECMA array count');
      return new Amf0EcmaArray(readProps(r, depth, count));
    }
    case AMF0.STRICT_ARRAY: {
      const count = r.u32('strict array count');
      // every element takes at least one byte: reject absurd counts before allocating
      if (count > r.buf.length - r.pos) {
        throw new Amf0DecodeError(`strict array count ${count} exceeds the ${r.buf.length - r.pos} bytes left`);
      }
      const arr: Amf0Value[] = [];
      for (let i = 0; i < count; i++) arr.push(readValue(r, depth + 1));
      return arr;
    }
    case AMF0.DATE: {
      const ms = r.f64('date');
      r.u16('date time zone');
      return new Date(ms);
    }
    case AMF0.NULL:
      return null;
    case AMF0.UNDEFINED:
    case AMF0.UNSUPPORTED:
      return undefined;
    case AMF0.OBJECT_END:
      throw new Amf0DecodeError(`unexpected AMF0 object-end marker at offset ${at}`);
    case AMF0.REFERENCE:
      throw new Amf0DecodeError(`AMF0 references are not supported (offset ${at})`);
    default:
      throw new Amf0DecodeError(`unsupported AMF0 type marker 0x${marker.toString(16).padStart(2, '0')} at offset ${at}`);
  }
}

/** Decode every value in `buf` (a whole command or data message body). */
export function decodeAmf0(buf: Buffer, opts: Amf0DecodeOptions = {}): Amf0Value[] {
  const r = new Reader(buf, opts.maxDepth ?? 32, opts.maxValues ?? 100_000);
  const out: Amf0Value[] = [];
  while (r.pos < buf.length) out.push(readValue(r, 0));
  return out;
}

/** Decode one value at `offset`; returns the value and the offset after it. */
export function decodeAmf0Value(buf: Buffer, offset = 0, opts: Amf0DecodeOptions = {}): { value: Amf0Value; end: number } {
  const r = new Reader(buf, opts.maxDepth ?? 32, opts.maxValues ?? 100_000);
  r.pos = offset;
  const value = readValue(r, 0);
  return { value, end: r.pos };
}
