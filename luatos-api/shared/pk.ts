/**
 * Public-key helpers shared by crypto.pk_* and the rsa module (the firmware's mbedtls_pk layer),
 * on node:crypto:
 * - keys in PEM (text starting with "-----", optionally encrypted with `pwd`) or DER (PKCS#1,
 *   PKCS#8, SEC1, SubjectPublicKeyInfo); a key that does not parse → null, never a throw;
 * - the firmware's md numbers (mbedtls_md_type_t): 0 NONE, 3 MD5, 5 SHA1, 8 SHA224, 9 SHA256,
 *   10 SHA384, 11 SHA512;
 * - RSA PKCS#1 v1.5 signatures over a hash the script already computed (mbedtls_pk_sign takes
 *   the hash, node's sign() would hash again): DigestInfo || hash through the private-key
 *   operation with PKCS#1 type-1 padding; verification through the public-key operation;
 * - RSA PKCS#1 v1.5 decryption: Node 20 refuses RSA_PKCS1_PADDING for private decryption
 *   (CVE-2023-46809), so we run the raw RSA operation (RSA_NO_PADDING) and remove the type-2
 *   padding here — our own code because the library path is closed, not for device behaviour.
 */
import * as nodeCrypto from 'node:crypto';

export const MD_TYPES = { MD_MD5: 3, MD_SHA1: 5, MD_SHA224: 8, MD_SHA256: 9, MD_SHA384: 10, MD_SHA512: 11 } as const;

interface MdInfo {
  name: string;
  size: number;
  /** DER prefix of DigestInfo (RFC 8017 §9.2 note 1) */
  prefix: string;
}
const MD_BY_NUM = new Map<number, MdInfo>([
  [3, { name: 'md5', size: 16, prefix: '3020300c06082a864886f70d020505000410' }],
  [5, { name: 'sha1', size: 20, prefix: '3021300906052b0e03021a05000414' }],
  [8, { name: 'sha224', size: 28, prefix: '302d300d06096086480165030402040500041c' }],
  [9, { name: 'sha256', size: 32, prefix: '3031300d060960864801650304020105000420' }],
  [10, { name: 'sha384', size: 48, prefix: '3041300d060960864801650304020205000430' }],
  [11, { name: 'sha512', size: 64, prefix: '3051300d060960864801650304020305000440' }],
]);

function isPem(key: Uint8Array): boolean {
  return key.length >= 5 && Buffer.from(key.subarray(0, 5)).toString('latin1') === '-----';
}

/** Text of a PEM key up to its first NUL (the firmware passes a C string). */
function pemText(key: Uint8Array): string {
  const nul = key.indexOf(0);
  return Buffer.from(nul >= 0 ? key.subarray(0, nul) : key).toString('latin1');
}

export function parsePrivateKey(key: Uint8Array, pwd: Uint8Array | null): nodeCrypto.KeyObject | null {
  const passphrase = pwd && pwd.length > 0 ? Buffer.from(pwd) : undefined;
  try {
    if (isPem(key)) return nodeCrypto.createPrivateKey({ key: pemText(key), format: 'pem', passphrase });
  } catch {
    return null;
  }
  for (const type of ['pkcs1', 'pkcs8', 'sec1'] as const) {
    try {
      return nodeCrypto.createPrivateKey({ key: Buffer.from(key), format: 'der', type, passphrase });
    } catch {
      /* next format */
    }
  }
  return null;
}

export function parsePublicKey(key: Uint8Array): nodeCrypto.KeyObject | null {
  if (isPem(key)) {
    const text = pemText(key);
    // mbedtls_pk_parse_public_key reads public keys only
    if (!/-----BEGIN (RSA )?PUBLIC KEY-----/.test(text)) return null;
    try {
      return nodeCrypto.createPublicKey({ key: text, format: 'pem' });
    } catch {
      return null;
    }
  }
  for (const type of ['spki', 'pkcs1'] as const) {
    try {
      return nodeCrypto.createPublicKey({ key: Buffer.from(key), format: 'der', type });
    } catch {
      /* next format */
    }
  }
  return null;
}

/** "rsa" / "ec" (the names the firmware's pk_type gives), or null. */
export function keyTypeName(k: nodeCrypto.KeyObject): string | null {
  const t = k.asymmetricKeyType;
  if (t === 'rsa') return 'rsa';
  if (t === 'ec') return 'ec';
  return t ?? null;
}

function digestInfo(md: number, hash: Uint8Array): Buffer | null {
  if (md === 0) return Buffer.from(hash);
  const info = MD_BY_NUM.get(md);
  if (!info || hash.length !== info.size) return null;
  return Buffer.concat([Buffer.from(info.prefix, 'hex'), hash]);
}

export type SignResult = { sig: Buffer } | { error: string };

/** PKCS#1 v1.5 signature of a precomputed hash with an RSA private key. */
export function rsaSignHash(key: nodeCrypto.KeyObject, md: number, hash: Uint8Array): SignResult {
  if (key.asymmetricKeyType !== 'rsa') return { error: `key type ${key.asymmetricKeyType} not supported` };
  const di = digestInfo(md, hash);
  if (!di) return { error: `bad md type ${md} or hash length ${hash.length}` };
  try {
    return { sig: nodeCrypto.privateEncrypt({ key, padding: nodeCrypto.constants.RSA_PKCS1_PADDING }, di) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Verify a PKCS#1 v1.5 signature over a precomputed hash; false on any mismatch. */
export function rsaVerifyHash(key: nodeCrypto.KeyObject, md: number, hash: Uint8Array, sig: Uint8Array): boolean {
  if (key.asymmetricKeyType !== 'rsa') return false;
  const di = digestInfo(md, hash);
  if (!di) return false;
  const bytes = ((key.asymmetricKeyDetails?.modulusLength ?? 0) + 7) >> 3;
  if (sig.length !== bytes) return false;
  try {
    const got = nodeCrypto.publicDecrypt({ key, padding: nodeCrypto.constants.RSA_PKCS1_PADDING }, sig);
    return got.length === di.length && nodeCrypto.timingSafeEqual(got, di);
  } catch {
    return false;
  }
}

export function rsaModulusBytes(key: nodeCrypto.KeyObject): number {
  return ((key.asymmetricKeyDetails?.modulusLength ?? 0) + 7) >> 3;
}

/** RSAES-PKCS1-v1_5 encryption; null when the data is longer than k - 11 or the key is not RSA. */
export function rsaEncrypt(key: nodeCrypto.KeyObject, data: Uint8Array): Buffer | null {
  if (key.asymmetricKeyType !== 'rsa') return null;
  if (data.length > rsaModulusBytes(key) - 11) return null;
  try {
    return nodeCrypto.publicEncrypt({ key, padding: nodeCrypto.constants.RSA_PKCS1_PADDING }, data);
  } catch {
    return null;
  }
}

/** RSAES-PKCS1-v1_5 decryption (raw RSA, then the type-2 padding checked and removed). */
export function rsaDecrypt(key: nodeCrypto.KeyObject, data: Uint8Array): Buffer | null {
  if (key.asymmetricKeyType !== 'rsa') return null;
  const k = rsaModulusBytes(key);
  if (data.length !== k || k < 11) return null;
  let em: Buffer;
  try {
    em = nodeCrypto.privateDecrypt({ key, padding: nodeCrypto.constants.RSA_NO_PADDING }, data);
  } catch {
    return null;
  }
  if (em.length !== k || em[0] !== 0 || em[1] !== 2) return null;
  const sep = em.indexOf(0, 2);
  if (sep < 10) return null; // at least 8 non-zero padding bytes
  return em.subarray(sep + 1);
}

/** crypto.pk_generate: ("rsa", bits) or ("ec", curve) → PEM private (PKCS#1 / SEC1) and public. */
export function generateKeyPair(type: string, param: string): { priv: string; pub: string } | null {
  try {
    if (type === 'rsa') {
      const bits = Number(param || '2048');
      if (!Number.isInteger(bits) || bits < 1024 || bits > 4096) return null;
      const k = nodeCrypto.generateKeyPairSync('rsa', { modulusLength: bits });
      return {
        priv: k.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
        pub: k.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      };
    }
    if (type === 'ec') {
      const curves: Record<string, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1', secp256k1: 'secp256k1' };
      const c = curves[param || 'P-256'];
      if (!c) return null;
      const k = nodeCrypto.generateKeyPairSync('ec', { namedCurve: c });
      return {
        priv: k.privateKey.export({ type: 'sec1', format: 'pem' }) as string,
        pub: k.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      };
    }
  } catch {
    return null;
  }
  return null;
}
