/**
 * A throttled uplink in front of a real loopback TCP connection, used as the publisher's socket
 * factory (the same hook a simulated Wi-Fi adapter uses).
 *
 * Why not a separate TCP proxy process: on loopback the kernel buffers several MB between a sender
 * and a slow reader (measured: ~3.5 MB with a proxy reading at a capped rate), so a cap applied by a
 * TCP proxy is invisible to the sender for minutes and no sender-side policy can bound latency.
 * Here the bottleneck sits on the sender's side of TCP, like a real slow uplink: a small link
 * buffer (`bufferBytes`) drained at `rate` bytes/s, with backpressure (write() → false, 'drain').
 * The link keeps every byte (nothing is destroyed on teardown until the link is destroyed) and
 * counts what passed through.
 */
import * as net from 'node:net';
import { Duplex } from 'node:stream';

export interface ThrottleOptions {
  /** bytes per second; Infinity = no cap */
  rate: number;
  /** link buffer (default 16 KiB) */
  bufferBytes?: number;
  /** pump period (default 10 ms) */
  tickMs?: number;
}

export class ThrottledLink extends Duplex {
  connecting = true;
  private readonly real: net.Socket;
  private queue: { buf: Buffer; cb?: (err?: Error | null) => void }[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private tokens = 0;
  private last = Date.now();
  private endPending = false;
  bytesForwarded = 0;

  constructor(
    host: string,
    port: number,
    private readonly ctl: ThrottleControl,
  ) {
    super({ writableHighWaterMark: 16 * 1024, allowHalfOpen: false });
    this.real = net.connect({ host, port });
    this.real.on('connect', () => {
      this.connecting = false;
      this.emit('connect');
      this.pump();
    });
    this.real.on('data', (d: Buffer) => {
      if (!this.push(d)) this.real.pause();
    });
    this.real.on('end', () => this.push(null));
    this.real.on('error', (e) => this.destroy(e));
    this.real.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
    this.timer = setInterval(() => this.pump(), ctl.tickMs);
  }

  setNoDelay(v = true): this {
    this.real.setNoDelay(v);
    return this;
  }

  override _read(): void {
    this.real.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.queue.push({ buf: chunk });
    this.queued += chunk.length;
    if (this.queued <= this.ctl.bufferBytes) cb();
    else this.queue[this.queue.length - 1].cb = cb; // released when drained below the buffer size
    this.pump();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.endPending = true;
    this.pump();
    cb();
  }

  private pump(): void {
    if (this.connecting || this.destroyed) return;
    const now = Date.now();
    const rate = this.ctl.rate;
    if (rate === Infinity) this.tokens = Infinity;
    else {
      this.tokens = Math.min(this.tokens + ((now - this.last) * rate) / 1000, Math.max(rate * 0.05, 1500));
    }
    this.last = now;
    while (this.queue.length > 0 && this.tokens >= 1) {
      const head = this.queue[0];
      const n = Math.min(head.buf.length, Math.floor(Math.min(this.tokens, 1 << 30)));
      const part = n === head.buf.length ? head.buf : head.buf.subarray(0, n);
      this.real.write(part);
      this.bytesForwarded += n;
      this.ctl.bytesForwarded += n;
      if (rate !== Infinity) this.tokens -= n;
      this.queued -= n;
      if (n === head.buf.length) {
        this.queue.shift();
        head.cb?.();
      } else head.buf = head.buf.subarray(n);
    }
    // release a writer waiting for room
    if (this.queued <= this.ctl.bufferBytes) {
      for (const q of this.queue) {
        if (q.cb) {
          const cb = q.cb;
          q.cb = undefined;
          cb();
        }
      }
    }
    if (this.queue.length === 0 && this.endPending) {
      this.endPending = false;
      this.real.end();
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.real.destroy();
    for (const q of this.queue) q.cb?.(err ?? new Error('link destroyed'));
    this.queue = [];
    cb(err);
  }
}

export class ThrottleControl {
  rate: number;
  bufferBytes: number;
  tickMs: number;
  bytesForwarded = 0;
  links: ThrottledLink[] = [];
  constructor(o: ThrottleOptions) {
    this.rate = o.rate;
    this.bufferBytes = o.bufferBytes ?? 16 * 1024;
    this.tickMs = o.tickMs ?? 10;
  }
  factory = (host: string, port: number): ThrottledLink => {
    const l = new ThrottledLink(host, port, this);
    this.links.push(l);
    return l;
  };
  destroyAll(): void {
    for (const l of this.links) l.destroy();
  }
}
