-- socket-tcp-client: connect to a TCP server, send a line, print what comes back, reconnect
-- after the server closes. The server is "tcp.luatos.test:7000"; on a PC point it anywhere:
--   nc -lk 127.0.0.1 7000          (another terminal)
--   luatos run examples/socket-tcp-client --map tcp.luatos.test:7000=127.0.0.1:7000
PROJECT = "socket_tcp_client"
VERSION = "1.0.0"
sys = require("sys")
sysplus = require("sysplus")

local TASK = "tcp_client"
local HOST, PORT = "tcp.luatos.test", 7000

local function wait_event(ev, ms)
    local msg = sysplus.waitMsg(TASK, ev, ms)
    if type(msg) ~= "table" then return false, "timeout" end
    return msg[2] == 0, msg[2]
end

sysplus.taskInitEx(function()
    wlan.init()
    wlan.connect("luatos-lab", "12345678")
    sys.waitUntil("IP_READY", 15000)
    log.info("tcp", "local ip", socket.localIP())
    local rxbuf = zbuff.create(1024)
    local netc = socket.create(nil, TASK)
    socket.config(netc, nil, false, false, 60, 10, 3)
    for round = 1, 2 do
        log.info("tcp", "connect", HOST, PORT, socket.connect(netc, HOST, PORT))
        local ok = wait_event(socket.ON_LINE, 10000)
        log.info("tcp", "online", ok, socket.state(netc))
        if ok then
            socket.tx(netc, "hello from the device, round " .. round .. "\n")
            log.info("tcp", "tx ok", wait_event(socket.TX_OK, 5000))
            while true do
                local succ, now = socket.wait(netc)
                if not succ then break end
                local alive = true
                if not now then alive = wait_event(socket.EVENT, 30000) end
                local s, n = socket.rx(netc, rxbuf)
                if s and n > 0 then
                    log.info("tcp", "rx", n, (rxbuf:toStr(0, rxbuf:used()):gsub("%s+$", "")))
                    rxbuf:seek(0)
                end
                if not alive or not s then
                    log.info("tcp", "server closed the connection")
                    break
                end
            end
        end
        socket.close(netc)
        sys.wait(1000)
    end
    socket.release(netc)
    log.info("tcp", "done")
end, TASK)

sys.run()
