-- exit code: 0
-- Wait for the PC simulator's adapter to come up, then check what socket.* says about it.
local ETH = socket.ETH0

sys.taskInit(function()
    local ok, ip, adapter = sys.waitUntil("IP_READY", 5000)
    if not ok then
        log.error("ip-ready", "no IP_READY within 5 s")
        os.exit(2)
    end
    log.info("ip-ready", "IP_READY", ip, adapter)
    local dft = socket.dft()
    local lip = socket.localIP(adapter)
    local good = adapter == ETH and dft == ETH and lip == ip
    log.info("ip-ready", "dft", dft, "localIP", lip, good and "PASS" or "FAIL")
    os.exit(good and 0 or 1)
end)

sys.run()
