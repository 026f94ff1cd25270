-- errDump: record errors on the device file system and read them back
-- (period 0: record only; nothing is uploaded)
PROJECT = "errdump_demo"
VERSION = "1.0.0"
sys = require("sys")

errDump.config(true, 0)

sys.taskInit(function()
    local buff = zbuff.create(4096)
    -- the error log of the previous boot, if its VM died with an error
    local new_sys = errDump.dump(buff, errDump.TYPE_SYS, true)
    log.info("errDump", "sys log", new_sys, buff:used())
    errDump.record("socket long time no connect")
    local new_usr = errDump.dump(buff, errDump.TYPE_USR, false)
    log.info("errDump", "user log", new_usr, buff:toStr(0, buff:used()))
    log.info("errDump", "read again", errDump.dump(buff, errDump.TYPE_USR, true))
    log.info("errDump", "done")
end)

sys.run()
