/**
 * The firmware's string extensions (lua/src/lstrlib_exts.c), added to the `string` table so they
 * also work as methods (`("abc"):toHex()`). All are byte-exact (binary-safe):
 *
 * - `toHex(s, sep="")` → uppercase hex with `sep` after EVERY byte, and `#s*2` (sep not counted).
 * - `fromHex(hex)` → bytes from pairs of hex digits; any non-hex character drops a pending
 *   half pair ("0G12" → "\x12"); a trailing single digit is ignored.
 * - `split(s, delim=",", keepEmpty=false)` → array; "" → {}; an empty delimiter means ",";
 *   the delimiter is a plain (multi-byte) string; empty pieces only with keepEmpty == true
 *   (then a trailing delimiter gives a trailing "").
 * - `toValue(s)` → each char mapped to its low nibble value (`"12ab"` → "\1\2\10\11"), and #s.
 * - `urlEncode(s, mode?, space?, keep?)`: mode 0 (default) keeps alnum and `.-*_`, space → '+';
 *   mode 1 (RFC3986) keeps `.-_`, space → %20; mode -1 uses `space` (0 '+', 1 %20) and the
 *   `keep` set. Escapes are uppercase `%XX`. Given but nil `mode` is an error, as in C.
 * - `toBase64` / `fromBase64` (mbedtls rules: spaces only at line ends, `\r\n`/`\n` skipped,
 *   at most two '=', nothing but '=' after a '='; any error → ""; an incomplete last quartet
 *   is dropped). `toBase32` (RFC 4648 alphabet, NO '=' padding) / `fromBase32` (case
 *   insensitive, skips space/tab/CR/LF/'-', reads 0→O 1→L 8→B, stops at a NUL byte, any other
 *   character including '=' → "").
 * - `startsWith(s, prefix)`, `endsWith(s, suffix)` → boolean.
 * - `trim(s, left=true, right=true)` strips space, \t, \n, \r (only booleans change the sides).
 *
 * Memory: the firmware builds each result in the Lua heap (a luaL_Buffer), so a result larger
 * than the profile's Lua heap (`profile.memory.lua`, 2 MB on the Air8101) fails there with
 * "not enough memory"; the bindings check the result size BEFORE building it and raise the
 * same error, so hundreds of MB of input end at once instead of churning the CPU. Every
 * conversion here is one linear pass.
 */
import { LuaError, LUA_TBOOLEAN, NOT_ENOUGH_MEMORY } from '../runtime/core/engine/types';
import type { Args } from '../runtime/core/vm/lua-value';
import type { Vm } from '../runtime/core/vm/vm';
import { asMethod, saveStdlib } from './shared/zbuff';

const HEX = Buffer.from('0123456789ABCDEF');

export function toHexBytes(s: Uint8Array, sep: Uint8Array = Buffer.alloc(0)): Buffer {
  const step = 2 + sep.length;
  const out = Buffer.alloc(s.length * step);
  for (let i = 0; i < s.length; i++) {
    out[i * step] = HEX[s[i] >> 4];
    out[i * step + 1] = HEX[s[i] & 0xf];
    if (sep.length) out.set(sep, i * step + 2);
  }
  return out;
}

/** Upper-case hex without separators. */
export function hexUpper(s: Uint8Array): string {
  return toHexBytes(s).toString('latin1');
}

const isHexDigit = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const hexVal = (c: number) => (c <= 0x39 ? c - 0x30 : (c & 7) + 9);

export function fromHexBytes(s: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(s.length >> 1);
  let n = 0;
  let half = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (isHexDigit(c)) {
      if (half >= 0) {
        out[n++] = ((half << 4) + hexVal(c)) & 0xff;
        half = -1;
      } else half = hexVal(c);
    } else half = -1;
  }
  return Buffer.from(out.subarray(0, n));
}

export function splitBytes(s: Uint8Array, delim: Uint8Array, keepEmpty: boolean): Buffer[] {
  const out: Buffer[] = [];
  const len = s.length;
  if (len === 0) return out;
  const dlen = delim.length;
  const b = Buffer.from(s.buffer, s.byteOffset, s.length);
  const d = Buffer.from(delim.buffer, delim.byteOffset, delim.length);
  const matchAt = (i: number) => i + dlen <= len && b.compare(d, 0, dlen, i, i + dlen) === 0;
  let prev = -1;
  for (let i = 0; i < len; i++) {
    if (matchAt(i)) {
      if (prev + 1 !== i || keepEmpty) out.push(Buffer.from(b.subarray(prev + 1, i)));
      i += dlen - 1;
      prev = i;
      if (i === len - 1 && keepEmpty) {
        out.push(Buffer.alloc(0));
        break;
      }
    } else if (i === len - 1) {
      out.push(Buffer.from(b.subarray(prev + 1, len)));
    }
  }
  return out;
}

const B64_DEC = new Uint8Array(128).fill(127);
{
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < 64; i++) B64_DEC[abc.charCodeAt(i)] = i;
  B64_DEC[0x3d] = 64; // '='
}

export function base64Encode(s: Uint8Array): Buffer {
  return Buffer.from(Buffer.from(s.buffer, s.byteOffset, s.length).toString('base64'), 'latin1');
}

/** mbedtls-style base64 decode; null on invalid input. */
export function base64Decode(src: Uint8Array): Buffer | null {
  const slen = src.length;
  let i: number;
  let n = 0;
  let j = 0;
  for (i = 0; i < slen; i++) {
    let x = 0;
    while (i < slen && src[i] === 0x20) {
      i++;
      x++;
    }
    if (i === slen) break;
    if (slen - i >= 2 && src[i] === 0x0d && src[i + 1] === 0x0a) continue;
    if (src[i] === 0x0a) continue;
    if (x !== 0) return null;
    if (src[i] === 0x3d && ++j > 2) return null;
    if (src[i] > 127 || B64_DEC[src[i]] === 127) return null;
    if (B64_DEC[src[i]] < 64 && j !== 0) return null;
    n++;
  }
  if (n === 0) return Buffer.alloc(0);
  const out: number[] = [];
  let x = 0;
  j = 3;
  n = 0;
  for (let k = 0; k < i; k++) {
    const c = src[k];
    if (c === 0x0d || c === 0x0a || c === 0x20) continue;
    if (B64_DEC[c] === 64) j--;
    x = ((x << 6) | (B64_DEC[c] & 0x3f)) & 0xffffff;
    if (++n === 4) {
      n = 0;
      if (j > 0) out.push((x >> 16) & 0xff);
      if (j > 1) out.push((x >> 8) & 0xff);
      if (j > 2) out.push(x & 0xff);
    }
  }
  return Buffer.from(out);
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(s: Uint8Array): Buffer {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const c of s) {
    buffer = ((buffer << 8) | c) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += B32[(buffer >> (bits - 5)) & 0x1f];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(buffer << (5 - bits)) & 0x1f];
  return Buffer.from(out, 'latin1');
}

/** Google-authenticator style base32 decode; null on an invalid character. */
export function base32Decode(s: Uint8Array): Buffer | null {
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (let ch of s) {
    if (ch === 0) break;
    if (ch === 0x20 || ch === 0x09 || ch === 0x0d || ch === 0x0a || ch === 0x2d) continue;
    if (ch === 0x30) ch = 0x4f;
    else if (ch === 0x31) ch = 0x4c;
    else if (ch === 0x38) ch = 0x42;
    let v: number;
    if ((ch >= 0x41 && ch <= 0x5a) || (ch >= 0x61 && ch <= 0x7a)) v = (ch & 0x1f) - 1;
    else if (ch >= 0x32 && ch <= 0x37) v = ch - 0x32 + 26;
    else return null;
    buffer = ((buffer << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function urlEncode(s: Uint8Array, keep: Uint8Array, spaceAsPlus: boolean): Buffer {
  const out: number[] = [];
  for (const c of s) {
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || keep.includes(c)) {
      out.push(c);
    } else if (c === 0x20 && spaceAsPlus) {
      out.push(0x2b);
    } else {
      out.push(0x25, HEX[c >> 4], HEX[c & 0xf]);
    }
  }
  return Buffer.from(out);
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

export function openStringx(vm: Vm): void {
  const { e } = vm;
  saveStdlib(vm, ['tonumber', 'debug.getinfo']);
  const empty = Buffer.alloc(0);
  const pushB = (a: Args, b: Uint8Array) => e.pushbytes(a.L, b);
  /** a result of n bytes must fit the device's Lua heap, as the firmware's luaL_Buffer */
  const room = (n: number): void => {
    if (n > vm.device.profile.memory.lua) throw new LuaError(NOT_ENOUGH_MEMORY);
  };
  /** the string length at i without copying it out of the VM */
  const lenOf = (a: Args, i: number): number => {
    if (!e.isstring(a.L, i)) a.typeError(i, 'string');
    return e.rawlen(a.L, i);
  };

  const fns: Record<string, (a: Args) => number | void> = {
    toHex: (a) => {
      const n = lenOf(a, 1);
      const sep = a.isNoneOrNil(2) ? empty : a.bytes(2);
      room(n * (2 + sep.length));
      const s = a.bytes(1);
      pushB(a, toHexBytes(s, sep));
      e.pushinteger(a.L, s.length * 2);
      return 2;
    },
    fromHex: (a) => {
      room(lenOf(a, 1) >> 1);
      pushB(a, fromHexBytes(a.bytes(1)));
      return 1;
    },
    split: (a) => {
      const s = a.bytes(1);
      if (s.length === 0) {
        e.createtable(a.L, 0, 0);
        return 1;
      }
      let d = a.isNoneOrNil(2) ? Buffer.from(',') : a.bytes(2);
      if (d.length < 1) d = Buffer.from(',');
      const keep = e.type(a.L, 3) === LUA_TBOOLEAN && e.toboolean(a.L, 3);
      const parts = splitBytes(s, d, keep);
      e.createtable(a.L, parts.length, 0);
      parts.forEach((p, k) => {
        pushB(a, p);
        e.rawseti(a.L, -2, k + 1);
      });
      return 1;
    },
    toValue: (a) => {
      room(lenOf(a, 1));
      const s = a.bytes(1);
      const out = Buffer.alloc(s.length);
      for (let i = 0; i < s.length; i++) {
        const sc = s[i] >= 128 ? s[i] - 256 : s[i]; // C char is signed
        out[i] = (sc > 0x39 ? sc + 9 : sc) & 0x0f;
      }
      pushB(a, out);
      e.pushinteger(a.L, s.length);
      return 2;
    },
    urlEncode: (a) => {
      room(lenOf(a, 1)); // at least one byte per input byte; the exact size is checked below
      const s = a.bytes(1);
      const mode = a.count === 1 ? 0 : a.integer(2);
      let keep: Uint8Array = Buffer.from('.-*_');
      let plus = true;
      if (mode === -1) {
        plus = a.integer(3) === 0;
        keep = a.bytes(4);
      } else if (mode === 1) {
        plus = false;
        keep = Buffer.from('.-_');
      }
      const out = urlEncode(s, keep, plus);
      room(out.length);
      pushB(a, out);
      return 1;
    },
    toBase64: (a) => {
      room(Math.ceil(lenOf(a, 1) / 3) * 4);
      pushB(a, base64Encode(a.bytes(1)));
      return 1;
    },
    fromBase64: (a) => {
      pushB(a, base64Decode(a.bytes(1)) ?? empty);
      return 1;
    },
    toBase32: (a) => {
      room(Math.ceil(lenOf(a, 1) / 5) * 8);
      pushB(a, base32Encode(a.bytes(1)));
      return 1;
    },
    fromBase32: (a) => {
      const s = a.bytes(1);
      const r = s.length ? base32Decode(s) : null;
      pushB(a, r && r.length > 0 ? r : empty);
      return 1;
    },
    startsWith: (a) => {
      const s = Buffer.from(a.bytes(1));
      const p = a.bytes(2);
      e.pushboolean(a.L, s.length >= p.length && s.subarray(0, p.length).equals(p));
      return 1;
    },
    endsWith: (a) => {
      const s = Buffer.from(a.bytes(1));
      const p = a.bytes(2);
      e.pushboolean(a.L, s.length >= p.length && s.subarray(s.length - p.length).equals(p));
      return 1;
    },
    trim: (a) => {
      const s = a.bytes(1);
      let left = true;
      let right = true;
      if (e.type(a.L, 2) === LUA_TBOOLEAN) left = e.toboolean(a.L, 2);
      if (e.type(a.L, 3) === LUA_TBOOLEAN) right = e.toboolean(a.L, 3);
      if (s.length === 0) {
        e.pushvalue(a.L, 1);
        return 1;
      }
      let begin = 0;
      let end = s.length;
      if (left) while (begin < end && WS.has(s[begin])) begin++;
      if (right) while (begin < end && WS.has(s[end - 1])) end--;
      pushB(a, s.subarray(begin, end));
      return 1;
    },
  };
  const wrapped: Record<string, (a: Args) => number | void> = {};
  for (const [k, fn] of Object.entries(fns)) wrapped[k] = asMethod(vm, fn);
  vm.defineModule('string', wrapped);
}
