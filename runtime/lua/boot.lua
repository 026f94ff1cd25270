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

-- require as the firmware's ll_require, in Lua so that a module's main chunk may yield
-- (sys.wait, sys.run() at the end of a module): the host helper searches and loads, this
-- function calls the chunk with (path, name) and fills package.loaded (Lua 5.3 rules).
do
  local find, loaded, error = host.require, package.loaded, error
  require = function(...)
    local name = ...
    local v = name ~= nil and loaded[name]
    if v then return v end
    local chunk, vpath = find(...)
    if not chunk then error(vpath, 2) end
    local r = chunk(vpath, name)
    if r ~= nil then loaded[name] = r end
    if loaded[name] == nil then loaded[name] = true end
    return loaded[name]
  end
end

-- load refuses binary chunks (runtime/core/fs/chunk.ts): a string starting with ESC, or a reader
-- whose first non-empty piece does; everything else is the stock load, arguments unchanged.
do
  local raw_load, type, select, byte, error = load, type, select, string.byte, error
  local BIN = host.binary_msg
  load = function(chunk, ...)
    if type(chunk) == "string" then
      if byte(chunk, 1) == 27 then return nil, BIN end
    elseif type(chunk) == "function" then
      local reader, first = chunk, true
      chunk = function()
        local piece = reader()
        if first and piece ~= nil and piece ~= "" then
          first = false
          if type(piece) == "string" and byte(piece, 1) == 27 then error(BIN, 0) end
        end
        return piece
      end
    end
    return raw_load(chunk, ...)
  end
end

-- dofile as stock 5.3 (lua_callk): the file's chunk may yield; load errors are raised as is
do
  local loadfile, error, type, select = loadfile, error, type, select
  dofile = function(...)
    local fname = ...
    local t = type(fname)
    if t ~= "string" and t ~= "number" then
      error("bad argument #1 to 'dofile' (string expected, got " .. (select("#", ...) == 0 and "no value" or t) .. ")", 2)
    end
    local f, err = loadfile(fname)
    if not f then error(err, 0) end
    return f()
  end
end

host.boot_lines()

sys = require("sys")
sysplus = require("sysplus")

-- luat_main: find main with the module search and run it (a Lua call, so it may yield)
local main = host.load_main()
main()
