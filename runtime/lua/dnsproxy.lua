--[[
dnsproxy (luatos-pc's own version, written from the documented behaviour of the firmware library)

A DNS relay for devices behind one of our adapters (e.g. clients of the soft AP): queries that
arrive on UDP port 53 of `adapter` are forwarded to the upstream server (dnsproxy.upstream,
default 119.29.29.29, port 53) through `main_adapter`, and each answer goes back to the client
that asked.

Load-time side effects, as the firmware's library:
  * a 1500-byte receive buffer (zbuff.create(1500));
  * a subscription to IP_READY that always logs "dnsproxy 开始监听" and only (re)starts the
    relay when dnsproxy.setup() was called before.

Relay (our design; the firmware's internals are not documented beyond the above):
  * the listening ctrl: socket.create(adapter, cb), socket.config(ctrl, 53, true),
    socket.connect(ctrl, "255.255.255.255", 0) — on luatos-pc reachable from the PC on
    127.0.0.1 (the socket module logs the host port);
  * the upstream ctrl: a UDP client connected to dnsproxy.upstream:53 on main_adapter (so the
    run's --map rules apply to the upstream address);
  * each query's 16-bit id is replaced by our own id and remembered with the client's address
    (at most MAX_PENDING pending queries, each forgotten after PENDING_S seconds; the oldest is
    dropped when full); an answer with an unknown id is ignored; datagrams shorter than a DNS
    header (12 bytes) are ignored.
  * setup() → true when both ctrls were created and started, else false.
]]
local dnsproxy = {}

dnsproxy.upstream = "119.29.29.29"
dnsproxy.rxbuff = zbuff.create(1500)
dnsproxy.adapter = nil
dnsproxy.main_adapter = nil
dnsproxy.sc = nil
dnsproxy.main_sc = nil

local MAX_PENDING = 64
local PENDING_S = 10
local pending = {} -- list of { id = our id, cid = client id bytes, ip = dotted, port = n, t = seconds }
local next_id = 0

local function dotted(ip)
    if type(ip) == "string" and #ip == 5 then
        return string.format("%d.%d.%d.%d", ip:byte(2), ip:byte(3), ip:byte(4), ip:byte(5))
    end
    return nil
end

local function now_s()
    return os.time()
end

local function expire()
    local t = now_s()
    local i = 1
    while i <= #pending do
        if t - pending[i].t > PENDING_S then table.remove(pending, i) else i = i + 1 end
    end
end

-- read every datagram waiting on `s`, call fn(data, remote_ip_dotted, remote_port)
local function drain(s, fn)
    local buff = dnsproxy.rxbuff
    while true do
        buff:seek(0)
        local ok, len, remote_ip, remote_port = socket.rx(s, buff)
        if not ok or not len or len <= 0 then break end
        local data = buff:toStr(0, len)
        buff:del()
        fn(data, dotted(remote_ip), remote_port)
    end
end

local function on_query(data, ip, port)
    if #data < 12 or not ip or not dnsproxy.main_sc then return end
    expire()
    if #pending >= MAX_PENDING then table.remove(pending, 1) end
    next_id = (next_id + 1) % 65536
    pending[#pending + 1] = { id = next_id, cid = data:sub(1, 2), ip = ip, port = port, t = now_s() }
    log.debug("dnsproxy", "query", #data, ip, port)
    socket.tx(dnsproxy.main_sc, string.char(next_id // 256, next_id % 256) .. data:sub(3))
end

local function on_answer(data)
    if #data < 12 or not dnsproxy.sc then return end
    local id = data:byte(1) * 256 + data:byte(2)
    for i, q in ipairs(pending) do
        if q.id == id then
            table.remove(pending, i)
            socket.tx(dnsproxy.sc, q.cid .. data:sub(3), q.ip, q.port)
            return
        end
    end
    log.debug("dnsproxy", "answer without a query", id)
end

local function close_ctrls()
    for _, k in ipairs({ "sc", "main_sc" }) do
        if dnsproxy[k] then
            socket.close(dnsproxy[k])
            socket.release(dnsproxy[k])
            dnsproxy[k] = nil
        end
    end
    pending = {}
end

local function start_relay()
    if dnsproxy.sc then return true end
    local sc = socket.create(dnsproxy.adapter, function(s, event)
        if event == socket.EVENT then drain(s, on_query) end
    end)
    local main_sc = socket.create(dnsproxy.main_adapter, function(s, event)
        if event == socket.EVENT then drain(s, on_answer) end
    end)
    if not sc or not main_sc then
        log.error("dnsproxy", "socket.create failed")
        if sc then socket.release(sc) end
        if main_sc then socket.release(main_sc) end
        return false
    end
    dnsproxy.sc, dnsproxy.main_sc = sc, main_sc
    socket.config(sc, 53, true)
    socket.config(main_sc, nil, true)
    if not socket.connect(sc, "255.255.255.255", 0) or not socket.connect(main_sc, dnsproxy.upstream, 53) then
        log.error("dnsproxy", "start failed")
        close_ctrls()
        return false
    end
    return true
end

--- Relay DNS for clients of `adapter` through `main_adapter` (default: the default adapter).
function dnsproxy.setup(adapter, main_adapter)
    close_ctrls()
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
    close_ctrls()
    dnsproxy.adapter = nil
    dnsproxy.main_adapter = nil
end

sys.subscribe("IP_READY", function(ip, adapter)
    log.info("dnsproxy", "开始监听")
    if not dnsproxy.adapter then return end
    dnsproxy.on_ip_ready()
end)

return dnsproxy
