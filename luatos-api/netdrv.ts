/**
 * netdrv (luatos-api.md §10) over the device network model. The built-in Wi-Fi netifs
 * (LWIP_STA, LWIP_AP) exist, and on modem boards (air780e*, runtime/net/cellular.ts) the
 * cellular netif LWIP_GP (1); other adapters have no driver on luatos-pc.
 *
 * The cellular netif (modem boards): `link(1)` → true while the PDP context is up (IP_READY
 * until IP_LOSE); `ipv4(1)` → the modem's `ip, "255.255.255.255", "0.0.0.0"` while online, else
 * `"0.0.0.0"` three times (a point-to-point netif: mask and gateway are choices, unsure);
 * setting an address there is ignored (the network assigns it; unsure) and `dhcp(1, ...)` →
 * true without effect; `mac(1)` → "000000000000" (no Ethernet address; a choice); `setup(1)` →
 * true (the driver exists).
 *
 * - `mac(id, new_mac6?, hex = true)` → 12 uppercase hex digits (or 6 raw bytes); a 2nd argument
 *   that is a string of length ≠ 6 → nothing; with a new MAC the old one is returned; adapters
 *   without a netif → "000000000000".
 * - `ipv4(id, ip?, mask?, gw?)` → `ip, mask, gw` ("0.0.0.0" before DHCP); setting turns DHCP off;
 *   nothing for adapters without a netif.
 * - `dhcp(id, enable)` → bool; `ready(id)` → bool (`-1` → bool + bitmask of ready adapters);
 *   `link(id)` → bool (associated with an AP); `ctrl(id, cmd, arg)` → `true, 0` (no effect);
 *   `setup(id, ...)` → true for STA/AP, false (with a W line) for drivers we do not simulate;
 *   `napt` → false (unsupported, W line).
 * - `on(id, netdrv.EVT_SOCKET, fn)`: `fn(id, event, params)` for every connection the model
 *   opens on that adapter; events "connecting", "connected", "closed", "remote_close", "error",
 *   "timeout", "dns_result"; params `{remote_ip, online_ip, remote_port, domain_name?, proto}`
 *   (proto = the owner passed to connectTcp, e.g. "http", default "tcp"). One callback per
 *   adapter and event (a new `on` replaces it; `nil` removes it).
 */
import { LUA_TFUNCTION, LUA_TSTRING } from '../runtime/core/engine/types';
import { pushValues } from '../runtime/core/vm/lua-value';
import { ADAPTER_QTY, LWIP_AP, LWIP_GP, LWIP_STA } from '../runtime/net/adapters';
import { modemOf } from '../runtime/net/cellular';
import { wifiOf } from '../runtime/net/attach';
import type { SocketEvent } from '../runtime/net/model';
import type { Vm } from '../runtime/core/vm/vm';

export const NETDRV_CONSTANTS = {
  EVT_SOCKET: 1,
  EVT_PKG: 2,
  CTRL_RESET: 0,
  CTRL_UPDOWN: 1,
  RESET_HARD: 0x101,
  RESET_SOFT: 0x102,
  CH_HW: 0x10,
  CH_LWIP: 0x20,
  CH_NAPT: 0x30,
  CH390: 1,
  UART: 2,
  WHALE: 3,
};

export function openNetdrv(vm: Vm): void {
  const m = wifiOf(vm);
  const { e } = vm;
  const hasNetif = (id: number) => id === LWIP_STA || id === LWIP_AP;
  /** the cellular netif (adapter 1) of a modem board, else null */
  const modem = modemOf(vm.device);
  const isCell = (id: number) => modem !== null && id === LWIP_GP;
  /** adapter → registry ref of the EVT_SOCKET callback */
  const socketCbs = new Map<number, number>();

  const listener = (ev: SocketEvent) => {
    const ref = socketCbs.get(ev.adapter);
    if (ref === undefined) return;
    vm.post((L) => {
      if (socketCbs.get(ev.adapter) !== ref) return 0;
      vm.callRef(L, ref, [ev.adapter, ev.event, ev.params]);
      return 0;
    });
  };
  m.on('socket', listener);
  vm.onClose(() => m.off('socket', listener));

  vm.defineModule(
    'netdrv',
    {
      mac: (a) => {
        const id = a.integer(1);
        let before = m.mac(id);
        if (!a.isNoneOrNil(2) && a.type(2) === LUA_TSTRING) {
          const nm = a.bytes(2);
          if (nm.length !== 6) return 0;
          if (hasNetif(id)) m.setMac(id, Buffer.from(nm));
        }
        if (!hasNetif(id)) before = Buffer.alloc(6);
        const hex = a.isNoneOrNil(3) ? true : a.boolean(3);
        if (hex) e.pushstring(a.L, before.toString('hex').toUpperCase());
        else e.pushbytes(a.L, before);
        return 1;
      },
      ipv4: (a) => {
        const id = a.integer(1);
        if (modem && isCell(id)) {
          if (!a.isNoneOrNil(2)) {
            a.string(2);
            a.optString(3, '255.255.255.0');
            a.optString(4, '0.0.0.0');
          }
          const info = modem.ipInfo();
          return pushValues(e, a.L, [info.ip, info.mask, info.gw]);
        }
        if (!hasNetif(id)) return 0;
        if (!a.isNoneOrNil(2)) {
          const ip = a.string(2);
          const mask = a.optString(3, '255.255.255.0');
          const gw = a.optString(4, '0.0.0.0');
          if (id === LWIP_STA) m.setStaticIp(ip, mask, gw);
        }
        const info = m.ipInfo(id);
        return pushValues(e, a.L, [info.ip, info.mask, info.gw]);
      },
      dhcp: (a) => {
        const id = a.integer(1);
        const enable = a.boolean(2);
        if (isCell(id)) {
          e.pushboolean(a.L, true);
          return 1;
        }
        if (!hasNetif(id)) {
          e.pushboolean(a.L, false);
          return 1;
        }
        if (enable && id === LWIP_STA) m.setStaticIp(null);
        e.pushboolean(a.L, true);
        return 1;
      },
      ready: (a) => {
        const id = a.integer(1);
        if (id === -1) {
          let mask = 0;
          for (let i = 1; i < ADAPTER_QTY; i++) if (m.adapterReady(i)) mask |= 1 << i;
          e.pushboolean(a.L, mask !== 0);
          e.pushinteger(a.L, mask);
          return 2;
        }
        e.pushboolean(a.L, m.adapterReady(id));
        return 1;
      },
      link: (a) => {
        const id = a.integer(1);
        e.pushboolean(a.L, modem && isCell(id) ? modem.ready() : id === LWIP_STA ? m.linked : id === LWIP_AP ? m.adapterReady(LWIP_AP) : false);
        return 1;
      },
      napt: (a) => {
        vm.log('W', 'netdrv', 'netdrv.napt is not supported on luatos-pc');
        e.pushboolean(a.L, false);
        return 1;
      },
      ctrl: (a) => {
        a.integer(1);
        a.integer(2);
        return pushValues(e, a.L, [true, 0]);
      },
      setup: (a) => {
        const id = a.integer(1);
        if (hasNetif(id) || isCell(id)) {
          e.pushboolean(a.L, true);
          return 1;
        }
        vm.log('W', 'netdrv', `netdrv.setup(${id}): no such network driver on luatos-pc`);
        e.pushboolean(a.L, false);
        return 1;
      },
      debug: () => 0,
      on: (a) => {
        const id = a.integer(1);
        const evt = a.integer(2);
        if (evt !== NETDRV_CONSTANTS.EVT_SOCKET) {
          e.pushboolean(a.L, false);
          return 1;
        }
        const old = socketCbs.get(id);
        if (old !== undefined) {
          e.unref(a.L, e.REGISTRYINDEX, old);
          socketCbs.delete(id);
        }
        if (a.type(3) === LUA_TFUNCTION) {
          e.pushvalue(a.L, 3);
          socketCbs.set(id, e.ref(a.L, e.REGISTRYINDEX));
        } else if (!a.isNoneOrNil(3)) a.typeError(3, 'function');
        e.pushboolean(a.L, true);
        return 1;
      },
    },
    NETDRV_CONSTANTS,
  );
}
