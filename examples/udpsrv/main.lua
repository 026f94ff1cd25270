-- udpsrv: a UDP server on the device (port 5000) with the udpsrv library: every datagram
-- arrives as a sys topic (data, sender ip, sender port) and is answered with srv:send.
-- luatos-pc makes the port reachable from the PC on 127.0.0.1 and logs it, e.g.
--   I socket:device UDP port 5000 on adapter 2, reachable from the PC at 127.0.0.1:5000
-- then send datagrams to it, e.g. with
--   node examples/tools/udp-send.js 5000 hello
-- "quit" stops the server.
PROJECT = "udpsrv_demo"
VERSION = "1.0.0"
sys = require("sys")
local udpsrv = require("udpsrv")

sys.taskInit(function()
    wlan.init()
    wlan.connect("luatos-lab", "12345678")
    sys.waitUntil("IP_READY", 15000)
    local srv = udpsrv.create(5000, "UDP_IN")
    log.info("udpsrv", "created", srv ~= nil)
    if not srv then return end
    while true do
        local _, data, ip, port = sys.waitUntil("UDP_IN")
        log.info("udpsrv", "rx", ip, port, data)
        srv:send("device got: " .. data, ip, port)
        if data:find("quit", 1, true) then break end
    end
    srv:close()
    log.info("udpsrv", "done")
end)

sys.run()
