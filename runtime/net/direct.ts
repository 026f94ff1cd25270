/**
 * The simplest DeviceNetwork: always up, connections go straight to the host network, with
 * optional host mapping. Used until a network model replaces it, and by library tests.
 */
import * as net from 'node:net';
import { DeviceNetwork, MappedAddress, NetError, TcpConnectOptions } from './types';

export interface HostMapRule {
  host: string;
  /** undefined: any port */
  port?: number;
  toHost: string;
  /** undefined: keep the port */
  toPort?: number;
}

/** Parse `HOST[:PORT]=ADDR[:PORT]`. */
export function parseMapRule(s: string): HostMapRule {
  const m = /^([^=:\s]+)(?::(\d+))?=([^=:\s]+)(?::(\d+))?$/.exec(s.trim());
  if (!m) throw new Error(`bad mapping '${s}': use HOST[:PORT]=ADDR[:PORT]`);
  return { host: m[1].toLowerCase(), port: m[2] ? Number(m[2]) : undefined, toHost: m[3], toPort: m[4] ? Number(m[4]) : undefined };
}

export function applyMapping(rules: HostMapRule[], host: string, port: number): MappedAddress {
  const h = host.toLowerCase();
  // a rule with a port wins over a host-only rule
  const r = rules.find((x) => x.host === h && x.port === port) ?? rules.find((x) => x.host === h && x.port === undefined);
  if (!r) return { host, port, mapped: false };
  return { host: r.toHost, port: r.toPort ?? port, mapped: true };
}

export class DirectNetwork implements DeviceNetwork {
  private readonly sockets = new Set<net.Socket>();
  /** device port → host port for listening sockets (runtime/net/listen.ts) */
  listenRules: Record<string, number> | undefined;
  constructor(readonly rules: HostMapRule[] = []) {}

  adapterReady(_adapter: number): boolean {
    return true;
  }
  defaultAdapter(): number {
    return 2;
  }
  mapAddress(host: string, port: number): MappedAddress {
    return applyMapping(this.rules, host, port);
  }
  connectTcp(opts: TcpConnectOptions): Promise<net.Socket> {
    const to = this.mapAddress(opts.host, opts.port);
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: to.host, port: to.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new NetError(`connect to ${to.host}:${to.port} timed out`, 'timeout'));
      }, opts.timeoutMs ?? 10000);
      s.once('connect', () => {
        clearTimeout(timer);
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
        resolve(s);
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const kind = e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' ? 'dns' : e.code === 'ECONNRESET' ? 'reset' : 'other';
        reject(new NetError(`connect to ${to.host}:${to.port} failed: ${e.message}`, kind));
      });
    });
  }
  closeAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}
