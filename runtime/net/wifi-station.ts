/**
 * The Wi-Fi station (`LWIP_STA`, 2) of the device and the virtual APs around it.
 *
 *  - `connect(ssid, pw)` starts an attempt: after `assocMs` (≈1 s) the STA is associated
 *    (`sta-connected`: WLAN_STA_INC("CONNECTED", ssid, bssid6)), after a further `dhcpMs` (≈0.5 s)
 *    it has an IP (`ip-ready`: IP_READY(ip, 2)). Unknown SSID / out of range → after `failMs`
 *    `sta-disconnected` 257; wrong password → 258 (the Beken SDK's WIFI_REASON_NO_AP_FOUND /
 *    WRONG_PASSWORD; the official PC mock uses the same numbers).
 *  - Virtual APs come from the profile or `--wifi`; with none configured any SSID and password
 *    join ("open lab"); an AP with an empty password is open and accepts any password.
 *  - Link loss (`linkDown()`, an AP password change): `sta-disconnected` 256 (beacon lost) then
 *    `ip-lose` 2; every TCP connection on the STA is destroyed. `disconnect()`: 259 (disconnect by
 *    app), `ip-lose` 2.
 *  - Auto-reconnect (`wlan.connect`'s 3rd argument, default 1): after any failure or loss the
 *    STA tries again every `reconnectMs` (a choice: the SDK retries without limit), each failed
 *    attempt reporting `sta-disconnected` again, until it joins or the script disconnects.
 *  - A reboot resets the station (not connected, no credentials, no static IP); the APs and the
 *    out-of-range fault are the environment and stay.
 *
 * Firmware log lines (luatos-api.md §6.4/§9.2, from the reference log):
 *   D wlan:event_module 1 event_id 2 / D wlan:STA connected <ssid>  (trailing space as on device)
 *   D wlan:event_module 2 event_id 0 / D wlan:ipv4 got!! <ip> / D net:network ready 2, setup dns server
 *   D wlan:sta ip <ip>
 * On disconnect we log `D wlan:STA disconnected, reason <n>` (our wording: the Air8101 BSP is
 * closed source and the reference log has no disconnect).
 */
import * as crypto from 'node:crypto';
import type { TimerHandle } from '../core/clock';
import { LWIP_STA, WIFI_REASON } from './adapters';
import type { NetScope } from './scope';
import { NO_IP, type IpInfo, type StaPhase, type VirtualAp, type VirtualApConfig, type WifiTiming } from './wifi-types';

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

/** What the station asks of the rest of the model. */
export interface StationHooks {
  /** the link dropped: destroy the STA's connections (`why` marks the sockets) */
  closeConnections(why: string): void;
  /** the STA got its address (the DNS servers of the lease apply) */
  leased(): void;
}

export class WifiStation {
  private readonly aps: VirtualAp[] = [];
  /** none configured at construction: any SSID joins */
  readonly openLab: boolean;

  // environment (survives reboots): the fault injection state
  private outOfRangeValue = false;

  // per boot
  private phaseValue: StaPhase = 'idle';
  private cred: { ssid: string; password: string; auto: boolean; bssid?: Buffer } | null = null;
  private wantConnected = false;
  private currentAp: VirtualAp | null = null;
  private staTimer: TimerHandle | null = null;
  private retryTimer: TimerHandle | null = null;
  private scanTimer: TimerHandle | null = null;
  private lastScan: VirtualAp[] = [];
  private staticIp: IpInfo | null = null;

  constructor(
    private readonly scope: NetScope,
    private readonly timing: WifiTiming,
    /** the DHCP lease */
    private readonly lease: IpInfo,
    aps: VirtualApConfig[],
    private readonly hooks: StationHooks,
  ) {
    for (const a of aps) this.aps.push(this.makeAp(a, false));
    this.openLab = this.aps.length === 0;
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

  /** A reboot: timers stop, the station forgets its credentials and static IP. */
  resetForBoot(): void {
    this.staTimer = this.clear(this.staTimer);
    this.retryTimer = this.clear(this.retryTimer);
    this.scanTimer = this.clear(this.scanTimer);
    this.phaseValue = 'idle';
    this.cred = null;
    this.wantConnected = false;
    this.currentAp = null;
    this.lastScan = [];
    this.staticIp = null;
  }

  private clear(h: TimerHandle | null): null {
    this.scope.clearTimer(h);
    return null;
  }

  // ================================================================== state

  get phase(): StaPhase {
    return this.phaseValue;
  }

  get outOfRange(): boolean {
    return this.outOfRangeValue;
  }

  get autoReconnect(): boolean {
    return this.cred?.auto ?? false;
  }

  /** the SSID joined or being joined */
  get ssid(): string | null {
    return this.currentAp?.ssid ?? this.cred?.ssid ?? null;
  }

  /** associated with an AP (netdrv.link) */
  get linked(): boolean {
    return this.phaseValue === 'associated' || this.phaseValue === 'up';
  }

  get connectedAp(): VirtualAp | null {
    return this.linked ? this.currentAp : null;
  }

  /** the credentials of the last wlan.connect (reused by a connect without arguments) */
  get lastCredentials(): { ssid: string; password: string } | null {
    return this.cred ? { ssid: this.cred.ssid, password: this.cred.password } : null;
  }

  ipInfo(): IpInfo {
    if (this.phaseValue !== 'up') return { ...NO_IP };
    return this.staticIp ? { ...this.staticIp } : { ...this.lease };
  }

  setStaticIp(ip: string | null, mask?: string, gw?: string): void {
    this.staticIp = ip ? { ip, mask: mask ?? '255.255.255.0', gw: gw ?? this.lease.gw } : null;
  }

  get dhcpEnabled(): boolean {
    return this.staticIp === null;
  }

  // ================================================================== connect / disconnect

  /** wlan.connect: start an attempt (returns at once, as the firmware). */
  connect(ssid: string, password: string, autoReconnect = true, bssid?: Buffer): void {
    this.staTimer = this.clear(this.staTimer);
    this.retryTimer = this.clear(this.retryTimer);
    if (this.linked) this.loseLink(WIFI_REASON.DISCONNECT_BY_APP);
    this.cred = { ssid, password, auto: autoReconnect, bssid };
    this.wantConnected = true;
    this.startAttempt();
  }

  /** wlan.disconnect */
  disconnect(): void {
    this.wantConnected = false;
    this.staTimer = this.clear(this.staTimer);
    this.retryTimer = this.clear(this.retryTimer);
    if (this.linked) this.loseLink(WIFI_REASON.DISCONNECT_BY_APP);
    else this.phaseValue = 'idle';
    this.scope.statusChanged();
  }

  private findAp(ssid: string, bssid?: Buffer): VirtualAp | undefined {
    return this.aps.find((a) => (ssid ? a.ssid === ssid : false) || (!ssid && bssid && a.bssid.equals(bssid)));
  }

  /** the AP it would join, or the failure reason */
  private judge(): { ap: VirtualAp } | { reason: number } {
    const c = this.cred;
    if (!c) return { reason: WIFI_REASON.NO_AP_FOUND };
    if (this.outOfRangeValue) return { reason: WIFI_REASON.NO_AP_FOUND };
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
    this.phaseValue = 'connecting';
    this.scope.statusChanged();
    const first = this.judge();
    const ms = 'ap' in first ? this.timing.assocMs : this.timing.failMs;
    this.staTimer = this.scope.setTimer(ms, () => {
      this.staTimer = null;
      const v = this.judge();
      if ('ap' in v) this.associated(v.ap);
      else this.attemptFailed(v.reason);
    });
  }

  private associated(ap: VirtualAp): void {
    const scope = this.scope;
    this.phaseValue = 'associated';
    this.currentAp = ap;
    scope.log('D', 'wlan', 'event_module 1 event_id 2');
    scope.log('D', 'wlan', `STA connected ${ap.ssid} `);
    scope.emit({ type: 'sta-connected', ssid: ap.ssid, bssid: Buffer.from(ap.bssid) });
    scope.statusChanged();
    this.staTimer = scope.setTimer(this.timing.dhcpMs, () => {
      this.staTimer = null;
      if (this.phaseValue !== 'associated') return;
      if (this.outOfRangeValue) {
        this.loseLink(WIFI_REASON.BEACON_LOST);
        return;
      }
      this.gotIp();
    });
  }

  private gotIp(): void {
    const scope = this.scope;
    this.phaseValue = 'up';
    const { ip } = this.ipInfo();
    this.hooks.leased();
    scope.log('D', 'wlan', 'event_module 2 event_id 0');
    scope.log('D', 'wlan', `ipv4 got!! ${ip}`);
    scope.log('D', 'net', `network ready ${LWIP_STA}, setup dns server`);
    scope.log('D', 'wlan', `sta ip ${ip}`);
    scope.emit({ type: 'ip-ready', ip, adapter: LWIP_STA });
    scope.statusChanged();
  }

  private attemptFailed(reason: number): void {
    this.phaseValue = 'idle';
    this.currentAp = null;
    this.scope.log('D', 'wlan', `STA disconnected, reason ${reason}`);
    this.scope.emit({ type: 'sta-disconnected', reason });
    this.scope.statusChanged();
    this.scheduleRetry();
  }

  /** The link is gone: sockets die, DISCONNECTED(reason), IP_LOSE if there was an IP, maybe retry. */
  private loseLink(reason: number): void {
    const hadIp = this.phaseValue === 'up';
    this.staTimer = this.clear(this.staTimer);
    this.phaseValue = 'idle';
    this.currentAp = null;
    this.hooks.closeConnections('the Wi-Fi link went down');
    this.scope.log('D', 'wlan', `STA disconnected, reason ${reason}`);
    this.scope.emit({ type: 'sta-disconnected', reason });
    if (hadIp) this.scope.emit({ type: 'ip-lose', adapter: LWIP_STA });
    this.scope.statusChanged();
    if (reason !== WIFI_REASON.DISCONNECT_BY_APP) this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (!this.wantConnected || !this.cred?.auto || this.retryTimer) return;
    this.retryTimer = this.scope.setTimer(this.timing.reconnectMs, () => {
      this.retryTimer = null;
      if (this.wantConnected && this.phaseValue === 'idle') this.startAttempt();
    });
  }

  // ================================================================== scan

  /** wlan.scan: `scan-done` after scanMs; results via scanResults(). */
  scan(): void {
    if (this.scanTimer) return;
    this.scanTimer = this.scope.setTimer(this.timing.scanMs, () => {
      this.scanTimer = null;
      this.lastScan = this.visibleAps();
      this.scope.emit({ type: 'scan-done' });
    });
  }

  visibleAps(): VirtualAp[] {
    if (this.outOfRangeValue) return [];
    return [...this.aps].sort((a, b) => b.rssi - a.rssi);
  }

  scanResults(): VirtualAp[] {
    return [...this.lastScan];
  }

  // ================================================================== fault injection

  /**
   * The radio link drops (AP switched off / out of range) until `linkUp()`: an associated
   * STA gets DISCONNECTED 256 and IP_LOSE, open connections are destroyed, and reconnect
   * attempts fail with 257 meanwhile.
   */
  linkDown(): void {
    this.outOfRangeValue = true;
    if (this.linked) this.loseLink(WIFI_REASON.BEACON_LOST);
    this.scope.statusChanged();
  }

  /** The AP is back: the next (automatic or scripted) attempt joins. */
  linkUp(): void {
    this.outOfRangeValue = false;
    if (this.phaseValue === 'idle' && this.wantConnected && this.cred?.auto && !this.retryTimer && !this.staTimer) this.startAttempt();
    this.scope.statusChanged();
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
    this.scope.statusChanged();
  }

  /** The virtual APs (configured and, in open-lab mode, the ones joined so far). */
  listAps(): VirtualAp[] {
    return this.aps.map((a) => ({ ...a, bssid: Buffer.from(a.bssid) }));
  }
}
