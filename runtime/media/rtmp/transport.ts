/**
 * The RTMP transport: owns the socket (from the SocketFactory), write backpressure, the media send
 * queue with its drop policy, and the stats counters and timer. It knows nothing of the protocol:
 * queued media is written through the `writeMedia` hook (the owner encodes it with the session's
 * chunk writer at flush time, so chunk header compression follows the wire order).
 *
 * One transport per publisher; open() attaches a new socket (events of an earlier socket are
 * ignored from then on), detach() lets go of it. Counters live as long as the transport.
 */
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { LogLevel } from '../types';
import { SendQueue, type MediaKind, type QueuedMedia } from './send-queue';
import { RateWindow, type RtmpStats } from './stats';

/**
 * What the publisher needs from a socket: a Duplex (net.Socket, tls.TLSSocket or a simulated link).
 * If `connecting` is true the transport waits for 'connect', otherwise it treats it as connected.
 */
export type RtmpSocket = Duplex & {
  connecting?: boolean;
  setNoDelay?: (noDelay?: boolean) => unknown;
};
export type SocketFactory = (host: string, port: number) => RtmpSocket;

export const defaultSocketFactory: SocketFactory = (host, port) => net.connect({ host, port });

export interface DropEvent {
  kind: MediaKind;
  key: boolean;
  dts: number;
  bytes: number;
  reason: 'congestion' | 'wait-key' | 'overflow' | 'no-keyframe-yet' | 'stopped';
}

/** Events of the current socket. */
export interface SocketHandlers {
  connect(): void;
  data(d: Buffer): void;
  error(err: Error): void;
  close(): void;
}

export interface TransportHooks {
  /** write one queued media message (encode + write); returns its bytes on the wire */
  writeMedia(q: QueuedMedia): number;
  drop(ev: DropEvent): void;
  log(level: LogLevel, text: string): void;
}

export interface RtmpTransportOptions {
  factory: SocketFactory;
  now: () => number;
  dropThresholdMs: number;
  maxQueueBytes: number;
  statsWindowMs: number;
}

/** Counters (cumulative over the transport's life): the cumulative fields of RtmpStats. */
export type TransportCounters = Pick<
  RtmpStats,
  | 'bytesSent'
  | 'packets'
  | 'videoFrames'
  | 'audioFrames'
  | 'iFrames'
  | 'iBytes'
  | 'pFrames'
  | 'pBytes'
  | 'droppedFrames'
  | 'droppedBytes'
  | 'acksSent'
>;

export class RtmpTransport {
  readonly st: TransportCounters = {
    bytesSent: 0,
    packets: 0,
    videoFrames: 0,
    audioFrames: 0,
    iFrames: 0,
    iBytes: 0,
    pFrames: 0,
    pBytes: 0,
    droppedFrames: 0,
    droppedBytes: 0,
    acksSent: 0,
  };
  private socket: RtmpSocket | undefined;
  /** TCP connection established on the current socket */
  private _tcpUp = false;
  private needDrain = false;
  private readonly queue: SendQueue;
  /** dts of media messages written to the socket whose write callback has not fired yet */
  private unflushed: number[] = [];
  private unflushedHead = 0;
  private unflushedEpoch = 0;
  private statsTimer: NodeJS.Timeout | undefined;
  /** when the connection was accepted (stats' connection time), undefined when not connected */
  private _connectedAt: number | undefined;
  private bytesAtConnected = 0;
  private readonly rate: RateWindow;

  constructor(
    private readonly opts: RtmpTransportOptions,
    private readonly hooks: TransportHooks,
  ) {
    this.queue = new SendQueue({ dropThresholdMs: opts.dropThresholdMs, maxQueueBytes: opts.maxQueueBytes });
    this.rate = new RateWindow(opts.statsWindowMs);
  }

  get tcpUp(): boolean {
    return this._tcpUp;
  }

  get hasSocket(): boolean {
    return this.socket !== undefined;
  }

  /** a socket exists and is not destroyed */
  get alive(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  get connectedAt(): number | undefined {
    return this._connectedAt;
  }

  /** Forget the previous connection's flags (a new connection starts). */
  reset(): void {
    this._tcpUp = false;
    this.needDrain = false;
  }

  /**
   * Open a socket through the factory (throws what the factory throws) and route its events to
   * `handlers` until the next open()/detach(). On 'connect' (or at once for a socket that is not
   * connecting) the transport marks TCP up, turns Nagle off and calls handlers.connect.
   */
  open(host: string, port: number, handlers: SocketHandlers): void {
    const sock = this.opts.factory(host, port);
    this.socket = sock;
    const current = () => this.socket === sock;
    sock.on('error', (err: Error) => {
      if (current()) handlers.error(err);
    });
    sock.on('close', () => {
      if (current()) handlers.close();
    });
    sock.on('data', (d: Buffer) => {
      if (current()) handlers.data(d);
    });
    sock.on('drain', () => {
      if (!current()) return;
      this.needDrain = false;
      this.flush();
    });
    const onConnect = () => {
      if (!current()) return;
      this._tcpUp = true;
      try {
        sock.setNoDelay?.(true);
      } catch {
        /* not a TCP socket */
      }
      handlers.connect();
    };
    if (sock.connecting) sock.once('connect', onConnect);
    else setImmediate(onConnect);
  }

  /** Half-close the current socket (graceful disconnect); its events still arrive. */
  end(): void {
    this.socket?.end();
  }

  /** Let go of the current socket: destroyed, its events ignored from now on. */
  detach(): void {
    const sock = this.socket;
    this.socket = undefined;
    this._tcpUp = false;
    sock?.destroy();
  }

  /** Write bytes to the socket (counted as bytes on the wire); `mediaDts` tracks media until flushed. */
  write(buf: Buffer, mediaDts?: number): boolean {
    const s = this.socket;
    if (!s || s.destroyed || !s.writable) return false;
    this.st.bytesSent += buf.length;
    if (this._connectedAt !== undefined) this.rate.add(this.opts.now(), buf.length);
    let ok: boolean;
    if (mediaDts === undefined) ok = s.write(buf);
    else {
      const epoch = this.unflushedEpoch;
      this.unflushed.push(mediaDts);
      ok = s.write(buf, () => {
        if (epoch !== this.unflushedEpoch) return;
        this.unflushedHead++;
        if (this.unflushedHead > 256 && this.unflushedHead * 2 > this.unflushed.length) {
          this.unflushed = this.unflushed.slice(this.unflushedHead);
          this.unflushedHead = 0;
        }
      });
    }
    if (!ok) this.needDrain = true;
    return ok;
  }

  /** Queue a media message under the drop policy (drops are reported). */
  enqueue(item: QueuedMedia): void {
    const drops = this.queue.enqueue(item, this.oldestUnflushedDts());
    for (const d of drops) {
      this.noteDrop(d.item.kind, d.item.key, d.item.dts, d.item.msg.payload.length, d.reason);
      if (d.reason === 'overflow') {
        this.hooks.log('E', `RTMP: Drop frame, queue bytes ${this.queue.bytes} exceed max ${this.queue.maxQueueBytes}`);
      }
    }
  }

  /** Hand queued messages to the socket while it accepts them (one write per message). */
  flush(): void {
    while (!this.needDrain && this.socket && !this.socket.destroyed) {
      const q = this.queue.shift();
      if (!q) return;
      const n = this.hooks.writeMedia(q);
      if (q.kind === 'video') {
        this.st.packets++;
        this.st.videoFrames++;
        if (q.key) {
          this.st.iFrames++;
          this.st.iBytes += n;
        } else {
          this.st.pFrames++;
          this.st.pBytes += n;
        }
      } else if (q.kind === 'audio') {
        this.st.packets++;
        this.st.audioFrames++;
      }
    }
  }

  noteDrop(kind: MediaKind, key: boolean, dts: number, bytes: number, reason: DropEvent['reason']): void {
    if (kind !== 'video' && kind !== 'audio') return;
    this.st.droppedFrames++;
    this.st.droppedBytes += bytes;
    this.hooks.drop({ kind, key, dts, bytes, reason });
  }

  /** Discard the queue (each media item reported as dropped for `reason`). */
  discardQueue(reason: DropEvent['reason']): void {
    for (const q of this.queue.clear()) this.noteDrop(q.kind, q.key, q.dts, q.msg.payload.length, reason);
  }

  /** A new publish: in-flight tracking restarts, the queue is discarded ('stopped'). */
  resetMedia(): void {
    this.unflushedEpoch++;
    this.unflushed = [];
    this.unflushedHead = 0;
    this.discardQueue('stopped');
  }

  /** Discard the queue without reports (destroy). */
  clearQueue(): void {
    this.queue.clear();
  }

  // ------------------------------------------------------------------------------ stats

  /** The connection was accepted: connection time and rates count from now. */
  markConnected(): void {
    if (this._connectedAt !== undefined) return;
    this._connectedAt = this.opts.now();
    this.bytesAtConnected = this.st.bytesSent;
    this.rate.clear();
  }

  markDisconnected(): void {
    this._connectedAt = undefined;
  }

  /** Queue and rate figures for RtmpStats. */
  figures(now: number): { queueBytes: number; queueMs: number; queueLength: number; avgKbps: number; windowKbps: number; connectionTimeMs: number } {
    const connectedAt = this._connectedAt;
    const connected = connectedAt !== undefined;
    const elapsed = connected ? now - connectedAt : 0;
    const sockPending = this.socket && !this.socket.destroyed ? this.socket.writableLength : 0;
    return {
      queueBytes: this.queue.bytes + sockPending,
      queueMs: this.queue.durationMs(this.oldestUnflushedDts()),
      queueLength: this.queue.length,
      avgKbps: connected && elapsed > 0 ? Math.round(((this.st.bytesSent - this.bytesAtConnected) * 8) / elapsed) : 0,
      windowKbps: connected ? this.rate.kbps(now, connectedAt) : 0,
      connectionTimeMs: elapsed,
    };
  }

  /** Call `tick` every `intervalMs` (0 = off) until stopStats(); the timer does not keep Node alive. */
  startStats(intervalMs: number, tick: () => void): void {
    if (this.statsTimer || intervalMs <= 0) return;
    this.statsTimer = setInterval(tick, intervalMs);
    this.statsTimer.unref?.();
  }

  stopStats(): void {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = undefined;
  }

  private oldestUnflushedDts(): number | undefined {
    return this.unflushedHead < this.unflushed.length ? this.unflushed[this.unflushedHead] : undefined;
  }
}
