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
  /**
   * Real I/O is in flight (a socket, an HTTP request, ffmpeg): a virtual clock must run at
   * wall speed until the returned release function is called. No-op on the real clock.
   */
  hold(reason: string): () => void;
  /**
   * The debugger stopped the device (runtime/core/debug/core.ts): device time holds until
   * {@link resume}; a timer due during the pause fires after it, late by the pause's length
   * (as the device's own timers would be under a halted CPU). Pauses do not nest.
   */
  pause?(): void;
  resume?(): void;
}

/**
 * For an async handler (a fault action): holds `clock` with `reason` only if the handler is not
 * done within a few microtasks. One that is (no macrotask can run meanwhile) leaves device time
 * exact. Call the returned function when the handler settles; it releases the hold if taken.
 */
export function holdIfSlow(clock: Pick<Clock, 'hold'>, reason: string): () => void {
  let settled = false;
  let release: (() => void) | null = null;
  void (async () => {
    for (let i = 0; i < 10 && !settled; i++) await null;
    if (!settled) release = clock.hold(reason);
  })();
  return () => {
    settled = true;
    release?.();
  };
}

/** The host clock: performance.now for monotonic time, Node timers for timers. */
export class RealClock implements Clock {
  private nextId = 1;
  private readonly timers = new Map<number, { t: NodeJS.Timeout; due: number; fn: () => void }>();
  private wallOffset = 0;
  /** ms the device was paused in the debugger, taken off performance.now() */
  private pausedTotal = 0;
  private pausedAt: number | null = null;
  /** the due time of the latest timer that fired: device time never reads earlier (see arm) */
  private floor = 0;

  now(): number {
    const t = (this.pausedAt ?? performance.now()) - this.pausedTotal;
    return t < this.floor ? this.floor : t;
  }
  wallNow(): number {
    return Date.now() + this.wallOffset;
  }
  setWallTime(ms: number): void {
    this.wallOffset = ms - Date.now();
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.arm(id, this.now() + Math.max(0, ms), fn);
    return { id };
  }
  /**
   * Node's timers count in whole ms of a loop time taken at the start of the loop's turn, so
   * one may run up to about 1 ms before performance.now() reaches its due time; a device timer
   * never fires early (a 300 ms timer must not read 299 ms of mcu.ticks). Re-arming an early
   * one would cost a second timer for most short waits (halving sys.wait(1) throughput), so
   * instead device time moves up to the due time of the timer that fires (`floor`): it stays
   * monotonic and no timer is seen early.
   */
  private arm(id: number, due: number, fn: () => void): void {
    const t = setTimeout(() => {
      if (this.pausedAt === null && due > this.floor) this.floor = due;
      this.timers.delete(id);
      fn();
    }, Math.max(0, Math.ceil(due - this.now())));
    this.timers.set(id, { t, due, fn });
  }
  clearTimer(h: TimerHandle | undefined | null): void {
    if (!h) return;
    const t = this.timers.get(h.id);
    if (t) {
      clearTimeout(t.t);
      this.timers.delete(h.id);
    }
  }
  pause(): void {
    if (this.pausedAt === null) this.pausedAt = performance.now();
  }
  /** Device time goes on from where it stood; every pending timer is re-armed for its due time. */
  resume(): void {
    if (this.pausedAt === null) return;
    this.pausedTotal += performance.now() - this.pausedAt;
    this.pausedAt = null;
    for (const [id, x] of [...this.timers]) {
      clearTimeout(x.t);
      this.arm(id, x.due, x.fn);
    }
  }
  /** number of pending timers (for tests) */
  get pending(): number {
    return this.timers.size;
  }
  hold(_reason: string): () => void {
    return () => undefined;
  }
}

interface VTimer {
  id: number;
  due: number;
  seq: number;
  fn: () => void;
}

/**
 * `--clock virtual`: device time that jumps ahead when only timers are pending.
 *
 * - While nothing holds the clock, it repeatedly takes the earliest due timer, sets the time to
 *   its due time and fires it, one timer per turn of Node's event loop (so the VM handles each
 *   event before time moves on). An hour of timer-driven logic takes seconds.
 * - While real I/O holds it (`hold()`), time runs at wall speed from where it stands and timers
 *   fire through real Node timers, so sockets and child processes see correct timeouts.
 * - Timers due at the same time fire in the order they were set: runs are deterministic.
 * - The wall clock (log stamps, os.time) is the start wall time plus the virtual time.
 */
export class VirtualClock implements Clock {
  private t = 0;
  private anchor: number | null = null; // performance.now() when wall-speed mode began
  private holds = new Map<number, string>();
  private holdSeq = 1;
  private nextId = 1;
  private seq = 0;
  private readonly timers = new Map<number, VTimer>();
  private stepScheduled = false;
  private realTimer: NodeJS.Timeout | null = null;
  private readonly wallStart: number;
  private wallOffset = 0;

  constructor(wallStart: number = Date.now()) {
    this.wallStart = wallStart;
  }

  now(): number {
    if (this.pausedAt !== null) return this.pausedAt;
    return this.anchor === null ? this.t : this.t + (performance.now() - this.anchor);
  }
  wallNow(): number {
    return this.wallStart + this.now() + this.wallOffset;
  }
  private pausedAt: number | null = null;
  private pausedWall = 0;
  pause(): void {
    if (this.pausedAt !== null) return;
    this.pausedAt = this.now();
    this.pausedWall = performance.now();
  }
  /** In wall-speed mode the anchor moves by the pause's length; virtual jumps never ran meanwhile. */
  resume(): void {
    if (this.pausedAt === null) return;
    if (this.anchor !== null) this.anchor += performance.now() - this.pausedWall;
    this.pausedAt = null;
    this.reschedule();
  }
  setWallTime(ms: number): void {
    this.wallOffset = ms - (this.wallStart + this.now());
  }
  get holding(): boolean {
    return this.holds.size > 0;
  }
  get pending(): number {
    return this.timers.size;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.now() + Math.max(0, ms), seq: this.seq++, fn });
    this.reschedule();
    return { id };
  }
  clearTimer(h: TimerHandle | undefined | null): void {
    if (h && this.timers.delete(h.id)) this.reschedule();
  }

  hold(reason: string): () => void {
    const id = this.holdSeq++;
    if (this.holds.size === 0) {
      // switch to wall speed from the current virtual time
      this.t = this.now();
      this.anchor = performance.now();
    }
    this.holds.set(id, reason);
    this.reschedule();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds.delete(id);
      if (this.holds.size === 0 && this.anchor !== null) {
        this.t = this.now();
        this.anchor = null;
      }
      this.reschedule();
    };
  }

  private earliest(): VTimer | undefined {
    let best: VTimer | undefined;
    for (const v of this.timers.values()) {
      if (!best || v.due < best.due || (v.due === best.due && v.seq < best.seq)) best = v;
    }
    return best;
  }

  private reschedule(): void {
    if (this.realTimer) {
      clearTimeout(this.realTimer);
      this.realTimer = null;
    }
    const next = this.earliest();
    if (!next) return;
    if (this.anchor !== null) {
      this.realTimer = setTimeout(() => {
        this.realTimer = null;
        this.fireDue();
        this.reschedule();
      }, Math.max(0, next.due - this.now()));
      return;
    }
    if (!this.stepScheduled) {
      this.stepScheduled = true;
      setImmediate(() => {
        this.stepScheduled = false;
        if (this.anchor !== null) return this.reschedule();
        const v = this.earliest();
        if (!v) return;
        if (v.due > this.t) this.t = v.due;
        this.timers.delete(v.id);
        v.fn();
        this.reschedule();
      });
    }
  }

  /** wall-speed mode: fire everything due by now */
  private fireDue(): void {
    const now = this.now();
    for (;;) {
      const v = this.earliest();
      if (!v || v.due > now) return;
      this.timers.delete(v.id);
      v.fn();
    }
  }
}
