/**
 * The device panel's figures for the web console: Wi-Fi (or the cellular modem on air780e*
 * boards), RTMP, boots, memory, sleeping tasks. Read once a second through the Device's public
 * surface only: its network (`device.net`), the status sections the bindings contribute
 * (`device.statusSection('rtmp')`, the media hub's), `device.luaHeapBytes()` and
 * `device.luaTimers()`. Reading creates and changes nothing. Under `luatos run` this runs in the
 * device's worker thread (runtime/host/worker/device-worker.ts), which posts the snapshot to the main
 * thread; DeviceHost.status() serves it with boots and uptime from the heartbeat, so the panel
 * still answers while the VM is stuck.
 */
import type { Device } from '../core/device';
import { recordLevel } from '../core/log';
import { WifiNetwork } from '../net/model';
import { modemOf } from '../net/cellular';
import type { DeviceStatus } from './web/status-model';

/** sys.lua's task timers (sys.wait / waitUntil) use ids 1 .. 0x1FFFFE; message timers are above */
const TASK_TIMER_LIMIT = 0x1fffff;
/** a task that starts sleeping this soon after an E or W line is "retrying" (a choice) */
const RETRY_WINDOW_MS = 2000;
/** shorter sleeps are polling loops, not a retry wait */
const RETRY_MIN_MS = 1000;
/** E/W lines remembered for that (bounded: a flood of errors costs nothing more) */
const TROUBLE_KEPT = 1000;

/** The station's phase as the console and the fleet table name it. */
function wifiState(phase: ReturnType<WifiNetwork['status']>['phase']): string {
  return phase === 'up' ? 'connected' : phase === 'idle' ? 'disconnected' : 'connecting';
}

export function statusProvider(device: Device): () => DeviceStatus {
  // the recent E/W lines (uptime of their boot) — a sleep armed right after one is a retry wait
  const trouble: { boot: number; ms: number }[] = [];
  device.logSink.on((r) => {
    const l = recordLevel(r);
    if (l !== 'E' && l !== 'W') return;
    trouble.push({ boot: r.boot, ms: r.ms });
    // keep the last 10 s (bounded): each sleep is judged once, when first seen (every second)
    while (trouble.length > TROUBLE_KEPT || (trouble.length && (trouble[0].boot !== r.boot || trouble[0].ms < r.ms - 10_000))) trouble.shift();
  });
  const judged = new Map<string, boolean>();
  let lastFrames = 0;
  let lastAt = 0;
  let fps = 0;
  let luaMax = 0;
  return () => {
    const net = device.net;
    let wifi: DeviceStatus['wifi'] = { state: 'unknown', ip: null };
    // a modem board: the cellular row; its Wi-Fi model only carries the traffic (no station)
    const modem = modemOf(device);
    let cellular: DeviceStatus['cellular'];
    if (modem) {
      const ms = modem.status();
      const sig = modem.signalValues();
      cellular = {
        state: ms.phase,
        sim: !ms.simInserted ? 'absent' : modem.simReady ? 'ready' : ms.phase === 'pin' ? 'pin' : 'not read',
        registration: ms.registration,
        csq: sig.csq,
        rssi: sig.rssi,
        ip: ms.ip,
        operator: modem.simReady ? modem.opts.imsi.slice(0, 5) : null,
        apn: modem.currentApn()?.name ?? null,
        flightMode: ms.flightMode,
      };
    } else if (net instanceof WifiNetwork) {
      const s = net.status();
      wifi = { state: wifiState(s.phase), ssid: s.ssid, ip: s.ip };
    }
    let rtmp: DeviceStatus['rtmp'] = { state: null, stats: null };
    const tracked = device.statusSection('rtmp');
    if (tracked) {
      const st = tracked.stats;
      const now = Date.now();
      if (lastAt && now > lastAt) fps = Math.max(0, ((st.videoFrames - lastFrames) * 1000) / (now - lastAt));
      lastFrames = st.videoFrames;
      lastAt = now;
      rtmp = {
        state: tracked.state,
        url: tracked.url,
        stats: {
          kbpsAvg: st.avgKbps,
          kbpsWindow: st.windowKbps,
          fps: Math.round(fps * 10) / 10,
          dropped: st.droppedFrames,
          queueMs: st.queueMs,
          bytesSent: st.bytesSent,
          videoFrames: st.videoFrames,
        },
      };
    }
    const m = device.profile.memory;
    let lua = null;
    const used = device.luaHeapBytes();
    if (used !== null) {
      luaMax = Math.max(luaMax, used);
      lua = { total: m.lua, used, max: luaMax };
    }
    return {
      wifi,
      rtmp,
      boots: device.boots,
      uptimeMs: Math.round(device.uptime()),
      memory: { lua, sys: { total: m.sys, used: m.sysUsed, max: m.sysUsed } },
      camera: { unplugged: !!device.cameraUnplugged },
      ...(cellular ? { cellular } : {}),
      tasks: { sleeping: sleepingTasks(device, trouble, judged) },
    };
  };
}

/** Tasks waiting in sys.wait/waitUntil: when each wakes, and whether it fell asleep right after an error. */
function sleepingTasks(
  device: Device,
  trouble: readonly { boot: number; ms: number }[],
  judged: Map<string, boolean>,
): NonNullable<DeviceStatus['tasks']>['sleeping'] {
  const now = device.clock.now();
  const up = device.uptime();
  const seen = new Set<string>();
  const boot = device.boots;
  const out = device
    .luaTimers()
    .filter((t) => t.id < TASK_TIMER_LIMIT && t.repeat === 0)
    .map((t) => {
      const key = `${boot}:${t.id}:${t.armedAt}`;
      seen.add(key);
      let afterError = judged.get(key);
      if (afterError === undefined) {
        const startedUp = up - (now - t.armedAt); // uptime when the wait began
        afterError = t.ms >= RETRY_MIN_MS && trouble.some((x) => x.boot === boot && startedUp >= x.ms && startedUp - x.ms <= RETRY_WINDOW_MS);
        judged.set(key, afterError);
      }
      return { id: t.id, ms: t.ms, wakeInMs: Math.max(0, Math.round(t.armedAt + t.ms - now)), afterError };
    })
    .sort((a, b) => a.wakeInMs - b.wakeInMs);
  for (const k of judged.keys()) if (!seen.has(k)) judged.delete(k);
  return out;
}

/** The figures of one row of the fleet table (runtime/host/fleet): cheap, read once a second per device. */
export interface DeviceRowFigures {
  /** 'disconnected' | 'connecting' | 'connected' | 'unknown' (no Wi-Fi model) */
  wifi: string;
  ip: string | null;
  /** RtmpState number; null: no rtmp object */
  rtmp: number | null;
  /** the publisher's window rate, kbit/s */
  kbps: number;
  dropped: number;
  videoFrames: number;
  queueMs: number;
  boots: number;
  uptimeMs: number;
  stopped: boolean;
  /** the key of the shared encoder the device takes frames from (a fleet), undefined: none */
  encoderKey: string | undefined;
}

export function deviceRowFigures(device: Device): DeviceRowFigures {
  let wifi = 'unknown';
  let ip: string | null = null;
  if (device.net instanceof WifiNetwork) {
    const s = device.net.status();
    wifi = wifiState(s.phase);
    ip = s.ip;
  }
  const rtmp = device.statusSection('rtmp');
  const st = rtmp ? rtmp.stats : null;
  return {
    wifi,
    ip,
    rtmp: rtmp ? rtmp.state : null,
    kbps: st ? Math.round(st.windowKbps) : 0,
    dropped: st ? st.droppedFrames : 0,
    videoFrames: st ? st.videoFrames : 0,
    queueMs: st ? Math.round(st.queueMs) : 0,
    boots: device.boots,
    uptimeMs: Math.round(device.uptime()),
    stopped: device.stopped,
    encoderKey: rtmp?.encoderKey,
  };
}
