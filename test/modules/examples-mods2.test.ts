import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as nodeCrypto from 'node:crypto';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { runLua } from '../helpers/run-lua';

// The example scripts under examples/<module>/ run unchanged, print the values of the
// published vectors (or what Node's own crypto computes for the same input) and use no LuatOS
// function that the runtime lacks (the --coverage "missing" count is 0).
const ROOT = path.resolve(__dirname, '..', '..', '..');
const EX = path.join(ROOT, 'examples');

const aesEcb = (() => {
  const c = nodeCrypto.createCipheriv('aes-128-ecb', Buffer.from('1234567890123456'), null);
  return Buffer.concat([c.update('1234567890123456'), c.final()]).toString('hex').toUpperCase();
})();
const rsaSig = nodeCrypto
  .sign('sha1', Buffer.from('1234567890'), fs.readFileSync(path.join(EX, 'rsa', 'privkey.pem'), 'utf8'))
  .toString('hex')
  .toUpperCase();
const sm4 = (algo: string, data: Buffer, iv: Buffer | null) => {
  const c = nodeCrypto.createCipheriv(algo, Buffer.from('1234567890123456'), iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]).toString('hex').toUpperCase();
};
const pad = (s: string, zero: boolean) => {
  const n = 16 - (s.length % 16);
  return Buffer.concat([Buffer.from(s), Buffer.alloc(n, zero ? 0 : n)]);
};

const EXPECT: Record<string, string[]> = {
  crypto: [
    `I/user.AES aes-128-ecb ${aesEcb}`,
    'I/user.AES decrypt 1234567890123456',
    'I/user.DES des-cbc E5C7CDDE872BF27C43E934008C389C0F683788499A7C05F6',
    'I/user.3DES des-ede3-ecb A826FD8CE53B855FCCE21C8112256FE668D5C05DD9B6B900',
    'I/user.GCM aes-128-gcm 0388DACE60B6A392F328C2B971B2FE78 tag 16',
    'I/user.CHACHA20 76B8E0ADA0F13D90405D6AE55386BD28',
    'I/user.PK pk_type ec ec',
  ],
  xxtea: [
    'I/user.xxtea encrypt D4t0rVXUDl3bnWdERhqJmFIanfn/6zAxAY9jD6n9MSMQNoD8TOS4rHHcGuE=',
    'I/user.xxtea decrypt Hello World! 你好，中国🇨🇳！',
    'I/user.xxtea same true 44',
  ],
  rsa: ['I/user.rsa encrypt 256', 'I/user.rsa decrypt abc', `I/user.rsa sign 256 ${rsaSig}`, 'I/user.rsa verify true'],
  gmssl: [
    'I/user.sm3 66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0',
    `I/user.sm3hmac ${nodeCrypto.createHmac('sm3', '123').update('lqlq666lqlq946').digest('hex').toUpperCase()}`,
    'I/user.sm4 gbt32907 681EDF34D206965E86B3E94F536E4246',
    `I/user.sm4 ecb zero ${sm4('sm4-ecb', pad('SM4 ECB ZeroPadding test', true), null)} SM4 ECB ZeroPadding test`,
    `I/user.sm4 cbc pkcs5 ${sm4('sm4-cbc', pad('SM4 CBC Pkcs5Padding test', false), Buffer.from('1234567890666666'))} SM4 CBC Pkcs5Padding test`,
    'I/user.sm2 verify standard signature true',
    'I/user.sm2 sign/verify 64 true',
    'I/user.sm2 decrypt 32wrniosadnfvnadsio;fasiow',
    'I/user.sm2 keygen 64 64 64',
  ],
  protobuf: [
    'I/user.protobuf load true 85',
    // 0a 06 "wendal" | 10 7b (123) | 1a 0a "abc@qq.com"
    'I/user.protobuf encode 22 0A0677656E64616C107B1A0A6162634071712E636F6D',
    'I/user.protobuf decode wendal 123 abc@qq.com',
  ],
  errdump: [
    'I/user.errDump sys log false 0',
    'I/user.errDump user log true socket long time no connect',
    'I/user.errDump read again false',
  ],
  hmeta: [
    'I/user.hmeta model PC',
    'I/user.hmeta hwver A10',
    'I/user.hmeta chip x86',
    'I/user.hmeta muid 00112233445566778899AABBCCDDEEFF',
    'I/user.hmeta unique_id 00112233445566778899AABBCCDDEEFF',
  ],
  mcu: ['I/user.mcu hardfault mode set'],
};

for (const engine of ENGINE_NAMES) {
  for (const [mod, want] of Object.entries(EXPECT)) {
    test(`example examples/${mod} prints the documented values, nothing missing (${engine})`, async () => {
      const dir = path.join(EX, mod);
      const profileFile = path.join(dir, 'pc-profile.json');
      const profile = fs.existsSync(profileFile) ? JSON.parse(fs.readFileSync(profileFile, 'utf8')) : {};
      const r = await runLua(dir, { engine, profile, until: /I\/user\.\S+ done/, timeoutMs: 20000, device: { coverage: true } });
      fs.rmSync(r.device.vfs.dataDir, { recursive: true, force: true });
      assert.ok(!r.timedOut, `did not finish:\n${r.lines.join('\n')}`);
      for (const w of want) assert.ok(r.user.some((u) => u.startsWith(w)), `missing "${w}" in:\n${r.user.join('\n')}`);
      const cov = r.device.coverage;
      assert.ok(cov, 'coverage was not recorded');
      const missing = cov.rows().filter((x) => x.status === 'missing');
      assert.deepEqual(missing, []);
      assert.ok(cov.rows().length > 3);
      if (mod === 'mcu') {
        const u = r.user.find((x) => x.startsWith('I/user.mcu unique_id '));
        const m = r.user.find((x) => x.startsWith('I/user.mcu muid '));
        assert.equal(m?.split(' ')[2], u?.split(' ')[2].toUpperCase());
      }
    });
  }
}
