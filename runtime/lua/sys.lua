-- sys: tasks, timers and messages, the way the LuatOS firmware's built-in library behaves.
-- Written for this runtime from the documented behaviour (luatos-api.md §3); the firmware
-- embeds its own copy, and a user's sys.lua in the script folder replaces this one.
--
-- Summary of the contract kept here:
--  * taskInit resumes the new task at once; publish only queues; dispatch drains the queue
--    (snapshot of subscribers per message, pairs order) before each rtos.receive;
--  * task timers use ids 1..0x1FFFFE, message timers 0x200000..0x7FFFFF, both round-robin;
--  * wait(ms < 1) returns without yielding; waitUntil gives true, args... or a single false;
--  * errors inside tasks are logged as coroutine.resume and rethrown 500 ms later in the main
--    loop (COROUTINE_ERROR_ROLL_BACK) or reboot at once (COROUTINE_ERROR_RESTART);
--  * subscriber and timer callbacks run unprotected.
local sys = {}

local rtos, log = rtos, log
local co_create, co_resume, co_running, co_yield = coroutine.create, coroutine.resume, coroutine.running, coroutine.yield
local unpack, tinsert, tremove = table.unpack, table.insert, table.remove
local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring

SCRIPT_LIB_VER = "2.3.2"
COROUTINE_ERROR_ROLL_BACK = true
COROUTINE_ERROR_RESTART = true

local TASK_ID_LIMIT = 0x1FFFFF   -- task timers: 1 .. 0x1FFFFE
local MSG_ID_LIMIT = 0x7FFFFF    -- message timers: 0x200000 .. 0x7FFFFF

local lastTaskId = 0
local lastMsgId = TASK_ID_LIMIT
local pool = {}        -- timer id -> coroutine (task timer) or callback (message timer)
local args = {}        -- message timer id -> packed callback arguments
local waitingTimer = {} -- coroutine -> its current task timer id

----------------------------------------------------------------- tasks

local function report(co, ok, ...)
  if not ok then
    local err = ...
    local tb = debug.traceback(co)
    local text = tostring(err)
    if tb and tb ~= "" then text = text .. "\r\n" .. tb end
    log.error("coroutine.resume", text)
    if COROUTINE_ERROR_ROLL_BACK then
      sys.timerStart(assert, 500, false, text)
    elseif COROUTINE_ERROR_RESTART then
      rtos.reboot()
    end
  end
  return ok, ...
end

--- resume a coroutine, logging and escalating its error as the firmware does
function sys.coresume(co, ...)
  return report(co, co_resume(co, ...))
end

function sys.check_task()
  local co, ismain = co_running()
  if ismain then
    error(debug.traceback("attempt to yield from outside a coroutine"))
  end
  return co
end

function sys.taskInit(fn, ...)
  local co = co_create(fn)
  sys.coresume(co, ...)
  return co
end

----------------------------------------------------------------- waiting

local function allocTaskTimer()
  repeat
    lastTaskId = lastTaskId + 1
    if lastTaskId >= TASK_ID_LIMIT then lastTaskId = 1 end
  until pool[lastTaskId] == nil
  return lastTaskId
end

function sys.wait(ms)
  local co = sys.check_task()
  local id = allocTaskTimer()
  if rtos.timer_start(id, ms) ~= 1 then
    log.debug("rtos.timer_start error")
    return
  end
  pool[id] = co
  waitingTimer[co] = id
  local r = table.pack(co_yield())
  if r.n > 0 then
    -- woken by something else (a message): cancel the timer
    rtos.timer_stop(id)
    pool[id] = nil
    if waitingTimer[co] == id then waitingTimer[co] = nil end
    return unpack(r, 1, r.n)
  end
end

local function waitFor(topic, ms)
  local co = sys.check_task()
  sys.subscribe(topic, co)
  local r
  if ms then r = { sys.wait(ms) } else r = { co_yield() } end
  sys.unsubscribe(topic, co)
  return r
end

function sys.waitUntil(topic, ms)
  local r = waitFor(topic, ms)
  return r[1] ~= nil, unpack(r, 2, #r)
end

function sys.waitUntilExt(topic, ms)
  local r = waitFor(topic, ms)
  if r[1] ~= nil then return unpack(r) end
  return false
end

function sys.waitUntilMsg(topic)
  local r = waitFor(topic, nil)
  return unpack(r, 2, #r)
end

----------------------------------------------------------------- timers

local function sameArgs(a, b)
  if b == nil then return #a == 0 end
  if #a ~= #b then return false end
  for i = 1, #a do
    if a[i] ~= b[i] then return false end
  end
  return true
end

local function cbOf(v)
  if type(v) == "table" then return v.cb end
  return v
end

function sys.timerStop(v, ...)
  if type(v) == "number" then
    pool[v], args[v] = nil, nil
    rtos.timer_stop(v)
    return
  end
  local want = { ... }
  for id, cb in pairs(pool) do
    if id > TASK_ID_LIMIT and cbOf(cb) == v and sameArgs(want, args[id]) then
      rtos.timer_stop(id)
      pool[id], args[id] = nil, nil
      return
    end
  end
end

function sys.timerStopAll(fn)
  for id, cb in pairs(pool) do
    if id > TASK_ID_LIMIT and cbOf(cb) == fn then
      rtos.timer_stop(id)
      pool[id], args[id] = nil, nil
    end
  end
end

function sys.timerAdvStart(fn, ms, rep, ...)
  local a = { ... }
  if #a == 0 then sys.timerStop(fn) else sys.timerStop(fn, ...) end
  repeat
    if lastMsgId >= MSG_ID_LIMIT then lastMsgId = TASK_ID_LIMIT end
    lastMsgId = lastMsgId + 1
  until pool[lastMsgId] == nil
  local id = lastMsgId
  pool[id] = fn
  if rtos.timer_start(id, ms, rep) ~= 1 then
    log.error("rtos.timer_start", "create fail!!!")
    return
  end
  if #a > 0 then args[id] = a end
  return id
end

function sys.timerStart(fn, ms, ...)
  return sys.timerAdvStart(fn, ms, 0, ...)
end

function sys.timerLoopStart(fn, ms, ...)
  return sys.timerAdvStart(fn, ms, -1, ...)
end

function sys.timerIsActive(v, ...)
  if type(v) == "number" then return pool[v] end
  local want = { ... }
  for id, cb in pairs(pool) do
    if id > TASK_ID_LIMIT and cb == v and sameArgs(want, args[id]) then return true end
  end
end

----------------------------------------------------------------- messages

-- topic -> list of callbacks in subscription order (each callback at most once per topic).
-- The firmware keeps a table keyed by callback and delivers in `pairs` order, i.e. in an order
-- set by memory addresses. Here delivery is deterministic: callback functions first, the most
-- recently subscribed first, then waiting tasks (coroutines) in the order they subscribed. This
-- reproduces the reference device log for the demo's IP_READY (netdrv_wifi's handler, then
-- dnsproxy's, then the task waiting in waitUntil). Scripts cannot rely on either order.
local subscribers = {}
local queue = {}

function sys.subscribe(topic, cb)
  if type(topic) == "table" then
    for _, t in pairs(topic) do sys.subscribe(t, cb) end
    return
  end
  local list = subscribers[topic]
  if not list then
    list = {}
    subscribers[topic] = list
  end
  for i = 1, #list do
    if list[i] == cb then return end
  end
  list[#list + 1] = cb
end

function sys.unsubscribe(topic, cb)
  if type(topic) == "table" then
    for _, t in pairs(topic) do sys.unsubscribe(t, cb) end
    return
  end
  local list = subscribers[topic]
  if not list then return end
  for i = 1, #list do
    if list[i] == cb then
      tremove(list, i)
      break
    end
  end
  if #list == 0 then subscribers[topic] = nil end
end

function sys.publish(...)
  tinsert(queue, { ... })
end

local function dispatch()
  while #queue > 0 do
    local msg = tremove(queue, 1)
    local list = subscribers[msg[1]]
    if list then
      local snapshot = {}
      for i = #list, 1, -1 do
        if type(list[i]) == "function" then snapshot[#snapshot + 1] = list[i] end
      end
      for i = 1, #list do
        if type(list[i]) == "thread" then snapshot[#snapshot + 1] = list[i] end
      end
      for _, cb in ipairs(snapshot) do
        if type(cb) == "function" then
          cb(unpack(msg, 2, #msg))
        elseif type(cb) == "thread" then
          sys.coresume(cb, unpack(msg))
        end
      end
    end
  end
end

----------------------------------------------------------------- main loop

function sys.safeRun()
  dispatch()
  local kind, id, rep = rtos.receive(rtos.INF_TIMEOUT)
  if kind ~= rtos.MSG_TIMER or pool[id] == nil then return end
  if id < TASK_ID_LIMIT then
    local co = pool[id]
    pool[id] = nil
    if waitingTimer[co] == id then
      waitingTimer[co] = nil
      sys.coresume(co)
    end
  else
    local cb = pool[id]
    local a = args[id]
    if rep == 0 then pool[id], args[id] = nil, nil end
    if a then cb(unpack(a)) else cb() end
  end
end

if _G.SYSP then
  function sys.run() end
else
  function sys.run()
    while true do sys.safeRun() end
  end
end

----------------------------------------------------------------- futures for async C APIs

local futureMt = {}
futureMt.__index = function(t, k)
  local topic, failed = rawget(t, "w"), rawget(t, "r")
  if k == "wait" then
    return function()
      if failed then return unpack(failed) end
      return sys.waitUntilMsg(topic)
    end
  elseif k == "cb" then
    return function(f)
      if type(f) ~= "function" then return end
      sys.taskInit(function()
        if failed then
          f(unpack(failed))
        else
          f(sys.waitUntilMsg(topic))
        end
      end)
    end
  end
  return nil
end
sys.cwaitMt = futureMt

function sys_cw(topic, ...)
  local r = { ... }
  return setmetatable({ w = topic, r = (#r > 0) and r or nil }, futureMt)
end

----------------------------------------------------------------- task mailboxes

local tasks = {}

function sys.taskInitEx(fn, name, cbFun, ...)
  if name == nil then
    log.error("sys", "taskName is nil", debug.traceback())
    return
  end
  tasks[name] = { queue = {}, timedOut = false, cb = cbFun }
  return sys.taskInit(fn, ...)
end

function sys.taskDel(name)
  tasks[name] = nil
end

local function mailboxTimeout(name)
  local t = tasks[name]
  if t then t.timedOut = true end
  sys.publish(name)
end

-- take queued items until one matches; others go to the task's callback or are dropped
local function takeMatching(t, target)
  while #t.queue > 0 do
    local item = tremove(t.queue, 1)
    if target == nil or item[1] == target then return item end
    if type(t.cb) == "function" then t.cb(item) end
  end
end

function sys.waitMsg(name, target, ms)
  local t = tasks[name]
  if t == nil then
    log.error("sys", "sys.taskInitEx启动的task才能使用waitMsg")
    return false
  end
  local item = takeMatching(t, target)
  if item then return item end
  local co = sys.check_task()
  sys.subscribe(name, co)
  sys.timerStop(mailboxTimeout, name)
  if ms and ms ~= 0 then sys.timerStart(mailboxTimeout, ms, name) end
  t.timedOut = false
  while true do
    co_yield()
    if #t.queue > 0 then
      item = tremove(t.queue, 1)
      if target == nil or item[1] == target then break end
      if type(t.cb) == "function" then t.cb(item) end
      item = nil
    elseif t.timedOut then
      break
    end
  end
  t.timedOut = false
  sys.timerStop(mailboxTimeout, name)
  sys.unsubscribe(name, co)
  return item
end

function sys.sendMsg(name, p1, p2, p3, p4)
  local t = tasks[name]
  if t == nil then return false end
  tinsert(t.queue, { p1, p2, p3, p4 })
  sys.publish(name)
  return true
end

function sys.cleanMsg(name)
  local t = tasks[name]
  if t == nil then return false end
  t.queue = {}
  return true
end

function sys.taskCB(name, msg)
  local t = tasks[name]
  if t and type(t.cb) == "function" then
    t.cb(msg)
    return
  end
  log.error(name, "no cb fun")
end

sys_pub = sys.publish
sys_send = sys.sendMsg
sys_wait = sys.waitMsg

return sys
