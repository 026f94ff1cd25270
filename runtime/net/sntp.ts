/**
 * socket.sntp / socket.ntptm of the Wi-Fi model. The servers are queried one after the other
 * (each gets `ntpTimeoutMs`). Success sets the device clock, logs `sntp:Unix timestamp: N` and
 * emits `ntp-update` (NTP_UPDATE(0)); none answered: `ntp-error` (NTP_ERROR). `--sntp host`
 * answers from the host clock after `sntpHostMs` (only while the adapter is ready); `--sntp real`
 * sends NTP requests over UDP (runtime/net/ntp.ts; host mapping and the DNS lines apply).
 */
import { queryNtp } from './ntp';
import type { DeviceResolver } from './resolver';
import type { NetScope } from './scope';
import type { UdpPlumbing } from './udp';
import type { NtpInfo, WifiTiming } from './wifi-types';

export class Sntp {
  private running = false;
  private portValue = 123;
  private ntp: NtpInfo | null = null;

  constructor(
    private readonly scope: NetScope,
    private readonly mode: 'host' | 'real',
    private readonly timing: WifiTiming,
    private readonly resolver: DeviceResolver,
    private readonly udp: UdpPlumbing,
    private readonly adapterReady: (adapter: number) => boolean,
  ) {}

  resetForBoot(): void {
    this.running = false;
    this.portValue = 123;
    this.ntp = null;
  }

  get port(): number {
    return this.portValue;
  }
  set port(p: number) {
    this.portValue = p;
  }

  get busy(): boolean {
    return this.running;
  }

  start(servers: string[], adapter: number): void {
    if (this.running) {
      this.scope.log('D', 'sntp', 'sntp is running');
      return;
    }
    this.running = true;
    void this.run(servers, adapter, this.scope.gen);
  }

  private async run(servers: string[], adapter: number, gen: number): Promise<void> {
    const scope = this.scope;
    const alive = () => gen === scope.gen;
    for (const server of servers) {
      if (!alive()) return;
      scope.log('D', 'sntp', `query ${server}`);
      if (!this.adapterReady(adapter)) {
        await scope.sleep(this.timing.ntpTimeoutMs);
        continue;
      }
      if (this.mode === 'host') {
        await scope.sleep(this.timing.sntpHostMs);
        if (!alive()) return;
        if (!this.adapterReady(adapter)) continue;
        this.success(Date.now(), Math.round(this.timing.sntpHostMs / 10));
        return;
      }
      const to = this.resolver.mapAddress(server, this.portValue);
      let ip: string;
      try {
        ip = await this.resolver.resolve(server, to.host, adapter);
      } catch {
        continue;
      }
      if (!alive()) return;
      this.udp.connectLine(adapter, ip, to.port);
      try {
        const ans = await queryNtp(
          ip,
          to.port,
          this.timing.ntpTimeoutMs,
          {
            set: (ms, fn) => {
              const host = scope.host;
              if (!host) return () => undefined;
              const h = host.clock.setTimer(ms, fn);
              return () => host.clock.clearTimer(h);
            },
          },
          (s) => this.udp.track(s),
        );
        if (!alive()) return;
        this.success(ans.serverMs + Math.round(ans.rttMs / 2), Math.round(ans.rttMs / 2));
        return;
      } catch {
        if (!alive()) return;
      }
    }
    if (!alive()) return;
    this.running = false;
    scope.emit({ type: 'ntp-error' });
  }

  private success(unixMs: number, delayMs: number): void {
    this.running = false;
    const host = this.scope.host;
    const up = host ? host.uptime() : 0;
    host?.clock.setWallTime(unixMs);
    this.ntp = { bootDiffMs: unixMs - up, delayMs };
    this.scope.log('D', 'sntp', `Unix timestamp: ${Math.floor(unixMs / 1000)}`);
    this.scope.emit({ type: 'ntp-update' });
  }

  /**
   * socket.ntptm(): the fields of the firmware's sntp context. From the firmware source the
   * seconds are Unix seconds (the transmit timestamp minus the 1900→1970 offset), although the
   * API doc says "since 1900": `ssec/sms` = wall time minus ticks at the last sync, `lsec/lms` =
   * ticks since boot now, `tsec/tms` = their sum (the current time), `ndelay` = network delay,
   * `vaild` (sic) = synced at least once since boot.
   */
  ntptm(): { tsec: number; tms: number; vaild: boolean; ndelay: number; ssec: number; sms: number; lsec: number; lms: number } {
    const host = this.scope.host;
    const up = Math.floor(host ? host.uptime() : 0);
    const lsec = Math.floor(up / 1000);
    const lms = up % 1000;
    const diff = Math.floor(this.ntp?.bootDiffMs ?? 0);
    const ssec = Math.floor(diff / 1000);
    const sms = diff - ssec * 1000;
    const total = diff + up;
    return { tsec: Math.floor(total / 1000), tms: total % 1000, vaild: this.ntp !== null, ndelay: this.ntp?.delayMs ?? 0, ssec, sms, lsec, lms };
  }
}
