/**
 * The heartbeat between a device running in a worker thread and its supervisor on Node's main
 * thread: a SharedArrayBuffer the worker writes and the main thread reads without any message
 * (a worker stuck in one Lua call cannot post messages, but the main thread can still read what
 * it wrote just before).
 *
 * Slots (Float64, absolute wall milliseconds = performance.timeOrigin + performance.now(), which
 * is the same time base in every thread):
 *   RESUME_SINCE  when the current Lua resume began; 0 while no Lua code runs
 *   BUDGET        the runaway budget (ms) in force when it began
 *   DEV_NOW       device time (the device clock's now()) at the last sample
 *   WALL_AT       wall time of that sample
 *   BOOT1_DEV     device time of the first boot (NaN before it): `--timeout` counts from there
 *   BOOTS         boots so far
 *   BOOT_DEV      device time at which the current boot began (uptime = device time - this)
 *   ALIVE         wall time at which the heartbeat was attached
 *
 * The worker samples at every resume start and boot, and has no periodic tick: every wake-up of
 * a thread costs CPU that shows in the per-stream figures (bench:rtmp). The main thread extrapolates
 * device time from the last sample with the wall clock: exact for the real clock, a lower bound
 * for the virtual one (which only jumps ahead), so a supervisor's timeout taken from it never
 * fires before the device's own.
 *
 * Plain (non-atomic) Float64 stores: aligned 8-byte stores do not tear on the 64-bit hosts Node
 * supports, and every reader tolerates a value one sample old.
 */
import type { Device } from '../../core/device';

export const HB_SLOTS = 8;
const RESUME_SINCE = 0;
const BUDGET = 1;
const DEV_NOW = 2;
const WALL_AT = 3;
const BOOT1_DEV = 4;
const BOOTS = 5;
const BOOT_DEV = 6;
const ALIVE = 7;

/** Absolute wall time in ms, comparable across threads. */
export function absNow(): number {
  return performance.timeOrigin + performance.now();
}

export function createHeartbeatBuffer(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(HB_SLOTS * 8);
  const a = new Float64Array(sab);
  a[BOOT1_DEV] = NaN;
  a[ALIVE] = absNow();
  return sab;
}

/** Worker side: wires a device's resume observer and boots to the shared slots. */
export function attachHeartbeat(device: Device, sab: SharedArrayBuffer): () => void {
  const a = new Float64Array(sab);
  const sample = () => {
    a[DEV_NOW] = device.clock.now();
    a[WALL_AT] = absNow();
  };
  device.resumeObserver = (running) => {
    if (running) {
      a[BUDGET] = device.runawayBudgetMs();
      sample();
      a[RESUME_SINCE] = a[WALL_AT];
    } else a[RESUME_SINCE] = 0;
  };
  const onBoot = (n: number) => {
    sample();
    if (Number.isNaN(a[BOOT1_DEV])) a[BOOT1_DEV] = a[DEV_NOW];
    a[BOOTS] = n;
    a[BOOT_DEV] = a[DEV_NOW];
  };
  device.on('boot', onBoot);
  sample();
  a[ALIVE] = a[WALL_AT];
  return () => {
    device.off('boot', onBoot);
    device.resumeObserver = null;
    a[RESUME_SINCE] = 0;
  };
}

export interface HeartbeatView {
  /** ms the current Lua resume has been running (0: none runs) */
  resumeMs: number;
  /** the runaway budget of that resume */
  budgetMs: number;
  /** device time, extrapolated from the last sample */
  deviceNow: number;
  /** device time since the first boot (NaN before it) */
  sinceFirstBoot: number;
  /** ms since the current boot */
  uptime: number;
  boots: number;
  /** ms since the heartbeat was attached */
  silentMs: number;
}

/** Main side: read the slots. */
export function readHeartbeat(sab: SharedArrayBuffer, now = absNow()): HeartbeatView {
  const a = new Float64Array(sab);
  const since = a[RESUME_SINCE];
  const deviceNow = a[DEV_NOW] + Math.max(0, now - a[WALL_AT]);
  return {
    resumeMs: since > 0 ? Math.max(0, now - since) : 0,
    budgetMs: a[BUDGET],
    deviceNow,
    sinceFirstBoot: deviceNow - a[BOOT1_DEV],
    uptime: deviceNow - a[BOOT_DEV],
    boots: a[BOOTS],
    silentMs: Math.max(0, now - a[ALIVE]),
  };
}
