import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { runSuite } from '../base/suite';
import { removeRunDirs } from './mods2-util';

// Known vectors: FIPS 81 (DES ECB/CBC "Now is the time for all "), the classic DES worked
// example (key 133457799BBCDFF1), SP 800-67 (3DES "The qufck brown fox jump"), SP 800-38A
// (AES CFB128/OFB F.3.13/F.4.1), SP 800-38D test case 2 (GCM ciphertext; the tag depends on the
// firmware's fixed AAD and is checked below with Node's decipher), RFC 8439 A.1 #1 (ChaCha20
// keystream, counter 0) and §2.8.2 (ChaCha20-Poly1305 ciphertext start).
const BODY = String.raw`
local H = function(s) return (string.toHex(s)) end
local X = function(s) return (string.fromHex(s)) end
local now = "Now is the time for all "
eq("des ecb classic", H(crypto.cipher_encrypt("DES-ECB", "NONE", X("0123456789ABCDEF"), X("133457799BBCDFF1"))), "85E813540F0AB405")
eq("des ecb fips81", H(crypto.cipher_encrypt("DES-ECB", "NONE", now, X("0123456789ABCDEF"))), "3FA40E8A984D48156A271787AB8883F9893D51EC4B563B53")
eq("des cbc fips81", H(crypto.cipher_encrypt("DES-CBC", "NONE", now, X("0123456789ABCDEF"), X("1234567890ABCDEF"))), "E5C7CDDE872BF27C43E934008C389C0F683788499A7C05F6")
eq("des cbc decrypt", crypto.cipher_decrypt("DES-CBC", "NONE", X("E5C7CDDE872BF27C43E934008C389C0F683788499A7C05F6"), X("0123456789ABCDEF"), X("1234567890ABCDEF")), now)
local k3 = X("0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123")
eq("3des ecb sp800-67", H(crypto.cipher_encrypt("DES-EDE3-ECB", "NONE", "The qufck brown fox jump", k3)), "A826FD8CE53B855FCCE21C8112256FE668D5C05DD9B6B900")
local c3 = crypto.cipher_encrypt("DES-EDE3-CBC", "PKCS7", "hello", k3, "12345678")
eq("3des cbc pkcs7 pads to 8", #c3, 8)
eq("3des cbc round trip", crypto.cipher_decrypt("DES-EDE3-CBC", "PKCS7", c3, k3, "12345678"), "hello")
eq("des ecb pkcs7 aligned adds a block", #crypto.cipher_encrypt("DES-ECB", "PKCS7", "12345678", "abcdefgh"), 16)
eq("des ecb pkcs7 round trip", crypto.cipher_decrypt("DES-ECB", "PKCS7", crypto.cipher_encrypt("DES-ECB", "PKCS7", "12345678", "abcdefgh"), "abcdefgh"), "12345678")
eq("des-ede cbc round trip", crypto.cipher_decrypt("DES-EDE-CBC", "ZERO", crypto.cipher_encrypt("DES-EDE-CBC", "ZERO", "abc", string.rep("k", 16), "ivivivIV"), string.rep("k", 16), "ivivivIV"), "abc")
eqv("des wrong key length", {}, crypto.cipher_encrypt("DES-ECB", "NONE", "12345678", "1234567"))
eqv("des short iv", {}, crypto.cipher_encrypt("DES-CBC", "NONE", "12345678", "12345678", "1234"))
local nk = X("2b7e151628aed2a6abf7158809cf4f3c")
local iv = X("000102030405060708090a0b0c0d0e0f")
local pt = X("6bc1bee22e409f96e93d7e117393172a")
eq("aes cfb128 sp800-38a", H(crypto.cipher_encrypt("AES-128-CFB128", "NONE", pt, nk, iv)), "3B3FD92EB72DAD20333449F8E83CFB4A")
eq("aes ofb sp800-38a", H(crypto.cipher_encrypt("AES-128-OFB", "NONE", pt, nk, iv)), "3B3FD92EB72DAD20333449F8E83CFB4A")
local z16, z12 = string.rep("\0", 16), string.rep("\0", 12)
local gc, gt = crypto.cipher_encrypt("AES-128-GCM", "NONE", z16, z16, z12)
eq("gcm ciphertext sp800-38d tc2", H(gc), "0388DACE60B6A392F328C2B971B2FE78")
eq("gcm tag is 16 bytes", #gt, 16)
eq("gcm tag uses the fixed aad (not the no-aad NIST tag)", H(gt) ~= "AB6E47D42CEC13BDF53A67B21257BDDF", true)
log.info("TAG", "gcm", H(gt))
eqv("gcm decrypt returns only the plaintext", {z16}, crypto.cipher_decrypt("AES-128-GCM", "NONE", gc, z16, z12))
eqv("gcm without iv", {}, crypto.cipher_encrypt("AES-256-GCM", "NONE", "abc", string.rep("k", 32)))
local gc2 = crypto.cipher_encrypt("AES-256-GCM", "PKCS7", "abc", string.rep("k", 32), "nonce")
eq("gcm has no padding", #gc2, 3)
eq("chacha20 rfc8439 a.1", H(crypto.cipher_encrypt("CHACHA20", "NONE", string.rep("\0", 64), string.rep("\0", 32), z12)),
  "76B8E0ADA0F13D90405D6AE55386BD28BDD219B8A08DED1AA836EFCC8B770DC7DA41597C5157488D7724E03FB8D84A376A43B8F41518A11CC387B669B2EE6586")
local ck = X("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
local cn = X("070000004041424344454647")
local cc, ct = crypto.cipher_encrypt("CHACHA20-POLY1305", "NONE", "Ladies and Gentlemen of the class", ck, cn)
eq("chacha20-poly1305 rfc8439 2.8.2 ciphertext", H(cc):sub(1, 32), "D31A8D34648E60DB7B86AFBC53EF7EC2")
log.info("TAG", "chachapoly", H(ct))
eq("chacha20-poly1305 decrypt", crypto.cipher_decrypt("CHACHA20-POLY1305", "NONE", cc, ck, cn), "Ladies and Gentlemen of the class")
eqv("ccm: update fails, empty string", {""}, crypto.cipher_encrypt("AES-128-CCM", "NONE", pt, nk, X("000102030405060708090a0b")))
local names = {}
for _, n in ipairs(crypto.cipher_list()) do names[n] = true end
for _, n in ipairs({"AES-128-GCM", "DES-ECB", "DES-CBC", "DES-EDE3-CBC", "CHACHA20", "CHACHA20-POLY1305", "AES-256-CBC"}) do
  eq("cipher_list has " .. n, names[n], true)
end
eq("cipher_list at most 64", #crypto.cipher_list() <= 64, true)
eq("MD constants", crypto.MD_SHA256 * 100 + crypto.MD_SHA1, 905)
eq("MD_SHA512", crypto.MD_SHA512, 11)
`;

for (const engine of ENGINE_NAMES) {
  test(`crypto DES/3DES/GCM/ChaCha20 ciphers match published vectors (${engine})`, async () => {
    const r = await runSuite(engine, BODY);
    removeRunDirs(r.run);
    assert.ok(r.checks >= 30, `only ${r.checks} checks ran`);
    const tag = (name: string) => {
      const u = r.run.user.find((x) => x.startsWith(`I/user.TAG ${name} `));
      assert.ok(u, `no ${name} tag logged`);
      return Buffer.from(u.split(' ')[2], 'hex');
    };
    // the tags authenticate with the firmware's fixed AAD, checked by Node's own decipher
    const aad = Buffer.from('1234567890123456');
    const g = nodeCrypto.createDecipheriv('aes-128-gcm', Buffer.alloc(16), Buffer.alloc(12));
    g.setAAD(aad);
    g.setAuthTag(tag('gcm'));
    g.update(Buffer.from('0388dace60b6a392f328c2b971b2fe78', 'hex'));
    assert.doesNotThrow(() => g.final(), 'GCM tag does not authenticate with AAD "1234567890123456"');
    const key = Buffer.from('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f', 'hex');
    const nonce = Buffer.from('070000004041424344454647', 'hex');
    const enc = nodeCrypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    enc.setAAD(aad, { plaintextLength: 33 });
    enc.update(Buffer.from('Ladies and Gentlemen of the class'));
    enc.final();
    assert.deepEqual(tag('chachapoly'), enc.getAuthTag());
    assert.ok(r.run.lines.some((l) => l.includes('crypto:mbedtls_cipher_update fail 0x6080 AES-128-CCM')));
  });
}
