-- socket-tcp-server: a TCP server on the device (port 8080). luatos-pc makes it reachable
-- from the PC on 127.0.0.1 and logs the port, e.g.
--   I socket:device port 8080 listening on adapter 2, reachable from the PC at 127.0.0.1:8080
-- then:  nc 127.0.0.1 8080   and type lines; "bye" closes. Up to 4 clients at a time.
PROJECT = "socket_tcp_server"
VERSION = "1.0.0"
sys = require("sys")

local clients = 0

local function on_client(ctrl, event, param)
    if event == socket.EVENT and param == 0 then
        local ok, data = socket.read(ctrl)
        if ok and #data > 0 then
            local line = data:gsub("%s+$", "")
            log.info("server", "rx", line)
            if line == "bye" then
                socket.tx(ctrl, "bye\n")
                socket.discon(ctrl)
            else
                socket.tx(ctrl, "device says: " .. line .. "\n")
            end
        end
    elseif event == socket.EVENT or event == socket.CLOSED then
        clients = clients - 1
        log.info("server", "client gone, clients", clients)
        socket.release(ctrl)
        sys.publish("CLIENT_GONE")
    end
end

sys.taskInit(function()
    wlan.init()
    wlan.connect("luatos-lab", "12345678")
    sys.waitUntil("IP_READY", 15000)
    local srv = socket.create(nil, function(ctrl, event, param)
        if event ~= socket.ON_LINE then return end
        local ok, cl, ip, port = socket.accept(ctrl, on_client)
        if ok then
            clients = clients + 1
            log.info("server", "client", ip, "clients", clients)
            socket.tx(cl, "welcome to the device\n")
        end
    end)
    socket.config(srv, 8080)
    log.info("server", "listen", socket.listen(srv, 4))
    sys.waitUntil("SERVER_STOP")
    socket.close(srv)
    log.info("server", "done")
end)

sys.run()
