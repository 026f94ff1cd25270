/**
 * The device's Wi-Fi network model: one `WifiNetwork` per device. It implements the
 * `DeviceNetwork` the bindings use for traffic (http, rtmp, sntp) and holds the state the
 * `wlan`, `socket` and `netdrv` modules show to scripts.
 *
 * Adapters (runtime/net/adapters.ts, Jan/Feb 2026 numbering): `LWIP_STA` (2) is the simulated
 * Wi-Fi station and carries real traffic through the host network while it has an IP;
 * `LWIP_AP` (3) exists (registered) and is "ready" only after `wlan.createAP`. No other adapter
 * is registered on an Air8101 without extra hardware.
 *
 * Station model:
 *  - `connect(ssid, pw)` starts an attempt: after `assocMs` (≈1 s) the STA is associated
 *    (`WLAN_STA_INC("CONNECTED", ssid, bssid6)`), after a further `dhcpMs` (≈0.5 s) it has an IP
 *    (`IP_READY(ip, 2)`). Unknown SSID / out of range → after `failMs`
 *    `WLAN_STA_INC("DISCONNECTED", 257)`; wrong password → `DISCONNECTED 258` (the Beken SDK's
 *    WIFI_REASON_NO_AP_FOUND / WRONG_PASSWORD; the official PC mock uses the same numbers).
 *  - Virtual APs come from the profile or `--wifi`; with none configured any SSID and password
 *    join ("open lab"); an AP with an empty password is open and accepts any password.
 *  - Link loss (`linkDown()`, an AP password change): `DISCONNECTED 256` (beacon lost) then
 *    `IP_LOSE(2)`; every TCP connection on the STA is destroyed; new ones fail with NetError
 *    'link-down'. `wlan.disconnect()`: `DISCONNECTED 259` (disconnect by app), `IP_LOSE(2)`.
 *  - Auto-reconnect (`wlan.connect`'s 3rd argument, default 1): after any failure or loss the
 *    STA tries again every `reconnectMs` (a choice: the SDK retries without limit), each failed
 *    attempt publishing `DISCONNECTED` again, until it joins or the script calls
 *    `wlan.disconnect()`.
 *  - A reboot (new VM) resets the station as the real chip does: not connected, no credentials,
 *    default adapter back to `LWIP_STA`. The simulated environment (APs, faults) stays.
 *
 * Firmware log lines (luatos-api.md §6.4/§9.2, from the reference log):
 *   D wlan:event_module 1 event_id 2 / D wlan:STA connected <ssid>  (trailing space as on device)
 *   D wlan:event_module 2 event_id 0 / D wlan:ipv4 got!! <ip> / D net:network ready 2, setup dns server
 *   D wlan:sta ip <ip>
 * On disconnect we log `D wlan:STA disconnected, reason <n>` (our wording: the Air8101 BSP is
 * closed source and the reference log has no disconnect).
 *
 * Host mapping (`--map`, profile `hosts`) applies to every connection. `connectTcp` (and SNTP in
 * real mode) log the device's lines: for a host name `DNS:<name> state 0 id <n> ipv6 0 use dns
 * server0, try 0`, `net:adatper 2 dns server <dns1>` (sic), `net:dns udp sendto <dns1>:53 from
 * <ip>`, `I DNS:dns all done ,now stop`, then `net:adapter 2 connect <ip>:<port> TCP|UDP` with
 * the address really used (the mapped one). `logsConnections = true` tells the http binding
 * not to log them again.
 */
import { EventEmitter } from 'node:events';
import * as dns from 'node:dns';
import type * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as crypto from 'node:crypto';
import type { TimerHandle } from '../core/clock';
import type { Device } from '../core/device';
import type { Vm } from '../core/vm/vm';
import { ADAPTER_QTY, LWIP_AP, LWIP_STA, WIFI_REASON } from './adapters';
import { applyMapping, HostMapRule } from './direct';
import type { ListenRules } from './listen';
import { queryNtp } from './ntp';
import { DeviceNetwork, LINK_DOWN, MappedAddress, NetError, TcpConnectOptions } from './types';
import type { LogLevel } from '../core/log';

export interface VirtualApConfig {
  ssid: string;
  /** '' = open network */
  password: string;
  rssi?: number;
  channel?: number;
  /** 12 hex digits; default derived from the SSID */
  bssid?: string;
}

export interface VirtualAp {
  ssid: string;
  password: string;
  rssi: number;
  channel: number;
  bssid: Buffer;
  /** joined in "open lab" mode without being configured: any password works */
  implicit: boolean;
}

export interface WifiTiming {
  /** connect → associated (WLAN_STA_INC CONNECTED) */
  assocMs: number;
  /** associated → IP_READY */
  dhcpMs: number;
  /** connect → DISCONNECTED for an unknown SSID / wrong password */
  failMs: number;
  /** pause before an automatic reconnect attempt */
  reconnectMs: number;
  /** wlan.scan → WLAN_SCAN_DONE */
  scanMs: number;
  /** --sntp host: query → NTP_UPDATE (the reference log shows ≈210 ms) */
  sntpHostMs: number;
  /** per-server NTP timeout */
  ntpTimeoutMs: number;
}

export const DEFAULT_TIMING: WifiTiming = {
  assocMs: 1000,
  dhcpMs: 500,
  failMs: 2000,
  reconnectMs: 2000,
  scanMs: 1500,
  sntpHostMs: 210,
  ntpTimeoutMs: 2000,
};

export interface WifiNetworkOptions {
  /** STA MAC, 12 hex digits (the AP MAC is this + 1) */
  mac?: string;
  ip?: string;
  netmask?: string;
  gateway?: string;
  /** DNS servers set when the STA gets its IP (default 223.5.5.5, 114.114.114.114) */
  dns?: string[];
  aps?: VirtualApConfig[];
  rules?: HostMapRule[];
  /** host: take the host clock; real: query NTP servers over UDP */
  sntp?: 'host' | 'real';
  timing?: Partial<WifiTiming>;
  hostname?: string;
  /** host ports for the script's listening sockets (runtime/net/listen.ts) */
  listen?: ListenRules;
}

export type StaPhase = 'idle' | 'connecting' | 'associated' | 'up';

export type SocketEventName = 'create' | 'release' | 'connecting' | 'timeout' | 'closed' | 'connected' | 'remote_close' | 'error' | 'dns_result';

/** What `netdrv.on(adapter, netdrv.EVT_SOCKET, fn)` receives. */
export interface SocketEvent {
  adapter: number;
  event: SocketEventName;
  params: { remote_ip?: string; online_ip?: string; remote_port?: number; domain_name?: string; proto: string };
}

export interface WifiStatus {
  phase: StaPhase;
  ssid: string | null;
  ip: string | null;
  outOfRange: boolean;
  autoReconnect: boolean;
  defaultAdapter: number;
  openConnections: number;
}

export interface NtpInfo {
  /** Unix ms at the moment of sync, minus device uptime then: wall = diff + uptime */
  bootDiffMs: number;
  /** estimated one-way network delay */
  delayMs: number;
}

/**
 * An adapter a board brings besides the Wi-Fi station and soft AP (the PC simulator's "posix"
 * host-socket adapter, runtime/net/posix-adapter.ts). It shares the model's plumbing (host
 * mapping, connections, link-loss bookkeeping); the model asks it whether it is ready and for
 * its addresses, and tells it about every boot.
 */
export interface BoardAdapter {
  /** the adapter index scripts use (socket.ETH0 = 17 on the PC simulator) */
  readonly id: number;
  /** has an address: traffic may flow */
  ready(): boolean;
  /** socket.localIP(id) */
  ipInfo(): { ip: string; mask: string; gw: string };
  /** it resolves names with the host resolver (no device DNS log lines) */
  readonly hostResolver?: boolean;
  /** a new boot bound to `vm` (start its timers; publish events with vm.publish) */
  boot?(vm: Vm): void;
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

function hexMac(b: Buffer): string {
  return b.toString('hex').toUpperCase();
}

function bssidFor(ssid: string): Buffer {
  const h = crypto.createHash('sha1').update(`bssid:${ssid}`).digest();
  const b = Buffer.from(h.subarray(0, 6));
  b[0] = (b[0] & 0xfe) | 0x02; // unicast, locally administered
  return b;
}

function channelFor(ssid: string): number {
  const h = crypto.createHash('sha1').update(`ch:${ssid}`).digest();
  return [1, 6, 11][h[0] % 3];
}

export class WifiNetwork extends EventEmitter implements DeviceNetwork {
  readonly timing: WifiTiming;
  readonly rules: HostMapRule[];
  readonly sntpMode: 'host' | 'real';
  /** none configured at construction: any SSID joins */
  readonly openLab: boolean;
  /** device port → host port for listening sockets (runtime/net/listen.ts) */
  listenRules: ListenRules | undefined;
  private readonly aps: VirtualAp[] = [];

  // addresses
  private macSta: Buffer;
  private macAp: Buffer;
  private readonly leaseIp: string;
  private readonly leaseMask: string;
  private readonly leaseGw: string;
  private readonly defaultDns: string[];
  private hostnameValue: string;

  // binding to the device's current boot
  private device: Device | null = null;
  private vm: Vm | null = null;

  // per-boot state (reset by a reboot)
  private phase: StaPhase = 'idle';
  private cred: { ssid: string; password: string; auto: boolean; bssid?: Buffer } | null = null;
  private wantConnected = false;
  private currentAp: VirtualAp | null = null;
  private staTimer: TimerHandle | null = null;
  private retryTimer: TimerHandle | null = null;
  private scanTimer: TimerHandle | null = null;
  private lastScan: VirtualAp[] = [];
  private staticIp: { ip: string; mask: string; gw: string } | null = null;
  private dft = LWIP_STA;
  private readonly dnsServers = new Map<number, string[]>();
  private apActive: { ssid: string; password: string; gw: string; mask: string; channel: number } | null = null;
  wlanMode = 1;
  powerSaveMode = 0;
  private sntpRunning = false;
  private sntpPortValue = 123;
  private ntp: NtpInfo | null = null;
  /** bumped on every reboot: async work of an older boot checks it and stops */
  private gen = 0;
  private readonly conns = new Set<Conn>();
  private readonly pending = new Set<Pending>();
  private readonly udpSockets = new Set<dgram.Socket>();
  private dnsSeq = 0;
  /** tells the http binding that this network logs the DNS/connect lines itself */
  readonly logsConnections = true;

  // environment (survives reboots): the fault injection state
  private outOfRange = false;

  // adapters a board brings (addAdapter); the default adapter at boot and socket.dft's 2nd value
  private readonly boardAdapters = new Map<number, BoardAdapter>();
  private bootDefaultAdapter = LWIP_STA;
  private lastRegistered = LWIP_AP;

  constructor(opts: WifiNetworkOptions = {}) {
    super();
    this.timing = { ...DEFAULT_TIMING, ...(opts.timing ?? {}) };
    this.rules = opts.rules ?? [];
    this.sntpMode = opts.sntp ?? 'host';
    const mac = (opts.mac ?? 'C8C2C68C5DEA').replace(/[^0-9a-fA-F]/g, '');
    this.macSta = Buffer.from(mac.padEnd(12, '0').slice(0, 12), 'hex');
    this.macAp = Buffer.from(this.macSta);
    this.macAp[5] = (this.macAp[5] + 1) & 0xff;
    this.leaseIp = opts.ip ?? '192.168.1.100';
    this.leaseMask = opts.netmask ?? '255.255.255.0';
    this.leaseGw = opts.gateway ?? '192.168.1.1';
    this.defaultDns = opts.dns && opts.dns.length > 0 ? [...opts.dns] : ['223.5.5.5', '114.114.114.114'];
    this.hostnameValue = opts.hostname ?? `LUATOS_${hexMac(this.macSta)}`;
    for (const a of opts.aps ?? []) this.aps.push(this.makeAp(a, false));
    this.openLab = this.aps.length === 0;
    this.listenRules = opts.listen;
  }

  private makeAp(a: VirtualApConfig, implicit: boolean): VirtualAp {
    return {
      ssid: a.ssid,
      password: a.password,
      rssi: a.rssi ?? -45 - (this.aps.length * 7) % 40,
      channel: a.channel ?? channelFor(a.ssid),
      bssid: a.bssid ? Buffer.from(a.bssid, 'hex') : bssidFor(a.ssid),
      implicit,
    };
  }

  // ================================================================== device binding

  /**
   * Bind to the device's current VM (called by the wlan/socket/netdrv bindings when a VM
   * opens them; idempotent). A new VM means the device rebooted: the station starts over.
   */
  attachVm(vm: Vm): void {
    if (this.vm === vm) return;
    this.device = vm.device;
    this.resetForBoot();
    this.vm = vm;
    for (const a of this.boardAdapters.values()) a.boot?.(vm);
    vm.onClose(() => {
      if (this.vm !== vm) return;
      this.resetForBoot();
      this.vm = null;
    });
  }

  /** The device this model is bound to (after the first boot). */
  get attachedDevice(): Device | null {
    return this.device;
  }

  private resetForBoot(): void {
    this.gen++;
    this.clearTimer('staTimer');
    this.clearTimer('retryTimer');
    this.clearTimer('scanTimer');
    this.dropAllConnections();
    for (const s of this.udpSockets) {
      try {
        s.close();
      } catch {
        /* closed */
      }
    }
    this.udpSockets.clear();
    this.phase = 'idle';
    this.cred = null;
    this.wantConnected = false;
    this.currentAp = null;
    this.lastScan = [];
    this.staticIp = null;
    this.dft = this.bootDefaultAdapter;
    this.dnsServers.clear();
    this.apActive = null;
    this.wlanMode = 1;
    this.powerSaveMode = 0;
    this.sntpRunning = false;
    this.sntpPortValue = 123;
    this.ntp = null;
    this.dnsSeq = 0;
    this.emitStatus();
  }

  private clearTimer(k: 'staTimer' | 'retryTimer' | 'scanTimer'): void {
    if (this[k] && this.device) this.device.clock.clearTimer(this[k]);
    this[k] = null;
  }

  private setTimer(ms: number, fn: () => void): TimerHandle | null {
    if (!this.device) return null;
    const gen = this.gen;
    return this.device.clock.setTimer(ms, () => {
      if (gen === this.gen) fn();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (!this.device) return resolve();
      this.device.clock.setTimer(ms, resolve);
    });
  }

  private log(level: LogLevel, mod: string, msg: string): void {
    this.device?.logRuntime(level, mod, msg);
  }

  private pub(topic: string, ...args: (string | number | boolean | Uint8Array | null)[]): void {
    if (this.vm && !this.vm.isDead) this.vm.publish(topic, ...args);
  }

  private emitStatus(): void {
    this.emit('status', this.status());
  }

  status(): WifiStatus {
    return {
      phase: this.phase,
      ssid: this.currentAp?.ssid ?? this.cred?.ssid ?? null,
      ip: this.phase === 'up' ? this.ipInfo().ip : null,
      outOfRange: this.outOfRange,
      autoReconnect: this.cred?.auto ?? false,
      defaultAdapter: this.dft,
      openConnections: this.conns.size,
    };
  }

  // ================================================================== DeviceNetwork

  /** Registered adapters: STA and AP (Air8101 without extra hardware), plus a board's own. */
  isRegistered(adapter: number): boolean {
    return adapter === LWIP_STA || adapter === LWIP_AP || this.boardAdapters.has(adapter);
  }

  /**
   * Register a board's adapter (runtime/boards/). It is registered after STA and AP, so it is
   * socket.dft's 2nd value; `makeDefault`: it is the default adapter at every boot.
   */
  addAdapter(a: BoardAdapter, opts: { makeDefault?: boolean } = {}): void {
    this.boardAdapters.set(a.id, a);
    this.lastRegistered = a.id;
    if (opts.makeDefault) {
      this.bootDefaultAdapter = a.id;
      if (!this.vm) this.dft = a.id;
    }
  }

  adapterReady(adapter: number): boolean {
    const b = this.boardAdapters.get(adapter);
    if (b) return b.ready();
    if (adapter === LWIP_STA) return this.phase === 'up';
    if (adapter === LWIP_AP) return this.apActive !== null;
    return false;
  }

  defaultAdapter(): number {
    return this.dft;
  }

  /** socket.dft(id): ids 1..QTY-1 are accepted (as the firmware: `id < QTY`). */
  setDefaultAdapter(id: number): boolean {
    if (id <= 0 || id >= ADAPTER_QTY) return false;
    this.dft = id;
    this.emitStatus();
    return true;
  }

  /**
   * The last registered adapter (socket.dft's 2nd result): AP registers after STA (a choice);
   * a board's adapter after both.
   */
  lastRegisteredAdapter(): number {
    return this.lastRegistered;
  }

  mapAddress(host: string, port: number): MappedAddress {
    return applyMapping(this.rules, host, port);
  }

  async connectTcp(opts: TcpConnectOptions): Promise<net.Socket> {
    const adapter = opts.adapter ?? this.dft;
    const proto = opts.owner ?? 'tcp';
    const params: SocketEvent['params'] = { remote_port: opts.port, proto };
    if (!net.isIP(opts.host)) params.domain_name = opts.host;
    if (!this.adapterReady(adapter)) {
      this.emitSocket(adapter, 'error', params);
      throw new NetError(`adapter ${adapter} is not ready (no link / no IP)`, 'link-down');
    }
    const gen = this.gen;
    const to = this.mapAddress(opts.host, opts.port);
    let ip: string;
    try {
      ip = await this.resolve(opts.host, to.host, adapter);
    } catch (e) {
      this.emitSocket(adapter, 'dns_result', { ...params });
      this.emitSocket(adapter, 'error', params);
      throw new NetError(`DNS lookup of ${to.host} failed: ${(e as Error).message}`, 'dns');
    }
    if (params.domain_name) this.emitSocket(adapter, 'dns_result', { ...params, remote_ip: ip });
    if (gen !== this.gen || !this.adapterReady(adapter)) {
      this.emitSocket(adapter, 'error', params);
      throw new NetError(`adapter ${adapter} went down`, 'link-down');
    }
    params.remote_ip = ip;
    params.online_ip = ip;
    params.remote_port = to.port;
    this.log('D', 'net', `adapter ${adapter} connect ${ip}:${to.port} TCP`);
    this.emitSocket(adapter, 'connecting', params);
    return await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: ip, port: to.port });
      // a virtual clock runs at wall speed while the connection exists (real I/O)
      const release = this.device?.clock.hold(`tcp ${ip}:${to.port}`);
      s.once('close', () => release?.());
      let settled = false;
      const pend: Pending = {
        adapter,
        abort: (e) => {
          if (settled) return;
          settled = true;
          cleanup();
          s.destroy();
          this.emitSocket(adapter, 'error', params);
          reject(e);
        },
      };
      this.pending.add(pend);
      const timer = this.device
        ? this.device.clock.setTimer(opts.timeoutMs ?? 10000, () => {
            if (settled) return;
            settled = true;
            cleanup();
            s.destroy();
            this.emitSocket(adapter, 'timeout', params);
            reject(new NetError(`connect to ${ip}:${to.port} timed out`, 'timeout'));
          })
        : null;
      const cleanup = () => {
        this.pending.delete(pend);
        if (timer && this.device) this.device.clock.clearTimer(timer);
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
          this.emitSocket(adapter, c.remoteEnded ? 'remote_close' : hadError && !c.dropped ? 'error' : 'closed', params);
          this.emitStatus();
        });
        this.emitSocket(adapter, 'connected', params);
        this.emitStatus();
        resolve(s);
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        cleanup();
        this.emitSocket(adapter, 'error', params);
        const kind = e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'ECONNRESET' ? 'reset' : e.code === 'ETIMEDOUT' ? 'timeout' : 'other';
        reject(new NetError(`connect to ${ip}:${to.port} failed: ${e.message}`, kind));
      });
    });
  }

  /**
   * Resolve a script's host for a UDP socket (socket.connect on a UDP ctrl): host mapping, the
   * device's DNS log lines, then `net:adapter <a> connect <ip>:<port> UDP`. Rejects with
   * NetError ('link-down' / 'dns').
   */
  async resolveAddress(host: string, port: number, adapter: number = this.dft): Promise<{ ip: string; port: number }> {
    if (!this.adapterReady(adapter)) throw new NetError(`adapter ${adapter} is not ready (no link / no IP)`, 'link-down');
    const to = this.mapAddress(host, port);
    let ip: string;
    try {
      ip = await this.resolve(host, to.host, adapter);
    } catch (e) {
      throw e instanceof NetError ? e : new NetError(`DNS lookup of ${to.host} failed: ${(e as Error).message}`, 'dns');
    }
    this.log('D', 'net', `adapter ${adapter} connect ${ip}:${to.port} UDP`);
    return { ip, port: to.port };
  }

  /** host names whose DNS lookups fail (fault injection: `dns fail <host>`) */
  private readonly failingDns = new Set<string>();

  /** Make DNS lookups of `host` fail (no answer) until `clearDnsFailures()`. */
  failDns(host: string): void {
    this.failingDns.add(host.toLowerCase());
  }
  clearDnsFailures(): void {
    this.failingDns.clear();
  }

  /**
   * Resolve the host a script named: the device's DNS lines for a name (with the adapter's DNS
   * server, as in the reference log), then the mapped target (`target`, already mapped) via the
   * host resolver when it is a name. `dns all done` is logged once the address is known.
   */
  private async resolve(asked: string, target: string, adapter: number): Promise<string> {
    // a board adapter with the host resolver (the PC simulator's) logs no device DNS lines, but
    // the `dns fail` fault still applies to it
    if (this.boardAdapters.get(adapter)?.hostResolver && !net.isIP(asked) && this.failingDns.has(asked.toLowerCase())) {
      throw new NetError(`DNS lookup of ${asked} failed`, 'dns');
    }
    const isName = !net.isIP(asked) && !this.boardAdapters.get(adapter)?.hostResolver;
    if (isName) {
      const server = this.dns(adapter)[0] ?? '223.5.5.5';
      this.log('D', 'DNS', `${asked} state 0 id ${++this.dnsSeq} ipv6 0 use dns server0, try 0`);
      this.log('D', 'net', `adatper ${adapter} dns server ${server}`);
      this.log('D', 'net', `dns udp sendto ${server}:53 from ${this.ipInfo(adapter).ip}`);
      if (this.failingDns.has(asked.toLowerCase())) {
        this.log('E', 'DNS', `${asked} dns fail, no answer`);
        throw new NetError(`DNS lookup of ${asked} failed`, 'dns');
      }
    }
    const ip = net.isIP(target) ? target : (await dns.promises.lookup(target, { family: 4 })).address;
    if (isName) this.log('I', 'DNS', 'dns all done ,now stop');
    return ip;
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

  private dropAllConnections(): void {
    this.closeAll();
  }

  /** Connections currently open through the model (for tests and the console). */
  get openConnections(): number {
    return this.conns.size;
  }

  private emitSocket(adapter: number, event: SocketEventName, params: SocketEvent['params']): void {
    this.emit('socket', { adapter, event, params: { ...params } } as SocketEvent);
  }

  // ================================================================== addresses

  ipInfo(adapter = LWIP_STA): { ip: string; mask: string; gw: string } {
    const b = this.boardAdapters.get(adapter);
    if (b) return b.ipInfo();
    if (adapter === LWIP_AP) {
      return this.apActive ? { ip: this.apActive.gw, mask: this.apActive.mask, gw: this.apActive.gw } : { ip: '0.0.0.0', mask: '0.0.0.0', gw: '0.0.0.0' };
    }
    if (this.phase !== 'up') return { ip: '0.0.0.0', mask: '0.0.0.0', gw: '0.0.0.0' };
    return this.staticIp ? { ...this.staticIp } : { ip: this.leaseIp, mask: this.leaseMask, gw: this.leaseGw };
  }

  setStaticIp(ip: string | null, mask?: string, gw?: string): void {
    this.staticIp = ip ? { ip, mask: mask ?? '255.255.255.0', gw: gw ?? this.leaseGw } : null;
  }

  get dhcpEnabled(): boolean {
    return this.staticIp === null;
  }

  mac(adapter: number): Buffer {
    if (adapter === LWIP_STA) return Buffer.from(this.macSta);
    if (adapter === LWIP_AP) return Buffer.from(this.macAp);
    return Buffer.alloc(6);
  }

  setMac(adapter: number, mac: Buffer): boolean {
    if (mac.length !== 6) return false;
    if (adapter === LWIP_STA) this.macSta = Buffer.from(mac);
    else if (adapter === LWIP_AP) this.macAp = Buffer.from(mac);
    else return false;
    return true;
  }

  get hostname(): string {
    return this.hostnameValue;
  }
  set hostname(v: string) {
    this.hostnameValue = v;
  }

  /** socket.setDNS: index is 1-based; logs the firmware line. false for unregistered adapters. */
  setDns(adapter: number, index: number, ip: string): boolean {
    if (!this.isRegistered(adapter) || index < 1 || index > 2) return false;
    const list = this.dnsServers.get(adapter) ?? [...this.defaultDns];
    list[index - 1] = ip;
    this.dnsServers.set(adapter, list);
    this.log('D', 'net', `设置DNS服务器 id ${adapter} index ${index - 1} ip ${ip}`);
    return true;
  }

  dns(adapter = LWIP_STA): string[] {
    return [...(this.dnsServers.get(adapter) ?? this.defaultDns)];
  }

  // ================================================================== station

  get staPhase(): StaPhase {
    return this.phase;
  }

  /** associated with an AP (netdrv.link) */
  get linked(): boolean {
    return this.phase === 'associated' || this.phase === 'up';
  }

  get connectedAp(): VirtualAp | null {
    return this.linked ? this.currentAp : null;
  }

  /** the credentials of the last wlan.connect (reused by a connect without arguments) */
  get lastCredentials(): { ssid: string; password: string } | null {
    return this.cred ? { ssid: this.cred.ssid, password: this.cred.password } : null;
  }

  /** wlan.connect: start an attempt (returns at once, as the firmware). */
  connect(ssid: string, password: string, autoReconnect = true, bssid?: Buffer): void {
    this.clearTimer('staTimer');
    this.clearTimer('retryTimer');
    if (this.linked) this.loseLink(WIFI_REASON.DISCONNECT_BY_APP);
    this.cred = { ssid, password, auto: autoReconnect, bssid };
    this.wantConnected = true;
    this.startAttempt();
  }

  /** wlan.disconnect */
  disconnect(): void {
    this.wantConnected = false;
    this.clearTimer('staTimer');
    this.clearTimer('retryTimer');
    if (this.linked) this.loseLink(WIFI_REASON.DISCONNECT_BY_APP);
    else this.phase = 'idle';
    this.emitStatus();
  }

  private findAp(ssid: string, bssid?: Buffer): VirtualAp | undefined {
    return this.aps.find((a) => (ssid ? a.ssid === ssid : false) || (!ssid && bssid && a.bssid.equals(bssid)));
  }

  /** null = would join; otherwise the failure reason */
  private judge(): { ap: VirtualAp } | { reason: number } {
    const c = this.cred;
    if (!c) return { reason: WIFI_REASON.NO_AP_FOUND };
    if (this.outOfRange) return { reason: WIFI_REASON.NO_AP_FOUND };
    let ap = this.findAp(c.ssid, c.bssid);
    if (!ap) {
      if (!this.openLab || !c.ssid) return { reason: WIFI_REASON.NO_AP_FOUND };
      ap = this.makeAp({ ssid: c.ssid, password: c.password }, true);
      this.aps.push(ap);
    }
    if (!ap.implicit && ap.password !== '' && ap.password !== c.password) return { reason: WIFI_REASON.WRONG_PASSWORD };
    return { ap };
  }

  private startAttempt(): void {
    this.phase = 'connecting';
    this.emitStatus();
    const first = this.judge();
    const ms = 'ap' in first ? this.timing.assocMs : this.timing.failMs;
    this.staTimer = this.setTimer(ms, () => {
      this.staTimer = null;
      const v = this.judge();
      if ('ap' in v) this.associated(v.ap);
      else this.attemptFailed(v.reason);
    });
  }

  private associated(ap: VirtualAp): void {
    this.phase = 'associated';
    this.currentAp = ap;
    this.log('D', 'wlan', 'event_module 1 event_id 2');
    this.log('D', 'wlan', `STA connected ${ap.ssid} `);
    this.pub('WLAN_STA_INC', 'CONNECTED', ap.ssid, ap.bssid);
    this.emitStatus();
    this.staTimer = this.setTimer(this.timing.dhcpMs, () => {
      this.staTimer = null;
      if (this.phase !== 'associated') return;
      if (this.outOfRange) {
        this.loseLink(WIFI_REASON.BEACON_LOST);
        return;
      }
      this.gotIp();
    });
  }

  private gotIp(): void {
    this.phase = 'up';
    const { ip } = this.ipInfo(LWIP_STA);
    if (!this.dnsServers.has(LWIP_STA)) this.dnsServers.set(LWIP_STA, [...this.defaultDns]);
    this.log('D', 'wlan', 'event_module 2 event_id 0');
    this.log('D', 'wlan', `ipv4 got!! ${ip}`);
    this.log('D', 'net', `network ready ${LWIP_STA}, setup dns server`);
    this.log('D', 'wlan', `sta ip ${ip}`);
    this.pub('IP_READY', ip, LWIP_STA);
    this.emitStatus();
  }

  private attemptFailed(reason: number): void {
    this.phase = 'idle';
    this.currentAp = null;
    this.log('D', 'wlan', `STA disconnected, reason ${reason}`);
    this.pub('WLAN_STA_INC', 'DISCONNECTED', reason);
    this.emitStatus();
    this.scheduleRetry();
  }

  /** The link is gone: sockets die, DISCONNECTED(reason), IP_LOSE if there was an IP, maybe retry. */
  private loseLink(reason: number): void {
    const hadIp = this.phase === 'up';
    this.clearTimer('staTimer');
    this.phase = 'idle';
    this.currentAp = null;
    this.closeAll(LWIP_STA, 'the Wi-Fi link went down');
    this.log('D', 'wlan', `STA disconnected, reason ${reason}`);
    this.pub('WLAN_STA_INC', 'DISCONNECTED', reason);
    if (hadIp) this.pub('IP_LOSE', LWIP_STA);
    this.emitStatus();
    if (reason !== WIFI_REASON.DISCONNECT_BY_APP) this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (!this.wantConnected || !this.cred?.auto || this.retryTimer) return;
    this.retryTimer = this.setTimer(this.timing.reconnectMs, () => {
      this.retryTimer = null;
      if (this.wantConnected && this.phase === 'idle') this.startAttempt();
    });
  }

  // ================================================================== scan

  /** wlan.scan: WLAN_SCAN_DONE after scanMs; results via scanResults(). */
  scan(): void {
    if (this.scanTimer) return;
    this.scanTimer = this.setTimer(this.timing.scanMs, () => {
      this.scanTimer = null;
      this.lastScan = this.visibleAps();
      this.pub('WLAN_SCAN_DONE');
    });
  }

  visibleAps(): VirtualAp[] {
    if (this.outOfRange) return [];
    return [...this.aps].sort((a, b) => b.rssi - a.rssi);
  }

  scanResults(): VirtualAp[] {
    return [...this.lastScan];
  }

  // ================================================================== soft AP (minimal)

  createAp(ssid: string, password: string, gw: string, mask: string, channel: number): void {
    this.apActive = { ssid, password, gw, mask, channel };
    this.emitStatus();
  }
  stopAp(): void {
    this.closeAll(LWIP_AP);
    this.apActive = null;
    this.emitStatus();
  }

  // ================================================================== fault injection

  /**
   * The radio link drops (AP switched off / out of range) until `linkUp()`: an associated
   * STA gets DISCONNECTED 256 and IP_LOSE, open connections are destroyed, and reconnect
   * attempts fail with 257 meanwhile.
   */
  linkDown(): void {
    this.outOfRange = true;
    if (this.linked) this.loseLink(WIFI_REASON.BEACON_LOST);
    this.emitStatus();
  }

  /** The AP is back: the next (automatic or scripted) attempt joins. */
  linkUp(): void {
    this.outOfRange = false;
    if (this.phase === 'idle' && this.wantConnected && this.cred?.auto && !this.retryTimer && !this.staTimer) this.startAttempt();
    this.emitStatus();
  }

  /**
   * Change (or create) a virtual AP's password. A STA joined to it with another password is
   * dropped (the AP restarts: DISCONNECTED 256, IP_LOSE) and its retries fail with 258.
   */
  setApPassword(ssid: string, password: string): void {
    let ap = this.aps.find((a) => a.ssid === ssid);
    if (!ap) {
      ap = this.makeAp({ ssid, password }, false);
      this.aps.push(ap);
    }
    ap.password = password;
    ap.implicit = false;
    if (this.linked && this.currentAp === ap && this.cred && password !== '' && this.cred.password !== password) {
      this.loseLink(WIFI_REASON.BEACON_LOST);
    }
    this.emitStatus();
  }

  /** The virtual APs (configured and, in open-lab mode, the ones joined so far). */
  listAps(): VirtualAp[] {
    return this.aps.map((a) => ({ ...a, bssid: Buffer.from(a.bssid) }));
  }

  // ================================================================== SNTP

  get sntpPort(): number {
    return this.sntpPortValue;
  }
  set sntpPort(p: number) {
    this.sntpPortValue = p;
  }

  get sntpBusy(): boolean {
    return this.sntpRunning;
  }

  /**
   * socket.sntp: query the servers one after the other (each gets `ntpTimeoutMs`). Success:
   * sets the device clock, logs `sntp:Unix timestamp: N`, publishes NTP_UPDATE(0). None
   * answered: NTP_ERROR. --sntp host answers from the host clock after `sntpHostMs` (only while
   * the adapter is ready); --sntp real sends NTP requests over UDP (host mapping applies).
   */
  sntp(servers: string[], adapter?: number): void {
    if (this.sntpRunning) {
      this.log('D', 'sntp', 'sntp is running');
      return;
    }
    this.sntpRunning = true;
    void this.runSntp(servers, adapter ?? this.dft, this.gen);
  }

  private async runSntp(servers: string[], adapter: number, gen: number): Promise<void> {
    const alive = () => gen === this.gen;
    for (const server of servers) {
      if (!alive()) return;
      this.log('D', 'sntp', `query ${server}`);
      if (!this.adapterReady(adapter)) {
        await this.sleep(this.timing.ntpTimeoutMs);
        continue;
      }
      if (this.sntpMode === 'host') {
        await this.sleep(this.timing.sntpHostMs);
        if (!alive()) return;
        if (!this.adapterReady(adapter)) continue;
        this.sntpSuccess(Date.now(), Math.round(this.timing.sntpHostMs / 10));
        return;
      }
      const to = this.mapAddress(server, this.sntpPortValue);
      let ip: string;
      try {
        ip = await this.resolve(server, to.host, adapter);
      } catch {
        continue;
      }
      if (!alive()) return;
      this.log('D', 'net', `adapter ${adapter} connect ${ip}:${to.port} UDP`);
      try {
        const ans = await queryNtp(
          ip,
          to.port,
          this.timing.ntpTimeoutMs,
          {
            set: (ms, fn) => {
              const d = this.device;
              if (!d) return () => undefined;
              const h = d.clock.setTimer(ms, fn);
              return () => d.clock.clearTimer(h);
            },
          },
          (s) => {
            this.udpSockets.add(s);
            s.once('close', () => this.udpSockets.delete(s));
          },
        );
        if (!alive()) return;
        this.sntpSuccess(ans.serverMs + Math.round(ans.rttMs / 2), Math.round(ans.rttMs / 2));
        return;
      } catch {
        if (!alive()) return;
      }
    }
    if (!alive()) return;
    this.sntpRunning = false;
    this.pub('NTP_ERROR');
  }

  private sntpSuccess(unixMs: number, delayMs: number): void {
    this.sntpRunning = false;
    const d = this.device;
    const up = d ? d.uptime() : 0;
    d?.clock.setWallTime(unixMs);
    this.ntp = { bootDiffMs: unixMs - up, delayMs };
    this.log('D', 'sntp', `Unix timestamp: ${Math.floor(unixMs / 1000)}`);
    this.pub('NTP_UPDATE', 0);
  }

  /**
   * socket.ntptm(): the fields of the firmware's sntp context. From the firmware source the
   * seconds are Unix seconds (the transmit timestamp minus the 1900→1970 offset), although the
   * API doc says "since 1900": `ssec/sms` = wall time minus ticks at the last sync, `lsec/lms` =
   * ticks since boot now, `tsec/tms` = their sum (the current time), `ndelay` = network delay,
   * `vaild` (sic) = synced at least once since boot.
   */
  ntptm(): { tsec: number; tms: number; vaild: boolean; ndelay: number; ssec: number; sms: number; lsec: number; lms: number } {
    const up = Math.floor(this.device ? this.device.uptime() : 0);
    const lsec = Math.floor(up / 1000);
    const lms = up % 1000;
    const diff = Math.floor(this.ntp?.bootDiffMs ?? 0);
    const ssec = Math.floor(diff / 1000);
    const sms = diff - ssec * 1000;
    const total = diff + up;
    return { tsec: Math.floor(total / 1000), tms: total % 1000, vaild: this.ntp !== null, ndelay: this.ntp?.delayMs ?? 0, ssec, sms, lsec, lms };
  }
}
