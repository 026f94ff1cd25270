/**
 * wlan (luatos-api.md §9): the Wi-Fi station of the device network model
 * (runtime/net/model.ts). Thin: checks arguments, calls the model, pushes results.
 *
 * - `init()` → true; `setMode/mode(mode)` → true (integer in arg 1 or 2, out of range → STATION).
 * - `connect(ssid?, password?, auto_reconnect = 1, bssid6?)` → true when an attempt started (the
 *   result comes as WLAN_STA_INC / IP_READY). No arguments reuse the previous credentials. An
 *   empty ssid without a 6-byte bssid logs `wlan:ssid is emtry!!!` (sic) and returns nothing.
 * - `scan()` → nothing, later WLAN_SCAN_DONE; `scanResult(limit = 20)` (limit clamped to 8..32)
 *   → `{ssid, bssid (6 raw bytes), channel, rssi}` of the virtual APs in range, strongest first.
 * - `getMac(id = 0, hex = true)`: id 0 = STA, else AP; `getIP()` → "0.0.0.0" when not connected
 *   (a choice); `getInfo()` → `{bssid = 12 hex, gw, rssi}` (zeros when not connected, a choice).
 * - `hostname(name?)` (default `LUATOS_<MAC>`), `powerSave(mode?)` → current mode,
 *   `staIp(dhcp, ip, mask, gw)`, `createAP(...)`/`stopAP()` (the AP adapter becomes ready with
 *   the gateway address; no clients are simulated), `smartconfig` → false (unsupported).
 */
import { LUA_TBOOLEAN, LUA_TNUMBER, LUA_TTABLE } from '../runtime/core/engine/types';
import { pushValue } from '../runtime/core/vm/lua-value';
import { LWIP_AP, LWIP_STA } from '../runtime/net/adapters';
import { wifiOf } from '../runtime/net/attach';
import type { Vm } from '../runtime/core/vm/vm';
import type { Args } from '../runtime/core/vm/lua-value';

export const WLAN_CONSTANTS = {
  NONE: 0,
  STATION: 1,
  AP: 2,
  STATIONAP: 3,
  /** used by exnetif's proxy mode; same value as STATIONAP */
  APSTA: 3,
  PS_NONE: 0,
  PS_MIN_MODEM: 1,
  PS_MAX_MODEM: 2,
  STOP: 0,
  ESPTOUCH: 1,
  AIRKISS: 2,
  ESPTOUCH_AIRKISS: 3,
  ESPTOUCH_V2: 4,
};

function optBool(a: Args, i: number, def: boolean): boolean {
  if (a.isNoneOrNil(i)) return def;
  if (a.type(i) === LUA_TBOOLEAN) return a.boolean(i);
  if (a.type(i) === LUA_TNUMBER) return a.integer(i) !== 0;
  return a.boolean(i);
}

export function openWlan(vm: Vm): void {
  const m = wifiOf(vm);
  const { e } = vm;
  const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

  vm.defineModule(
    'wlan',
    {
      init: (a) => {
        e.pushboolean(a.L, true);
        return 1;
      },
      setMode: (a) => setMode(a),
      mode: (a) => setMode(a),
      connect: (a) => {
        let ssid: string;
        let password: string;
        if (a.count === 0) {
          const last = m.lastCredentials;
          ssid = last?.ssid ?? '';
          password = last?.password ?? '';
        } else {
          ssid = a.isNoneOrNil(1) ? '' : text(a.bytes(1));
          password = a.isNoneOrNil(2) ? '' : text(a.bytes(2));
        }
        const auto = optBool(a, 3, true);
        const bssidRaw = a.isNoneOrNil(4) ? null : a.bytes(4);
        const bssid = bssidRaw && bssidRaw.length === 6 ? Buffer.from(bssidRaw) : undefined;
        if (ssid === '' && !bssid) {
          vm.log('E', 'wlan', 'ssid is emtry!!!');
          return 0;
        }
        m.connect(ssid, password, auto, bssid);
        e.pushboolean(a.L, true);
        return 1;
      },
      disconnect: () => {
        m.disconnect();
        return 0;
      },
      ready: (a) => {
        e.pushboolean(a.L, m.adapterReady(LWIP_STA));
        return 1;
      },
      scan: () => {
        m.scan();
        return 0;
      },
      scanResult: (a) => {
        const limit = Math.max(8, Math.min(32, a.optInteger(1, 20)));
        const list = m.scanResults().slice(0, limit);
        e.createtable(a.L, list.length, 0);
        list.forEach((ap, i) => {
          pushValue(e, a.L, { ssid: ap.ssid, bssid: ap.bssid, channel: ap.channel, rssi: ap.rssi });
          e.rawseti(a.L, -2, i + 1);
        });
        return 1;
      },
      getMac: (a) => {
        const id = a.optInteger(1, 0);
        const hex = optBool(a, 2, true);
        const mac = m.mac(id === 0 ? LWIP_STA : LWIP_AP);
        if (hex) e.pushstring(a.L, mac.toString('hex').toUpperCase());
        else e.pushbytes(a.L, mac);
        return 1;
      },
      setMac: (a) => {
        const id = a.integer(1);
        const mac = a.bytes(2);
        e.pushboolean(a.L, mac.length === 6 && m.setMac(id === 0 ? LWIP_STA : LWIP_AP, Buffer.from(mac)));
        return 1;
      },
      getIP: (a) => {
        e.pushstring(a.L, m.ipInfo(LWIP_STA).ip);
        return 1;
      },
      getInfo: (a) => {
        const ap = m.connectedAp;
        pushValue(e, a.L, {
          bssid: ap ? ap.bssid.toString('hex').toUpperCase() : '000000000000',
          gw: m.ipInfo(LWIP_STA).gw,
          rssi: ap ? ap.rssi : 0,
        });
        return 1;
      },
      hostname: (a) => {
        if (!a.isNoneOrNil(1)) m.hostname = a.string(1);
        e.pushstring(a.L, m.hostname);
        return 1;
      },
      powerSave: (a) => {
        if (!a.isNoneOrNil(1)) m.powerSaveMode = a.integer(1);
        e.pushinteger(a.L, m.powerSaveMode);
        return 1;
      },
      staIp: (a) => {
        const dhcp = optBool(a, 1, true);
        if (dhcp) m.setStaticIp(null);
        else m.setStaticIp(a.string(2), a.optString(3, '255.255.255.0'), a.optString(4, '0.0.0.0'));
        e.pushboolean(a.L, true);
        return 1;
      },
      createAP: (a) => {
        const ssid = a.string(1);
        const pw = a.optString(2, '');
        const gw = a.optString(3, '192.168.4.1');
        const mask = a.optString(4, '255.255.255.0');
        const ch = a.optInteger(5, 6);
        if (!a.isNoneOrNil(6) && a.type(6) !== LUA_TTABLE) a.typeError(6, 'table');
        m.createAp(ssid, pw, gw, mask, ch);
        e.pushboolean(a.L, true);
        return 1;
      },
      stopAP: (a) => {
        m.stopAp();
        e.pushboolean(a.L, true);
        return 1;
      },
      smartconfig: (a) => {
        vm.log('W', 'wlan', 'smartconfig is not supported on luatos-pc');
        e.pushboolean(a.L, false);
        return 1;
      },
    },
    WLAN_CONSTANTS,
  );

  function setMode(a: Args): number {
    let mode: number = WLAN_CONSTANTS.STATION;
    if (a.type(1) === LUA_TNUMBER) mode = a.integer(1);
    else if (a.type(2) === LUA_TNUMBER) mode = a.integer(2);
    if (mode < 0 || mode > 3) mode = WLAN_CONSTANTS.STATION;
    m.wlanMode = mode;
    e.pushboolean(a.L, true);
    return 1;
  }
}
