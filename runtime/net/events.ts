/**
 * What the network model (runtime/net/) tells the layers above it, and what it needs from the
 * device: typed events, a clock, nothing of Lua. The bindings (luatos-api/shared/net-events.ts)
 * turn the events into the firmware's topics and log lines; the model never names a topic or a
 * VM.
 *
 * Event → what the binding makes of it (the firmware's topics and arguments):
 *   sta-connected     WLAN_STA_INC("CONNECTED", ssid, bssid6)
 *   sta-disconnected  WLAN_STA_INC("DISCONNECTED", reason)
 *   ip-ready          IP_READY(ip, adapter)
 *   ip-lose           IP_LOSE(adapter)
 *   scan-done         WLAN_SCAN_DONE
 *   ntp-update        NTP_UPDATE(0)          (socket.sntp succeeded)
 *   ntp-error         NTP_ERROR              (no server answered)
 *   log               a firmware log line `<level>/<module>:<text>`
 * Events come in the order the device produces them (log lines interleaved with the others), so
 * a listener that handles them in arrival order keeps the firmware's order.
 */
import type { Clock } from '../core/clock';
import type { LogLevel } from '../core/log';

/** A firmware log line the network writes (`D wlan:ipv4 got!! 192.168.1.100`). */
export interface NetLogEvent {
  type: 'log';
  level: LogLevel;
  module: string;
  text: string;
}

export type NetEvent =
  | { type: 'sta-connected'; ssid: string; bssid: Buffer }
  | { type: 'sta-disconnected'; reason: number }
  | { type: 'ip-ready'; ip: string; adapter: number }
  | { type: 'ip-lose'; adapter: number }
  | { type: 'scan-done' }
  | { type: 'ntp-update' }
  | { type: 'ntp-error' }
  | NetLogEvent;

/** What the network needs of the device it runs in: its clock and its uptime. */
export interface NetHost {
  readonly clock: Clock;
  /** ms since the device started (the firmware's tick count; SNTP's reference) */
  uptime(): number;
}

/** One boot of the device, as the model hands it to a board's adapter. */
export interface NetBoot {
  readonly host: NetHost;
  /** ms since this boot started */
  uptime(): number;
  /** emit an event of this boot (dropped once the boot has ended) */
  emit(e: NetEvent): void;
  /** run `fn` when this boot ends (the VM stopped or the device rebooted) */
  onEnd(fn: () => void): void;
}

/**
 * An adapter a board brings besides the Wi-Fi station and soft AP (the PC simulator's "posix"
 * host-socket adapter, runtime/net/posix-adapter.ts; the modem, runtime/net/cellular.ts). It
 * shares the model's plumbing (host mapping, connections, link-loss bookkeeping); the model asks
 * it whether it is ready and for its addresses, and tells it about every boot.
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
  /** a new boot (start its timers; its events go through `b.emit`) */
  boot?(b: NetBoot): void;
}

export type SocketEventName = 'create' | 'release' | 'connecting' | 'timeout' | 'closed' | 'connected' | 'remote_close' | 'error' | 'dns_result';

/** What `netdrv.on(adapter, netdrv.EVT_SOCKET, fn)` receives. */
export interface SocketEvent {
  adapter: number;
  event: SocketEventName;
  params: { remote_ip?: string; online_ip?: string; remote_port?: number; domain_name?: string; proto: string };
}

/** A set of listeners called in the order they were added. */
export class Listeners<E> {
  private readonly fns = new Set<(e: E) => void>();

  /** Listen; returns the function that stops listening. */
  on(fn: (e: E) => void): () => void {
    this.fns.add(fn);
    return () => {
      this.fns.delete(fn);
    };
  }

  emit(e: E): void {
    for (const fn of [...this.fns]) fn(e);
  }

  get size(): number {
    return this.fns.size;
  }
}
