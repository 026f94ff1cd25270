-- bit64: 64-bit counters on a 32-bit VM
PROJECT = "bit64_demo"
VERSION = "1.0.0"
sys = require("sys")

sys.taskInit(function()
    local total = bit64.to64(0x7FFFFFFF)
    total = bit64.plus(total, 1)
    log.info("bit64", "2^31", bit64.show(total), bit64.show(total, 16))
    local bytes = bit64.multi(bit64.to64(1500), 1000000)
    log.info("bit64", "bytes", bit64.show(bytes))
    log.info("bit64", "average", bit64.show(bit64.pide(bytes, 3)))
    log.info("bit64", "shift", bit64.show(bit64.shift(bit64.to64(1), 40, true)))
    log.info("bit64", "strtoll", bit64.show(bit64.strtoll("-9876543210")), bit64.to32(bit64.strtoll("123")))
    log.info("bit64", "done")
end)

sys.run()
