--[[
udpsrv (luatos-pc's own version, written from the documented behaviour)

Small UDP servers: udpsrv.create(port, topic, adapter) listens on `port` and publishes
`topic, data, remote_ip, remote_port` for every datagram. Loading it subscribes IP_READY
(servers are re-opened when an adapter comes up); the handler is silent while no server exists.

Needs the socket client API, which luatos-pc does not implement yet: create() then logs why and
returns nil.
]]
local udpsrv = {}

local servers = {}

local function open(srv)
    local sc = socket.create(srv.adapter, function(s, event)
        if event == socket.EVENT then
            local buff = srv.rxbuff
            local ok, len, remote_ip, remote_port = socket.rx(s, buff)
            if ok and len and len > 0 then
                sys.publish(srv.topic, buff:toStr(0, buff:used()), remote_ip, remote_port)
            end
            buff:del()
        end
    end)
    if not sc then
        log.warn("udpsrv", "UDP server needs the socket client API, not available on luatos-pc yet")
        return false
    end
    socket.config(sc, srv.port, true)
    srv.sc = sc
    return true
end

--- Listen on `port` (adapter: default adapter); returns the server object or nil.
function udpsrv.create(port, topic, adapter)
    local srv = { port = port, topic = topic, adapter = adapter or socket.dft(), rxbuff = zbuff.create(1500) }
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
        if srv.adapter == adapter and not srv.sc then
            log.info("udpsrv", "IP_READY", ip, adapter, "reopen", srv.port)
            open(srv)
        end
    end
end)

return udpsrv
