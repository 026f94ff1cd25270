/**
 * rtmp (luatos-api.md §13): an RTMP push client object backed by our TypeScript publisher
 * (runtime/media/rtmp), numbered and logging like the January 2026 (V2002) firmware of the reference
 * device log.
 *
 * - `rtmp.create(url[, adapter])` → userdata (metatable `rtmp_ctx`, methods via `:`), or nil (E log)
 *   for a bad URL. A non-string url raises (luaL_checkstring), as the firmware does with the demo's
 *   nil url. Several objects may exist (the Jan firmware let every create replace the "current"
 *   one; HEAD allows one): the camera feeds whichever reached PUBLISHING last.
 * - Methods: `setCallback(fn|nil)` → true (false for other types), `connect()` → true when the
 *   attempt started, `start()` → true (publish now or as soon as CONNECTED; also starts "polling":
 *   the stats lines), `stop()` → true when it was publishing (back to CONNECTED, polling off),
 *   `disconnect()` → true/false, `getState()` → integer, `getStats()` → {bytes_sent,
 *   video_frames_sent, audio_frames_sent, connection_time}, `destroy()`; `__gc` destroys.
 *   After destroy every method returns false (getState: STATE_IDLE, getStats: zeros).
 * - States (Jan/Feb 2026 numbering): IDLE 0, CONNECTING 1, HANDSHAKING 2, CONNECTED 3 (here: the
 *   server accepted connect), PUBLISHING 4, DISCONNECTING 5, ERROR 6.
 * - The state callback is queued on every change (log `RTMP状态(<n>)回调消息入队 <ptr> <ptr>`) and
 *   runs from the main loop after the running task yields, unprotected (an error in it ends the VM,
 *   as on the device). Arguments: the new state; for the transitions of a fault (5 → 0 → 6 after
 *   a refused connection, a handshake/command failure, a timeout, a server drop) also the error
 *   code (-1 failed, -4 connect failed, -5 handshake failed, -6 network, -7 timeout) and the reason
 *   text (choice: the firmware passes the state only; extra arguments keep `state_changed(state,
 *   ...)` working and tell the script why).
 * - TCP goes through the device network (`vm.device.net.connectTcp`, owner "rtmp", the given
 *   adapter or the default one): `--map`, adapter/link state and link loss apply.
 * - Reaching PUBLISHING makes the device media hub (luatos-api/shared/media-hub.ts) start the camera's
 *   encoder and feed this publisher; leaving it stops the encoder. onMetaData carries the camera's
 *   configured stream (size, frame rate, bitrate estimate).
 *
 * Log lines — binding (module `rtmp`, D): `RTMP上下文创建成功: <url>`, `RTMP回调函数已设置` /
 * `RTMP回调函数已清除`, `RTMP状态(<n>)回调消息入队 ...`, `RTMP发起连接请求: 成功|失败`; the stats
 * line (module `rtmp_push`, I) every 10 s from create while polling (after start(); the
 * publisher's own stats timer is off so nothing is printed twice). Library (module `rtmp_push`):
 * everything else (`RTMP: State changed from X to Y`, handshake, `command sent successfully: ...`,
 * `Received Set Chunk Size from server: N`, metadata lines, `Sending IDR frame, len=N`, errors). The
 * library logs some of the device's I lines at D; the binding logs those at I as the device does.
 */
import { LUA_TFUNCTION, LUA_TNIL, LUA_TNONE } from '../runtime/core/engine/types';
import type { TimerHandle } from '../runtime/core/clock';
import { NIL, type JsLuaValue } from '../runtime/core/vm/lua-value';
import { RtmpPublisher, RtmpState } from '../runtime/media/rtmp';
import { deviceMedia, deviceSocketFactory } from './shared/media-hub';
import type { Args } from '../runtime/core/vm/lua-value';
import type { Vm } from '../runtime/core/vm/vm';
import type { RtmpLogEvent } from '../runtime/media/rtmp';

export const RTMP_MT = 'rtmp_ctx';
export const STATS_INTERVAL_MS = 10000;

interface RtmpCtx {
  pub: RtmpPublisher;
  url: string;
  cbRef: number | null;
  polling: boolean;
  destroyed: boolean;
  statsTimer: TimerHandle | null;
  ptr: number;
  unClose: () => void;
}

/** One VM's rtmp module: the VM, its media hub, the counters behind the firmware-like pointers. */
interface RtmpMod {
  vm: Vm;
  e: Vm['e'];
  media: ReturnType<typeof deviceMedia>;
  msgPtr: number;
  ctxSeq: number;
}

type Methods = Record<string, (a: Args) => number>;

const hex = (n: number) => '0x' + (n >>> 0).toString(16);

function self(mod: RtmpMod, a: Args): RtmpCtx {
  const id = mod.e.tohostobject(a.L, 1, RTMP_MT);
  const ctx = id === null ? undefined : mod.vm.getHostObject<RtmpCtx>(id);
  if (!ctx) a.typeError(1, RTMP_MT);
  return ctx;
}

/** the `rtmp_push` statistics line every STATS_INTERVAL_MS while streaming */
function armStats(mod: RtmpMod, ctx: RtmpCtx): void {
  const { vm } = mod;
  ctx.statsTimer = vm.clock.setTimer(STATS_INTERVAL_MS, () => {
    ctx.statsTimer = null;
    if (ctx.destroyed || vm.isDead) return;
    if (ctx.polling) vm.log('I', 'rtmp_push', ctx.pub.statsLine());
    armStats(mod, ctx);
  });
}

function releaseCallback(mod: RtmpMod, ctx: RtmpCtx): void {
  const { vm, e } = mod;
  if (ctx.cbRef !== null && !vm.isDead) {
    try {
      e.unref(vm.L, e.REGISTRYINDEX, ctx.cbRef);
    } catch {
      /* state closing */
    }
  }
  ctx.cbRef = null;
}

function destroyCtx(mod: RtmpMod, ctx: RtmpCtx): void {
  if (ctx.destroyed) return;
  ctx.destroyed = true;
  ctx.polling = false;
  mod.vm.clock.clearTimer(ctx.statsTimer);
  ctx.statsTimer = null;
  mod.media.detachPublisher(ctx.pub);
  ctx.pub.destroy();
  ctx.pub.removeAllListeners();
  releaseCallback(mod, ctx);
  ctx.unClose();
}

/** a publisher state change: the Lua callback (queued), and the media hub */
function onState(mod: RtmpMod, ctx: RtmpCtx, s: RtmpState, old: RtmpState, code?: number, reason?: string): void {
  const { vm } = mod;
  if (ctx.destroyed) return;
  if (ctx.cbRef !== null) {
    mod.msgPtr = mod.msgPtr + 0x18 > 0x2802dfff ? 0x2802cf00 : mod.msgPtr + 0x18;
    vm.log('D', 'rtmp', `RTMP状态(${s})回调消息入队 ${hex(mod.msgPtr)} ${hex(ctx.ptr)}`);
    const args: JsLuaValue[] = code !== undefined && code !== 0 ? [s, code, reason ?? NIL] : [s];
    vm.post((L) => {
      // the callback as it is now (setCallback may have changed or cleared it meanwhile)
      if (!ctx.destroyed && ctx.cbRef !== null) vm.callRef(L, ctx.cbRef, args);
      return 0;
    });
  }
  mod.media.publisherState(ctx.pub, s, old);
}

/** ctx:setCallback(fn | nil) */
function setCallback(mod: RtmpMod, a: Args): number {
  const { vm, e } = mod;
  const ctx = self(mod, a);
  const t = a.type(2);
  if (t === LUA_TFUNCTION) {
    if (ctx.destroyed) {
      e.pushboolean(a.L, false);
      return 1;
    }
    releaseCallback(mod, ctx);
    e.pushvalue(a.L, 2);
    ctx.cbRef = e.ref(a.L, e.REGISTRYINDEX);
    vm.log('D', 'rtmp', 'RTMP回调函数已设置');
    e.pushboolean(a.L, true);
    return 1;
  }
  if (t === LUA_TNIL || t === LUA_TNONE) {
    releaseCallback(mod, ctx);
    vm.log('D', 'rtmp', 'RTMP回调函数已清除');
    e.pushboolean(a.L, true);
    return 1;
  }
  vm.log('E', 'rtmp', `RTMP回调必须是函数, 实际是 ${a.typeName(2)}`);
  e.pushboolean(a.L, false);
  return 1;
}

/** connect, start, stop, disconnect */
function streamMethods(mod: RtmpMod): Methods {
  const { vm, e, media } = mod;
  return {
    connect: (a) => {
      const ctx = self(mod, a);
      let ok = false;
      if (!ctx.destroyed) {
        ctx.pub.setStreamInfo(media.streamInfo());
        ok = ctx.pub.connect();
      }
      vm.log('D', 'rtmp', `RTMP发起连接请求: ${ok ? '成功' : '失败'}`);
      e.pushboolean(a.L, ok);
      return 1;
    },
    start: (a) => {
      const ctx = self(mod, a);
      if (ctx.destroyed) {
        e.pushboolean(a.L, false);
        return 1;
      }
      ctx.polling = true;
      ctx.pub.setStreamInfo(media.streamInfo());
      e.pushboolean(a.L, ctx.pub.start());
      return 1;
    },
    stop: (a) => {
      const ctx = self(mod, a);
      if (ctx.destroyed) {
        e.pushboolean(a.L, false);
        return 1;
      }
      ctx.polling = false;
      e.pushboolean(a.L, ctx.pub.stop());
      return 1;
    },
    disconnect: (a) => {
      const ctx = self(mod, a);
      e.pushboolean(a.L, ctx.destroyed ? false : ctx.pub.disconnect());
      return 1;
    },
  };
}

/** getState, getStats, destroy */
function infoMethods(mod: RtmpMod): Methods {
  const { e } = mod;
  return {
    getState: (a) => {
      const ctx = self(mod, a);
      e.pushinteger(a.L, ctx.destroyed ? RtmpState.IDLE : ctx.pub.state);
      return 1;
    },
    getStats: (a) => {
      const ctx = self(mod, a);
      const st = ctx.pub.getStats();
      e.createtable(a.L, 0, 4);
      e.pushinteger(a.L, ctx.destroyed ? 0 : st.bytesSent);
      e.setfield(a.L, -2, 'bytes_sent');
      e.pushinteger(a.L, ctx.destroyed ? 0 : st.videoFrames);
      e.setfield(a.L, -2, 'video_frames_sent');
      e.pushinteger(a.L, ctx.destroyed ? 0 : st.audioFrames);
      e.setfield(a.L, -2, 'audio_frames_sent');
      e.pushinteger(a.L, ctx.destroyed ? 0 : Math.floor(st.connectionTimeMs));
      e.setfield(a.L, -2, 'connection_time');
      return 1;
    },
    destroy: (a) => {
      destroyCtx(mod, self(mod, a));
      return 0;
    },
  };
}

/** metatable rtmp_ctx: methods through __index, __gc destroys */
function installMetatable(mod: RtmpMod, methods: Methods): void {
  const { vm, e } = mod;
  const L = vm.L;
  e.newmetatable(L, RTMP_MT);
  e.createtable(L, 0, Object.keys(methods).length);
  for (const [k, fn] of Object.entries(methods)) {
    vm.pushBinding(k, fn);
    e.setfield(L, -2, k);
  }
  e.setfield(L, -2, '__index');
  vm.pushBinding('__gc', (a) => {
    const id = e.tohostobject(a.L, 1, RTMP_MT);
    if (id === null) return 0;
    const ctx = vm.getHostObject<RtmpCtx>(id);
    if (ctx) destroyCtx(mod, ctx);
    vm.removeHostObject(id);
    return 0;
  });
  e.setfield(L, -2, '__gc');
  vm.pushBinding('__tostring', (a) => {
    const ctx = self(mod, a);
    e.pushstring(a.L, `rtmp_ctx: ${hex(ctx.ptr)}`);
    return 1;
  });
  e.setfield(L, -2, '__tostring');
  e.pop(L, 1);
}

/** rtmp.create(url, adapter?) → rtmp_ctx, or nil (after an error line) for a bad URL */
function create(mod: RtmpMod, a: Args): number {
  const { vm, e } = mod;
  const url = a.string(1);
  const adapter = a.isNoneOrNil(2) ? undefined : a.integer(2);
  let pub: RtmpPublisher;
  try {
    pub = new RtmpPublisher(url, {
      connect: deviceSocketFactory(vm, adapter),
      statsIntervalMs: 0,
    });
  } catch (err) {
    vm.log('E', 'rtmp', `RTMP URL解析失败: ${url} (${(err as Error).message})`);
    e.pushnil(a.L);
    return 1;
  }
  deviceMedia(vm).trackPublisher(pub, url);
  const ctx: RtmpCtx = {
    pub,
    url,
    cbRef: null,
    polling: false,
    destroyed: false,
    statsTimer: null,
    ptr: 0x609a01f0 + 0x40 * mod.ctxSeq++,
    unClose: () => undefined,
  };
  pub.on('log', (ev: RtmpLogEvent) => vm.log(ev.level, ev.module, ev.text));
  pub.on('state', (s: RtmpState, old: RtmpState, code?: number, reason?: string) => onState(mod, ctx, s, old, code, reason));
  ctx.unClose = vm.onClose(() => destroyCtx(mod, ctx));
  armStats(mod, ctx);
  e.newhostobject(a.L, vm.addHostObject(ctx), RTMP_MT);
  vm.log('D', 'rtmp', `RTMP上下文创建成功: ${url}`);
  return 1;
}

export function openRtmp(vm: Vm): void {
  const mod: RtmpMod = { vm, e: vm.e, media: deviceMedia(vm), msgPtr: 0x2802cf00, ctxSeq: 0 };
  installMetatable(mod, { setCallback: (a) => setCallback(mod, a), ...streamMethods(mod), ...infoMethods(mod) });
  vm.defineModule(
    'rtmp',
    { create: (a) => create(mod, a) },
    {
      STATE_IDLE: RtmpState.IDLE,
      STATE_CONNECTING: RtmpState.CONNECTING,
      STATE_HANDSHAKING: RtmpState.HANDSHAKING,
      STATE_CONNECTED: RtmpState.CONNECTED,
      STATE_PUBLISHING: RtmpState.PUBLISHING,
      STATE_DISCONNECTING: RtmpState.DISCONNECTING,
      STATE_ERROR: RtmpState.ERROR,
    },
  );
}
