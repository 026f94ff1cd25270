-- collectgarbage for engines without a GC API (fengari raises "lua_gc not implemented").
-- "count" returns an ESTIMATE of the Lua heap in KB: a walk over everything reachable from
-- the registry (tables, strings, closures' upvalues), with per-object sizes close to those of
-- PUC Lua 5.3 on a 32-bit build. It is a model, not a measurement; the JS collector frees
-- memory on its own schedule. Other options do nothing and return 0 (or true for "isrunning").
local pairs, type, getupvalue, registry = pairs, type, debug.getupvalue, debug.getregistry

local function estimate()
  local seen, bytes, budget = {}, 0, 200000
  local stack = { registry() }
  while #stack > 0 and budget > 0 do
    local v = table.remove(stack)
    local tv = type(v)
    if (tv == "table" or tv == "function" or tv == "thread" or tv == "userdata") and not seen[v] then
      seen[v] = true
      budget = budget - 1
      if tv == "table" then
        bytes = bytes + 56
        for k, x in pairs(v) do
          bytes = bytes + 16
          if type(k) == "string" then bytes = bytes + 24 + #k elseif type(k) ~= "number" and type(k) ~= "boolean" then stack[#stack + 1] = k end
          if type(x) == "string" then bytes = bytes + 24 + #x elseif type(x) ~= "number" and type(x) ~= "boolean" then stack[#stack + 1] = x end
        end
        local mt = getmetatable(v)
        if type(mt) == "table" then stack[#stack + 1] = mt end
      elseif tv == "function" then
        bytes = bytes + 40
        local i = 1
        while true do
          local name, x = getupvalue(v, i)
          if name == nil then break end
          bytes = bytes + 8
          if type(x) == "string" then bytes = bytes + 24 + #x elseif type(x) ~= "number" and type(x) ~= "boolean" then stack[#stack + 1] = x end
          i = i + 1
        end
      elseif tv == "thread" then
        bytes = bytes + 1024
      else
        bytes = bytes + 64
      end
    end
  end
  return bytes / 1024
end

function collectgarbage(opt, ...)
  opt = opt or "collect"
  if opt == "count" then return estimate() end
  if opt == "isrunning" then return true end
  if opt == "step" then return false end
  return 0
end
