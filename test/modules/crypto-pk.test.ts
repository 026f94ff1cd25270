import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { runSuite } from '../base/suite';
import { removeRunDirs } from './mods2-util';

// RSA PKCS#1 v1.5 (RFC 8017 §8.2 / §7.2): signatures are deterministic, so ours must equal Node's
// crypto.sign byte for byte; Node's signatures must verify with ours; our encryption is checked
// by opening it with the raw RSA operation and checking the type-2 block here.
const rsa = nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
const privPem = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const privPkcs8 = rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'secret' }) as string;
const pubPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const pubDer = rsa.publicKey.export({ type: 'spki', format: 'der' });
const ec = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const ecPub = ec.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const ecPriv = ec.privateKey.export({ type: 'sec1', format: 'pem' }) as string;
const k1 = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
const msg = 'LuatOS signs this';
const sigSha256 = nodeCrypto.sign('sha256', Buffer.from(msg), rsa.privateKey).toString('hex').toUpperCase();
const sigSha1 = nodeCrypto.sign('sha1', Buffer.from(msg), rsa.privateKey).toString('hex').toUpperCase();
const sigMd5 = nodeCrypto.sign('md5', Buffer.from(msg), rsa.privateKey).toString('hex').toUpperCase();
const ecSig = nodeCrypto.sign('sha256', Buffer.from(msg), ec.privateKey).toString('hex').toUpperCase();
const nodeCipher = nodeCrypto
  .publicEncrypt({ key: rsa.publicKey, padding: nodeCrypto.constants.RSA_PKCS1_PADDING }, Buffer.from('secret message'))
  .toString('hex');

const BODY = String.raw`
local priv = io.readFile("/luadb/priv.pem")
local pub = io.readFile("/luadb/pub.pem")
local msg = "${msg}"
local h256 = crypto.sha256(msg):fromHex()
local h1 = crypto.sha1(msg):fromHex()
eq("pk_sign sha256 = node sign", crypto.pk_sign(crypto.MD_SHA256, h256, priv, ""):toHex(), "${sigSha256}")
eq("pk_sign sha1 = node sign", crypto.pk_sign(crypto.MD_SHA1, h1, priv, ""):toHex(), "${sigSha1}")
eq("pk_sign md5 = node sign", crypto.pk_sign(crypto.MD_MD5, crypto.md5(msg):fromHex(), priv):toHex(), "${sigMd5}")
eq("pk_sign encrypted pkcs8 with pwd", crypto.pk_sign(crypto.MD_SHA256, h256, io.readFile("/luadb/priv8.pem"), "secret"):toHex(), "${sigSha256}")
eqv("pk_sign wrong pwd", {}, crypto.pk_sign(crypto.MD_SHA256, h256, io.readFile("/luadb/priv8.pem"), "nope"))
eqv("pk_sign bad key", {}, crypto.pk_sign(crypto.MD_SHA256, h256, "-----BEGIN garbage", ""))
eqv("pk_sign hash length mismatch", {}, crypto.pk_sign(crypto.MD_SHA256, h1, priv, ""))
eq("pk_verify node signature", crypto.pk_verify(crypto.MD_SHA256, h256, pub, ("${sigSha256}"):fromHex()), true)
eq("pk_verify der public key", crypto.pk_verify(crypto.MD_SHA1, h1, io.readFile("/luadb/pub.der"), ("${sigSha1}"):fromHex()), true)
eq("pk_verify wrong md", crypto.pk_verify(crypto.MD_SHA1, h1, pub, ("${sigSha256}"):fromHex()), false)
eq("pk_verify other hash", crypto.pk_verify(crypto.MD_SHA256, crypto.sha256("x"):fromHex(), pub, ("${sigSha256}"):fromHex()), false)
eq("pk_verify bad key is false", crypto.pk_verify(crypto.MD_SHA256, h256, "not a key", ("${sigSha256}"):fromHex()), false)
eq("pk_verify private key as public is false", crypto.pk_verify(crypto.MD_SHA256, h256, priv, ("${sigSha256}"):fromHex()), false)
eq("pk_type rsa public", crypto.pk_type(pub, false), "rsa")
eq("pk_type rsa private", crypto.pk_type(priv, true), "rsa")
eq("pk_type ec public", crypto.pk_type(io.readFile("/luadb/ec.pem"), false), "ec")
eqv("pk_type garbage", {}, crypto.pk_type("garbage", false))
eq("pk_verify ecdsa: node signature", crypto.pk_verify(crypto.MD_SHA256, h256, io.readFile("/luadb/ec.pem"), ("${ecSig}"):fromHex()), true)
eq("pk_verify ecdsa: other hash", crypto.pk_verify(crypto.MD_SHA256, crypto.sha256("x"):fromHex(), io.readFile("/luadb/ec.pem"), ("${ecSig}"):fromHex()), false)
eq("pk_verify ecdsa: rsa signature", crypto.pk_verify(crypto.MD_SHA256, h256, io.readFile("/luadb/ec.pem"), ("${sigSha256}"):fromHex()), false)
local esig = crypto.pk_sign(crypto.MD_SHA256, h256, io.readFile("/luadb/ec-priv.pem"), "")
log.info("ECSIG", "p256", esig:toHex())
log.info("ECSIG", "k1", crypto.pk_sign(crypto.MD_SHA256, h256, io.readFile("/luadb/k1-priv.pem")):toHex())
eq("pk_sign ecdsa verifies with pk_verify", crypto.pk_verify(crypto.MD_SHA256, h256, io.readFile("/luadb/ec.pem"), esig), true)
local gpriv, gpub = crypto.pk_generate("ec", "P-256")
eq("pk_generate ec private", crypto.pk_type(gpriv, true), "ec")
eq("pk_generate ec public", crypto.pk_type(gpub, false), "ec")
-- rsa module
eq("rsa constants", rsa.MD_MD5 .. rsa.MD_SHA1 .. rsa.MD_SHA224 .. rsa.MD_SHA256, "3589")
eq("rsa.sign = node sign", rsa.sign(priv, rsa.MD_SHA256, h256, ""):toHex(), "${sigSha256}")
eq("rsa.verify", rsa.verify(pub, rsa.MD_SHA1, h1, ("${sigSha1}"):fromHex()), true)
eq("rsa.verify mismatch", rsa.verify(pub, rsa.MD_SHA1, crypto.sha1("y"):fromHex(), ("${sigSha1}"):fromHex()), false)
eqv("rsa.verify unparsable key: nothing", {}, rsa.verify("junk", rsa.MD_SHA1, h1, ("${sigSha1}"):fromHex()))
eq("rsa.decrypt node ciphertext", rsa.decrypt(priv, ("${nodeCipher}"):fromHex(), ""), "secret message")
eqv("rsa.decrypt tampered", {}, rsa.decrypt(priv, ("${nodeCipher}"):fromHex():sub(1, 127) .. "\1", ""))
local enc = rsa.encrypt(pub, "abc")
eq("rsa.encrypt size", #enc, 128)
log.info("RSAENC", enc:toHex())
eq("rsa.encrypt randomised", rsa.encrypt(pub, "abc") ~= enc, true)
eq("rsa.encrypt max k-11", #rsa.encrypt(pub, string.rep("x", 117)), 128)
eqv("rsa.encrypt over k-11", {}, rsa.encrypt(pub, string.rep("x", 118)))
eqv("rsa.encrypt private key pem", {}, rsa.encrypt(priv, "abc"))
`;

for (const engine of ENGINE_NAMES) {
  test(`crypto.pk_* and rsa agree with Node's RSA and ECDSA (${engine})`, async () => {
    const r = await runSuite(engine, BODY, {
      'priv.pem': privPem,
      'priv8.pem': privPkcs8,
      'pub.pem': pubPem,
      'pub.der': pubDer,
      'ec.pem': ecPub,
      'ec-priv.pem': ecPriv,
      'k1-priv.pem': k1.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    });
    removeRunDirs(r.run);
    assert.ok(r.checks >= 30, `only ${r.checks} checks ran`);
    const u = r.run.user.find((x) => x.startsWith('I/user.RSAENC '));
    assert.ok(u);
    // open our ciphertext with the raw RSA operation: 00 02 PS(>= 8 non-zero) 00 "abc"
    const em = nodeCrypto.privateDecrypt({ key: rsa.privateKey, padding: nodeCrypto.constants.RSA_NO_PADDING }, Buffer.from(u.split(' ')[1], 'hex'));
    assert.equal(em[0], 0);
    assert.equal(em[1], 2);
    const sep = em.indexOf(0, 2);
    assert.ok(sep >= 10);
    assert.equal(em.subarray(sep + 1).toString(), 'abc');
    // our ECDSA signatures (DER) verify with Node's own ECDSA
    const ecsig = (name: string) => Buffer.from(r.run.user.find((x) => x.startsWith(`I/user.ECSIG ${name} `))?.split(' ')[2] ?? '', 'hex');
    assert.ok(nodeCrypto.verify('sha256', Buffer.from(msg), ec.publicKey, ecsig('p256')), 'P-256 signature rejected by Node');
    assert.ok(nodeCrypto.verify('sha256', Buffer.from(msg), k1.publicKey, ecsig('k1')), 'secp256k1 signature rejected by Node');
    assert.ok(!nodeCrypto.verify('sha256', Buffer.from('other'), ec.publicKey, ecsig('p256')));
  });
}
