/**
 * The device's name resolution for every connection the Wi-Fi model carries: the host map
 * (`--map`, the profile's `hosts`), the adapters' DNS servers (socket.setDNS) and the device's
 * DNS log lines, with the `dns fail <host>` fault.
 *
 * For a host name the device logs (as in the reference log, `adatper` sic):
 *   D DNS:<name> state 0 id <n> ipv6 0 use dns server0, try 0
 *   D net:adatper <a> dns server <dns1>
 *   D net:dns udp sendto <dns1>:53 from <ip>
 *   I DNS:dns all done ,now stop
 * then the mapped target is resolved by the host resolver. An adapter that uses the host resolver
 * itself (the PC simulator's) logs none of these.
 */
import * as dns from 'node:dns';
import * as net from 'node:net';
import { applyMapping, HostMapRule } from './direct';
import type { NetScope } from './scope';
import { MappedAddress, NetError } from './types';

/** What the resolver asks of the model about an adapter. */
export interface ResolverAdapters {
  isRegistered(adapter: number): boolean;
  /** the adapter resolves with the host resolver (no device DNS lines) */
  hostResolver(adapter: number): boolean;
  /** the adapter's own address (the `from` of the DNS line) */
  ip(adapter: number): string;
}

export class DeviceResolver {
  /** per boot: adapter → its DNS servers (socket.setDNS, the DHCP lease) */
  private readonly servers = new Map<number, string[]>();
  /** per boot: the DNS query id of the log line */
  private seq = 0;
  /** environment (survives reboots): host names whose DNS lookups fail (`dns fail <host>`) */
  private readonly failing = new Set<string>();

  constructor(
    private readonly scope: NetScope,
    readonly rules: HostMapRule[],
    private readonly defaults: string[],
    private readonly adapters: ResolverAdapters,
  ) {}

  resetForBoot(): void {
    this.servers.clear();
    this.seq = 0;
  }

  /** apply host mapping */
  mapAddress(host: string, port: number): MappedAddress {
    return applyMapping(this.rules, host, port);
  }

  /** The adapter got an address: its DNS servers are the defaults unless the script set some. */
  leaseDefaults(adapter: number): void {
    if (!this.servers.has(adapter)) this.servers.set(adapter, [...this.defaults]);
  }

  /** socket.setDNS: index is 1-based; logs the firmware line. false for unregistered adapters. */
  setDns(adapter: number, index: number, ip: string): boolean {
    if (!this.adapters.isRegistered(adapter) || index < 1 || index > 2) return false;
    const list = this.servers.get(adapter) ?? [...this.defaults];
    list[index - 1] = ip;
    this.servers.set(adapter, list);
    this.scope.log('D', 'net', `设置DNS服务器 id ${adapter} index ${index - 1} ip ${ip}`);
    return true;
  }

  dns(adapter: number): string[] {
    return [...(this.servers.get(adapter) ?? this.defaults)];
  }

  /** Make DNS lookups of `host` fail (no answer) until `clearFailures()`. */
  fail(host: string): void {
    this.failing.add(host.toLowerCase());
  }

  clearFailures(): void {
    this.failing.clear();
  }

  /**
   * Resolve the host a script named: the device's DNS lines for a name (with the adapter's DNS
   * server, as in the reference log), then the mapped target (`target`, already mapped) via the
   * host resolver when it is a name. `dns all done` is logged once the address is known.
   */
  async resolve(asked: string, target: string, adapter: number): Promise<string> {
    const hostResolver = this.adapters.hostResolver(adapter);
    // a board adapter with the host resolver (the PC simulator's) logs no device DNS lines, but
    // the `dns fail` fault still applies to it
    if (hostResolver && !net.isIP(asked) && this.failing.has(asked.toLowerCase())) {
      throw new NetError(`DNS lookup of ${asked} failed`, 'dns');
    }
    const isName = !net.isIP(asked) && !hostResolver;
    if (isName) {
      const server = this.dns(adapter)[0] ?? '223.5.5.5';
      this.scope.log('D', 'DNS', `${asked} state 0 id ${++this.seq} ipv6 0 use dns server0, try 0`);
      this.scope.log('D', 'net', `adatper ${adapter} dns server ${server}`);
      this.scope.log('D', 'net', `dns udp sendto ${server}:53 from ${this.adapters.ip(adapter)}`);
      if (this.failing.has(asked.toLowerCase())) {
        this.scope.log('E', 'DNS', `${asked} dns fail, no answer`);
        throw new NetError(`DNS lookup of ${asked} failed`, 'dns');
      }
    }
    const ip = net.isIP(target) ? target : (await dns.promises.lookup(target, { family: 4 })).address;
    if (isName) this.scope.log('I', 'DNS', 'dns all done ,now stop');
    return ip;
  }
}
