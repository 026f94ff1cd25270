-- socket-udp-client: send datagrams to a UDP server and print the answers with the sender's
-- address (socket.rx gives it in binary: 0x00 + 4 bytes for IPv4). On a PC:
--   nc -u -l 127.0.0.1 5683        (type an answer there)  or any UDP echo server
--   luatos run examples/socket-udp-client --map udp.luatos.test:5683=127.0.0.1:5683
PROJECT = "socket_udp_client"
VERSION = "1.0.0"
sys = require("sys")

local function ip_text(bin)
    if not bin or #bin < 5 then return tostring(bin) end
    return string.format("%d.%d.%d.%d", bin:byte(2), bin:byte(3), bin:byte(4), bin:byte(5))
end

sys.taskInit(function()
    wlan.init()
    wlan.connect("luatos-lab", "12345678")
    sys.waitUntil("IP_READY", 15000)
    local buf = zbuff.create(1500)
    local netc = socket.create(nil, function(ctrl, event, param)
        if event == socket.ON_LINE then
            sys.publish("UDP_ONLINE", param)
        elseif event == socket.EVENT then
            while true do
                local ok, len, ip, port = socket.rx(ctrl, buf)
                if not ok or len == 0 then break end
                log.info("udp", "from", ip_text(ip), port, "len", len, (buf:toStr(0, buf:used()):gsub("%s+$", "")))
                buf:seek(0)
                sys.publish("UDP_ANSWER")
            end
        end
    end)
    log.info("udp", "config", socket.config(netc, nil, true))
    log.info("udp", "connect", socket.connect(netc, "udp.luatos.test", 5683))
    local _, r = sys.waitUntil("UDP_ONLINE", 5000)
    log.info("udp", "online", r)
    for i = 1, 3 do
        log.info("udp", "tx", i, socket.tx(netc, "ping " .. i))
        log.info("udp", "answer", i, sys.waitUntil("UDP_ANSWER", 3000))
    end
    socket.close(netc)
    socket.release(netc)
    log.info("udp", "done")
end)

sys.run()
