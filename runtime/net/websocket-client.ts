/**
 * The device's WebSocket client core (luatos-api-2.md §6, firmware `luat_websocket.c`), on a TCP
 * (or TLS) connection from the device network (`DeviceNetwork.connectTcp`: host mapping,
 * adapters, link loss). No Lua here: the binding (luatos-api/websocket.ts) turns the typed events
 * into the script's callbacks.
 *
 * Framing is the `ws` package's: its `Sender` writes the frames (with the firmware's fixed mask
 * key 00 01 02 03 through `generateMask`) and its `Receiver` parses the server's frames (client
 * mode, `maxPayload` = the firmware's WEBSOCKET_PAYLOAD_MAX). Why not the `ws` client class
 * (`new WebSocket(url, {createConnection})`): its handshake cannot produce the device's request
 * or accept what the device accepts. It always sends a random `Sec-WebSocket-Key` and refuses a
 * reply without the matching `Sec-WebSocket-Accept` and `Upgrade` headers, writes its own four
 * headers after the user's in its own order, writes user headers as `Name: value` through
 * Node's http (which also refuses header text the device sends as given, such as the verbatim
 * string form of `headers()`). So the handshake — one request write and a scan for the end of
 * the reply head, both device-exact — is ours:
 *
 *   GET <path> HTTP/1.1\r\nHost: <host>:<port>\r\n<user headers>Upgrade: websocket\r\n
 *   Connection: Upgrade\r\nSec-WebSocket-Key: w4v7O6xFTi36lq3RNcgctw==\r\n
 *   Sec-WebSocket-Version: 13\r\n\r\n
 *
 * and the reply is accepted when it starts with `HTTP/1.1 101` and has a `\r\n\r\n` (nothing
 * else is checked), as the firmware does.
 *
 * State and events (the firmware's order):
 * - `connect()` logs `connect host <h> port <p>` (I) and starts the connection; while the adapter
 *   is not ready it waits for the link (polled), as the device's network_connect does.
 * - Handshake done → `ready!!` (I), state 1, event `conack`.
 * - Each complete server message → `recv` (data, fin 1, opcode 1 text / 2 binary).
 * - Each finished write while user frames are outstanding → `sent`.
 * - Network failure (connect refused/DNS/timeout/TLS, reset, peer FIN, link loss) →
 *   `websocket_callback param1 -1, closing socket` (W), `error('connect', 0)`, then the close.
 * - Receive errors (a close frame from the server, an unknown opcode, a frame over
 *   32768 bytes or with a 64-bit length, a refused handshake) → the firmware's E/I lines,
 *   `websocket_parse ret -1` (W), `error('rx', 0)`, then the close.
 * - The close: `websocket closing socket` (I), event `disconnect`, state 0; with auto-reconnect
 *   `reconnect after <ms>ms` (I) and a new `connect` after that time.
 * - Keepalive: an empty PING every `keepalive` seconds after the last receive or finished write
 *   (only while ready); a server PING gets a PONG with its payload; PONGs are not delivered.
 *
 * Deviations from the firmware (all for servers that break the protocol or for fragmented
 * messages, documented here and tested where they matter):
 * - Fragmented server messages are reassembled by `ws` and delivered as ONE `recv` (fin 1,
 *   opcode of the first frame); the device delivers every frame (fin 0 … 1, opcode 0 for the
 *   continuations). The 32768-byte limit then applies to the whole message, not per frame.
 * - `ws` refuses frames the firmware passes through: RSV bits set, masked server frames,
 *   control frames over 125 bytes or fragmented, a continuation without a start. They end the
 *   connection as `error('rx')` with our W line `bad frame from server: <reason> (luatos-pc)`.
 *   A 64-bit length (127) for a payload of 32768 bytes or less (never sent by a conforming
 *   server, which uses the shortest form) is accepted here.
 * - The firmware drops bytes that arrive in the same read as the end of the 101 reply (a
 *   frame sent right after the handshake can be lost or desynchronise the stream); we keep
 *   them.
 * - A reply head that does not end within the firmware's receive buffer (32784 bytes) leaves
 *   the device's connection hanging; we end it as a receive error (choice: bounded, visible).
 * - Frames waiting to be written are bounded (TX_QUEUE_MAX, our choice; the device's lwIP
 *   send buffer is smaller still): past it `send` returns false with a W line.
 */
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import type * as tls from 'node:tls';
// ws exports Sender and Receiver (its index.js) but @types/ws does not declare them: the parts
// we use are typed below
// eslint-disable-next-line @typescript-eslint/no-require-imports
const wsLib = require('ws') as { Sender: SenderCtor; Receiver: ReceiverCtor };
import type { TimerHandle } from '../core/clock';
import { DeviceNetwork, NetError } from './types';
import { isIpHost, tlsOnSocket } from './tls-upgrade';

/** WEBSOCKET_PAYLOAD_MAX with LUAT_USE_PSRAM (Air8101, PC): the largest frame received */
export const WS_PAYLOAD_MAX = 32 * 1024;
/** WEBSOCKET_RECV_BUF_LEN_MAX: the receive buffer (also bounds the handshake reply head) */
export const WS_RECV_BUF_LEN_MAX = WS_PAYLOAD_MAX + 16;
/** the firmware's fixed handshake key */
export const WS_KEY = 'w4v7O6xFTi36lq3RNcgctw==';
/** the firmware's fixed mask key */
export const WS_MASK = Buffer.from([0, 1, 2, 3]);
/** most bytes waiting to be written before `send` refuses (our bound) */
export const TX_QUEUE_MAX = 1024 * 1024;
/** TCP connect timeout (network_set_base_mode tcp_timeout_ms) */
export const CONNECT_TIMEOUT_MS = 10000;
/** how often a connect waiting for the link checks the adapter */
export const LINK_POLL_MS = 500;

export interface WsUrl {
  tls: boolean;
  host: string;
  port: number;
  path: string;
}

/** C `atoi`: leading blanks, a sign, digits; anything else ends it. */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)/.exec(s);
  if (!m || !m[2]) return 0;
  const n = Number(m[2].slice(0, 12));
  return m[1] === '-' ? -n : n;
}

/**
 * The firmware's URL parsing (`luat_websocket_set_connopts`), byte for byte: `wss://` / `ws://`
 * (case-sensitive) or no scheme; the first `/` at index 2 or later starts the path (else there
 * is none: `/`); a `:` before it separates the port (at most 5 characters, atoi, as uint16);
 * host cut to 191 bytes, path to 255; port 0 → 443 / 80. The text is latin1 (one char a byte)
 * and ends at the first NUL, as a C string does.
 */
export function parseWsUrl(url: string): WsUrl {
  let s = url;
  const nul = s.indexOf('\0');
  if (nul >= 0) s = s.slice(0, nul);
  let isTls = false;
  if (s.startsWith('wss://')) {
    isTls = true;
    s = s.slice(6);
  } else if (s.startsWith('ws://')) {
    s = s.slice(5);
  }
  let uriStart = s.indexOf('/');
  if (uriStart < 2) uriStart = s.length;
  let host = '';
  let port = 0;
  const colon = s.slice(0, uriStart).indexOf(':');
  if (colon >= 0) {
    host = s.slice(0, Math.min(colon, 191));
    port = atoi(s.slice(colon + 1, uriStart).slice(0, 5)) & 0xffff;
  }
  if (host === '') host = s.slice(0, Math.min(uriStart, 191));
  let path = s.slice(uriStart).slice(0, 255);
  if (port === 0) port = isTls ? 443 : 80;
  if (path === '') path = '/';
  return { tls: isTls, host, port, path };
}

/** The handshake request exactly as the firmware writes it. */
export function buildHandshake(u: WsUrl, headers: Buffer | null): Buffer {
  return Buffer.concat([
    Buffer.from(`GET ${u.path} HTTP/1.1\r\nHost: ${u.host}:${u.port}\r\n`, 'latin1'),
    headers ?? Buffer.alloc(0),
    Buffer.from(`Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`, 'latin1'),
  ]);
}

// ---- the parts of ws's Sender / Receiver we use (ws 8)
interface WsSender {
  send(data: Buffer, options: { binary: boolean; fin: boolean; mask: boolean; compress?: boolean }, cb?: (err?: Error) => void): void;
  ping(data: Buffer, mask: boolean, cb?: (err?: Error) => void): void;
  pong(data: Buffer, mask: boolean, cb?: (err?: Error) => void): void;
  onerror: (err: Error) => void;
}
type SenderCtor = new (socket: net.Socket, extensions: object | undefined, generateMask: (mask: Buffer) => void) => WsSender;
interface WsReceiver extends EventEmitter {
  write(chunk: Buffer): boolean;
  destroy(): void;
  _payloadLength?: number;
}
type ReceiverCtor = new (options: {
  isServer: boolean;
  maxPayload: number;
  skipUTF8Validation: boolean;
  binaryType: string;
  maxFragments?: number;
  allowSynchronousEvents?: boolean;
}) => WsReceiver;

export type WsErrorKind = 'connect' | 'tx' | 'rx';

export interface WsClientEvents {
  conack: [];
  recv: [data: Buffer, fin: number, opcode: number];
  sent: [];
  disconnect: [];
  error: [kind: WsErrorKind, code: number];
}

export interface WsClientEnv {
  net: DeviceNetwork;
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(h: TimerHandle | null): void;
  /** a firmware log line (module `websocket`) */
  log(level: 'D' | 'I' | 'W' | 'E', message: string): void;
}

export interface WsClientOptions {
  url: WsUrl;
  /** adapter index (the binding resolves the default) */
  adapter: number;
  /** keepalive in seconds (default 60) */
  keepalive?: number;
}

type Listener<K extends keyof WsClientEvents> = (...args: WsClientEvents[K]) => void;

/** One `websocket.create` object's connection logic. */
export class WebSocketClient {
  private readonly ee = new EventEmitter();
  readonly url: WsUrl;
  readonly adapter: number;
  readonly keepalive: number;
  /** 0 until the handshake, 1 after it (the firmware's websocket_state) */
  state: 0 | 1 = 0;
  /** released by close(): nothing works any more */
  released = false;
  /** extra handshake header lines (already formatted), or null */
  headers: Buffer | null = null;
  reconnect = false;
  reconnectMs = 3000;

  private readonly env: WsClientEnv;
  private gen = 0;
  private sock: net.Socket | null = null;
  private rawSock: net.Socket | null = null;
  private sender: WsSender | null = null;
  private receiver: WsReceiver | null = null;
  private head: Buffer[] = [];
  private headLen = 0;
  private frameWait = 0;
  private pingTimer: TimerHandle | null = null;
  private reconnectTimer: TimerHandle | null = null;
  private linkTimer: TimerHandle | null = null;
  private paused = false;

  constructor(opts: WsClientOptions, env: WsClientEnv) {
    this.url = opts.url;
    this.adapter = opts.adapter;
    this.keepalive = opts.keepalive && opts.keepalive > 0 ? opts.keepalive : 60;
    this.env = env;
  }

  on<K extends keyof WsClientEvents>(ev: K, fn: Listener<K>): this {
    this.ee.on(ev, fn as (...a: unknown[]) => void);
    return this;
  }
  private emit<K extends keyof WsClientEvents>(ev: K, ...args: WsClientEvents[K]): void {
    // an 'error' nobody listens to must not throw (EventEmitter's rule): it is a device event
    if (this.ee.listenerCount(ev) === 0) return;
    this.ee.emit(ev, ...args);
  }

  /** `autoreconn(on, ms)`: the time is kept only when enabling; at least 1000 ms. */
  setAutoReconnect(on: boolean, ms: number): void {
    this.reconnect = on;
    if (on) this.reconnectMs = Math.min(Math.max(ms, 1000), 0x7fffffff);
  }

  /** `connect()`: true when the connection was started. */
  connect(): boolean {
    if (this.released) return false;
    this.env.log('I', `connect host ${this.url.host} port ${this.url.port}`);
    this.dropSocket();
    const gen = ++this.gen;
    if (this.env.net.adapterReady(this.adapter)) void this.open(gen);
    else this.waitLink(gen);
    return true;
  }

  /**
   * `send(data, binary)`: true when the frame was handed to the socket. The firmware keeps the
   * length in 16 bits: longer data is cut to `length mod 65536` bytes (we log why), and 65535
   * is refused (`pkg too large 65535`).
   */
  send(data: Buffer, binary: boolean): boolean {
    if (this.state !== 1 || !this.sender || !this.sock) {
      this.env.log('I', 'not ready yet');
      return false;
    }
    const plen = data.length & 0xffff;
    if (data.length > 0xffff) {
      this.env.log('W', `send: ${data.length} bytes do not fit the firmware's 16-bit frame length; the device sends only the first ${plen} (luatos-pc)`);
    }
    if (plen === 0xffff) {
      this.env.log('E', `pkg too large ${plen}`);
      return false;
    }
    const s = this.sock;
    if (!s.writable || s.destroyed) {
      this.txFailed();
      return false;
    }
    if (s.writableLength + plen > TX_QUEUE_MAX) {
      this.env.log('W', `send: ${s.writableLength} bytes are still waiting to be sent, frame refused (luatos-pc)`);
      return false;
    }
    this.frameWait++;
    const gen = this.gen;
    this.sender.send(data.subarray(0, plen), { binary, fin: true, mask: true, compress: false }, (err) => {
      if (!err) this.txOk(gen);
    });
    return true;
  }

  /** `close()`: close the connection and release everything; no events afterwards. */
  close(): void {
    if (this.released) return;
    this.closeSocket();
    this.released = true;
    this.env.clearTimer(this.reconnectTimer);
    this.reconnectTimer = null;
    this.env.clearTimer(this.pingTimer);
    this.pingTimer = null;
    this.ee.removeAllListeners();
  }

  /**
   * Stop (true) or restart (false) reading from the server: the binding pauses while many
   * received messages wait for the script, as a busy device stops reading and its TCP window
   * fills. Data already read is still parsed.
   */
  setPaused(p: boolean): void {
    this.paused = p;
    if (!this.sock) return;
    if (p) this.sock.pause();
    else this.sock.resume();
  }

  /** stop everything without any log or event (the VM ended) */
  dispose(): void {
    this.released = true;
    this.gen++;
    this.dropSocket();
    this.env.clearTimer(this.reconnectTimer);
    this.env.clearTimer(this.pingTimer);
    this.env.clearTimer(this.linkTimer);
    this.reconnectTimer = this.pingTimer = this.linkTimer = null;
    this.ee.removeAllListeners();
  }

  // ------------------------------------------------------------------ connection

  private waitLink(gen: number): void {
    this.linkTimer = this.env.setTimer(LINK_POLL_MS, () => {
      this.linkTimer = null;
      if (gen !== this.gen || this.released) return;
      if (this.env.net.adapterReady(this.adapter)) void this.open(gen);
      else this.waitLink(gen);
    });
  }

  private async open(gen: number): Promise<void> {
    let raw: net.Socket;
    try {
      raw = await this.env.net.connectTcp({ host: this.url.host, port: this.url.port, adapter: this.adapter, timeoutMs: CONNECT_TIMEOUT_MS, owner: 'websocket' });
    } catch (e) {
      if (gen !== this.gen) return;
      this.env.log('D', `connect failed: ${e instanceof NetError ? e.kind + ': ' : ''}${(e as Error)?.message ?? String(e)} (luatos-pc)`);
      this.networkError();
      return;
    }
    if (gen !== this.gen) {
      raw.destroy();
      return;
    }
    raw.on('error', () => {});
    this.rawSock = raw;
    let s: net.Socket = raw;
    if (this.url.tls) {
      try {
        s = await tlsHandshake(raw, this.url.host);
      } catch (e) {
        if (gen !== this.gen) return;
        this.env.log('D', `TLS handshake failed: ${(e as Error)?.message ?? String(e)} (luatos-pc)`);
        this.networkError();
        return;
      }
      if (gen !== this.gen) {
        s.destroy();
        return;
      }
    }
    this.sock = s;
    this.head = [];
    this.headLen = 0;
    this.frameWait = 0;
    s.on('data', (d: Buffer) => this.onData(gen, d));
    if (this.paused) s.pause();
    s.on('error', () => {
      if (gen === this.gen) this.networkError();
    });
    s.on('close', () => {
      if (gen === this.gen) this.networkError();
    });
    s.write(buildHandshake(this.url, this.headers), (err) => {
      if (!err) this.txOk(gen);
    });
  }

  private onData(gen: number, d: Buffer): void {
    if (gen !== this.gen || !this.sock) return;
    if (this.state === 0) {
      this.head.push(d);
      this.headLen += d.length;
      // at most the earlier part (≤ WS_RECV_BUF_LEN_MAX) plus this chunk: bounded
      const buf = Buffer.concat(this.head, this.headLen);
      this.head = [buf];
      if (buf.length >= 12 && !buf.subarray(0, 12).equals(Buffer.from('HTTP/1.1 101'))) {
        const nul = buf.indexOf(0);
        const shown = buf.subarray(0, Math.min(nul < 0 ? buf.length : nul, WS_RECV_BUF_LEN_MAX));
        this.env.log('E', `server not support websocket? resp code ${shown.toString('utf8')}`);
        this.rxError();
        return;
      }
      // the reply head must end within the firmware's receive buffer
      const end = buf.subarray(0, WS_RECV_BUF_LEN_MAX).indexOf('\r\n\r\n', 4);
      if (end < 0) {
        if (buf.length > WS_RECV_BUF_LEN_MAX) {
          this.env.log('W', `the handshake reply head is longer than the receive buffer (${WS_RECV_BUF_LEN_MAX} bytes) (luatos-pc)`);
          this.rxError();
          return;
        }
        this.rearmPing();
        return;
      }
      this.head = [];
      this.headLen = 0;
      this.env.log('I', 'ready!!');
      this.state = 1;
      this.startReceiver(gen);
      this.emit('conack');
      const rest = buf.subarray(end + 4);
      if (rest.length && this.receiver) this.receiver.write(rest);
    } else if (this.receiver) {
      this.receiver.write(d);
    }
    if (gen === this.gen) this.rearmPing();
  }

  private startReceiver(gen: number): void {
    const sock = this.sock as net.Socket;
    const sender = new wsLib.Sender(sock, {}, (mask: Buffer) => WS_MASK.copy(mask));
    sender.onerror = () => {
      if (gen === this.gen) this.txFailed();
    };
    const rx = new wsLib.Receiver({ isServer: false, maxPayload: WS_PAYLOAD_MAX, skipUTF8Validation: true, binaryType: 'nodebuffer', maxFragments: 1024 });
    rx.on('message', (data: Buffer, isBinary: boolean) => {
      if (gen === this.gen) this.emit('recv', data, 1, isBinary ? 2 : 1);
    });
    rx.on('ping', (data: Buffer) => {
      if (gen !== this.gen || !this.sender) return;
      this.sender.pong(data, true, (err) => {
        if (!err) this.txOk(gen);
      });
    });
    rx.on('conclude', () => {
      // a close frame from the server (the firmware: "server say CLOSE", a D line it compiles out)
      if (gen === this.gen) this.rxError();
    });
    rx.on('error', (err: Error & { code?: string }) => {
      if (gen !== this.gen) return;
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        const n = rx._payloadLength;
        if (typeof n === 'number' && n <= 0xffff) this.env.log('E', `websocket payload is too large!!! ${n} , must < ${WS_RECV_BUF_LEN_MAX}`);
        else this.env.log('E', 'websocket payload is too large!!!');
        this.env.log('I', 'payload too large!!!');
      } else if (err.code === 'WS_ERR_INVALID_OPCODE') {
        const m = /(\d+)/.exec(err.message);
        this.env.log('E', `unkown optcode 0x${Number(m ? m[1] : 0).toString(16).toUpperCase().padStart(2, '0')}`);
      } else {
        this.env.log('W', `bad frame from server: ${err.message} (luatos-pc)`);
      }
      this.rxError();
    });
    this.sender = sender;
    this.receiver = rx;
  }

  // ------------------------------------------------------------------ events

  private txOk(gen: number): void {
    if (gen !== this.gen || this.released) return;
    this.rearmPing();
    if (this.frameWait > 0) {
      this.frameWait--;
      this.emit('sent');
    }
  }

  private rearmPing(): void {
    this.env.clearTimer(this.pingTimer);
    const ms = this.keepalive * 1000;
    const gen = this.gen;
    this.pingTimer = this.env.setTimer(ms, () => {
      this.pingTimer = null;
      if (gen !== this.gen || this.released) return;
      // repeating, as the firmware's ping timer; a ping only while ready
      this.rearmPing();
      if (this.state === 1 && this.sender) {
        this.sender.ping(Buffer.alloc(0), true, (err) => {
          if (!err) this.txOk(gen);
        });
      }
    });
  }

  private networkError(): void {
    this.env.log('W', 'websocket_callback param1 -1, closing socket');
    this.emit('error', 'connect', 0);
    this.closeSocket();
  }

  private rxError(): void {
    this.env.log('W', 'websocket_parse ret -1');
    this.emit('error', 'rx', 0);
    this.closeSocket();
  }

  private txFailed(): void {
    this.env.log('I', 'send pkg err -1 , close socket');
    this.emit('error', 'tx', 0);
    this.closeSocket();
  }

  /** destroy the connection without events (a new connect, dispose) */
  private dropSocket(): void {
    this.env.clearTimer(this.linkTimer);
    this.linkTimer = null;
    const rx = this.receiver;
    this.receiver = null;
    this.sender = null;
    if (rx) {
      rx.removeAllListeners();
      rx.on('error', () => {});
      rx.destroy();
    }
    if (this.sock) {
      this.sock.removeAllListeners('data');
      this.sock.destroy();
      this.sock = null;
    }
    if (this.rawSock) {
      this.rawSock.destroy();
      this.rawSock = null;
    }
    this.head = [];
    this.headLen = 0;
  }

  /** luat_websocket_close_socket */
  private closeSocket(): void {
    this.env.log('I', 'websocket closing socket');
    this.gen++;
    this.dropSocket();
    this.emit('disconnect');
    this.env.clearTimer(this.pingTimer);
    this.pingTimer = null;
    this.state = 0;
    this.frameWait = 0;
    if (this.reconnect) {
      this.env.log('I', `reconnect after ${this.reconnectMs}ms`);
      this.env.clearTimer(this.reconnectTimer);
      this.reconnectTimer = this.env.setTimer(this.reconnectMs, () => {
        this.reconnectTimer = null;
        if (!this.released) this.connect();
      });
    }
  }
}

/** TLS on the device socket, verify 0 (wss:// cannot pass certificates from Lua). */
function tlsHandshake(raw: net.Socket, host: string): Promise<tls.TLSSocket> {
  return tlsOnSocket(raw, { servername: isIpHost(host) || !host ? undefined : host, rejectUnauthorized: false });
}
