/**
 * How the CLI flags and the profile's `network` section become a device network model.
 *
 *   const net = createNetworkFromOptions(profile, {
 *     wifi: ['lab:secret'],                       // --wifi SSID:PASSWORD (repeatable)
 *     map: ['video.luatos.com:10030=127.0.0.1:8080'], // --map HOST[:PORT]=ADDR[:PORT] (repeatable)
 *     sntp: 'host',                               // --sntp real|host
 *     ip: '10.0.0.7', mac: 'C8C2C68C5DEA',        // --ip / --netmask / --gateway / --mac / --dns
 *   });
 *   createDevice({ ..., profile, network: net });
 *
 * The profile section (all fields optional):
 *
 *   "network": {
 *     "mac": "C8C2C68C5DEA",                 // STA MAC; default derived from the profile name
 *     "ip": "192.168.31.234", "netmask": "255.255.255.0", "gateway": "192.168.31.1",
 *                                            // default: the host's primary IPv4 and its network
 *     "dns": ["223.5.5.5", "114.114.114.114"],
 *     "hostname": "LUATOS_C8C2C68C5DEA",
 *     "hosts": { "video.luatos.com:10030": "127.0.0.1:8080" }   // or ["HOST=ADDR", ...]
 *     "aps": [ { "ssid": "lab", "password": "secret", "rssi": -45, "channel": 6,
 *                "bssid": "AABBCCDDEEFF" } ],  // none = any SSID/password joins ("open lab")
 *     "sntp": "host" | "real",
 *     "listen": { "80": 8080, "*": 0 }       // host ports of listening sockets (runtime/net/listen.ts)
 *     "timing": { "assocMs": 1000, "dhcpMs": 500, "failMs": 2000, "reconnectMs": 2000,
 *                 "scanMs": 1500, "sntpHostMs": 210, "ntpTimeoutMs": 2000 }
 *   }
 *
 * CLI values win over the profile; `--wifi` APs are added to the profile's (same SSID: the CLI
 * password wins); `--map` rules come before the profile's `hosts` (first match wins).
 */
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import * as os from 'node:os';
import { HostMapRule, parseMapRule } from './direct';
import { parseListenRules } from './listen';
import { WifiNetwork, WifiNetworkOptions, WifiTiming, VirtualApConfig } from './model';

export interface NetworkCliOptions {
  /** `--wifi SSID:PASSWORD`, repeatable (the password may contain ':'; empty = open AP) */
  wifi?: string[];
  /** `--map HOST[:PORT]=ADDR[:PORT]`, repeatable */
  map?: string[];
  /** `--sntp real|host` */
  sntp?: 'real' | 'host';
  ip?: string;
  netmask?: string;
  gateway?: string;
  /** 12 hex digits, separators allowed (`C8:C2:C6:8C:5D:EA`) */
  mac?: string;
  /** DNS servers (comma separated in the CLI) */
  dns?: string[];
}

/** Parse `SSID:PASSWORD` (split at the first ':'; no ':' = open network). */
export function parseWifiFlag(s: string): { ssid: string; password: string } {
  const i = s.indexOf(':');
  const ssid = i < 0 ? s : s.slice(0, i);
  const password = i < 0 ? '' : s.slice(i + 1);
  if (!ssid) throw new Error(`bad --wifi '${s}': use SSID:PASSWORD`);
  return { ssid, password };
}

/** Normalise a MAC to 12 uppercase hex digits; throws on anything else. */
export function normalizeMac(s: string): string {
  const hex = s.replace(/[:\-\s.]/g, '').toUpperCase();
  if (!/^[0-9A-F]{12}$/.test(hex)) throw new Error(`bad MAC '${s}': use 12 hex digits`);
  return hex;
}

/**
 * A stable MAC per device name. The OUI C8:C2:C6 is the one of the reference device
 * (`C8C2C68C5DEA`); the low 3 bytes come from a hash of the name.
 */
export function deriveMac(name: string): string {
  const h = crypto.createHash('sha1').update(`luatos-pc:${name}`).digest();
  return ('C8C2C6' + h.subarray(0, 3).toString('hex')).toUpperCase();
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, b) => ((a << 8) | (Number(b) & 255)) >>> 0, 0);
}
function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

function checkIp(ip: string, what: string): string {
  if (net.isIPv4(ip)) return ip;
  throw new Error(`bad ${what} '${ip}': use a dotted IPv4 address`);
}

export interface HostIpv4 {
  ip: string;
  netmask: string;
  gateway: string;
}

/**
 * The host's primary IPv4 and its network: the first non-internal IPv4 interface. The gateway
 * is not visible to Node, so it is taken as the first host address of the network (x.x.x.1 in
 * a /24) — a choice. No interface → 192.168.1.100/24 via 192.168.1.1.
 */
export function hostPrimaryIpv4(): HostIpv4 {
  const ifs = os.networkInterfaces();
  for (const list of Object.values(ifs)) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      const ipn = ipToInt(a.address);
      const mask = ipToInt(a.netmask);
      const netw = (ipn & mask) >>> 0;
      let gw = (netw + 1) >>> 0;
      if (gw === ipn || mask === 0xffffffff) gw = ipn;
      return { ip: a.address, netmask: a.netmask, gateway: intToIp(gw) };
    }
  }
  return { ip: '192.168.1.100', netmask: '255.255.255.0', gateway: '192.168.1.1' };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The profile's `hosts` table: an object `{ "HOST[:PORT]": "ADDR[:PORT]" }` or `["HOST=ADDR", ...]`. */
export function parseHostsTable(hosts: unknown): HostMapRule[] {
  if (hosts === undefined || hosts === null) return [];
  if (Array.isArray(hosts)) return hosts.map((s) => parseMapRule(String(s)));
  if (isObj(hosts)) return Object.entries(hosts).map(([k, v]) => parseMapRule(`${k}=${String(v)}`));
  throw new Error('profile network.hosts must be an object or a list of "HOST=ADDR" strings');
}

/**
 * Build the model's options from a profile (its `name` and `network` section) and the CLI
 * options. Throws `Error` with a readable message on bad values (show it as a usage error).
 */
export function networkOptionsFrom(profile: { name?: string; network?: unknown; [k: string]: unknown }, cli: NetworkCliOptions = {}): WifiNetworkOptions {
  const sec = isObj(profile.network) ? profile.network : {};
  const str = (k: string): string | undefined => (typeof sec[k] === 'string' ? (sec[k] as string) : undefined);
  const host = hostPrimaryIpv4();
  const name = profile.name ?? 'air8101';
  const mac = normalizeMac(cli.mac ?? str('mac') ?? deriveMac(name));
  const ip = checkIp(cli.ip ?? str('ip') ?? host.ip, 'ip');
  // a custom IP without a netmask/gateway gets a /24 around it
  const customIp = cli.ip !== undefined || str('ip') !== undefined;
  const netmask = checkIp(cli.netmask ?? str('netmask') ?? (customIp ? '255.255.255.0' : host.netmask), 'netmask');
  const defGw = customIp ? intToIp(((ipToInt(ip) & ipToInt(netmask)) + 1) >>> 0) : host.gateway;
  const gateway = checkIp(cli.gateway ?? str('gateway') ?? defGw, 'gateway');
  const dnsList = cli.dns ?? (Array.isArray(sec.dns) ? sec.dns.map(String) : undefined);
  const dns = dnsList?.map((d) => checkIp(d.trim(), 'dns server'));

  const aps: VirtualApConfig[] = [];
  if (Array.isArray(sec.aps)) {
    for (const a of sec.aps) {
      if (!isObj(a) || typeof a.ssid !== 'string') throw new Error('profile network.aps entries need an "ssid"');
      aps.push({
        ssid: a.ssid,
        password: typeof a.password === 'string' ? a.password : '',
        rssi: typeof a.rssi === 'number' ? a.rssi : undefined,
        channel: typeof a.channel === 'number' ? a.channel : undefined,
        bssid: typeof a.bssid === 'string' ? normalizeMac(a.bssid) : undefined,
      });
    }
  }
  for (const w of cli.wifi ?? []) {
    const { ssid, password } = parseWifiFlag(w);
    const old = aps.find((x) => x.ssid === ssid);
    if (old) old.password = password;
    else aps.push({ ssid, password });
  }

  const rules = [...(cli.map ?? []).map(parseMapRule), ...parseHostsTable(sec.hosts)];
  const sntpRaw = cli.sntp ?? str('sntp') ?? 'host';
  if (sntpRaw !== 'host' && sntpRaw !== 'real') throw new Error(`sntp must be 'host' or 'real', not '${sntpRaw}'`);
  const timing: Partial<WifiTiming> = {};
  if (isObj(sec.timing)) {
    for (const [k, v] of Object.entries(sec.timing)) if (typeof v === 'number' && v >= 0) (timing as Record<string, number>)[k] = v;
  }
  return { mac, ip, netmask, gateway, dns, aps, rules, sntp: sntpRaw, timing, hostname: str('hostname'), listen: parseListenRules(sec.listen) };
}

/** The whole step: profile + CLI options → a network model for `createDevice({ network })` (runtime/boards/device.ts). */
export function createNetworkFromOptions(profile: { name?: string; network?: unknown; [k: string]: unknown }, cli: NetworkCliOptions = {}): WifiNetwork {
  return new WifiNetwork(networkOptionsFrom(profile, cli));
}
