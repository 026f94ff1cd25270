/**
 * The device clock: one object behind every timer, `mcu.ticks`, log timestamps and the
 * runaway budget, so a virtual clock can replace the real one (`--clock virtual`) without
 * touching the event loop.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** monotonic milliseconds (fractional allowed) */
  now(): number;
  /** wall-clock time for log stamps and os.time, in ms since the Unix epoch */
  wallNow(): number;
  /** one-shot timer */
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(h: TimerHandle | undefined | null): void;
  /** set the wall clock (SNTP): the offset applies to wallNow from now on */
  setWallTime(msSinceEpoch: number): void;
}

/** The host clock: performance.now for monotonic time, Node timers for timers. */
export class RealClock implements Clock {
  private nextId = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private wallOffset = 0;

  now(): number {
    return performance.now();
  }
  wallNow(): number {
    return Date.now() + this.wallOffset;
  }
  setWallTime(ms: number): void {
    this.wallOffset = ms - Date.now();
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    const t = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, Math.max(0, ms));
    this.timers.set(id, t);
    return { id };
  }
  clearTimer(h: TimerHandle | undefined | null): void {
    if (!h) return;
    const t = this.timers.get(h.id);
    if (t) {
      clearTimeout(t);
      this.timers.delete(h.id);
    }
  }
  /** number of pending timers (for tests) */
  get pending(): number {
    return this.timers.size;
  }
}
