/**
 * mobile: the cellular module's identity and signal (components/mobile/luat_lib_mobile.c).
 * The simulated device has no modem; every value is a plausible FIXED simulation:
 *
 * - `imei(index=0)` → the profile's `imei`, else a stable 15-digit Luhn-valid IMEI derived
 *   from the device name (TAC prefix "86" like the Air modules). `sn()` → 16 bytes hex of
 *   the same derivation. `muid()` → hex of mcu.unique_id.
 * - `imsi(index)` → profile `mobile.imsi` or "46000" + 10 derived digits; `iccid(id)` →
 *   profile `mobile.iccid` or "8986" + 16 derived digits; `simid()` → 0; `number(id)` → nil.
 * - `csq()` → profile `mobile.csq` or 25; `rssi()` = -113 + 2*csq; `rsrp()` → -85;
 *   `rsrq()` → -8; `snr()` → 15; `status()` → 1 (registered, home network).
 * - `flymode(index, on?)` → false (remembers nothing), `ipv6(on?)` → false.
 * Everything else of the module (cell info, APN, band, eSIM) is left out.
 */
import { createHash } from 'node:crypto';
import type { Vm } from '../runtime/vm';
import { uniqueId } from './mcu';

function digits(seed: string, n: number): string {
  let out = '';
  let k = 0;
  while (out.length < n) {
    const h = createHash('sha256').update(`${seed}:${k++}`).digest();
    for (const b of h) {
      if (b < 250) out += String(b % 10);
      if (out.length >= n) break;
    }
  }
  return out;
}

/** Luhn check digit for a digit string. */
export function luhnDigit(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export function deriveImei(name: string): string {
  const body = '86' + digits('imei:' + name, 12);
  return body + luhnDigit(body);
}

interface MobileProfile {
  imsi?: string;
  iccid?: string;
  csq?: number;
}

export function openMobile(vm: Vm): void {
  const { e } = vm;
  const p = vm.device.profile;
  const mp = ((p as Record<string, unknown>).mobile ?? {}) as MobileProfile;
  const imei = p.imei && /^\d{15}$/.test(p.imei) ? p.imei : deriveImei(p.name);
  const imsi = mp.imsi ?? '46000' + digits('imsi:' + p.name, 10);
  const iccid = mp.iccid ?? '8986' + digits('iccid:' + p.name, 16);
  const csq = typeof mp.csq === 'number' ? mp.csq : 25;
  const str = (v: string) => (a: { L: Parameters<typeof e.pushstring>[0] }) => {
    e.pushstring(a.L, v);
    return 1;
  };
  const int = (v: number) => (a: { L: Parameters<typeof e.pushinteger>[0] }) => {
    e.pushinteger(a.L, v);
    return 1;
  };
  vm.defineModule('mobile', {
    imei: str(imei),
    imsi: str(imsi),
    iccid: str(iccid),
    sn: str(createHash('md5').update('sn:' + p.name).digest('hex').toUpperCase()),
    muid: (a) => {
      e.pushstring(a.L, uniqueId(vm).toString('hex').toUpperCase());
      return 1;
    },
    simid: int(0),
    number: () => 0,
    csq: int(csq),
    rssi: int(-113 + 2 * csq),
    rsrp: int(-85),
    rsrq: int(-8),
    snr: int(15),
    status: int(1),
    flymode: (a) => {
      e.pushboolean(a.L, false);
      return 1;
    },
    ipv6: (a) => {
      e.pushboolean(a.L, false);
      return 1;
    },
  });
}
