-- gmssl: SM2 / SM3 / SM4
PROJECT = "gmssl_demo"
VERSION = "1.0.0"
sys = require("sys")

sys.taskInit(function()
    -- SM3 (GB/T 32905 example)
    log.info("sm3", gmssl.sm3("abc"):toHex())
    log.info("sm3hmac", gmssl.sm3hmac("lqlq666lqlq946", "123"):toHex())

    -- SM4 (GB/T 32907 example, then the firmware doc's padding examples)
    local k = ("0123456789abcdeffedcba9876543210"):fromHex()
    log.info("sm4", "gbt32907", gmssl.sm4encrypt("ECB", "NONE", k, k):toHex())
    local originStr = "SM4 ECB ZeroPadding test"
    local encodeStr = gmssl.sm4encrypt("ECB", "ZERO", originStr, "1234567890123456")
    log.info("sm4", "ecb zero", encodeStr:toHex(), gmssl.sm4decrypt("ECB", "ZERO", encodeStr, "1234567890123456"))
    originStr = "SM4 CBC Pkcs5Padding test"
    encodeStr = gmssl.sm4encrypt("CBC", "PKCS5", originStr, "1234567890123456", "1234567890666666")
    log.info("sm4", "cbc pkcs5", encodeStr:toHex(), gmssl.sm4decrypt("CBC", "PKCS5", encodeStr, "1234567890123456", "1234567890666666"))

    -- SM2 with the GB/T 32918 example key
    local pkx = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    local pky = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
    local private = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
    local sig = ("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"):fromHex()
    log.info("sm2", "verify standard signature", gmssl.sm2verify(pkx, pky, "message digest", nil, sig))
    local mysig = gmssl.sm2sign(private, "32wrniosadnfvnadsio;fasiow")
    log.info("sm2", "sign/verify", #mysig, gmssl.sm2verify(pkx, pky, "32wrniosadnfvnadsio;fasiow", nil, mysig))
    local encrypted = gmssl.sm2encrypt(pkx, pky, "32wrniosadnfvnadsio;fasiow")
    log.info("sm2", "decrypt", gmssl.sm2decrypt(private, encrypted))
    local x, y, d = gmssl.sm2keygen()
    log.info("sm2", "keygen", #x, #y, #d)
    log.info("gmssl", "done")
end)

sys.run()
