/**
 * websocket (luatos-api-2.md §6; firmware `luat_lib_websocket.c`, HEAD 2026-08): the WebSocket
 * client object. The connection logic (handshake, frames through `ws`, keepalive, reconnect)
 * is runtime/net/websocket-client.ts; this file checks the Lua arguments and turns the
 * client's events into the script's callback.
 *
 * - `websocket.create(adapter = default, url, keepalive = 60, use_ipv6 = false)` → the object
 *   (metatable `WS*`), or nothing: adapter outside 0..QTY-1 (the firmware is silent; we log
 *   W `create: adapter <n> does not exist (0..20) (luatos-pc)`); an adapter that is not registered
 *   (W `network_alloc_ctrl fail`, E `websocket init FAID ret -1`). A non-string url or a
 *   non-number adapter raises the stock argument error (luaL_check*). keepalive is read only
 *   when it is an integer (> 0; kept as uint16); use_ipv6 is accepted and has no effect.
 * - The object holds itself (the firmware's self reference) until `close()`: it is not
 *   collected while the script drops its variable, and events keep coming.
 * - Methods (also as `websocket.<name>(obj, ...)`): `on(cb)` replaces the callback (a
 *   non-function clears it) → nothing; `connect()` → true (false after close, with
 *   E `socket connect ret=-1`); `autoreconn(on, ms = 3000)` → nothing (ms ≥ 1000, kept only
 *   when enabling); `send(data, x)`: data a string/number or a zbuff (its used bytes), else
 *   D `only support string or zbuff` and nothing; the integer 1 as `x` sends a binary frame,
 *   anything else text; FIN is always 1 (the documented `send(data, fin, opt)` fragments do
 *   not exist on the device: `send("a", 0)` is a whole text message, `send("a", 1)` a whole
 *   binary one); not ready → I `not ready yet`, false; otherwise true/false. `close()` →
 *   nothing (a second one: W `websocket already closed`); `ready()` → state > 0;
 *   `headers(t|s)` → true, or nothing for a bad header/size/type; `debug(b)` → nothing.
 *   There is no `state()` method on the device (nor here); `ready()` is the state.
 * - Callback `cb(wsc, event, ...)` from the main loop (unprotected: an error in it ends the VM,
 *   as on the device): `conack`; `recv, data, fin, opcode`; `sent`; `disconnect`;
 *   `error, "connect"|"tx"|"rx", 0`. `sys.publish("WEBSOCKET_CONNACK", wsc)` follows conack
 *   when a callback is set. Events queued before `close()` or `on()` reach the callback that is
 *   set when they run (none after close).
 * - headers, table form: each pair becomes `name:value\r\n` (no space), the characters
 *   `* - . _ space` of values as `%XX`; an empty name or value (or one that is neither string
 *   nor number), or name + value over 256 bytes → W `bad header <n> <v>` and nothing; a value
 *   that no longer fits the 1024-byte buffer → W `bad header <n> <v>, too large` and nothing.
 *   String form: used verbatim (≤ 1023 bytes, else W `headers too large size <n>`). The old
 *   headers stay when the call fails. Choice where the device overflows its buffer (a name
 *   that does not fit, values full of escaped characters): the same "too large" refusal.
 */
import { LUA_TFUNCTION, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, type LuaState } from '../runtime/core/engine/types';
import type { Args } from '../runtime/core/vm/lua-value';
import type { BindingFn, Vm } from '../runtime/core/vm/vm';
import { ADAPTER_QTY } from '../runtime/net/adapters';
import { wifiOf } from '../runtime/net/attach';
import { parseWsUrl, WebSocketClient } from '../runtime/net/websocket-client';
import { getZbuff } from './shared/zbuff';

export const WS_MT = 'WS*';
/** WS_HEADER_MAX of the firmware */
const HEADER_MAX = 1024;

interface WsCtx {
  client: WebSocketClient;
  /** registry ref of the userdata itself (the firmware's websocket_ref) */
  selfRef: number;
  cbRef: number;
  closed: boolean;
  unClose: () => void;
  /** received messages queued for the script and not yet delivered */
  queued: number;
}

/**
 * Received messages waiting for the script: at RECV_HIGH the client stops reading from the
 * server until they are down to RECV_LOW (our bound for the VM queue; the device's message bus
 * is bounded too, and its TCP window stops a fast server the same way).
 */
export const RECV_HIGH = 256;
export const RECV_LOW = 32;

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** C-string view: the bytes up to the first NUL. */
function cstr(b: Buffer): Buffer {
  const i = b.indexOf(0);
  return i < 0 ? b : b.subarray(0, i);
}

export function openWebsocket(vm: Vm): void {
  const { e } = vm;

  const self = (a: Args): WsCtx => {
    const id = e.tohostobject(a.L, 1, WS_MT);
    const ctx = id === null ? undefined : vm.getHostObject<WsCtx>(id);
    if (!ctx) a.typeError(1, WS_MT);
    return ctx;
  };

  const unref = (ref: number): void => {
    if (!ref || vm.isDead) return;
    try {
      e.unref(vm.L, e.REGISTRYINDEX, ref);
    } catch {
      /* state closing */
    }
  };

  /** queue `cb(wsc, event, ...args)` as the firmware's message handler does */
  const deliver = (ctx: WsCtx, event: string, push?: (L: LuaState) => number, connack = false, pre?: () => void): void => {
    vm.post((L) => {
      pre?.();
      if (ctx.closed || !ctx.cbRef) return 0;
      e.rawgeti(L, e.REGISTRYINDEX, ctx.cbRef);
      if (e.type(L, -1) === LUA_TFUNCTION) {
        e.rawgeti(L, e.REGISTRYINDEX, ctx.selfRef);
        e.pushstring(L, event);
        const n = push ? push(L) : 0;
        e.call(L, 2 + n, 0);
      } else {
        e.pop(L, 1);
      }
      // as the firmware: decided before the callback ran (it may close the object meanwhile)
      if (connack) {
        if (e.getglobal(L, 'sys_pub') === LUA_TFUNCTION) {
          e.pushstring(L, 'WEBSOCKET_CONNACK');
          e.rawgeti(L, e.REGISTRYINDEX, ctx.selfRef);
          e.call(L, 2, 0);
        } else {
          e.pop(L, 1);
        }
      }
      return 0;
    });
  };

  /** the string form of a header key/value as lua_tolstring gives it (null: not string/number) */
  const fieldBytes = (L: LuaState, idx: number): Buffer | null => {
    const t = e.type(L, idx);
    if (t !== LUA_TSTRING && t !== LUA_TNUMBER) return null;
    e.pushvalue(L, idx); // a copy: converting a key in place would break lua_next
    const b = Buffer.from(e.tobytes(L, -1) as Uint8Array);
    e.pop(L, 1);
    return b;
  };

  const ESCAPED = new Set([0x2a, 0x2d, 0x2e, 0x5f, 0x20]); // * - . _ space

  const methods: Record<string, BindingFn> = {
    on: (a) => {
      const ctx = self(a);
      if (ctx.cbRef) unref(ctx.cbRef);
      ctx.cbRef = 0;
      if (a.type(2) === LUA_TFUNCTION) {
        e.pushvalue(a.L, 2);
        ctx.cbRef = e.ref(a.L, e.REGISTRYINDEX);
      }
      return 0;
    },
    connect: (a) => {
      const ctx = self(a);
      if (ctx.closed) {
        vm.log('E', 'websocket', 'socket connect ret=-1\n');
        vm.log('I', 'websocket', 'websocket closing socket');
        e.pushboolean(a.L, false);
        return 1;
      }
      e.pushboolean(a.L, ctx.client.connect());
      return 1;
    },
    autoreconn: (a) => {
      const ctx = self(a);
      const on = e.toboolean(a.L, 2);
      const ms = a.optInteger(3, 3000);
      if (!ctx.closed) ctx.client.setAutoReconnect(on, ms >>> 0);
      return 0;
    },
    send: (a) => {
      const ctx = self(a);
      let data: Buffer;
      if (e.isstring(a.L, 2)) {
        data = Buffer.from(a.bytes(2));
      } else {
        const z = getZbuff(vm, a.L, 2);
        if (!z) {
          vm.log('D', 'websocket', 'only support string or zbuff');
          return 0;
        }
        data = Buffer.from(z.usedBytes());
      }
      const binary = e.isinteger(a.L, 3) && e.tointeger(a.L, 3) === 1;
      if (ctx.closed) {
        vm.log('I', 'websocket', 'not ready yet');
        e.pushboolean(a.L, false);
        return 1;
      }
      e.pushboolean(a.L, ctx.client.send(data, binary));
      return 1;
    },
    close: (a) => {
      const ctx = self(a);
      if (ctx.closed) {
        vm.log('W', 'websocket', 'websocket already closed');
        return 0;
      }
      ctx.client.close();
      ctx.closed = true;
      unref(ctx.cbRef);
      ctx.cbRef = 0;
      ctx.unClose();
      // WEBSOCKET_MSG_RELEASE: the self reference goes after the queued messages
      const ref = ctx.selfRef;
      vm.post((L) => {
        e.unref(L, e.REGISTRYINDEX, ref);
        return 0;
      });
      return 0;
    },
    ready: (a) => {
      const ctx = self(a);
      e.pushboolean(a.L, !ctx.closed && ctx.client.state > 0);
      return 1;
    },
    headers: (a) => {
      const ctx = self(a);
      const L = a.L;
      const t = e.type(L, 2);
      if (t !== LUA_TTABLE && !e.isstring(L, 2)) return 0;
      let out: Buffer;
      if (t === LUA_TTABLE) {
        const parts: Buffer[] = [];
        let len = 0;
        const show = (b: Buffer | null) => (b === null ? '(null)' : cstr(b).toString('utf8'));
        e.pushnil(L);
        while (e.next(L, 2)) {
          const name = fieldBytes(L, -2);
          const value = fieldBytes(L, -1);
          if (!name || !value || name.length === 0 || value.length === 0 || name.length + value.length > 256) {
            vm.log('W', 'websocket', `bad header ${show(name)} ${show(value)}`);
            e.pop(L, 2);
            return 0;
          }
          const n = cstr(name);
          if (len + n.length + 1 >= HEADER_MAX || HEADER_MAX - (len + n.length + 1) < value.length * 2) {
            vm.log('W', 'websocket', `bad header ${show(name)} ${show(value)}, too large`);
            e.pop(L, 2);
            return 0;
          }
          const line: number[] = [...n, 0x3a];
          for (const c of value) {
            if (c === 0) continue; // a NUL ends the C string and is overwritten by the next byte
            if (ESCAPED.has(c)) line.push(...Buffer.from('%' + c.toString(16).toUpperCase().padStart(2, '0'), 'latin1'));
            else line.push(c);
          }
          line.push(0x0d, 0x0a);
          if (len + line.length >= HEADER_MAX) {
            vm.log('W', 'websocket', `bad header ${show(name)} ${show(value)}, too large`);
            e.pop(L, 2);
            return 0;
          }
          parts.push(Buffer.from(line));
          len += line.length;
          e.pop(L, 1);
        }
        out = Buffer.concat(parts);
      } else {
        const s = Buffer.from(a.bytes(2));
        if (s.length > HEADER_MAX - 1) {
          vm.log('W', 'websocket', `headers too large size ${s.length}`);
          return 0;
        }
        out = cstr(s);
      }
      if (!ctx.closed) ctx.client.headers = out.length ? out : null;
      e.pushboolean(L, true);
      return 1;
    },
    debug: (a) => {
      self(a);
      return 0;
    },
  };

  const create: BindingFn = (a) => {
    const L = a.L;
    const net = vm.device.net;
    const adapter = a.optInteger(1, net.defaultAdapter());
    if (adapter < 0 || adapter >= ADAPTER_QTY) {
      // the firmware returns nothing without a word; say why (our line)
      vm.log('W', 'websocket', `create: adapter ${adapter} does not exist (0..${ADAPTER_QTY - 1}) (luatos-pc)`);
      return 0;
    }
    const url = latin1(a.bytes(2));
    let keepalive = 0;
    if (e.isinteger(L, 3)) keepalive = (e.tointeger(L, 3) as number) & 0xffff;
    if (!wifiOf(vm).isRegistered(adapter)) {
      vm.log('W', 'websocket', 'network_alloc_ctrl fail');
      vm.log('E', 'websocket', 'websocket init FAID ret -1');
      return 0;
    }
    const client = new WebSocketClient(
      { url: parseWsUrl(url), adapter, keepalive },
      {
        net,
        setTimer: (ms, fn) => vm.clock.setTimer(ms, fn),
        clearTimer: (h) => vm.clock.clearTimer(h),
        log: (level, msg) => vm.log(level, 'websocket', msg),
      },
    );
    const ctx: WsCtx = { client, selfRef: 0, cbRef: 0, closed: false, unClose: () => undefined, queued: 0 };
    client.on('conack', () => deliver(ctx, 'conack', undefined, true));
    client.on('recv', (data, fin, opcode) => {
      if (++ctx.queued === RECV_HIGH) client.setPaused(true);
      deliver(
        ctx,
        'recv',
        (L2) => {
          e.pushbytes(L2, data);
          e.pushinteger(L2, fin);
          e.pushinteger(L2, opcode);
          return 3;
        },
        false,
        () => {
          if (--ctx.queued === RECV_LOW) client.setPaused(false);
        },
      );
    });
    client.on('sent', () => deliver(ctx, 'sent'));
    client.on('disconnect', () => deliver(ctx, 'disconnect'));
    client.on('error', (kind, code) =>
      deliver(ctx, 'error', (L2) => {
        e.pushstring(L2, kind);
        e.pushinteger(L2, code);
        return 2;
      }),
    );
    ctx.unClose = vm.onClose(() => client.dispose());
    e.newhostobject(L, vm.addHostObject(ctx), WS_MT);
    e.pushvalue(L, -1);
    ctx.selfRef = e.ref(L, e.REGISTRYINDEX);
    return 1;
  };

  vm.defineModule('websocket', { create, ...methods });

  // metatable WS*: the module's functions through __index (only function names resolve, and
  // `wsc.send == websocket.send`, as on the device)
  const L = vm.L;
  e.newmetatable(L, WS_MT);
  e.createtable(L, 0, Object.keys(methods).length + 1);
  e.getglobal(L, 'websocket');
  for (const k of ['create', ...Object.keys(methods)]) {
    e.getfield(L, -1, k);
    e.setfield(L, -3, k);
  }
  e.pop(L, 1);
  e.setfield(L, -2, '__index');
  // collected only after close() dropped the self reference: forget the host object
  vm.pushBinding('__gc', (a) => {
    const id = e.tohostobject(a.L, 1, WS_MT);
    if (id === null) return 0;
    const ctx = vm.getHostObject<WsCtx>(id);
    if (ctx && !ctx.closed) {
      ctx.client.dispose();
      ctx.unClose();
    }
    vm.removeHostObject(id);
    return 0;
  });
  e.setfield(L, -2, '__gc');
  e.pop(L, 1);
}
