/**
 * crypto (luat_lib_crypto.c) on node:crypto.
 *
 * - `md5/sha1/sha256/sha512(s)` and `hmac_md5/hmac_sha1/hmac_sha256/hmac_sha512(s, key)` →
 *   UPPERCASE hex (as the firmware's fixhex). `md(type, data, key?)`, `md_file(type, path, key?)`
 *   (type "MD5"/"SHA1"/"SHA224"/"SHA256"/"SHA384"/"SHA512"; unknown → no value),
 *   `hash_init(type, key?)` / `hash_update(stream, data)` / `hash_finish(stream)`.
 * - `base64_encode/base64_decode` = string.toBase64/fromBase64.
 * - `crc16(method, data|zbuff, poly, init, xorout, refin, refout)`: methods IBM, MAXIM, USB,
 *   MODBUS, CCITT, CCITT-FALSE, X25, XMODEM, DNP, USER-DEFINED (the last uses the numbers);
 *   an unknown method gives 0; a zbuff is read from its cursor to its end.
 *   `crc16_modbus(data, init=0xFFFF)`, `crc32(data)` (zlib CRC-32), `crc8(data)` (poly 0x07)
 *   or `crc8(data, poly, start=0, reverse=false)`, `crc7(data, poly=0xE5, start=0)` (the
 *   firmware's table index can run past 256 for some polys — undefined in C, masked to 8 bits
 *   here), `checksum(data, mode=0)` (0 xor, 1 sum, 8-bit).
 * - `trng(n)` → n random bytes (n clamped to 128; n < 1 → no value). `totp(secret, t?)`.
 * - `cipher_encrypt/cipher_decrypt(type="AES-128-ECB", pad="PKCS7", data, key, iv="")` for AES
 *   128/192/256 in ECB, CBC, CTR, CFB128, OFB, with the firmware's padding quirks: ECB pads
 *   itself only for "PKCS7" and "ZERO" (both add a whole block to aligned input); CBC pads
 *   PKCS7, ZERO/ZEROS, ONE_AND_ZEROS, ZEROS_AND_LEN (always 1..16 bytes), anything else means
 *   none. An unknown cipher, wrong key length or IV longer than 16 → no value (logged); a
 *   failure part-way (partial block, bad padding) returns what was produced before it, as the
 *   firmware does. `cipher` is an alias of `cipher_encrypt`; `cipher_list()` lists the names.
 *   Also DES-ECB/CBC, DES-EDE-ECB/CBC, DES-EDE3-ECB/CBC (8-byte blocks, same padding rules),
 *   AES-xxx-GCM and CHACHA20-POLY1305 (encrypt returns a 2nd value, the 16-byte tag; the
 *   additional data is always "1234567890123456"; GCM needs an IV; decrypt cannot verify a tag,
 *   as on the device), CHACHA20 (12-byte nonce, counter 0). AES-xxx-CCM is listed but, as in
 *   mbedtls' generic cipher layer, update fails: "" plus a logged error (unsure).
 *   A non-empty IV shorter than the cipher's IV size fails like mbedtls_cipher_set_iv.
 *   Node 20's OpenSSL 3 has single DES only in the legacy provider, which is off: DES-ECB/CBC
 *   run as 3DES-EDE with K1=K2=K3 (E_K(D_K(E_K(x))) = E_K(x)), checked against FIPS vectors.
 * - `pk_sign(md, hash, key, pwd)` / `pk_verify(md, hash, pubkey, sig)` / `pk_type(key, priv)` /
 *   `pk_generate(type, param)`, constants MD_MD5 3 … MD_SHA512 11 (shared/pk.ts). RSA keys
 *   sign PKCS#1 v1.5; EC keys (P-256/384/521, secp256k1) sign ECDSA, DER-encoded
 *   (shared/ecdsa.ts, because node:crypto cannot sign a precomputed hash with EC keys).
 * - Left out: `cipher_suites()` (returns {}).
 */
import * as nodeCrypto from 'node:crypto';
import { LUA_TBOOLEAN, LUA_TSTRING, LUA_TUSERDATA } from '../runtime/core/engine/types';
import type { Args } from '../runtime/core/vm/lua-value';
import type { Vm } from '../runtime/core/vm/vm';
import { getZbuff } from './shared/zbuff';
import { readVfsFile } from '../runtime/core/fs/sandbox';
import { ecdsaSignHash, ecdsaVerifyHash } from './shared/ecdsa';
import { MD_TYPES, generateKeyPair, keyTypeName, parsePrivateKey, parsePublicKey, rsaSignHash, rsaVerifyHash } from './shared/pk';
import { base32Decode, base64Decode, base64Encode, hexUpper } from './stringx';

const MD_NAMES: Record<string, string> = {
  MD5: 'md5',
  SHA1: 'sha1',
  SHA224: 'sha224',
  SHA256: 'sha256',
  SHA384: 'sha384',
  SHA512: 'sha512',
};

// ------------------------------------------------------------------ CRCs

interface Crc16Model {
  poly: number;
  init: number;
  xorout: number;
  refin: boolean;
  refout: boolean;
}
const CRC16_MODELS: Record<string, Crc16Model> = {
  IBM: { poly: 0x8005, init: 0x0000, xorout: 0x0000, refin: true, refout: true },
  MAXIM: { poly: 0x8005, init: 0x0000, xorout: 0xffff, refin: true, refout: true },
  USB: { poly: 0x8005, init: 0xffff, xorout: 0xffff, refin: true, refout: true },
  MODBUS: { poly: 0x8005, init: 0xffff, xorout: 0x0000, refin: true, refout: true },
  CCITT: { poly: 0x1021, init: 0x0000, xorout: 0x0000, refin: true, refout: true },
  'CCITT-FALSE': { poly: 0x1021, init: 0xffff, xorout: 0x0000, refin: false, refout: false },
  X25: { poly: 0x1021, init: 0xffff, xorout: 0xffff, refin: true, refout: true },
  XMODEM: { poly: 0x1021, init: 0x0000, xorout: 0x0000, refin: false, refout: false },
  DNP: { poly: 0x3d65, init: 0x0000, xorout: 0xffff, refin: true, refout: true },
};

function reflect(v: number, bits: number): number {
  let r = 0;
  for (let i = 0; i < bits; i++) if (v & (1 << i)) r |= 1 << (bits - 1 - i);
  return r;
}

export function crc16(data: Uint8Array, m: Crc16Model): number {
  let crc = m.init & 0xffff;
  for (let c of data) {
    if (m.refin) c = reflect(c, 8);
    crc ^= c << 8;
    for (let j = 0; j < 8; j++) crc = crc & 0x8000 ? ((crc << 1) ^ m.poly) & 0xffff : (crc << 1) & 0xffff;
  }
  if (m.refout) crc = reflect(crc, 16);
  return (crc ^ m.xorout) & 0xffff;
}

export function crc16Modbus(data: Uint8Array, init: number): number {
  let crc = init & 0xffff;
  for (const c of data) {
    crc ^= c;
    for (let j = 0; j < 8; j++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

const CRC32_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC32_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function crc8(data: Uint8Array, start: number, poly: number, reverse: boolean): number {
  let crc = start & 0xff;
  if (reverse) {
    const p = reflect(poly & 0xff, 8);
    for (const b of data) {
      crc ^= b;
      for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >> 1) ^ p : crc >> 1;
    }
  } else {
    for (const b of data) {
      crc ^= b;
      for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ poly) & 0xff : (crc << 1) & 0xff;
    }
  }
  return crc & 0xff;
}

export function crc7(data: Uint8Array, poly: number, start: number): number {
  poly &= 0xff;
  const table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let v = i & 0x80 ? i ^ poly : i;
    for (let j = 1; j < 8; j++) {
      v = (v << 1) & 0xff;
      if (v & 0x80) v ^= poly;
    }
    table[i] = v;
  }
  let crc = start & 0xff;
  for (const b of data) crc = table[((crc << 1) ^ b) & 0xff];
  return (crc << 1) & 0xff;
}

// ------------------------------------------------------------------ ciphers

interface CipherSpec {
  /** mode as mbedtls sees it */
  mode: 'ECB' | 'CBC' | 'CTR' | 'CFB128' | 'OFB' | 'GCM' | 'CCM' | 'STREAM' | 'AEAD';
  /** node:crypto algorithm name */
  algo: string;
  keyLen: number;
  block: number;
  /** IV bytes the cipher uses (mbedtls iv_size); 0 = variable (GCM) */
  ivLen: number;
  /** single DES runs as 3DES-EDE with K1=K2=K3 (see the header) */
  tripleKey?: boolean;
  /** CHACHA20 takes a 16-byte counter||nonce IV in OpenSSL */
  counterIv?: boolean;
}

/** The cipher names (mbedtls names) this runtime has, in cipher_list() order. */
const CIPHERS = new Map<string, CipherSpec>();
for (const m of ['ECB', 'CBC', 'CFB128', 'OFB', 'CTR', 'GCM', 'CCM'] as const) {
  for (const bits of [128, 192, 256]) {
    const node = m === 'CFB128' ? 'cfb' : m.toLowerCase();
    CIPHERS.set(`AES-${bits}-${m}`, { mode: m, algo: `aes-${bits}-${node}`, keyLen: bits / 8, block: 16, ivLen: m === 'ECB' ? 0 : m === 'GCM' ? 0 : m === 'CCM' ? 12 : 16 });
  }
}
CIPHERS.set('DES-ECB', { mode: 'ECB', algo: 'des-ede3-ecb', keyLen: 8, block: 8, ivLen: 0, tripleKey: true });
CIPHERS.set('DES-CBC', { mode: 'CBC', algo: 'des-ede3-cbc', keyLen: 8, block: 8, ivLen: 8, tripleKey: true });
CIPHERS.set('DES-EDE-ECB', { mode: 'ECB', algo: 'des-ede-ecb', keyLen: 16, block: 8, ivLen: 0 });
CIPHERS.set('DES-EDE-CBC', { mode: 'CBC', algo: 'des-ede-cbc', keyLen: 16, block: 8, ivLen: 8 });
CIPHERS.set('DES-EDE3-ECB', { mode: 'ECB', algo: 'des-ede3-ecb', keyLen: 24, block: 8, ivLen: 0 });
CIPHERS.set('DES-EDE3-CBC', { mode: 'CBC', algo: 'des-ede3-cbc', keyLen: 24, block: 8, ivLen: 8 });
CIPHERS.set('CHACHA20', { mode: 'STREAM', algo: 'chacha20', keyLen: 32, block: 1, ivLen: 12, counterIv: true });
CIPHERS.set('CHACHA20-POLY1305', { mode: 'AEAD', algo: 'chacha20-poly1305', keyLen: 32, block: 1, ivLen: 12 });

/** The additional data the firmware feeds GCM / ChaCha20-Poly1305 whenever an IV is given. */
export const AEAD_AAD = Buffer.from('1234567890123456', 'latin1');

export function cipherList(): string[] {
  return [...CIPHERS.keys()].slice(0, 64);
}

function addPadding(data: Buffer, pad: string, bs: number): Buffer | null {
  const n = bs - (data.length % bs);
  let p: Buffer;
  switch (pad) {
    case 'PKCS7':
      p = Buffer.alloc(n, n);
      break;
    case 'ZERO':
    case 'ZEROS':
      p = Buffer.alloc(n);
      break;
    case 'ONE_AND_ZEROS':
      p = Buffer.alloc(n);
      p[0] = 0x80;
      break;
    case 'ZEROS_AND_LEN':
      p = Buffer.alloc(n);
      p[n - 1] = n;
      break;
    default:
      return null;
  }
  return Buffer.concat([data, p]);
}

/** Strip padding from the last block; null when invalid. */
function stripPadding(block: Buffer, pad: string): Buffer | null {
  const last = block[block.length - 1];
  switch (pad) {
    case 'PKCS7': {
      if (last === 0 || last > block.length) return null;
      for (let i = block.length - last; i < block.length; i++) if (block[i] !== last) return null;
      return block.subarray(0, block.length - last);
    }
    case 'ZERO':
    case 'ZEROS': {
      let i = block.length;
      while (i > 0 && block[i - 1] === 0) i--;
      return block.subarray(0, i);
    }
    case 'ONE_AND_ZEROS': {
      let i = block.length - 1;
      while (i >= 0 && block[i] === 0) i--;
      if (i < 0 || block[i] !== 0x80) return null;
      return block.subarray(0, i);
    }
    case 'ZEROS_AND_LEN': {
      if (last === 0 || last > block.length) return null;
      for (let i = block.length - last; i < block.length - 1; i++) if (block[i] !== 0) return null;
      return block.subarray(0, block.length - last);
    }
  }
  return block;
}

export interface CipherResult {
  out: Buffer | null;
  /** GCM / ChaCha20-Poly1305 encryption: the 16-byte tag (second return value) */
  tag?: Buffer;
  errors: string[];
}

/** The firmware's luat_crypto_cipher_xxx; `out` null means "no value". */
export function runCipher(name: string, pad: string, data: Buffer, key: Buffer, iv: Buffer, encrypt: boolean): CipherResult {
  const errors: string[] = [];
  const spec = CIPHERS.get(name);
  if (!spec) return { out: null, errors: [`mbedtls_cipher_info fail ${name} not support`] };
  if (key.length !== spec.keyLen) return { out: null, errors: [`mbedtls_cipher_setkey fail -0x6100 ${name}`] };
  // mbedtls_cipher_set_iv: at most 16 bytes; a fixed-size IV must be at least that long (extra ignored)
  if (iv.length > 16 || (iv.length > 0 && spec.ivLen > 0 && iv.length < spec.ivLen)) {
    return { out: null, errors: [`mbedtls_cipher_set_iv fail -0x6100 ${name}`] };
  }
  const bs = spec.block;
  const k = spec.tripleKey ? Buffer.concat([key, key, key]) : key;
  const ivFixed = Buffer.alloc(spec.ivLen);
  iv.copy(ivFixed, 0, 0, Math.min(iv.length, spec.ivLen));
  const raw = (buf: Buffer): Buffer => {
    const useIv = spec.mode === 'ECB' ? null : spec.counterIv ? Buffer.concat([Buffer.alloc(4), ivFixed]) : ivFixed;
    const c = encrypt ? nodeCrypto.createCipheriv(spec.algo, k, useIv) : nodeCrypto.createDecipheriv(spec.algo, k, useIv);
    c.setAutoPadding(false);
    return Buffer.concat([c.update(buf), c.final()]);
  };
  const updateFail = () => errors.push(`mbedtls_cipher_update fail 0x6280 ${name}`);
  const finishFail = (code: string) => errors.push(`mbedtls_cipher_finish fail 0x${code} ${name}`);

  if (spec.mode === 'CCM') {
    // mbedtls' generic cipher_update has no CCM (it needs the one-shot auth_encrypt API)
    errors.push(`mbedtls_cipher_update fail 0x6080 ${name}`);
    return { out: Buffer.alloc(0), errors };
  }
  if (spec.mode === 'GCM' || spec.mode === 'AEAD') {
    if (iv.length === 0) return { out: null, errors: [`mbedtls_cipher_set_iv fail -0x6100 ${name}`] };
    const nonce = spec.mode === 'GCM' ? iv : ivFixed;
    const opts = { authTagLength: 16 } as nodeCrypto.CipherGCMOptions;
    if (encrypt) {
      const c = nodeCrypto.createCipheriv(spec.algo as nodeCrypto.CipherGCMTypes, key, nonce, opts);
      c.setAAD(AEAD_AAD);
      const out = Buffer.concat([c.update(data), c.final()]);
      return { out, tag: c.getAuthTag(), errors };
    }
    // the firmware never receives a tag on decrypt, so it cannot check one: no final()
    const d = nodeCrypto.createDecipheriv(spec.algo as nodeCrypto.CipherGCMTypes, key, nonce, opts);
    d.setAAD(AEAD_AAD);
    return { out: d.update(data), errors };
  }
  if (spec.mode === 'CTR' || spec.mode === 'CFB128' || spec.mode === 'OFB' || spec.mode === 'STREAM') {
    return { out: raw(data), errors };
  }
  if (spec.mode === 'ECB') {
    let input = data;
    if (encrypt && (pad === 'PKCS7' || pad === 'ZERO')) {
      const newLen = (Math.floor(data.length / bs) + 1) * bs;
      input = Buffer.alloc(newLen);
      data.copy(input);
      if (pad === 'PKCS7') input.fill(newLen - data.length, data.length);
    }
    const full = input.length - (input.length % bs);
    let out = raw(input.subarray(0, full));
    if (full !== input.length) {
      updateFail();
      return { out, errors };
    }
    if (!encrypt && pad === 'PKCS7' && out.length > 0) {
      const lastStart = out.length - bs;
      const stripped = stripPadding(out.subarray(lastStart), 'PKCS7');
      if (!stripped) {
        errors.push(`get_pkcs_padding fail 0x6200 ${name}`);
        return { out: out.subarray(0, lastStart), errors };
      }
      out = Buffer.concat([out.subarray(0, lastStart), stripped]);
    }
    return { out, errors };
  }
  // CBC
  const padded = ['PKCS7', 'ZERO', 'ZEROS', 'ONE_AND_ZEROS', 'ZEROS_AND_LEN'].includes(pad);
  const full = data.length - (data.length % bs);
  if (encrypt) {
    if (padded) return { out: raw(addPadding(data, pad, bs) as Buffer), errors };
    const out = raw(data.subarray(0, full));
    if (full !== data.length) finishFail('6280');
    return { out, errors };
  }
  if (full !== data.length || (padded && data.length === 0)) {
    finishFail('6280');
    return { out: raw(data.subarray(0, full)), errors };
  }
  const out = raw(data);
  if (!padded) return { out, errors };
  const lastStart = out.length - bs;
  const stripped = stripPadding(out.subarray(lastStart), pad);
  if (!stripped) {
    finishFail('6200');
    return { out: out.subarray(0, lastStart), errors };
  }
  return { out: Buffer.concat([out.subarray(0, lastStart), stripped]), errors };
}

// ------------------------------------------------------------------ binding

const STREAM_TYPE = 'crypto';

export function openCrypto(vm: Vm): void {
  const { e } = vm;
  const pushHex = (a: Args, b: Uint8Array) => {
    e.pushstring(a.L, hexUpper(b));
    return 1;
  };
  const hash = (algo: string) => (a: Args) => pushHex(a, nodeCrypto.createHash(algo).update(a.bytes(1)).digest());
  const hmac = (algo: string) => (a: Args) => {
    const s = a.bytes(1);
    const key = a.bytes(2);
    return pushHex(a, nodeCrypto.createHmac(algo, key).update(s).digest());
  };
  const cipher = (encrypt: boolean) => (a: Args) => {
    const name = a.optString(1, 'AES-128-ECB');
    const pad = a.optString(2, 'PKCS7');
    const data = Buffer.from(a.bytes(3));
    const key = Buffer.from(a.bytes(4));
    const iv = a.isNoneOrNil(5) ? Buffer.alloc(0) : Buffer.from(a.bytes(5));
    const r = runCipher(name, pad, data, key, iv, encrypt);
    for (const msg of r.errors) vm.log('E', 'crypto', msg);
    if (!r.out) return 0;
    e.pushbytes(a.L, r.out);
    if (r.tag) {
      e.pushbytes(a.L, r.tag);
      return 2;
    }
    return 1;
  };
  const opt16 = (a: Args, i: number, def: number) => (a.isNoneOrNil(i) ? def : Math.trunc(a.number(i)));

  e.newmetatable(vm.L, STREAM_TYPE);
  vm.pushBinding('__gc', (a) => {
    const id = e.tohostobject(a.L, 1, STREAM_TYPE);
    if (id !== null) vm.removeHostObject(id);
    return 0;
  });
  e.setfield(vm.L, -2, '__gc');
  e.pop(vm.L, 1);

  type Stream = { h: nodeCrypto.Hash | nodeCrypto.Hmac | null };

  vm.defineModule('crypto', {
    md5: hash('md5'),
    sha1: hash('sha1'),
    sha256: hash('sha256'),
    sha512: hash('sha512'),
    hmac_md5: hmac('md5'),
    hmac_sha1: hmac('sha1'),
    hmac_sha256: hmac('sha256'),
    hmac_sha512: hmac('sha512'),
    md: (a) => {
      const t = MD_NAMES[a.string(1)];
      const data = a.bytes(2);
      const key = e.type(a.L, 3) === LUA_TSTRING ? a.bytes(3) : null;
      if (!t) {
        vm.log('W', 'crypto', `no such message digest ${a.string(1)}`);
        return 0;
      }
      const h = key && key.length > 0 ? nodeCrypto.createHmac(t, key) : nodeCrypto.createHash(t);
      return pushHex(a, h.update(data).digest());
    },
    md_file: (a) => {
      const t = MD_NAMES[a.string(1)];
      const path = a.string(2);
      const key = e.type(a.L, 3) === LUA_TSTRING ? a.bytes(3) : null;
      if (Buffer.byteLength(path) < 2) return 0;
      if (!t) {
        vm.log('I', 'crypto', `no such message digest ${a.string(1)}`);
        return 0;
      }
      const data = readVfsFile(vm.vfs, path);
      if (!data) {
        vm.log('I', 'crypto', `no such file ${path}`);
        return 0;
      }
      const h = key && key.length > 0 ? nodeCrypto.createHmac(t, key) : nodeCrypto.createHash(t);
      return pushHex(a, h.update(data).digest());
    },
    hash_init: (a) => {
      const t = MD_NAMES[a.string(1)];
      const key = e.type(a.L, 2) === LUA_TSTRING ? a.bytes(2) : null;
      if (!t) return 0;
      const s: Stream = { h: key && key.length > 0 ? nodeCrypto.createHmac(t, key) : nodeCrypto.createHash(t) };
      e.newhostobject(a.L, vm.addHostObject(s), STREAM_TYPE);
      return 1;
    },
    hash_update: (a) => {
      const id = e.tohostobject(a.L, 1, STREAM_TYPE);
      if (id === null) a.typeError(1, STREAM_TYPE);
      const data = a.bytes(2);
      const s = vm.getHostObject<Stream>(id);
      s?.h?.update(data);
      return 0;
    },
    hash_finish: (a) => {
      const id = e.tohostobject(a.L, 1, STREAM_TYPE);
      if (id === null) a.typeError(1, STREAM_TYPE);
      const s = vm.getHostObject<Stream>(id);
      if (!s || !s.h) return 0;
      const d = s.h.digest();
      s.h = null;
      return pushHex(a, d);
    },
    cipher: cipher(true),
    cipher_encrypt: cipher(true),
    cipher_decrypt: cipher(false),
    cipher_list: (a) => {
      const l = cipherList();
      e.createtable(a.L, l.length, 0);
      l.forEach((n, i) => {
        e.pushstring(a.L, n);
        e.rawseti(a.L, -2, i + 1);
      });
      return 1;
    },
    cipher_suites: (a) => {
      e.createtable(a.L, 0, 0);
      return 1;
    },
    crc16: (a) => {
      const method = a.string(1);
      let data: Uint8Array;
      if (e.type(a.L, 2) === LUA_TUSERDATA) {
        const z = getZbuff(vm, a.L, 2);
        if (!z) return a.typeError(2, 'ZBUFF*');
        data = z.data.subarray(z.used);
      } else {
        data = e.isstring(a.L, 2) ? a.bytes(2) : Buffer.alloc(0);
      }
      let model: Crc16Model | undefined = CRC16_MODELS[method];
      if (method === 'USER-DEFINED') {
        model = {
          poly: opt16(a, 3, 0) & 0xffff,
          init: opt16(a, 4, 0) & 0xffff,
          xorout: opt16(a, 5, 0) & 0xffff,
          refin: (opt16(a, 6, 0) & 0xff) !== 0,
          refout: (opt16(a, 7, 0) & 0xff) !== 0,
        };
      }
      e.pushinteger(a.L, model ? crc16(data, model) : 0);
      return 1;
    },
    crc16_modbus: (a) => {
      const data = a.bytes(1);
      e.pushinteger(a.L, crc16Modbus(data, a.optInteger(2, 0xffff)));
      return 1;
    },
    crc32: (a) => {
      e.pushinteger(a.L, crc32(a.bytes(1)));
      return 1;
    },
    crc8: (a) => {
      const data = a.bytes(1);
      if (!e.isinteger(a.L, 2)) {
        e.pushinteger(a.L, crc8(data, 0, 0x07, false));
        return 1;
      }
      const poly = a.integer(2) & 0xff;
      const start = a.optInteger(3, 0) & 0xff;
      const rev = e.type(a.L, 4) === LUA_TBOOLEAN && e.toboolean(a.L, 4);
      e.pushinteger(a.L, crc8(data, start, poly, rev));
      return 1;
    },
    crc7: (a) => {
      const data = a.bytes(1);
      e.pushinteger(a.L, crc7(data, a.optInteger(2, 0xe5), a.optInteger(3, 0)));
      return 1;
    },
    checksum: (a) => {
      const data = a.bytes(1);
      const mode = a.optInteger(2, 0);
      let ck = 0;
      for (const b of data) ck = mode === 1 ? (ck + b) & 0xff : ck ^ b;
      e.pushinteger(a.L, ck);
      return 1;
    },
    trng: (a) => {
      let n = a.integer(1);
      if (n < 1) return 0;
      if (n > 128) n = 128;
      e.pushbytes(a.L, nodeCrypto.randomBytes(n));
      return 1;
    },
    totp: (a) => {
      const secret = base32Decode(a.bytes(1)) ?? Buffer.alloc(0);
      const t = e.isinteger(a.L, 2) ? a.integer(2) : Math.floor(Date.now() / 1000);
      const counter = Buffer.alloc(8);
      counter.writeBigUInt64BE(BigInt.asUintN(64, BigInt(Math.floor(t / 30))));
      const h = nodeCrypto.createHmac('sha1', secret).update(counter).digest();
      const off = h[19] & 0x0f;
      const r = (((h[off] & 0x7f) << 24) | (h[off + 1] << 16) | (h[off + 2] << 8) | h[off + 3]) % 1000000;
      e.pushinteger(a.L, r);
      return 1;
    },
    base64_encode: (a) => {
      e.pushbytes(a.L, base64Encode(a.bytes(1)));
      return 1;
    },
    base64_decode: (a) => {
      e.pushbytes(a.L, base64Decode(a.bytes(1)) ?? Buffer.alloc(0));
      return 1;
    },
    pk_sign: (a) => {
      const md = a.integer(1);
      const hash = a.bytes(2);
      const key = parsePrivateKey(a.bytes(3), a.optBytes(4));
      if (!key) {
        vm.log('E', 'crypto', 'pk_sign: key parse failed');
        return 0;
      }
      if (key.asymmetricKeyType === 'ec') {
        const sig = ecdsaSignHash(key, hash);
        if (!sig) {
          vm.log('E', 'crypto', 'pk_sign: unsupported EC curve');
          return 0;
        }
        e.pushbytes(a.L, sig);
        return 1;
      }
      const r = rsaSignHash(key, md, hash);
      if ('error' in r) {
        vm.log('E', 'crypto', `pk_sign: ${r.error}`);
        return 0;
      }
      e.pushbytes(a.L, r.sig);
      return 1;
    },
    pk_verify: (a) => {
      const md = a.integer(1);
      const hash = a.bytes(2);
      const key = parsePublicKey(a.bytes(3));
      const sig = a.bytes(4);
      const ok = key === null ? false : key.asymmetricKeyType === 'ec' ? ecdsaVerifyHash(key, hash, sig) : rsaVerifyHash(key, md, hash, sig);
      e.pushboolean(a.L, ok);
      return 1;
    },
    pk_type: (a) => {
      const data = a.bytes(1);
      const priv = a.boolean(2);
      const key = priv ? parsePrivateKey(data, null) : parsePublicKey(data);
      const name = key ? keyTypeName(key) : null;
      if (!name) return 0;
      e.pushstring(a.L, name);
      return 1;
    },
    pk_generate: (a) => {
      const r = generateKeyPair(a.optString(1, 'rsa'), a.optString(2, ''));
      if (!r) return 0;
      e.pushstring(a.L, r.priv);
      e.pushstring(a.L, r.pub);
      return 2;
    },
  }, { ...MD_TYPES });
}
