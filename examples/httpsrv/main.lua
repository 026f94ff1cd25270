-- httpsrv: the device-side HTTP server on port 80, reachable from the PC on 127.0.0.1 (the log
-- prints the port). index.html next to this script is served as a static file; /api/status
-- and /api/led come from the Lua handler. Open the printed URL in a browser, or
--   curl http://127.0.0.1:<port>/api/status
PROJECT = "httpsrv_demo"
VERSION = "1.0.0"
sys = require("sys")

local led = false
local hits = 0

sys.taskInit(function()
    wlan.init()
    wlan.connect("luatos-lab", "12345678")
    sys.waitUntil("IP_READY", 15000)
    local ok = httpsrv.start(80, function(client, method, uri, headers, body)
        hits = hits + 1
        log.info("httpsrv", method, uri, "body", #body)
        if uri == "/api/status" then
            return 200, {["Content-Type"] = "application/json"}, json.encode({led = led, hits = hits, ip = socket.localIP()})
        elseif uri:sub(1, 8) == "/api/led" and method == "POST" then
            led = body == "on"
            log.info("httpsrv", "led", led)
            return 200, {["Content-Type"] = "application/json"}, json.encode({led = led})
        end
        return 404, {}, "not found"
    end)
    log.info("httpsrv", "started", ok)
end)

sys.run()
