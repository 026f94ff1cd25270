-- CPU micro-benchmarks for the Lua engines. Usage: the host defines `now_ms()`; natively
-- `lua5.3 vm-suite.lua` uses os.clock. Prints "RESULT <name> <ms> <check>" per benchmark.
local now = now_ms or function() return os.clock() * 1000 end
local which = ... -- optional single benchmark name

local benches = {}
local function bench(name, fn) benches[#benches + 1] = { name = name, fn = fn } end

bench("fib", function()
  local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
  return fib(27)
end)

bench("table_insert", function()
  local t = {}
  for i = 1, 300000 do t[#t + 1] = i end
  local s = 0
  for i = 1, #t do s = s + t[i] end
  return s
end)

bench("table_sort", function()
  local t, x = {}, 12345
  for i = 1, 100000 do x = (x * 1103515245 + 12345) % 2147483648; t[i] = x end
  table.sort(t)
  return t[1] <= t[2] and #t or -1
end)

bench("string_ops", function()
  local parts = {}
  for i = 1, 30000 do parts[#parts + 1] = string.format("%d:%s:%5.2f", i, "x", i / 3) end
  local s = table.concat(parts, ",")
  local n = 0
  for w in s:gmatch("%d+:x") do n = n + 1 end
  return n + #s:upper():gsub("X", "y")
end)

bench("string_pack", function()
  local acc = 0
  for i = 1, 60000 do
    local b = string.pack("<I4i2z", i, -i % 30000, "ab")
    local a, c = string.unpack("<I4i2", b)
    acc = acc + a + c
  end
  return acc
end)

bench("closures", function()
  local acc = 0
  for i = 1, 300000 do
    local f = function(x) return x + i end
    acc = acc + f(1)
  end
  return acc
end)

bench("method_calls", function()
  local Point = {}
  Point.__index = Point
  function Point.new(x) return setmetatable({ x = x }, Point) end
  function Point:add(d) self.x = self.x + d return self end
  local p = Point.new(0)
  for i = 1, 500000 do p:add(1) end
  return p.x
end)

bench("coroutine_switch", function()
  local co = coroutine.wrap(function() local n = 0 while true do n = n + 1 coroutine.yield(n) end end)
  local last
  for i = 1, 100000 do last = co() end
  return last
end)

for _, b in ipairs(benches) do
  if which == nil or which == b.name then
    collectgarbage()
    local t0 = now()
    local check = b.fn()
    local t1 = now()
    print(string.format("RESULT %s %.3f %s", b.name, t1 - t0, tostring(check)))
  end
end
