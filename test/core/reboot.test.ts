import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { runLua } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';

for (const engine of ENGINE_NAMES) {
  test(`a task error logs coroutine.resume, then ends the VM 500 ms later and reboots (${engine})`, async () => {
    const src = `
      log.info("boot", "start")
      sys.taskInit(function() sys.wait(10); error("boom") end)
      sys.taskInit(function() while true do sys.wait(100); log.info("alive", "tick") end end)
      sys.run()
    `;
    const r = await runLua({ 'main.lua': src }, { engine, reboot: 'restart', maxBoots: 2, timeoutMs: 6000 });
    const text = r.lines.join('\n');
    assert.match(text, /luat:U\(\d+\):E\/user\.coroutine\.resume main\.lua:3: boom\r\nstack traceback:/);
    // other tasks keep running during the 500 ms
    const errAt = r.lines.findIndex((l) => l.includes('coroutine.resume'));
    const exitAt = r.lines.findIndex((l) => l.includes('Lua VM exit!! reboot in'));
    assert.ok(errAt >= 0 && exitAt > errAt);
    assert.ok(r.lines.slice(errAt, exitAt).filter((l) => l.includes('alive tick')).length >= 3, 'tasks stopped during the 500 ms');
    assert.ok(r.lines[exitAt - 2].endsWith('luat:E(' + r.lines[exitAt - 2].split('luat:E(')[1].split(')')[0] + '):main:Luat: '));
    const ms = (l: string) => Number(/luat:\w\((\d+)\)/.exec(l)?.[1]);
    const delay = ms(r.lines[exitAt]) - ms(r.lines[errAt]);
    assert.ok(delay >= 480 && delay < 1500, `exit came ${delay} ms after the error`);
    assert.equal(r.user.filter((u) => u === 'I/user.boot start').length, 2, 'did not boot twice');
    assert.equal(r.stop?.kind, 'max-boots');
  });

  test(`an error in a subscriber callback ends the VM at once (${engine})`, async () => {
    const src = `
      sys.subscribe("X", function() error("in subscriber") end)
      sys.timerStart(sys.publish, 10, "X")
      sys.run()
    `;
    const r = await runLua({ 'main.lua': src }, { engine, reboot: 'exit' });
    const text = r.lines.join('\n');
    assert.match(text, /luat:E\(\d+\):main:main\.lua:2: in subscriber/);
    assert.match(text, /Lua VM exit!! reboot in \d+ms/);
    assert.ok(!text.includes('coroutine.resume'));
    assert.equal(r.stop?.kind, 'exit');
  });

  test(`rtos.reboot restarts from main.lua and counts boots (${engine})`, async () => {
    const src = `
      log.info("boot")
      sys.taskInit(function() sys.wait(20); rtos.reboot() end)
      sys.run()
    `;
    const r = await runLua({ 'main.lua': src }, { engine, reboot: 'restart', maxBoots: 3, timeoutMs: 5000 });
    assert.equal(r.user.filter((u) => u === 'I/user.boot').length, 3);
    assert.equal(r.lines.filter((l) => l.includes('rtos.reboot() called, rebooting')).length, 3);
    assert.equal(r.device.boots, 3);
  });

  test(`a runaway loop never hangs Node: the watchdog ends the VM (${engine})`, async () => {
    const src = `
      sys.taskInit(function() sys.wait(10); for i = 1, 3 do local ok = pcall(function() while true do end end) end; log.info("swallowed") end)
      sys.run()
    `;
    const t0 = Date.now();
    let ticks = 0;
    const iv = setInterval(() => ticks++, 50);
    const r = await runLua({ 'main.lua': src }, { engine, reboot: 'exit', profile: { runawayMs: 300 }, timeoutMs: 8000 });
    clearInterval(iv);
    const text = r.lines.join('\n');
    assert.match(text, /luat:E\(\d+\):wdt:watchdog: Lua code ran for more than 300 ms/);
    assert.ok(!text.includes('swallowed'), 'pcall swallowed the watchdog');
    assert.equal(r.stop?.kind, 'exit');
    assert.ok(Date.now() - t0 < 5000);
  });

  test(`wdt.init without feeding reboots the device (${engine})`, async () => {
    const src = `
      log.info("boot")
      wdt.init(200)
      sys.taskInit(function() while true do sys.wait(50) end end)
      sys.run()
    `;
    const r = await runLua({ 'main.lua': src }, { engine, reboot: 'restart', maxBoots: 2, timeoutMs: 5000 });
    assert.match(r.lines.join('\n'), /luat:E\(\d+\):wdt:watchdog not fed for 200 ms/);
    assert.equal(r.user.filter((u) => u === 'I/user.boot').length, 2);
  });

  test(`feeding the watchdog keeps the device up (${engine})`, async () => {
    const src = `
      wdt.init(200)
      sys.timerLoopStart(wdt.feed, 50)
      sys.timerStart(function() log.info("END") end, 600)
      sys.run()
    `;
    const r = await runLua({ 'main.lua': src }, { engine, reboot: 'exit', until: 'I/user.END', timeoutMs: 3000 });
    assert.ok(r.user.includes('I/user.END'));
    assert.ok(!r.lines.join('\n').includes('watchdog'));
  });

  test(`main.lua returning without sys.run() ends the VM (${engine})`, async () => {
    const r = await runLua({ 'main.lua': 'log.info("only")' }, { engine, reboot: 'exit' });
    assert.match(r.lines.join('\n'), /Lua VM exit!! reboot in \d+ms/);
  });
}
