/** The Wi-Fi model's configuration, timing and status types (runtime/net/model.ts). */
import type { ListenRules } from './listen';
import type { HostMapRule } from './direct';

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

/** An adapter's addresses (socket.localIP). */
export interface IpInfo {
  ip: string;
  mask: string;
  gw: string;
}

export const NO_IP: Readonly<IpInfo> = { ip: '0.0.0.0', mask: '0.0.0.0', gw: '0.0.0.0' };
