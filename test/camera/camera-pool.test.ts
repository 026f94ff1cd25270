/**
 * The fleet's shared camera encoders (runtime/media/camera/camera-pool.ts) with a real ffmpeg encoding
 * testsrc: one encoder per key, frames to every subscriber, the last release stops the child,
 * an encoder that dies tells every subscriber and leaves the pool.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { CameraPool } from '../../runtime/media/camera/camera-pool';
import { FfmpegCamera } from '../../runtime/media/camera/ffmpeg-camera';
import type { EncodedVideoFrame } from '../../runtime/media/types';

const make = () => new FfmpegCamera({ source: 'testsrc', config: { width: 320, height: 240, fps: 15 }, tag: 'camera-pool-test' });
const alive = (pid: number | undefined) => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const until = async (fn: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('one encoder per key; every subscriber gets every frame; the last release stops ffmpeg', { timeout: 60_000 }, async () => {
  const pool = new CameraPool();
  const a: EncodedVideoFrame[] = [];
  const b: EncodedVideoFrame[] = [];
  const la = pool.subscribe('k', make, { frame: (f) => a.push(f) });
  await la.ready;
  const lb = pool.subscribe('k', make, { frame: (f) => b.push(f) });
  assert.equal(lb.joined, true);
  assert.equal(la.joined, false);
  assert.equal(pool.size, 1);
  assert.equal(pool.started, 1);
  assert.equal(lb.pid, la.pid);
  await until(() => b.length >= 20);
  // from b's first frame on, a got the very same frame objects
  const firstB = a.indexOf(b[0]);
  assert.ok(firstB >= 0);
  assert.deepEqual(a.slice(firstB, firstB + 20), b.slice(0, 20));
  const pid = la.pid;
  la.release();
  const n = b.length;
  await until(() => b.length >= n + 10);
  assert.ok(alive(pid), 'still streaming for b');
  lb.release();
  await until(() => !alive(pid));
  assert.equal(pool.size, 0);
  // another key: another encoder
  const lc = pool.subscribe('other', make, { frame: () => undefined });
  await lc.ready;
  assert.equal(pool.started, 2);
  await pool.closeAll();
  await until(() => !alive(lc.pid));
});

test('an encoder that dies tells every subscriber and leaves the pool; the next subscribe starts a new one', { timeout: 60_000 }, async () => {
  const pool = new CameraPool();
  const errors: string[] = [];
  const la = pool.subscribe('k', make, { frame: () => undefined, error: (m) => errors.push(`a: ${m}`) });
  const lb = pool.subscribe('k', make, { frame: () => undefined, error: (m) => errors.push(`b: ${m}`) });
  await la.ready;
  const pid = la.pid!;
  process.kill(pid, 'SIGKILL');
  await until(() => errors.length === 2);
  assert.match(errors[0], /^a: camera: ffmpeg .* killed by SIGKILL/);
  assert.match(errors[1], /^b: /);
  assert.equal(pool.size, 0);
  const lc = pool.subscribe('k', make, { frame: () => undefined });
  await lc.ready;
  assert.notEqual(lc.pid, pid);
  assert.equal(pool.started, 2);
  lb.release();
  lc.release();
  await until(() => !alive(lc.pid));
});
