-- Lua 5.3 compatibility prelude, installed on engines that implement Lua 5.4 (wasmoon).
-- LuatOS runs Lua 5.3; these are the differences scripts actually meet (lua-engine.md §6):
--  * arithmetic on numeric strings gives floats in 5.3 ("10"+1 == 11.0), integers in 5.4;
--  * bitwise operators accept numeric strings in 5.3 ("10"|1 == 11), raise in 5.4;
--  * math.pow, math.log10, math.atan2 (kept by many 5.3 builds).
-- What still differs is listed in the README (_VERSION, __le falling back to __lt, RNG
-- sequences, math.random(0), for-loop overflow, %q of inf, 64-bit integers).
local smt = getmetatable("")
local tonumber, type, error, tointeger = tonumber, type, error, math.tointeger

local function tofloat(x)
  if type(x) == "string" then
    local n = tonumber(x)
    if n == nil then return nil end
    return n + 0.0
  end
  if type(x) == "number" then return x end
  return nil
end

local function arith(name, f)
  smt["__" .. name] = function(a, b)
    local x, y = tofloat(a), tofloat(b)
    if x == nil or y == nil then
      local bad = (x == nil) and a or b
      error("attempt to perform arithmetic on a " .. type(bad) .. " value", 2)
    end
    return f(x, y)
  end
end
arith("add", function(a, b) return a + b end)
arith("sub", function(a, b) return a - b end)
arith("mul", function(a, b) return a * b end)
arith("div", function(a, b) return a / b end)
arith("mod", function(a, b) return a % b end)
arith("pow", function(a, b) return a ^ b end)
arith("idiv", function(a, b) return a // b end)
smt.__unm = function(a)
  local x = tofloat(a)
  if x == nil then error("attempt to perform arithmetic on a " .. type(a) .. " value", 2) end
  return -x
end

local function toint(x)
  if type(x) == "string" then x = tonumber(x) end
  if type(x) ~= "number" then return nil end
  return tointeger(x)
end
local function bitop(name, f)
  smt["__" .. name] = function(a, b)
    local x, y = toint(a), toint(b)
    if x == nil or y == nil then
      error("attempt to perform bitwise operation on a string value", 2)
    end
    return f(x, y)
  end
end
bitop("band", function(a, b) return a & b end)
bitop("bor", function(a, b) return a | b end)
bitop("bxor", function(a, b) return a ~ b end)
bitop("shl", function(a, b) return a << b end)
bitop("shr", function(a, b) return a >> b end)
smt.__bnot = function(a)
  local x = toint(a)
  if x == nil then error("attempt to perform bitwise operation on a string value", 2) end
  return ~x
end

math.pow = math.pow or function(x, y) return x ^ y end
math.log10 = math.log10 or function(x) return math.log(x, 10) end
math.atan2 = math.atan2 or function(y, x) return math.atan(y, x) end
