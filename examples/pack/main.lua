-- pack: binary fields for a sensor frame (big endian header, little endian payload)
PROJECT = "pack_demo"
VERSION = "1.0.0"
sys = require("sys")

sys.taskInit(function()
    -- header: magic (u16), length (u32), type (u8), name (raw bytes)
    local frame = pack.pack(">HIbA", 0xAA55, 12, 3, "temp")
    log.info("pack", "frame", frame:toHex(), #frame)
    local nextpos, magic, len, typ, name = pack.unpack(frame, ">HIbA4")
    log.info("pack", "unpack", nextpos, string.format("0x%04X", magic), len, typ, name)
    -- payload: int16 temperature x100, float humidity, zero-terminated unit
    local payload = pack.pack("<hfz", -1250, 55.5, "C")
    local _, t, h, unit = pack.unpack(payload, "<hfz")
    log.info("pack", "payload", payload:toHex(), t / 100, h, unit)
    -- repeat counts: three u16 values
    log.info("pack", "repeat", pack.pack("<H3", 1, 2, 3):toHex())
    log.info("pack", "done")
end)

sys.run()
