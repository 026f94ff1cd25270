--[[
dhcpsrv (luatos-pc's own version, written from the documented behaviour)

A DHCP server for the clients of a local adapter (soft AP, LAN side of an Ethernet port), on top
of udpsrv (port 67). Loading it loads udpsrv. create() opens the UDP server (udpsrv.create on the
adapter; nil when that fails); luatos-pc does not answer DHCP requests yet (no DHCP protocol here:
no clients are simulated on the soft AP).
]]
local udpsrv = require("udpsrv")

local dhcpsrv = {}

--- opts: {adapter=, gw={192,168,4,1}, mask={255,255,255,0}, ip_start=100, ip_end=200, dns=...}
function dhcpsrv.create(opts)
    opts = opts or {}
    local srv = {
        adapter = opts.adapter or socket.LWIP_AP,
        gw = opts.gw or { 192, 168, 4, 1 },
        mask = opts.mask or { 255, 255, 255, 0 },
        ip_start = opts.ip_start or 100,
        ip_end = opts.ip_end or 200,
        clients = {},
    }
    srv.udp = udpsrv.create(67, "dhcpsrv_" .. tostring(srv.adapter), srv.adapter)
    if not srv.udp then
        log.warn("dhcpsrv", "DHCP server not started on adapter", srv.adapter)
        return nil
    end
    return srv
end

return dhcpsrv
