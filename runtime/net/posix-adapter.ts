/**
 * The LuatOS PC simulator's network adapter (luatos-api-2.md §25, `bsp/pc`
 * `luat_network_adapter_posix.c`): host sockets registered as adapter 17 (`socket.ETH0` of the
 * firmware that numbers USB 16, ETH0 17), the only adapter at boot and so the default.
 *
 * - Ready at once (`check_ready` is true when networking is enabled): `socket.adapter(17)` →
 *   `true, 17`, connections may start before IP_READY.
 * - IP_READY: a one-shot timer `readyMs` (500) after start publishes `IP_READY(ip, 17)`, `ip`
 *   the host's first non-loopback IPv4 address, "0.0.0.0" when it has none. The simulator starts
 *   the timer when its process starts, just before the VM; we start it when the boot binds the
 *   network model (the same moment, give or take the engine start-up). Disabled networking
 *   (the simulator's pcconf `network.enabled = 0`, here the profile's
 *   `network.posix.enabled: false`) suppresses IP_READY and makes the adapter not ready.
 * - `socket.localIP(17)` → the host IP, its netmask, and a fake gateway: the host IP with the
 *   last octet set to 1.
 * - Names are resolved by the host resolver (the simulator runs getaddrinfo in a thread), so
 *   the device's DNS log lines of the Wi-Fi adapter are not written.
 * - Nothing triggers IP_LOSE(17) in the simulator (unsure in the facts); nothing does here.
 *
 * Traffic goes through the Wi-Fi model's plumbing (`WifiNetwork.addAdapter`): host mapping
 * (`--map`), the virtual clock hold while a connection is open, closing on reboot.
 *
 * Profile section (all optional): `"network": { "posix": { "enabled": true, "readyMs": 500,
 * "ip": "10.1.2.3", "netmask": "255.255.255.0" } }` (`ip` replaces the host's address).
 */
import * as net from 'node:net';
import * as os from 'node:os';
import type { Vm } from '../core/vm/vm';
import type { BoardAdapter } from './model';

/** socket.ETH0 of the PC simulator's firmware (HEAD numbering: USB 16, ETH0 17) */
export const POSIX_ADAPTER_ID = 17;
/** IP_READY after this many ms (the simulator's one-shot timer) */
export const POSIX_READY_MS = 500;

export interface PosixAdapterOptions {
  enabled?: boolean;
  readyMs?: number;
  /** the address to report (default: the host's first non-loopback IPv4) */
  ip?: string;
  netmask?: string;
}

/**
 * The host's first non-loopback IPv4 address and its netmask, in the order the OS lists its
 * interfaces; `0.0.0.0` when there is none (as the simulator).
 */
export function hostFirstIpv4(): { ip: string; netmask: string } {
  const ifs = os.networkInterfaces();
  for (const list of Object.values(ifs)) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal && a.address !== '0.0.0.0') return { ip: a.address, netmask: a.netmask };
    }
  }
  return { ip: '0.0.0.0', netmask: '0.0.0.0' };
}

/** The simulator's fake gateway: the IP with its last octet set to 1. */
export function fakeGateway(ip: string): string {
  const p = ip.split('.');
  if (p.length !== 4) return '0.0.0.0';
  p[3] = '1';
  return p.join('.');
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Read the profile's `network.posix` section; throws Error with a readable message. */
export function posixOptionsFromProfile(profile: { network?: unknown; [k: string]: unknown }): PosixAdapterOptions {
  const netSec = isObj(profile.network) ? profile.network : {};
  const sec = netSec.posix;
  if (sec === undefined) return {};
  if (!isObj(sec)) throw new Error('profile network.posix must be an object');
  const o: PosixAdapterOptions = {};
  if (sec.enabled !== undefined) {
    if (typeof sec.enabled !== 'boolean') throw new Error('profile network.posix.enabled must be true or false');
    o.enabled = sec.enabled;
  }
  if (sec.readyMs !== undefined) {
    if (typeof sec.readyMs !== 'number' || !Number.isFinite(sec.readyMs) || sec.readyMs < 0 || sec.readyMs > 3_600_000) {
      throw new Error('profile network.posix.readyMs must be a number of ms between 0 and 3600000');
    }
    o.readyMs = sec.readyMs;
  }
  for (const k of ['ip', 'netmask'] as const) {
    if (sec[k] === undefined) continue;
    if (typeof sec[k] !== 'string' || !net.isIPv4(sec[k] as string)) throw new Error(`profile network.posix.${k} must be a dotted IPv4 address`);
    o[k] = sec[k] as string;
  }
  return o;
}

export class PosixAdapter implements BoardAdapter {
  readonly id = POSIX_ADAPTER_ID;
  readonly hostResolver = true;
  readonly enabled: boolean;
  readonly readyMs: number;
  private readonly addr: { ip: string; mask: string; gw: string };

  constructor(opts: PosixAdapterOptions = {}) {
    this.enabled = opts.enabled ?? true;
    this.readyMs = opts.readyMs ?? POSIX_READY_MS;
    const host = hostFirstIpv4();
    const ip = opts.ip ?? host.ip;
    const mask = opts.netmask ?? (opts.ip ? '255.255.255.0' : host.netmask);
    this.addr = { ip, mask, gw: fakeGateway(ip) };
  }

  ready(): boolean {
    return this.enabled;
  }

  ipInfo(): { ip: string; mask: string; gw: string } {
    return { ...this.addr };
  }

  /** Every boot: the one-shot IP_READY timer (cancelled if the VM ends first). */
  boot(vm: Vm): void {
    if (!this.enabled) return;
    const clock = vm.device.clock;
    // counted from the boot (the simulator's timer starts with the process, before the VM)
    const h = clock.setTimer(Math.max(0, this.readyMs - vm.uptime()), () => {
      if (!vm.isDead) vm.publish('IP_READY', this.addr.ip, this.id);
    });
    vm.onClose(() => clock.clearTimer(h));
  }
}
