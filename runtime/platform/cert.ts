/**
 * A self-signed TLS certificate for the local platform's HTTPS service, made at start with
 * node:crypto only (no openssl binary, no npm package): an EC P-256 key and a minimal X.509 v3
 * certificate whose DER is written here by hand. The device does not verify certificates, so
 * all that matters is that TLS clients can parse it; the subjectAltName lists the platform's
 * host names and 127.0.0.1 so that a verifying client that is told to trust it (`ca: cert`)
 * also accepts it.
 */
import * as crypto from 'node:crypto';

export interface SelfSignedCert {
  /** PEM certificate */
  cert: string;
  /** PEM PKCS#8 private key */
  key: string;
}

export interface CertOptions {
  /** subject common name (default the first DNS name) */
  commonName?: string;
  /** DNS names for subjectAltName (default video.luatos.com, localhost) */
  dnsNames?: string[];
  /** IPv4/IPv6 addresses for subjectAltName (default 127.0.0.1) */
  ipAddresses?: string[];
  /** validity in days from yesterday (default 825) */
  days?: number;
}

// ------------------------------------------------------------------ minimal DER encoder
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const bitString = (b: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
const explicit = (n: number, b: Buffer): Buffer => tlv(0xa0 + n, b);

function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

function oid(s: string): Buffer {
  const parts = s.split('.').map(Number);
  const out: number[] = [40 * parts[0] + parts[1]];
  for (const p of parts.slice(2)) {
    const groups: number[] = [p & 0x7f];
    let v = Math.floor(p / 128);
    while (v > 0) {
      groups.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const y = d.getUTCFullYear();
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050
  if (y < 2050) return tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`, 'ascii'));
  return tlv(0x18, Buffer.from(`${y}${rest}`, 'ascii'));
}

function ipBytes(ip: string): Buffer {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand ::
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16) & 0xffff, i * 2));
  return b;
}

const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const OID_SAN = '2.5.29.17';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

function name(cn: string): Buffer {
  const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
  return seq(set(seq(oid(OID_O), utf8('luatos-pc local platform'))), set(seq(oid(OID_CN), utf8(cn))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), octets(value));
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Make a fresh key and self-signed certificate (a few ms). */
export function makeSelfSignedCert(o: CertOptions = {}): SelfSignedCert {
  const dnsNames = o.dnsNames ?? ['video.luatos.com', 'localhost'];
  const ips = o.ipAddresses ?? ['127.0.0.1'];
  const cn = o.commonName ?? dnsNames[0] ?? ips[0] ?? 'localhost';
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const now = Date.now();
  const notBefore = new Date(now - 24 * 3600 * 1000);
  const notAfter = new Date(now + (o.days ?? 825) * 24 * 3600 * 1000);
  const serial = crypto.randomBytes(16);
  serial[0] &= 0x7f;
  serial[0] |= 0x01; // positive, non-zero, 16 bytes
  const sigAlg = seq(oid(OID_ECDSA_SHA256));
  const san = seq(...dnsNames.map((d) => tlv(0x82, Buffer.from(d, 'ascii'))), ...ips.map((ip) => tlv(0x87, ipBytes(ip))));
  const extensions = seq(
    extension(OID_BASIC_CONSTRAINTS, true, seq()),
    extension(OID_KEY_USAGE, true, tlv(0x03, Buffer.from([0x07, 0x80]))), // digitalSignature
    extension(OID_EXT_KEY_USAGE, false, seq(oid(OID_SERVER_AUTH))),
    extension(OID_SAN, false, san),
  );
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    sigAlg,
    name(cn),
    seq(time(notBefore), time(notAfter)),
    name(cn),
    spki,
    explicit(3, extensions),
  );
  const signature = crypto.sign('sha256', tbs, privateKey); // ECDSA, DER-encoded (r, s)
  const cert = seq(tbs, sigAlg, bitString(signature));
  return { cert: pem('CERTIFICATE', cert), key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}
