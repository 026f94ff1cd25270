/**
 * A self-signed TLS certificate for the local platform's HTTPS service, made at start by the
 * `selfsigned` library (X.509 through @peculiar/x509 on Node's WebCrypto): an EC P-256 key,
 * SHA-256 signature, subjectAltName with the platform's host names and 127.0.0.1. The device
 * does not verify certificates, so all that matters is that TLS clients can parse it; a
 * verifying client that is told to trust it (`ca: cert`) also accepts it for those names.
 */
import { isIP } from 'node:net';
import * as selfsigned from 'selfsigned';

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

/** Make a fresh key and self-signed certificate (a few ms). */
export async function makeSelfSignedCert(o: CertOptions = {}): Promise<SelfSignedCert> {
  const dnsNames = o.dnsNames ?? ['video.luatos.com', 'localhost'];
  const ips = o.ipAddresses ?? ['127.0.0.1'];
  for (const ip of ips) if (!isIP(ip)) throw new Error(`not an IP address: ${ip}`);
  const cn = o.commonName ?? dnsNames[0] ?? ips[0] ?? 'localhost';
  const now = Date.now();
  const pems = await selfsigned.generate(
    [
      { name: 'commonName', value: cn },
      { name: 'organizationName', value: 'luatos-pc local platform' },
    ],
    {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: new Date(now - 24 * 3600 * 1000),
      notAfterDate: new Date(now + (o.days ?? 825) * 24 * 3600 * 1000),
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [...dnsNames.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))] },
      ],
    },
  );
  return { cert: pems.cert, key: pems.private };
}
