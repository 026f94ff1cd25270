-- Lua-level conformance suite for sys/sysplus, rtos and json (luatos-api.md §3, §5, §8).
-- Runs unchanged on every engine, and against the firmware's own sys.lua when one is dropped
-- into the script folder. Each check logs "PASS <name>" or "FAIL <name> <detail>"; the last
-- line is "SUITE DONE <passed> <failed>".
local passed, failed = 0, 0
local function check(name, cond, detail)
  if cond then
    passed = passed + 1
    log.info("suite", "PASS", name)
  else
    failed = failed + 1
    log.info("suite", "FAIL", name, tostring(detail))
  end
end

local order = {}
local function mark(x) order[#order + 1] = x end

-- globals created at boot
check("globals", type(sys) == "table" and type(sysplus) == "table" and type(sys_pub) == "function"
  and type(sys_cw) == "function" and type(sys_send) == "function" and type(sys_wait) == "function"
  and SCRIPT_LIB_VER == "2.3.2" and COROUTINE_ERROR_ROLL_BACK == true and COROUTINE_ERROR_RESTART == true,
  "missing globals")
check("rtos constants", rtos.INF_TIMEOUT == -1 and rtos.MSG_TIMER == 1)
check("timer_start ms<1 fails", rtos.timer_start(0x1FFFFE, 0) == 0)

-- taskInit runs synchronously up to the first yield
mark("before")
local co = sys.taskInit(function(a, b)
  mark("task:" .. a .. b)
  sys.wait(10)
  mark("task resumed")
end, "x", "y")
mark("after")
check("taskInit sync", order[1] == "before" and order[2] == "task:xy" and order[3] == "after", table.concat(order, ","))
check("taskInit returns thread", type(co) == "thread")

-- wait(0) does not yield
local afterWait0 = false
sys.taskInit(function()
  local r = sys.wait(0)
  afterWait0 = (r == nil)
end)
-- the task ran past wait(0) inside taskInit: it did not yield
check("wait(0) returns at once", afterWait0 == true)

-- publish only queues
local delivered = false
sys.subscribe("Q_TEST", function() delivered = true end)
sys.publish("Q_TEST")
check("publish only queues", delivered == false)

-- subscribe with a table of topics, once per callback per topic
local hits = 0
local function multi() hits = hits + 1 end
sys.subscribe({ "M1", "M2" }, multi)
sys.subscribe("M1", multi)

-- timers
local fired = {}
local function tcb(tag) fired[#fired + 1] = tag end
local id1 = sys.timerStart(tcb, 50, "a")
local id2 = sys.timerStart(tcb, 50, "a") -- replaces id1
check("timerStart replaces same fn+args", sys.timerIsActive(id1) == nil and sys.timerIsActive(id2) ~= nil)
check("timerIsActive by fn", sys.timerIsActive(tcb, "a") == true and sys.timerIsActive(tcb, "zz") == nil)
sys.timerStart(tcb, 60, "b")
sys.timerStart(tcb, 70, "c")
sys.timerStop(tcb, "b")
local loopN = 0
local loopId = sys.timerLoopStart(function() loopN = loopN + 1 end, 20)
local function other() fired[#fired + 1] = "other" end
sys.timerStart(other, 40, 1)
sys.timerStart(other, 40, 2)
sys.timerStopAll(other)
check("timer ids are message timers", id2 >= 0x200000 and id2 <= 0x7FFFFF, id2)

-- task mailbox
sys.taskInitEx(function()
  local m = sys.waitMsg("MBOX", "want", 2000)
  check("waitMsg returns item table", type(m) == "table" and m[1] == "want" and m[2] == 7, m and m[1])
  local t = sys.waitMsg("MBOX", "never", 50)
  check("waitMsg timeout returns nil", t == nil)
  sys.publish("MBOX_DONE")
end, "MBOX", nil)
check("sendMsg to unknown task is false", sys.sendMsg("NOPE", 1) == false)
check("cleanMsg unknown is false", sys.cleanMsg("NOPE") == false)
check("sendMsg true", sys.sendMsg("MBOX", "drop-me") == true and sys.sendMsg("MBOX", "want", 7) == true)
check("waitMsg unregistered false", sys.waitMsg("NOPE2") == false)

-- futures: an immediately failed future returns at once
local f = sys_cw(nil, -4)
sys.taskInit(function()
  local r = f.wait()
  check("failed future returns at once", r == -4, r)
  local topic = "FUT_TOPIC"
  local g = sys_cw(topic)
  sys.timerStart(function() sys.publish(topic, 200, { a = 1 }, "body") end, 10)
  local code, hdr, body = g.wait()
  check("future wait", code == 200 and hdr.a == 1 and body == "body", code)
  local got
  local h = sys_cw("FUT2")
  h.cb(function(x) got = x end)
  sys.publish("FUT2", 5)
  sys.wait(20)
  check("future cb", got == 5, got)
end)

-- json
check("json.encode(nil)", json.encode(nil) == "")
check("json float %.7f", json.encode(1.5) == "1.5000000", json.encode(1.5))
check("json empty table", json.encode({}) == "{}")
check("json array", json.encode({ 1, 2, 3 }) == "[1,2,3]")
check("json holes", json.encode({ [1] = 1, [3] = 3 }) == "[1,null,3]", json.encode({ [1] = 1, [3] = 3 }))
check("json slash", json.encode("a/b") == '"a/b"')
check("json fmt", json.encode(1.25, "3f") == "1.250" and json.encode(1.25, "%.1f") == "1.2" and json.encode(0.5, "7g") == "0.5", json.encode(1.25, "%.1f"))
local nf, nerr = json.encode(1, "x")
check("json bad fmt", nf == nil and nerr == "invalid float format")
local sp, sperr = json.encode({ [1] = 1, [100] = 2 })
check("json sparse", sp == nil and type(sperr) == "string" and sperr:find("sparse") ~= nil, sperr)
local v, r = json.decode('{"a":[1,2.5,null],"b":"\\u4e2d"}')
check("json decode ok", r == 1 and v.a[1] == 1 and math.type(v.a[1]) == "integer" and v.a[2] == 2.5 and v.a[3] == json.null and v.b == "中")
local v2, r2, e2 = json.decode("1e5")
check("json 1e5 fails", v2 == nil and r2 == false and type(e2) == "string", e2)
local v3, r3 = json.decode("[1,")
check("json truncated fails", v3 == nil and r3 == false)
check("json.null truthy", json.null and true)

-- main task: waits, then checks everything that needs time
sys.taskInit(function()
  local ok, a, b = sys.waitUntil("NEVER", 30)
  check("waitUntil timeout single false", ok == false and a == nil and select("#", sys.waitUntil("NEVER", 10)) == 1)
  sys.timerStart(sys.publish, 10, "ARG_TOPIC", 1, "two")
  local ok2, x, y = sys.waitUntil("ARG_TOPIC", 1000)
  check("waitUntil message", ok2 == true and x == 1 and y == "two")
  check("publish delivered later", delivered == true)
  sys.publish("M1")
  sys.publish("M2")
  sys.wait(20)
  check("subscribe table of topics, once per topic", hits == 2, hits)
  sys.unsubscribe({ "M1", "M2" }, multi)
  sys.publish("M1")
  sys.wait(20)
  check("unsubscribe table", hits == 2, hits)
  sys.wait(150)
  check("timers fired", #fired == 2 and fired[1] == "a" and fired[2] == "c", table.concat(fired, ","))
  check("loop timer repeats", loopN >= 3, loopN)
  sys.timerStop(loopId)
  local n = loopN
  sys.wait(60)
  check("timerStop by id", loopN == n)
  check("waitUntilExt", true)
  sys.waitUntil("MBOX_DONE", 300)
  -- a message waking sys.wait returns its values
  local waiter = sys.taskInit(function()
    local r1, r2 = sys.wait(5000)
    check("wait woken by resume returns values", r1 == "hey" and r2 == 2, r1)
  end)
  coroutine.resume(waiter, "hey", 2)
  local ok3, tp = sys.waitUntilExt("EXT", 10)
  check("waitUntilExt timeout false", ok3 == false)
  local m1, m2, m3 = rtos.meminfo()
  check("meminfo", math.type(m1) == "integer" and m2 > 0 and m3 >= m2, m2)
  check("version/bsp", type(rtos.version()) == "string" and select("#", rtos.version()) == 1 and select("#", rtos.version(true)) == 3 and rtos.bsp() == "Air8101")
  log.info("suite", "SUITE DONE", passed, failed)
end)

sys.run()
