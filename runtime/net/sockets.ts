/**
 * The device's network control blocks (the firmware's `network_ctrl_t`, what `socket.create`
 * returns) on the device network model: TCP and UDP clients, TLS over the device TCP connection
 * (node:tls), and TCP servers whose listening socket is reachable from the PC (runtime/net/
 * listen.ts). The Lua binding is luatos-api/socket.ts; this file knows nothing about Lua.
 *
 * Our own state machine, written from the firmware's facts (luatos-api-2.md §2), because the
 * event order and return values are device-exact and no library models them:
 *  - states 0 "硬件离线" (adapter not ready), 1 "离线", 2 "等待DNS", 3 "正在连接",
 *    4 "正在TLS握手", 5 "在线", 6 "在监听", 7 "正在离线";
 *  - one "wait target" (link / on-line / tx / event / off-line): the next result event is the
 *    target's (`LINK`, `ON_LINE`, `TX_OK`, `CLOSED`) or `EVENT` when nothing is awaited, with
 *    param 0 for success and -1 for failure, close or reset;
 *  - new data while online always gives `EVENT` 0 (coalesced: one undelivered EVENT per ctrl);
 *  - a remote close / reset / link loss gives the awaited event with -1 (no `CLOSED`); the data
 *    received before it stays readable (the firmware allows rx while unread data is flagged;
 *    we let the script read all of it, a choice);
 *  - `CLOSED` 0 only after `discon` of an online TCP socket.
 *
 * Choices (unsure on the device), tested in test/socket/:
 *  - the state right after create is 1 when the adapter is ready, else 0;
 *  - `connect` on a UDP ctrl resolves the host, binds, and goes online (ON_LINE 0);
 *  - `connect` while the adapter is down waits for it (as the firmware) and then connects;
 *  - receive buffering is bounded: TCP stops reading from the host socket above RX_WINDOW
 *    bytes unread (TCP flow control pushes back, like lwIP's window), UDP keeps at most
 *    UDP_QUEUE datagrams (more are dropped, as lwIP drops them);
 *  - `tx` accepts nothing while TX_LIMIT bytes are still unsent: `(true, true, true)` ("full").
 */
import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock';
import { SOCKET_EVENTS } from './adapters';
import { hostPortFor, listenOnHost, ListenHandle, ListenRules } from './listen';
import { DeviceNetwork, LINK_DOWN, NetError } from './types';

/**
 * Datagrams handed to a host UDP socket and not yet sent. A device's `sendto` is done when it
 * returns, so `socket.tx` then `socket.close` at once still sends; Node's dgram drops a send that
 * is still queued when the socket closes, so a closing socket waits for its sends first.
 */
const udpInFlight = new WeakMap<dgram.Socket, { n: number; closing: boolean }>();

function closeQuietly(u: dgram.Socket): void {
  try {
    u.close();
  } catch {
    /* closed */
  }
}

function udpSending(u: dgram.Socket, d: 1 | -1): void {
  const st = udpInFlight.get(u) ?? { n: 0, closing: false };
  st.n += d;
  udpInFlight.set(u, st);
  if (st.n === 0 && st.closing) closeQuietly(u);
}

/** close now, or once the datagrams already handed over are sent (no more reading meanwhile) */
function closeUdpWhenSent(u: dgram.Socket): void {
  const st = udpInFlight.get(u);
  if (!st || st.n <= 0) return closeQuietly(u);
  st.closing = true;
  u.removeAllListeners('message');
}

/** unread TCP bytes above which we stop reading from the host socket */
export const RX_WINDOW = 256 * 1024;
/** most unread UDP datagrams kept per ctrl */
export const UDP_QUEUE = 32;
/** largest UDP datagram (IPv4 limit) */
export const UDP_MAX = 65507;
/** unsent TCP bytes above which tx reports "full" and accepts nothing */
export const TX_LIMIT = 1024 * 1024;
/** TCP sends at least this long are copied into the ctrl's reusable scratch (smaller ones use Node's pool) */
export const TX_SCRATCH_MIN = 4096;
/** the scratch is not kept for sends longer than this (memory kept per ctrl) */
export const TX_SCRATCH_MAX = 256 * 1024;
/** most clients waiting for accept (listen's multi is 0..8 on the device) */
export const ACCEPT_MAX = 8;

export const STATE_TEXT = ['硬件离线', '离线', '等待DNS', '正在连接', '正在TLS握手', '在线', '在监听', '正在离线'];
export const ST = { LINK_OFF: 0, OFF_LINE: 1, WAIT_DNS: 2, CONNECTING: 3, SHAKEHAND: 4, ONLINE: 5, LISTEN: 6, DISCONNECTING: 7 } as const;

type WaitTarget = 'none' | 'link' | 'online' | 'tx' | 'off' | 'event';

const EVENT_OF: Record<WaitTarget, number> = {
  none: SOCKET_EVENTS.EVENT,
  event: SOCKET_EVENTS.EVENT,
  link: SOCKET_EVENTS.LINK,
  online: SOCKET_EVENTS.ON_LINE,
  tx: SOCKET_EVENTS.TX_OK,
  off: SOCKET_EVENTS.CLOSED,
};

export interface TlsConfig {
  /** PEM of the CA that must have signed the server's certificate: verification required */
  serverCert?: Buffer;
  clientCert?: Buffer;
  clientKey?: Buffer;
  clientPassword?: string;
}

export interface CtrlConfig {
  localPort: number;
  udp: boolean;
  tls: TlsConfig | null;
  /** keepalive idle seconds (0 = off) */
  keepIdle: number;
}

/** What a ctrl needs from its device (the binding supplies it). */
export interface CtrlHost {
  net: DeviceNetwork;
  clock: Clock;
  log(level: 'D' | 'I' | 'W' | 'E', module: string, message: string): void;
  /** hand `(event, param)` to the script; call `delivered` once the script saw it */
  deliver(ctrl: NetCtrl, event: number, param: number, delivered: () => void): void;
}

interface UdpPacket {
  data: Buffer;
  ip: string;
  port: number;
}

/** `0x00 + 4 bytes` (IPv4) or `0x01 + 16 bytes` (IPv6): the firmware's binary rx address */
export function binaryIp(ip: string): Buffer {
  const v4 = ip.replace(/^::ffff:/, '');
  if (net.isIPv4(v4)) return Buffer.from([0, ...v4.split('.').map(Number)]);
  const b = Buffer.alloc(17);
  b[0] = 1;
  // expand an IPv6 text address
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const groups = [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  groups.slice(0, 8).forEach((g, i) => b.writeUInt16BE(parseInt(g, 16) || 0, 1 + i * 2));
  return b;
}

/** A network whose adapters can come and go (the Wi-Fi model emits 'status' on changes). */
function statusEmitter(n: DeviceNetwork): EventEmitter | null {
  const e = n as unknown as EventEmitter;
  return typeof e.on === 'function' && typeof e.off === 'function' ? e : null;
}

let ctrlSeq = 0;

export class NetCtrl {
  readonly cfg: CtrlConfig = { localPort: 0, udp: false, tls: null, keepIdle: 0 };
  /** a stable stand-in for the firmware's ctrl pointer (light userdata value, log lines) */
  readonly ptr: number;
  state: number;
  debug = false;
  released = false;
  remoteIps: string[] = [];

  private wait: WaitTarget = 'none';
  private tcp: net.Socket | null = null;
  private udp: dgram.Socket | null = null;
  private udpRemote: { ip: string; port: number } | null = null;
  private listener: ListenHandle | null = null;
  private multi = 0;
  private readonly acceptQueue: net.Socket[] = [];
  private rx: Buffer[] = [];
  private rxBytes = 0;
  private readonly udpQ: UdpPacket[] = [];
  private newRx = false;
  private eventQueued = false;
  private paused = false;
  private txPending = 0;
  /** a reusable buffer for TCP sends (see txBuffer); null while lent out */
  private txScratch: Buffer | null = null;
  /** the scratch handed out by txBuffer and not yet back */
  private txLent: Buffer | null = null;
  /** the remote side closed / reset / the link dropped: unread data may still be read */
  private remoteGone = false;
  /** bumped on every close: callbacks of an older connection attempt stop */
  private gen = 0;
  private releaseHold: (() => void) | null = null;
  private linkWatch: (() => void) | null = null;
  private clientAddr: { ip: string; port: number } | null = null;

  constructor(
    private readonly host: CtrlHost,
    readonly adapter: number,
  ) {
    this.ptr = 0x60a00000 + (ctrlSeq++ % 0x10000) * 0x140;
    this.state = host.net.adapterReady(adapter) ? ST.OFF_LINE : ST.LINK_OFF;
  }

  get stateText(): string {
    return STATE_TEXT[this.state] ?? '未知';
  }

  private get ready(): boolean {
    return this.host.net.adapterReady(this.adapter);
  }

  private dbg(msg: string): void {
    if (this.debug) this.host.log('D', 'socket', msg);
  }

  // ------------------------------------------------------------------ events

  /** the awaited result: its event with `param`; the wait ends (a listener keeps waiting) */
  private result(param: number, keepWait = false): void {
    const ev = EVENT_OF[this.wait];
    if (!keepWait) this.wait = 'none';
    this.send(ev, param);
  }

  private send(ev: number, param: number): void {
    if (this.released) return;
    this.host.deliver(this, ev, param, () => undefined);
  }

  /** new data while online: EVENT 0, at most one undelivered per ctrl */
  private dataArrived(): void {
    this.newRx = true;
    if (this.wait === 'event') this.wait = 'none';
    if (this.eventQueued || this.released) return;
    this.eventQueued = true;
    this.host.deliver(this, SOCKET_EVENTS.EVENT, 0, () => (this.eventQueued = false));
  }

  /** the connection ended without the script asking: awaited event with -1 */
  private lost(why: string): void {
    if (this.state !== ST.ONLINE && this.state !== ST.LISTEN && this.state !== ST.CONNECTING && this.state !== ST.SHAKEHAND && this.state !== ST.WAIT_DNS && this.state !== ST.DISCONNECTING) return;
    const wasOff = this.wait === 'off';
    this.dbg(`ctrl ${this.hex} ${why}`);
    this.remoteGone = true;
    this.dropHost();
    this.state = ST.OFF_LINE;
    if (wasOff) this.result(0);
    else this.result(-1);
  }

  get hex(): string {
    return `0x${this.ptr.toString(16)}`;
  }

  // ------------------------------------------------------------------ clock & link

  private hold(reason: string): void {
    if (!this.releaseHold) this.releaseHold = this.host.clock.hold(reason);
  }
  private unhold(): void {
    this.releaseHold?.();
    this.releaseHold = null;
  }

  /** watch the adapter: link loss ends UDP/listening ctrls too (TCP is destroyed by the model) */
  private watchLink(): void {
    if (this.linkWatch) return;
    const em = statusEmitter(this.host.net);
    if (!em) return;
    const fn = () => {
      if (this.ready) return;
      if (this.udp || this.listener || this.acceptQueue.length) this.lost('link down');
    };
    em.on('status', fn);
    this.linkWatch = () => em.off('status', fn);
  }

  private unwatchLink(): void {
    this.linkWatch?.();
    this.linkWatch = null;
  }

  // ------------------------------------------------------------------ API

  /** socket.linkup → [ok, upNow] */
  linkup(): [boolean, boolean] {
    if (this.ready) {
      if (this.state === ST.LINK_OFF) this.state = ST.OFF_LINE;
      return [true, true];
    }
    this.wait = 'link';
    this.whenReady(() => {
      if (this.state === ST.LINK_OFF) this.state = ST.OFF_LINE;
      if (this.wait === 'link') this.result(0);
    });
    return [true, false];
  }

  private whenReady(fn: () => void): void {
    const em = statusEmitter(this.host.net);
    if (!em) return;
    const gen = this.gen;
    const check = () => {
      if (gen !== this.gen || this.released) return em.off('status', check);
      if (!this.ready) return;
      em.off('status', check);
      fn();
    };
    em.on('status', check);
  }

  /** socket.connect → [ok, connectedNow] */
  connect(hostName: string, port: number): [boolean, boolean] {
    if (this.state === ST.ONLINE || this.state === ST.LISTEN || this.state === ST.CONNECTING || this.state === ST.WAIT_DNS || this.state === ST.SHAKEHAND) {
      this.host.log('E', 'socket', `ctrl ${this.hex} is busy (state ${this.state} ${this.stateText}), close it before connect`);
      return [false, false];
    }
    if (!(port >= 0 && port <= 65535)) {
      this.host.log('E', 'socket', `bad port ${port}`);
      return [false, false];
    }
    this.closeHost();
    this.remoteGone = false;
    this.wait = 'online';
    const gen = this.gen;
    if (!this.ready) {
      this.state = ST.LINK_OFF;
      this.whenReady(() => {
        if (gen === this.gen) void this.startConnect(hostName, port, gen);
      });
      return [true, false];
    }
    void this.startConnect(hostName, port, gen);
    return [true, false];
  }

  private async resolve(hostName: string, port: number): Promise<{ ip: string; port: number }> {
    const n = this.host.net as DeviceNetwork & { resolveAddress?: (h: string, p: number, a: number) => Promise<{ ip: string; port: number }> };
    if (typeof n.resolveAddress === 'function') return n.resolveAddress(hostName, port, this.adapter);
    const to = n.mapAddress(hostName, port);
    const ip = net.isIP(to.host) ? to.host : (await dns.promises.lookup(to.host, { family: 4 })).address;
    return { ip, port: to.port };
  }

  private async startConnect(hostName: string, port: number, gen: number): Promise<void> {
    this.hold(`socket ${hostName}:${port}`);
    this.state = net.isIP(hostName) ? ST.CONNECTING : ST.WAIT_DNS;
    if (this.cfg.udp) {
      let to: { ip: string; port: number };
      try {
        to = await this.resolve(hostName, port);
      } catch (err) {
        if (gen !== this.gen) return;
        this.host.log('E', 'socket', `dns fail ${hostName}: ${(err as Error).message}`);
        this.state = ST.OFF_LINE;
        this.unhold();
        return this.result(-1);
      }
      if (gen !== this.gen) return;
      this.remoteIps = [to.ip];
      this.udpRemote = to;
      try {
        await this.openUdp(gen);
      } catch (err) {
        if (gen !== this.gen) return;
        this.host.log('E', 'socket', `udp bind failed: ${(err as Error).message}`);
        this.state = ST.OFF_LINE;
        this.unhold();
        return this.result(-1);
      }
      if (gen !== this.gen) return;
      if (!(this.host.net as { logsConnections?: boolean }).logsConnections) this.host.log('D', 'net', `adapter ${this.adapter} connect ${to.ip}:${to.port} UDP`);
      this.state = ST.ONLINE;
      this.watchLink();
      return this.result(0);
    }
    let s: net.Socket;
    try {
      s = await this.host.net.connectTcp({ host: hostName, port, adapter: this.adapter, owner: 'socket' });
    } catch (err) {
      if (gen !== this.gen) return;
      const e = err as NetError;
      this.host.log('E', 'socket', `connect ${hostName}:${port} fail: ${e.message}`);
      this.state = this.ready ? ST.OFF_LINE : ST.LINK_OFF;
      this.unhold();
      return this.result(-1);
    }
    if (gen !== this.gen) {
      s.destroy();
      return;
    }
    this.remoteIps = [(s.remoteAddress ?? '').replace(/^::ffff:/, '')];
    if (this.cfg.keepIdle > 0) s.setKeepAlive(true, this.cfg.keepIdle * 1000);
    s.setNoDelay(true);
    if (this.cfg.tls) {
      this.state = ST.SHAKEHAND;
      const t = this.cfg.tls;
      const verify = !!t.serverCert;
      let ts: tls.TLSSocket;
      try {
        const o: tls.ConnectionOptions = { socket: s, rejectUnauthorized: verify };
        if (!net.isIP(hostName)) o.servername = hostName;
        // the device checks the chain against server_cert; a literal IP has no name to check
        else o.checkServerIdentity = () => undefined;
        if (t.serverCert) o.ca = t.serverCert;
        if (t.clientCert) o.cert = t.clientCert;
        if (t.clientKey) o.key = t.clientKey;
        if (t.clientPassword !== undefined) o.passphrase = t.clientPassword;
        ts = tls.connect(o);
      } catch (err) {
        s.destroy();
        this.host.log('E', 'socket', `TLS setup failed: ${(err as Error).message}`);
        this.state = ST.OFF_LINE;
        this.unhold();
        return this.result(-1);
      }
      const ok = await new Promise<boolean>((resolve) => {
        ts.once('secureConnect', () => resolve(true));
        ts.once('error', (err) => {
          if (gen === this.gen) this.host.log('E', 'socket', `TLS handshake failed: ${err.message}`);
          resolve(false);
        });
        s.once('close', () => resolve(false));
      });
      if (gen !== this.gen) {
        ts.destroy();
        return;
      }
      if (!ok) {
        ts.destroy();
        s.destroy();
        this.state = ST.OFF_LINE;
        this.unhold();
        return this.result(-1);
      }
      this.attachTcp(ts);
    } else this.attachTcp(s);
    this.state = ST.ONLINE;
    this.result(0);
  }

  private attachTcp(s: net.Socket): void {
    this.tcp = s;
    const gen = this.gen;
    s.on('data', (d: Buffer) => {
      if (gen !== this.gen) return;
      this.rx.push(d);
      this.rxBytes += d.length;
      if (this.rxBytes >= RX_WINDOW && !this.paused) {
        this.paused = true;
        s.pause();
      }
      this.dataArrived();
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (gen !== this.gen) return;
      this.dbg(`ctrl ${this.hex} error ${e.code ?? e.message}`);
    });
    s.on('end', () => {
      if (gen !== this.gen) return;
      if (this.state === ST.ONLINE) this.lost('remote close');
    });
    s.on('close', () => {
      if (gen !== this.gen) return;
      const link = (s as net.Socket & { [LINK_DOWN]?: string })[LINK_DOWN];
      if (this.state === ST.DISCONNECTING) {
        this.dropHost();
        this.state = ST.OFF_LINE;
        this.result(0);
        return;
      }
      this.lost(link ? `closed: ${link}` : 'remote close');
    });
  }

  /**
   * Bind the UDP socket. A configured local port is a device-side UDP server: it binds
   * 127.0.0.1 on the host port the listen rules give (default: the same port, else an
   * ephemeral one) and logs where the PC reaches it. Without a local port it is a client: an
   * ephemeral port on 127.0.0.1 when the peer is local, else on all interfaces (to reach it).
   */
  private openUdp(gen: number): Promise<void> {
    const dev = this.cfg.localPort;
    const rules = (this.host.net as { listenRules?: ListenRules }).listenRules;
    const configured = dev > 0 ? hostPortFor(rules, dev) : undefined;
    const peer = this.udpRemote?.ip ?? '';
    const address = dev > 0 || peer.startsWith('127.') ? '127.0.0.1' : undefined;
    const bindOne = (port: number): Promise<dgram.Socket> =>
      new Promise((resolve, reject) => {
        const u = dgram.createSocket({ type: 'udp4', recvBufferSize: 256 * 1024 });
        u.once('error', (e) => {
          u.close();
          reject(e);
        });
        u.bind({ port, address }, () => resolve(u));
      });
    const first = dev > 0 ? (configured ?? dev) : 0;
    return bindOne(first)
      .catch((e: NodeJS.ErrnoException) => {
        if (dev > 0 && configured === undefined && (e.code === 'EACCES' || e.code === 'EADDRINUSE' || e.code === 'EPERM')) return bindOne(0);
        throw e;
      })
      .then((u) => this.udpBound(u, gen));
  }

  private udpBound(u: dgram.Socket, gen: number): void {
    const dev = this.cfg.localPort;
    if (dev > 0) this.host.log('I', 'socket', `device UDP port ${dev} on adapter ${this.adapter}, reachable from the PC at 127.0.0.1:${u.address().port} (luatos-pc)`);
    u.removeAllListeners('error');
    u.on('error', (e) => this.dbg(`ctrl ${this.hex} udp error ${e.message}`));
    if (gen !== this.gen) {
      u.close();
      return;
    }
    this.udp = u;
    u.on('message', (msg, rinfo) => {
      if (gen !== this.gen) return;
      if (this.udpQ.length >= UDP_QUEUE) {
        this.dbg(`ctrl ${this.hex} udp queue full, datagram dropped`);
        return;
      }
      this.udpQ.push({ data: msg, ip: rinfo.address, port: rinfo.port });
      this.dataArrived();
    });
  }


  /**
   * A buffer to copy the next send's `n` bytes into: on a plain TCP ctrl, for sends of
   * TX_SCRATCH_MIN..TX_SCRATCH_MAX bytes, the ctrl's own scratch, which tx takes back when the
   * kernel took the whole send at once (so a send loop allocates no new buffer per round: less
   * GC, bench:net socket echo); otherwise (or while the scratch is still in the host socket's
   * queue) a new buffer.
   */
  txBuffer(n: number): Buffer {
    if (n >= TX_SCRATCH_MIN && n <= TX_SCRATCH_MAX && !this.udp && this.tcp && !(this.tcp instanceof tls.TLSSocket) && !this.txLent) {
      let s = this.txScratch;
      if (!s || s.length < n) s = Buffer.allocUnsafeSlow(Math.max(n, s ? s.length : 0));
      this.txScratch = null;
      this.txLent = s;
      return s.subarray(0, n);
    }
    return Buffer.allocUnsafe(n);
  }

  /** socket.tx → [ok, full, doneNow] */
  tx(data: Buffer, ip?: string, port?: number): [boolean, boolean, boolean] {
    // the scratch from txBuffer comes back unless its bytes stay queued in the host socket
    const lent = this.txLent && data.buffer === this.txLent.buffer ? this.txLent : null;
    this.txLent = null;
    if (lent) this.txScratch = lent;
    if (this.state !== ST.ONLINE) {
      this.dbg(`ctrl ${this.hex} tx while not online (state ${this.state})`);
      return [false, data.length !== 0, false];
    }
    const gen = this.gen;
    if (this.udp) {
      if (data.length > UDP_MAX) {
        this.host.log('E', 'socket', `udp payload ${data.length} bytes is too long`);
        return [false, true, false];
      }
      const to = ip && port ? { ip, port } : this.udpRemote;
      if (!to || !to.port) return [false, true, false];
      this.txPending++;
      this.wait = 'tx';
      const u = this.udp;
      udpSending(u, +1);
      u.send(data, to.port, to.ip, (err) => {
        udpSending(u, -1);
        if (gen !== this.gen) return;
        this.txPending--;
        if (err) this.dbg(`ctrl ${this.hex} udp send: ${err.message}`);
        if (this.txPending === 0 && this.wait === 'tx') this.result(err ? -1 : 0);
      });
      return [true, false, false];
    }
    const s = this.tcp;
    if (!s || s.destroyed) return [false, data.length !== 0, false];
    if (s.writableLength >= TX_LIMIT) return [true, true, true];
    if (lent) this.txScratch = null; // in the host socket's hands until proven sent
    this.txPending++;
    this.wait = 'tx';
    let reported = false;
    s.write(data, (err) => {
      if (gen !== this.gen || reported) return;
      this.txPending--;
      if (err) return; // the close path reports it
      if (this.txPending === 0 && this.wait === 'tx') this.result(0);
    });
    // The host kernel took every byte at once (nothing left in the stream's buffer): the send is
    // done now, so TX_OK is queued now, not a Node tick later when the write callback runs (that
    // callback is then ignored). It still reaches Lua only through rtos.receive, after this tx
    // returned, in the same order (tx → TX_OK → the reply's EVENT); it only saves the host an
    // extra resume of the VM per send (bench:net, socket echo). Not on a TLS ctrl (its bytes go
    // through the TLS layer first) nor while the host socket is still connecting.
    if (!(s instanceof tls.TLSSocket) && s.writableLength === 0 && !s.destroyed && !s.connecting) {
      reported = true;
      // the bytes are in the kernel: the scratch they were in is free again
      if (lent) this.txScratch = lent;
      this.txPending--;
      if (this.txPending === 0 && this.wait === 'tx') this.result(0);
    }
    return [true, false, false];
  }

  /** readable now: online, or gone with unread data */
  private get readable(): boolean {
    return this.state === ST.ONLINE || (this.remoteGone && (this.rxBytes > 0 || this.udpQ.length > 0));
  }

  /** bytes a TCP rx without a buffer reports / the next UDP datagram's size */
  pending(): number | null {
    if (!this.readable) return null;
    if (this.cfg.udp) return this.udpQ[0]?.data.length ?? 0;
    return this.rxBytes;
  }

  /**
   * Take received data: TCP up to `limit` bytes (`take(n)` tells how many fit; the rest stays
   * queued), UDP one datagram truncated to `limit`. null = error / not online.
   */
  receive(limit: number, room: (n: number) => number): { parts: Buffer[]; size: number; ip?: string; port?: number } | null {
    if (!this.readable) return null;
    this.newRx = false;
    if (this.cfg.udp) {
      const p = this.udpQ.shift();
      if (!p) return { parts: [], size: 0 };
      let d = limit > 0 && p.data.length > limit ? p.data.subarray(0, limit) : p.data;
      d = d.subarray(0, room(d.length));
      return { parts: [d], size: d.length, ip: p.ip, port: p.port };
    }
    let want = limit > 0 ? Math.min(limit, this.rxBytes) : this.rxBytes;
    want = room(want);
    // hand out the received chunks themselves when they fit whole (no copy)
    const parts: Buffer[] = [];
    let off = 0;
    while (off < want) {
      const head = this.rx[0];
      const n = Math.min(head.length, want - off);
      if (n === head.length) {
        parts.push(head);
        this.rx.shift();
      } else {
        parts.push(head.subarray(0, n));
        this.rx[0] = head.subarray(n);
      }
      off += n;
    }
    this.rxBytes -= want;
    if (this.paused && this.rxBytes < RX_WINDOW / 2 && this.tcp) {
      this.paused = false;
      this.tcp.resume();
    }
    return { parts, size: want };
  }

  /** socket.wait → [ok, dataNow] */
  waitEvent(): [boolean, boolean] {
    if (!this.readable && this.state !== ST.LISTEN) return [false, false];
    if (this.newRx) return [true, true];
    this.wait = 'event';
    return [true, false];
  }

  /** socket.listen → [ok, connectedNow]; the port comes from config */
  listen(multi: number): [boolean, boolean] {
    if (this.cfg.udp || this.state === ST.ONLINE || this.state === ST.LISTEN) {
      this.host.log('E', 'socket', `ctrl ${this.hex} cannot listen (${this.cfg.udp ? 'UDP' : this.stateText})`);
      return [false, false];
    }
    if (!this.ready) {
      this.host.log('E', 'socket', `adapter ${this.adapter} is not ready, cannot listen`);
      return [false, false];
    }
    this.closeHost();
    this.remoteGone = false;
    this.multi = Math.max(0, Math.min(ACCEPT_MAX, multi));
    const gen = this.gen;
    let handle: ListenHandle;
    try {
      handle = listenOnHost(this.host.net, this.cfg.localPort, this.adapter, (s) => this.incoming(s, gen), (m) => this.host.log('I', 'socket', m));
    } catch (err) {
      this.host.log('E', 'socket', `listen failed: ${(err as Error).message}`);
      return [false, false];
    }
    this.listener = handle;
    handle.ready.then(
      () => undefined,
      (err: Error) => {
        if (gen !== this.gen) return;
        this.host.log('E', 'socket', `listen on port ${this.cfg.localPort} failed: ${err.message}`);
        this.listener = null;
        this.state = ST.OFF_LINE;
        this.unhold();
        this.result(-1);
      },
    );
    this.state = ST.LISTEN;
    this.wait = 'online';
    this.hold(`listen ${this.cfg.localPort}`);
    this.watchLink();
    return [true, false];
  }

  /** the port the PC reaches this listener on (after listen succeeded) */
  get hostPort(): Promise<number> | null {
    return this.listener ? this.listener.ready : null;
  }

  private incoming(s: net.Socket, gen: number): void {
    if (gen !== this.gen || this.released) {
      s.destroy();
      return;
    }
    s.on('error', () => undefined);
    if (this.multi > 0) {
      if (this.acceptQueue.length >= this.multi) {
        this.dbg(`ctrl ${this.hex} accept queue full, client refused`);
        s.destroy();
        return;
      }
      this.acceptQueue.push(s);
      s.once('close', () => {
        const i = this.acceptQueue.indexOf(s);
        if (i >= 0) this.acceptQueue.splice(i, 1);
      });
      this.send(SOCKET_EVENTS.ON_LINE, 0);
      return;
    }
    if (this.state !== ST.LISTEN || this.tcp) {
      s.destroy();
      return;
    }
    this.clientAddr = { ip: (s.remoteAddress ?? '').replace(/^::ffff:/, ''), port: s.remotePort ?? 0 };
    this.remoteIps = [this.clientAddr.ip];
    this.attachTcp(s);
    this.state = ST.ONLINE;
    this.result(0);
  }

  /**
   * socket.accept: multi-client mode hands the oldest waiting client to `child` (made by the
   * binding with its own cb/task); single-client mode tells the connected client's address.
   */
  accept(child: NetCtrl | null): { ok: boolean; ip?: string; port?: number } {
    if (child) {
      const s = this.acceptQueue.shift();
      if (!s) return { ok: false };
      child.adopt(s);
      return { ok: true, ip: child.remoteIps[0], port: s.remotePort ?? 0 };
    }
    if (this.clientAddr) return { ok: true, ip: this.clientAddr.ip, port: this.clientAddr.port };
    return { ok: this.state === ST.LISTEN || this.state === ST.ONLINE };
  }

  /** a server-side connection handed over by accept */
  adopt(s: net.Socket): void {
    this.closeHost();
    this.remoteGone = false;
    this.remoteIps = [(s.remoteAddress ?? '').replace(/^::ffff:/, '')];
    this.clientAddr = { ip: this.remoteIps[0], port: s.remotePort ?? 0 };
    this.hold('accepted client');
    this.watchLink();
    this.attachTcp(s);
    this.state = ST.ONLINE;
  }

  /** socket.discon → [ok, closedNow] */
  discon(): [boolean, boolean] {
    if (this.cfg.udp || !this.tcp || this.state !== ST.ONLINE) {
      this.close();
      return [true, true];
    }
    this.state = ST.DISCONNECTING;
    this.wait = 'off';
    this.tcp.end();
    // a peer that never closes its side: give up after 5 s, as a force close (our bound)
    const gen = this.gen;
    const t = this.host.clock.setTimer(5000, () => {
      if (gen !== this.gen || this.state !== ST.DISCONNECTING) return;
      this.dropHost();
      this.state = ST.OFF_LINE;
      this.result(0);
    });
    this.tcp.once('close', () => this.host.clock.clearTimer(t));
    return [true, false];
  }

  /** socket.close: force close, no event; the ctrl can connect again */
  close(): void {
    this.closeHost();
    this.state = this.ready ? ST.OFF_LINE : ST.LINK_OFF;
    this.wait = 'none';
  }

  /** socket.release / __gc */
  release(): void {
    this.close();
    this.released = true;
  }

  /** destroy the host side and forget unread data */
  private closeHost(): void {
    this.dropHost();
    this.rx = [];
    this.rxBytes = 0;
    this.udpQ.length = 0;
    this.newRx = false;
    this.remoteGone = false;
  }

  /** destroy the host side (unread data stays) */
  private dropHost(): void {
    this.gen++;
    this.txPending = 0;
    this.paused = false;
    this.clientAddr = null;
    if (this.tcp) {
      this.tcp.destroy();
      this.tcp = null;
    }
    if (this.udp) {
      closeUdpWhenSent(this.udp);
      this.udp = null;
    }
    if (this.listener) {
      this.listener.close();
      this.listener = null;
    }
    for (const s of this.acceptQueue.splice(0)) s.destroy();
    this.unwatchLink();
    this.unhold();
  }
}
