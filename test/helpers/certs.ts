/**
 * Test helper: self-signed certificates made at test time with `openssl`.
 *
 *   const skip = haveOpenssl() ? false : 'openssl is not installed';
 *   const pem = selfSigned(dir, 'server', 'tls.test', 'DNS:tls.test');   // EC P-256, 2 days
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Pem {
  key: string;
  cert: string;
}

export function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Writes `<name>.key` and `<name>.crt` into `dir` and returns their PEM text. */
export function selfSigned(dir: string, name: string, cn: string, san: string): Pem {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`],
    { stdio: 'ignore' },
  );
  return { key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8') };
}
