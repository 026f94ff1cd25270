/**
 * mqtt (luatos-api-2.md §5): the LuatOS MQTT 3.1.1 client, on our client core
 * (runtime/net/mqtt-client.ts, codec `mqtt-packet`). TCP goes through the device network
 * (`vm.device.net.connectTcp`, owner "mqtt"): `--map`, adapter/link state and link loss apply.
 *
 * - `mqtt.create(adapter, host, port, ssl, opts)` → client (metatable `mqtt_ctrl*`), or nothing:
 *   adapter outside 0..20 or not registered (`W mqtt:network_alloc_ctrl fail`), host over 191
 *   bytes, a `ws://`/`wss://` host (MQTT over WebSocket is not implemented here: `W` line), an
 *   unreadable certificate. ssl: `true` = TLS verify 0; a table = `server_cert`, `client_cert`,
 *   `client_key`, `client_password`, `verify` (default 2). opts: boolean = ipv6, or a table with
 *   `rxSize` (bytes; default 32 KiB+4 on PC/EC618/EC718 boards, 4 KiB+4 elsewhere, as the
 *   firmware's MQTT_RECV_BUF_LEN_MAX; our cap 1 MiB) and `conn_timeout` (s, 5..120, default 30).
 *   Wrong argument types raise the luaL errors (`bad argument #2 to 'create' ...`).
 * - Methods: auth, keepalive (15..600, default 240), on, connect, autoreconn (ms ≥ 1000, default
 *   3000), publish, subscribe, unsubscribe, disconnect, close, ready, state, will, debug; return
 *   values as in §5 (publish: 0 for QoS 0, the message id for 1/2, nothing on failure).
 * - Events go through the VM's message queue in the core's order and call `cb(client, event, a,
 *   b, c)` unprotected (an error in the callback ends the VM, as on the device). `disconnect`'s
 *   argument is the error state read when the event runs. `pong` also does
 *   `sys_pub("MQTT_PONG", client)` (only when a callback is set). `recv`'s third argument is
 *   `{message_id, qos, retain, dup}`.
 * - The client keeps a registry reference to itself until `close()`; the VM's end (reboot,
 *   exit) drops every connection without DISCONNECT, as a rebooting device does.
 */
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { LUA_TBOOLEAN, LUA_TFUNCTION, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE } from '../runtime/core/engine/types';
import type { LuaState } from '../runtime/core/engine/types';
import { pushValues, type Args, type JsLuaValue } from '../runtime/core/vm/lua-value';
import { ADAPTER_QTY } from '../runtime/net/adapters';
import { WifiNetwork } from '../runtime/net/model';
import { MqttClientCore, MQTT_STATE, type MqttEvent, type MqttTlsOptions } from '../runtime/net/mqtt-client';
import { getZbuff } from './shared/zbuff';
import type { Vm } from '../runtime/core/vm/vm';

export const MQTT_MT = 'mqtt_ctrl*';
const RX_CAP = 1024 * 1024;
const BIG_RX_BSPS = /^(pc|ec618|ec718|air780|air700|air600)/i;

interface MqttCtx {
  core: MqttClientCore;
  cbRef: number | null;
  selfRef: number | null;
  closed: boolean;
  unClose: () => void;
}

/** The firmware parses the certificates in create (luat_mqtt_set_connopts) and fails there. */
function certsParse(vm: Vm, o: MqttTlsOptions): boolean {
  if (o.ca !== undefined) {
    try {
      // Node ignores CA text it cannot parse; the device's mbedtls fails: parse it ourselves
      new X509Certificate(o.ca);
    } catch {
      vm.log('E', 'mqtt', 'network_set_server_cert error');
      return false;
    }
  }
  if (o.cert !== undefined) {
    try {
      createSecureContext({ cert: o.cert, key: o.key, passphrase: o.passphrase });
    } catch {
      vm.log('E', 'mqtt', 'network_set_client_cert error');
      return false;
    }
  }
  return true;
}

export function openMqtt(vm: Vm): void {
  const { e } = vm;

  const self = (a: Args): MqttCtx => {
    const id = e.tohostobject(a.L, 1, MQTT_MT);
    const ctx = id === null ? undefined : vm.getHostObject<MqttCtx>(id);
    if (!ctx) a.typeError(1, MQTT_MT);
    return ctx;
  };

  const unref = (ref: number | null): void => {
    if (ref === null || vm.isDead) return;
    try {
      e.unref(vm.L, e.REGISTRYINDEX, ref);
    } catch {
      /* state closing */
    }
  };

  const destroy = (ctx: MqttCtx, graceful = true): void => {
    if (ctx.closed) return;
    ctx.closed = true;
    ctx.core.destroy(graceful);
    unref(ctx.cbRef);
    unref(ctx.selfRef);
    ctx.cbRef = ctx.selfRef = null;
    ctx.unClose();
  };

  /** cb(client, event, ...) from the message queue */
  const dispatch = (ctx: MqttCtx, ev: MqttEvent): void => {
    vm.post((L: LuaState) => {
      if (ctx.closed || ctx.cbRef === null || ctx.selfRef === null) return 0;
      let args: JsLuaValue[];
      switch (ev.type) {
        case 'recv': {
          const meta = Object.create(null) as Record<string, JsLuaValue>;
          meta.message_id = ev.messageId;
          meta.qos = ev.qos;
          meta.retain = ev.retain;
          meta.dup = ev.dup;
          args = [ev.topic, ev.payload, meta];
          break;
        }
        case 'sent':
          args = [ev.id];
          break;
        case 'suback':
          args = [ev.ok, ev.code];
          break;
        case 'disconnect':
          args = [ctx.core.errorState];
          break;
        case 'error':
          args = [ev.kind, ev.code];
          break;
        default:
          args = [];
      }
      e.rawgeti(L, e.REGISTRYINDEX, ctx.cbRef);
      if (e.type(L, -1) !== LUA_TFUNCTION) {
        e.pop(L, 1);
        return 0;
      }
      e.rawgeti(L, e.REGISTRYINDEX, ctx.selfRef);
      e.pushstring(L, ev.type);
      pushValues(e, L, args);
      e.call(L, 2 + args.length, 0);
      return 0;
    });
    if (ev.type === 'pong') {
      vm.post((L: LuaState) => {
        if (ctx.closed || ctx.cbRef === null || ctx.selfRef === null) return 0;
        if (e.getglobal(L, 'sys_pub') !== LUA_TFUNCTION) {
          e.pop(L, 1);
          return 0;
        }
        e.pushstring(L, 'MQTT_PONG');
        e.rawgeti(L, e.REGISTRYINDEX, ctx.selfRef);
        e.call(L, 2, 0);
        return 0;
      });
    }
  };

  const pushTrue = (a: Args): number => {
    e.pushboolean(a.L, true);
    return 1;
  };

  /** a Lua string argument as bytes, or a zbuff's used bytes; other types → empty */
  const payloadOf = (a: Args, i: number): Buffer => {
    const t = a.type(i);
    if (t === LUA_TSTRING || t === LUA_TNUMBER) return Buffer.from(a.bytes(i));
    const z = getZbuff(vm, a.L, i);
    return z ? Buffer.from(z.usedBytes()) : Buffer.alloc(0);
  };

  const methods: Record<string, (a: Args) => number> = {
    auth: (a) => {
      const ctx = self(a);
      const id = Buffer.from(a.optBytes(2) ?? new Uint8Array(0));
      const user = Buffer.from(a.optBytes(3) ?? new Uint8Array(0));
      const pass = Buffer.from(a.optBytes(4) ?? new Uint8Array(0));
      if (id.length >= 192 || user.length >= 192 || pass.length >= 512) {
        vm.log('E', 'mqtt', 'client_id/username/password too long');
        return 0;
      }
      const c = ctx.core;
      c.clientId = id.toString('utf8');
      c.username = user.toString('utf8');
      c.password = pass.toString('utf8');
      c.clean = !(a.type(5) === LUA_TBOOLEAN && !a.boolean(5));
      c.resetIds();
      return pushTrue(a);
    },
    keepalive: (a) => {
      const ctx = self(a);
      const s = a.optInteger(2, 240);
      ctx.core.keepalive = Math.min(600, Math.max(15, s));
      return 0;
    },
    on: (a) => {
      const ctx = self(a);
      unref(ctx.cbRef);
      ctx.cbRef = null;
      if (a.type(2) === LUA_TFUNCTION && !ctx.closed) {
        e.pushvalue(a.L, 2);
        ctx.cbRef = e.ref(a.L, e.REGISTRYINDEX);
      }
      return 0;
    },
    connect: (a) => {
      const ctx = self(a);
      e.pushboolean(a.L, !ctx.closed && ctx.core.connect());
      return 1;
    },
    autoreconn: (a) => {
      const ctx = self(a);
      const on = a.boolean(2);
      const ms = a.optInteger(3, 3000);
      ctx.core.reconnectMs = on ? Math.max(1000, ms) : 0;
      return 0;
    },
    publish: (a) => {
      const ctx = self(a);
      const topic = a.string(2);
      const data = payloadOf(a, 3);
      const qos = a.optInteger(4, 0);
      const retain = a.optInteger(5, 0);
      if (ctx.closed) return 0;
      const id = ctx.core.publish(topic, data, qos, retain !== 0);
      if (id === null) return 0;
      e.pushinteger(a.L, id);
      return 1;
    },
    subscribe: (a) => {
      const ctx = self(a);
      const list: [string, number][] = [];
      if (a.type(2) === LUA_TTABLE) {
        e.pushnil(a.L);
        while (e.next(a.L, 2)) {
          if (e.type(a.L, -2) === LUA_TSTRING) {
            const q = e.tointeger(a.L, -1);
            list.push([e.tostring(a.L, -2) as string, q ?? 0]);
          }
          e.pop(a.L, 1);
        }
      } else list.push([a.string(2), a.optInteger(3, 0)]);
      if (ctx.closed) return 0;
      const id = ctx.core.subscribe(list);
      if (id === null) return 0;
      e.pushinteger(a.L, id);
      return 1;
    },
    unsubscribe: (a) => {
      const ctx = self(a);
      const topics: string[] = [];
      if (a.type(2) === LUA_TTABLE) {
        const n = e.rawlen(a.L, 2);
        for (let i = 1; i <= n; i++) {
          e.rawgeti(a.L, 2, i);
          if (e.type(a.L, -1) === LUA_TSTRING) topics.push(e.tostring(a.L, -1) as string);
          e.pop(a.L, 1);
        }
      } else topics.push(a.string(2));
      if (ctx.closed) return 0;
      const id = ctx.core.unsubscribe(topics);
      if (id === null) return 0;
      e.pushinteger(a.L, id);
      return 1;
    },
    disconnect: (a) => {
      const ctx = self(a);
      if (!ctx.closed) ctx.core.disconnect();
      return pushTrue(a);
    },
    close: (a) => {
      destroy(self(a));
      return 0;
    },
    ready: (a) => {
      const ctx = self(a);
      e.pushboolean(a.L, !ctx.closed && ctx.core.state === MQTT_STATE.READY);
      return 1;
    },
    state: (a) => {
      const ctx = self(a);
      e.pushinteger(a.L, ctx.closed ? 0 : ctx.core.state);
      return 1;
    },
    will: (a) => {
      const ctx = self(a);
      const topic = a.string(2);
      const payload = payloadOf(a, 3);
      let qos = a.optInteger(4, 0);
      const retain = a.optInteger(5, 0);
      if (qos < 0 || qos > 2) qos = 0;
      if (ctx.closed || topic.length === 0) {
        e.pushboolean(a.L, false);
        return 1;
      }
      ctx.core.will = { topic, payload, qos: qos as 0 | 1 | 2, retain: retain !== 0 };
      return pushTrue(a);
    },
    debug: (a) => {
      const ctx = self(a);
      ctx.core.debug = a.boolean(2);
      return 0;
    },
  };

  const L = vm.L;
  e.newmetatable(L, MQTT_MT);
  e.createtable(L, 0, Object.keys(methods).length);
  for (const [k, fn] of Object.entries(methods)) {
    vm.pushBinding(`mqtt.${k}`, fn);
    e.setfield(L, -2, k);
  }
  e.setfield(L, -2, '__index');
  vm.pushBinding('__gc', (a) => {
    const id = e.tohostobject(a.L, 1, MQTT_MT);
    if (id === null) return 0;
    const ctx = vm.getHostObject<MqttCtx>(id);
    if (ctx) destroy(ctx);
    vm.removeHostObject(id);
    return 0;
  });
  e.setfield(L, -2, '__gc');
  vm.pushBinding('__tostring', (a) => {
    const ctx = self(a);
    e.pushstring(a.L, `mqtt_ctrl*: ${ctx.core.ptr}`);
    return 1;
  });
  e.setfield(L, -2, '__tostring');
  e.pop(L, 1);

  const create = (a: Args): number => {
    const net = vm.device.net;
    const adapter = a.optInteger(1, net.defaultAdapter());
    const host = a.string(2);
    const isWs = /^wss?:\/\//i.test(host);
    const port = isWs ? a.optInteger(3, 0) : a.integer(3);
    if (adapter < 0 || adapter >= ADAPTER_QTY || (net instanceof WifiNetwork && !net.isRegistered(adapter))) {
      vm.log('W', 'mqtt', 'network_alloc_ctrl fail');
      vm.log('E', 'mqtt', `adapter ${adapter} is not available`);
      return 0;
    }
    if (isWs) {
      vm.log('W', 'mqtt', `mqtt over websocket is not implemented by luatos-pc: ${host}`);
      return 0;
    }
    if (Buffer.byteLength(host) > 191 || host.length === 0) {
      vm.log('E', 'mqtt', `host too long or empty (${Buffer.byteLength(host)} bytes, max 191)`);
      return 0;
    }
    if (port < 0 || port > 65535) {
      vm.log('E', 'mqtt', `bad port ${port}`);
      return 0;
    }
    let tls: MqttTlsOptions | null = null;
    if (a.type(4) === LUA_TBOOLEAN && a.boolean(4)) tls = { verify: 0 };
    else if (a.type(4) === LUA_TTABLE) {
      tls = {
        verify: a.fieldInteger(4, 'verify', 2),
        ca: a.fieldString(4, 'server_cert') ?? undefined,
        cert: a.fieldString(4, 'client_cert') ?? undefined,
        key: a.fieldString(4, 'client_key') ?? undefined,
        passphrase: a.fieldString(4, 'client_password') ?? undefined,
      };
    }
    if (tls && !certsParse(vm, tls)) return 0;
    const big = BIG_RX_BSPS.test(vm.device.profile.bsp ?? '');
    let rxMax = (big ? 32 * 1024 : 4 * 1024) + 4;
    let connTimeout = 30;
    if (a.type(5) === LUA_TTABLE) {
      const rx = a.fieldInteger(5, 'rxSize', 0);
      if (rx > 0) rxMax = Math.min(RX_CAP, rx);
      connTimeout = Math.min(120, Math.max(5, a.fieldInteger(5, 'conn_timeout', 30)));
    }
    const core = new MqttClientCore({
      host,
      port,
      tls,
      rxMax,
      connTimeoutMs: connTimeout * 1000,
      timers: { setTimer: (ms, fn) => vm.clock.setTimer(ms, fn), clearTimer: (h) => vm.clock.clearTimer(h as never) },
      openTcp: () => net.connectTcp({ host, port, adapter, owner: 'mqtt' }),
    });
    const ctx: MqttCtx = { core, cbRef: null, selfRef: null, closed: false, unClose: () => undefined };
    core.on('event', (ev) => dispatch(ctx, ev));
    core.on('log', (level, msg) => vm.log(level, 'mqtt', msg));
    // the VM ends (reboot, exit): the link just goes, no DISCONNECT (the broker sends the will)
    ctx.unClose = vm.onClose(() => destroy(ctx, false));
    e.newhostobject(a.L, vm.addHostObject(ctx), MQTT_MT);
    e.pushvalue(a.L, -1);
    ctx.selfRef = e.ref(a.L, e.REGISTRYINDEX);
    return 1;
  };

  vm.defineModule(
    'mqtt',
    { create },
    {
      STATE_DISCONNECT: MQTT_STATE.DISCONNECT,
      STATE_SCONNECT: MQTT_STATE.SCONNECT,
      STATE_MQTT: MQTT_STATE.MQTT,
      STATE_READY: MQTT_STATE.READY,
      VERIFY_NONE: 0,
      VERIFY_OPTION: 1,
      VERIFY_REQUIRED: 2,
    },
  );
}
