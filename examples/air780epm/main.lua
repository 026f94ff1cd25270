-- Air780EPM (4G Cat.1) example, written for luatos-pc: wait for the cellular network
-- (IP_READY on socket.LWIP_GP), read the modem, make an HTTP request; when the network is
-- lost (IP_LOSE: SIM pulled, no signal, ...) wait for it to come back and request again.
-- Run: luatos run examples/air780epm --board air780epm --platform local
PROJECT = "air780epm_demo"
VERSION = "1.0.0"

sys.subscribe("SIM_IND", function(status)
    log.info("mobile", "SIM_IND", status)
end)

sys.subscribe("IP_LOSE", function(adapter)
    log.warn("mobile", "IP_LOSE", adapter)
end)

local function wait_cellular()
    while true do
        local ok, ip, adapter = sys.waitUntil("IP_READY", 30000)
        if ok and adapter == socket.LWIP_GP then
            log.info("mobile", "IP_READY", ip, adapter)
            return
        end
        log.info("mobile", "still waiting for the cellular network, status", mobile.status())
    end
end

sys.taskInit(function()
    log.info("mobile", "imei", mobile.imei())
    local round = 0
    while true do
        wait_cellular()
        round = round + 1
        log.info("mobile", "csq", mobile.csq(), "rssi", mobile.rssi(), "iccid", mobile.iccid(), "status", mobile.status())
        local url = "http://video.luatos.com:10030/api-system/deviceVideo/get/" .. mobile.imei()
        local code, headers, body = http.request("GET", url).wait()
        log.info("http", "round", round, "code", code, body and #body or 0)
        -- stay online until the network goes away, then start over
        sys.waitUntil("IP_LOSE")
        log.info("mobile", "network lost, recovering")
    end
end)

sys.run()
