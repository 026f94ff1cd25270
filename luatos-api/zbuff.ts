/**
 * zbuff: a C memory block (luat_lib_zbuff.c), here a Node Buffer behind a "ZBUFF*" userdata.
 * The state is luatos-api/shared/zbuff.ts (`getZbuff` lets other bindings read and fill a zbuff).
 *
 * Behaviour follows the firmware source:
 * - `zbuff.create(len, fill?, memtype?)` → zbuff, or nil when len <= 0; `fill` an integer byte
 *   (all bytes), or a string (copied to the start, cursor moved after it). A table
 *   `{width, height, bit}` makes a framebuffer (bit 1/4/8/16/24/32, fill = colour). A single
 *   allocation above the profile's PSRAM size fails like the device: `nil, "memory not enough"`.
 *   len >= 64 KiB logs "create large size: N kbyte, trigger force GC" (I/zbuff) and runs a GC.
 * - ONE position: cursor and used are the same field in the firmware (a C union), so
 *   `seek`, `read`, `write`, `pack`, `unpack`, `copy`, `del` and `used(n)` move the same number.
 * - `write(s)` / `write(b1, b2, ...)` → bytes written (truncated at the end of the buffer);
 *   `read(n=1)` → string (shorter at the end); `seek(off, whence=SEEK_SET)` clamps to
 *   [0, len] and returns the position (unknown whence → no value).
 * - `pack(fmt, ...)` / `unpack(fmt)`: lpack letters A (string; `A10` in unpack = one 10-byte
 *   string) f d n (n = 8-byte double here) c b h H i I l L, `<` `>` `=` (default little endian),
 *   repeat counts, spaces/commas ignored, anything else → "bad code `X'". `unpack` returns the
 *   bytes consumed then the values, and stops quietly when data runs out.
 * - `readI8/U8/I16/U16/I32/U32/I64/U64/F32/F64` (little endian; nil when too few bytes) and the
 *   matching `write*` (→ bytes written, 0 when no room).
 * - `toStr(off=0, len=len())` ignores the cursor; `query(off=0, len=used, bigEndian?, signed?,
 *   float?)` works on [0, used) and converts 1/2/4/8-byte fields when `bigEndian` is a boolean
 *   (4-byte integers are always signed, floats are read in native order, as in the firmware).
 * - `len()`/`#buff`, `used(n?)`, `clear(b=0)`, `set(start, b, len)`, `copy(start, ...)` (grows
 *   the buffer), `del(off, len)`, `resize(n)`/`reSize`, `isEqual(...)`, `toBase64(dst)`,
 *   `free()`, `buff[i]` get/set (0-based, out of range → nil / ignored), `get(i)`,
 *   `setFrameBuffer`, `pixel`.
 * - Left out: drawLine/drawRect/drawCircle (LCD helpers).
 * - Out-of-range cases that are undefined behaviour in C are clamped here (documented at
 *   each place). On fengari there is no `__gc`: buffers are released when the VM ends.
 * - Growth is bounded like the device's heap: no zbuff grows past the size `zbuff.create`
 *   accepts (the largest of the profile's PSRAM/SRAM sizes). Unsure in the firmware source
 *   (the realloc result handling of `copy`), chosen here: a `copy` that would need a larger
 *   buffer copies nothing and returns 0 (integer lists stop at the first byte that does not
 *   fit), and `resize(n)` over the limit leaves the buffer unchanged. No JS error text ever
 *   reaches the script: a failed JS allocation reads "not enough memory".
 */
import { LuaError, LUA_TBOOLEAN, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, LUA_TUSERDATA } from '../runtime/core/engine/types';
import type { Args } from '../runtime/core/vm/lua-value';
import type { Vm } from '../runtime/core/vm/vm';
import {
  asMethod,
  checkInt64,
  getZbuff,
  pushInt64,
  pushZbuff,
  saveStdlib,
  ZbuffState,
  ZBUFF_TYPE,
} from './shared/zbuff';
import { base64Encode } from './stringx';

export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;

const TYPE_SIZES: Record<string, number> = { I8: 1, U8: 1, I16: 2, U16: 2, I32: 4, U32: 4, I64: 8, U64: 8, F32: 4, F64: 8 };

/** Encode an integer of `size` bytes, little endian, wrapping like a C cast. */
function intBytes(v: bigint, size: number): Buffer {
  const b = Buffer.alloc(size);
  const u = BigInt.asUintN(size * 8, v);
  for (let k = 0; k < size; k++) b[k] = Number((u >> BigInt(8 * k)) & 0xffn);
  return b;
}

function bytesToBig(b: Buffer, signed: boolean): bigint {
  let u = 0n;
  for (let k = b.length - 1; k >= 0; k--) u = (u << 8n) | BigInt(b[k]);
  return signed ? BigInt.asIntN(b.length * 8, u) : u;
}

const FB_BITS = new Set([1, 4, 8, 16, 24, 32]);

function setPoint(z: ZbuffState, point: number, color: number): void {
  const a = z.data;
  const c = color >>> 0;
  switch (z.bit) {
    case 1: {
      const i = point >> 3;
      if (i >= a.length) return;
      if (c % 2) a[i] |= 1 << (7 - (point % 8));
      else a[i] &= ~(1 << (7 - (point % 8)));
      return;
    }
    case 4: {
      const i = point >> 1;
      if (i >= a.length) return;
      a[i] &= point % 2 ? 0xf0 : 0x0f;
      a[i] |= point % 2 ? c & 0x0f : (c * 0x10) & 0xf0;
      return;
    }
    case 8:
      if (point < a.length) a[point] = c & 0xff;
      return;
    case 16:
      if (point * 2 + 1 < a.length) {
        a[point * 2] = (c >> 8) & 0xff;
        a[point * 2 + 1] = c & 0xff;
      }
      return;
    case 24:
      if (point * 3 + 2 < a.length) {
        a[point * 3] = (c >> 16) & 0xff;
        a[point * 3 + 1] = (c >> 8) & 0xff;
        a[point * 3 + 2] = c & 0xff;
      }
      return;
    case 32:
      // the firmware indexes 32-bit pixels by byte offset `point` (sic)
      if (point + 3 < a.length) a.writeUInt32BE(c, point);
      return;
  }
}

function getPoint(z: ZbuffState, point: number): number {
  const a = z.data;
  const at = (i: number) => (i < a.length ? a[i] : 0);
  switch (z.bit) {
    case 1:
      return (at(point >> 3) >> (7 - (point % 8))) & 1;
    case 4:
      return (at(point >> 1) >> (point % 2 ? 0 : 4)) & 0x0f;
    case 8:
      return at(point);
    case 16:
      return at(point * 2) * 0x100 + at(point * 2 + 1);
    case 24:
      return at(point * 3) * 0x10000 + at(point * 3 + 1) * 0x100 + at(point * 3 + 2);
    case 32:
      return at(point) * 0x1000000 + at(point + 1) * 0x10000 + at(point + 2) * 0x100 + at(point + 3);
  }
  return 0;
}

export function openZbuff(vm: Vm): void {
  const { e, L } = vm;
  saveStdlib(vm, ['tonumber', 'debug.getinfo']);

  const self = (a: Args): ZbuffState => {
    const z = getZbuff(vm, a.L, 1);
    if (!z) a.typeError(1, ZBUFF_TYPE);
    return z;
  };
  const isInt = (a: Args, i: number) => e.isinteger(a.L, i);
  /** copy's growth (len + need, as the firmware); the exact need when that is over the limit */
  const grow = (z: ZbuffState, need: number): boolean => z.resize(z.len + need) || z.resize(need);
  const push = (a: Args, v: number) => e.pushinteger(a.L, v);

  /** add_bytes: copy at the cursor, truncated at the end; returns bytes written */
  const addBytes = (z: ZbuffState, b: Uint8Array): number => {
    const n = Math.min(b.length, z.len - z.used);
    if (n <= 0) return 0;
    z.data.set(b.subarray(0, n), z.used);
    z.used += n;
    return n;
  };

  const indexGet = (a: Args): number => {
    const z = self(a);
    const o = a.integer(2);
    // negative offsets are out of bounds (undefined in C): nil
    if (o >= z.len || o < 0) return 0;
    push(a, z.data[o]);
    return 1;
  };

  const methods: Record<string, (a: Args) => number | void> = {
    write: (a) => {
      const z = self(a);
      if (isInt(a, 2)) {
        let n = 0;
        while (isInt(a, 2 + n) && z.used < z.len) {
          z.data[z.used++] = a.integer(2 + n) & 0xff;
          n++;
        }
        push(a, n);
        return 1;
      }
      const s = a.bytes(2);
      push(a, addBytes(z, s));
      return 1;
    },
    read: (a) => {
      const z = self(a);
      let n = a.optInteger(2, 1);
      if (n > z.len - z.used) n = z.len - z.used;
      if (n <= 0) {
        e.pushbytes(a.L, Buffer.alloc(0));
        return 1;
      }
      e.pushbytes(a.L, z.data.subarray(z.used, z.used + n));
      z.used += n;
      return 1;
    },
    clear: (a) => {
      const z = self(a);
      z.data.fill(a.optInteger(2, 0) & 0xff);
      return 0;
    },
    seek: (a) => {
      const z = self(a);
      let off = a.integer(2);
      const whence = a.optInteger(3, SEEK_SET);
      if (whence === SEEK_CUR) off += z.used;
      else if (whence === SEEK_END) off += z.len;
      else if (whence !== SEEK_SET) return 0;
      z.used = Math.min(Math.max(off, 0), z.len);
      push(a, z.used);
      return 1;
    },
    pack: (a) => {
      const z = self(a);
      const f = Buffer.from(a.bytes(2));
      let i = 3;
      let swap = false;
      let written = 0;
      let p = 0;
      const num = (size: number, conv: (x: number) => Buffer) => {
        const b = conv(a.number(i++));
        if (swap) b.reverse();
        written += addBytes(z, b.subarray(0, size));
      };
      const int = (size: number) => {
        const b = intBytes(checkInt64(a, i++), size);
        if (swap) b.reverse();
        written += addBytes(z, b);
      };
      while (p < f.length) {
        if (z.used === z.len) break;
        const c = String.fromCharCode(f[p++]);
        let N = 1;
        if (f[p] >= 0x30 && f[p] <= 0x39) {
          N = 0;
          while (f[p] >= 0x30 && f[p] <= 0x39) N = 10 * N + f[p++] - 0x30;
        }
        while (N-- > 0) {
          if (z.used === z.len) break;
          switch (c) {
            case '<':
            case '=':
              swap = false;
              N = 0;
              break;
            case '>':
              swap = true;
              N = 0;
              break;
            case 'A':
              written += addBytes(z, a.bytes(i++));
              break;
            case 'n':
            case 'd':
              num(8, (x) => {
                const b = Buffer.alloc(8);
                b.writeDoubleLE(x);
                return b;
              });
              break;
            case 'f':
              num(4, (x) => {
                const b = Buffer.alloc(4);
                b.writeFloatLE(x);
                return b;
              });
              break;
            case 'c':
            case 'b':
              int(1);
              break;
            case 'h':
            case 'H':
              int(2);
              break;
            case 'i':
            case 'I':
              int(4);
              break;
            case 'l':
            case 'L':
              int(8);
              break;
            case ' ':
            case ',':
              break;
            default:
              a.argError(1, `bad code \`${c}'`);
          }
        }
      }
      push(a, written);
      return 1;
    },
    unpack: (a) => {
      const z = self(a);
      const f = Buffer.from(a.bytes(2));
      const s = z.data.subarray(z.used);
      const len = s.length;
      let i = 0;
      let n = 0;
      let swap = false;
      let p = 0;
      e.pushnil(a.L); // placeholder for the count
      const get = (m: number): Buffer | null => {
        if (i + m > len) return null;
        const b = Buffer.from(s.subarray(i, i + m));
        i += m;
        if (swap) b.reverse();
        return b;
      };
      outer: while (p < f.length) {
        const c = String.fromCharCode(f[p++]);
        let N = 1;
        if (f[p] >= 0x30 && f[p] <= 0x39) {
          N = 0;
          while (f[p] >= 0x30 && f[p] <= 0x39) N = 10 * N + f[p++] - 0x30;
          if (N === 0 && c === 'A') {
            e.pushbytes(a.L, Buffer.alloc(0));
            n++;
          }
        }
        while (N-- > 0) {
          if (!e.checkstack(a.L, 4)) throw new LuaError('too many results to unpack');
          let b: Buffer | null;
          switch (c) {
            case '<':
            case '=':
              swap = false;
              N = 0;
              break;
            case '>':
              swap = true;
              N = 0;
              break;
            case 'A': {
              const m = N + 1;
              if (i + m > len) break outer;
              e.pushbytes(a.L, s.subarray(i, i + m));
              i += m;
              n++;
              N = 0;
              break;
            }
            case 'n':
            case 'd':
              if (!(b = get(8))) break outer;
              e.pushnumber(a.L, b.readDoubleLE(0));
              n++;
              break;
            case 'f':
              if (!(b = get(4))) break outer;
              e.pushnumber(a.L, b.readFloatLE(0));
              n++;
              break;
            case 'c':
            case 'b':
              if (!(b = get(1))) break outer;
              push(a, c === 'c' ? b.readInt8(0) : b[0]);
              n++;
              break;
            case 'h':
            case 'H':
              if (!(b = get(2))) break outer;
              push(a, c === 'h' ? b.readInt16LE(0) : b.readUInt16LE(0));
              n++;
              break;
            case 'i':
            case 'I':
              if (!(b = get(4))) break outer;
              push(a, c === 'i' ? b.readInt32LE(0) : b.readUInt32LE(0));
              n++;
              break;
            case 'l':
            case 'L':
              if (!(b = get(8))) break outer;
              // (lua_Integer) cast of the 64-bit value
              pushInt64(vm, a.L, bytesToBig(b, true));
              n++;
              break;
            case ' ':
            case ',':
              break;
            default:
              a.argError(1, `bad code \`${c}'`);
          }
        }
      }
      z.used += i;
      push(a, i);
      e.insert(a.L, -n - 1);
      e.remove(a.L, -n - 2); // drop the placeholder
      return n + 1;
    },
    get: indexGet,
    toStr: (a) => {
      const z = self(a);
      let start = a.optInteger(2, 0);
      if (start > z.len) start = z.len;
      if (start < 0) start = 0; // negative start is undefined in C
      let len = a.optInteger(3, z.len);
      if (len < 0) {
        vm.log('W', 'zbuff', 'zbuff:toStr length cannot be negative');
        e.pushbytes(a.L, Buffer.alloc(0));
        return 1;
      }
      if (start + len > z.len) len = z.len - start;
      e.pushbytes(a.L, z.data.subarray(start, start + len));
      return 1;
    },
    len: (a) => {
      push(a, self(a).len);
      return 1;
    },
    setFrameBuffer: (a) => {
      const z = self(a);
      const w = a.integer(2);
      const h = a.integer(3);
      const bit = a.integer(4);
      if (Math.floor((w * h * bit - 1) / 8) + 1 > z.len) return 0;
      z.width = w;
      z.height = h;
      z.bit = bit;
      if (isInt(a, 5)) {
        const color = a.integer(5);
        for (let k = 0; k < w * h; k++) setPoint(z, k, color);
      }
      e.pushboolean(a.L, true);
      return 1;
    },
    pixel: (a) => {
      const z = self(a);
      const x = a.integer(2);
      const y = a.integer(3);
      if (x < 0 || y < 0 || x >= z.width || y >= z.height) return 0;
      if (isInt(a, 4)) {
        setPoint(z, x + y * z.width, a.integer(4));
        e.pushboolean(a.L, true);
        return 1;
      }
      push(a, getPoint(z, x + y * z.width));
      return 1;
    },
    free: (a) => {
      self(a).free();
      return 0;
    },
    copy: (a) => {
      const z = self(a);
      let cur = a.optInteger(2, z.used);
      if (cur < 0) {
        cur += z.used;
        if (cur < 0) {
          push(a, 0);
          return 1;
        }
      }
      if (isInt(a, 3)) {
        let n = 0;
        while (isInt(a, 3 + n)) {
          // the firmware grows when cur > len (writing at cur == len overflows); here >=
          if (cur >= z.len && !z.resize(Math.max(cur * 2, cur + 1)) && !z.resize(cur + 1)) break;
          z.data[cur++] = a.integer(3 + n) & 0xff;
          n++;
        }
        z.used = Math.max(cur, z.used);
        push(a, n);
        return 1;
      }
      const t = e.type(a.L, 3);
      if (t === LUA_TSTRING || t === LUA_TNUMBER) {
        const s = a.bytes(3);
        if (s.length + cur > z.len && !grow(z, s.length + cur)) {
          push(a, 0);
          return 1;
        }
        z.data.set(s, cur);
        cur += s.length;
        z.used = Math.max(cur, z.used);
        push(a, s.length);
        return 1;
      }
      if (t === LUA_TUSERDATA) {
        const src = getZbuff(vm, a.L, 3);
        if (!src) return a.typeError(3, ZBUFF_TYPE);
        const start = Math.max(0, a.optInteger(4, 0));
        let len = a.optInteger(5, src.used);
        if (len < 0) len = 0;
        if (len + cur > z.len && !grow(z, len + cur)) {
          push(a, 0);
          return 1;
        }
        // bytes past the source's end are undefined in C: zeros here
        const chunk = Buffer.alloc(len);
        src.data.copy(chunk, 0, Math.min(start, src.len), Math.min(start + len, src.len));
        chunk.copy(z.data, cur);
        cur += len;
        z.used = Math.max(cur, z.used);
        push(a, len);
        return 1;
      }
      push(a, 0);
      return 1;
    },
    set: (a) => {
      const z = self(a);
      const num = a.optInteger(3, 0);
      const start = Math.max(0, a.optInteger(2, 0));
      const len = a.optInteger(4, z.len);
      if (start >= z.len || len <= 0) return 0;
      const n = len + start > z.len ? z.len - start : len;
      z.data.fill(num & 0xff, start, start + n);
      return 0;
    },
    query: (a) => {
      const z = self(a);
      let start = a.optInteger(2, 0);
      if (start < 0) {
        start += z.used;
        if (start < 0) {
          e.pushnil(a.L);
          return 1;
        }
      }
      if (start > z.used) start = z.used;
      let len = a.optInteger(3, z.used);
      // a negative length is a huge uint32 in C: taken as "up to used"
      if (len < 0 || start + len > z.used) len = z.used - start;
      if (len === 0) {
        e.pushnil(a.L);
        return 1;
      }
      const p = z.data.subarray(start, start + len);
      if (e.type(a.L, 4) === LUA_TBOOLEAN && len <= 8) {
        const big = e.toboolean(a.L, 4);
        const signed = e.type(a.L, 5) === LUA_TBOOLEAN && e.toboolean(a.L, 5);
        const isFloat = e.type(a.L, 6) === LUA_TBOOLEAN && e.toboolean(a.L, 6);
        switch (len) {
          case 1:
            push(a, signed ? p.readInt8(0) : p[0]);
            return 1;
          case 2: {
            const us = big ? p.readUInt16BE(0) : p.readUInt16LE(0);
            push(a, signed ? (us << 16) >> 16 : us);
            return 1;
          }
          case 4:
            if (isFloat) e.pushnumber(a.L, p.readFloatLE(0));
            else push(a, big ? p.readInt32BE(0) : p.readInt32LE(0));
            return 1;
          case 8:
            if (isFloat) e.pushnumber(a.L, p.readDoubleLE(0));
            else pushInt64(vm, a.L, big ? p.readBigInt64BE(0) : p.readBigInt64LE(0));
            return 1;
        }
      }
      e.pushbytes(a.L, p);
      return 1;
    },
    del: (a) => {
      const z = self(a);
      let start = a.optInteger(2, 0);
      if (start < 0) {
        start += z.used;
        if (start < 0) return 0;
      }
      if (start >= z.used) return 0;
      let len = a.optInteger(3, z.used);
      if (len < 0 || start + len > z.used) len = z.used - start;
      if (!len) return 0;
      if (start + len === z.used) {
        z.used = start;
      } else {
        const rest = z.used - len;
        z.data.copy(z.data, start, start + len, Math.min(z.len, start + len + rest));
        z.used = rest;
      }
      return 0;
    },
    resize: (a) => {
      const z = self(a);
      if (isInt(a, 2)) z.resize(a.integer(2));
      return 0;
    },
    used: (a) => {
      const z = self(a);
      if (isInt(a, 2)) {
        const n = a.integer(2);
        z.used = n < 0 || n > z.len ? z.len : n;
      }
      push(a, z.used);
      return 1;
    },
    isEqual: (a) => {
      const z = self(a);
      const o1 = a.optInteger(2, 0);
      const z2 = getZbuff(vm, a.L, 3);
      if (!z2) return a.typeError(3, ZBUFF_TYPE);
      const o2 = a.optInteger(4, 0);
      const len = a.optInteger(5, 1);
      for (let k = 0; k < len; k++) {
        const x = z.data[o1 + k];
        const y = z2.data[o2 + k];
        if (x === undefined || y === undefined || x !== y) {
          e.pushboolean(a.L, false);
          push(a, k);
          return 2;
        }
      }
      e.pushboolean(a.L, true);
      push(a, 0);
      return 2;
    },
    toBase64: (a) => {
      const z = self(a);
      const dst = getZbuff(vm, a.L, 2);
      if (!dst) return a.typeError(2, ZBUFF_TYPE);
      const enc = base64Encode(z.usedBytes());
      if (enc.length > 0 && dst.len < enc.length + 1) {
        vm.log('E', 'zbuff', 'zbuff toBase64 failed -1');
        push(a, 0);
        return 1;
      }
      enc.copy(dst.data, 0);
      dst.used = enc.length;
      push(a, enc.length);
      return 1;
    },
  };
  methods.reSize = methods.resize;

  for (const [name, size] of Object.entries(TYPE_SIZES)) {
    const signed = name[0] === 'I';
    const isFloat = name[0] === 'F';
    methods['read' + name] = (a) => {
      const z = self(a);
      if (z.len - z.used < size) return 0;
      const b = z.data.subarray(z.used, z.used + size);
      if (isFloat) e.pushnumber(a.L, size === 4 ? b.readFloatLE(0) : b.readDoubleLE(0));
      else if (size === 8) pushInt64(vm, a.L, bytesToBig(Buffer.from(b), true));
      else push(a, Number(bytesToBig(Buffer.from(b), signed)));
      z.used += size;
      return 1;
    };
    methods['write' + name] = (a) => {
      const z = self(a);
      if (z.len - z.used < size) {
        push(a, 0);
        return 1;
      }
      let b: Buffer;
      if (isFloat) {
        b = Buffer.alloc(size);
        if (size === 4) b.writeFloatLE(a.number(2));
        else b.writeDoubleLE(a.number(2));
      } else {
        b = intBytes(checkInt64(a, 2), size);
      }
      b.copy(z.data, z.used);
      z.used += size;
      push(a, size);
      return 1;
    };
  }

  // methods live in a registry table; __index looks them up (integer keys read bytes)
  e.createtable(L, 0, Object.keys(methods).length);
  for (const [k, fn] of Object.entries(methods)) {
    vm.pushBinding(k, asMethod(vm, fn));
    e.setfield(L, -2, k);
  }
  const methodsRef = e.ref(L, e.REGISTRYINDEX);

  e.newmetatable(L, ZBUFF_TYPE);
  vm.pushBinding('__index', (a) => {
    if (e.isinteger(a.L, 2)) return indexGet(a);
    if (e.type(a.L, 2) === LUA_TSTRING) {
      e.rawgeti(a.L, e.REGISTRYINDEX, methodsRef);
      e.pushvalue(a.L, 2);
      e.rawget(a.L, -2);
      return 1;
    }
    return 0;
  });
  e.setfield(L, -2, '__index');
  vm.pushBinding('__newindex', (a) => {
    if (!e.isinteger(a.L, 2)) return 0;
    const z = self(a);
    const o = a.integer(2);
    const v = a.integer(3);
    // the firmware writes at o == len (one past the end); ignored here
    if (o < 0 || o >= z.len) return 0;
    z.data[o] = v & 0xff;
    return 0;
  });
  e.setfield(L, -2, '__newindex');
  vm.pushBinding('__len', (a) => {
    e.pushinteger(a.L, self(a).len);
    return 1;
  });
  e.setfield(L, -2, '__len');
  vm.pushBinding('__gc', (a) => {
    const id = e.tohostobject(a.L, 1, ZBUFF_TYPE);
    if (id !== null) vm.removeHostObject(id);
    return 0;
  });
  e.setfield(L, -2, '__gc');
  e.pop(L, 1);

  const maxAlloc = (): number => {
    const m = vm.device.profile.memory;
    return Math.max(m.psram, m.sys, 1 << 20);
  };

  vm.defineModule(
    'zbuff',
    {
      create: (a) => {
        let len: number;
        let fb: { w: number; h: number; bit: number } | null = null;
        if (e.type(a.L, 1) === LUA_TTABLE) {
          e.rawgeti(a.L, 1, 3);
          e.rawgeti(a.L, 1, 2);
          e.rawgeti(a.L, 1, 1);
          const top = e.gettop(a.L);
          const w = a.integer(top);
          const h = a.integer(top - 1);
          const bit = a.integer(top - 2);
          e.pop(a.L, 3);
          if (!FB_BITS.has(bit)) return 0;
          len = Math.floor((w * h * bit - 1) / 8) + 1;
          fb = { w, h, bit };
        } else {
          len = a.integer(1);
        }
        if (len <= 0) return 0;
        if (len >= 64 * 1024) {
          vm.log('I', 'zbuff', `create large size: ${Math.floor(len / 1024)} kbyte, trigger force GC`);
          e.gcCollect(a.L);
        }
        if (len > maxAlloc()) {
          vm.log('W', 'zbuff', `create size: ${len} byte but memory not enough!!!`);
          e.pushnil(a.L);
          e.pushstring(a.L, 'memory not enough');
          return 2;
        }
        const z = new ZbuffState(len, isInt(a, 3) ? a.integer(3) : 0, maxAlloc());
        if (fb) {
          z.width = fb.w;
          z.height = fb.h;
          z.bit = fb.bit;
          if (isInt(a, 2)) {
            const color = a.integer(2);
            for (let k = 0; k < fb.w * fb.h; k++) setPoint(z, k, color);
          }
        } else if (isInt(a, 2)) {
          z.data.fill(a.integer(2) & 0xff);
        } else if (e.isstring(a.L, 2)) {
          const s = a.bytes(2);
          const n = Math.min(s.length, z.len);
          z.data.set(s.subarray(0, n), 0);
          z.used = n;
        }
        pushZbuff(vm, a.L, z);
        return 1;
      },
    },
    { SEEK_SET, SEEK_CUR, SEEK_END, HEAP_AUTO: 0, HEAP_SRAM: 1, HEAP_PSRAM: 2 },
  );
}
