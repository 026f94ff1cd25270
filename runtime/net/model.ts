/**
 * The device's Wi-Fi network model: one `WifiNetwork` per device. It implements the
 * `DeviceNetwork` the bindings use for traffic (http, rtmp, sntp) and holds the state the
 * `wlan`, `socket` and `netdrv` modules show to scripts. It emits typed events (`NetEvent`,
 * runtime/net/events.ts: `sta-connected`, `ip-ready`, ..., and the firmware's log lines as `log`
 * events) and knows nothing of Lua: luatos-api/shared/net-events.ts binds it to each boot's VM
 * and turns the events into topics and log lines.
 *
 * This class puts the parts together:
 *   wifi-station.ts  the station (LWIP_STA, 2), the virtual APs, the link faults
 *   ap.ts            the soft AP (LWIP_AP, 3)
 *   resolver.ts      host map, DNS servers and the device's DNS lines, the `dns fail` fault
 *   tcp.ts           TCP connections through an adapter (`connectTcp`, `closeAll`)
 *   udp.ts           UDP peers (`resolveAddress`) and the model's own UDP sockets
 *   sntp.ts          socket.sntp / socket.ntptm
 *   scope.ts         what they share: the boot's clock and generation, the event channel
 * and keeps the adapter registry (board adapters: runtime/net/events.ts `BoardAdapter`), the
 * default adapter, MACs and the host name.
 *
 * Adapters (runtime/net/adapters.ts, Jan/Feb 2026 numbering): `LWIP_STA` (2) is the simulated
 * Wi-Fi station and carries real traffic through the host network while it has an IP;
 * `LWIP_AP` (3) exists (registered) and is "ready" only after `wlan.createAP`. No other adapter
 * is registered on an Air8101 without extra hardware.
 *
 * A reboot (`boot`) resets the station as the real chip does: not connected, no credentials,
 * default adapter back to the boot default. The simulated environment (APs, faults) stays.
 *
 * Host mapping (`--map`, profile `hosts`) applies to every connection. `connectTcp` (and SNTP in
 * real mode) log the device's lines: for a host name `DNS:<name> state 0 id <n> ipv6 0 use dns
 * server0, try 0`, `net:adatper 2 dns server <dns1>` (sic), `net:dns udp sendto <dns1>:53 from
 * <ip>`, `I DNS:dns all done ,now stop`, then `net:adapter 2 connect <ip>:<port> TCP|UDP` with
 * the address really used (the mapped one). `logsConnections = true` tells the http binding
 * not to log them again.
 */
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import { ADAPTER_QTY, LWIP_AP, LWIP_STA } from './adapters';
import { SoftAp } from './ap';
import type { HostMapRule } from './direct';
import type { BoardAdapter, NetBoot, NetEvent, NetHost, SocketEvent, SocketEventName } from './events';
import type { ListenRules } from './listen';
import { DeviceResolver } from './resolver';
import { NetScope } from './scope';
import { Sntp } from './sntp';
import { TcpConnections } from './tcp';
import type { DeviceNetwork, MappedAddress, TcpConnectOptions } from './types';
import { UdpPlumbing } from './udp';
import { WifiStation } from './wifi-station';
import { DEFAULT_TIMING, type IpInfo, type StaPhase, type VirtualAp, type WifiNetworkOptions, type WifiStatus, type WifiTiming } from './wifi-types';

export type { BoardAdapter, NetBoot, NetEvent, NetHost, SocketEvent, SocketEventName } from './events';
export type { NtpInfo, StaPhase, VirtualAp, VirtualApConfig, WifiNetworkOptions, WifiStatus, WifiTiming } from './wifi-types';
export { DEFAULT_TIMING } from './wifi-types';

function hexMac(b: Buffer): string {
  return b.toString('hex').toUpperCase();
}

export class WifiNetwork extends EventEmitter implements DeviceNetwork {
  readonly timing: WifiTiming;
  readonly rules: HostMapRule[];
  readonly sntpMode: 'host' | 'real';
  /** device port → host port for listening sockets (runtime/net/listen.ts) */
  listenRules: ListenRules | undefined;
  /** tells the http binding that this network logs the DNS/connect lines itself */
  readonly logsConnections = true;

  private readonly scope: NetScope;
  private readonly station: WifiStation;
  private readonly ap: SoftAp;
  private readonly resolver: DeviceResolver;
  private readonly tcp: TcpConnections;
  private readonly udp: UdpPlumbing;
  private readonly sntpClient: Sntp;

  // addresses
  private macSta: Buffer;
  private macAp: Buffer;
  private hostnameValue: string;

  /** the current boot (null between boots) */
  private currentBoot: object | null = null;

  // per-boot state (reset by a reboot)
  private dft = LWIP_STA;
  wlanMode = 1;
  powerSaveMode = 0;

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
    const lease: IpInfo = { ip: opts.ip ?? '192.168.1.100', mask: opts.netmask ?? '255.255.255.0', gw: opts.gateway ?? '192.168.1.1' };
    const defaultDns = opts.dns && opts.dns.length > 0 ? [...opts.dns] : ['223.5.5.5', '114.114.114.114'];
    this.hostnameValue = opts.hostname ?? `LUATOS_${hexMac(this.macSta)}`;
    this.listenRules = opts.listen;

    const scope = (this.scope = new NetScope(() => this.emitStatus()));
    this.resolver = new DeviceResolver(scope, this.rules, defaultDns, {
      isRegistered: (a) => this.isRegistered(a),
      hostResolver: (a) => this.boardAdapters.get(a)?.hostResolver === true,
      ip: (a) => this.ipInfo(a).ip,
    });
    this.tcp = new TcpConnections(scope, this.resolver, {
      adapterReady: (a) => this.adapterReady(a),
      defaultAdapter: () => this.dft,
      socketEvent: (adapter, event, params) => this.emitSocket(adapter, event, params),
    });
    this.udp = new UdpPlumbing(scope, this.resolver, (a) => this.adapterReady(a));
    this.sntpClient = new Sntp(scope, this.sntpMode, this.timing, this.resolver, this.udp, (a) => this.adapterReady(a));
    this.station = new WifiStation(scope, this.timing, lease, opts.aps ?? [], {
      closeConnections: (why) => this.tcp.closeAll(LWIP_STA, why),
      leased: () => this.resolver.leaseDefaults(LWIP_STA),
    });
    this.ap = new SoftAp(
      () => this.tcp.closeAll(LWIP_AP),
      () => this.emitStatus(),
    );
  }

  // ================================================================== events and boots

  /** Listen to the model's events (in the device's order); returns the function that stops. */
  onEvent(fn: (e: NetEvent) => void): () => void {
    return this.scope.onEvent(fn);
  }

  /** How many event listeners are attached (tests: the bindings unsubscribe per boot). */
  get eventListenerCount(): number {
    return this.scope.listenerCount;
  }

  /**
   * A new boot of the device `host` (it rebooted: a new VM): the station, the soft AP, DNS, SNTP
   * and the connections start over, and the board adapters start (`BoardAdapter.boot`, their
   * events count only while this boot lasts). `bootUptime` is the ms since this boot. Returns
   * the function that ends the boot (the VM stopped; idempotent): the model resets if this is
   * still its current boot, then the handlers the adapters gave `onEnd` run.
   */
  boot(host: NetHost, bootUptime: () => number): () => void {
    const token = {};
    const enders: (() => void)[] = [];
    this.scope.host = host;
    this.resetForBoot();
    this.currentBoot = token;
    const b: NetBoot = {
      host,
      uptime: bootUptime,
      emit: (e) => {
        if (this.currentBoot === token) this.scope.emit(e);
      },
      onEnd: (fn) => {
        enders.push(fn);
      },
    };
    for (const a of this.boardAdapters.values()) a.boot?.(b);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (this.currentBoot === token) {
        this.resetForBoot();
        this.currentBoot = null;
      }
      for (const fn of enders) fn();
    };
  }

  private resetForBoot(): void {
    this.scope.gen++;
    this.station.resetForBoot();
    this.tcp.closeAll();
    this.udp.closeAll();
    this.dft = this.bootDefaultAdapter;
    this.resolver.resetForBoot();
    this.ap.resetForBoot();
    this.wlanMode = 1;
    this.powerSaveMode = 0;
    this.sntpClient.resetForBoot();
    this.emitStatus();
  }

  private emitStatus(): void {
    this.emit('status', this.status());
  }

  private emitSocket(adapter: number, event: SocketEventName, params: SocketEvent['params']): void {
    this.emit('socket', { adapter, event, params: { ...params } } as SocketEvent);
  }

  status(): WifiStatus {
    const st = this.station;
    return {
      phase: st.phase,
      ssid: st.ssid,
      ip: st.phase === 'up' ? this.ipInfo().ip : null,
      outOfRange: st.outOfRange,
      autoReconnect: st.autoReconnect,
      defaultAdapter: this.dft,
      openConnections: this.tcp.size,
    };
  }

  // ================================================================== adapters (DeviceNetwork)

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
      if (!this.currentBoot) this.dft = a.id;
    }
  }

  adapterReady(adapter: number): boolean {
    const b = this.boardAdapters.get(adapter);
    if (b) return b.ready();
    if (adapter === LWIP_STA) return this.station.phase === 'up';
    if (adapter === LWIP_AP) return this.ap.ready;
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

  // ================================================================== traffic

  mapAddress(host: string, port: number): MappedAddress {
    return this.resolver.mapAddress(host, port);
  }

  connectTcp(opts: TcpConnectOptions): Promise<net.Socket> {
    return this.tcp.connect(opts);
  }

  /**
   * Resolve a script's host for a UDP socket (socket.connect on a UDP ctrl): host mapping, the
   * device's DNS log lines, then `net:adapter <a> connect <ip>:<port> UDP`. Rejects with
   * NetError ('link-down' / 'dns').
   */
  resolveAddress(host: string, port: number, adapter: number = this.dft): Promise<{ ip: string; port: number }> {
    return this.udp.resolveAddress(host, port, adapter);
  }

  /** Make DNS lookups of `host` fail (no answer) until `clearDnsFailures()`. */
  failDns(host: string): void {
    this.resolver.fail(host);
  }
  clearDnsFailures(): void {
    this.resolver.clearFailures();
  }

  /** Destroy every connection on `adapter` (all adapters when omitted). */
  closeAll(adapter?: number, linkDown?: string): void {
    this.tcp.closeAll(adapter, linkDown);
  }

  /** Connections currently open through the model (for tests and the console). */
  get openConnections(): number {
    return this.tcp.size;
  }

  // ================================================================== addresses

  ipInfo(adapter = LWIP_STA): IpInfo {
    const b = this.boardAdapters.get(adapter);
    if (b) return b.ipInfo();
    if (adapter === LWIP_AP) return this.ap.ipInfo();
    // any other index shows the STA's addresses
    return this.station.ipInfo();
  }

  setStaticIp(ip: string | null, mask?: string, gw?: string): void {
    this.station.setStaticIp(ip, mask, gw);
  }

  get dhcpEnabled(): boolean {
    return this.station.dhcpEnabled;
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
    return this.resolver.setDns(adapter, index, ip);
  }

  dns(adapter = LWIP_STA): string[] {
    return this.resolver.dns(adapter);
  }

  // ================================================================== station (wifi-station.ts)

  /** none configured at construction: any SSID joins */
  get openLab(): boolean {
    return this.station.openLab;
  }

  get staPhase(): StaPhase {
    return this.station.phase;
  }

  /** associated with an AP (netdrv.link) */
  get linked(): boolean {
    return this.station.linked;
  }

  get connectedAp(): VirtualAp | null {
    return this.station.connectedAp;
  }

  /** the credentials of the last wlan.connect (reused by a connect without arguments) */
  get lastCredentials(): { ssid: string; password: string } | null {
    return this.station.lastCredentials;
  }

  /** wlan.connect: start an attempt (returns at once, as the firmware). */
  connect(ssid: string, password: string, autoReconnect = true, bssid?: Buffer): void {
    this.station.connect(ssid, password, autoReconnect, bssid);
  }

  /** wlan.disconnect */
  disconnect(): void {
    this.station.disconnect();
  }

  /** wlan.scan: `scan-done` (WLAN_SCAN_DONE) after scanMs; results via scanResults(). */
  scan(): void {
    this.station.scan();
  }

  visibleAps(): VirtualAp[] {
    return this.station.visibleAps();
  }

  scanResults(): VirtualAp[] {
    return this.station.scanResults();
  }

  /**
   * The radio link drops (AP switched off / out of range) until `linkUp()`: an associated
   * STA gets DISCONNECTED 256 and IP_LOSE, open connections are destroyed, and reconnect
   * attempts fail with 257 meanwhile.
   */
  linkDown(): void {
    this.station.linkDown();
  }

  /** The AP is back: the next (automatic or scripted) attempt joins. */
  linkUp(): void {
    this.station.linkUp();
  }

  /**
   * Change (or create) a virtual AP's password. A STA joined to it with another password is
   * dropped (the AP restarts: DISCONNECTED 256, IP_LOSE) and its retries fail with 258.
   */
  setApPassword(ssid: string, password: string): void {
    this.station.setApPassword(ssid, password);
  }

  /** The virtual APs (configured and, in open-lab mode, the ones joined so far). */
  listAps(): VirtualAp[] {
    return this.station.listAps();
  }

  // ================================================================== soft AP (ap.ts)

  createAp(ssid: string, password: string, gw: string, mask: string, channel: number): void {
    this.ap.create(ssid, password, gw, mask, channel);
  }
  stopAp(): void {
    this.ap.stop();
  }

  // ================================================================== SNTP (sntp.ts)

  get sntpPort(): number {
    return this.sntpClient.port;
  }
  set sntpPort(p: number) {
    this.sntpClient.port = p;
  }

  get sntpBusy(): boolean {
    return this.sntpClient.busy;
  }

  /** socket.sntp: see runtime/net/sntp.ts (NTP_UPDATE(0) / NTP_ERROR as `ntp-update` / `ntp-error`). */
  sntp(servers: string[], adapter?: number): void {
    this.sntpClient.start(servers, adapter ?? this.dft);
  }

  /** socket.ntptm() (runtime/net/sntp.ts) */
  ntptm(): ReturnType<Sntp['ntptm']> {
    return this.sntpClient.ntptm();
  }
}
