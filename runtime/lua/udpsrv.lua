--[[
udpsrv (luatos-pc's own version, written from the documented behaviour of the firmware library)

Small UDP servers on the socket API:
  local srv = udpsrv.create(port, topic, adapter)
    -- socket.create(adapter, cb); socket.config(ctrl, port, true); socket.connect(ctrl,
    -- "255.255.255.255", 0) (a UDP ctrl with a local port and no fixed peer: a server)
    -- returns the server object, or nil when the ctrl cannot be created or started
  every datagram → sys.publish(topic, data, remote_ip, remote_port), remote_ip as a dotted
    string ("a.b.c.d"; nil for an IPv6 sender), in arrival order, one publish per datagram
  srv:send(data, ip, port) → socket.tx's results (needs ip and port: the server has no peer)
  srv:close()            → closes and releases the ctrl

On luatos-pc the device port is reachable from the PC on 127.0.0.1; the socket module logs
`device UDP port <port> on adapter <n>, reachable from the PC at 127.0.0.1:<hostport>`.

Loading it subscribes IP_READY; the handler is silent while no server exists (the demo path),
and with servers it logs and reopens those whose ctrl failed (a choice: the socket module itself
waits for a down adapter, so this is only a fallback).
]]
local udpsrv = {}

local servers = {}

local function dotted(ip)
    if type(ip) == "string" and #ip == 5 then
        return string.format("%d.%d.%d.%d", ip:byte(2), ip:byte(3), ip:byte(4), ip:byte(5))
    end
    return nil
end

local function open(srv)
    local sc = socket.create(srv.adapter, function(s, event)
        if event ~= socket.EVENT then return end
        local buff = srv.rxbuff
        -- one EVENT may stand for several datagrams: read until none is left
        while true do
            buff:seek(0)
            local ok, len, remote_ip, remote_port = socket.rx(s, buff)
            if not ok or not len or len <= 0 then break end
            local data = buff:toStr(0, len)
            buff:del()
            sys.publish(srv.topic, data, dotted(remote_ip), remote_port)
        end
    end)
    if not sc then
        log.error("udpsrv", "socket.create failed", srv.port)
        return false
    end
    socket.config(sc, srv.port, true)
    if not socket.connect(sc, "255.255.255.255", 0) then
        log.error("udpsrv", "start failed", srv.port)
        socket.release(sc)
        return false
    end
    srv.sc = sc
    return true
end

--- Listen on `port` (adapter: the default adapter); returns the server object or nil.
function udpsrv.create(port, topic, adapter)
    local srv = { port = port, topic = topic, adapter = adapter, rxbuff = zbuff.create(1500) }
    function srv:send(data, ip, port2)
        if not self.sc then return false end
        return socket.tx(self.sc, data, ip, port2)
    end
    function srv:close()
        if self.sc then
            socket.close(self.sc)
            socket.release(self.sc)
            self.sc = nil
        end
        for i, s in ipairs(servers) do
            if s == self then table.remove(servers, i) break end
        end
    end
    if not open(srv) then return nil end
    servers[#servers + 1] = srv
    return srv
end

sys.subscribe("IP_READY", function(ip, adapter)
    if #servers == 0 then return end
    for _, srv in ipairs(servers) do
        if not srv.sc and (srv.adapter == nil or srv.adapter == adapter) then
            log.info("udpsrv", "IP_READY", ip, adapter, "reopen", srv.port)
            open(srv)
        end
    end
end)

return udpsrv
