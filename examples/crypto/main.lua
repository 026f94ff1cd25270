-- crypto: the ciphers and public-key calls added in part 2 (DES/3DES, AES-GCM, ChaCha20, pk_*)
PROJECT = "crypto_demo"
VERSION = "1.0.0"
sys = require("sys")

sys.taskInit(function()
    -- AES-128-ECB, the firmware doc's example
    local data = crypto.cipher_encrypt("AES-128-ECB", "PKCS7", "1234567890123456", "1234567890123456")
    log.info("AES", "aes-128-ecb", data:toHex())
    log.info("AES", "decrypt", crypto.cipher_decrypt("AES-128-ECB", "PKCS7", data, "1234567890123456"))

    -- DES (FIPS 81 example) and 3DES (SP 800-67 example)
    local des = crypto.cipher_encrypt("DES-CBC", "NONE", "Now is the time for all ", ("0123456789ABCDEF"):fromHex(), ("1234567890ABCDEF"):fromHex())
    log.info("DES", "des-cbc", des:toHex())
    local k3 = ("0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123"):fromHex()
    log.info("3DES", "des-ede3-ecb", crypto.cipher_encrypt("DES-EDE3-ECB", "NONE", "The qufck brown fox jump", k3):toHex())

    -- AES-GCM gives the ciphertext and a 16-byte tag
    local zero16 = string.rep("\0", 16)
    local gcm, tag = crypto.cipher_encrypt("AES-128-GCM", "NONE", zero16, zero16, string.rep("\0", 12))
    log.info("GCM", "aes-128-gcm", gcm:toHex(), "tag", #tag)

    -- ChaCha20 keystream (RFC 8439 A.1 #1)
    log.info("CHACHA20", crypto.cipher_encrypt("CHACHA20", "NONE", string.rep("\0", 16), string.rep("\0", 32), string.rep("\0", 12)):toHex())

    -- public key: type of a generated key
    local priv, pub = crypto.pk_generate("ec", "P-256")
    log.info("PK", "pk_type", crypto.pk_type(priv, true), crypto.pk_type(pub, false))
    log.info("crypto", "done")
end)

sys.run()
