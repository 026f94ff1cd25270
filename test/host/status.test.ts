// The device panel's status (runtime/host/status.ts) reads the Device's public surface only: the
// status sections the bindings contribute (the media hub's `rtmp`), device.luaHeapBytes() and
// device.luaTimers(). Reading creates nothing (it used to create a media hub on a VM without one).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Device } from '../../runtime/core/device';
import { createDevice } from '../../runtime/boards/device';
import { LogSink } from '../../runtime/core/log';
import { makeProfile } from '../../runtime/core/profile';
import { createNetworkFromOptions } from '../../runtime/net/options';
import { RtmpState } from '../../runtime/media/rtmp';
import { statusProvider } from '../../runtime/host/status';
import { openBase } from '../../luatos-api/base';
import { openLog } from '../../luatos-api/log';
import { openRtos } from '../../luatos-api/rtos';
import type { RtmpStatusSection } from '../../luatos-api/shared/media-hub';
import { makeScriptDir } from '../helpers/run-lua';
import { tempDir } from '../helpers/tmp';

/** Boots `main.lua` on the device `make` builds and waits for a log line; the folders go when the device stops. */
async function boot(src: string, make: (scripts: string, dataDir: string) => Device, until: RegExp): Promise<Device> {
  const dir = makeScriptDir({ 'main.lua': src });
  const dataDir = tempDir('luatos-status-data-');
  const device = make(dir, dataDir);
  device.once('stopped', () => {
    for (const d of [dir, dataDir]) fs.rmSync(d, { recursive: true, force: true });
  });
  const seen = waitLine(device, until);
  await device.start();
  await seen;
  return device;
}

const full = (scripts: string, dataDir: string) =>
  createDevice({ scripts, dataDir, engine: 'wasmoon', profile: makeProfile({ exitRebootDelayMs: 50 }), log: new LogSink({ stream: null }), reboot: 'exit' });

function waitLine(device: Device, re: RegExp, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no log line matching ${re} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = device.logSink.on((_r, text: string) => {
      if (!re.test(text)) return;
      clearTimeout(timer);
      off();
      // read outside the VM's own call, as the console's timer does
      setImmediate(resolve);
    });
  });
}

test('status: the rtmp object (the media hub\'s section), Lua memory and the sleeping task come from the Device; nothing once it stopped', async () => {
  const device = await boot(
    `
sys.taskInit(function()
  local c = rtmp.create("rtmp://127.0.0.1:1/live/status")
  log.info("CREATED", c ~= nil)
  sys.wait(60000)
end)
sys.run()
`,
    full,
    /I\/user\.CREATED true/,
  );
  try {
    const status = statusProvider(device);
    const s = status();
    assert.equal(s.rtmp.state, RtmpState.IDLE);
    assert.equal(s.rtmp.url, 'rtmp://127.0.0.1:1/live/status');
    assert.equal(s.rtmp.stats?.bytesSent, 0);
    assert.equal(s.rtmp.stats?.videoFrames, 0);
    const heap = device.luaHeapBytes();
    assert.ok(heap !== null && heap > 0, `wasmoon tells its heap: ${heap}`);
    assert.ok(s.memory.lua && s.memory.lua.used > 0 && s.memory.lua.total === device.profile.memory.lua, JSON.stringify(s.memory));
    assert.deepEqual(
      s.tasks?.sleeping.map((t) => [t.ms, t.afterError]),
      [[60000, false]],
    );
    device.stop();
    const after = status();
    assert.deepEqual(after.rtmp, { state: null, stats: null });
    assert.equal(after.memory.lua, null);
    assert.deepEqual(after.tasks, { sleeping: [] });
    assert.equal(device.statusSection('rtmp'), undefined, 'the hub withdrew its section with the VM');
    assert.equal(device.luaHeapBytes(), null);
    assert.deepEqual(device.luaTimers(), []);
  } finally {
    device.dispose();
  }
});

test('reading the status creates nothing: a VM without the camera and rtmp bindings gets no media hub from it', async () => {
  const device = await boot(
    `
sys.taskInit(function() log.info("READY") sys.wait(60000) end)
sys.run()
`,
    (scripts, dataDir) => {
      const profile = makeProfile({ exitRebootDelayMs: 50 });
      return new Device({ scripts, dataDir, profile, log: new LogSink({ stream: null }), reboot: 'exit', parts: { net: createNetworkFromOptions(profile) }, install: [openBase, openLog, openRtos] });
    },
    /I\/user\.READY/,
  );
  try {
    const vm = device.vm!;
    const before = Object.getOwnPropertySymbols(vm);
    const s = statusProvider(device)();
    assert.deepEqual(s.rtmp, { state: null, stats: null });
    assert.equal(s.tasks?.sleeping.length, 1);
    // the media hub hangs off the VM by a symbol when something creates it
    assert.deepEqual(Object.getOwnPropertySymbols(vm), before);
    assert.equal(device.statusSection('rtmp'), undefined);
  } finally {
    device.dispose();
  }
});

test('status sections: the latest contributor of a name wins; an earlier one withdrawing leaves it in place', () => {
  const dataDir = tempDir('luatos-status-data-');
  try {
    const device = new Device({ scripts: dataDir, dataDir, log: new LogSink({ stream: null }), parts: { net: createNetworkFromOptions(makeProfile()) } });
    const snap = (url: string): RtmpStatusSection => ({ state: RtmpState.IDLE, url, stats: { bytesSent: 0 } as RtmpStatusSection['stats'] });
    let reads = 0;
    const withdrawOld = device.addStatusSection('rtmp', () => snap('old'));
    const withdrawNew = device.addStatusSection('rtmp', () => {
      reads++;
      return snap('new');
    });
    assert.equal(device.statusSection('rtmp')?.url, 'new');
    withdrawOld();
    assert.equal(device.statusSection('rtmp')?.url, 'new');
    withdrawNew();
    assert.equal(device.statusSection('rtmp'), undefined);
    assert.equal(reads, 2, 'read only when asked');
    device.dispose();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
