-- rsa: PKCS#1 v1.5 encryption and signatures with PEM keys from /luadb
-- (demo keys only: make your own with
--   openssl genrsa -out privkey.pem 2048 && openssl rsa -in privkey.pem -pubout -out public.pem)
PROJECT = "rsa_demo"
VERSION = "1.0.0"
sys = require("sys")

sys.taskInit(function()
    local pub = io.readFile("/luadb/public.pem")
    local priv = io.readFile("/luadb/privkey.pem")
    local res = rsa.encrypt(pub, "abc")
    log.info("rsa", "encrypt", res and #res or 0)
    if res then
        local dst = rsa.decrypt(priv, res, "")
        log.info("rsa", "decrypt", dst)
    end
    local hash = crypto.sha1("1234567890"):fromHex()
    local sig = rsa.sign(priv, rsa.MD_SHA1, hash, "")
    log.info("rsa", "sign", sig and #sig or 0, sig and sig:toHex() or "")
    if sig then
        log.info("rsa", "verify", rsa.verify(pub, rsa.MD_SHA1, hash, sig))
    end
    log.info("rsa", "done")
end)

sys.run()
