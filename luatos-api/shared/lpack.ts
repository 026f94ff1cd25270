/**
 * lpack: the `pack` module's binary format codec (luatos-api-2.md §10), written here because
 * its quirks (repeat counts, `A<n>` padding, stopping silently at the end of the data, the
 * position returned first) are the firmware's own and no library has them.
 *
 * Codes: `<` `>` `=` byte order (default little endian, the devices' native order);
 * `b`/`c` u8/i8, `h`/`H` 16, `i`/`I` 32, `l`/`L` 64 bits; `f` float32, `d` double, `n`
 * lua_Number (a double on both engines here: 8 bytes); `z` NUL-terminated string, `p`/`P`
 * u8/u16 length prefix, `a` size_t length prefix (4 bytes: the devices are 32-bit hosts), `A`
 * raw bytes; spaces and commas are ignored; anything else raises "bad argument #1 to 'pack'
 * (bad code `X')" (luaL_argerror). A string whose length prefix promises more bytes than remain
 * ends the unpack with the position before the prefix.
 * Integer codes take integers only (luaL_checkinteger), so 1.5 raises an error; the value is
 * cast like C (wraps to the field width). On a 32-bit-integer engine (fengari), `l`/`L`/`I`
 * values come back as the low 32 bits, signed, as on the firmware's 32-bit VM.
 */
import { LuaError } from '../../runtime/core/engine/types';
import type { Args } from '../../runtime/core/vm/lua-value';
import type { Vm } from '../../runtime/core/vm/vm';
import { checkInt64, pushInt64 } from './zbuff';

/** size_t on the device (32-bit MCUs) */
export const SIZE_T_BYTES = 4;
/** the largest string pack.pack builds (bounded like a device allocation) */
export const MAX_PACK_BYTES = 16 * 1024 * 1024;
/** values one unpack may return (the Lua stack limit bounds it on the device) */
export const MAX_UNPACK_RESULTS = 100000;

const INT_SIZES: Record<string, [number, boolean]> = {
  b: [1, false],
  c: [1, true],
  h: [2, true],
  H: [2, false],
  i: [4, true],
  I: [4, false],
  l: [8, true],
  L: [8, false],
};

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function intToBytes(v: bigint, size: number, little: boolean): Buffer {
  const b = Buffer.alloc(size);
  let u = BigInt.asUintN(size * 8, v);
  for (let k = 0; k < size; k++) {
    b[little ? k : size - 1 - k] = Number(u & 0xffn);
    u >>= 8n;
  }
  return b;
}

function bytesToInt(s: Uint8Array, at: number, size: number, little: boolean, signed: boolean): bigint {
  let u = 0n;
  for (let k = 0; k < size; k++) u = (u << 8n) | BigInt(s[little ? at + size - 1 - k : at + k]);
  return signed ? BigInt.asIntN(size * 8, u) : u;
}

class Builder {
  private parts: Buffer[] = [];
  size = 0;
  add(b: Uint8Array): void {
    this.size += b.length;
    if (this.size > MAX_PACK_BYTES) throw new LuaError('not enough memory');
    this.parts.push(Buffer.from(b));
  }
  result(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }
}

/** Read a repeat count after a code; returns [count or null, next index]. */
function readCount(fmt: string, i: number): [number | null, number] {
  if (!isDigit(fmt[i])) return [null, i];
  let n = 0;
  while (isDigit(fmt[i])) {
    n = n * 10 + (fmt.charCodeAt(i) - 48);
    if (n > 0x7fffffff) n = 0x7fffffff;
    i++;
  }
  return [n, i];
}

/** pack(fmt, ...) with the values starting at argument `first`. */
export function lpackPack(vm: Vm, a: Args, fmt: string, first: number): Buffer {
  const out = new Builder();
  let little = true;
  let arg = first;
  for (let i = 0; i < fmt.length; ) {
    const c = fmt[i++];
    let count: number | null;
    [count, i] = readCount(fmt, i);
    if (c === '<' || c === '=' || c === '>') {
      little = c !== '>';
      continue;
    }
    if (c === ' ' || c === ',') continue;
    if (c === 'A') {
      const s = a.bytes(arg++);
      if (count === null) out.add(s);
      else {
        if (count > MAX_PACK_BYTES) throw new LuaError('not enough memory');
        const b = Buffer.alloc(count);
        b.set(s.subarray(0, count));
        out.add(b);
      }
      continue;
    }
    const times = count ?? 1;
    for (let k = 0; k < times; k++) {
      const int = INT_SIZES[c];
      if (int) {
        out.add(intToBytes(checkInt64(a, arg++), int[0], little));
        continue;
      }
      switch (c) {
        case 'f': {
          const b = Buffer.alloc(4);
          if (little) b.writeFloatLE(a.number(arg++));
          else b.writeFloatBE(a.number(arg++));
          out.add(b);
          break;
        }
        case 'd':
        case 'n': {
          const b = Buffer.alloc(8);
          if (little) b.writeDoubleLE(a.number(arg++));
          else b.writeDoubleBE(a.number(arg++));
          out.add(b);
          break;
        }
        case 'z': {
          const s = a.bytes(arg++);
          out.add(s);
          out.add(Buffer.from([0]));
          break;
        }
        case 'p':
        case 'P':
        case 'a': {
          const s = a.bytes(arg++);
          const size = c === 'p' ? 1 : c === 'P' ? 2 : SIZE_T_BYTES;
          out.add(intToBytes(BigInt(s.length), size, little));
          out.add(s);
          break;
        }
        default:
          a.argError(1, `bad code \`${c}'`);
      }
    }
  }
  return out.result();
}

/**
 * unpack(data, fmt, init) → pushes next position (1-based) then the values; returns the number
 * of values pushed. Stops silently at the first field the data cannot fill.
 */
export function lpackUnpack(vm: Vm, a: Args, s: Uint8Array, fmt: string, init: number): number {
  const { e, L } = a;
  const len = s.length;
  let i = init - 1;
  if (i < 0) i = 0;
  let little = true;
  const pushed: (() => void)[] = [];
  const push = (fn: () => void) => {
    if (pushed.length >= MAX_UNPACK_RESULTS) throw new LuaError('too many results to unpack');
    pushed.push(fn);
  };
  outer: for (let f = 0; f < fmt.length; ) {
    const c = fmt[f++];
    let count: number | null;
    [count, f] = readCount(fmt, f);
    if (c === '<' || c === '=' || c === '>') {
      little = c !== '>';
      continue;
    }
    if (c === ' ' || c === ',') continue;
    if (c === 'A') {
      const want = count ?? 1;
      if (want === 0) {
        push(() => e.pushbytes(L, Buffer.alloc(0)));
        continue;
      }
      if (i + want > len) break outer;
      const v = s.subarray(i, i + want);
      push(() => e.pushbytes(L, v));
      i += want;
      continue;
    }
    const times = count ?? 1;
    for (let k = 0; k < times; k++) {
      const int = INT_SIZES[c];
      if (int) {
        const [size, signed] = int;
        if (i + size > len) break outer;
        const v = bytesToInt(s, i, size, little, signed);
        push(() => pushInt64(vm, L, v));
        i += size;
        continue;
      }
      switch (c) {
        case 'f':
        case 'd':
        case 'n': {
          const size = c === 'f' ? 4 : 8;
          if (i + size > len) break outer;
          const b = Buffer.from(s.subarray(i, i + size));
          const v = size === 4 ? (little ? b.readFloatLE(0) : b.readFloatBE(0)) : little ? b.readDoubleLE(0) : b.readDoubleBE(0);
          push(() => e.pushnumber(L, v));
          i += size;
          break;
        }
        case 'z': {
          if (i >= len) break outer;
          let end = i;
          while (end < len && s[end] !== 0) end++;
          const v = s.subarray(i, end);
          push(() => e.pushbytes(L, v));
          i = end + 1;
          break;
        }
        case 'p':
        case 'P':
        case 'a': {
          const size = c === 'p' ? 1 : c === 'P' ? 2 : SIZE_T_BYTES;
          if (i + size > len) break outer;
          const l = Number(bytesToInt(s, i, size, little, false));
          if (i + size + l > len) break outer; // the position stays before the length field
          i += size;
          const v = s.subarray(i, i + l);
          push(() => e.pushbytes(L, v));
          i += l;
          break;
        }
        default:
          a.argError(1, `bad code \`${c}'`);
      }
    }
  }
  if (!e.checkstack(L, pushed.length + 2)) throw new LuaError('too many results to unpack');
  e.pushinteger(L, i + 1);
  for (const p of pushed) p();
  const n = pushed.length;
  return n + 1;
}
