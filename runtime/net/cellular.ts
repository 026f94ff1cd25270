/**
 * The 4G Cat.1 modem of the Air780E* boards (runtime/boards/air780epm.ts): one `CellularModem`
 * per device. It is the network model of the cellular adapter `LWIP_GP` (1) and implements
 * `DeviceNetwork` for it; it emits typed `ModemEvent`s and knows nothing of Lua topics (the
 * `mobile` binding turns them into `SIM_IND` / `IP_READY(ip, 1)` / `IP_LOSE(1)`).
 *
 * Traffic is carried over the PC's network by the Wi-Fi model's plumbing, not a copy of it: the
 * modem registers itself on the device's `WifiNetwork` as a board adapter (`addAdapter`, made the
 * default adapter), so `connectTcp`, the device's DNS log lines, host mapping (`--map`), the
 * virtual-clock hold while a connection is open, SNTP and `socket.*` all work on adapter 1, and
 * `closeAll(1)` drops the open connections when the cellular link goes down.
 *
 * State (the environment survives reboots, the modem's own state does not):
 *  - environment (faults): SIM inserted or not, signal `good | weak | none`, the network
 *    detached us or not;
 *  - per boot: flight mode (off at every boot: the modem restarts with the chip), PIN entered,
 *    the APN the script set, the registration phase and the IP.
 *
 * Boot sequence (timings are choices, documented in `DEFAULT_MODEM_TIMING`): `simMs` after the
 * boot the SIM is read → `sim RDY` (or `NORDY` without a SIM, `SIM_PIN` when the profile's SIM
 * has a PIN and it was not entered); then `regMs` (twice that with a weak signal) of network
 * search → registered (`mobile.status()` 1); then `pdpMs` until the default PDP context is up →
 * `ip-ready`. The sum, 2.7 s, matches the Air780E (EC618) log in test/fixtures/logs/ec7xx.txt
 * (IP_READY at 2.703 s); real logs show 2–5 s depending on the cell.
 *
 * Link loss (SIM removed, signal none, network detach, flight mode on): the open connections of
 * adapter 1 are destroyed and `ip-lose` is emitted (once, only if there was an IP). Recovery
 * (SIM inserted, signal back, attach, flight mode off) restarts the search: registered after
 * `regMs`, IP after `pdpMs`, as at boot. A re-inserted SIM is read again (`sim RDY`).
 *
 * Network time: with `mobile.syncTime()` on (the default) the first IP of a boot also brings the
 * base-station time (NITZ): the device clock is set (from the host's clock) and a `time` event
 * follows `ip-ready` (the binding publishes `NTP_UPDATE(1)`; `socket.sntp` publishes 0). Real
 * networks send it around the registration; after IP_READY is our choice of moment.
 *
 * Firmware log lines (emitted as `log` events; the bindings write them): on IP
 * `D mobile:cid1, state0` and `D mobile:NETIF_LINK_ON -> IP_READY` (from the EC618 log above);
 * on loss `D mobile:NETIF_LINK_OFF -> IP_LOSE` (our wording, the symmetric line; unsure). SIM
 * and registration changes log nothing (none in the log we have).
 *
 * Signal values by level (choices; `mobile.csq()` 0..31, 0 = unknown/failure as the firmware):
 *   good: csq from the profile (default 25), rsrp -85, rsrq -8, snr 15
 *   weak: csq 8, rsrp -116, rsrq -16, snr -3
 *   none / flight mode: every value 0 (the firmware's "failure" value)
 * `rssi` = -113 + 2·csq (0 when csq is 0).
 */
import * as crypto from 'node:crypto';
import type * as net from 'node:net';
import type { TimerHandle } from '../core/clock';
import { LWIP_GP } from './adapters';
import { Listeners, type BoardAdapter, type NetBoot, type NetHost, type NetLogEvent } from './events';
import { luhn } from './luhn';
import type { WifiNetwork } from './model';
import { DeviceNetwork, MappedAddress, TcpConnectOptions } from './types';
import type { LogLevel } from '../core/log';

export type SignalLevel = 'good' | 'weak' | 'none';
export type SimIndication = 'RDY' | 'NORDY' | 'SIM_PIN';
/** off = flight mode (or the modem not started yet) */
export type ModemPhase = 'off' | 'nosim' | 'pin' | 'searching' | 'registered' | 'online';

/** What the modem tells its listeners (the mobile binding, the console, tests). */
export type ModemEvent =
  | { type: 'sim'; state: SimIndication }
  | { type: 'ip-ready'; ip: string }
  | { type: 'ip-lose' }
  /** network time (NITZ) received with the registration: the device clock was set */
  | { type: 'time'; unixMs: number }
  | { type: 'status'; status: ModemStatus }
  /** a firmware log line (`D mobile:NETIF_LINK_ON -> IP_READY`) */
  | NetLogEvent;

export interface ModemStatus {
  phase: ModemPhase;
  simInserted: boolean;
  signal: SignalLevel;
  detached: boolean;
  flightMode: boolean;
  ip: string | null;
  /** mobile.status() */
  registration: number;
}

export interface ModemTiming {
  /** boot → SIM read (SIM_IND) */
  simMs: number;
  /** SIM ready / signal back → registered (doubled with a weak signal) */
  regMs: number;
  /** registered → IP_READY (default PDP context) */
  pdpMs: number;
}

export const DEFAULT_MODEM_TIMING: ModemTiming = { simMs: 300, regMs: 1800, pdpMs: 600 };

/** mobile.status() values (luatos-api-2.md §8). */
export const REG = { UNREGISTER: 0, REGISTERED: 1, SEARCH: 2, DENIED: 3, UNKNOW: 4 } as const;

export interface ModemOptions {
  imei: string;
  imsi: string;
  iccid: string;
  /** MSISDN stored on the SIM; most data SIMs have none (mobile.number() → nil) */
  number?: string;
  /** the SIM's PIN; undefined = PIN check disabled */
  pin?: string;
  /** csq with a good signal */
  csq: number;
  ip: string;
  signal: SignalLevel;
  simInserted: boolean;
  timing: ModemTiming;
}

/** `n` decimal digits derived from `seed` (stable per seed): the modem's and the `mobile` stub's identities. */
export function digits(seed: string, n: number): string {
  let out = '';
  let k = 0;
  while (out.length < n) {
    const h = crypto.createHash('sha256').update(`${seed}:${k++}`).digest();
    for (const b of h) {
      if (b < 250) out += String(b % 10);
      if (out.length >= n) break;
    }
  }
  return out;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The modem's options from the profile: `imei` (top level, 15 digits) and the `mobile` section:
 *   "mobile": { "imsi": "460001234567890", "iccid": "89860012345678901234", "number": "1440...",
 *               "pin": "1234", "csq": 25, "ip": "10.64.12.34", "signal": "good", "sim": true,
 *               "timing": { "simMs": 300, "regMs": 1800, "pdpMs": 600 } }
 * Missing identities are derived from the profile name (stable per device): IMEI "86" + 12 digits
 * + Luhn digit, IMSI "46000" + 10 digits, ICCID "8986" + 16 digits (China Mobile prefixes).
 * Throws Error with a readable message on bad values.
 */
export function modemOptionsFromProfile(profile: { name?: string; imei?: unknown; mobile?: unknown; [k: string]: unknown }): ModemOptions {
  const name = profile.name ?? 'air780epm';
  const sec = isObj(profile.mobile) ? profile.mobile : {};
  const digitStr = (v: unknown, what: string, re: RegExp, hint: string): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !re.test(v)) throw new Error(`profile ${what} must be ${hint}`);
    return v;
  };
  const imeiBody = '86' + digits('imei:' + name, 12);
  const imei = digitStr(profile.imei, 'imei', /^\d{15}$/, '15 digits') ?? imeiBody + luhn(imeiBody);
  const imsi = digitStr(sec.imsi, 'mobile.imsi', /^\d{6,15}$/, '6 to 15 digits') ?? '46000' + digits('imsi:' + name, 10);
  const iccid = digitStr(sec.iccid, 'mobile.iccid', /^[0-9A-Fa-f]{19,20}$/, '19 or 20 digits') ?? '8986' + digits('iccid:' + name, 16);
  const number = digitStr(sec.number, 'mobile.number', /^\+?\d{3,20}$/, 'a phone number (digits)');
  const pin = digitStr(sec.pin, 'mobile.pin', /^\d{4,8}$/, '4 to 8 digits');
  let csq = 25;
  if (sec.csq !== undefined) {
    if (typeof sec.csq !== 'number' || !Number.isInteger(sec.csq) || sec.csq < 1 || sec.csq > 31) throw new Error('profile mobile.csq must be a whole number 1..31');
    csq = sec.csq;
  }
  let ip: string;
  if (sec.ip !== undefined) {
    if (typeof sec.ip !== 'string' || !/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(sec.ip) || sec.ip.split('.').some((p) => Number(p) > 255)) {
      throw new Error('profile mobile.ip must be a dotted IPv4 address');
    }
    ip = sec.ip;
  } else {
    // a carrier-grade NAT address, as operators hand out (10.0.0.0/8), stable per device name
    const h = crypto.createHash('sha1').update(`cell-ip:${name}`).digest();
    ip = `10.${h[0]}.${h[1]}.${(h[2] % 253) + 2}`;
  }
  let signal: SignalLevel = 'good';
  if (sec.signal !== undefined) {
    if (sec.signal !== 'good' && sec.signal !== 'weak' && sec.signal !== 'none') throw new Error("profile mobile.signal must be 'good', 'weak' or 'none'");
    signal = sec.signal;
  }
  let simInserted = true;
  if (sec.sim !== undefined) {
    if (typeof sec.sim !== 'boolean') throw new Error('profile mobile.sim must be true (inserted) or false');
    simInserted = sec.sim;
  }
  const timing: ModemTiming = { ...DEFAULT_MODEM_TIMING };
  if (sec.timing !== undefined) {
    if (!isObj(sec.timing)) throw new Error('profile mobile.timing must be an object');
    for (const k of Object.keys(DEFAULT_MODEM_TIMING) as (keyof ModemTiming)[]) {
      const v = sec.timing[k];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 600_000) throw new Error(`profile mobile.timing.${k} must be a number of ms between 0 and 600000`);
      timing[k] = v;
    }
  }
  return { imei, imsi, iccid, number, pin, csq, ip, signal, simInserted, timing };
}

/** The operator's default APN for an IMSI's MCC+MNC (China's three operators; else "internet"). */
export function defaultApn(imsi: string): string {
  const plmn = imsi.slice(0, 5);
  if (['46000', '46002', '46004', '46007', '46008', '46013'].includes(plmn)) return 'cmnet';
  if (['46001', '46006', '46009', '46010'].includes(plmn)) return '3gnet';
  if (['46003', '46005', '46011', '46012'].includes(plmn)) return 'ctnet';
  return 'internet';
}

export interface Apn {
  name: string;
  user: string;
  password: string;
}

export class CellularModem implements BoardAdapter, DeviceNetwork {
  readonly id = LWIP_GP;
  readonly opts: ModemOptions;
  readonly timing: ModemTiming;
  private readonly listeners = new Listeners<ModemEvent>();

  // environment (fault injection; survives reboots)
  private simInserted: boolean;
  private signal: SignalLevel;
  private detached = false;

  // per boot
  /** the device of the current (or the last) boot */
  private host: NetHost | null = null;
  private currentBoot: NetBoot | null = null;
  private gen = 0;
  private phase: ModemPhase = 'off';
  private flight = false;
  private started = false;
  private pinOk = false;
  private simRead = false;
  private timeSynced = false;
  private timer: TimerHandle | null = null;
  private apnUser: Apn | null = null;
  private apnCurrent: Apn | null = null;
  ipv6 = false;
  syncTime = true;

  constructor(
    /** the Wi-Fi model whose plumbing carries the traffic */
    readonly carrier: WifiNetwork,
    opts: ModemOptions,
  ) {
    this.opts = opts;
    this.timing = { ...opts.timing };
    this.simInserted = opts.simInserted;
    this.signal = opts.signal;
  }

  // ================================================================== events

  /** Listen to the modem; returns the function that stops listening. */
  onEvent(fn: (e: ModemEvent) => void): () => void {
    return this.listeners.on(fn);
  }

  private emit(e: ModemEvent): void {
    this.listeners.emit(e);
  }

  private emitStatus(): void {
    this.emit({ type: 'status', status: this.status() });
  }

  private log(level: LogLevel, msg: string): void {
    this.emit({ type: 'log', level, module: 'mobile', text: msg });
  }

  status(): ModemStatus {
    return {
      phase: this.phase,
      simInserted: this.simInserted,
      signal: this.signal,
      detached: this.detached,
      flightMode: this.flight,
      ip: this.phase === 'online' ? this.opts.ip : null,
      registration: this.registration(),
    };
  }

  // ================================================================== BoardAdapter (boots)

  /** A new boot (the Wi-Fi model's `boot` passes it on): the modem starts over. */
  boot(b: NetBoot): void {
    this.reset();
    this.host = b.host;
    this.currentBoot = b;
    b.onEnd(() => {
      if (this.currentBoot !== b) return;
      this.reset();
      this.currentBoot = null;
    });
    this.started = true;
    this.after(this.timing.simMs, () => this.readSim());
    this.emitStatus();
  }

  private reset(): void {
    this.gen++;
    this.clearTimer();
    this.phase = 'off';
    this.flight = false;
    this.started = false;
    this.pinOk = false;
    this.simRead = false;
    this.timeSynced = false;
    this.apnUser = null;
    this.apnCurrent = null;
    this.ipv6 = false;
    this.syncTime = true;
  }

  private clearTimer(): void {
    if (this.timer && this.host) this.host.clock.clearTimer(this.timer);
    this.timer = null;
  }

  /** one pending step at a time: a new step replaces the old one */
  private after(ms: number, fn: () => void): void {
    this.clearTimer();
    if (!this.host) return;
    const gen = this.gen;
    this.timer = this.host.clock.setTimer(ms, () => {
      this.timer = null;
      if (gen === this.gen) fn();
    });
  }

  ready(): boolean {
    return this.phase === 'online';
  }

  ipInfo(): { ip: string; mask: string; gw: string } {
    // a point-to-point PDP netif: the mask and gateway are choices (unsure)
    if (this.phase !== 'online') return { ip: '0.0.0.0', mask: '0.0.0.0', gw: '0.0.0.0' };
    return { ip: this.opts.ip, mask: '255.255.255.255', gw: '0.0.0.0' };
  }

  // ================================================================== DeviceNetwork (adapter 1)

  adapterReady(adapter: number): boolean {
    return adapter === LWIP_GP ? this.ready() : this.carrier.adapterReady(adapter);
  }
  defaultAdapter(): number {
    return LWIP_GP;
  }
  mapAddress(host: string, port: number): MappedAddress {
    return this.carrier.mapAddress(host, port);
  }
  connectTcp(opts: TcpConnectOptions): Promise<net.Socket> {
    return this.carrier.connectTcp({ ...opts, adapter: opts.adapter ?? LWIP_GP });
  }
  closeAll(adapter: number = LWIP_GP): void {
    this.carrier.closeAll(adapter);
  }

  // ================================================================== the state machine

  private readSim(): void {
    if (this.flight) return;
    this.simRead = true;
    if (!this.simInserted) {
      this.phase = 'nosim';
      this.emit({ type: 'sim', state: 'NORDY' });
    } else if (this.opts.pin !== undefined && !this.pinOk) {
      this.phase = 'pin';
      this.emit({ type: 'sim', state: 'SIM_PIN' });
    } else {
      this.emit({ type: 'sim', state: 'RDY' });
      this.search();
    }
    this.emitStatus();
  }

  /** Search for the network: registered after regMs when there is a signal and no detach. */
  private search(): void {
    this.phase = 'searching';
    this.clearTimer();
    if (this.signal === 'none' || this.detached) return; // waits for the fault to end
    this.after(this.signal === 'weak' ? this.timing.regMs * 2 : this.timing.regMs, () => {
      this.phase = 'registered';
      this.apnCurrent = this.apnUser ?? { name: defaultApn(this.opts.imsi), user: '', password: '' };
      this.emitStatus();
      this.after(this.timing.pdpMs, () => this.online());
    });
    this.emitStatus();
  }

  private online(): void {
    this.phase = 'online';
    this.log('D', 'cid1, state0');
    this.log('D', 'NETIF_LINK_ON -> IP_READY');
    this.emit({ type: 'ip-ready', ip: this.opts.ip });
    // base-station time (mobile.syncTime, default on): once per boot, the host's clock stands in
    // for the network's
    if (this.syncTime && !this.timeSynced && this.host) {
      this.timeSynced = true;
      const now = Date.now();
      this.host.clock.setWallTime(now);
      this.emit({ type: 'time', unixMs: now });
    }
    this.emitStatus();
  }

  /** Leave the current phase for `next`; connections die and ip-lose is emitted if we had an IP. */
  private lose(next: ModemPhase): void {
    const hadIp = this.phase === 'online';
    this.clearTimer();
    this.phase = next;
    if (next !== 'registered') this.apnCurrent = null;
    if (hadIp) {
      this.carrier.closeAll(LWIP_GP, 'the cellular link went down');
      this.log('D', 'NETIF_LINK_OFF -> IP_LOSE');
      this.emit({ type: 'ip-lose' });
    }
    this.emitStatus();
  }

  /** the modem is running (a boot is running, boot SIM read done or pending, not in flight mode) */
  private get live(): boolean {
    return this.started && !this.flight;
  }

  // ================================================================== script side (mobile.*)

  /** mobile.status() */
  registration(): number {
    switch (this.phase) {
      case 'registered':
      case 'online':
        return REG.REGISTERED;
      case 'searching':
        return this.detached ? REG.UNREGISTER : REG.SEARCH;
      default:
        return REG.UNREGISTER;
    }
  }

  /** the SIM is in and was read in this boot (ICCID readable) */
  get simPresent(): boolean {
    return this.simInserted && this.simRead;
  }

  /** the SIM is in, read and unlocked (IMSI readable) */
  get simReady(): boolean {
    return this.simPresent && (this.opts.pin === undefined || this.pinOk);
  }

  get inFlightMode(): boolean {
    return this.flight;
  }

  /** mobile.flymode(i, enable): returns the previous state. */
  setFlightMode(on: boolean): boolean {
    const prev = this.flight;
    if (!this.started || on === prev) return prev;
    if (on) {
      this.lose('off');
      this.flight = true;
    } else {
      this.flight = false;
      if (!this.simRead) this.after(this.timing.simMs, () => this.readSim());
      else if (!this.simInserted) this.phase = 'nosim';
      else if (this.opts.pin !== undefined && !this.pinOk) this.phase = 'pin';
      else this.search();
    }
    this.emitStatus();
    return prev;
  }

  /** mobile.simPin(id, PIN_VERIFY, pin): true when it unlocked the SIM. */
  verifyPin(pin: string): boolean {
    if (this.opts.pin === undefined || !this.simInserted) return false;
    if (pin !== this.opts.pin) return false;
    if (this.pinOk) return true;
    this.pinOk = true;
    if (this.phase === 'pin') {
      this.emit({ type: 'sim', state: 'RDY' });
      this.search();
    }
    return true;
  }

  /** Signal values by level (see the header). */
  signalValues(): { csq: number; rssi: number; rsrp: number; rsrq: number; snr: number } {
    if (!this.started || this.flight || this.signal === 'none') return { csq: 0, rssi: 0, rsrp: 0, rsrq: 0, snr: 0 };
    if (this.signal === 'weak') return { csq: 8, rssi: -113 + 16, rsrp: -116, rsrq: -16, snr: -3 };
    const csq = this.opts.csq;
    return { csq, rssi: -113 + 2 * csq, rsrp: -85, rsrq: -8, snr: 15 };
  }

  /** The serving cell (eci, tac, enbid) while registered, derived from the IMSI; null otherwise. */
  cell(): { eci: number; tac: number; enbid: number } | null {
    if (this.phase !== 'registered' && this.phase !== 'online') return null;
    const h = crypto.createHash('sha1').update(`cell:${this.opts.imsi}`).digest();
    const enbid = h.readUInt32BE(0) % (1 << 20);
    const eci = enbid * 256 + (h[4] % 3) + 1;
    return { eci, tac: 0x5000 + h.readUInt16BE(5) % 0x1000, enbid };
  }

  /** mobile.apn(): the APN in use (nil before registration). */
  currentApn(): Apn | null {
    return this.apnCurrent ? { ...this.apnCurrent } : null;
  }

  /** mobile.apn(i, cid, name, user, pass): used from the next registration; '' clears it. */
  setUserApn(apn: Apn | null): void {
    this.apnUser = apn && apn.name !== '' ? { ...apn } : null;
  }

  // ================================================================== faults (the environment)

  /** The SIM is pulled out: SIM_IND NORDY, then IP_LOSE if online; stays so until insertSim(). */
  removeSim(): void {
    if (!this.simInserted) return;
    this.simInserted = false;
    this.pinOk = false;
    if (!this.live) return this.emitStatus();
    // the SIM detect comes first, then the network drops the PDP context
    this.emit({ type: 'sim', state: 'NORDY' });
    this.lose('nosim');
  }

  /** The SIM is back: it is read again (SIM_IND RDY or SIM_PIN) and the modem registers. */
  insertSim(): void {
    if (this.simInserted) return;
    this.simInserted = true;
    if (!this.live || this.phase !== 'nosim') return this.emitStatus();
    this.after(this.timing.simMs, () => this.readSim());
    this.emitStatus();
  }

  /** Signal level: 'none' loses the registration (IP_LOSE); back from 'none' searches again. */
  setSignal(level: SignalLevel): void {
    const was = this.signal;
    this.signal = level;
    if (!this.live) return this.emitStatus();
    if (level === 'none' && (this.phase === 'searching' || this.phase === 'registered' || this.phase === 'online')) this.lose('searching');
    else if (was === 'none' && level !== 'none' && this.phase === 'searching') this.search();
    this.emitStatus();
  }

  /** The network detaches the modem (IP_LOSE, status UNREGISTER) until attachNetwork(). */
  detachNetwork(): void {
    this.detached = true;
    if (this.live && (this.phase === 'searching' || this.phase === 'registered' || this.phase === 'online')) this.lose('searching');
    this.emitStatus();
  }

  attachNetwork(): void {
    const was = this.detached;
    this.detached = false;
    if (was && this.live && this.phase === 'searching') this.search();
    this.emitStatus();
  }
}

// ==================================================================== per-device registry

const MODEM = Symbol('luatos.cellularModem');
type WithModem = { [MODEM]?: CellularModem };

/** Remember the device's modem (on the device object itself, never in a module variable). */
export function attachModem(device: object, modem: CellularModem): void {
  Object.defineProperty(device, MODEM, { value: modem, enumerable: false, writable: true, configurable: true });
}

/** The device's modem, or null on boards without one. */
export function modemOf(device: object): CellularModem | null {
  return (device as WithModem)[MODEM] ?? null;
}

