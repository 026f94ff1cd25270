/**
 * RTMP publisher: the protocol state machine on top of the pure pieces (url, handshake, chunk
 * writer/reader, AMF0, AVC packetising, send queue, stats).
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
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { EncodedVideoFrame, VideoStreamInfo } from '../types';
import { RtmpError, RtmpErrorCode, RtmpState } from './errors';
import { parseRtmpUrl, type RtmpUrl } from './url';
import { ClientHandshake, HANDSHAKE_SIZE } from './handshake';
import { ChunkWriter } from './chunk-writer';
import { ChunkReader } from './chunk-reader';
import {
  CSID,
  MSG,
  USER_CONTROL,
  ackMessage,
  parseUserControl,
  pingResponseMessage,
  setChunkSizeMessage,
  type RtmpMessage,
  windowAckSizeMessage,
} from './messages';
import {
  commandMessage,
  connectCommand,
  describeStatus,
  metadataMessage,
  parseCommand,
  statusInfo,
  type ParsedCommand,
} from './commands';
import { AvcPacketizer } from './video-packetizer';
import { SendQueue, type MediaKind, type QueuedMedia } from './send-queue';
import { RateWindow, formatStatsLine, type RtmpStats } from './stats';

import type { LogLevel } from '../../core/log';
export type { LogLevel };

/** A log line of the publisher, as the firmware prints it (`<level>/<module> <text>`). */
export interface RtmpLogEvent {
  level: LogLevel;
  /** the firmware module that prints it: 'rtmp_push' */
  module: string;
  text: string;
}

const LOG_MODULE = 'rtmp_push';

/**
 * What the publisher needs from a socket: a Duplex (net.Socket, tls.TLSSocket or a simulated link).
 * If `connecting` is true the publisher waits for 'connect', otherwise it treats it as connected.
 */
export type RtmpSocket = Duplex & {
  connecting?: boolean;
  setNoDelay?: (noDelay?: boolean) => unknown;
};
export type SocketFactory = (host: string, port: number) => RtmpSocket;

export const defaultSocketFactory: SocketFactory = (host, port) => net.connect({ host, port });

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
}

export interface DropEvent {
  kind: MediaKind;
  key: boolean;
  dts: number;
  bytes: number;
  reason: 'congestion' | 'wait-key' | 'overflow' | 'no-keyframe-yet' | 'stopped';
}

interface Pending {
  name: string;
  resolve: (cmd: ParsedCommand) => void;
  reject: (cmd: ParsedCommand) => void;
}

const TX = { CONNECT: 1, RELEASE_STREAM: 2, FC_PUBLISH: 3, CREATE_STREAM: 4, PUBLISH: 5 } as const;

export class RtmpPublisher extends EventEmitter {
  readonly url: RtmpUrl;
  private readonly opts: Required<Omit<RtmpPublisherOptions, 'streamInfo' | 'connect'>>;
  private readonly socketFactory: SocketFactory;
  private streamInfo: VideoStreamInfo | undefined;

  private _state: RtmpState = RtmpState.IDLE;
  private socket: RtmpSocket | undefined;
  /** TCP connection established (decides whether a fault passes through DISCONNECTING) */
  private tcpUp = false;
  private handshake: ClientHandshake | undefined;
  private writer: ChunkWriter;
  private reader: ChunkReader;
  private pending = new Map<number, Pending>();
  private nextTx = 6;
  private stepTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  /** connection generation: callbacks of an old socket are ignored */
  private gen = 0;
  private destroyed = false;
  private faulting = false;

  // publish
  private wantPublish: boolean;
  private publishing = false; // publish sequence started
  private msgStreamId = 0;
  private readonly packetizer = new AvcPacketizer();
  private queue: SendQueue;
  private needDrain = false;
  /** dts of media messages written to the socket whose write callback has not fired yet */
  private unflushed: number[] = [];
  private unflushedHead = 0;
  private unflushedEpoch = 0;
  private firstDts: number | undefined;
  private lastTs = 0;
  private haveKey = false;

  // server-side flow control
  private serverWindow = 0;
  private sentOwnWindow = false;
  private lastAckAt = 0;
  /** early Acknowledgements sent while a command answer was pending (bounded, see onChunks) */
  private earlyAcks = 0;

  // stats
  private st = {
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
  private connectedAt: number | undefined;
  private bytesAtConnected = 0;
  private rate: RateWindow;

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
    this.socketFactory = options.connect ?? defaultSocketFactory;
    this.streamInfo = options.streamInfo;
    this.wantPublish = this.opts.autoPublish;
    this.writer = new ChunkWriter({ compressHeaders: this.opts.compressHeaders });
    this.reader = new ChunkReader({ maxMessageSize: this.opts.maxMessageSize });
    this.queue = new SendQueue({ dropThresholdMs: this.opts.dropThresholdMs, maxQueueBytes: this.opts.maxQueueBytes });
    this.rate = new RateWindow(this.opts.statsWindowMs);
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
    return this.msgStreamId;
  }

  setStreamInfo(info: VideoStreamInfo | undefined): void {
    this.streamInfo = info;
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
    this.setState(RtmpState.CONNECTING);
    this.log('I', `RTMP: Connecting to ${this.url.host}:${this.url.port} (app=${this.url.app})`);
    this.startStatsTimer();
    let sock: RtmpSocket;
    try {
      sock = this.socketFactory(this.url.host, this.url.port);
    } catch (e) {
      // report asynchronously so connect() keeps returning before the fault events
      const msg = (e as Error)?.message ?? String(e);
      setImmediate(() => {
        if (gen === this.gen) this.fault(RtmpErrorCode.CONNECT_FAILED, `TCP connect failed: ${msg}`);
      });
      return true;
    }
    this.socket = sock;
    sock.on('error', (err: Error) => this.onSocketError(gen, err));
    sock.on('close', () => this.onSocketClose(gen));
    sock.on('data', (d: Buffer) => this.onData(gen, d));
    sock.on('drain', () => {
      if (gen !== this.gen) return;
      this.needDrain = false;
      this.flush();
    });
    this.armStep('TCP connect');
    if (sock.connecting) sock.once('connect', () => this.onTcpConnect(gen));
    else setImmediate(() => this.onTcpConnect(gen));
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
    else this.clearStep();
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
    } else if (this.socket) {
      this.socket.destroy();
      this.socket = undefined;
    }
    this.destroyed = true;
    this.gen++;
    this.clearAllTimers();
    this.queue.clear();
  }

  /**
   * Send one H.264 access unit (Annex-B). Returns 0 when accepted (queued or sent; also when the
   * congestion policy dropped it), −1 when not publishing, −2 for an invalid frame.
   */
  pushVideo(frame: EncodedVideoFrame): RtmpErrorCode {
    if (this._state !== RtmpState.PUBLISHING) return RtmpErrorCode.FAILED;
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
          this.noteDrop('video', packet.keyframe, 0, packet.tag.length, 'no-keyframe-yet');
          if (this.st.droppedFrames === 1 || this.st.droppedFrames % 100 === 0) {
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
    if (packet.sequenceHeader) {
      this.log('D', `RTMP: AVC sequence header queued (${packet.sequenceHeader.length} bytes)`);
      this.enqueue({ kind: 'video-config', key: true, dts: ts, queuedAt: now, msg: this.videoMsg(packet.sequenceHeader, ts) });
    }
    if (packet.tag) {
      if (packet.keyframe) this.log('I', `RTMP: Sending IDR frame, len=${packet.tag.length - 5}`);
      this.enqueue({ kind: 'video', key: packet.keyframe, dts: ts, queuedAt: now, msg: this.videoMsg(packet.tag, ts) });
    }
    this.flush();
    return RtmpErrorCode.OK;
  }

  getStats(): RtmpStats {
    const now = this.opts.now();
    const connected = this.connectedAt !== undefined;
    const elapsed = connected ? now - this.connectedAt! : 0;
    const sockPending = this.socket && !this.socket.destroyed ? this.socket.writableLength : 0;
    return {
      ...this.st,
      queueBytes: this.queue.bytes + sockPending,
      queueMs: this.queue.durationMs(this.oldestUnflushedDts()),
      queueLength: this.queue.length,
      avgKbps: connected && elapsed > 0 ? Math.round(((this.st.bytesSent - this.bytesAtConnected) * 8) / elapsed) : 0,
      windowKbps: connected ? this.rate.kbps(now, this.connectedAt!) : 0,
      connectionTimeMs: elapsed,
      bytesReceived: this.reader.bytesIn,
    };
  }

  /** The firmware's stats line: `RTMP stats: total=… kB packets=… I=… (…kB) P=… … win=… kbps`. */
  statsLine(): string {
    return formatStatsLine(this.getStats());
  }

  // ------------------------------------------------------------------------------ internals

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
    if (s === RtmpState.CONNECTED && this.connectedAt === undefined) {
      this.connectedAt = this.opts.now();
      this.bytesAtConnected = this.st.bytesSent;
      this.rate.clear();
    }
    if (s === RtmpState.IDLE || s === RtmpState.ERROR) this.connectedAt = undefined;
    if (code !== undefined) this.emit('state', s, old, code, reason);
    else this.emit('state', s, old);
  }

  private resetConnection(): void {
    this.clearStep();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.tcpUp = false;
    this.handshake = undefined;
    this.writer = new ChunkWriter({ compressHeaders: this.opts.compressHeaders });
    this.reader = new ChunkReader({ maxMessageSize: this.opts.maxMessageSize });
    this.pending.clear();
    this.nextTx = 6;
    this.publishing = false;
    this.msgStreamId = 0;
    this.needDrain = false;
    this.serverWindow = 0;
    this.sentOwnWindow = false;
    this.lastAckAt = 0;
    this.earlyAcks = 0;
    this.faulting = false;
    this.resetPublishState();
  }

  private resetPublishState(): void {
    this.unflushedEpoch++;
    this.unflushed = [];
    this.unflushedHead = 0;
    for (const q of this.queue.clear()) this.noteDrop(q.kind, q.key, q.dts, q.msg.payload.length, 'stopped');
    this.packetizer.reset();
    this.firstDts = undefined;
    this.lastTs = 0;
    this.haveKey = false;
  }

  private armStep(what: string): void {
    this.clearStep();
    const gen = this.gen;
    this.stepTimer = setTimeout(() => {
      this.stepTimer = undefined;
      if (gen !== this.gen) return;
      this.fault(RtmpErrorCode.TIMEOUT, `timeout: no answer to ${what} within ${this.opts.timeoutMs} ms`);
    }, this.opts.timeoutMs);
  }

  private clearStep(): void {
    if (this.stepTimer) clearTimeout(this.stepTimer);
    this.stepTimer = undefined;
  }

  private startStatsTimer(): void {
    if (this.statsTimer || this.opts.statsIntervalMs <= 0) return;
    this.statsTimer = setInterval(() => {
      const s = this.getStats();
      this.log('I', formatStatsLine(s));
      this.emit('stats', s);
    }, this.opts.statsIntervalMs);
    this.statsTimer.unref?.();
  }

  private stopStatsTimer(): void {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = undefined;
  }

  private clearAllTimers(): void {
    this.clearStep();
    this.stopStatsTimer();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
  }

  private oldestUnflushedDts(): number | undefined {
    return this.unflushedHead < this.unflushed.length ? this.unflushed[this.unflushedHead] : undefined;
  }

  /** Write bytes to the socket (counted as bytes on the wire); `mediaDts` tracks media until flushed. */
  private writeRaw(buf: Buffer, mediaDts?: number): boolean {
    const s = this.socket;
    if (!s || s.destroyed || !s.writable) return false;
    this.st.bytesSent += buf.length;
    if (this.connectedAt !== undefined) this.rate.add(this.opts.now(), buf.length);
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

  private sendMessage(msg: RtmpMessage, mediaDts?: number): number {
    const buf = this.writer.encode(msg);
    this.writeRaw(buf, mediaDts);
    return buf.length;
  }

  private sendCommand(name: string, txId: number, args: Parameters<typeof commandMessage>[2], streamId = 0, csid: number = CSID.COMMAND): void {
    const msg = commandMessage(name, txId, args, streamId, csid);
    this.sendMessage(msg);
    this.log('I', `RTMP: command sent successfully: ${name} (tx_id=${txId}, payload_size=${msg.payload.length} bytes)`);
  }

  private expect(txId: number, name: string, resolve: (c: ParsedCommand) => void, reject: (c: ParsedCommand) => void): void {
    this.pending.set(txId, { name, resolve, reject });
  }

  private onTcpConnect(gen: number): void {
    if (gen !== this.gen || !this.socket || this._state !== RtmpState.CONNECTING) return;
    this.tcpUp = true;
    try {
      this.socket.setNoDelay?.(true);
    } catch {
      /* not a TCP socket */
    }
    this.log('D', `RTMP: TCP connected to ${this.url.host}:${this.url.port}`);
    this.handshake = new ClientHandshake(this.opts.now);
    this.log('I', 'RTMP: Sending handshake (C0+C1)...');
    this.writeRaw(this.handshake.start());
    this.setState(RtmpState.HANDSHAKING);
    this.armStep('handshake (S0+S1)');
  }

  private onSocketError(gen: number, err: Error): void {
    if (gen !== this.gen) return;
    if (this._state === RtmpState.DISCONNECTING && !this.faulting) {
      this.finishDisconnect();
      return;
    }
    const code = (err as NodeJS.ErrnoException).code;
    const text = `${code ? code + ': ' : ''}${err.message}`;
    if (!this.tcpUp) this.fault(RtmpErrorCode.CONNECT_FAILED, `TCP connect to ${this.url.host}:${this.url.port} failed: ${text}`);
    else if (this._state === RtmpState.HANDSHAKING && !this.handshake?.done) this.fault(RtmpErrorCode.HANDSHAKE_FAILED, `connection lost during handshake: ${text}`);
    else this.fault(RtmpErrorCode.NETWORK, `network error: ${text}`);
  }

  private onSocketClose(gen: number): void {
    if (gen !== this.gen) return;
    if (this._state === RtmpState.DISCONNECTING && !this.faulting) {
      this.finishDisconnect();
      return;
    }
    if (!this.tcpUp) this.fault(RtmpErrorCode.CONNECT_FAILED, `TCP connect to ${this.url.host}:${this.url.port} failed: connection closed`);
    else if (this._state === RtmpState.HANDSHAKING && !this.handshake?.done) this.fault(RtmpErrorCode.HANDSHAKE_FAILED, 'server closed the connection during the handshake');
    else this.fault(RtmpErrorCode.NETWORK, 'connection closed by the server');
  }

  private onData(gen: number, data: Buffer): void {
    if (gen !== this.gen || this.faulting) return;
    try {
      if (this.handshake && !this.handshake.done) {
        for (const step of this.handshake.feed(data)) {
          if (step.kind === 'send-c2') {
            this.log('I', 'RTMP: Received complete S0+S1 (1537 bytes), sending C2...');
            this.writeRaw(step.c2);
            this.log('I', `RTMP: C2 sent successfully (exactly ${HANDSHAKE_SIZE} bytes, S1 echo)`);
            this.armStep('handshake (S2)');
          } else if (step.kind === 'done') {
            // the device's words; it counts the bytes of its first read after C2, we count S2
            this.log('I', `RTMP: Received ${HANDSHAKE_SIZE} bytes after C2, handshake confirmed`);
            this.afterHandshake();
            if (step.rest.length > 0 && gen === this.gen) this.onChunks(step.rest);
          }
        }
        return;
      }
      this.onChunks(data);
    } catch (e) {
      if (gen !== this.gen) return;
      if (e instanceof RtmpError) this.fault(e.code, e.message);
      else this.fault(RtmpErrorCode.FAILED, `protocol error: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  private afterHandshake(): void {
    // our chunk size first (control chunk stream 2), then connect
    this.sendMessage(setChunkSizeMessage(this.opts.chunkSize));
    this.writer.setChunkSize(this.opts.chunkSize);
    this.log('I', `RTMP: Sent setChunkSize: ${this.opts.chunkSize}`);
    const msg = connectCommand(TX.CONNECT, { app: this.url.app, tcUrl: this.url.tcUrl, flashVer: this.opts.flashVer });
    this.sendMessage(msg);
    this.log('I', `RTMP: command sent successfully: connect (tx_id=${TX.CONNECT}, payload_size=${msg.payload.length} bytes)`);
    this.log('I', 'RTMP: Connect command sent successfully');
    this.armStep('connect');
    this.expect(
      TX.CONNECT,
      'connect',
      (cmd) => {
        const info = statusInfo(cmd);
        if (info.code && !/Success/i.test(info.code)) {
          this.fault(RtmpErrorCode.CONNECT_FAILED, `connect rejected: ${describeStatus(info)}`);
          return;
        }
        this.clearStep();
        this.log('I', `RTMP: Connected (${info.code ?? '_result'})`);
        this.setState(RtmpState.CONNECTED);
        if (this.wantPublish && this._state === RtmpState.CONNECTED && !this.publishing) this.beginPublish();
      },
      (cmd) => {
        this.log('E', 'RTMP: Connection failed');
        this.fault(RtmpErrorCode.CONNECT_FAILED, `connect rejected: ${describeStatus(statusInfo(cmd))}`);
      },
    );
  }

  private onChunks(data: Buffer): void {
    const gen = this.gen;
    const msgs = this.reader.push(data);
    const written = this.st.bytesSent;
    let controlOnly = msgs.length > 0;
    for (const m of msgs) {
      if (gen !== this.gen || this.faulting) return;
      if (m.type > MSG.SET_PEER_BANDWIDTH) controlOnly = false;
      this.onMessage(m);
    }
    if (gen !== this.gen || this.faulting) return;
    // Early Acknowledgement while we wait for a command answer. Servers that write each control
    // message separately on a Nagle socket (node-media-server: Window Ack Size, Set Peer
    // Bandwidth, Set Chunk Size, then the connect _result, four writes) hold the next write until
    // the previous segment is ACKed, and our kernel delays that pure ACK ~40 ms. A small RTMP
    // Acknowledgement (bytes received so far, valid at any time) carries the TCP ACK at once.
    // Measured with bench:rtmp: connect()→PUBLISHING against node-media-server went from a
    // ~46 ms median (about half the runs stalled 40 ms before the connect _result) to < 10 ms.
    // Only when this read held nothing but control messages, nothing was written in reply, and
    // an answer is pending; at most 8 per connection.
    if (controlOnly && this.pending.size > 0 && this.st.bytesSent === written && this.earlyAcks < 8) {
      this.earlyAcks++;
      this.lastAckAt = this.reader.bytesIn;
      this.sendMessage(ackMessage(this.reader.bytesIn));
      this.st.acksSent++;
      this.log('D', `RTMP: Sent Acknowledgement (${this.reader.bytesIn} bytes received, answer pending)`);
      return;
    }
    // Acknowledgement when the server's window is reached
    if (this.serverWindow > 0 && this.reader.bytesIn - this.lastAckAt >= this.serverWindow) {
      this.lastAckAt = this.reader.bytesIn;
      this.sendMessage(ackMessage(this.reader.bytesIn));
      this.st.acksSent++;
      this.log('D', `RTMP: Sent Acknowledgement (${this.reader.bytesIn} bytes received)`);
    }
  }

  private onMessage(m: RtmpMessage): void {
    switch (m.type) {
      case MSG.SET_CHUNK_SIZE:
        this.log('I', `RTMP: Received Set Chunk Size from server: ${this.reader.chunkSize}`);
        return;
      case MSG.WINDOW_ACK_SIZE:
        if (m.payload.length >= 4) {
          this.serverWindow = m.payload.readUInt32BE(0);
          this.log('D', `RTMP: Received Window Acknowledgement Size: ${this.serverWindow}`);
          // Answer at once with our own window: the segment carries the TCP ACK for the server's
          // message. Servers that write control messages separately with Nagle on (node-media-
          // server) otherwise wait ~40 ms for the delayed ACK before Set Peer Bandwidth.
          if (!this.sentOwnWindow) {
            this.sentOwnWindow = true;
            this.sendMessage(windowAckSizeMessage(this.serverWindow));
          }
        }
        return;
      case MSG.SET_PEER_BANDWIDTH:
        if (m.payload.length >= 4) this.log('D', `RTMP: Received Set Peer Bandwidth: ${m.payload.readUInt32BE(0)}`);
        return;
      case MSG.ACK:
        return;
      case MSG.ABORT:
        return;
      case MSG.USER_CONTROL: {
        const ev = parseUserControl(m.payload);
        if (ev?.event === USER_CONTROL.PING_REQUEST && ev.value !== undefined) {
          this.sendMessage(pingResponseMessage(ev.value));
          this.log('D', `RTMP: PingRequest ${ev.value} answered`);
        } else if (ev?.event === USER_CONTROL.STREAM_BEGIN) {
          this.log('D', `RTMP: StreamBegin ${ev.value ?? ''}`);
        }
        return;
      }
      case MSG.COMMAND_AMF0:
      case MSG.COMMAND_AMF3:
        this.onCommand(parseCommand(m));
        return;
      default:
        this.log('D', `RTMP: ignored message type ${m.type} (${m.payload.length} bytes)`);
    }
  }

  private onCommand(cmd: ParsedCommand): void {
    if (cmd.name === '_result' || cmd.name === '_error') {
      const p = this.pending.get(cmd.txId);
      if (!p) {
        this.log('D', `RTMP: ${cmd.name} for unknown transaction ${cmd.txId} ignored`);
        return;
      }
      this.pending.delete(cmd.txId);
      this.log('D', `RTMP: ${cmd.name} for ${p.name} (tx_id=${cmd.txId})`);
      if (cmd.name === '_result') p.resolve(cmd);
      else p.reject(cmd);
      return;
    }
    if (cmd.name === 'onStatus') {
      const info = statusInfo(cmd);
      const code = info.code ?? '';
      this.log('D', `RTMP: onStatus ${info.level ?? ''} ${describeStatus(info)}`);
      if (code === 'NetStream.Publish.Start') {
        this.onPublishStart();
        return;
      }
      if (info.level === 'error' || /(Failed|BadName|Rejected|Error|InvalidArg|Unauthorized)/.test(code)) {
        const prefix = code.startsWith('NetConnection') ? 'connection' : 'publish';
        const errCode = code.startsWith('NetConnection.Connect') ? RtmpErrorCode.CONNECT_FAILED : RtmpErrorCode.FAILED;
        this.fault(errCode, `${prefix} failed: ${describeStatus(info)}`);
      }
      return;
    }
    if (cmd.name === 'close') {
      this.fault(RtmpErrorCode.NETWORK, 'server sent close');
      return;
    }
    // onBWDone, onFCPublish, _checkbw, ...
    this.log('D', `RTMP: ignored command ${cmd.name}`);
  }

  private beginPublish(): void {
    this.publishing = true;
    const stream = this.url.stream;
    const ignore = () => undefined;
    this.expect(TX.RELEASE_STREAM, 'releaseStream', ignore, ignore);
    this.sendCommand('releaseStream', TX.RELEASE_STREAM, [null, stream]);
    this.expect(TX.FC_PUBLISH, 'FCPublish', ignore, ignore);
    this.sendCommand('FCPublish', TX.FC_PUBLISH, [null, stream]);
    this.expect(
      TX.CREATE_STREAM,
      'createStream',
      (cmd) => {
        const id = cmd.args.find((v) => typeof v === 'number');
        if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffffffff) {
          this.fault(RtmpErrorCode.FAILED, 'createStream: no stream id in the _result');
          return;
        }
        this.msgStreamId = id;
        this.log('D', `RTMP: createStream returned stream id ${id}`);
        this.expect(TX.PUBLISH, 'publish', ignore, (c) => this.fault(RtmpErrorCode.FAILED, `publish failed: ${describeStatus(statusInfo(c))}`));
        this.sendCommand('publish', TX.PUBLISH, [null, stream, 'live'], id, CSID.STREAM_COMMAND);
        this.armStep('publish (NetStream.Publish.Start)');
      },
      (cmd) => this.fault(RtmpErrorCode.FAILED, `createStream failed: ${describeStatus(statusInfo(cmd))}`),
    );
    this.sendCommand('createStream', TX.CREATE_STREAM, [null]);
    this.armStep('createStream');
  }

  private onPublishStart(): void {
    if (!this.publishing || this._state === RtmpState.PUBLISHING) return;
    this.clearStep();
    this.resetPublishState();
    const meta = metadataMessage(this.msgStreamId, this.streamInfo, this.opts.encoder);
    this.log('I', `RTMP: Metadata payload size: ${meta.payload.length} bytes`);
    this.sendMessage(meta);
    this.log('I', 'RTMP: Metadata @setDataFrame sent successfully');
    this.log('I', 'RTMP: Metadata sent, ready to send video data');
    this.setState(RtmpState.PUBLISHING);
  }

  private endPublish(reason: DropEvent['reason']): void {
    const wasPublishing = this._state === RtmpState.PUBLISHING;
    this.publishing = false;
    for (const q of this.queue.clear()) this.noteDrop(q.kind, q.key, q.dts, q.msg.payload.length, reason);
    if (this.msgStreamId > 0 && this.socket && !this.socket.destroyed) {
      this.sendCommand('FCUnpublish', this.nextTx++, [null, this.url.stream]);
      this.sendCommand('deleteStream', this.nextTx++, [null, this.msgStreamId]);
    }
    this.msgStreamId = 0;
    this.pending.delete(TX.CREATE_STREAM);
    this.pending.delete(TX.PUBLISH);
    if (wasPublishing) this.resetPublishState();
  }

  private videoMsg(payload: Buffer, ts: number): RtmpMessage {
    return { csid: CSID.VIDEO, type: MSG.VIDEO, streamId: this.msgStreamId, timestamp: ts >>> 0, payload };
  }

  private enqueue(item: QueuedMedia): void {
    const drops = this.queue.enqueue(item, this.oldestUnflushedDts());
    for (const d of drops) {
      this.noteDrop(d.item.kind, d.item.key, d.item.dts, d.item.msg.payload.length, d.reason);
      if (d.reason === 'overflow') {
        this.log('E', `RTMP: Drop frame, queue bytes ${this.queue.bytes} exceed max ${this.queue.maxQueueBytes}`);
      }
    }
  }

  private noteDrop(kind: MediaKind, key: boolean, dts: number, bytes: number, reason: DropEvent['reason']): void {
    if (kind !== 'video' && kind !== 'audio') return;
    this.st.droppedFrames++;
    this.st.droppedBytes += bytes;
    if (this.listenerCount('drop') > 0) this.emit('drop', { kind, key, dts, bytes, reason } satisfies DropEvent);
  }

  /** Hand queued messages to the socket while it accepts them (one write per message). */
  private flush(): void {
    while (!this.needDrain && this.socket && !this.socket.destroyed) {
      const q = this.queue.shift();
      if (!q) return;
      const n = this.sendMessage(q.msg, q.dts);
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

  /** disconnect()/destroy(): DISCONNECTING (if a connection existed) → IDLE. */
  private closeConnection(graceful: boolean): void {
    const gen = this.gen;
    this.clearStep();
    const sock = this.socket;
    if (this.publishing && graceful && this.tcpUp) this.endPublish('stopped');
    else {
      this.publishing = false;
      this.resetPublishState();
    }
    if (!sock || !this.tcpUp) {
      // nothing was connected yet
      this.gen++;
      sock?.destroy();
      this.socket = undefined;
      this.stopStatsTimer();
      this.setState(RtmpState.IDLE);
      return;
    }
    this.setState(RtmpState.DISCONNECTING);
    if (gen !== this.gen || this._state !== RtmpState.DISCONNECTING) return; // a listener acted
    if (graceful) {
      sock.end();
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
    this.gen++;
    const sock = this.socket;
    this.socket = undefined;
    sock?.destroy();
    this.tcpUp = false;
    this.stopStatsTimer();
    this.setState(RtmpState.IDLE);
  }

  /** Any failure: DISCONNECTING (only if a connection existed) → IDLE → ERROR. */
  private fault(code: RtmpErrorCode, reason: string): void {
    if (this.faulting || this.destroyed) return;
    if (this._state === RtmpState.IDLE || this._state === RtmpState.ERROR) return;
    this.faulting = true;
    this.clearStep();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.stopStatsTimer();
    this.log('E', `RTMP: ${reason} (error ${code})`);
    const hadConnection = this.tcpUp;
    this.gen++; // ignore everything the old socket still reports
    const sock = this.socket;
    this.socket = undefined;
    this.tcpUp = false;
    this.publishing = false;
    this.resetPublishState();
    sock?.destroy();
    if (hadConnection && this._state !== RtmpState.DISCONNECTING) this.setState(RtmpState.DISCONNECTING, code, reason);
    this.setState(RtmpState.IDLE, code, reason);
    this.faulting = false;
    this.setState(RtmpState.ERROR, code, reason);
  }
}
