/**
 * The Lua half of the debugger: loaded into each boot's VM (before boot.lua) when a debugger is
 * attached. Introspection goes through the standard `debug` library (getinfo, getlocal,
 * getupvalue on a given thread), so no engine needs more than the hook it already has.
 *
 * It also wraps, for that VM only:
 *  - `coroutine.create`: each coroutine gets an id and a name (the task's function as the script
 *    named it: `sys.taskInit(rtmp_task)` -> "rtmp_task"; `sysplus.taskInitEx(fn, "name")` ->
 *    "name"; else "task@file.lua:LINE"), so every sys task is a debugger thread. Argument
 *    errors keep the stock text ('create' is called through a local of that name).
 *  - `coroutine.resume`: a coroutine that died of an error is reported to the host *before*
 *    the caller sees `false, err` (sys.lua's report and the firmware's reboot path), with the
 *    dead coroutine's stack still intact.
 * Coroutines made by `coroutine.wrap` are not listed (the C library creates them directly).
 *
 * Calls from the host pass thread ids (1 = the main thread); levels count from the thread's
 * top frame, skipping this chunk's own frames when the thread is the running one.
 */
export const HELPER_CHUNK = '=[luatos-pc debugger]';

export const HELPER_LUA = String.raw`
local MAIN, onError = ...
local getinfo, getlocal, getupvalue, setmetatable, getmetatable = debug.getinfo, debug.getlocal, debug.getupvalue, setmetatable, getmetatable
local create, resume, status, running = coroutine.create, coroutine.resume, coroutine.status, coroutine.running
local type, tostring, pairs, next, select, load, pcall, rawget, rawlen, sort, concat = type, tostring, pairs, next, select, load, pcall, rawget, rawlen, table.sort, table.concat
local mtype, sformat = math.type, string.format
local ipairs, unpack, pack = ipairs, table.unpack, table.pack
local G = _G
local H = {}
local info = setmetatable({}, { __mode = "k" })   -- coroutine -> {id, name}
local byId = setmetatable({}, { __mode = "v" })   -- id -> coroutine
local seq = 1
info[MAIN] = { id = 1, name = "main" }
byId[1] = MAIN
local refs, nref = {}, 0
local MAXV = 1000

local function nameOf(f)
  local found
  for lv = 3, 6 do
    local i = getinfo(lv, "f")
    if not i then break end
    if sys and i.func == rawget(sys, "taskInitEx") then
      local _, n = getlocal(lv, 2)
      if type(n) == "string" then return n end
    end
    local here
    local k = 1
    while true do
      local n, v = getlocal(lv, k)
      if not n then break end
      if v == f and n:sub(1, 1) ~= "(" then here = n end
      k = k + 1
    end
    if not here and i.func then
      k = 1
      while true do
        local n, v = getupvalue(i.func, k)
        if not n then break end
        if v == f then here = n end
        k = k + 1
      end
    end
    if here then found = here end
  end
  if found then return found end
  if type(f) == "function" then
    local s = getinfo(f, "S")
    return "task@" .. s.short_src .. ":" .. s.linedefined
  end
  return "task"
end

local function register(co, name)
  local r = info[co]
  if r then return r end
  seq = seq + 1
  r = { id = seq, name = name }
  info[co] = r
  byId[seq] = co
  return r
end

coroutine.create = function(f)
  local co = create(f)
  local ok, name = pcall(nameOf, f)
  register(co, ok and name or "task")
  return co
end

local function after(co, ok, ...)
  if not ok and onError and type(co) == "thread" then
    register(co, "task")
    onError(info[co].id, (...))
  end
  return ok, ...
end
coroutine.resume = function(co, ...)
  return after(co, resume(co, ...))
end

-- the id of a thread (registering one the wrapper did not see)
function H.id(co)
  co = co or running()
  local r = info[co] or register(co, "coroutine")
  return r.id
end

function H.thread(id)
  return byId[id]
end

-- id, name pairs of the live threads (and of 'keep', a dead one the host is stopped on)
function H.threads(keep)
  local ids = {}
  for co, r in pairs(info) do
    if r.id == keep or r.id == 1 or status(co) ~= "dead" then ids[#ids + 1] = r.id end
  end
  sort(ids)
  local out = {}
  for _, id in ipairs(ids) do
    out[#out + 1] = id
    out[#out + 1] = info[byId[id]].name
  end
  return unpack(out)
end

-- level offset: frames of the helper itself on the running thread (level 0 = its caller's top)
local function base(co, extra)
  if co == running() then return 2 + (extra or 0) end
  return 0
end

-- source, line and stack depth of the running thread's top frame (called from the hook)
function H.here(withDepth)
  local i = getinfo(2, "Sl")
  if not i then return nil end
  local d = 0
  if withDepth then
    d = 2
    while getinfo(d, "l") do d = d + 1 end
    d = d - 2
  end
  return i.source, i.currentline, H.id(), d
end

-- number of frames of thread id
function H.depth(id)
  local co = byId[id]
  if not co then return 0 end
  local b = base(co)
  local d = b
  while getinfo(co, d, "l") do d = d + 1 end
  return d - b
end

-- frames: level, name, source, line, what for each frame of thread id
function H.stack(id, max)
  local co = byId[id]
  if not co then return end
  local out = {}
  local b = base(co)
  local lv = 0
  while #out < (max or 200) * 5 do
    local i = getinfo(co, lv + b, "nSl")
    if not i then break end
    if i.source ~= "=[luatos-pc debugger]" then
      out[#out + 1] = lv
      out[#out + 1] = i.name or (i.what == "main" and "main chunk") or (i.what == "Lua" and ("function <" .. i.short_src .. ":" .. i.linedefined .. ">")) or "?"
      out[#out + 1] = i.source
      out[#out + 1] = i.currentline
      out[#out + 1] = i.what
    end
    lv = lv + 1
  end
  return unpack(out)
end

local function keyText(k)
  if type(k) == "string" then return k end
  return "[" .. tostring(k) .. "]"
end

local function valueText(v)
  local t = type(v)
  if t == "string" then
    if #v > 200 then v = v:sub(1, 200) .. "..." end
    return sformat("%q", v):gsub("\\\n", "\\n")
  end
  if t == "table" then
    local mt = getmetatable(v)
    local n = rawlen(v)
    local ok, s = pcall(tostring, v)
    s = ok and s or "table"
    if n > 0 then return s .. " [" .. n .. "]" end
    return s
  end
  -- the firmware's tostring once boot.lua installed it (floats as the device prints them)
  local ok, s = pcall(rawget(G, "tostring") or tostring, v)
  return ok and tostring(s) or t
end

local function refOf(v)
  local t = type(v)
  if t == "table" or ((t == "userdata" or t == "function") and false) then
    nref = nref + 1
    refs[nref] = v
    return nref
  end
  return 0
end

local function put(out, name, v)
  out[#out + 1] = name
  out[#out + 1] = valueText(v)
  out[#out + 1] = type(v)
  out[#out + 1] = refOf(v)
end

function H.reset()
  refs, nref = {}, 0
end

function H.locals(id, lv)
  local co = byId[id]
  if not co then return end
  local out = {}
  local L = lv + base(co)
  local k = 1
  while #out < MAXV * 4 do
    local n, v = getlocal(co, L, k)
    if not n then break end
    if n:sub(1, 1) ~= "(" then put(out, n, v) end
    k = k + 1
  end
  k = -1
  while true do
    local n, v = getlocal(co, L, k)
    if not n then break end
    put(out, "...[" .. -k .. "]", v)
    k = k - 1
  end
  return unpack(out)
end

function H.upvalues(id, lv)
  local co = byId[id]
  if not co then return end
  local i = getinfo(co, lv + base(co), "f")
  if not i or not i.func then return end
  local out = {}
  local k = 1
  while #out < MAXV * 4 do
    local n, v = getupvalue(i.func, k)
    if not n then break end
    if n == "" then n = "?" .. k end
    put(out, n, v)
    k = k + 1
  end
  return unpack(out)
end

local function sortedKeys(t)
  local ks = {}
  for k in next, t do
    ks[#ks + 1] = k
    if #ks >= MAXV then break end
  end
  sort(ks, function(a, b)
    local ta, tb = type(a), type(b)
    if ta == "number" and tb == "number" then return a < b end
    if ta == "number" then return true end
    if tb == "number" then return false end
    return tostring(a) < tostring(b)
  end)
  return ks
end

function H.globals()
  local out = {}
  for _, k in ipairs(sortedKeys(G)) do put(out, keyText(k), rawget(G, k)) end
  return unpack(out)
end

function H.children(ref)
  local t = refs[ref]
  if type(t) ~= "table" then return end
  local out = {}
  for _, k in ipairs(sortedKeys(t)) do put(out, keyText(k), rawget(t, k)) end
  local mt = getmetatable(t)
  if type(mt) == "table" then put(out, "[metatable]", mt) end
  return unpack(out)
end

-- evaluate in the frame's scope: locals, then upvalues, then the globals; returns ok, text, type, ref
function H.eval(id, lv, src, asCondition)
  local co = id and byId[id]
  local vars, have = {}, {}
  if co then
    local L = lv + base(co)
    local i = getinfo(co, L, "f")
    if i and i.func then
      local k = 1
      while true do
        local n, v = getupvalue(i.func, k)
        if not n then break end
        vars[n], have[n] = v, true
        k = k + 1
      end
    end
    local k = 1
    while true do
      local n, v = getlocal(co, L, k)
      if not n then break end
      if n:sub(1, 1) ~= "(" then vars[n], have[n] = v, true end
      k = k + 1
    end
  end
  local env = setmetatable({}, {
    __index = function(_, k)
      if have[k] then return vars[k] end
      return G[k]
    end,
    __newindex = function(_, k, v)
      if have[k] then vars[k] = v else G[k] = v end
    end,
  })
  local f, err = load("return " .. src, "=(eval)", "t", env)
  if not f then f, err = load(src, "=(eval)", "t", env) end
  if not f then return false, err, "string", 0 end
  local r = pack(pcall(f))
  if not r[1] then return false, tostring(r[2]), "string", 0 end
  if asCondition then return true, r[2] and "true" or "false", "boolean", 0 end
  if r.n < 2 then return true, "nil", "nil", 0 end
  return true, valueText(r[2]), type(r[2]), refOf(r[2])
end

-- a logpoint's text: {expr} parts evaluated in the frame
function H.interpolate(id, lv, msg)
  local extra = (byId[id] == running()) and 3 or 0
  return (msg:gsub("{(.-)}", function(e)
    local ok, s = H.eval(id, lv + extra, e)
    return ok and s or ("{" .. s .. "}")
  end))
end

return H
`;
