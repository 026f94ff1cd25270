/**
 * `luatos run --fault` on the default board (air8101), via the real CLI: the Wi-Fi model's
 * `wifi down|up`, the device's `reboot` and the camera's `unplug` run at their device times on
 * the virtual clock, each announced in the output right before what it caused. (The modem's
 * faults and a platform fault: test/modem/cli.test.ts.)
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { luatos } from './helpers';

const SCRIPT = `
sys.subscribe("IP_READY", function(ip, a) log.info("NET", "IP_READY", a) end)
sys.subscribe("IP_LOSE", function(a) log.info("NET", "IP_LOSE", a) end)
sys.taskInit(function()
  wlan.init()
  wlan.connect("lab", "secret")
end)
sys.run()
`;

test('luatos run --fault on air8101: wifi down/up, camera unplug and reboot at their device times, in the order of the log', async () => {
  const r = await luatos(['run', '--wifi', 'lab:secret', '--clock', 'virtual', '--fault', '3s wifi down', '--fault', '5s wifi up', '--fault', '7s camera unplug', '--fault', '8s reboot', '--timeout', '12'], { files: { 'main.lua': SCRIPT }, timeoutMs: 60000 });
  assert.equal(r.code, 0, r.err + r.out.slice(-2000));
  const lines = r.out.split('\n').filter((l) => /user\.NET|luatos: fault at|LuatOS@Air8101/.test(l)).map((l) => l.replace(/^\[[^\]]+\] /, ''));
  assert.deepEqual(lines, [
    'luat:I(0):main:LuatOS@Air8101 base 25.12 bsp V2002 64bit',
    'luat:U(1500):I/user.NET IP_READY 2',
    'luatos: fault at 3000 ms: wifi down',
    'luat:U(3000):I/user.NET IP_LOSE 2',
    'luatos: fault at 5000 ms: wifi up',
    lines[5],
    'luatos: fault at 7000 ms: camera unplug',
    'luatos: fault at 8000 ms: reboot',
    'luat:I(0):main:LuatOS@Air8101 base 25.12 bsp V2002 64bit',
    lines[9],
  ]);
  // the rejoin after `wifi up` and the join after the reboot (their delays are the Wi-Fi model's)
  assert.match(lines[5], /^luat:U\((5\d\d\d|6\d\d\d)\):I\/user\.NET IP_READY 2$/);
  assert.match(lines[9], /^luat:U\(1\d\d\d\):I\/user\.NET IP_READY 2$/);
  assert.doesNotMatch(r.out, /could not run/);
});
