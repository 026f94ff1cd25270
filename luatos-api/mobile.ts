/**
 * mobile: the cellular module's identity and signal (components/mobile/luat_lib_mobile.c).
 *
 * On a board with a modem (`--board air780epm` and its variants) the module is the script side of
 * the modem model (runtime/net/cellular.ts), see `openModemMobile` below. On boards without one
 * (the Air8101) every value is a plausible FIXED simulation:
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
import { LUA_TBOOLEAN, LUA_TNUMBER, LUA_TSTRING } from '../runtime/core/engine/types';
import type { BindingFn, Vm } from '../runtime/core/vm/vm';
import { CellularModem, digits, modemOf } from '../runtime/net/cellular';
import { luhn } from '../runtime/net/luhn';
import { wifiOf } from './shared/net-events';
import { LWIP_GP } from '../runtime/net/adapters';
import { uniqueId } from './mcu';

export function deriveImei(name: string): string {
  const body = '86' + digits('imei:' + name, 12);
  return body + luhn(body);
}

interface MobileProfile {
  imsi?: string;
  iccid?: string;
  csq?: number;
}

export function openMobile(vm: Vm): void {
  const modem = modemOf(vm.device);
  if (modem) return openModemMobile(vm, modem);
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

/** mobile constants (luatos-api-2.md §8, luat_lib_mobile.c:1783). */
export const MOBILE_CONSTANTS: Record<string, number> = {
  UNREGISTER: 0,
  REGISTERED: 1,
  SEARCH: 2,
  DENIED: 3,
  UNKNOW: 4,
  REGISTERED_ROAMING: 5,
  SMS_ONLY_REGISTERED: 6,
  SMS_ONLY_REGISTERED_ROAMING: 7,
  EMERGENCY_REGISTERED: 8,
  CSFB_NOT_PREFERRED_REGISTERED: 9,
  CSFB_NOT_PREFERRED_REGISTERED_ROAMING: 10,
  PIN_VERIFY: 0,
  PIN_CHANGE: 1,
  PIN_ENABLE: 2,
  PIN_DISABLE: 3,
  PIN_UNBLOCK: 4,
  CONF_RESELTOWEAKNCELL: 1,
  CONF_STATICCONFIG: 2,
  CONF_QUALITYFIRST: 3,
  CONF_USERDRXCYCLE: 4,
  CONF_T3324MAXVALUE: 5,
  CONF_PSM_MODE: 6,
  CONF_CE_MODE: 7,
  CONF_SIM_WC_MODE: 8,
  CONF_FAKE_CELL_BARTIME: 9,
  CONF_RESET_TO_FACTORY: 10,
  CONF_USB_ETHERNET: 11,
  CONF_DISABLE_NCELL_MEAS: 12,
  CONF_MAX_TX_POWER: 13,
};

/** longest APN name / user / password accepted (the 3GPP APN limit is 100 bytes; user/pass: our bound) */
const APN_MAX = 100;
const APN_CRED_MAX = 64;

/**
 * `mobile` over the modem model. Events, as the firmware's `l_mobile_event_handle` publishes them:
 * `SIM_IND("RDY" | "NORDY" | "SIM_PIN")`, `IP_READY(ip, 1)`, `IP_LOSE(1)` (adapter `LWIP_GP`),
 * `NTP_UPDATE(1)` (base-station time, once per boot after the first IP_READY, with syncTime on).
 *
 * - `imei()`: the profile's; `iccid()`: nil without a SIM (or before it was read); `imsi()`,
 *   `number()`: nil until the SIM is ready (unlocked); `number()` is nil unless the profile has one.
 * - `csq/rssi/rsrp/rsrq/snr()`: by signal level (runtime/net/cellular.ts), 0 = failure.
 * - `eci/tac/enbid()`: the serving cell while registered, -1 otherwise.
 * - `status()`: 0 unregistered (no SIM, flight mode, detached), 2 searching, 1 registered.
 * - `flymode(i, enable)`: sets it when `enable` is a boolean; returns the previous state.
 * - `apn(i, cid, name, user, pass, ...)`: returns the APN in use (nil before registration); a
 *   name sets the user APN for the next registration (user and pass must be strings; '' clears).
 * - `simPin(id, mobile.PIN_VERIFY, pin)`: true when the PIN unlocks the SIM (then SIM_IND RDY and
 *   registration); other operations → false. The argument order is our reading of the firmware
 *   (unsure: simPin is not covered by the facts).
 * - `simid()` → 0 (one SIM slot), `ipv6(b)`, `syncTime(b)` → the current setting.
 */
function openModemMobile(vm: Vm, modem: CellularModem): void {
  const { e } = vm;
  // the modem boots with the carrier network (its board adapter), bound to this VM
  wifiOf(vm);
  const off = modem.onEvent((ev) => {
    if (vm.isDead) return;
    if (ev.type === 'sim') vm.publish('SIM_IND', ev.state);
    else if (ev.type === 'ip-ready') vm.publish('IP_READY', ev.ip, LWIP_GP);
    else if (ev.type === 'ip-lose') vm.publish('IP_LOSE', LWIP_GP);
    else if (ev.type === 'time') vm.publish('NTP_UPDATE', 1);
  });
  vm.onClose(off);
  const o = modem.opts;
  const strOrNil = (get: () => string | null | undefined): BindingFn => (a) => {
    const v = get();
    if (v === null || v === undefined) e.pushnil(a.L);
    else e.pushstring(a.L, v);
    return 1;
  };
  const int = (get: () => number): BindingFn => (a) => {
    e.pushinteger(a.L, get());
    return 1;
  };
  const boolSetting = (get: () => boolean, set: (v: boolean) => void): BindingFn => (a) => {
    if (a.type(1) === LUA_TBOOLEAN) set(a.boolean(1));
    e.pushboolean(a.L, get());
    return 1;
  };
  vm.defineModule(
    'mobile',
    {
      imei: strOrNil(() => o.imei),
      imsi: strOrNil(() => (modem.simReady ? o.imsi : null)),
      iccid: strOrNil(() => (modem.simPresent ? o.iccid : null)),
      number: strOrNil(() => (modem.simReady ? o.number : null)),
      sn: strOrNil(() => createHash('md5').update('sn:' + vm.device.profile.name).digest('hex').toUpperCase()),
      muid: (a) => {
        e.pushstring(a.L, uniqueId(vm).toString('hex').toUpperCase());
        return 1;
      },
      simid: int(() => 0),
      csq: int(() => modem.signalValues().csq),
      rssi: int(() => modem.signalValues().rssi),
      rsrp: int(() => modem.signalValues().rsrp),
      rsrq: int(() => modem.signalValues().rsrq),
      snr: int(() => modem.signalValues().snr),
      eci: int(() => modem.cell()?.eci ?? -1),
      tac: int(() => modem.cell()?.tac ?? -1),
      enbid: int(() => modem.cell()?.enbid ?? -1),
      status: int(() => modem.registration()),
      flymode: (a) => {
        if (a.type(2) === LUA_TBOOLEAN) {
          e.pushboolean(a.L, modem.setFlightMode(a.boolean(2)));
        } else e.pushboolean(a.L, modem.inFlightMode);
        return 1;
      },
      ipv6: boolSetting(
        () => modem.ipv6,
        (v) => (modem.ipv6 = v),
      ),
      syncTime: boolSetting(
        () => modem.syncTime,
        (v) => (modem.syncTime = v),
      ),
      apn: (a) => {
        if (a.type(3) === LUA_TSTRING) {
          const name = a.string(3);
          const user = a.string(4);
          const password = a.string(5);
          if (Buffer.byteLength(name) > APN_MAX) a.argError(3, 'apn name too long');
          if (Buffer.byteLength(user) > APN_CRED_MAX) a.argError(4, 'user name too long');
          if (Buffer.byteLength(password) > APN_CRED_MAX) a.argError(5, 'password too long');
          modem.setUserApn({ name, user, password });
        }
        const cur = modem.currentApn();
        if (cur) e.pushstring(a.L, cur.name);
        else e.pushnil(a.L);
        return 1;
      },
      simPin: (a) => {
        const op = a.optInteger(2, 0);
        const pin = a.type(3) === LUA_TSTRING || a.type(3) === LUA_TNUMBER ? a.string(3) : '';
        e.pushboolean(a.L, op === MOBILE_CONSTANTS.PIN_VERIFY && pin.length <= 8 && modem.verifyPin(pin));
        return 1;
      },
    },
    MOBILE_CONSTANTS,
  );
}
