/**
 * A TCP proxy in front of the RTMP ingest; the URLs the platform hands out point at it. It is
 * transparent until `rtmp-server throttle <kbps>` caps the client→server direction (the
 * device's uplink into the ingest).
 *
 * How the cap is applied: on loopback the kernel buffers several MB between a sender and a slow
 * reader (~3.5 MB measured), so a proxy that reads everything and only delays forwarding hides
 * the cap from the sender for minutes. This proxy limits what it *reads*: a token bucket (burst
 * 50 ms of the rate, at least 1460 bytes) releases queued bytes every 10 ms; while a
 * connection's queue holds data its socket is paused, so at most one read chunk (≤ 64 KiB) per
 * connection sits in the proxy and the rest backs up into the sender's socket. The cap is shared
 * by all connections (the server's ingest bandwidth). Queued bytes are never thrown away on a
 * clean close of the client: they are forwarded first, then the upstream side is ended.
 *
 * While the ingest is down the proxy does not listen (connections are refused, as with a dead
 * server); `listen()` again on the same port when it is back.
 */
import * as net from 'node:net';

export interface ProxyStats {
  /** bytes read from clients */
  bytesIn: number;
  /** bytes written to the ingest */
  bytesForwarded: number;
  /** bytes from the ingest to clients */
  bytesOut: number;
  /** connections accepted since start */
  connections: number;
  /** connections open now */
  open: number;
  /** current cap in bytes/s (Infinity = none) */
  rateBytesPerSec: number;
}

interface Conn {
  client: net.Socket;
  upstream: net.Socket;
  queue: Buffer[];
  queued: number;
  upReady: boolean;
  upBlocked: boolean;
  clientEnded: boolean;
  done: boolean;
}

const TICK_MS = 10;

export class ThrottleProxy {
  private server: net.Server | undefined;
  private readonly conns = new Set<Conn>();
  private rate = Infinity;
  private tokens = 0;
  private last = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private rr = 0;
  private _port = 0;
  readonly stats: Omit<ProxyStats, 'open' | 'rateBytesPerSec'> = { bytesIn: 0, bytesForwarded: 0, bytesOut: 0, connections: 0 };

  constructor(
    private readonly host: string,
    private readonly target: () => { host: string; port: number },
  ) {}

  get port(): number {
    return this._port;
  }

  get listening(): boolean {
    return this.server?.listening === true;
  }

  getStats(): ProxyStats {
    return { ...this.stats, open: this.conns.size, rateBytesPerSec: this.rate };
  }

  /** Cap client→ingest bytes per second (Infinity or 0 → no cap). */
  setRate(bytesPerSec: number): void {
    this.rate = bytesPerSec > 0 ? bytesPerSec : Infinity;
    this.tokens = 0;
    this.last = Date.now();
    this.kick();
  }

  get rateBytesPerSec(): number {
    return this.rate;
  }

  /** Listen on `port` (0 = a free one, default: the previous port). Resolves with the port. */
  listen(port = this._port): Promise<number> {
    if (this.server) return Promise.resolve(this._port);
    const srv = net.createServer((c) => this.accept(c));
    this.server = srv;
    return new Promise((resolve, reject) => {
      srv.once('error', (e) => {
        this.server = undefined;
        reject(e);
      });
      srv.listen(port, this.host, () => {
        srv.removeAllListeners('error');
        srv.on('error', () => {});
        this._port = (srv.address() as net.AddressInfo).port;
        resolve(this._port);
      });
    });
  }

  /** Stop listening and cut every connection (the ingest went away). */
  async close(): Promise<void> {
    const srv = this.server;
    this.server = undefined;
    for (const c of [...this.conns]) this.finish(c, true);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  }

  private accept(client: net.Socket): void {
    this.stats.connections++;
    client.pause();
    client.setNoDelay(true);
    const t = this.target();
    const upstream = net.connect({ host: t.host, port: t.port });
    upstream.setNoDelay(true);
    const c: Conn = { client, upstream, queue: [], queued: 0, upReady: false, upBlocked: false, clientEnded: false, done: false };
    this.conns.add(c);
    upstream.on('connect', () => {
      c.upReady = true;
      this.flush(c);
      this.maybeResume(c);
    });
    upstream.on('data', (d: Buffer) => {
      this.stats.bytesOut += d.length;
      if (!client.write(d)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
    upstream.on('drain', () => {
      c.upBlocked = false;
      this.flush(c);
      this.maybeResume(c);
    });
    upstream.on('end', () => {
      if (!client.destroyed) client.end();
    });
    upstream.on('error', (e: NodeJS.ErrnoException) => {
      // a dead server: the client sees a reset, as it would without the proxy
      this.finish(c, true, e.code !== undefined);
    });
    upstream.on('close', () => this.finish(c, false));
    client.on('data', (d: Buffer) => {
      this.stats.bytesIn += d.length;
      c.queue.push(d);
      c.queued += d.length;
      this.flush(c);
      this.maybeResume(c);
    });
    client.on('end', () => {
      c.clientEnded = true;
      this.flush(c);
    });
    client.on('error', () => this.finish(c, true));
    client.on('close', () => {
      // keep flushing what was queued if the client closed cleanly; otherwise cut
      if (c.queued === 0 || !c.clientEnded) this.finish(c, true);
    });
  }

  private maybeResume(c: Conn): void {
    if (c.done || c.clientEnded) return;
    if (c.upReady && !c.upBlocked && c.queued === 0) c.client.resume();
    else c.client.pause();
  }

  /** Forward what the bucket allows. */
  private flush(c: Conn): void {
    if (c.done || !c.upReady) return;
    if (this.rate === Infinity) {
      while (c.queue.length > 0 && !c.upBlocked) this.send(c, c.queue.shift()!);
      c.queued = c.queue.reduce((n, b) => n + b.length, 0);
    } else {
      this.refill();
      while (c.queue.length > 0 && !c.upBlocked && this.tokens >= 1) {
        const head = c.queue[0];
        const n = Math.min(head.length, Math.floor(this.tokens));
        if (n === head.length) c.queue.shift();
        else c.queue[0] = head.subarray(n);
        this.tokens -= n;
        c.queued -= n;
        this.send(c, n === head.length ? head : head.subarray(0, n));
      }
      if (c.queued > 0) this.kick();
    }
    if (c.queued === 0 && c.clientEnded && !c.upstream.destroyed && !c.upstream.writableEnded) {
      // everything forwarded: pass the FIN on; 'close' of the upstream finishes the connection
      c.upstream.end();
      setTimeout(() => this.finish(c, true), 5000).unref();
    }
  }

  private send(c: Conn, b: Buffer): void {
    this.stats.bytesForwarded += b.length;
    if (!c.upstream.write(b)) c.upBlocked = true;
  }

  private refill(): void {
    const now = Date.now();
    const burst = Math.max(this.rate * 0.05, 1460);
    this.tokens = Math.min(this.tokens + ((now - this.last) * this.rate) / 1000, burst);
    this.last = now;
  }

  /** Run the pump while some queue holds data under a cap. */
  private kick(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const pending = [...this.conns].filter((c) => c.queued > 0 && !c.done);
      if (pending.length === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
        return;
      }
      // round robin so that one connection cannot starve the others
      this.rr = (this.rr + 1) % pending.length;
      for (let i = 0; i < pending.length; i++) {
        const c = pending[(this.rr + i) % pending.length];
        this.flush(c);
        this.maybeResume(c);
      }
    }, TICK_MS);
  }

  private finish(c: Conn, cut: boolean, reset = false): void {
    if (c.done) return;
    if (!cut && c.queued > 0 && !c.upstream.destroyed) return;
    c.done = true;
    this.conns.delete(c);
    c.queue = [];
    c.queued = 0;
    if (reset && !c.client.destroyed) {
      try {
        c.client.resetAndDestroy();
      } catch {
        c.client.destroy();
      }
    } else c.client.destroy();
    c.upstream.destroy();
  }
}
