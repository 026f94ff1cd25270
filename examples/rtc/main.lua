-- rtc: set the clock, read it back in UTC, show local time through the time zone, alarm
PROJECT = "rtc_demo"
VERSION = "1.0.0"
sys = require("sys")

sys.subscribe("RTC_IRQ", function()
    log.info("rtc", "alarm", os.date("%H:%M:%S"))
end)

sys.taskInit(function()
    log.info("rtc", "timezone", rtc.timezone())
    rtc.set({year = 2025, mon = 3, day = 1, hour = 4, min = 0, sec = 0})
    local t = rtc.get()
    log.info("rtc", "utc", string.format("%04d-%02d-%02d %02d:%02d:%02d", t.year, t.mon, t.day, t.hour, t.min, t.sec))
    log.info("rtc", "local", os.date("%Y-%m-%d %H:%M:%S"))
    log.info("rtc", "os.time", os.time() == os.time({year = 2025, month = 3, day = 1, hour = 12}))
    rtc.timerStart(0, {year = 2025, mon = 3, day = 1, hour = 4, min = 0, sec = 5})
    sys.wait(10000)
    rtc.timezone(0)
    log.info("rtc", "utc via os.date", os.date("%H:%M:%S"))
    log.info("rtc", "done")
end)

sys.run()
