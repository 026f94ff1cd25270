/**
 * Shared camera encoders in a fleet (runtime/media/camera/camera-pool.ts via luatos-api/shared/media-hub.ts):
 * devices whose camera source and settings are equal take their frames from one ffmpeg; each
 * keeps its own publisher (queue, drops, stats); the local platform serves every device id and
 * its ingest takes every stream. With --no-share-camera every device runs its own encoder.
 * Real parts: the demo scripts, ffmpeg, node-media-server on 127.0.0.1.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { tempDir } from '../helpers/tmp';
import { FleetHost } from '../../runtime/host/fleet/fleet-host';
import { fleetMembers } from '../../runtime/host/fleet/names';
import { startLocalPlatform } from '../../runtime/host/platform';
import { boardProfile, getBoard } from '../../runtime/boards';
import { loadProfileFile } from '../../runtime/core/profile';
import { recordText, type LogRecord } from '../../runtime/core/log';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DEMO = path.join(ROOT, 'demo');

async function streamFleet(n: number, shareCamera: boolean) {
  const platform = await startLocalPlatform();
  const dir = tempDir('luatos-fleetcam-');
  const lines = new Map<number, string[]>();
  const host = new FleetHost({
    scripts: DEMO,
    libDirs: [],
    engine: 'wasmoon',
    profile: boardProfile(getBoard('air8101'), loadProfileFile(path.join(DEMO, 'device.json')), { camera: { source: 'testsrc', tag: 'fleet-cam-test' } }),
    reboot: 'restart',
    maxBoots: 0,
    clock: 'real',
    net: { map: platform.mapRuleStrings() },
    shareCamera,
    status: true,
    members: fleetMembers('cam', n),
    stateDir: dir,
    staggerMs: 100,
    workers: 1,
    onLog: (d: number, r: LogRecord) => {
      let l = lines.get(d);
      if (!l) lines.set(d, (l = []));
      l.push(recordText(r));
    },
  });
  platform.registerFaults(host.hostFaults);
  host.start();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && platform.publishing().length < n) await new Promise((r) => setTimeout(r, 250));
  // a few seconds of streaming, then the rows
  await new Promise((r) => setTimeout(r, 3000));
  const pids = new Map<number, number>();
  for (const [d, l] of lines) for (const t of l) {
    const m = /ffmpeg pid (\d+)\)/.exec(t);
    if (m && t.includes('camera: streaming')) pids.set(d, Number(m[1]));
  }
  const result = { publishing: platform.publishing().sort(), pids, rows: [...host.rows.values()], encoders: host.encoders() };
  await host.stop();
  await platform.stop();
  return { ...result, macs: fleetMembers('cam', n).map((m) => m.mac) };
}

test('4 streaming devices share one encoder; each publishes its own stream with its own stats', { timeout: 120_000 }, async () => {
  const r = await streamFleet(4, true);
  assert.deepEqual(r.publishing, r.macs.map((m) => `/live/${m}`).sort(), 'the platform took one stream per device id');
  assert.equal(r.pids.size, 4, 'every device logged its encoder');
  assert.equal(new Set(r.pids.values()).size, 1, 'one ffmpeg for all four');
  assert.equal(r.encoders, 1);
  assert.equal(r.rows.length, 4);
  for (const row of r.rows) {
    assert.equal(row.rtmp, 4, `${row.name} PUBLISHING`);
    assert.ok(row.videoFrames > 0, `${row.name} sent frames`);
    assert.equal(row.encoder, 'enc1');
    assert.equal(row.wifi, 'connected');
  }
});

test('--no-share-camera: one encoder per device', { timeout: 120_000 }, async () => {
  const r = await streamFleet(2, false);
  assert.equal(r.publishing.length, 2);
  assert.equal(r.pids.size, 2);
  assert.equal(new Set(r.pids.values()).size, 2, 'two ffmpeg children');
  for (const row of r.rows) assert.equal(row.encoder, null);
});
