-- bit: register flags with the LuatOS bit module
PROJECT = "bit_demo"
VERSION = "1.0.0"
sys = require("sys")

sys.taskInit(function()
    local reg = 0
    reg = bit.set(reg, 0, 3)            -- enable bits 0 and 3
    log.info("bit", "reg", reg, bit.isset(reg, 3), bit.isclear(reg, 1))
    reg = bit.clear(reg, 0)
    log.info("bit", "cleared", reg)
    log.info("bit", "band/bor/bxor", bit.band(0xF0, 0x3C), bit.bor(0xF0, 0x0F), bit.bxor(0xFF, 0x0F))
    log.info("bit", "shift", bit.lshift(1, 10), bit.rshift(0x400, 10), bit.bit(5))
    log.info("bit", "field", bit.extract(0xABCD, 4, 8), bit.replace(0xABCD, 0, 4, 8))
    log.info("bit", "bnot", bit.bnot(0))  -- -1 on a 32-bit VM, 4294967295 on a 64-bit one
    log.info("bit", "done")
end)

sys.run()
