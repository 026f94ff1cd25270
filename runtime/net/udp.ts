/**
 * The UDP side of the Wi-Fi model: resolving a script's UDP peer (socket.connect on a UDP ctrl:
 * host mapping, the device's DNS lines, then `net:adapter <a> connect <ip>:<port> UDP`), and the
 * host UDP sockets the model itself opens (SNTP in real mode), closed on every reboot.
 */
import type * as dgram from 'node:dgram';
import type { DeviceResolver } from './resolver';
import type { NetScope } from './scope';
import { NetError } from './types';

export class UdpPlumbing {
  private readonly sockets = new Set<dgram.Socket>();

  constructor(
    private readonly scope: NetScope,
    private readonly resolver: DeviceResolver,
    private readonly adapterReady: (adapter: number) => boolean,
  ) {}

  /**
   * Resolve a UDP peer; rejects with NetError ('link-down' / 'dns'). Logs the device's DNS lines
   * and the `connect ... UDP` line.
   */
  async resolveAddress(host: string, port: number, adapter: number): Promise<{ ip: string; port: number }> {
    if (!this.adapterReady(adapter)) throw new NetError(`adapter ${adapter} is not ready (no link / no IP)`, 'link-down');
    const to = this.resolver.mapAddress(host, port);
    let ip: string;
    try {
      ip = await this.resolver.resolve(host, to.host, adapter);
    } catch (e) {
      throw e instanceof NetError ? e : new NetError(`DNS lookup of ${to.host} failed: ${(e as Error).message}`, 'dns');
    }
    this.connectLine(adapter, ip, to.port);
    return { ip, port: to.port };
  }

  /** `D net:adapter <a> connect <ip>:<port> UDP` */
  connectLine(adapter: number, ip: string, port: number): void {
    this.scope.log('D', 'net', `adapter ${adapter} connect ${ip}:${port} UDP`);
  }

  /** Keep a host UDP socket of the model until it closes or the device reboots. */
  track(s: dgram.Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  /** Close every tracked socket (a reboot). */
  closeAll(): void {
    for (const s of this.sockets) {
      try {
        s.close();
      } catch {
        /* closed */
      }
    }
    this.sockets.clear();
  }
}
