/**
 * xxtea (components/xxtea: luat_lib_xxtea.c with the xxtea-c data format), luatos-api-2.md §15.
 *
 * Written here from the algorithm (Wheeler/Needham "Corrected Block TEA", XXTEA), because no
 * installed library implements it and the firmware's byte format must be exact:
 * - the key is 16 bytes: bytes after the first NUL are zero, a short key is zero-padded, a
 *   longer one truncated;
 * - encrypt appends the plaintext length as a little-endian u32 word; output is 4*ceil(n/4)+4
 *   bytes (words little-endian);
 * - decrypt checks that stored length (it must fit the last word's 4-byte slack);
 * - empty input, a ciphertext whose size is not a multiple of 4 or shorter than 8 bytes, or a
 *   bad stored length → no value.
 */
import type { Vm } from '../runtime/core/vm/vm';

const DELTA = 0x9e3779b9;

function mx(sum: number, y: number, z: number, p: number, e: number, k: Uint32Array): number {
  return ((((z >>> 5) ^ (y << 2)) + ((y >>> 3) ^ (z << 4))) ^ ((sum ^ y) + (k[(p & 3) ^ e] ^ z))) >>> 0;
}

/** Raw XXTEA encryption of n >= 2 words in place. */
export function xxteaEncryptWords(v: Uint32Array, k: Uint32Array): void {
  const n = v.length;
  if (n < 2) return;
  let z = v[n - 1];
  let sum = 0;
  for (let q = Math.floor(6 + 52 / n); q > 0; q--) {
    sum = (sum + DELTA) >>> 0;
    const e = (sum >>> 2) & 3;
    let p = 0;
    for (; p < n - 1; p++) {
      const y = v[p + 1];
      z = v[p] = (v[p] + mx(sum, y, z, p, e, k)) >>> 0;
    }
    const y = v[0];
    z = v[n - 1] = (v[n - 1] + mx(sum, y, z, p, e, k)) >>> 0;
  }
}

/** Raw XXTEA decryption of n >= 2 words in place. */
export function xxteaDecryptWords(v: Uint32Array, k: Uint32Array): void {
  const n = v.length;
  if (n < 2) return;
  const rounds = Math.floor(6 + 52 / n);
  let sum = Math.imul(rounds, DELTA) >>> 0;
  let y = v[0];
  for (let q = rounds; q > 0; q--) {
    const e = (sum >>> 2) & 3;
    let p = n - 1;
    for (; p > 0; p--) {
      const z = v[p - 1];
      y = v[p] = (v[p] - mx(sum, y, z, p, e, k)) >>> 0;
    }
    const z = v[n - 1];
    y = v[0] = (v[0] - mx(sum, y, z, p, e, k)) >>> 0;
    sum = (sum - DELTA) >>> 0;
  }
}

/** The firmware's 16-byte key: cut at the first NUL, zero-padded or truncated. */
export function xxteaKey(key: Uint8Array): Uint32Array {
  const b = Buffer.alloc(16);
  for (let i = 0; i < 16 && i < key.length; i++) {
    if (key[i] === 0) break;
    b[i] = key[i];
  }
  const k = new Uint32Array(4);
  for (let i = 0; i < 4; i++) k[i] = b.readUInt32LE(i * 4);
  return k;
}

function toWords(data: Uint8Array, withLength: boolean): Uint32Array {
  const n = Math.ceil(data.length / 4);
  const v = new Uint32Array(withLength ? n + 1 : n);
  for (let i = 0; i < data.length; i++) v[i >>> 2] |= data[i] << ((i & 3) * 8);
  if (withLength) v[n] = data.length >>> 0;
  return v;
}

function toBytes(v: Uint32Array, len: number): Buffer {
  const out = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) out.writeUInt32LE(v[i], i * 4);
  return out.subarray(0, len);
}

/** xxtea.encrypt: null when the input is empty. */
export function xxteaEncrypt(data: Uint8Array, key: Uint8Array): Buffer | null {
  if (data.length === 0) return null;
  const v = toWords(data, true);
  xxteaEncryptWords(v, xxteaKey(key));
  return toBytes(v, v.length * 4);
}

/** xxtea.decrypt: null for empty or malformed input or a bad stored length. */
export function xxteaDecrypt(data: Uint8Array, key: Uint8Array): Buffer | null {
  if (data.length === 0 || data.length % 4 !== 0 || data.length < 8) return null;
  const v = toWords(data, false);
  xxteaDecryptWords(v, xxteaKey(key));
  const n = v.length - 1;
  const m = v[n];
  if (m < (n - 1) * 4 + 1 || m > n * 4) return null;
  return toBytes(v.subarray(0, n), m);
}

export function openXxtea(vm: Vm): void {
  const { e } = vm;
  vm.defineModule('xxtea', {
    encrypt: (a) => {
      const out = xxteaEncrypt(a.bytes(1), a.bytes(2));
      if (!out) return 0;
      e.pushbytes(a.L, out);
      return 1;
    },
    decrypt: (a) => {
      const out = xxteaDecrypt(a.bytes(1), a.bytes(2));
      if (!out) return 0;
      e.pushbytes(a.L, out);
      return 1;
    },
  });
}
