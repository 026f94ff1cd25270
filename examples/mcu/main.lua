-- mcu: unique id, muid and the hard-fault mode
PROJECT = "mcu_demo"
VERSION = "1.0.0"
sys = require("sys")

sys.taskInit(function()
    log.info("mcu", "unique_id", mcu.unique_id():toHex())
    log.info("mcu", "muid", mcu.muid())
    -- what the next crash does: 0 halt, 1 reboot, 2 report then reboot, 3 save then reboot
    mcu.hardfault(1)
    log.info("mcu", "hardfault mode set")
    log.info("mcu", "done")
end)

sys.run()
