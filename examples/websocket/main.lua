-- websocket: a client on Wi-Fi talking to an echo server
--
-- On a device this talks to the LuatOS test server. With luatos-pc, point the name at a local
-- echo server:   luatos run examples/websocket --map wstest.luatos.com=127.0.0.1:PORT
--
-- It shows: headers, autoreconn, the events (conack, recv, sent, error, disconnect), text and
-- binary frames (the second argument of send: 1 = binary), the receive limit (a server frame
-- over 32768 bytes ends the connection with error "rx"), the automatic reconnect, close.
PROJECT = "websocket_demo"
VERSION = "1.0.0"
sys = require("sys")

local URL = "ws://wstest.luatos.com/ws/echo"

local function on_event(wsc, event, data, fin, opcode)
    if event == "recv" then
        if #data <= 64 then
            log.info("websocket", "recv", #data, fin, opcode, opcode == 2 and data:toHex() or data)
        else
            log.info("websocket", "recv", #data, fin, opcode)
        end
        sys.publish("WS_RECV", data, opcode)
    elseif event == "error" then
        log.info("websocket", "error", data, fin)
    else
        log.info("websocket", event)
        if event == "conack" then
            sys.publish("WS_READY")
        end
    end
end

sys.taskInit(function()
    wlan.init()
    wlan.connect("luatos-lab", "12345678")
    if not sys.waitUntil("IP_READY", 30000) then
        log.error("websocket", "no Wi-Fi")
        return
    end

    local wsc = websocket.create(nil, URL)
    if not wsc then
        log.error("websocket", "create failed")
        return
    end
    log.info("websocket", "headers", wsc:headers({["X-Device"] = "luatos-demo"}))
    wsc:autoreconn(true, 3000)
    wsc:on(on_event)
    log.info("websocket", "send before connect", wsc:send("too early"))
    wsc:connect()
    if not sys.waitUntil("WS_READY", 15000) then
        log.error("websocket", "no connection")
        return
    end
    log.info("websocket", "ready", wsc:ready())

    -- a text frame
    wsc:send("hello from luatos")
    local _, data = sys.waitUntil("WS_RECV", 5000)
    log.info("websocket", "echo text", data)

    -- a binary frame from a zbuff (its used bytes)
    local z = zbuff.create(8)
    z:write(string.char(0xCA, 0xFE, 0x00, 0x01))
    wsc:send(z, 1)
    local _, bin, opcode = sys.waitUntil("WS_RECV", 5000)
    log.info("websocket", "echo binary", bin:toHex(), opcode)

    -- the largest frame the device receives
    wsc:send(string.rep("x", 32768))
    local _, big = sys.waitUntil("WS_RECV", 5000)
    log.info("websocket", "echo 32768", big and #big)

    -- one byte more: the echo is refused (error "rx"), the connection ends and comes back
    wsc:send(string.rep("y", 32769))
    if sys.waitUntil("WS_READY", 20000) then
        log.info("websocket", "reconnected", wsc:ready())
    end

    wsc:close()
    log.info("websocket", "ready after close", wsc:ready())
    log.info("websocket", "done")
end)

sys.run()
