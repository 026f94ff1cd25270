/**
 * Clock.pause/resume (the debugger holds the device clock, runtime/core/debug/core.ts): device time
 * does not move while paused, and a timer due during the pause fires after it, as late as the
 * pause was long. The pauses here block the thread, as a stopped device's thread is blocked.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { RealClock, VirtualClock } from '../../runtime/core/clock';

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* the device's thread, stopped in the debugger */
  }
}

test('RealClock: time holds while paused; a pending timer keeps the rest of its delay after the pause', async () => {
  const c = new RealClock();
  const t0 = c.now();
  let firedAt = 0;
  c.setTimer(60, () => (firedAt = performance.now()));
  c.pause();
  const p = c.now();
  block(300);
  assert.equal(c.now(), p, 'frozen while paused');
  c.resume();
  const resumed = performance.now();
  assert.ok(c.now() - t0 < 150, `device time after a 300 ms pause: ${(c.now() - t0).toFixed(1)} ms`);
  await new Promise((r) => setTimeout(r, 400));
  assert.ok(firedAt > 0, 'the timer fired');
  // without the hold the Node timer was overdue and fired at once after the pause
  assert.ok(firedAt - resumed >= 30, `fired ${(firedAt - resumed).toFixed(1)} ms after the pause`);
});

test('VirtualClock: a held (wall-speed) clock does not count the pause either', () => {
  const c = new VirtualClock(0);
  const release = c.hold('io');
  const t0 = c.now();
  c.pause();
  block(200);
  assert.equal(c.now(), c.now());
  c.resume();
  assert.ok(c.now() - t0 < 100, `device time after a 200 ms pause: ${(c.now() - t0).toFixed(1)} ms`);
  release();
});

test('RealClock: a timer never fires before its due time (Node timers may run up to 1 ms early), also after a pause', async () => {
  const c = new RealClock();
  const early: number[] = [];
  for (let i = 0; i < 60; i++) {
    if (i === 30) {
      c.pause();
      block(20);
      c.resume();
    }
    const due = c.now() + 3.3;
    await new Promise<void>((r) =>
      c.setTimer(3.3, () => {
        if (c.now() < due) early.push(c.now() - due);
        r();
      }),
    );
  }
  assert.deepEqual(early, [], `fired early by ${early.map((x) => x.toFixed(2)).join(', ')} ms`);
});
