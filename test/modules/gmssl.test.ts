import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { runSuite } from '../base/suite';
import { removeRunDirs } from './mods2-util';

// Standard examples: GB/T 32905 (SM3 "abc" and "abcd"×16), GB/T 32907 (SM4 example 1),
// GB/T 32918.5 / GM/T 0003.5 (SM2 key pair and the signature of "message digest" with
// ID "1234567812345678"). Anything else is compared with Node's OpenSSL (SM3, HMAC-SM3,
// SM4-ECB/CBC) or opened here with Node's ECDH on the SM2 curve (SM2 encryption).
const D = '3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8';
const PX = '09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020';
const PY = 'CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13';
const SIG = 'F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA';
const bin = Buffer.from([0, 1, 2, 0xff, 0x80, 0x41, 0x42, 0, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
const sm3bin = nodeCrypto.createHash('sm3').update(bin).digest('hex').toUpperCase();
const hmac = nodeCrypto.createHmac('sm3', 'key').update('LuatOS').digest('hex').toUpperCase();
const k16 = Buffer.from('1234567890123456');
const iv16 = Buffer.from('1234567890666666');
const sm4 = (algo: string, data: Buffer, iv: Buffer | null) => {
  const c = nodeCrypto.createCipheriv(algo, k16, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]).toString('hex').toUpperCase();
};
const pkcs = (s: string) => {
  const n = 16 - (s.length % 16);
  return Buffer.concat([Buffer.from(s), Buffer.alloc(n, n)]);
};
const ecbPkcs5 = sm4('sm4-ecb', pkcs('SM4 ECB Pkcs5Padding test'), null);
const cbcPkcs5 = sm4('sm4-cbc', pkcs('SM4 CBC Pkcs5Padding test'), iv16);
const ecbZero = sm4('sm4-ecb', Buffer.concat([Buffer.from('SM4 ECB ZeroPadding test'), Buffer.alloc(8)]), null);

// SM2 decryption done here, independently: d·C1 with Node's ECDH, y2 from the curve equation,
// KDF and C3 with Node's SM3.
const P = BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF');
const B = BigInt('0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93');
const modpow = (b: bigint, e: bigint, m: bigint) => {
  let r = 1n;
  b %= m;
  for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
};
const be32 = (n: bigint) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');
function sm2Open(x1: Buffer, y1: Buffer, c3: Buffer, c2: Buffer): Buffer | null {
  const ecdh = nodeCrypto.createECDH('SM2');
  ecdh.setPrivateKey(Buffer.from(D, 'hex'));
  const x2 = ecdh.computeSecret(Buffer.concat([Buffer.from([4]), x1, y1]));
  const x = BigInt('0x' + x2.toString('hex'));
  const rhs = (((x * x * x - 3n * x + B) % P) + P) % P;
  const y = modpow(rhs, (P + 1n) / 4n, P);
  for (const yy of [y, P - y]) {
    const y2 = be32(yy);
    const parts: Buffer[] = [];
    for (let ct = 1; parts.length * 32 < c2.length; ct++) {
      const c = Buffer.alloc(4);
      c.writeUInt32BE(ct);
      parts.push(nodeCrypto.createHash('sm3').update(Buffer.concat([x2, y2, c])).digest());
    }
    const t = Buffer.concat(parts);
    const m = Buffer.from(c2.map((b, i) => b ^ t[i]));
    const h = nodeCrypto.createHash('sm3').update(Buffer.concat([x2, m, y2])).digest();
    if (h.equals(c3)) return m;
  }
  return null;
}

const BODY = String.raw`
local H = function(s) return (string.toHex(s)) end
eq("sm3 abc (GB/T 32905)", H(gmssl.sm3("abc")), "66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0")
eq("sm3 abcd*16 (GB/T 32905)", H(gmssl.sm3(string.rep("abcd", 16))), "DEBE9FF92275B8A138604889C18E5A4D6FDB70E5387E5765293DCBA39C0C5732")
eq("sm3update alias", gmssl.sm3update("abc"), gmssl.sm3("abc"))
eq("sm3 binary = openssl", H(gmssl.sm3(("${bin.toString('hex')}"):fromHex())), "${sm3bin}")
eq("sm3hmac = openssl", H(gmssl.sm3hmac("LuatOS", "key")), "${hmac}")
local k = ("0123456789abcdeffedcba9876543210"):fromHex()
eq("sm4 GB/T 32907 example", H(gmssl.sm4encrypt("ECB", "NONE", k, k)), "681EDF34D206965E86B3E94F536E4246")
eq("sm4 decrypt GB/T 32907", gmssl.sm4decrypt("ECB", "NONE", ("681EDF34D206965E86B3E94F536E4246"):fromHex(), k), k)
local key, iv = "1234567890123456", "1234567890666666"
local e1 = gmssl.sm4encrypt("ECB", "PKCS5", "SM4 ECB Pkcs5Padding test", key)
eq("sm4 ecb pkcs5 = openssl", H(e1), "${ecbPkcs5}")
eq("sm4 ecb pkcs5 decrypt", gmssl.sm4decrypt("ECB", "PKCS5", e1, key), "SM4 ECB Pkcs5Padding test")
local e2 = gmssl.sm4encrypt("CBC", "PKCS7", "SM4 CBC Pkcs5Padding test", key, iv)
eq("sm4 cbc pkcs7 = openssl", H(e2), "${cbcPkcs5}")
eq("sm4 cbc decrypt", gmssl.sm4decrypt("CBC", "PKCS5", e2, key, iv), "SM4 CBC Pkcs5Padding test")
local e3 = gmssl.sm4encrypt("ECB", "ZERO", "SM4 ECB ZeroPadding test", key)
eq("sm4 ecb zero = openssl", H(e3), "${ecbZero}")
eq("sm4 ecb zero decrypt strips zeros", gmssl.sm4decrypt("ECB", "ZERO", e3, key), "SM4 ECB ZeroPadding test")
eq("sm4 aligned input gets a whole pad block", #gmssl.sm4encrypt("ECB", "ZERO", key, key), 32)
eq("sm4 none empty", gmssl.sm4encrypt("ECB", "NONE", "", key), "")
raises("sm4 key length", "invalid password length=3, only support 128bit Password", gmssl.sm4encrypt, "ECB", "NONE", k, "abc")
raises("sm4 mode", "invalid mode=CTR, only support ECB,CBC", gmssl.sm4encrypt, "CTR", "NONE", k, key)
raises("sm4 padding", "invalid padding=X, only support NONE,PKCS5,PKCS7,ZERO", gmssl.sm4encrypt, "ECB", "X", k, key)
raises("sm4 cbc iv", "invalid iv length=0, only support 128bit IV", gmssl.sm4encrypt, "CBC", "NONE", k, key)
raises("sm4 none unaligned", "buf len should be multiple of 16, len=3", gmssl.sm4encrypt, "ECB", "NONE", "abc", key)
raises("sm4 decrypt unaligned", "invalid BufLen length=3, BufLen must be Integer multiples of 16", gmssl.sm4decrypt, "ECB", "NONE", "abc", key)
raises("sm4 decrypt cbc iv", "invalid iv length=2, only support 16", gmssl.sm4decrypt, "CBC", "NONE", k, key, "ab")
-- SM2
local PX, PY, D = "${PX}", "${PY}", "${D}"
eq("sm2verify GB/T 32918 signature", gmssl.sm2verify(PX, PY, "message digest", nil, ("${SIG}"):fromHex()), true)
eq("sm2verify other message", gmssl.sm2verify(PX, PY, "message digesT", nil, ("${SIG}"):fromHex()), false)
eq("sm2verify other id", gmssl.sm2verify(PX, PY, "message digest", "ALICE123@YAHOO.COM", ("${SIG}"):fromHex()), false)
local s1 = gmssl.sm2sign(D, "LuatOS")
eq("sm2sign is r||s, 64 bytes", #s1, 64)
eq("sm2sign verifies", gmssl.sm2verify(PX, PY, "LuatOS", nil, s1), true)
local s2 = gmssl.sm2sign(D, "LuatOS", "")
eq("sm2sign empty id verifies only without id", gmssl.sm2verify(PX, PY, "LuatOS", "", s2), true)
eq("sm2sign empty id differs from default id", gmssl.sm2verify(PX, PY, "LuatOS", nil, s2), false)
eqv("sm2sign short key", {}, gmssl.sm2sign("1234", "x"))
eqv("sm2sign empty data", {}, gmssl.sm2sign(D, ""))
eqv("sm2verify bad sig length", {}, gmssl.sm2verify(PX, PY, "x", nil, "short"))
for _, m in ipairs({{false, false}, {true, false}, {true, true}}) do
  local c = gmssl.sm2encrypt(PX, PY, "hello sm2", m[1], m[2])
  log.info("SM2C", tostring(m[1]), tostring(m[2]), c:toHex())
  eq("sm2 round trip " .. tostring(m[1]) .. tostring(m[2]), gmssl.sm2decrypt(D, c, m[1], m[2]), "hello sm2")
end
eq("sm2 C1C3C2 length", #gmssl.sm2encrypt(PX, PY, "abc", true), 99)
eq("sm2 C1C2C3 length and 04", gmssl.sm2encrypt(PX, PY, "abc", true, true):byte(1), 4)
eqv("sm2encrypt short pkx", {}, gmssl.sm2encrypt("12", PY, "abc"))
eqv("sm2encrypt point not on curve", {}, gmssl.sm2encrypt(PX, PX, "abc"))
eqv("sm2encrypt too long", {}, gmssl.sm2encrypt(PX, PY, string.rep("x", 256)))
eqv("sm2decrypt too short", {}, gmssl.sm2decrypt(D, "abc"))
eqv("sm2decrypt garbage", {}, gmssl.sm2decrypt(D, string.rep("x", 120)))
local kx, ky, kd = gmssl.sm2keygen()
eq("sm2keygen hex lengths", #kx .. #ky .. #kd, "646464")
eq("sm2keygen uppercase", kd:upper(), kd)
eq("sm2keygen pair works", gmssl.sm2decrypt(kd, gmssl.sm2encrypt(kx, ky, "k")), "k")
`;

for (const engine of ENGINE_NAMES) {
  test(`gmssl SM2/SM3/SM4 match the GB/T examples and OpenSSL (${engine})`, async () => {
    const r = await runSuite(engine, BODY);
    removeRunDirs(r.run);
    assert.ok(r.checks >= 40, `only ${r.checks} checks`);
    // Node's ECDH derives the standard's public key from its private key
    const ecdh = nodeCrypto.createECDH('SM2');
    ecdh.setPrivateKey(Buffer.from(D, 'hex'));
    assert.equal(ecdh.getPublicKey('hex').toUpperCase(), '04' + PX + PY);
    const ct = r.run.user.filter((u) => u.startsWith('I/user.SM2C '));
    assert.equal(ct.length, 3);
    for (const line of ct) {
      const [, mode, mode2, hex] = line.split(' ');
      const c = Buffer.from(hex, 'hex');
      let parts: Buffer[];
      if (mode === 'false') {
        // GmSSL DER: 30 len 02 x 02 y 04 20 C3 04 len C2
        assert.equal(c[0], 0x30);
        const rd = (off: number) => {
          const len = c[off + 1];
          return { body: c.subarray(off + 2, off + 2 + len), next: off + 2 + len };
        };
        const a = rd(2);
        const b = rd(a.next);
        const h = rd(b.next);
        const m = rd(h.next);
        const fix = (v: Buffer) => Buffer.concat([Buffer.alloc(32), v]).subarray(-32);
        parts = [fix(a.body), fix(b.body), h.body, m.body];
      } else if (mode2 === 'false') {
        parts = [c.subarray(0, 32), c.subarray(32, 64), c.subarray(64, 96), c.subarray(96)];
      } else {
        assert.equal(c[0], 4);
        parts = [c.subarray(1, 33), c.subarray(33, 65), c.subarray(-32), c.subarray(65, -32)];
      }
      const m = sm2Open(parts[0], parts[1], parts[2], parts[3]);
      assert.equal(m?.toString(), 'hello sm2', `mode ${mode}/${mode2} does not open with an independent SM2 decryption`);
    }
  });
}
