/**
 * Runs a block of Lua conformance checks on a device and asserts that every check passed.
 * In Lua: `eq(name, got, expected)`, `eqv(name, {expected...}, f(...))` (all results,
 * count included), `raises(name, pattern, fn, ...)`; `I64` is true on 64-bit-integer engines.
 */
import * as assert from 'node:assert/strict';
import { runLua, RunLuaOptions, RunLuaResult } from '../helpers/run-lua';
import type { EngineName } from '../../runtime/core/engine';

export const PRELUDE = `
local __n, __fails = 0, 0
I64 = math.maxinteger ~= 2147483647
local function show(v)
  if type(v) == "string" then return "\\"" .. v:toHex() .. "\\"(hex)" end
  return tostring(v)
end
function eq(name, got, exp)
  __n = __n + 1
  if got ~= exp or math.type(got) ~= math.type(exp) then
    __fails = __fails + 1
    log.info("FAIL", name, show(got), show(exp))
  end
end
function eqv(name, exp, ...)
  local got = table.pack(...)
  __n = __n + 1
  local bad = got.n ~= (exp.n or #exp)
  for i = 1, math.max(got.n, exp.n or #exp) do
    if got[i] ~= exp[i] or math.type(got[i]) ~= math.type(exp[i]) then bad = true end
  end
  if bad then
    __fails = __fails + 1
    local g, x = {}, {}
    for i = 1, got.n do g[#g + 1] = show(got[i]) end
    for i = 1, (exp.n or #exp) do x[#x + 1] = show(exp[i]) end
    log.info("FAIL", name, "got", table.concat(g, ","), "expected", table.concat(x, ","))
  end
end
function raises(name, pattern, fn, ...)
  __n = __n + 1
  local ok, err = pcall(fn, ...)
  if ok or not tostring(err):find(pattern, 1, true) then
    __fails = __fails + 1
    log.info("FAIL", name, "no error matching", pattern, "got", tostring(err))
  end
end
function done()
  log.info("END", __n, __fails)
end
`;

export interface SuiteResult {
  checks: number;
  run: RunLuaResult;
}

export async function runSuite(
  engine: EngineName,
  body: string,
  files: Record<string, string | Buffer> = {},
  opts: RunLuaOptions = {},
): Promise<SuiteResult> {
  const src = PRELUDE + '\n' + body + '\ndone()\n';
  const run = await runLua({ 'main.lua': src, ...files }, { engine, until: /I\/user\.END \d+ \d+/, timeoutMs: 15000, ...opts });
  const end = run.user.find((u) => u.startsWith('I/user.END '));
  const fails = run.user.filter((u) => u.startsWith('I/user.FAIL'));
  assert.ok(end, `suite did not finish:\n${run.lines.join('\n')}`);
  assert.deepEqual(fails, [], run.lines.join('\n'));
  const [, n, f] = end.split(' ');
  assert.equal(f, '0');
  return { checks: Number(n), run };
}
