/**
 * The `fleet:` section of a scenario (runtime/host/scenario/schema.ts, fleet.ts, runner.ts): N more
 * devices on the scenario's clock, `fleet-expect` (every device), `fleet-fault` (a deterministic
 * share of the devices), and the schema's checks.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runScenario } from '../../runtime/host/scenario/runner';
import { parseScenario } from '../../runtime/host/scenario/schema';
import { tempDir } from '../helpers/tmp';

const MAIN = `
sys.subscribe("IP_READY", function(ip) log.info("net", "IP_READY", netdrv.mac(socket.LWIP_STA)) end)
sys.subscribe("IP_LOSE", function() log.info("net", "IP_LOSE") end)
sys.taskInit(function()
    wlan.init()
    wlan.connect("lab", "pw")
    while true do sys.wait(1000) end
end)
sys.run()
`;

function scenario(dir: string, steps: string, fleet = 'fleet:\n  devices: 5\n  name-prefix: node\n  stagger: 200ms\n'): string {
  fs.mkdirSync(path.join(dir, 'scripts'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'scripts', 'main.lua'), MAIN);
  const file = path.join(dir, 'fleet.yaml');
  fs.writeFileSync(file, `name: fleet\nscripts: scripts\noptions:\n  timeout: 60s\n${fleet}steps:\n${steps}`);
  return file;
}

test('a scenario with a fleet step passes: every device joins with its own MAC, a fault runs on 40 % (2 of 5)', async () => {
  const dir = tempDir('luatos-scfleet-');
  const file = scenario(
    dir,
    `  - wait-for: IP_READY
  - fleet-expect: /IP_READY C8C2C6/
    within: 20s
  - fleet-fault: wifi down
    percent: 40
  - after: 2s
  - fleet-expect: IP_READY
`,
    'fleet:\n  devices: 5\n  name-prefix: node\n  stagger: 1s\n',
  );
  const r = await runScenario(file);
  assert.equal(r.status, 'passed', JSON.stringify(r.failure));
  assert.ok(r.marks.some((m) => /fleet wifi down on 2 of 5 devices/.test(m.text)), JSON.stringify(r.marks));
  // the boots are staggered in device time: the last of 5 boots 4 × 1 s after the first and joins
  // 1.5 s later (the Wi-Fi model's timing). (The scenario's clock starts at its own device's boot,
  // a little after the fleet's first; all booting at once would pass at 1.5 s.)
  assert.ok((r.steps[1].ended ?? 0) > 5000, `fleet-expect passed at ${r.steps[1].ended} ms of device time`);
});

test('fleet-expect fails naming the devices that did not log the line (the 3 the fault spared)', async () => {
  const dir = tempDir('luatos-scfleet-');
  const file = scenario(
    dir,
    `  - fleet-expect: IP_READY
    within: 20s
  - fleet-fault: wifi down
    percent: 40
  - fleet-expect: IP_LOSE
    within: 5s
`,
  );
  const r = await runScenario(file);
  assert.equal(r.status, 'failed');
  assert.match(r.failure?.message ?? '', /3 of 5 devices logged no matching line within 5\.0?s?.*node002, node003, node004/);
});

test('schema: fleet section and fleet steps are checked', () => {
  const dir = tempDir('luatos-scfleet-');
  fs.mkdirSync(path.join(dir, 's'));
  const base = (extra: string, steps = '  - fleet-expect: x\n') => `scripts: s\n${extra}steps:\n${steps}`;
  const f = path.join(dir, 'x.yaml');
  assert.throws(() => parseScenario(base(''), f), /fleet-expect needs a 'fleet:' section/);
  assert.throws(() => parseScenario(base('fleet:\n  devices: 0\n'), f), /from 1 to 1000/);
  assert.throws(() => parseScenario(base('fleet:\n  devices: 2\n  color: red\n'), f), /unknown key 'color'/);
  assert.throws(() => parseScenario(base('fleet:\n  devices: 2\n', '  - fleet-fault: wifi sideways\n'), f), /expected 'down \| up/);
  assert.throws(() => parseScenario(base('fleet:\n  devices: 2\n', '  - expect: x\n    percent: 5\n'), f), /percent only applies to fleet-fault/);
  assert.throws(() => parseScenario(base('fleet:\n  devices: 2\n', '  - fleet-fault: wifi down\n    percent: 150\n'), f), /percent must be/);
  const sc = parseScenario(base('fleet:\n  devices: 3\n  name-prefix: n\n  stagger: 1s\n', '  - fleet-fault: wifi down\n    percent: 10\n'), f);
  assert.deepEqual(sc.fleet, { devices: 3, prefix: 'n', staggerMs: 1000 });
  assert.deepEqual(sc.steps[0].action, { kind: 'fleet-fault', fault: 'wifi', args: ['down'], percent: 10 });
});
