/**
 * ECDSA over a hash the script already computed (crypto.pk_sign / pk_verify with an EC key, as
 * mbedtls_pk_sign/verify do). Our own code because node:crypto has no way to sign or verify a
 * precomputed digest with an EC key (sign()/verify() always hash the input); keys still come
 * from node:crypto (parsed, exported as JWK), and the tests check every signature with Node's
 * own verify and every Node signature with this verify.
 * Curves: P-256, P-384, P-521, secp256k1. The nonce k is random (mbedtls may use RFC 6979
 * deterministic k: **unsure**; both give valid signatures). Signatures are DER
 * (SEQUENCE { INTEGER r, INTEGER s }), as mbedtls writes them.
 */
import * as nodeCrypto from 'node:crypto';

interface Curve {
  p: bigint;
  a: bigint;
  n: bigint;
  gx: bigint;
  gy: bigint;
  bits: number;
}

const h = (s: string) => BigInt('0x' + s);
const CURVES: Record<string, Curve> = {
  'P-256': {
    p: h('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff'),
    a: h('ffffffff00000001000000000000000000000000fffffffffffffffffffffffc'),
    n: h('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
    gx: h('6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296'),
    gy: h('4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5'),
    bits: 256,
  },
  'P-384': {
    p: h('fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff'),
    a: h('fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffc'),
    n: h('ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973'),
    gx: h('aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7'),
    gy: h('3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f'),
    bits: 384,
  },
  'P-521': {
    p: (1n << 521n) - 1n,
    a: (1n << 521n) - 4n,
    n: h('01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409'),
    gx: h('00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66'),
    gy: h('011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650'),
    bits: 521,
  },
  secp256k1: {
    p: h('fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f'),
    a: 0n,
    n: h('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'),
    gx: h('79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'),
    gy: h('483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8'),
    bits: 256,
  },
};

type Pt = { x: bigint; y: bigint } | null;

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;

function inv(a: bigint, m: bigint): bigint {
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}

function add(c: Curve, P: Pt, Q: Pt): Pt {
  if (!P) return Q;
  if (!Q) return P;
  let l: bigint;
  if (P.x === Q.x) {
    if (mod(P.y + Q.y, c.p) === 0n) return null;
    l = mod((3n * P.x * P.x + c.a) * inv(2n * P.y, c.p), c.p);
  } else {
    l = mod((Q.y - P.y) * inv(Q.x - P.x, c.p), c.p);
  }
  const x = mod(l * l - P.x - Q.x, c.p);
  return { x, y: mod(l * (P.x - x) - P.y, c.p) };
}

function mul(c: Curve, k: bigint, P: Pt): Pt {
  let R: Pt = null;
  let A = P;
  for (; k > 0n; k >>= 1n) {
    if (k & 1n) R = add(c, R, A);
    A = add(c, A, A);
  }
  return R;
}

function hashInt(c: Curve, hash: Uint8Array): bigint {
  let e = hash.length ? BigInt('0x' + Buffer.from(hash).toString('hex')) : 0n;
  const hb = hash.length * 8;
  if (hb > c.bits) e >>= BigInt(hb - c.bits);
  return e;
}

const b64 = (s: string | undefined) => (s ? BigInt('0x' + (Buffer.from(s, 'base64url').toString('hex') || '0')) : 0n);

function curveOf(key: nodeCrypto.KeyObject): { c: Curve; jwk: nodeCrypto.JsonWebKey } | null {
  if (key.asymmetricKeyType !== 'ec') return null;
  let jwk: nodeCrypto.JsonWebKey;
  try {
    jwk = key.export({ format: 'jwk' });
  } catch {
    return null;
  }
  const c = CURVES[jwk.crv ?? ''];
  return c ? { c, jwk } : null;
}

function derInt(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let b = Buffer.from(hex, 'hex');
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return Buffer.concat([Buffer.from([0x02, b.length]), b]);
}

function derSeq(body: Buffer): Buffer {
  const len = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([0x30]), len, body]);
}

function parseDerSig(sig: Uint8Array): { r: bigint; s: bigint } | null {
  const b = Buffer.from(sig);
  if (b.length < 8 || b[0] !== 0x30) return null;
  let p = 1;
  let len = b[p++];
  if (len === 0x81) len = b[p++];
  else if (len & 0x80) return null;
  if (p + len !== b.length) return null;
  const ints: bigint[] = [];
  for (let i = 0; i < 2; i++) {
    if (b[p] !== 0x02) return null;
    const l = b[p + 1];
    if (l === 0 || l & 0x80 || p + 2 + l > b.length) return null;
    ints.push(BigInt('0x' + b.subarray(p + 2, p + 2 + l).toString('hex')));
    p += 2 + l;
  }
  if (p !== b.length) return null;
  return { r: ints[0], s: ints[1] };
}

/** DER ECDSA signature of `hash` with an EC private key; null for other keys or curves. */
export function ecdsaSignHash(key: nodeCrypto.KeyObject, hash: Uint8Array): Buffer | null {
  const k0 = curveOf(key);
  if (!k0 || !k0.jwk.d) return null;
  const { c, jwk } = k0;
  const d = b64(jwk.d);
  const e = hashInt(c, hash);
  const nBytes = Math.ceil(c.bits / 8) + 8;
  for (let tries = 0; tries < 64; tries++) {
    const k = mod(BigInt('0x' + nodeCrypto.randomBytes(nBytes).toString('hex')), c.n - 1n) + 1n;
    const R = mul(c, k, { x: c.gx, y: c.gy });
    if (!R) continue;
    const r = mod(R.x, c.n);
    if (r === 0n) continue;
    const s = mod(inv(k, c.n) * (e + r * d), c.n);
    if (s === 0n) continue;
    return derSeq(Buffer.concat([derInt(r), derInt(s)]));
  }
  return null;
}

/** Verify a DER ECDSA signature over `hash` with an EC public key. */
export function ecdsaVerifyHash(key: nodeCrypto.KeyObject, hash: Uint8Array, sig: Uint8Array): boolean {
  const k0 = curveOf(key);
  if (!k0) return false;
  const { c, jwk } = k0;
  const rs = parseDerSig(sig);
  if (!rs) return false;
  const { r, s } = rs;
  if (r < 1n || r >= c.n || s < 1n || s >= c.n) return false;
  const Q = { x: b64(jwk.x), y: b64(jwk.y) };
  const w = inv(s, c.n);
  const e = hashInt(c, hash);
  const X = add(c, mul(c, mod(e * w, c.n), { x: c.gx, y: c.gy }), mul(c, mod(r * w, c.n), Q));
  return X !== null && mod(X.x, c.n) === r;
}
