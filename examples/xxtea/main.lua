-- xxtea: encrypt/decrypt in the xxtea-c format (16-byte key, length word appended)
PROJECT = "xxtea_demo"
VERSION = "1.0.0"
sys = require("sys")

sys.taskInit(function()
    local text = "Hello World! 你好，中国🇨🇳！"
    local key = "1234567890"
    local encrypt_data = xxtea.encrypt(text, key)
    log.info("xxtea", "encrypt", encrypt_data:toBase64())
    local decrypt_data = xxtea.decrypt(encrypt_data, key)
    log.info("xxtea", "decrypt", decrypt_data)
    log.info("xxtea", "same", decrypt_data == text, #encrypt_data)
    log.info("xxtea", "done")
end)

sys.run()
