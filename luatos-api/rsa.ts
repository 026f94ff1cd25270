/**
 * rsa (components/rsa/binding/luat_lib_rsa.c), luatos-api-2.md §16, on node:crypto
 * (helpers in shared/pk.ts):
 * - `encrypt(pub_pem, data)`: RSAES-PKCS1-v1_5; data longer than keybytes − 11 → no value.
 * - `decrypt(priv_pem, data, pwd="")` → plaintext or no value.
 * - `sign(priv_pem, md, hash, pwd="")`: PKCS#1 v1.5 over the given hash (as crypto.pk_sign).
 * - `verify(pub_pem, md, hash, sig)` → true/false; no value when the key does not parse.
 * - Constants MD_MD5 3, MD_SHA1 5, MD_SHA224 8, MD_SHA256 9.
 * Failures log an `E/rsa` line and give no value, as the firmware's binding does.
 */
import type { Vm } from '../runtime/core/vm/vm';
import { parsePrivateKey, parsePublicKey, rsaDecrypt, rsaEncrypt, rsaSignHash, rsaVerifyHash } from './shared/pk';

export function openRsa(vm: Vm): void {
  const { e } = vm;
  vm.defineModule(
    'rsa',
    {
      encrypt: (a) => {
        const key = parsePublicKey(a.bytes(1));
        const data = a.bytes(2);
        if (!key) {
          vm.log('E', 'rsa', 'public key parse failed');
          return 0;
        }
        const out = rsaEncrypt(key, data);
        if (!out) {
          vm.log('E', 'rsa', `encrypt failed, data len ${data.length}`);
          return 0;
        }
        e.pushbytes(a.L, out);
        return 1;
      },
      decrypt: (a) => {
        const key = parsePrivateKey(a.bytes(1), a.optBytes(3));
        const data = a.bytes(2);
        if (!key) {
          vm.log('E', 'rsa', 'private key parse failed');
          return 0;
        }
        const out = rsaDecrypt(key, data);
        if (!out) {
          vm.log('E', 'rsa', 'decrypt failed');
          return 0;
        }
        e.pushbytes(a.L, out);
        return 1;
      },
      sign: (a) => {
        const key = parsePrivateKey(a.bytes(1), a.optBytes(4));
        const md = a.integer(2);
        const hash = a.bytes(3);
        if (!key) {
          vm.log('E', 'rsa', 'private key parse failed');
          return 0;
        }
        const r = rsaSignHash(key, md, hash);
        if ('error' in r) {
          vm.log('E', 'rsa', `sign failed: ${r.error}`);
          return 0;
        }
        e.pushbytes(a.L, r.sig);
        return 1;
      },
      verify: (a) => {
        const key = parsePublicKey(a.bytes(1));
        const md = a.integer(2);
        const hash = a.bytes(3);
        const sig = a.bytes(4);
        if (!key) {
          vm.log('E', 'rsa', 'public key parse failed');
          return 0;
        }
        e.pushboolean(a.L, rsaVerifyHash(key, md, hash, sig));
        return 1;
      },
    },
    { MD_MD5: 3, MD_SHA1: 5, MD_SHA224: 8, MD_SHA256: 9 },
  );
}
