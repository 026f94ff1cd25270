/**
 * The main-thread proxy of a device in a worker thread (runtime/host/worker/device-host.ts): one fault
 * list over the faults registered here (as the local platform registers its own) and those
 * inside the worker (wifi, camera, reboot), each run routed to where it lives; log records and
 * events arrive in order; stop() ends the thread.
 */
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeviceHost } from '../../runtime/host/worker/device-host';
import { FaultError } from '../../runtime/core/faults';
import { LogSink, recordText } from '../../runtime/core/log';
import { makeProfile } from '../../runtime/core/profile';

const temps: string[] = [];
after(() => {
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

test('faults of both threads form one list; a run is routed to where the fault lives', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-host-'));
  temps.push(dir);
  fs.writeFileSync(
    path.join(dir, 'main.lua'),
    `
sys.subscribe("IP_READY", function() log.info("net", "IP_READY") end)
sys.subscribe("IP_LOSE", function() log.info("net", "IP_LOSE") end)
wlan.init()
wlan.connect("lab", "pw")
sys.run()
`,
  );
  const sink = new LogSink({ stream: null });
  const lines: string[] = [];
  sink.on((r) => lines.push(recordText(r)));
  const host = new DeviceHost({
    scripts: dir,
    libDirs: [],
    engine: 'wasmoon',
    profile: makeProfile({}),
    log: sink,
    dataDir: path.join(dir, 'data'),
    reboot: 'restart',
    maxBoots: 0,
    clock: 'real',
    coverage: false,
    net: {},
    status: false,
  });
  const localRuns: string[][] = [];
  host.faults.register({ name: 'lamp', usage: 'on | off', description: 'a fault of the main thread' }, (args) => void localRuns.push(args));
  const boots: number[] = [];
  host.on('boot', (n: number) => boots.push(n));
  const waitLine = (text: string, ms = 15000) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no '${text}' within ${ms} ms:\n${lines.join('\n')}`)), ms);
      const check = () => {
        if (lines.some((l) => l.includes(text))) {
          clearTimeout(t);
          off();
          resolve();
        }
      };
      const off = sink.on(check);
      check();
    });
  try {
    await host.start();
    await waitLine('I/user.net IP_READY');
    const names = host.faults.list().map((f) => f.name);
    assert.ok(names.includes('wifi'), `worker faults listed: ${names}`);
    assert.ok(names.includes('reboot'), `worker faults listed: ${names}`);
    assert.ok(names.includes('lamp'), `main-thread faults listed: ${names}`);
    await host.faults.run('lamp', ['on']);
    assert.deepEqual(localRuns, [['on']]);
    await host.faults.run('wifi', ['down']);
    await waitLine('I/user.net IP_LOSE');
    await assert.rejects(host.faults.run('nosuch', []), (e: Error) => e instanceof FaultError && /available: .*wifi.*lamp/.test(e.message));
    // a worker fault with bad arguments: the worker's FaultError comes back as one, with its message
    await assert.rejects(host.faults.run('wifi', ['sideways']), (e: Error) => e instanceof FaultError && /wifi: expected down \| up/.test(e.message));
    assert.deepEqual(boots, [1]);
    assert.equal(host.boots, 1);
    assert.ok(host.uptime() > 0);
  } finally {
    await host.stop();
  }
  assert.equal(host.stopped, true);
  await assert.rejects(host.faults.run('wifi', ['up']), FaultError, 'no worker after stop');
});
