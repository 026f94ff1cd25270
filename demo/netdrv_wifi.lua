--[[
netdrv_wifi: bring up the Air8101's Wi-Fi station through exnetif (single-network mode).

The SSID/password below are the demo's; luatos-pc joins any network when no virtual access point
is configured (`--wifi SSID:PASSWORD` or the profile's network.aps restrict that).
]]
local exnetif = require "exnetif"

-- the station got its address: set the DNS servers and show the addresses
local function ip_ready_func(ip, adapter)
    if adapter == socket.LWIP_STA then
        socket.setDNS(adapter, 1, "223.5.5.5")
        socket.setDNS(adapter, 2, "114.114.114.114")
        log.info("netdrv_wifi.ip_ready_func", "IP_READY", socket.localIP(socket.LWIP_STA))
    end
end

-- the station lost its address (link down, AP gone)
local function ip_lose_func(adapter)
    if adapter == socket.LWIP_STA then
        log.warn("netdrv_wifi.ip_lose_func", "IP_LOSE")
    end
end

sys.subscribe("IP_READY", ip_ready_func)
sys.subscribe("IP_LOSE", ip_lose_func)

-- single network: Wi-Fi only; returns at once, IP_READY follows when the station is up
exnetif.set_priority_order({
    {
        WIFI = {
            ssid = "茶室-降功耗,找合宙!",
            password = "HZ88888888",
        },
    },
})
