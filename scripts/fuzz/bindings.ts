/**
 * Binding fuzz (part of `npm run soak`): random calls (each module the same share) of json.*,
 * zbuff (module and methods),
 * the LuatOS string extensions, crypto.* and pack.pack/unpack (when the firmware module exists
 * in this build) with random arguments of every Lua type, each inside `pcall`, in a Lua loop in
 * a task on a real Device — as a script would make them.
 *
 * The random arguments are made in Lua by a small Park–Miller generator in float arithmetic
 * (exact in doubles, so both engines draw the same values, and 32-bit fengari integers never
 * overflow). Case `i` of seed `s` depends only on (s, i): it builds fresh objects (zbuffs,
 * tables) itself, so any single case can be run alone:
 *
 *   node dist/scripts/fuzz/bindings.js --engine wasmoon --seed S --from I --count 1 --describe
 *
 * Arguments: nil, booleans, special numbers (±0, ±2^31, ±2^53, maxinteger, ±1e308, ±inf,
 * NaN, denormals), small and random integers and floats, empty, random-byte, hex-looking,
 * JSON-looking and pack-format-looking strings, long strings (up to --max-str bytes, rarely),
 * arrays, dictionaries, tables with cycles, deeply nested tables, tables whose metamethods
 * raise, functions, coroutines, zbuffs.
 *
 * Failures (exit code 1, listed with seed + index): the VM ended while the loop ran (an error
 * pcall could not catch, the runaway watchdog, a host exception). A Node crash or a hang is
 * seen by the orchestrator through the progress file (scripts/soak/common.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDevice } from '../../runtime/boards/device';
import { DEFAULT_ENGINE, EngineName } from '../../runtime/core/engine';
import { LogSink } from '../../runtime/core/log';
import { makeProfile } from '../../runtime/core/profile';
import type { VmExit } from '../../runtime/core/vm/vm';
import { argFlag, argNum, argStr, bump, Failure, fmtCounts, printResult, Progress } from '../soak/common';

const ENGINE = argStr('--engine', DEFAULT_ENGINE) as EngineName;
const SEED = argNum('--seed', 1) >>> 0;
const FROM = argNum('--from', 0);
const COUNT = argNum('--count', 100_000);
const MAX_STR = argNum('--max-str', 4 * 1024 * 1024);
const MAX_SEC = argNum('--max-sec', 600);
const MAX_DEATHS = argNum('--max-deaths', 25);
const DESCRIBE = argFlag('--describe');
const progress = new Progress(argStr('--progress'));

export function luaProgram(seed: number, from: number, count: number, maxStr: number, describe: boolean): string {
  return `
local SEED, FROM, COUNT, MAXSTR, DESCRIBE = ${seed}.0, ${from}, ${count}, ${maxStr}, ${describe ? 'true' : 'false'}
local case_hook, done_hook = __soak_case, __soak_done
local st = 1.0
local function seedcase(i)
  st = (SEED * 48271.0 + i * 69621.0 + 12345.0) % 2147483647.0
  if st == 0 then st = 1.0 end
  for _ = 1, 4 do st = (st * 48271.0) % 2147483647.0 end
end
-- integer in [0, n)
local function rnd(n)
  st = (st * 48271.0) % 2147483647.0
  return math.floor(st / 2147483647.0 * n)
end

local SPECIAL = { 0, -1, 1, 2, 7, 255, 256, 65535, 65536, -65536, 2147483647, -2147483648,
  4294967295, 4294967296, 2^53, -2^53, 1e308, -1e308, 1/0, -1/0, 0/0, 0.5, -0.5, 1e-310, -0.0,
  math.maxinteger, math.mininteger, 1024*1024*1024, -1024*1024*1024, 3.9e9 }

local function rbytes(n)
  local t = {}
  for k = 1, n do t[k] = string.char(rnd(256)) end
  return table.concat(t)
end
local function rfrom(alphabet, n)
  local t = {}
  for k = 1, n do local p = rnd(#alphabet) + 1; t[k] = alphabet:sub(p, p) end
  return table.concat(t)
end
local JSON_BITS = { '{', '}', '[', ']', ',', ':', '"a"', '"\\\\u00', '"\\\\ud800"', '1', '-', '1e999', '0.5',
  'null', 'true', 'false', '"x":', ' ', '\\n', '"', '\\\\', 'nan', '-0', '9007199254740993', '{"__proto__":1}',
  '[[[[[[[[[[', ']]]]]]]]]]', '"\\0"', '\\255' }
local function rjson(n)
  local t = {}
  for k = 1, n do t[k] = JSON_BITS[rnd(#JSON_BITS) + 1] end
  return table.concat(t)
end

local gen
local function rtable(d)
  local t = {}
  local n = rnd(6)
  if d < 3 then
    for k = 1, n do t[k] = gen(d + 1) end
    if rnd(2) == 0 then t[rbytes(rnd(6))] = gen(d + 1) end
  else
    for k = 1, n do t[k] = rnd(1000) end
  end
  return t
end

gen = function(d)
  local k = rnd(22)
  if k == 0 then return nil
  elseif k == 1 then return rnd(2) == 0
  elseif k == 2 or k == 3 then return SPECIAL[rnd(#SPECIAL) + 1]
  elseif k == 4 then return rnd(600) - 100
  elseif k == 5 then return (rnd(2000000) - 1000000) / 7
  elseif k == 6 then return ""
  elseif k == 7 then return rbytes(rnd(64))
  elseif k == 8 then return rfrom("0123456789abcdefABCDEF xg-", rnd(40))
  elseif k == 9 then
    if rnd(40) == 0 then return string.rep(string.char(rnd(256)), rnd(MAXSTR + 1)) end
    return string.rep(rbytes(rnd(4) + 1), rnd(2048))
  elseif k == 10 then return rjson(rnd(24))
  elseif k == 11 then return rfrom("<>=!bBhHiIlLjJTfdnsSzxXAaCcpP0123456789 ", rnd(12))
  elseif k == 12 or k == 13 then return rtable(d)
  elseif k == 14 then
    local t = { 1, 2, "x" }
    t.self = t
    t[4] = { t }
    return t
  elseif k == 15 then
    local t = {}
    local c = t
    for _ = 1, rnd(2500) do c[1] = {}; c = c[1] end
    return t
  elseif k == 16 then
    if rnd(2) == 0 then return function() end end
    return function() error("boom from an argument") end
  elseif k == 17 then return coroutine.create(function() end)
  elseif k == 18 then
    if zbuff then return zbuff.create(rnd(300)) end
    return rnd(10)
  elseif k == 19 then
    return setmetatable({ 1, 2 }, {
      __index = function() error("__index raised") end,
      __newindex = function() error("__newindex raised") end,
      __tostring = function() error("__tostring raised") end,
      __len = function() return 1e9 end,
      __pairs = function() error("__pairs raised") end,
      __name = "hostile",
    })
  elseif k == 20 then return rbytes(rnd(8)) .. "\\0" .. rbytes(rnd(8))
  else return rnd(2147483647) * (rnd(2) == 0 and -1 or 1)
  end
end

-- the functions under test: {name, fn}, sorted by name so the choice is engine-independent
-- each module gets the same share of the calls, then a function of it at random
local TARGETS, MODLIST, BYMOD = {}, {}, {}
local function add(name, fn)
  local t = { name = name, fn = fn }
  TARGETS[#TARGETS + 1] = t
  local mod = name:match("^[%a_]+")
  if not BYMOD[mod] then BYMOD[mod] = {}; MODLIST[#MODLIST + 1] = BYMOD[mod] end
  local l = BYMOD[mod]
  l[#l + 1] = t
end
local function module_fns(modname, skip)
  local m = _G[modname]
  if type(m) ~= "table" then return 0 end
  local names = {}
  for k, v in pairs(m) do
    if type(k) == "string" and type(v) == "function" and not (skip and skip[k]) then names[#names + 1] = k end
  end
  table.sort(names)
  for _, k in ipairs(names) do add(modname .. "." .. k, m[k]) end
  return #names
end
local STD_STRING = { byte = true, char = true, dump = true, find = true, format = true, gmatch = true,
  gsub = true, len = true, lower = true, match = true, rep = true, reverse = true, sub = true,
  upper = true, pack = true, packsize = true, unpack = true }
module_fns("json")
module_fns("string", STD_STRING)
module_fns("crypto")
local has_pack = module_fns("pack") > 0
if zbuff then
  module_fns("zbuff")
  local METHODS = { "write", "read", "clear", "seek", "pack", "unpack", "toStr", "len", "setFrameBuffer",
    "pixel", "free", "copy", "set", "query", "del", "resize", "reSize", "used", "isEqual", "toBase64",
    "drawLine", "drawRect", "drawCircle",
    "readI8", "readU8", "readI16", "readU16", "readI32", "readU32", "readI64", "readU64", "readF32", "readF64",
    "writeI8", "writeU8", "writeI16", "writeU16", "writeI32", "writeU32", "writeI64", "writeU64", "writeF32", "writeF64" }
  table.sort(METHODS)
  local probe = zbuff.create(4)
  for _, m in ipairs(METHODS) do
    if type(probe[m]) == "function" then
      add("zbuff:" .. m, function(...)
        local z = zbuff.create(rnd(4) == 0 and 0 or rnd(512) + 1)
        if rnd(3) == 0 then z:write(rbytes(rnd(64))) end
        if rnd(16) == 0 then return z[m](gen(0), ...) end
        return z[m](z, ...)
      end)
    end
  end
  add("zbuff[k]=v", function(k, v)
    local z = zbuff.create(16)
    z[k] = v
    return z[k]
  end)
end

local function describe(v, d)
  local t = type(v)
  if t == "string" then
    if #v > 40 then return string.format("<string of %d bytes %q...>", #v, v:sub(1, 24)) end
    return string.format("%q", v)
  elseif t == "table" then
    if d > 1 then return "{...}" end
    local parts, n = {}, 0
    for k, x in next, v do
      n = n + 1
      if n > 6 then parts[#parts + 1] = "..."; break end
      parts[#parts + 1] = "[" .. describe(k, d + 1) .. "]=" .. describe(x, d + 1)
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "number" then
    return string.format("%s(%s)", math.type(v), string.format("%.17g", v))
  end
  return t
end

sys.taskInit(function()
  local oks, errs = 0, 0
  for i = FROM, FROM + COUNT - 1 do
    seedcase(i)
    local ml = MODLIST[rnd(#MODLIST) + 1]
    local tg = ml[rnd(#ml) + 1]
    local nargs = rnd(5)
    local args = {}
    for j = 1, nargs do args[j] = gen(0) end
    local label = tg.name
    if DESCRIBE then
      local ds = {}
      for j = 1, nargs do ds[j] = describe(args[j], 0) end
      label = tg.name .. "(" .. table.concat(ds, ", ") .. ")"
    end
    -- the host says when to yield (every ~200 ms of work), so the runaway watchdog only ever
    -- sees one case's time (sys.wait(1): sys.wait(0) does not yield, as on the device)
    if case_hook(i, label, oks, errs) then sys.wait(1) end
    local ok, err = pcall(tg.fn, table.unpack(args, 1, nargs))
    if ok then oks = oks + 1 else errs = errs + 1 end
    if DESCRIBE then case_hook(i, "-> " .. (ok and "ok" or ("error: " .. tostring(err))), oks, errs) end
    args = nil
    if i % 2048 == 2047 then collectgarbage() end
  end
  done_hook(oks, errs, #TARGETS, has_pack and 1 or 0)
end)
sys.run()
`;
}

interface RunOutcome {
  done: boolean;
  oks: number;
  errs: number;
  perTarget: Map<string, number>;
  targets: number;
  hasPack: boolean;
  lastCase: number;
  lastName: string;
  exit?: VmExit;
  stopKind?: string;
  lastLines: string[];
}

async function runBatch(from: number, count: number, deadline: number): Promise<RunOutcome> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-soak-bind-'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-soak-data-'));
  fs.writeFileSync(path.join(dir, 'main.lua'), luaProgram(SEED, from, count, MAX_STR, DESCRIBE));
  const sink = new LogSink({ stream: null });
  const device = createDevice({
    scripts: dir,
    engine: ENGINE,
    profile: makeProfile({ exitRebootDelayMs: 0 }, {}),
    log: sink,
    dataDir,
    reboot: 'exit',
  });
  const out: RunOutcome = { done: false, oks: 0, errs: 0, perTarget: new Map(), targets: 0, hasPack: false, lastCase: from - 1, lastName: '', lastLines: [] };
  sink.on((r, text) => {
    out.lastLines.push(text);
    if (out.lastLines.length > 12) out.lastLines.shift();
    if (DESCRIBE && r.kind !== 'U') process.stdout.write(`${text}\n`);
  });
  device.on('boot', () => {
    const vm = device.vm!;
    let lastYield = Date.now();
    vm.setGlobalFunction('__soak_case', (a) => {
      const i = a.e.tointeger(a.L, 1) ?? -1;
      const name = a.e.tostring(a.L, 2) ?? '';
      if (DESCRIBE) process.stdout.write(`case ${i}: ${name}\n`);
      if (name.startsWith('-> ')) return 0;
      out.lastCase = i;
      out.lastName = name;
      out.oks = a.e.tointeger(a.L, 3) ?? 0;
      out.errs = a.e.tointeger(a.L, 4) ?? 0;
      const fn = name.split('(')[0];
      out.perTarget.set(fn, (out.perTarget.get(fn) ?? 0) + 1);
      progress.set(`bindings ${ENGINE} seed=${SEED} case=${i} ${fn}`);
      if (Date.now() > deadline) throw new Error('soak: time budget used up');
      const now = Date.now();
      const y = now - lastYield > 200;
      if (y) lastYield = now;
      a.e.pushboolean(a.L, y);
      return 1;
    });
    vm.setGlobalFunction('__soak_done', (a) => {
      out.done = true;
      out.oks = a.e.tointeger(a.L, 1) ?? 0;
      out.errs = a.e.tointeger(a.L, 2) ?? 0;
      out.targets = a.e.tointeger(a.L, 3) ?? 0;
      out.hasPack = (a.e.tointeger(a.L, 4) ?? 0) === 1;
      setImmediate(() => device.stop());
    });
  });
  await new Promise<void>((resolve, reject) => {
    device.on('vmexit', (x: VmExit) => {
      if (!out.done) out.exit = x;
    });
    device.on('stopped', (r) => {
      out.stopKind = r.kind;
      resolve();
    });
    device.start().catch(reject);
  });
  device.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
  return out;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const deadline = t0 + MAX_SEC * 1000;
  const failures: Failure[] = [];
  const perTarget = new Map<string, number>();
  let oks = 0;
  let errs = 0;
  let calls = 0;
  let targets = 0;
  let hasPack = false;
  let from = FROM;
  const end = FROM + COUNT;
  let timedOut = false;
  while (from < end) {
    const r = await runBatch(from, end - from, deadline);
    targets = Math.max(targets, r.targets);
    hasPack ||= r.hasPack;
    for (const [k, v] of r.perTarget) bump(perTarget, k, v);
    oks += r.oks;
    errs += r.errs;
    if (r.done) {
      calls += r.oks + r.errs;
      break;
    }
    // the VM ended inside case r.lastCase: a death pcall could not catch (or the time budget)
    const msg = r.exit ? `${r.exit.kind}: ${(r.exit.message ?? '').split('\n')[0]}` : `device stopped (${r.stopKind})`;
    if (/time budget used up/.test(msg)) {
      timedOut = true;
      calls += Math.max(0, r.lastCase - from);
      break;
    }
    calls += r.lastCase - from + 1;
    failures.push({
      kind: 'vm-death',
      seed: SEED,
      index: r.lastCase,
      detail: `${ENGINE}: ${r.lastName}: ${msg.slice(0, 300)}`,
      repro: `node dist/scripts/fuzz/bindings.js --engine ${ENGINE} --seed ${SEED} --from ${r.lastCase} --count 1 --describe`,
    });
    if (failures.length >= MAX_DEATHS) {
      failures.push({ kind: 'vm-death', seed: SEED, detail: `${ENGINE}: stopped after ${MAX_DEATHS} VM deaths` });
      break;
    }
    from = r.lastCase + 1;
  }
  const sec = (Date.now() - t0) / 1000;
  if (timedOut) failures.push({ kind: 'incomplete', seed: SEED, detail: `${ENGINE}: time budget (${MAX_SEC} s) used up after ${calls} of ${COUNT} calls` });
  const top = [...perTarget.entries()].sort((a, b) => b[1] - a[1]);
  printResult({
    part: `bindings/${ENGINE}`,
    rows: [
      ['calls (pcall)', calls],
      ['returned ok / raised a Lua error (pcall)', `${oks} / ${errs}`],
      ['VM deaths', failures.filter((f) => f.kind === 'vm-death' && f.index !== undefined).length],
      ['functions fuzzed', `${targets} (pack module ${hasPack ? 'present' : 'absent in this build'})`],
      ['calls per module', fmtCounts(moduleCounts(perTarget))],
      ['least-called function', top.length ? `${top[top.length - 1][0]} (${top[top.length - 1][1]})` : '—'],
      ['seed / time', `${SEED} / ${sec.toFixed(1)} s (${Math.round(calls / Math.max(sec, 0.001))} calls/s)`],
    ],
    failures,
  });
  progress.close();
}

function moduleCounts(perTarget: Map<string, number>): Map<string, number> {
  const m = new Map<string, number>();
  for (const [k, v] of perTarget) bump(m, k.split(/[.:[]/)[0], v);
  return m;
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`bindings fuzz: ${(e as Error)?.stack ?? e}\n`);
      process.exit(3);
    },
  );
}
