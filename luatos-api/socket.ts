/**
 * socket (luatos-api.md §6): adapters, DNS, SNTP. The adapter state lives in the device network
 * model (runtime/net/model.ts).
 *
 * - `adapter(index)`: index 1..QTY-1 → `ready, index`; no/other index → `true, firstReady` or
 *   `false, QTY-1` (20 on the Jan/Feb 2026 firmware, QTY = 21).
 * - `dft(id?)` → `default, lastRegistered` (sets the default when 0 < id < QTY). The default at
 *   boot is LWIP_STA and the last registered adapter is LWIP_AP (choices: unsure on the device).
 * - `localIP(adapter = default)` → 4 values `ip, mask, gw, nil` for a registered adapter
 *   ("0.0.0.0" before it has an address, a choice), nothing otherwise.
 * - `setDNS(adapter = default, index = 1, ip)` → boolean; ip is a dotted string or an integer
 *   IPv4 (lwIP byte order: the first octet is the lowest byte); logs
 *   `net:设置DNS服务器 id <adapter> index <index-1> ip <ip>`.
 * - `close_all(adapter = default)` → true (false for an invalid adapter).
 * - `sntp(server?, adapter?)`: string = first server, table = up to 3 servers (each < 31 bytes);
 *   they stay for later calls in this boot. `ntptm()`, `sntp_port(port?)`.
 * - The TCP/UDP client API (`create`, `connect`, `tx`, ...) is not implemented yet: each logs
 *   `W socket:socket.<fn> is not implemented yet (luatos-pc)` and returns nil (create) or false.
 */
import { LuaError, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE } from '../runtime/engine/types';
import { NIL, pushValue, pushValues } from '../runtime/lua-value';
import { ADAPTER_QTY, adapterConstants, SOCKET_EVENTS } from '../runtime/net/adapters';
import { wifiOf } from '../runtime/net/attach';
import type { BindingFn, Vm } from '../runtime/vm';

export const DEFAULT_NTP_SERVERS = ['ntp.aliyun.com', 'ntp.ntsc.ac.cn', 'time1.cloud.tencent.com'];

const NOT_IMPLEMENTED = ['create', 'config', 'connect', 'linkup', 'listen', 'accept', 'discon', 'close', 'tx', 'rx', 'read', 'write', 'wait', 'state', 'release', 'remoteIP', 'sslLog', 'debug'];

function ipFromInt(n: number): string {
  const u = n >>> 0;
  return [u & 255, (u >>> 8) & 255, (u >>> 16) & 255, (u >>> 24) & 255].join('.');
}

export function openSocket(vm: Vm): void {
  const m = wifiOf(vm);
  const { e } = vm;
  const servers = [...DEFAULT_NTP_SERVERS];

  const fns: Record<string, BindingFn> = {
    adapter: (a) => {
      if (a.type(1) === LUA_TNUMBER) {
        const id = a.integer(1);
        if (id > 0 && id < ADAPTER_QTY) {
          e.pushboolean(a.L, m.adapterReady(id));
          e.pushinteger(a.L, id);
          return 2;
        }
      }
      for (let i = 1; i < ADAPTER_QTY; i++) {
        if (m.adapterReady(i)) {
          e.pushboolean(a.L, true);
          e.pushinteger(a.L, i);
          return 2;
        }
      }
      e.pushboolean(a.L, false);
      e.pushinteger(a.L, ADAPTER_QTY - 1);
      return 2;
    },
    dft: (a) => {
      if (a.type(1) === LUA_TNUMBER) m.setDefaultAdapter(a.integer(1));
      e.pushinteger(a.L, m.defaultAdapter());
      e.pushinteger(a.L, m.lastRegisteredAdapter());
      return 2;
    },
    localIP: (a) => {
      const id = a.optInteger(1, m.defaultAdapter());
      if (!m.isRegistered(id)) return 0;
      const info = m.ipInfo(id);
      return pushValues(e, a.L, [info.ip, info.mask, info.gw, NIL]);
    },
    setDNS: (a) => {
      const id = a.optInteger(1, m.defaultAdapter());
      const index = a.optInteger(2, 1);
      let ip: string;
      if (a.type(3) === LUA_TNUMBER) ip = ipFromInt(a.integer(3));
      else ip = a.string(3);
      e.pushboolean(a.L, m.setDns(id, index, ip));
      return 1;
    },
    close_all: (a) => {
      const id = a.optInteger(1, m.defaultAdapter());
      if (id <= 0 || id >= ADAPTER_QTY) {
        e.pushboolean(a.L, false);
        return 1;
      }
      m.closeAll(id);
      e.pushboolean(a.L, true);
      return 1;
    },
    sntp: (a) => {
      const t = a.type(1);
      if (t === LUA_TSTRING) {
        const s = a.string(1);
        if (Buffer.byteLength(s) >= 31) throw new LuaError(`bad argument #1 to 'sntp' (server name too long)`);
        servers[0] = s;
      } else if (t === LUA_TTABLE) {
        for (let i = 1; i <= 3; i++) {
          e.rawgeti(a.L, 1, i);
          if (e.type(a.L, -1) === LUA_TSTRING) {
            const s = e.tostring(a.L, -1) as string;
            if (Buffer.byteLength(s) < 31) servers[i - 1] = s;
          }
          e.pop(a.L, 1);
        }
      }
      let adapter = a.optInteger(2, -1);
      if (adapter < 0 || adapter >= ADAPTER_QTY) adapter = m.defaultAdapter();
      m.sntp([...servers], adapter);
      return 0;
    },
    ntptm: (a) => {
      pushValue(e, a.L, m.ntptm());
      return 1;
    },
    sntp_port: (a) => {
      if (a.type(1) === LUA_TNUMBER) {
        const p = a.integer(1);
        if (p > 0 && p < 65536) m.sntpPort = p;
      }
      e.pushinteger(a.L, m.sntpPort);
      return 1;
    },
  };
  for (const name of NOT_IMPLEMENTED) {
    fns[name] = (a) => {
      // the firmware returns nothing, silently, when the socket argument is nil (L_CTRL_CHECK):
      // libraries such as dnsproxy call close/connect on sockets they never created
      if (name !== 'create' && a.isNoneOrNil(1)) return 0;
      vm.log('W', 'socket', `socket.${name} is not implemented yet (luatos-pc)`);
      if (name === 'create') e.pushnil(a.L);
      else e.pushboolean(a.L, false);
      return 1;
    };
  }
  vm.defineModule('socket', fns, { ...adapterConstants(), ...SOCKET_EVENTS });
}
