-- exit code: 0
-- A small self-test: every check compares with a known value; the exit code is the number of
-- failed checks (0 = all passed), as the PC simulator's test scripts report.
local failed = 0

local function check(name, got, want)
    if got == want then
        log.info("selftest", "PASS", name)
    else
        failed = failed + 1
        log.error("selftest", "FAIL", name, "got", got, "want", want)
    end
end

sys.taskInit(function()
    check("bsp", rtos.bsp(), "PC")
    check("json.encode", json.encode({ a = 1 }), '{"a":1}')
    local t = json.decode('{"list":[1,2,3],"s":"x"}')
    check("json.decode", t and #t.list == 3 and t.s, "x")
    check("toHex", ("\x01\xab"):toHex(), "01AB")
    -- RFC 1321 test suite: MD5("abc")
    check("md5", crypto.md5("abc"), "900150983CD24FB0D6963F7D28E17F72")
    local buff = zbuff.create(8)
    buff:pack(">H", 0x1234)
    buff:seek(0)
    local _, v = buff:unpack(">H")
    check("zbuff", v, 0x1234)
    sys.wait(10)
    log.info("selftest", "failed", failed)
    os.exit(failed)
end)

sys.run()
