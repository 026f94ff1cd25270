/**
 * The RTMP client protocol core, without a socket: bytes in → events and bytes out, timers injected.
 * (The split follows FFmpeg's rtmpproto vs its tcp transport and node-media-server's socket-free
 * protocol layer; the code is ours.)
 *
 *   awaitTransport()       the transport is opening: step timeout 'TCP connect'
 *   transportConnected()   C0+C1 out, state HANDSHAKING
 *   receive(bytes)         S0+S1 → C2 out; S2 → Set Chunk Size + `connect` (tx 1) out;
 *                          `_result` → state CONNECTED
 *   publish()              releaseStream (tx 2) + FCPublish (tx 3) + createStream (tx 4) → stream
 *                          id from the `_result` → publish (tx 5) → onStatus NetStream.Publish.Start
 *                          → 'publish-start' event, @setDataFrame onMetaData out → state PUBLISHING
 *   sendMessage(msg, dts)  any message (media included) through the one chunk writer
 *   unpublish(send)        FCUnpublish + deleteStream (when `send`), back to not publishing
 *
 * Flow control on the way: Window Acknowledgement Size answered with our own, Acknowledgements
 * when the server's window is reached (and a few early ones, see receiveChunks), Ping answered.
 * Every step has a timeout (the injected timers); a timeout, a server rejection or malformed input
 * is an 'error' event with the firmware's error code and the reason. After close() the session
 * does nothing: no events, no output, timers cleared.
 *
 * The owner (RtmpPublisher) maps the events to its states, owns the transport (socket, send queue,
 * stats) and decides what a fault does to the connection. Log texts and levels are the firmware's
 * rtmp_push lines, handed to the host's `log`.
 */
import type { LogLevel, VideoStreamInfo } from '../types';
import { RtmpError, RtmpErrorCode, RtmpState } from './errors';
import type { RtmpUrl } from './url';
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

/** Timers the session uses for its step timeouts (default: the global ones). */
export interface SessionTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const defaultTimers: SessionTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** What the session reports. */
export type SessionEvent =
  /** the protocol reached HANDSHAKING, CONNECTED (`code`: the connect _result's code) or PUBLISHING */
  | { type: 'state'; state: RtmpState.HANDSHAKING | RtmpState.CONNECTED | RtmpState.PUBLISHING; code?: string }
  /** NetStream.Publish.Start arrived: the owner resets its media state before onMetaData goes out */
  | { type: 'publish-start' }
  /** a fault: the connection is unusable */
  | { type: 'error'; code: RtmpErrorCode; reason: string }
  /** a command from the server (name, transaction id; onStatus with its code) */
  | { type: 'command'; name: string; txId: number; code?: string }
  /** we sent an Acknowledgement of `bytes` received (`early`: while a command answer was pending) */
  | { type: 'ack'; bytes: number; early: boolean };

export interface SessionHost {
  /** bytes for the wire; `mediaDts` marks a media message (the transport tracks it until flushed) */
  write(bytes: Buffer, mediaDts?: number): void;
  log(level: LogLevel, text: string): void;
  event(ev: SessionEvent): void;
}

export interface RtmpSessionOptions {
  url: RtmpUrl;
  /** step timeout (ms) */
  timeoutMs: number;
  /** our outgoing chunk size, announced with Set Chunk Size */
  chunkSize: number;
  flashVer: string;
  /** encoder name in onMetaData when the stream info names none */
  encoder: string;
  streamInfo?: VideoStreamInfo;
  compressHeaders: boolean;
  /** largest message accepted from the server */
  maxMessageSize: number;
  /** clock for the handshake's C1 time field */
  now: () => number;
  timers?: SessionTimers;
}

interface Pending {
  name: string;
  resolve: (cmd: ParsedCommand) => void;
  reject: (cmd: ParsedCommand) => void;
}

export const TX = { CONNECT: 1, RELEASE_STREAM: 2, FC_PUBLISH: 3, CREATE_STREAM: 4, PUBLISH: 5 } as const;

export class RtmpSession {
  private readonly timers: SessionTimers;
  private handshake: ClientHandshake | undefined;
  private readonly writer: ChunkWriter;
  private readonly reader: ChunkReader;
  private readonly pending = new Map<number, Pending>();
  private nextTx = 6;
  private stepTimer: unknown;
  private _closed = false;
  private _publishing = false;
  /** NetStream.Publish.Start seen for the current publish sequence */
  private started = false;
  private msgStreamId = 0;
  private streamInfo: VideoStreamInfo | undefined;
  /** bytes handed to host.write (decides whether a read was answered, see receiveChunks) */
  private bytesOut = 0;

  // server-side flow control
  private serverWindow = 0;
  private sentOwnWindow = false;
  private lastAckAt = 0;
  /** early Acknowledgements sent while a command answer was pending (bounded, see receiveChunks) */
  private earlyAcks = 0;

  constructor(
    private readonly opts: RtmpSessionOptions,
    private readonly host: SessionHost,
  ) {
    this.timers = opts.timers ?? defaultTimers;
    this.streamInfo = opts.streamInfo;
    this.writer = new ChunkWriter({ compressHeaders: opts.compressHeaders });
    this.reader = new ChunkReader({ maxMessageSize: opts.maxMessageSize });
  }

  /** publish sequence started (publish() called, not yet unpublished) */
  get publishing(): boolean {
    return this._publishing;
  }

  /** message stream id from createStream (0 before) */
  get streamId(): number {
    return this.msgStreamId;
  }

  /** bytes received after the handshake (chunk stream bytes) */
  get bytesIn(): number {
    return this.reader.bytesIn;
  }

  get handshakeDone(): boolean {
    return this.handshake?.done ?? false;
  }

  get closed(): boolean {
    return this._closed;
  }

  setStreamInfo(info: VideoStreamInfo | undefined): void {
    this.streamInfo = info;
  }

  /** The transport is opening the connection: the 'TCP connect' step timeout runs. */
  awaitTransport(): void {
    this.armStep('TCP connect');
  }

  /** The transport is connected: C0+C1 out, HANDSHAKING. */
  transportConnected(): void {
    if (this._closed) return;
    this.handshake = new ClientHandshake(this.opts.now);
    this.host.log('I', 'RTMP: Sending handshake (C0+C1)...');
    this.write(this.handshake.start());
    this.host.event({ type: 'state', state: RtmpState.HANDSHAKING });
    this.armStep('handshake (S0+S1)');
  }

  /** Bytes from the server. Malformed input becomes an 'error' event, never an exception. */
  receive(data: Buffer): void {
    if (this._closed) return;
    try {
      if (this.handshake && !this.handshake.done) {
        for (const step of this.handshake.feed(data)) {
          if (step.kind === 'send-c2') {
            this.host.log('I', 'RTMP: Received complete S0+S1 (1537 bytes), sending C2...');
            this.write(step.c2);
            this.host.log('I', `RTMP: C2 sent successfully (exactly ${HANDSHAKE_SIZE} bytes, S1 echo)`);
            this.armStep('handshake (S2)');
          } else if (step.kind === 'done') {
            // the device's words; it counts the bytes of its first read after C2, we count S2
            this.host.log('I', `RTMP: Received ${HANDSHAKE_SIZE} bytes after C2, handshake confirmed`);
            this.afterHandshake();
            if (step.rest.length > 0 && !this._closed) this.receiveChunks(step.rest);
          }
        }
        return;
      }
      this.receiveChunks(data);
    } catch (e) {
      if (this._closed) return;
      if (e instanceof RtmpError) this.error(e.code, e.message);
      else this.error(RtmpErrorCode.FAILED, `protocol error: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  /** Start the publish sequence (releaseStream, FCPublish, createStream → publish). */
  publish(): void {
    if (this._closed || this._publishing) return;
    this._publishing = true;
    const stream = this.opts.url.stream;
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
          this.error(RtmpErrorCode.FAILED, 'createStream: no stream id in the _result');
          return;
        }
        this.msgStreamId = id;
        this.host.log('D', `RTMP: createStream returned stream id ${id}`);
        this.expect(TX.PUBLISH, 'publish', ignore, (c) => this.error(RtmpErrorCode.FAILED, `publish failed: ${describeStatus(statusInfo(c))}`));
        this.sendCommand('publish', TX.PUBLISH, [null, stream, 'live'], id, CSID.STREAM_COMMAND);
        this.armStep('publish (NetStream.Publish.Start)');
      },
      (cmd) => this.error(RtmpErrorCode.FAILED, `createStream failed: ${describeStatus(statusInfo(cmd))}`),
    );
    this.sendCommand('createStream', TX.CREATE_STREAM, [null]);
    this.armStep('createStream');
  }

  /**
   * End the publish sequence: FCUnpublish + deleteStream when a stream exists and `sendCommands`
   * (the connection is still writable), stream id back to 0, outstanding publish answers forgotten.
   */
  unpublish(sendCommands: boolean): void {
    this._publishing = false;
    this.started = false;
    if (this._closed) return;
    if (this.msgStreamId > 0 && sendCommands) {
      this.sendCommand('FCUnpublish', this.nextTx++, [null, this.opts.url.stream]);
      this.sendCommand('deleteStream', this.nextTx++, [null, this.msgStreamId]);
    }
    this.msgStreamId = 0;
    this.pending.delete(TX.CREATE_STREAM);
    this.pending.delete(TX.PUBLISH);
  }

  /** Forget the publish sequence without a word to the server (the connection is going away). */
  abandonPublish(): void {
    this._publishing = false;
    this.started = false;
  }

  /** A video message on the publish stream. */
  videoMessage(payload: Buffer, ts: number): RtmpMessage {
    return { csid: CSID.VIDEO, type: MSG.VIDEO, streamId: this.msgStreamId, timestamp: ts >>> 0, payload };
  }

  /** Encode and write one message; returns its bytes on the wire (0 after close()). */
  sendMessage(msg: RtmpMessage, mediaDts?: number): number {
    if (this._closed) return 0;
    const buf = this.writer.encode(msg);
    this.write(buf, mediaDts);
    return buf.length;
  }

  clearStep(): void {
    if (this.stepTimer !== undefined) this.timers.clearTimeout(this.stepTimer);
    this.stepTimer = undefined;
  }

  /** The connection is gone: no more events or output. */
  close(): void {
    this._closed = true;
    this._publishing = false;
    this.clearStep();
    this.pending.clear();
  }

  // ------------------------------------------------------------------------------ internals

  private write(buf: Buffer, mediaDts?: number): void {
    this.bytesOut += buf.length;
    this.host.write(buf, mediaDts);
  }

  private error(code: RtmpErrorCode, reason: string): void {
    if (this._closed) return;
    this.host.event({ type: 'error', code, reason });
  }

  private armStep(what: string): void {
    this.clearStep();
    if (this._closed) return;
    const h = this.timers.setTimeout(() => {
      if (this.stepTimer !== h) return;
      this.stepTimer = undefined;
      this.error(RtmpErrorCode.TIMEOUT, `timeout: no answer to ${what} within ${this.opts.timeoutMs} ms`);
    }, this.opts.timeoutMs);
    this.stepTimer = h;
  }

  private sendCommand(name: string, txId: number, args: Parameters<typeof commandMessage>[2], streamId = 0, csid: number = CSID.COMMAND): void {
    const msg = commandMessage(name, txId, args, streamId, csid);
    this.sendMessage(msg);
    this.host.log('I', `RTMP: command sent successfully: ${name} (tx_id=${txId}, payload_size=${msg.payload.length} bytes)`);
  }

  private expect(txId: number, name: string, resolve: (c: ParsedCommand) => void, reject: (c: ParsedCommand) => void): void {
    this.pending.set(txId, { name, resolve, reject });
  }

  private afterHandshake(): void {
    // our chunk size first (control chunk stream 2), then connect
    this.sendMessage(setChunkSizeMessage(this.opts.chunkSize));
    this.writer.setChunkSize(this.opts.chunkSize);
    this.host.log('I', `RTMP: Sent setChunkSize: ${this.opts.chunkSize}`);
    const url = this.opts.url;
    const msg = connectCommand(TX.CONNECT, { app: url.app, tcUrl: url.tcUrl, flashVer: this.opts.flashVer });
    this.sendMessage(msg);
    this.host.log('I', `RTMP: command sent successfully: connect (tx_id=${TX.CONNECT}, payload_size=${msg.payload.length} bytes)`);
    this.host.log('I', 'RTMP: Connect command sent successfully');
    this.armStep('connect');
    this.expect(
      TX.CONNECT,
      'connect',
      (cmd) => {
        const info = statusInfo(cmd);
        if (info.code && !/Success/i.test(info.code)) {
          this.error(RtmpErrorCode.CONNECT_FAILED, `connect rejected: ${describeStatus(info)}`);
          return;
        }
        this.clearStep();
        this.host.log('I', `RTMP: Connected (${info.code ?? '_result'})`);
        this.host.event({ type: 'state', state: RtmpState.CONNECTED, code: info.code });
      },
      (cmd) => {
        this.host.log('E', 'RTMP: Connection failed');
        this.error(RtmpErrorCode.CONNECT_FAILED, `connect rejected: ${describeStatus(statusInfo(cmd))}`);
      },
    );
  }

  private receiveChunks(data: Buffer): void {
    const msgs = this.reader.push(data);
    const written = this.bytesOut;
    let controlOnly = msgs.length > 0;
    for (const m of msgs) {
      if (this._closed) return;
      if (m.type > MSG.SET_PEER_BANDWIDTH) controlOnly = false;
      this.onMessage(m);
    }
    if (this._closed) return;
    // Early Acknowledgement while we wait for a command answer. Servers that write each control
    // message separately on a Nagle socket (node-media-server: Window Ack Size, Set Peer
    // Bandwidth, Set Chunk Size, then the connect _result, four writes) hold the next write until
    // the previous segment is ACKed, and our kernel delays that pure ACK ~40 ms. A small RTMP
    // Acknowledgement (bytes received so far, valid at any time) carries the TCP ACK at once.
    // Measured with bench:rtmp: connect()→PUBLISHING against node-media-server went from a
    // ~46 ms median (about half the runs stalled 40 ms before the connect _result) to < 10 ms.
    // Only when this read held nothing but control messages, nothing was written in reply, and
    // an answer is pending; at most 8 per connection.
    if (controlOnly && this.pending.size > 0 && this.bytesOut === written && this.earlyAcks < 8) {
      this.earlyAcks++;
      this.lastAckAt = this.reader.bytesIn;
      this.sendMessage(ackMessage(this.reader.bytesIn));
      this.host.event({ type: 'ack', bytes: this.reader.bytesIn, early: true });
      this.host.log('D', `RTMP: Sent Acknowledgement (${this.reader.bytesIn} bytes received, answer pending)`);
      return;
    }
    // Acknowledgement when the server's window is reached
    if (this.serverWindow > 0 && this.reader.bytesIn - this.lastAckAt >= this.serverWindow) {
      this.lastAckAt = this.reader.bytesIn;
      this.sendMessage(ackMessage(this.reader.bytesIn));
      this.host.event({ type: 'ack', bytes: this.reader.bytesIn, early: false });
      this.host.log('D', `RTMP: Sent Acknowledgement (${this.reader.bytesIn} bytes received)`);
    }
  }

  private onMessage(m: RtmpMessage): void {
    switch (m.type) {
      case MSG.SET_CHUNK_SIZE:
        this.host.log('I', `RTMP: Received Set Chunk Size from server: ${this.reader.chunkSize}`);
        return;
      case MSG.WINDOW_ACK_SIZE:
        if (m.payload.length >= 4) {
          this.serverWindow = m.payload.readUInt32BE(0);
          this.host.log('D', `RTMP: Received Window Acknowledgement Size: ${this.serverWindow}`);
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
        if (m.payload.length >= 4) this.host.log('D', `RTMP: Received Set Peer Bandwidth: ${m.payload.readUInt32BE(0)}`);
        return;
      case MSG.ACK:
        return;
      case MSG.ABORT:
        return;
      case MSG.USER_CONTROL: {
        const ev = parseUserControl(m.payload);
        if (ev?.event === USER_CONTROL.PING_REQUEST && ev.value !== undefined) {
          this.sendMessage(pingResponseMessage(ev.value));
          this.host.log('D', `RTMP: PingRequest ${ev.value} answered`);
        } else if (ev?.event === USER_CONTROL.STREAM_BEGIN) {
          this.host.log('D', `RTMP: StreamBegin ${ev.value ?? ''}`);
        }
        return;
      }
      case MSG.COMMAND_AMF0:
      case MSG.COMMAND_AMF3:
        this.onCommand(parseCommand(m));
        return;
      default:
        this.host.log('D', `RTMP: ignored message type ${m.type} (${m.payload.length} bytes)`);
    }
  }

  private onCommand(cmd: ParsedCommand): void {
    if (cmd.name === '_result' || cmd.name === '_error') {
      const p = this.pending.get(cmd.txId);
      if (!p) {
        this.host.log('D', `RTMP: ${cmd.name} for unknown transaction ${cmd.txId} ignored`);
        return;
      }
      this.pending.delete(cmd.txId);
      this.host.log('D', `RTMP: ${cmd.name} for ${p.name} (tx_id=${cmd.txId})`);
      this.host.event({ type: 'command', name: cmd.name, txId: cmd.txId });
      if (this._closed) return;
      if (cmd.name === '_result') p.resolve(cmd);
      else p.reject(cmd);
      return;
    }
    if (cmd.name === 'onStatus') {
      const info = statusInfo(cmd);
      const code = info.code ?? '';
      this.host.log('D', `RTMP: onStatus ${info.level ?? ''} ${describeStatus(info)}`);
      this.host.event({ type: 'command', name: cmd.name, txId: cmd.txId, code });
      if (this._closed) return;
      if (code === 'NetStream.Publish.Start') {
        this.onPublishStart();
        return;
      }
      if (info.level === 'error' || /(Failed|BadName|Rejected|Error|InvalidArg|Unauthorized)/.test(code)) {
        const prefix = code.startsWith('NetConnection') ? 'connection' : 'publish';
        const errCode = code.startsWith('NetConnection.Connect') ? RtmpErrorCode.CONNECT_FAILED : RtmpErrorCode.FAILED;
        this.error(errCode, `${prefix} failed: ${describeStatus(info)}`);
      }
      return;
    }
    this.host.event({ type: 'command', name: cmd.name, txId: cmd.txId });
    if (this._closed) return;
    if (cmd.name === 'close') {
      this.error(RtmpErrorCode.NETWORK, 'server sent close');
      return;
    }
    // onBWDone, onFCPublish, _checkbw, ...
    this.host.log('D', `RTMP: ignored command ${cmd.name}`);
  }

  private onPublishStart(): void {
    if (!this._publishing || this.started) return;
    this.started = true;
    this.clearStep();
    this.host.event({ type: 'publish-start' });
    if (this._closed || !this._publishing) return;
    const meta = metadataMessage(this.msgStreamId, this.streamInfo, this.opts.encoder);
    this.host.log('I', `RTMP: Metadata payload size: ${meta.payload.length} bytes`);
    this.sendMessage(meta);
    this.host.log('I', 'RTMP: Metadata @setDataFrame sent successfully');
    this.host.log('I', 'RTMP: Metadata sent, ready to send video data');
    this.host.event({ type: 'state', state: RtmpState.PUBLISHING });
  }
}
