import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { xxteaDecryptWords, xxteaEncryptWords } from '../../luatos-api/xxtea';
import { runSuite } from '../base/suite';
import { removeRunDirs } from './mods2-util';

// Published vectors: the xxtea-c/PHP/Dart libraries' cross-language check (key "1234567890",
// "Hello World! 你好，中国🇨🇳！" → base64 D4t0r…GuE=), which uses the same byte format as the
// firmware (xxtea-c: 16-byte zero-padded key, u32 length word appended), and raw-block vectors
// from Logan J. Drews' TeaCrypt for the cipher itself.
test('xxtea raw blocks match the TeaCrypt vectors', () => {
  const cases: [number[], number[], number[]][] = [
    [[0, 0, 0, 0], [0, 0], [0x053704ab, 0x575d8c80]],
    [[0, 0, 0, 0], [0x01020304, 0x05060708], [0xe6911910, 0x0c35dcda]],
  ];
  for (const [k, p, c] of cases) {
    const v = Uint32Array.from(p);
    xxteaEncryptWords(v, Uint32Array.from(k));
    assert.deepEqual([...v], c);
    xxteaDecryptWords(v, Uint32Array.from(k));
    assert.deepEqual([...v], p);
  }
});

const BODY = String.raw`
local text = "Hello World! 你好，中国🇨🇳！"
local enc = xxtea.encrypt(text, "1234567890")
eq("xxtea-c vector", enc:toBase64(), "D4t0rVXUDl3bnWdERhqJmFIanfn/6zAxAY9jD6n9MSMQNoD8TOS4rHHcGuE=")
eq("decrypt vector", xxtea.decrypt(("D4t0rVXUDl3bnWdERhqJmFIanfn/6zAxAY9jD6n9MSMQNoD8TOS4rHHcGuE="):fromBase64(), "1234567890"), text)
eq("size 4*ceil(n/4)+4 (n=1)", #xxtea.encrypt("a", "k"), 8)
eq("size 4*ceil(n/4)+4 (n=4)", #xxtea.encrypt("abcd", "k"), 8)
eq("size 4*ceil(n/4)+4 (n=5)", #xxtea.encrypt("abcde", "k"), 12)
eq("key cut at NUL", xxtea.encrypt(text, "1234567890\0ignored"), enc)
eq("key zero-padded", xxtea.encrypt(text, "1234567890\0\0\0\0\0\0"), enc)
eq("key truncated to 16", xxtea.encrypt("data", "0123456789abcdefXYZ"), xxtea.encrypt("data", "0123456789abcdef"))
eq("binary round trip", xxtea.decrypt(xxtea.encrypt("\0\1\2\255", "key"), "key"), "\0\1\2\255")
eqv("encrypt empty", {}, xxtea.encrypt("", "key"))
eqv("decrypt empty", {}, xxtea.decrypt("", "key"))
eqv("decrypt bad size", {}, xxtea.decrypt("12345", "key"))
eqv("decrypt wrong key (length check)", {}, xxtea.decrypt(enc, "wrong key"))
raises("encrypt needs a string", "bad argument #1 to 'encrypt'", xxtea.encrypt, nil, "k")
`;

for (const engine of ENGINE_NAMES) {
  test(`xxtea matches the xxtea-c format and vectors (${engine})`, async () => {
    const r = await runSuite(engine, BODY);
    removeRunDirs(r.run);
    assert.ok(r.checks >= 14);
  });
}
