/**
 * gmssl (components/gmssl/bind/luat_lib_gmssl.c): SM2 / SM3 / SM4 on the sm-crypto library.
 *
 * - `sm3(data)` (alias `sm3update`) and `sm3hmac(data, key)` → the 32 raw digest bytes.
 * - `sm4encrypt(mode, padding, data, key, iv)` / `sm4decrypt(...)`: mode "ECB" or "CBC",
 *   padding NONE / ZERO / PKCS5 / PKCS7, a 16-byte key, a 16-byte IV for CBC; bad arguments
 *   raise the firmware's error texts. Encrypt pads with 1..16 bytes (a whole block when the input
 *   is aligned; NONE needs aligned input). Decrypt removes padding the firmware's way: PKCS
 *   drops `last byte` bytes without checking them (a value > 16 yields ""); ZERO drops up to 16
 *   trailing zero bytes.
 * - `sm2encrypt(pkx, pky, data, mode=false, mode2=false)`: public key as two 64-char hex
 *   strings, data 1..255 bytes. mode false = GmSSL's DER (SEQUENCE { INTEGER x, INTEGER y,
 *   OCTET STRING C3, OCTET STRING C2 }); mode true: mode2 false = x||y||C3||C2, mode2 true =
 *   04||x||y||C2||C3. `sm2decrypt(priv, data, mode, mode2)` reverses it; data < 97 bytes or a
 *   failure → no value.
 * - `sm2sign(priv, data, id="1234567812345678")` → r||s (64 raw bytes); an empty id signs
 *   SM3(data) without the Z prefix, as the firmware does. `sm2verify(pkx, pky, data, id, sig)`
 *   → true/false (no value for bad key/sig lengths or empty data).
 * - `sm2keygen()` → pkx, pky, private key as uppercase hex (the case is **unsure**: the
 *   firmware's luat_str_tohex; uppercase chosen).
 * The DER framing of the SM2 ciphertext is our own code (sm-crypto only outputs C1C3C2/C1C2C3).
 */
import { sm2, sm3, sm4 } from 'sm-crypto';
import { LUA_TBOOLEAN, LuaError } from '../runtime/core/engine/types';
import type { Args } from '../runtime/core/vm/lua-value';
import type { Vm } from '../runtime/core/vm/vm';

const SM2_MAX_PLAINTEXT = 255;
const DEFAULT_ID = '1234567812345678';
const HEX64 = /^[0-9a-fA-F]{64}$/;

const sm2x = sm2 as typeof sm2 & {
  getPublicKeyFromPrivateKey(priv: string): string;
  verifyPublicKey(pub: string): boolean;
};

function arr(b: Uint8Array): number[] {
  return Array.from(b);
}

export function sm3Digest(data: Uint8Array): Buffer {
  return Buffer.from(sm3(arr(data)), 'hex');
}

export function sm3Hmac(data: Uint8Array, key: Uint8Array): Buffer {
  return Buffer.from(sm3(arr(data), { key: arr(key), mode: 'hmac' }), 'hex');
}

// ------------------------------------------------------------------ DER (GmSSL SM2 ciphertext)

function derLen(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}

function derTlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLen(body.length), body]);
}

function derInteger(v: Buffer): Buffer {
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  let body = v.subarray(i);
  if (body[0] & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return derTlv(0x02, body);
}

interface Tlv {
  tag: number;
  body: Buffer;
  next: number;
}

function readTlv(b: Buffer, off: number): Tlv | null {
  if (off + 2 > b.length) return null;
  const tag = b[off];
  let len = b[off + 1];
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 2 || p + n > b.length) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | b[p + i];
    p += n;
  }
  if (p + len > b.length) return null;
  return { tag, body: b.subarray(p, p + len), next: p + len };
}

function int32(body: Buffer): Buffer | null {
  let v = body;
  while (v.length > 32 && v[0] === 0) v = v.subarray(1);
  if (v.length > 32) return null;
  const out = Buffer.alloc(32);
  v.copy(out, 32 - v.length);
  return out;
}

export function sm2CipherToDer(x: Buffer, y: Buffer, c3: Buffer, c2: Buffer): Buffer {
  return derTlv(0x30, Buffer.concat([derInteger(x), derInteger(y), derTlv(0x04, c3), derTlv(0x04, c2)]));
}

export function sm2CipherFromDer(der: Buffer): { x: Buffer; y: Buffer; c3: Buffer; c2: Buffer } | null {
  const seq = readTlv(der, 0);
  if (!seq || seq.tag !== 0x30 || seq.next !== der.length) return null;
  const b = seq.body;
  const tx = readTlv(b, 0);
  const ty = tx && readTlv(b, tx.next);
  const th = ty && readTlv(b, ty.next);
  const tc = th && readTlv(b, th.next);
  if (!tx || !ty || !th || !tc || tc.next !== b.length) return null;
  if (tx.tag !== 0x02 || ty.tag !== 0x02 || th.tag !== 0x04 || tc.tag !== 0x04 || th.body.length !== 32) return null;
  const x = int32(tx.body);
  const y = int32(ty.body);
  if (!x || !y) return null;
  return { x, y, c3: th.body, c2: tc.body };
}

// ------------------------------------------------------------------ SM2

export function sm2Encrypt(pkx: string, pky: string, data: Uint8Array, mode: boolean, mode2: boolean): Buffer | null {
  const pub = '04' + pkx.toLowerCase() + pky.toLowerCase();
  if (data.length < 1 || !sm2x.verifyPublicKey(pub)) return null;
  const hex = sm2.doEncrypt(arr(data), pub, 1); // x||y||C3||C2
  const all = Buffer.from(hex, 'hex');
  const x = all.subarray(0, 32);
  const y = all.subarray(32, 64);
  const c3 = all.subarray(64, 96);
  const c2 = all.subarray(96);
  if (!mode) return sm2CipherToDer(x, y, c3, c2);
  if (!mode2) return all;
  return Buffer.concat([Buffer.from([4]), x, y, c2, c3]);
}

export function sm2Decrypt(priv: string, data: Buffer, mode: boolean, mode2: boolean): Buffer | null {
  let parts: { x: Buffer; y: Buffer; c3: Buffer; c2: Buffer } | null;
  if (!mode) parts = sm2CipherFromDer(data);
  else if (!mode2) parts = { x: data.subarray(0, 32), y: data.subarray(32, 64), c3: data.subarray(64, 96), c2: data.subarray(96) };
  else {
    const d = data.subarray(1);
    parts = { x: d.subarray(0, 32), y: d.subarray(32, 64), c2: d.subarray(64, d.length - 32), c3: d.subarray(d.length - 32) };
  }
  if (!parts || parts.c2.length < 1 || parts.c2.length > SM2_MAX_PLAINTEXT) return null;
  const hex = Buffer.concat([parts.x, parts.y, parts.c3, parts.c2]).toString('hex');
  let out: unknown;
  try {
    out = sm2.doDecrypt(hex, priv.toLowerCase(), 1, { output: 'array' });
  } catch {
    return null;
  }
  if (!Array.isArray(out) || out.length === 0) return null;
  return Buffer.from(out as number[]);
}

function validPrivate(priv: string): boolean {
  if (!HEX64.test(priv)) return false;
  const d = BigInt('0x' + priv);
  const n = BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123');
  return d >= 1n && d < n - 1n;
}

export function sm2Sign(priv: string, data: Uint8Array, id: Uint8Array): Buffer | null {
  if (!validPrivate(priv)) return null;
  const p = priv.toLowerCase();
  const pub = sm2x.getPublicKeyFromPrivateKey(p);
  const hex =
    id.length > 0
      ? sm2.doSignature(arr(data), p, { hash: true, publicKey: pub, userId: Buffer.from(id).toString('utf8') })
      : sm2.doSignature(arr(sm3Digest(data)), p, { hash: false });
  return Buffer.from(hex.padStart(128, '0'), 'hex');
}

export function sm2Verify(pkx: string, pky: string, data: Uint8Array, id: Uint8Array, sig: Uint8Array): boolean {
  const pub = '04' + pkx.toLowerCase() + pky.toLowerCase();
  if (!HEX64.test(pkx) || !HEX64.test(pky) || !sm2x.verifyPublicKey(pub)) return false;
  const sigHex = Buffer.from(sig).toString('hex');
  try {
    return id.length > 0
      ? sm2.doVerifySignature(arr(data), sigHex, pub, { hash: true, userId: Buffer.from(id).toString('utf8') })
      : sm2.doVerifySignature(arr(sm3Digest(data)), sigHex, pub, { hash: false });
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ SM4

function sm4Raw(data: Buffer, key: Buffer, cbcIv: Buffer | null, encrypt: boolean): Buffer {
  if (data.length === 0) return Buffer.alloc(0);
  const opts = cbcIv
    ? { padding: 'none' as const, mode: 'cbc' as const, iv: arr(cbcIv), output: 'array' as const }
    : { padding: 'none' as const, output: 'array' as const };
  const out = encrypt ? sm4.encrypt(arr(data), arr(key), opts) : sm4.decrypt(arr(data), arr(key), opts);
  return Buffer.from(out);
}

const SM4_PADS = new Set(['NONE', 'PKCS5', 'PKCS7', 'ZERO']);

export function sm4Encrypt(mode: string, pad: string, data: Buffer, key: Buffer, iv: Buffer): Buffer {
  if (key.length !== 16) throw new LuaError(`invalid password length=${key.length}, only support 128bit Password`);
  if (mode !== 'ECB' && mode !== 'CBC') throw new LuaError(`invalid mode=${mode}, only support ECB,CBC`);
  if (!SM4_PADS.has(pad)) throw new LuaError(`invalid padding=${pad}, only support NONE,PKCS5,PKCS7,ZERO`);
  if (mode === 'CBC' && iv.length !== 16) throw new LuaError(`invalid iv length=${iv.length}, only support 128bit IV`);
  let input = data;
  if (pad === 'NONE') {
    if (data.length % 16 !== 0) throw new LuaError(`buf len should be multiple of 16, len=${data.length}`);
  } else {
    const n = 16 - (data.length % 16);
    input = Buffer.concat([data, Buffer.alloc(n, pad === 'ZERO' ? 0 : n)]);
  }
  return sm4Raw(input, key, mode === 'CBC' ? iv : null, true);
}

/** The firmware's DeletePaddingBuf over the last `region` bytes of `buf`. */
function removePadding(buf: Buffer, pad: string): Buffer {
  if (buf.length === 0) return buf;
  if (pad === 'PKCS5' || pad === 'PKCS7') {
    const n = buf[buf.length - 1];
    return n <= 16 ? buf.subarray(0, buf.length - n) : Buffer.alloc(0);
  }
  if (pad === 'ZERO') {
    let n = 0;
    while (n < 16 && n < buf.length && buf[buf.length - 1 - n] === 0) n++;
    return buf.subarray(0, buf.length - n);
  }
  return buf;
}

export function sm4Decrypt(mode: string, pad: string, data: Buffer, key: Buffer, iv: Buffer): Buffer {
  const isCbc = mode === 'CBC';
  const isEcb = mode === 'ECB';
  if ((isCbc || isEcb) && data.length % 16 !== 0) {
    throw new LuaError(`invalid BufLen length=${data.length}, BufLen must be Integer multiples of 16`);
  }
  if (key.length !== 16) throw new LuaError(`invalid password length=${key.length}, only support 128, 192, 256 bits`);
  if (!isCbc && !isEcb) throw new LuaError(`invalid mode=${mode}, only support ECB,CBC,CTR`);
  if (!SM4_PADS.has(pad)) throw new LuaError(`invalid padding=${pad}, only support NONE,PKCS5,PKCS7,ZERO`);
  if (isCbc && iv.length !== 16) throw new LuaError(`invalid iv length=${iv.length}, only support 16`);
  const plain = sm4Raw(data, key, isCbc ? iv : null, false);
  if (isEcb) {
    // only the last block loses its padding; a bad PKCS value drops just that block
    const head = plain.subarray(0, Math.max(0, plain.length - 16));
    return Buffer.concat([head, removePadding(plain.subarray(head.length), pad)]);
  }
  return removePadding(plain, pad);
}

// ------------------------------------------------------------------ binding

export function openGmssl(vm: Vm): void {
  const { e } = vm;
  /** lua_tolstring: a string or number as text, anything else as "" */
  const loose = (a: Args, i: number): Buffer => (e.isstring(a.L, i) ? Buffer.from(a.bytes(i)) : Buffer.alloc(0));
  const optBool = (a: Args, i: number): boolean => a.type(i) === LUA_TBOOLEAN && a.boolean(i);
  const push = (a: Args, b: Buffer | null) => {
    if (!b) return 0;
    e.pushbytes(a.L, b);
    return 1;
  };
  const sm3fn = (a: Args) => push(a, sm3Digest(a.bytes(1)));
  vm.defineModule('gmssl', {
    sm3: sm3fn,
    sm3update: sm3fn,
    sm3hmac: (a) => push(a, sm3Hmac(a.bytes(1), a.bytes(2))),
    sm4encrypt: (a) => push(a, sm4Encrypt(a.string(1), a.string(2), Buffer.from(a.bytes(3)), Buffer.from(a.bytes(4)), loose(a, 5))),
    sm4decrypt: (a) => push(a, sm4Decrypt(a.string(1), a.string(2), Buffer.from(a.bytes(3)), Buffer.from(a.bytes(4)), loose(a, 5))),
    sm2encrypt: (a) => {
      const pkx = loose(a, 1).toString('latin1');
      const pky = loose(a, 2).toString('latin1');
      const data = loose(a, 3);
      if (pkx.length !== 64) {
        vm.log('E', 'sm', `invalid pkx password length=${pkx.length}`);
        return 0;
      }
      if (pky.length !== 64) {
        vm.log('E', 'sm', `invalid pky password length=${pky.length}`);
        return 0;
      }
      if (data.length > SM2_MAX_PLAINTEXT) {
        vm.log('D', 'sm', `data too large max ${SM2_MAX_PLAINTEXT} but ${data.length}`);
        return 0;
      }
      if (!HEX64.test(pkx) || !HEX64.test(pky)) {
        vm.log('D', 'sm', 'sm2_key_set_public_key -1');
        return 0;
      }
      const out = sm2Encrypt(pkx, pky, data, optBool(a, 4), optBool(a, 5));
      if (!out) vm.log('D', 'sm', 'sm2_encrypt ret -1');
      return push(a, out);
    },
    sm2decrypt: (a) => {
      const priv = loose(a, 1).toString('latin1');
      const data = loose(a, 2);
      if (priv.length !== 64) {
        vm.log('E', 'sm', `invalid private password length=${priv.length}`);
        return 0;
      }
      if (data.length < 97) {
        vm.log('E', 'sm', '待数据太短,应该要97字节以上');
        return 0;
      }
      const out = validPrivate(priv) ? sm2Decrypt(priv, data, optBool(a, 3), optBool(a, 4)) : null;
      if (!out) vm.log('D', 'sm', 'sm2_decrypt ret -1');
      return push(a, out);
    },
    sm2sign: (a) => {
      const priv = a.string(1);
      const data = a.bytes(2);
      const id = a.isNoneOrNil(3) ? Buffer.from(DEFAULT_ID) : a.bytes(3);
      if (priv.length !== 64) {
        vm.log('W', 'sm', 'private key len must be 64 byte HEX string');
        return 0;
      }
      if (data.length < 1) {
        vm.log('W', 'sm', '待签名数据不能为空字符串');
        return 0;
      }
      const sig = sm2Sign(priv, data, id);
      if (!sig) vm.log('W', 'sm', 'sm2_key_set_private_key -1');
      return push(a, sig);
    },
    sm2verify: (a) => {
      const pkx = a.string(1);
      const pky = a.string(2);
      const data = a.bytes(3);
      const id = a.isNoneOrNil(4) ? Buffer.from(DEFAULT_ID) : a.bytes(4);
      const sig = a.bytes(5);
      if (pkx.length !== 64 || pky.length !== 64) {
        vm.log('W', 'sm', 'public key x/y len must be 64 byte HEX string');
        return 0;
      }
      if (data.length < 1) {
        vm.log('W', 'sm', '待签名数据不能为空字符串');
        return 0;
      }
      if (sig.length !== 64) {
        vm.log('W', 'sm', 'sig数据长度应该在64字节');
        return 0;
      }
      e.pushboolean(a.L, sm2Verify(pkx, pky, data, id, sig));
      return 1;
    },
    sm2keygen: (a) => {
      const kp = sm2.generateKeyPairHex();
      const pub = kp.publicKey.slice(2).padStart(128, '0').toUpperCase();
      e.pushstring(a.L, pub.slice(0, 64));
      e.pushstring(a.L, pub.slice(64));
      e.pushstring(a.L, kp.privateKey.padStart(64, '0').toUpperCase());
      return 3;
    },
  });
}
