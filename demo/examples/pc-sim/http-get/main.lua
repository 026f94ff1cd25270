-- exit code: 0
-- An HTTP GET over the PC simulator's adapter. Run it with a server and a mapping:
--   npx luatos run --board pc demo/examples/pc-sim/http-get --map pc-sim.test=127.0.0.1:8080
-- It expects the body "hello"; anything else (or no server) ends the run with 1.
sys.taskInit(function()
    sys.waitUntil("IP_READY", 5000)
    local code, headers, body = http.request("GET", "http://pc-sim.test/hello").wait()
    log.info("http-get", "code", code, "body", body)
    os.exit((code == 200 and body == "hello") and 0 or 1)
end)

sys.run()
