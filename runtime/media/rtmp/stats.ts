/**
 * Publisher statistics: bytes on the wire (counted when handed to the socket, every byte: handshake,
 * chunk headers, commands, media), media packets by kind, drops, queue state, average rate since
 * the connection was accepted and a sliding-window rate (the firmware's window figure is always 0;
 * this one is computed over the last `windowMs`).
 */

export interface RtmpStats {
  /** every byte written to the socket since the publisher was created */
  bytesSent: number;
  /** media messages written (video access units + audio frames; not sequence headers/metadata) */
  packets: number;
  videoFrames: number;
  audioFrames: number;
  /** key frames written and their bytes on the wire (chunk headers included) */
  iFrames: number;
  iBytes: number;
  /** inter frames written and their bytes on the wire */
  pFrames: number;
  pBytes: number;
  /** media messages dropped by the congestion policy (or before the first key frame) */
  droppedFrames: number;
  /** payload bytes of the dropped messages */
  droppedBytes: number;
  /** bytes waiting: send queue payloads + bytes buffered in the socket not yet flushed */
  queueBytes: number;
  /** media time span of the send queue, ms (newest queued dts − oldest queued dts) */
  queueMs: number;
  /** messages in the send queue */
  queueLength: number;
  /** kbit/s since the server accepted the connection (0 when not connected) */
  avgKbps: number;
  /** kbit/s over the last `windowMs` (or since connected when that is shorter) */
  windowKbps: number;
  /** ms since the server accepted the connection (0 when not connected) */
  connectionTimeMs: number;
  /** Acknowledgements sent to the server */
  acksSent: number;
  /** bytes received from the server */
  bytesReceived: number;
}

/** Sliding-window byte counter in fixed-size buckets (bounded memory). */
export class RateWindow {
  private readonly buckets: { slot: number; bytes: number }[] = [];
  constructor(
    readonly windowMs = 5000,
    readonly bucketMs = 100,
  ) {}

  add(now: number, bytes: number): void {
    const slot = Math.floor(now / this.bucketMs);
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.slot === slot) last.bytes += bytes;
    else this.buckets.push({ slot, bytes });
    this.prune(now);
  }

  private prune(now: number): void {
    const minSlot = Math.floor((now - this.windowMs) / this.bucketMs);
    while (this.buckets.length > 0 && this.buckets[0].slot <= minSlot) this.buckets.shift();
  }

  /** bytes in the window ending at `now` */
  bytes(now: number): number {
    this.prune(now);
    let s = 0;
    for (const b of this.buckets) s += b.bytes;
    return s;
  }

  /** kbit/s over the window, or over `now - since` when that is shorter */
  kbps(now: number, since: number): number {
    const span = Math.min(this.windowMs, now - since);
    if (span <= 0) return 0;
    return Math.round((this.bytes(now) * 8) / span);
  }

  clear(): void {
    this.buckets.length = 0;
  }
}

/** The firmware's stats line (luat_rtmp_push.c rtmp_poll), same fields and layout. */
export function formatStatsLine(s: RtmpStats): string {
  const kB = (n: number) => Math.floor(n / 1024);
  return (
    `RTMP stats: total=${kB(s.bytesSent)} kB packets=${s.packets} ` +
    `I=${s.iFrames} (${kB(s.iBytes)}kB) P=${s.pFrames} (${kB(s.pBytes)}kB) ` +
    `dropped=${s.droppedFrames} (${kB(s.droppedBytes)}kB) queue=${s.queueBytes} ` +
    `avg=${s.avgKbps} kbps win=${s.windowKbps} kbps`
  );
}
