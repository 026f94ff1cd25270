/**
 * RTMP publisher: composes the socket-free protocol core (session.ts: handshake, chunking,
 * commands, flow control, step timeouts) and the transport (transport.ts: socket, backpressure,
 * send queue and drop policy, stats), and keeps the public state machine, media timing and events.
 *
 *   connect():  TCP connect → handshake → SetChunkSize + `connect` (tx 1) → `_result` = CONNECTED
 *   start():    releaseStream (tx 2) + FCPublish (tx 3) + createStream (tx 4) → stream id from
 *               the `_result` → publish (tx 5, on that stream id) → onStatus NetStream.Publish.Start
 *               → @setDataFrame onMetaData → PUBLISHING
 *   pushVideo(): one H.264 access unit per RTMP message (AVCC), sequence header once per publish and
 *               whenever SPS/PPS change, timestamps from the encoder's dts rebased to 0 per publish.
 *
 * Every step has a timeout (default 5 s). Faults go DISCONNECTING (only when a TCP connection
 * existed) → IDLE → ERROR, with the firmware's error code and the reason (server text included).
 * Events:
 *   'state' (newState, oldState, errorCode?, reason?)
 *   'log'   (RtmpLogEvent { level, module, text }) — texts and levels as the firmware's rtmp_push
 *                                                  module prints them (module 'rtmp_push')
 *   'stats' (RtmpStats)                           — every statsIntervalMs while a connection exists
 *   'drop'  ({ kind, key, dts, bytes, reason })   — a media message was dropped
 * No 'error' events are ever emitted (an unhandled 'error' would throw); nothing is written to the
 * console.
 */
import { EventEmitter } from 'node:events';
import type { EncodedVideoFrame, VideoStreamInfo } from '../types';
import { RtmpError, RtmpErrorCode, RtmpState } from './errors';
import { parseRtmpUrl, type RtmpUrl } from './url';
import { AvcPacketizer } from './video-packetizer';
import type { QueuedMedia } from './send-queue';
import { formatStatsLine, type RtmpStats } from './stats';
import { RtmpSession, type SessionEvent, type SessionTimers } from './session';
import { RtmpTransport, defaultSocketFactory, type DropEvent, type RtmpSocket, type SocketFactory } from './transport';

import type { LogLevel } from '../types';
export type { LogLevel };
export { defaultSocketFactory };
export type { DropEvent, RtmpSocket, SocketFactory };

/** A log line of the publisher, as the firmware prints it (`<level>/<module> <text>`). */
export interface RtmpLogEvent {
  level: LogLevel;
  /** the firmware module that prints it: 'rtmp_push' */
  module: string;
  text: string;
}

const LOG_MODULE = 'rtmp_push';

export interface RtmpPublisherOptions {
  /** how to open the TCP connection (default net.connect); lets a network model route it */
  connect?: SocketFactory;
  /** timeout of every protocol step (TCP connect, handshake, each command), default 5000 ms */
  timeoutMs?: number;
  /** our outgoing chunk size, announced with Set Chunk Size (default 4096) */
  chunkSize?: number;
  /** `flashVer` in the connect command */
  flashVer?: string;
  /** encoder name in onMetaData when VideoStreamInfo.encoder is not set */
  encoder?: string;
  /** stream parameters for onMetaData (can also be set later with setStreamInfo) */
  streamInfo?: VideoStreamInfo;
  /** publish automatically as soon as the server accepted connect (default false: call start()) */
  autoPublish?: boolean;
  /** congestion drop threshold in media ms (default 700) */
  dropThresholdMs?: number;
  /** byte cap of the send queue (default 4 MiB) */
  maxQueueBytes?: number;
  /** stats log/event period (default 10000 ms, 0 = off) */
  statsIntervalMs?: number;
  /** sliding window of `windowKbps` (default 5000 ms) */
  statsWindowMs?: number;
  /** timestamp of the first frame of each publish (default 0); tests use it to cross 2^24 */
  timestampBase?: number;
  /** fmt 1/2 chunk headers when possible (default true) */
  compressHeaders?: boolean;
  /** largest message accepted from the server (default 16 MiB) */
  maxMessageSize?: number;
  /** clock (default Date.now) */
  now?: () => number;
  /** timers of the protocol steps' timeouts (default the global setTimeout/clearTimeout) */
  timers?: SessionTimers;
}

export class RtmpPublisher extends EventEmitter {
  readonly url: RtmpUrl;
  private readonly opts: Required<Omit<RtmpPublisherOptions, 'streamInfo' | 'connect' | 'timers'>>;
  private readonly timers: SessionTimers | undefined;
  private streamInfo: VideoStreamInfo | undefined;

  private _state: RtmpState = RtmpState.IDLE;
  /** the protocol core of the current connection (a new one per connect()) */
  private session: RtmpSession | undefined;
  private readonly transport: RtmpTransport;
  private closeTimer: NodeJS.Timeout | undefined;
  /** connection generation: callbacks of an old connection are ignored */
  private gen = 0;
  private destroyed = false;
  private faulting = false;

  // publish
  private wantPublish: boolean;
  private readonly packetizer = new AvcPacketizer();
  private firstDts: number | undefined;
  private lastTs = 0;
  private haveKey = false;

  constructor(url: string, options: RtmpPublisherOptions = {}) {
    super();
    this.url = parseRtmpUrl(url);
    const chunkSize = options.chunkSize ?? 4096;
    if (!Number.isInteger(chunkSize) || chunkSize < 128 || chunkSize > 0xffffff) {
      throw new RtmpError(RtmpErrorCode.INVALID_PARAM, `chunkSize must be an integer 128..16777215 (got ${chunkSize})`);
    }
    const timeoutMs = options.timeoutMs ?? 5000;
    if (!(timeoutMs > 0)) throw new RtmpError(RtmpErrorCode.INVALID_PARAM, `timeoutMs must be > 0 (got ${timeoutMs})`);
    this.opts = {
      timeoutMs,
      chunkSize,
      flashVer: options.flashVer ?? 'FMLE/3.0 (compatible; luatos-pc)',
      encoder: options.encoder ?? 'LuatOS RTMP',
      autoPublish: options.autoPublish ?? false,
      dropThresholdMs: options.dropThresholdMs ?? 700,
      maxQueueBytes: options.maxQueueBytes ?? 4 * 1024 * 1024,
      statsIntervalMs: options.statsIntervalMs ?? 10000,
      statsWindowMs: options.statsWindowMs ?? 5000,
      timestampBase: options.timestampBase ?? 0,
      compressHeaders: options.compressHeaders ?? true,
      maxMessageSize: options.maxMessageSize ?? 16 * 1024 * 1024,
      now: options.now ?? Date.now,
    };
    this.timers = options.timers;
    this.streamInfo = options.streamInfo;
    this.wantPublish = this.opts.autoPublish;
    this.transport = new RtmpTransport(
      {
        factory: options.connect ?? defaultSocketFactory,
        now: this.opts.now,
        dropThresholdMs: this.opts.dropThresholdMs,
        maxQueueBytes: this.opts.maxQueueBytes,
        statsWindowMs: this.opts.statsWindowMs,
      },
      {
        writeMedia: (q) => this.session?.sendMessage(q.msg, q.dts) ?? 0,
        drop: (ev) => {
          if (this.listenerCount('drop') > 0) this.emit('drop', ev);
        },
        log: (level, text) => this.log(level, text),
      },
    );
  }

  // ------------------------------------------------------------------------------ public API

  get state(): RtmpState {
    return this._state;
  }

  getState(): RtmpState {
    return this._state;
  }

  /** Message stream id returned by createStream (0 before). */
  get streamId(): number {
    return this.session?.streamId ?? 0;
  }

  setStreamInfo(info: VideoStreamInfo | undefined): void {
    this.streamInfo = info;
    this.session?.setStreamInfo(info);
  }

  /**
   * Start connecting (async). Returns false when the publisher is destroyed or a connection is
   * already open or in progress (state not IDLE/ERROR). Progress is reported by 'state' events.
   */
  connect(): boolean {
    if (this.destroyed) return false;
    if (this.faulting || (this._state !== RtmpState.IDLE && this._state !== RtmpState.ERROR)) {
      this.log('W', `RTMP: connect() ignored in state ${this._state}`);
      return false;
    }
    const gen = ++this.gen;
    this.resetConnection();
    const session = this.session!;
    this.setState(RtmpState.CONNECTING);
    this.log('I', `RTMP: Connecting to ${this.url.host}:${this.url.port} (app=${this.url.app})`);
    this.transport.startStats(this.opts.statsIntervalMs, () => {
      const s = this.getStats();
      this.log('I', formatStatsLine(s));
      this.emit('stats', s);
    });
    try {
      this.transport.open(this.url.host, this.url.port, {
        connect: () => this.onTcpConnect(gen),
        data: (d) => {
          if (gen === this.gen && !this.faulting) session.receive(d);
        },
        error: (err) => this.onSocketError(gen, err),
        close: () => this.onSocketClose(gen),
      });
    } catch (e) {
      // report asynchronously so connect() keeps returning before the fault events
      const msg = (e as Error)?.message ?? String(e);
      setImmediate(() => {
        if (gen === this.gen) this.fault(RtmpErrorCode.CONNECT_FAILED, `TCP connect failed: ${msg}`);
      });
      return true;
    }
    session.awaitTransport();
    return true;
  }

  /**
   * Publish (now if the connection is accepted, otherwise as soon as it is). Returns false when
   * destroyed. Idempotent.
   */
  start(): boolean {
    if (this.destroyed) return false;
    this.wantPublish = true;
    if (this._state === RtmpState.CONNECTED && !this.publishing) this.beginPublish();
    return true;
  }

  /**
   * Stop publishing but keep the connection: FCUnpublish + deleteStream, queued media discarded,
   * state back to CONNECTED. Returns false when not publishing or connecting to publish.
   */
  stop(): boolean {
    if (this.destroyed) return false;
    this.wantPublish = false;
    if (!this.publishing) return false;
    this.endPublish('stopped');
    if (this._state === RtmpState.PUBLISHING) this.setState(RtmpState.CONNECTED);
    else this.session?.clearStep();
    return true;
  }

  /**
   * Close the connection: DISCONNECTING (when a connection exists) → IDLE. Queued media is
   * discarded; FCUnpublish/deleteStream are sent first when publishing. Returns false when there
   * is nothing to disconnect.
   */
  disconnect(): boolean {
    if (this.destroyed) return false;
    this.wantPublish = this.opts.autoPublish;
    if (this._state === RtmpState.IDLE || this._state === RtmpState.ERROR || this._state === RtmpState.DISCONNECTING) {
      return false;
    }
    this.closeConnection(true);
    return true;
  }

  /** Close everything and release all resources; the object cannot be used afterwards. */
  destroy(): void {
    if (this.destroyed) return;
    if (this._state !== RtmpState.IDLE && this._state !== RtmpState.ERROR && this._state !== RtmpState.DISCONNECTING) {
      this.closeConnection(false);
    } else if (this.transport.hasSocket) {
      this.transport.detach();
    }
    this.destroyed = true;
    this.invalidate();
    this.clearAllTimers();
    this.transport.clearQueue();
  }

  /**
   * Send one H.264 access unit (Annex-B). Returns 0 when accepted (queued or sent; also when the
   * congestion policy dropped it), −1 when not publishing, −2 for an invalid frame.
   */
  pushVideo(frame: EncodedVideoFrame): RtmpErrorCode {
    if (this._state !== RtmpState.PUBLISHING || !this.session) return RtmpErrorCode.FAILED;
    if (!frame || !Buffer.isBuffer(frame.data) || !Number.isFinite(frame.dts)) return RtmpErrorCode.INVALID_PARAM;
    let packet;
    try {
      packet = this.packetizer.packetize(frame);
    } catch (e) {
      this.log('W', `RTMP: bad video frame: ${(e as Error).message}`);
      return RtmpErrorCode.INVALID_PARAM;
    }
    if (!this.haveKey) {
      if (!packet.keyframe || !this.packetizer.hasConfig) {
        if (packet.tag) {
          this.transport.noteDrop('video', packet.keyframe, 0, packet.tag.length, 'no-keyframe-yet');
          const dropped = this.transport.st.droppedFrames;
          if (dropped === 1 || dropped % 100 === 0) {
            this.log('W', 'RTMP: waiting for the first key frame (with SPS/PPS), frame dropped');
          }
        }
        return RtmpErrorCode.OK;
      }
      this.haveKey = true;
    }
    if (this.firstDts === undefined) this.firstDts = frame.dts;
    let ts = this.opts.timestampBase + Math.round(frame.dts - this.firstDts);
    if (ts < this.lastTs) {
      this.log('W', `RTMP: non-monotonic dts ${frame.dts} (timestamp ${ts} < ${this.lastTs}), clamped`);
      ts = this.lastTs;
    }
    this.lastTs = ts;
    const now = this.opts.now();
    const session = this.session;
    if (packet.sequenceHeader) {
      this.log('D', `RTMP: AVC sequence header queued (${packet.sequenceHeader.length} bytes)`);
      this.enqueue({ kind: 'video-config', key: true, dts: ts, queuedAt: now, msg: session.videoMessage(packet.sequenceHeader, ts) });
    }
    if (packet.tag) {
      if (packet.keyframe) this.log('I', `RTMP: Sending IDR frame, len=${packet.tag.length - 5}`);
      this.enqueue({ kind: 'video', key: packet.keyframe, dts: ts, queuedAt: now, msg: session.videoMessage(packet.tag, ts) });
    }
    this.transport.flush();
    return RtmpErrorCode.OK;
  }

  getStats(): RtmpStats {
    const f = this.transport.figures(this.opts.now());
    return {
      ...this.transport.st,
      queueBytes: f.queueBytes,
      queueMs: f.queueMs,
      queueLength: f.queueLength,
      avgKbps: f.avgKbps,
      windowKbps: f.windowKbps,
      connectionTimeMs: f.connectionTimeMs,
      bytesReceived: this.session?.bytesIn ?? 0,
    };
  }

  /** The firmware's stats line: `RTMP stats: total=… kB packets=… I=… (…kB) P=… … win=… kbps`. */
  statsLine(): string {
    return formatStatsLine(this.getStats());
  }

  // ------------------------------------------------------------------------------ internals

  private get publishing(): boolean {
    return this.session?.publishing ?? false;
  }

  private log(level: LogLevel, text: string): void {
    if (this.listenerCount('log') > 0) {
      const ev: RtmpLogEvent = { level, module: LOG_MODULE, text };
      this.emit('log', ev);
    }
  }

  private setState(s: RtmpState, code?: RtmpErrorCode, reason?: string): void {
    const old = this._state;
    if (old === s) return;
    this._state = s;
    this.log('I', `RTMP: State changed from ${old} to ${s}`);
    if (s === RtmpState.CONNECTED) this.transport.markConnected();
    if (s === RtmpState.IDLE || s === RtmpState.ERROR) this.transport.markDisconnected();
    if (code !== undefined) this.emit('state', s, old, code, reason);
    else this.emit('state', s, old);
  }

  /** Everything the current connection still reports is ignored from now on. */
  private invalidate(): void {
    this.gen++;
    this.session?.close();
  }

  private resetConnection(): void {
    this.session?.close();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.transport.reset();
    const gen = this.gen;
    this.session = new RtmpSession(
      {
        url: this.url,
        timeoutMs: this.opts.timeoutMs,
        chunkSize: this.opts.chunkSize,
        flashVer: this.opts.flashVer,
        encoder: this.opts.encoder,
        streamInfo: this.streamInfo,
        compressHeaders: this.opts.compressHeaders,
        maxMessageSize: this.opts.maxMessageSize,
        now: this.opts.now,
        timers: this.timers,
      },
      {
        write: (bytes, mediaDts) => {
          this.transport.write(bytes, mediaDts);
        },
        log: (level, text) => this.log(level, text),
        event: (ev) => {
          if (gen === this.gen) this.onSessionEvent(ev);
        },
      },
    );
    this.faulting = false;
    this.resetPublishState();
  }

  private onSessionEvent(ev: SessionEvent): void {
    switch (ev.type) {
      case 'state':
        this.setState(ev.state);
        if (ev.state === RtmpState.CONNECTED && this.wantPublish && this._state === RtmpState.CONNECTED && !this.publishing) this.beginPublish();
        return;
      case 'publish-start':
        this.resetPublishState();
        return;
      case 'error':
        this.fault(ev.code, ev.reason);
        return;
      case 'ack':
        this.transport.st.acksSent++;
        return;
      case 'command':
        return;
    }
  }

  private resetPublishState(): void {
    this.transport.resetMedia();
    this.packetizer.reset();
    this.firstDts = undefined;
    this.lastTs = 0;
    this.haveKey = false;
  }

  private clearAllTimers(): void {
    this.session?.clearStep();
    this.transport.stopStats();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
  }

  private beginPublish(): void {
    this.session?.publish();
  }

  private endPublish(reason: DropEvent['reason']): void {
    const wasPublishing = this._state === RtmpState.PUBLISHING;
    this.transport.discardQueue(reason);
    this.session?.unpublish(this.transport.alive);
    if (wasPublishing) this.resetPublishState();
  }

  private enqueue(item: QueuedMedia): void {
    this.transport.enqueue(item);
  }

  private onTcpConnect(gen: number): void {
    if (gen !== this.gen || !this.session || this._state !== RtmpState.CONNECTING) return;
    this.log('D', `RTMP: TCP connected to ${this.url.host}:${this.url.port}`);
    this.session.transportConnected();
  }

  private onSocketError(gen: number, err: Error): void {
    if (gen !== this.gen) return;
    if (this._state === RtmpState.DISCONNECTING && !this.faulting) {
      this.finishDisconnect();
      return;
    }
    const code = (err as NodeJS.ErrnoException).code;
    const text = `${code ? code + ': ' : ''}${err.message}`;
    if (!this.transport.tcpUp) this.fault(RtmpErrorCode.CONNECT_FAILED, `TCP connect to ${this.url.host}:${this.url.port} failed: ${text}`);
    else if (this._state === RtmpState.HANDSHAKING && !this.session?.handshakeDone) this.fault(RtmpErrorCode.HANDSHAKE_FAILED, `connection lost during handshake: ${text}`);
    else this.fault(RtmpErrorCode.NETWORK, `network error: ${text}`);
  }

  private onSocketClose(gen: number): void {
    if (gen !== this.gen) return;
    if (this._state === RtmpState.DISCONNECTING && !this.faulting) {
      this.finishDisconnect();
      return;
    }
    if (!this.transport.tcpUp) this.fault(RtmpErrorCode.CONNECT_FAILED, `TCP connect to ${this.url.host}:${this.url.port} failed: connection closed`);
    else if (this._state === RtmpState.HANDSHAKING && !this.session?.handshakeDone) this.fault(RtmpErrorCode.HANDSHAKE_FAILED, 'server closed the connection during the handshake');
    else this.fault(RtmpErrorCode.NETWORK, 'connection closed by the server');
  }

  /** disconnect()/destroy(): DISCONNECTING (if a connection existed) → IDLE. */
  private closeConnection(graceful: boolean): void {
    const gen = this.gen;
    this.session?.clearStep();
    const tcpUp = this.transport.tcpUp;
    if (this.publishing && graceful && tcpUp) this.endPublish('stopped');
    else {
      this.session?.abandonPublish();
      this.resetPublishState();
    }
    if (!this.transport.hasSocket || !tcpUp) {
      // nothing was connected yet
      this.invalidate();
      this.transport.detach();
      this.transport.stopStats();
      this.setState(RtmpState.IDLE);
      return;
    }
    this.setState(RtmpState.DISCONNECTING);
    if (gen !== this.gen || this._state !== RtmpState.DISCONNECTING) return; // a listener acted
    if (graceful) {
      this.transport.end();
      this.closeTimer = setTimeout(() => {
        this.closeTimer = undefined;
        if (gen === this.gen && this._state === RtmpState.DISCONNECTING) this.finishDisconnect();
      }, 1000);
    } else {
      this.finishDisconnect();
    }
  }

  private finishDisconnect(): void {
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.invalidate();
    this.transport.detach();
    this.transport.stopStats();
    this.setState(RtmpState.IDLE);
  }

  /** Any failure: DISCONNECTING (only if a connection existed) → IDLE → ERROR. */
  private fault(code: RtmpErrorCode, reason: string): void {
    if (this.faulting || this.destroyed) return;
    if (this._state === RtmpState.IDLE || this._state === RtmpState.ERROR) return;
    this.faulting = true;
    this.session?.clearStep();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.transport.stopStats();
    this.log('E', `RTMP: ${reason} (error ${code})`);
    const hadConnection = this.transport.tcpUp;
    this.invalidate(); // ignore everything the old connection still reports
    this.transport.detach();
    this.resetPublishState();
    if (hadConnection && this._state !== RtmpState.DISCONNECTING) this.setState(RtmpState.DISCONNECTING, code, reason);
    this.setState(RtmpState.IDLE, code, reason);
    this.faulting = false;
    this.setState(RtmpState.ERROR, code, reason);
  }
}
