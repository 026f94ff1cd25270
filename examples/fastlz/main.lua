-- fastlz: small and fast compression of a repetitive log buffer
PROJECT = "fastlz_demo"
VERSION = "1.0.0"
sys = require("sys")

sys.taskInit(function()
    local buf = string.rep("sensor=ok;temp=21.5;hum=40;", 30)
    local c1 = fastlz.compress(buf)
    local c2 = fastlz.compress(buf, 2)
    log.info("fastlz", "before", #buf, "level1", #c1, "level2", #c2)
    log.info("fastlz", "head", c1:sub(1, 8):toHex())
    local out = fastlz.uncompress(c1)
    log.info("fastlz", "restored", out == buf)
    log.info("fastlz", "maxout too small", fastlz.uncompress(c1, 100))
    log.info("fastlz", "done")
end)

sys.run()
