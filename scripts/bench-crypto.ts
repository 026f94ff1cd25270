/**
 * bench:crypto2 — the software-crypto bindings of part 2, per operation (median of N runs) and,
 * where Node has the same operation natively, the ratio to it:
 *   npx tsc -p . && node dist/scripts/bench-crypto.js
 * (suggested package.json entry: "bench:crypto2": "tsc -p . && node dist/scripts/bench-crypto.js")
 */
import * as nodeCrypto from 'node:crypto';
import { sm2Sign, sm2Verify, sm4Encrypt, sm3Digest } from '../luatos-api/gmssl';
import { ecdsaSignHash, ecdsaVerifyHash } from '../luatos-api/shared/ecdsa';
import { rsaSignHash } from '../luatos-api/shared/pk';
import { xxteaEncrypt } from '../luatos-api/xxtea';
import { fmt, loadAvg, median } from './bench/util';

function time(fn: () => unknown, n: number): number {
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  return median(t);
}

const rows: [string, number, number | undefined][] = [];
const D = '3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8';
const PX = '09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020';
const PY = 'CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13';
const id = Buffer.from('1234567812345678');
const msg = Buffer.from('message digest');
const sig = sm2Sign(D, msg, id) as Buffer;
rows.push(['gmssl.sm2sign (sm-crypto)', time(() => sm2Sign(D, msg, id), 21), undefined]);
rows.push(['gmssl.sm2verify (sm-crypto)', time(() => sm2Verify(PX, PY, msg, id, sig), 21), undefined]);
const kib = nodeCrypto.randomBytes(1024);
const k16 = Buffer.from('1234567890123456');
rows.push(['gmssl.sm3 1 KiB (sm-crypto)', time(() => sm3Digest(kib), 201), time(() => nodeCrypto.createHash('sm3').update(kib).digest(), 201)]);
rows.push([
  'gmssl.sm4encrypt ECB 1 KiB (sm-crypto)',
  time(() => sm4Encrypt('ECB', 'NONE', kib, k16, Buffer.alloc(0)), 201),
  time(() => {
    const c = nodeCrypto.createCipheriv('sm4-ecb', k16, null);
    c.setAutoPadding(false);
    return Buffer.concat([c.update(kib), c.final()]);
  }, 201),
]);
const ec = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const h = nodeCrypto.createHash('sha256').update('x').digest();
const es = ecdsaSignHash(ec.privateKey, h) as Buffer;
rows.push(['crypto.pk_sign ECDSA P-256 (ours)', time(() => ecdsaSignHash(ec.privateKey, h), 21), time(() => nodeCrypto.sign('sha256', Buffer.from('x'), ec.privateKey), 21)]);
rows.push(['crypto.pk_verify ECDSA P-256 (ours)', time(() => ecdsaVerifyHash(ec.publicKey, h, es), 21), time(() => nodeCrypto.verify('sha256', Buffer.from('x'), ec.publicKey, es), 21)]);
const rsa = nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
rows.push(['crypto.pk_sign RSA-2048 (node)', time(() => rsaSignHash(rsa.privateKey, 9, h), 21), time(() => nodeCrypto.sign('sha256', Buffer.from('x'), rsa.privateKey), 21)]);
rows.push(['xxtea.encrypt 1 KiB (ours)', time(() => xxteaEncrypt(kib, Buffer.from('1234567890')), 201), undefined]);

console.log(`bench:crypto2  (load ${loadAvg()})`);
console.log(`${'operation'.padEnd(42)} ${'median ms'.padStart(10)} ${'node ms'.padStart(9)} ${'ratio'.padStart(8)}`);
for (const [name, ours, node] of rows) {
  console.log(`${name.padEnd(42)} ${fmt(ours, 3).padStart(10)} ${(node === undefined ? '-' : fmt(node, 3)).padStart(9)} ${(node ? fmt(ours / node, 1) + 'x' : '-').padStart(8)}`);
}
