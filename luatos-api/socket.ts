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
 * - The TCP/UDP/TLS API (`create`, `config`, `linkup`, `connect`, `tx`, `rx`, `read`, `wait`,
 *   `listen`, `accept`, `discon`, `close`, `release`, `state`, `remoteIP`, `debug`, `sslLog`,
 *   `rx_cache`) on runtime/net/sockets.ts (state machine, event rules, bounds, choices).
 *   Events: a callback `cb(ctrl_ptr, event, param)` where ctrl_ptr is a light userdata every
 *   socket.* function accepts in place of the ctrl; a task name → `sys_send(task, event,
 *   param)`; neither → `sys_pub("NWCTRL*", adapter, socket_id, event, param)`.
 *   A nil/unknown/released ctrl → nothing (the firmware's L_CTRL_CHECK), with a W line for a
 *   value that is not a ctrl at all. Wrong argument types the firmware checks with luaL_check*
 *   raise the same Lua argument errors.
 * - Deviation: DTLS (UDP + TLS) is not supported: `config` logs it and returns false, as a
 *   firmware built without it. TLS on a listening socket is not supported either.
 */
import * as crypto from 'node:crypto';
import * as tls from 'node:tls';
import { LuaError, LuaState, LUA_TBOOLEAN, LUA_TNIL, LUA_TFUNCTION, LUA_TLIGHTUSERDATA, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, LUA_TUSERDATA } from '../runtime/core/engine/types';
import { NIL, pushValue, pushValues } from '../runtime/core/vm/lua-value';
import { ADAPTER_QTY, adapterConstants, SOCKET_EVENTS } from '../runtime/net/adapters';
import { wifiOf } from '../runtime/net/attach';
import type { Args } from '../runtime/core/vm/lua-value';
import { binaryIp, CtrlHost, NetCtrl } from '../runtime/net/sockets';
import { getZbuff, ZBUFF_TYPE } from './shared/zbuff';
import type { BindingFn, Vm } from '../runtime/core/vm/vm';

export const DEFAULT_NTP_SERVERS = ['ntp.aliyun.com', 'ntp.ntsc.ac.cn', 'time1.cloud.tencent.com'];

export const NWCTRL_TYPE = 'NWCTRL*';

/** lwIP rx cache count (socket.rx_cache): the firmware's default and range */
const RX_CACHE_DEFAULT = 24;

interface CtrlEntry {
  ctrl: NetCtrl;
  /** registry ref of the callback, or 0 */
  cbRef: number;
  task: Buffer | null;
  /** socket_id of the NWCTRL* fallback topic */
  sid: number;
  hostId: number;
}

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
  Object.assign(fns, ctrlApi(vm));
  vm.defineModule('socket', fns, { ...adapterConstants(), ...SOCKET_EVENTS });
}

function ipFromArg(a: Args, i: number): string | undefined {
  if (a.type(i) === LUA_TNUMBER) return ipFromInt(a.integer(i));
  if (a.type(i) === LUA_TSTRING) return a.string(i);
  return undefined;
}

/** PEM text of a config argument (nil/absent → undefined) */
function pemArg(a: Args, i: number): Buffer | undefined {
  if (a.type(i) !== LUA_TSTRING && a.type(i) !== LUA_TNUMBER) return undefined;
  return Buffer.from(a.bytes(i));
}

/** The ctrl API: one registry of ctrls per VM (released with the VM). */
function ctrlApi(vm: Vm): Record<string, BindingFn> {
  const { e } = vm;
  const m = wifiOf(vm);
  const byPtr = new Map<number, CtrlEntry>();
  let sidSeq = 0;
  let rxCache = RX_CACHE_DEFAULT;

  const host: CtrlHost = {
    net: vm.device.net,
    clock: vm.clock,
    log: (level, mod, msg) => vm.log(level, mod, msg),
    deliver: (ctrl, event, param, delivered) => {
      vm.post((L) => {
        delivered();
        const ent = byPtr.get(ctrl.ptr);
        if (!ent || ctrl.released) return 0;
        if (ent.cbRef) {
          e.rawgeti(L, e.REGISTRYINDEX, ent.cbRef);
          if (e.type(L, -1) !== LUA_TFUNCTION) {
            e.pop(L, 1);
            return 0;
          }
          e.pushlightuserdata(L, ctrl.ptr);
          e.pushinteger(L, event);
          e.pushinteger(L, param);
          e.call(L, 3, 0);
        } else if (ent.task) vm.callGlobal(L, 'sys_send', [ent.task, event, param]);
        else vm.callGlobal(L, 'sys_pub', [NWCTRL_TYPE, ctrl.adapter, ent.sid, event, param]);
        return 0;
      });
    },
  };

  const drop = (L: LuaState, ent: CtrlEntry) => {
    ent.ctrl.release();
    if (ent.cbRef) e.unref(L, e.REGISTRYINDEX, ent.cbRef);
    ent.cbRef = 0;
    byPtr.delete(ent.ctrl.ptr);
  };
  vm.onClose(() => {
    for (const ent of byPtr.values()) ent.ctrl.release();
    byPtr.clear();
  });

  /** the ctrl at argument 1 (userdata or the callback's light userdata); null → return nothing */
  const get = (a: Args): CtrlEntry | null => {
    const t = a.type(1);
    if (t === LUA_TUSERDATA) {
      const id = e.tohostobject(a.L, 1, NWCTRL_TYPE);
      if (id !== null) {
        const c = vm.getHostObject<NetCtrl>(id);
        return c && !c.released ? byPtr.get(c.ptr) ?? null : null;
      }
    } else if (t === LUA_TLIGHTUSERDATA) {
      const ent = byPtr.get(e.topointer(a.L, 1));
      if (ent) return ent;
    }
    if (t !== LUA_TNIL && t !== -1) vm.log('W', 'socket', `socket.${a.fname}: argument #1 is a ${a.typeName(1)}, not a socket ctrl`);
    return null;
  };

  /** the cb/task argument at i */
  const delivery = (a: Args, i: number): { cbRef: number; task: Buffer | null } => {
    if (a.type(i) === LUA_TFUNCTION) {
      e.pushvalue(a.L, i);
      return { cbRef: e.ref(a.L, e.REGISTRYINDEX), task: null };
    }
    if (a.type(i) === LUA_TSTRING || a.type(i) === LUA_TNUMBER) return { cbRef: 0, task: Buffer.from(a.bytes(i)) };
    return { cbRef: 0, task: null };
  };

  const newCtrl = (a: Args, adapter: number, d: { cbRef: number; task: Buffer | null }): CtrlEntry => {
    const ctrl = new NetCtrl(host, adapter);
    const hostId = vm.addHostObject(ctrl);
    const ent: CtrlEntry = { ctrl, cbRef: d.cbRef, task: d.task, sid: ++sidSeq, hostId };
    byPtr.set(ctrl.ptr, ent);
    e.newhostobject(a.L, hostId, NWCTRL_TYPE);
    return ent;
  };

  // the metatable: __gc releases (as socket.release), __tostring names the object
  const L = vm.L;
  e.newmetatable(L, NWCTRL_TYPE);
  vm.pushBinding('__gc', (a) => {
    const id = e.tohostobject(a.L, 1, NWCTRL_TYPE);
    if (id === null) return 0;
    const c = vm.getHostObject<NetCtrl>(id);
    const ent = c ? byPtr.get(c.ptr) : undefined;
    if (ent) drop(a.L, ent);
    else c?.release();
    vm.removeHostObject(id);
    return 0;
  });
  e.setfield(L, -2, '__gc');
  e.pop(L, 1);

  const pushBools = (a: Args, ...bs: boolean[]) => {
    for (const b of bs) e.pushboolean(a.L, b);
    return bs.length;
  };

  return {
    create: (a) => {
      const adapter = a.optInteger(1, m.defaultAdapter());
      if (adapter < 0 || adapter >= ADAPTER_QTY) {
        e.pushnil(a.L);
        return 1;
      }
      if (!m.isRegistered(adapter)) {
        vm.log('D', 'socket', 'create fail');
        e.pushnil(a.L);
        return 1;
      }
      newCtrl(a, adapter, delivery(a, 2));
      return 1;
    },
    debug: (a) => {
      const ent = get(a);
      if (ent && a.type(2) === LUA_TBOOLEAN) ent.ctrl.debug = a.boolean(2);
      return 0;
    },
    config: (a) => {
      const ent = get(a);
      if (!ent) return 0;
      const localPort = a.optInteger(2, 0) & 0xffff;
      const udp = a.type(3) === LUA_TBOOLEAN && a.boolean(3);
      const isTls = a.type(4) === LUA_TBOOLEAN && a.boolean(4);
      const keepIdle = a.optInteger(5, 0);
      a.optInteger(6, 0);
      a.optInteger(7, 0);
      const serverCert = pemArg(a, 8);
      const clientCert = pemArg(a, 9);
      const clientKey = pemArg(a, 10);
      const pwd = pemArg(a, 11);
      const cfg = ent.ctrl.cfg;
      cfg.localPort = localPort;
      cfg.udp = udp;
      cfg.keepIdle = Math.max(0, keepIdle);
      cfg.tls = null;
      if (isTls) {
        if (udp) {
          vm.log('E', 'socket', 'DTLS (UDP + TLS) is not supported by this runtime (luatos-pc)');
          e.pushboolean(a.L, false);
          return 1;
        }
        try {
          if (serverCert) {
            const blocks = serverCert.toString('latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g);
            if (!blocks) throw new Error('no PEM certificate');
            for (const b of blocks) new crypto.X509Certificate(b);
          }
        } catch (err) {
          vm.log('E', 'socket', `network_set_server_cert failed: ${(err as Error).message}`);
          e.pushboolean(a.L, false);
          return 1;
        }
        if (clientCert) {
          try {
            tls.createSecureContext({ cert: clientCert, key: clientKey, passphrase: pwd?.toString('latin1') });
          } catch (err) {
            vm.log('E', 'socket', `network_set_client_cert failed: ${(err as Error).message}`);
            e.pushboolean(a.L, false);
            return 1;
          }
        }
        cfg.tls = { serverCert, clientCert, clientKey, clientPassword: pwd?.toString('latin1') };
      }
      e.pushboolean(a.L, true);
      return 1;
    },
    linkup: (a) => {
      const ent = get(a);
      if (!ent) return 0;
      return pushBools(a, ...ent.ctrl.linkup());
    },
    connect: (a) => {
      const ent = get(a);
      if (!ent) return 0;
      let hostName: string;
      if (a.type(2) === LUA_TNUMBER && e.isinteger(a.L, 2)) hostName = ipFromInt(a.integer(2));
      else hostName = a.string(2);
      const port = a.optInteger(3, 0);
      if (hostName.length === 0 || hostName.length > 255) {
        vm.log('E', 'socket', `bad host '${hostName.slice(0, 64)}'`);
        return pushBools(a, false, false);
      }
      return pushBools(a, ...ent.ctrl.connect(hostName, port));
    },
    discon: (a) => {
      const ent = get(a);
      if (!ent) return 0;
      return pushBools(a, ...ent.ctrl.discon());
    },
    close: (a) => {
      const ent = get(a);
      if (ent) ent.ctrl.close();
      return 0;
    },
    release: (a) => {
      const ent = get(a);
      if (ent) drop(a.L, ent);
      return 0;
    },
    tx: (a) => {
      const ent = get(a);
      if (!ent) return 0;
      // the bytes are copied once, into ent.ctrl.txBuffer (a reused scratch on a TCP ctrl whose
      // sends the kernel takes at once): no new buffer per send on the hot path
      let src: Uint8Array;
      if (a.type(2) === LUA_TSTRING || a.type(2) === LUA_TNUMBER) src = e.tobytesView?.(a.L, 2) ?? a.bytes(2);
      else {
        const z = getZbuff(vm, a.L, 2);
        if (!z) return a.typeError(2, ZBUFF_TYPE);
        src = z.usedBytes();
      }
      const data = ent.ctrl.txBuffer(src.length);
      data.set(src);
      const ip = ipFromArg(a, 3);
      const port = a.optInteger(4, 0);
      a.optInteger(5, 0);
      return pushBools(a, ...ent.ctrl.tx(data, ip, port));
    },
    rx: (a) => {
      const ent = get(a);
      if (!ent) return 0;
      const limit = a.optInteger(4, 0);
      if (a.isNoneOrNil(2)) {
        const n = ent.ctrl.pending();
        e.pushboolean(a.L, n !== null);
        e.pushinteger(a.L, n ?? 0);
        return 2;
      }
      const z = getZbuff(vm, a.L, 2);
      if (!z) return a.typeError(2, ZBUFF_TYPE);
      const r = ent.ctrl.receive(limit, (n) => Math.max(0, Math.min(n, z.maxLen - z.used)));
      if (!r) {
        e.pushboolean(a.L, false);
        e.pushinteger(a.L, 0);
        return 2;
      }
      let n = 0;
      for (const part of r.parts) n += z.append(part);
      e.pushboolean(a.L, true);
      e.pushinteger(a.L, n);
      if (r.ip === undefined) return 2;
      e.pushbytes(a.L, binaryIp(r.ip));
      e.pushinteger(a.L, r.port ?? 0);
      return 4;
    },
    read: (a) => {
      const ent = get(a);
      if (!ent) return 0;
      const limit = a.optInteger(2, 0);
      const r = ent.ctrl.receive(limit, (n) => n);
      if (!r) {
        e.pushboolean(a.L, false);
        return 1;
      }
      e.pushboolean(a.L, true);
      e.pushbytes(a.L, r.parts.length === 1 ? r.parts[0] : Buffer.concat(r.parts, r.size));
      if (r.ip === undefined) return 2;
      e.pushbytes(a.L, binaryIp(r.ip));
      e.pushinteger(a.L, r.port ?? 0);
      return 4;
    },
    wait: (a) => {
      const ent = get(a);
      if (!ent) return 0;
      return pushBools(a, ...ent.ctrl.waitEvent());
    },
    listen: (a) => {
      const ent = get(a);
      if (!ent) return 0;
      const multi = a.optInteger(2, 0);
      if (multi < 0 || multi > 8) {
        vm.log('E', 'socket', `multi_client must be 0..8, got ${multi}`);
        return pushBools(a, false, false);
      }
      return pushBools(a, ...ent.ctrl.listen(multi));
    },
    accept: (a) => {
      const ent = get(a);
      if (!ent) return 0;
      const t = a.type(2);
      if (t === LUA_TFUNCTION || t === LUA_TSTRING) {
        const child = newCtrl(a, ent.ctrl.adapter, delivery(a, 2));
        const r = ent.ctrl.accept(child.ctrl);
        if (!r.ok) {
          e.pop(a.L, 1);
          drop(a.L, child);
          e.pushboolean(a.L, false);
          e.pushnil(a.L);
          return 2;
        }
        e.pushboolean(a.L, true);
        e.insert(a.L, -2);
        e.pushstring(a.L, r.ip ?? '0.0.0.0');
        e.pushinteger(a.L, r.port ?? 0);
        return 4;
      }
      const r = ent.ctrl.accept(null);
      e.pushboolean(a.L, r.ok);
      e.pushnil(a.L);
      if (r.ip === undefined) return 2;
      e.pushstring(a.L, r.ip);
      e.pushinteger(a.L, r.port ?? 0);
      return 4;
    },
    state: (a) => {
      const ent = get(a);
      if (!ent) return 0;
      e.pushinteger(a.L, ent.ctrl.state);
      e.pushstring(a.L, ent.ctrl.stateText);
      return 2;
    },
    remoteIP: (a) => {
      const ent = get(a);
      if (!ent) return 0;
      const ips = ent.ctrl.remoteIps.slice(0, 4);
      return pushValues(e, a.L, [0, 1, 2, 3].map((i) => ips[i] ?? NIL));
    },
    sslLog: () => 0,
    rx_cache: (a) => {
      if (a.type(1) === LUA_TNUMBER) {
        const n = a.integer(1);
        if (n >= 6 && n <= 48) rxCache = n;
      }
      e.pushinteger(a.L, rxCache);
      return 1;
    },
  };
}
