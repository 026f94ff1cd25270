import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { runLua } from '../helpers/run-lua';
import { VirtualClock } from '../../runtime/core/clock';

const HOUR = `
local n = 0
sys.taskInit(function()
  while true do sys.wait(1000); n = n + 1; if n % 900 == 0 then log.info("vc", n, mcu.ticks()) end end
end)
sys.taskInit(function()
  local ok = sys.waitUntil("NEVER", 1800 * 1000)
  log.info("half", ok, mcu.ticks())
end)
sys.timerStart(function() log.info("vc", "hour done", n) end, 3600 * 1000 + 1)
sys.run()
`;

test('virtual clock: an hour of timer-driven device time runs in seconds, with device-time stamps', async () => {
  const t0 = Date.now();
  const r = await runLua({ 'main.lua': HOUR }, { until: 'hour done', timeoutMs: 30000, device: { clock: new VirtualClock(0) } });
  const wall = Date.now() - t0;
  console.log(`# 1 hour of device time took ${wall} ms of wall time under the virtual clock`);
  assert.ok(r.user.includes('I/user.vc hour done 3600'), r.user.slice(-3).join('\n'));
  assert.ok(r.user.includes('I/user.half false 1800000'), r.user.join('\n'));
  assert.ok(r.user.includes('I/user.vc 900 900000'));
  assert.match(r.lines.find((l) => l.includes('hour done')) as string, /luat:U\(3600001\)/);
});

test('virtual clock: the same script gives the same log twice (apart from nothing: wall time is virtual too)', async () => {
  const src = `
    for i = 1, 5 do sys.taskInit(function() for k = 1, 20 do sys.wait(7 * i); log.info("t", i, k, mcu.ticks()) end end) end
    sys.timerStart(function() log.info("END") end, 2000)
    sys.run()`;
  const a = await runLua({ 'main.lua': src }, { until: 'I/user.END', device: { clock: new VirtualClock(1700000000000) } });
  const b = await runLua({ 'main.lua': src }, { until: 'I/user.END', device: { clock: new VirtualClock(1700000000000) } });
  const strip = (ls: string[]) => ls.filter((l) => l.includes('luat:U'));
  assert.ok(strip(a.lines).length > 50);
  assert.deepEqual(strip(a.lines), strip(b.lines));
});

test('virtual clock: while I/O holds it, time runs at wall speed', async () => {
  const c = new VirtualClock(0);
  const release = c.hold('socket');
  const t0 = c.now();
  await new Promise((r) => setTimeout(r, 120));
  const dt = c.now() - t0;
  assert.ok(dt >= 100 && dt < 1000, `advanced ${dt} ms`);
  let fired = false;
  c.setTimer(50, () => (fired = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(fired, false, 'fired before its time while held');
  release();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(fired, true, 'did not jump once released');
});
