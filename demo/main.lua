-- Air8101 + AirCAMERA_1030: push the USB camera to an RTMP server.
-- Written for luatos-pc; it makes the same calls in the same order as the LuatOS demo.
PROJECT = "rtmp_demo"
VERSION = "001.000.000"

log.info("main", PROJECT, VERSION)

-- the hardware watchdog: fed every 3 s, fires after 9 s without food
if wdt then
    wdt.init(9000)
    sys.timerLoopStart(wdt.feed, 3000)
end

require "rtmp_app"
require "netdrv_wifi"

sys.run()
