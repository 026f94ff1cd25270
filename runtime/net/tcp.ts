/**
 * The TCP side of the Wi-Fi model: every TCP connection a script (socket, http, mqtt, rtmp, ...)
 * opens through the device goes through `connect`, so that host mapping and the device's DNS
 * lines apply, a connection on an adapter that is not ready fails (NetError 'link-down'), and the
 * open ones die when their link drops (`closeAll`). It logs `net:adapter <a> connect <ip>:<port>
 * TCP` with the address really used and reports each step as a netdrv EVT_SOCKET event
 * (`SocketEvent`). While a connection is open a virtual clock runs at wall speed (real I/O).
 */
import * as net from 'node:net';
import type { SocketEvent, SocketEventName } from './events';
import type { DeviceResolver } from './resolver';
import type { NetScope } from './scope';
import { LINK_DOWN, NetError, TcpConnectOptions } from './types';

/** What the connections ask of the model. */
export interface TcpAdapters {
  adapterReady(adapter: number): boolean;
  defaultAdapter(): number;
  /** report a netdrv EVT_SOCKET event */
  socketEvent(adapter: number, event: SocketEventName, params: SocketEvent['params']): void;
}

interface Conn {
  socket: net.Socket;
  adapter: number;
  params: SocketEvent['params'];
  remoteEnded: boolean;
  dropped: boolean;
}

interface Pending {
  adapter: number;
  abort: (e: NetError) => void;
}

export class TcpConnections {
  private readonly conns = new Set<Conn>();
  private readonly pending = new Set<Pending>();

  constructor(
    private readonly scope: NetScope,
    private readonly resolver: DeviceResolver,
    private readonly adapters: TcpAdapters,
  ) {}

  /** Connections currently open. */
  get size(): number {
    return this.conns.size;
  }

  async connect(opts: TcpConnectOptions): Promise<net.Socket> {
    const adapter = opts.adapter ?? this.adapters.defaultAdapter();
    const emitSocket = (event: SocketEventName, p: SocketEvent['params']) => this.adapters.socketEvent(adapter, event, p);
    const proto = opts.owner ?? 'tcp';
    const params: SocketEvent['params'] = { remote_port: opts.port, proto };
    if (!net.isIP(opts.host)) params.domain_name = opts.host;
    if (!this.adapters.adapterReady(adapter)) {
      emitSocket('error', params);
      throw new NetError(`adapter ${adapter} is not ready (no link / no IP)`, 'link-down');
    }
    const gen = this.scope.gen;
    const to = this.resolver.mapAddress(opts.host, opts.port);
    let ip: string;
    try {
      ip = await this.resolver.resolve(opts.host, to.host, adapter);
    } catch (e) {
      emitSocket('dns_result', { ...params });
      emitSocket('error', params);
      throw new NetError(`DNS lookup of ${to.host} failed: ${(e as Error).message}`, 'dns');
    }
    if (params.domain_name) emitSocket('dns_result', { ...params, remote_ip: ip });
    if (gen !== this.scope.gen || !this.adapters.adapterReady(adapter)) {
      emitSocket('error', params);
      throw new NetError(`adapter ${adapter} went down`, 'link-down');
    }
    params.remote_ip = ip;
    params.online_ip = ip;
    params.remote_port = to.port;
    this.scope.log('D', 'net', `adapter ${adapter} connect ${ip}:${to.port} TCP`);
    emitSocket('connecting', params);
    const host = this.scope.host;
    return await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: ip, port: to.port });
      // a virtual clock runs at wall speed while the connection exists (real I/O)
      const release = host?.clock.hold(`tcp ${ip}:${to.port}`);
      s.once('close', () => release?.());
      let settled = false;
      const pend: Pending = {
        adapter,
        abort: (e) => {
          if (settled) return;
          settled = true;
          cleanup();
          s.destroy();
          emitSocket('error', params);
          reject(e);
        },
      };
      this.pending.add(pend);
      const timer = host
        ? host.clock.setTimer(opts.timeoutMs ?? 10000, () => {
            if (settled) return;
            settled = true;
            cleanup();
            s.destroy();
            emitSocket('timeout', params);
            reject(new NetError(`connect to ${ip}:${to.port} timed out`, 'timeout'));
          })
        : null;
      const cleanup = () => {
        this.pending.delete(pend);
        if (timer && host) host.clock.clearTimer(timer);
      };
      s.once('connect', () => {
        if (settled) return;
        settled = true;
        cleanup();
        const c: Conn = { socket: s, adapter, params, remoteEnded: false, dropped: false };
        this.conns.add(c);
        s.once('end', () => (c.remoteEnded = true));
        s.once('close', (hadError) => {
          this.conns.delete(c);
          emitSocket(c.remoteEnded ? 'remote_close' : hadError && !c.dropped ? 'error' : 'closed', params);
          this.scope.statusChanged();
        });
        emitSocket('connected', params);
        this.scope.statusChanged();
        resolve(s);
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        cleanup();
        emitSocket('error', params);
        const kind = e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'ECONNRESET' ? 'reset' : e.code === 'ETIMEDOUT' ? 'timeout' : 'other';
        reject(new NetError(`connect to ${ip}:${to.port} failed: ${e.message}`, kind));
      });
    });
  }

  /** Destroy every connection on `adapter` (all adapters when omitted). */
  closeAll(adapter?: number, linkDown?: string): void {
    for (const c of [...this.conns]) {
      if (adapter === undefined || c.adapter === adapter) {
        c.dropped = true;
        if (linkDown) (c.socket as net.Socket & { [LINK_DOWN]?: string })[LINK_DOWN] = linkDown;
        c.socket.destroy();
      }
    }
    for (const p of [...this.pending]) {
      if (adapter === undefined || p.adapter === adapter) p.abort(new NetError('connections closed', 'link-down'));
    }
  }
}
