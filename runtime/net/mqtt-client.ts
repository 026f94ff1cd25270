/**
 * The MQTT 3.1.1 client core behind the `mqtt` binding (luatos-api-2.md §5). No Lua here: it
 * emits typed `MqttEvent`s in the order the firmware queues them, and the binding turns them
 * into callback calls. The wire format is `mqtt-packet` (the codec of MQTT.js); what is ours is
 * only the firmware's client state machine, which no library reproduces:
 *
 * - states 0 DISCONNECT, 1 SCONNECT (TCP/TLS connecting), 2 MQTT (CONNECT sent, waiting for
 *   CONNACK), 3 READY; no client-side resend or queue;
 * - failure order: network error / remote close → `error(connect|tx|other, 0)`, `disconnect`,
 *   then `close` (or one reconnect timer); CONNACK refused → `disconnect`, [`close`],
 *   `error("conack", code)`; CONNACK timeout → `error("timeout", 0)`, `disconnect`, [`close`];
 *   a close while already in state 0 is silent;
 * - protocol errors → `error("connect", code)`: 96 packet before CONNACK, 95 second CONNACK,
 *   98 bad QoS, 99 topic length 0 or > 4096 / payload > 256 KiB, 100 malformed packet;
 * - the receive buffer is bounded (`rxMax`, the firmware's MQTT_RECV_BUF_LEN_MAX): unread bytes
 *   beyond it close the socket with no `error` event (`too many data wait for recv N`);
 * - keepalive: PINGREQ every keepalive*3/4 s after CONNACK, no pong timeout;
 * - message ids 1..65535 from one counter (0 skipped), reset to 1 by `resetIds()` (auth).
 *
 * Choices where the firmware facts are unsure (tested in test/mqtt):
 * - the CONNACK timer (`connTimeoutMs`) runs from `connect()` (covers TCP, TLS and CONNACK);
 * - a failure before the session is up is reported as `error("connect", 0)`, a remote close or
 *   reset afterwards as `error("other", 0)`, a failed write as `error("tx", 0)`;
 * - unsent bytes are bounded by `txMax` (the device's TCP send window; we use 256 KiB): a write
 *   beyond it fails as a short `network_tx` does on the device (close, `error("tx", 0)`);
 * - `connect()` while not in state 0 returns false.
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import * as mqttPacket from 'mqtt-packet';
import type { LogLevel } from '../core/log';

export const MQTT_STATE = { DISCONNECT: 0, SCONNECT: 1, MQTT: 2, READY: 3 } as const;
/** error_state of `disconnect`: the server sent DISCONNECT */
export const ERROR_STATE_DISCONNECT = -2;
export const MAX_TOPIC_LEN = 4096;
export const MAX_PAYLOAD_LEN = 256 * 1024;
export const DEFAULT_TX_MAX = 256 * 1024;

export type MqttEvent =
  | { type: 'conack' }
  | { type: 'recv'; topic: Buffer; payload: Buffer; messageId: number; qos: number; retain: number; dup: number }
  | { type: 'sent'; id: number }
  | { type: 'suback'; ok: boolean; code: number }
  | { type: 'unsuback' }
  | { type: 'pong' }
  | { type: 'disconnect'; errorState: number }
  | { type: 'close' }
  | { type: 'error'; kind: 'connect' | 'tx' | 'conack' | 'other' | 'timeout'; code: number };

export interface MqttTlsOptions {
  /** 0 none, 1 optional, 2 required */
  verify: number;
  ca?: string;
  cert?: string;
  key?: string;
  passphrase?: string;
}

export interface MqttTimers {
  setTimer(ms: number, fn: () => void): unknown;
  clearTimer(h: unknown): void;
}

export interface MqttCoreOptions {
  host: string;
  port: number;
  /** opens the TCP connection (the device network: mapping, adapter, link loss) */
  openTcp: () => Promise<net.Socket>;
  tls?: MqttTlsOptions | null;
  timers: MqttTimers;
  /** receive buffer bytes */
  rxMax: number;
  txMax?: number;
  /** wait for CONNACK, ms */
  connTimeoutMs: number;
}

export interface MqttWill {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
}

function varintLen(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

/** Send what is queued (a corked DISCONNECT included), FIN, then release the socket. */
function flushAndClose(s: net.Socket): void {
  while (s.writableCorked) s.uncork();
  s.end();
  const t = setTimeout(() => s.destroy(), 1000);
  s.once('close', () => clearTimeout(t));
}

// typed events on the class (declaration merging, the usual EventEmitter pattern)
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export declare interface MqttClientCore {
  on(ev: 'event', fn: (e: MqttEvent) => void): this;
  on(ev: 'log', fn: (level: LogLevel, msg: string) => void): this;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class MqttClientCore extends EventEmitter {
  state: number = MQTT_STATE.DISCONNECT;
  errorState = 0;
  keepalive = 240;
  clientId = '';
  username = '';
  password = '';
  clean = false;
  will: MqttWill | null = null;
  /** reconnect delay in ms; 0 = off */
  reconnectMs = 0;
  debug = false;

  private nextId = 1;
  private sock: net.Socket | null = null;
  private gen = 0;
  private closed = false;
  private pending = 0;
  private burst = false;
  private pingTimer: unknown = null;
  private connTimer: unknown = null;
  private reconnTimer: unknown = null;

  constructor(readonly opts: MqttCoreOptions) {
    super();
  }

  resetIds(): void {
    this.nextId = 1;
  }

  private takeId(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 65535 ? 1 : this.nextId + 1;
    return id;
  }

  private ev(e: MqttEvent): void {
    if (!this.closed) this.emit('event', e);
  }

  private log(level: LogLevel, msg: string): void {
    if (!this.closed) this.emit('log', level, msg);
  }

  /** Start connecting; false when not in state 0 or destroyed. */
  connect(): boolean {
    if (this.closed || this.state !== MQTT_STATE.DISCONNECT) return false;
    const t = this.opts.timers;
    t.clearTimer(this.reconnTimer);
    this.reconnTimer = null;
    const gen = ++this.gen;
    this.errorState = 0;
    this.pending = 0;
    this.state = MQTT_STATE.SCONNECT;
    if (this.debug) this.log('D', `host ${this.opts.host} port ${this.opts.port} keepalive ${this.keepalive}`);
    this.connTimer = t.setTimer(this.opts.connTimeoutMs, () => {
      this.connTimer = null;
      if (gen !== this.gen || this.state === MQTT_STATE.READY || this.state === MQTT_STATE.DISCONNECT) return;
      this.log('W', 'mqtt connect timeout');
      this.ev({ type: 'error', kind: 'timeout', code: 0 });
      this.closeSocket();
    });
    this.opts.openTcp().then(
      (raw) => {
        if (gen !== this.gen || this.closed) {
          raw.destroy();
          return;
        }
        if (!this.opts.tls) {
          this.online(raw, gen);
          return;
        }
        const o = this.opts.tls;
        let s: tls.TLSSocket;
        try {
          s = tls.connect({
            socket: raw,
            host: this.opts.host,
            servername: net.isIP(this.opts.host) ? undefined : this.opts.host,
            rejectUnauthorized: o.verify === 2,
            ca: o.ca,
            cert: o.cert,
            key: o.key,
            passphrase: o.passphrase,
          });
        } catch (err) {
          raw.destroy();
          this.netFail(gen, `tls setup failed: ${(err as Error).message}`);
          return;
        }
        this.sock = s;
        s.once('secureConnect', () => {
          if (gen === this.gen) this.online(s, gen);
        });
        s.on('error', (err) => this.netFail(gen, `tls: ${err.message}`));
        s.on('close', () => this.netFail(gen, 'closed'));
      },
      (err: Error) => this.netFail(gen, err.message),
    );
    return true;
  }

  private online(s: net.Socket, gen: number): void {
    this.sock = s;
    s.setNoDelay(true);
    this.state = MQTT_STATE.MQTT;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p: mqttPacket.Packet) => {
      if (gen !== this.gen) return;
      this.pending -= 1 + varintLen(p.length ?? 0) + (p.length ?? 0);
      this.onPacket(p);
    });
    parser.on('error', (err: Error) => {
      if (gen !== this.gen) return;
      this.protoError(/qos/i.test(err.message) ? 98 : 100, err.message);
    });
    s.on('data', (chunk: Buffer) => {
      if (gen !== this.gen) return;
      if (this.pending + chunk.length > this.opts.rxMax) {
        this.log('E', `too many data wait for recv ${this.pending + chunk.length}`);
        this.closeSocket();
        return;
      }
      this.pending += chunk.length;
      parser.parse(chunk);
    });
    s.removeAllListeners('error');
    s.removeAllListeners('close');
    s.on('error', (err) => this.netFail(gen, err.message));
    s.on('close', () => this.netFail(gen, 'closed by peer'));
    // mqtt-packet refuses an empty client id without clean session, which the firmware sends
    // when auth() was never called (the broker then answers CONNACK 2): encode with clean=1 and
    // clear the flag bit (the connect-flags byte follows the fixed header, "MQTT" and level 4).
    const emptyIdNoClean = !this.clean && this.clientId === '';
    const connect: mqttPacket.IConnectPacket = {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clientId: this.clientId,
      clean: this.clean || emptyIdNoClean,
      keepalive: this.keepalive,
    };
    if (this.username) connect.username = this.username;
    if (this.password) connect.password = Buffer.from(this.password);
    if (this.will) connect.will = { topic: this.will.topic, payload: this.will.payload, qos: this.will.qos, retain: this.will.retain };
    if (!emptyIdNoClean) {
      this.send(connect);
      return;
    }
    this.send(connect, (buf) => {
      let i = 1;
      while (buf[i] & 0x80) i++;
      buf[i + 1 + 6 + 1] &= ~0x02;
    });
  }

  /** the network failed (connect refused, reset, remote close) */
  private netFail(gen: number, why: string): void {
    if (gen !== this.gen || this.state === MQTT_STATE.DISCONNECT) return;
    const kind = this.state === MQTT_STATE.READY ? 'other' : 'connect';
    this.log('E', 'mqtt_callback param1 -1, closing socket');
    this.log('D', `network: ${why}`);
    this.ev({ type: 'error', kind, code: 0 });
    this.closeSocket();
  }

  private protoError(code: number, why: string): void {
    this.log('W', `bad mqtt packet!! ret ${code}`);
    if (this.debug) this.log('D', why);
    this.ev({ type: 'error', kind: 'connect', code });
    this.closeSocket();
  }

  private onPacket(p: mqttPacket.Packet): void {
    if (this.debug) this.log('D', `MQTT_MSG_${p.cmd.toUpperCase()}${p.messageId !== undefined ? ' ' + p.messageId : ''}`);
    if (p.cmd === 'connack') {
      if (this.state !== MQTT_STATE.MQTT) return this.protoError(95, 'second CONNACK');
      const code = p.returnCode ?? 0;
      if (code !== 0) {
        this.log('W', `CONACK 0x${code.toString(16).padStart(2, '0')}`);
        this.errorState = code;
        this.closeSocket();
        this.ev({ type: 'error', kind: 'conack', code });
        return;
      }
      this.state = MQTT_STATE.READY;
      this.opts.timers.clearTimer(this.connTimer);
      this.connTimer = null;
      this.armPing(this.gen);
      this.ev({ type: 'conack' });
      return;
    }
    if (this.state !== MQTT_STATE.READY) return this.protoError(96, `${p.cmd} before CONNACK`);
    switch (p.cmd) {
      case 'publish': {
        const topic = Buffer.from(p.topic, 'utf8');
        const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
        if (topic.length === 0 || topic.length > MAX_TOPIC_LEN || payload.length > MAX_PAYLOAD_LEN) return this.protoError(99, 'topic or payload size');
        const id = p.messageId ?? 0;
        this.ev({ type: 'recv', topic, payload, messageId: id, qos: p.qos, retain: p.retain ? 1 : 0, dup: p.dup ? 1 : 0 });
        if (p.qos === 1) this.send({ cmd: 'puback', messageId: id });
        else if (p.qos === 2) this.send({ cmd: 'pubrec', messageId: id });
        return;
      }
      case 'puback':
        return this.ev({ type: 'sent', id: p.messageId ?? 0 });
      case 'pubrec':
        this.send({ cmd: 'pubrel', messageId: p.messageId ?? 0 });
        return;
      case 'pubcomp':
        return this.ev({ type: 'sent', id: p.messageId ?? 0 });
      case 'pubrel':
        this.send({ cmd: 'pubcomp', messageId: p.messageId ?? 0 });
        return;
      case 'suback': {
        const first = p.granted[0];
        const code = typeof first === 'number' ? first : ((first as { qos?: number } | undefined)?.qos ?? 0x80);
        return this.ev({ type: 'suback', ok: code <= 2, code });
      }
      case 'unsuback':
        return this.ev({ type: 'unsuback' });
      case 'pingresp':
        return this.ev({ type: 'pong' });
      case 'disconnect':
        this.errorState = ERROR_STATE_DISCONNECT;
        return;
      default:
        return;
    }
  }

  private armPing(gen: number): void {
    const t = this.opts.timers;
    t.clearTimer(this.pingTimer);
    this.pingTimer = t.setTimer(Math.floor((this.keepalive * 1000 * 3) / 4), () => {
      this.pingTimer = null;
      if (gen !== this.gen || this.state !== MQTT_STATE.READY) return;
      this.send({ cmd: 'pingreq' });
      this.armPing(gen);
    });
  }

  /** Encode and write; false (and the socket closed, `error("tx", 0)`) when the write fails. */
  private send(p: mqttPacket.Packet, patch?: (buf: Buffer) => void): boolean {
    const s = this.sock;
    if (!s || s.destroyed || !s.writable) return false;
    let buf: Buffer;
    try {
      buf = mqttPacket.generate(p, { protocolVersion: 4 });
      patch?.(buf);
    } catch (err) {
      this.log('W', `mqtt packet not encodable: ${(err as Error).message}`);
      return false;
    }
    const txMax = this.opts.txMax ?? DEFAULT_TX_MAX;
    if (s.writableLength + buf.length > txMax) {
      this.log('W', `network_tx expect ${buf.length} but ${Math.max(0, txMax - s.writableLength)}`);
      this.ev({ type: 'error', kind: 'tx', code: 0 });
      this.closeSocket();
      return false;
    }
    // the first packet of a tick goes out at once (round trips); further packets written in
    // the same run of Lua are corked and leave in one writev (a TCP stream either way)
    if (this.burst && !s.writableCorked) {
      s.cork();
      process.nextTick(() => s.uncork());
    }
    if (!this.burst) {
      this.burst = true;
      process.nextTick(() => (this.burst = false));
    }
    s.write(buf);
    return true;
  }

  /** publish → message id (0 for QoS 0), or null when it could not be sent */
  publish(topic: string, payload: Buffer, qos: number, retain: boolean): number | null {
    const q = (qos === 1 || qos === 2 ? qos : 0) as 0 | 1 | 2;
    if (this.state < MQTT_STATE.MQTT) return null;
    const id = q === 0 ? 0 : this.takeId();
    const p: mqttPacket.IPublishPacket = { cmd: 'publish', topic, payload, qos: q, retain, dup: false };
    if (q > 0) p.messageId = id;
    if (!this.send(p)) return null;
    if (q === 0) this.ev({ type: 'sent', id: 0 });
    return id;
  }

  /** one SUBSCRIBE per entry; the last message id, or null */
  subscribe(list: [string, number][]): number | null {
    if (this.state < MQTT_STATE.MQTT || list.length === 0) return null;
    let last: number | null = null;
    for (const [topic, qos] of list) {
      const id = this.takeId();
      const q = (qos === 1 || qos === 2 ? qos : 0) as 0 | 1 | 2;
      if (!this.send({ cmd: 'subscribe', messageId: id, subscriptions: [{ topic, qos: q }] })) return null;
      last = id;
    }
    return last;
  }

  unsubscribe(topics: string[]): number | null {
    if (this.state < MQTT_STATE.MQTT || topics.length === 0) return null;
    const id = this.takeId();
    return this.send({ cmd: 'unsubscribe', messageId: id, unsubscriptions: topics }) ? id : null;
  }

  /** c:disconnect(): DISCONNECT, close; events follow (and a reconnect when enabled) */
  disconnect(): void {
    if (this.state === MQTT_STATE.DISCONNECT) return;
    this.send({ cmd: 'disconnect' });
    this.closeSocket();
  }

  /** The firmware's luat_mqtt_close_socket. */
  private closeSocket(): void {
    this.log('I', `mqtt closing socket netc:${this.ptr} mqtt_state:${this.state}`);
    const t = this.opts.timers;
    if (this.state !== MQTT_STATE.DISCONNECT) {
      this.state = MQTT_STATE.DISCONNECT;
      this.gen++;
      this.pending = 0;
      const s = this.sock;
      this.sock = null;
      if (s) flushAndClose(s);
      t.clearTimer(this.connTimer);
      this.connTimer = null;
      t.clearTimer(this.pingTimer);
      this.pingTimer = null;
      this.ev({ type: 'disconnect', errorState: this.errorState });
      if (this.reconnectMs > 0) {
        this.reconnTimer = t.setTimer(this.reconnectMs, () => {
          this.reconnTimer = null;
          if (this.closed) return;
          this.log('I', 'mqtt reconnect');
          this.connect();
        });
      } else this.ev({ type: 'close' });
    }
    this.pending = 0;
  }

  /** a pseudo pointer for log lines (the firmware prints netc's address) */
  ptr = '0x' + (0x60a00000 + Math.floor(Math.random() * 0xffff) * 0x10).toString(16);

  /**
   * c:close(): DISCONNECT, close, no further events. `graceful = false` (the VM ends: reboot,
   * exit) drops the connection without DISCONNECT, as a rebooting device does (the broker then
   * publishes the will).
   */
  destroy(graceful = true): void {
    if (this.closed) return;
    if (graceful && this.state >= MQTT_STATE.MQTT) this.send({ cmd: 'disconnect' });
    this.closed = true;
    this.gen++;
    const t = this.opts.timers;
    t.clearTimer(this.connTimer);
    t.clearTimer(this.pingTimer);
    t.clearTimer(this.reconnTimer);
    this.connTimer = this.pingTimer = this.reconnTimer = null;
    this.state = MQTT_STATE.DISCONNECT;
    const s = this.sock;
    this.sock = null;
    if (s) {
      if (graceful) flushAndClose(s);
      else s.destroy();
    }
    this.removeAllListeners();
  }
}
