--[[
dnsproxy (luatos-pc's own version, written from the documented behaviour)

A DNS relay for devices behind one of our adapters (e.g. clients of the soft AP): queries
arriving on `adapter` are forwarded to the upstream server through `main_adapter`.

Load-time side effects, as the firmware's library:
  * a 1500-byte receive buffer (zbuff.create(1500));
  * a subscription to IP_READY that always logs "dnsproxy 开始监听" and only (re)starts the
    relay when dnsproxy.setup() was called before.

The relay itself needs the socket client API (socket.create/config/...), which luatos-pc does
not implement yet: setup() then logs why and returns false.
]]
local dnsproxy = {}

dnsproxy.upstream = "119.29.29.29"
dnsproxy.rxbuff = zbuff.create(1500)
dnsproxy.adapter = nil
dnsproxy.main_adapter = nil
dnsproxy.sc = nil

local function start_relay()
    if dnsproxy.sc then return true end
    if not socket.create then
        log.error("dnsproxy", "socket.create missing, relay not started")
        return false
    end
    local sc = socket.create(dnsproxy.adapter, function(s, event)
        if event == socket.EVENT then
            local ok, len, remote_ip, remote_port = socket.rx(s, dnsproxy.rxbuff)
            if ok and len and len > 0 then
                log.debug("dnsproxy", "request", len, remote_ip, remote_port)
            end
            dnsproxy.rxbuff:del()
        end
    end)
    if not sc then
        log.warn("dnsproxy", "relay needs the socket client API, not available on luatos-pc yet")
        return false
    end
    socket.config(sc, 53, true)
    dnsproxy.sc = sc
    return true
end

--- Relay DNS for clients of `adapter` through `main_adapter` (default: the default adapter).
function dnsproxy.setup(adapter, main_adapter)
    dnsproxy.adapter = adapter
    dnsproxy.main_adapter = main_adapter or socket.dft()
    return start_relay()
end

--- Called on IP_READY (also usable directly).
function dnsproxy.on_ip_ready()
    if not dnsproxy.adapter then return end
    start_relay()
end

--- Stop relaying.
function dnsproxy.close()
    if dnsproxy.sc then
        socket.close(dnsproxy.sc)
        socket.release(dnsproxy.sc)
    end
    dnsproxy.sc = nil
    dnsproxy.adapter = nil
    dnsproxy.main_adapter = nil
end

sys.subscribe("IP_READY", function(ip, adapter)
    log.info("dnsproxy", "开始监听")
    if not dnsproxy.adapter then return end
    dnsproxy.on_ip_ready()
end)

return dnsproxy
