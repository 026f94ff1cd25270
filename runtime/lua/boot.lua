-- Boot chunk: runs in the thread the host resumes (the device's "main thread").
-- Mirrors luat_main: LuatOS tostring, sys/sysplus auto-required into globals, then main.lua.
local host = __LUATOS_BOOT
__LUATOS_BOOT = nil

local MAIN_T = coroutine.running()

-- The host thread is the device's main thread: Lua must see it as such.
do
  local co_running, co_yield, co_isyieldable = coroutine.running, coroutine.yield, coroutine.isyieldable
  coroutine.running = function()
    local co, ismain = co_running()
    if co == MAIN_T then return co, true end
    return co, ismain
  end
  coroutine.isyieldable = function(...)
    if select("#", ...) == 0 then
      if co_running() == MAIN_T then return false end
      return co_isyieldable()
    end
    local co = ...
    if co == MAIN_T then return false end
    return co_isyieldable(co)
  end
  coroutine.yield = function(...)
    if co_running() == MAIN_T then error("attempt to yield from outside a coroutine", 2) end
    return co_yield(...)
  end
  local co_status = coroutine.status
  coroutine.status = function(co)
    if co == MAIN_T and co_running() ~= MAIN_T then return "normal" end
    return co_status(co)
  end
end

-- LuatOS tostring: integers with %d, floats with %.14g and no ".0" suffix (tostring(2.0) == "2").
do
  local raw_tostring, mtype, fmtg, select, error = tostring, math.type, host.fmt_float, select, error
  tostring = function(...)
    if select("#", ...) == 0 then error("bad argument #1 to 'tostring' (value expected)", 2) end
    local v = ...
    if mtype(v) == "float" then return fmtg(v) end
    return raw_tostring(v)
  end
end

host.boot_lines()

sys = require("sys")
sysplus = require("sysplus")

-- luat_main: find main with the module search and run it (a Lua call, so it may yield)
local main = host.load_main()
main()
