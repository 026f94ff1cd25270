/**
 * Worker-thread entry of `luatos fleet`: many Devices in one thread. Each device has its own
 * name, MAC (so its own device id), state folder, clock, Lua state, Wi-Fi station and log; the
 * Lua states share the engine instance `createEngine` hands out (one wasm instance per thread
 * for wasmoon), and devices whose camera settings are equal share one ffmpeg encoder (a
 * CameraPool passed to every device as `shared`).
 *
 * To the fleet host (fleet-host.ts, runtime/host/fleet/protocol.ts):
 *  - log records batched per event-loop turn, tagged with the device index;
 *  - boot / vmexit / stopped per device; table rows once a second (when asked);
 *  - the child pids (ffmpeg encoders), so the host can kill them if it must terminate us.
 * Boots are staggered: device k boots at its `bootAtMs` after the worker started.
 *
 * The heartbeat's RESUME_SINCE slot tells the host whether a Lua call is running: a stop request
 * is answered in a few ms unless a VM is stuck in one call, and the host then terminates the
 * thread at once (no per-device recovery of a stuck VM inside a fleet: the in-VM watchdog
 * `--runaway-ms` still ends runaway Lua code that returns to the VM).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Device } from '../../core/device';
import { LogSink, type LogRecord } from '../../core/log';
import { buildBoardDevice } from '../worker/board-device';
import { deviceRowFigures } from '../status';
import { CAMERA_POOL_KEY, CameraPool } from '../../media/camera/camera-pool';
import { childPidsReporter } from '../worker/children';
import { absNow } from '../worker/heartbeat';
import { toWireRecord, type WireRecord } from '../worker/protocol';
import { fleetProfile } from './names';
import type { FleetRow, FleetWorkerData, FromFleetWorker, ToFleetWorker } from './protocol';

interface Member {
  index: number;
  name: string;
  mac: string;
  device: Device;
  lastError: string | null;
  bootTimer: NodeJS.Timeout | null;
}

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('fleet-worker.js runs as a worker thread');
  const data = workerData as FleetWorkerData;
  const post = (m: FromFleetWorker) => port.postMessage(m);
  const hb = new Float64Array(data.heartbeat);
  const pool = new CameraPool(); // its encoders end with the thread: the host kills their pids
  const shared = new Map<string, unknown>();
  if (data.shareCamera) shared.set(CAMERA_POOL_KEY, pool);

  // log records of every device, one message per event-loop turn
  let batch: Array<[number, WireRecord]> = [];
  let batchScheduled = false;
  const flushLogs = () => {
    batchScheduled = false;
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    post({ t: 'logs', items });
  };
  const queueLog = (d: number, r: LogRecord) => {
    batch.push([d, toWireRecord(r)]);
    if (!batchScheduled) {
      batchScheduled = true;
      setImmediate(flushLogs);
    }
  };

  const members: Member[] = [];
  for (const spec of data.devices) {
    const profile = fleetProfile(data.profile, spec);
    const sink = new LogSink({ stream: null });
    let device: Device;
    try {
      device = buildBoardDevice({
        board: data.board,
        scripts: data.scripts,
        libDirs: data.libDirs,
        engine: data.engine,
        profile,
        log: sink,
        dataDir: spec.dataDir,
        reboot: data.reboot,
        maxBoots: data.maxBoots,
        clock: data.clock,
        net: { ...data.net, mac: spec.mac },
        shared,
        isolatedEngine: data.isolatedEngines,
      });
    } catch (e) {
      post({ t: 'start-error', message: `${spec.name}: ${(e as Error).message}` });
      return;
    }
    const m: Member = { index: spec.index, name: spec.name, mac: spec.mac, device, lastError: null, bootTimer: null };
    sink.on((r, text) => {
      queueLog(spec.index, r);
      if (r.kind === 'E') m.lastError = text.length > 300 ? text.slice(0, 300) : text;
    });
    device.resumeObserver = (running) => {
      hb[0] = running ? absNow() : 0;
    };
    device.on('boot', (n: number) => post({ t: 'boot', d: spec.index, n }));
    device.on('vmexit', (x, boot) => post({ t: 'vmexit', d: spec.index, x: { kind: x.kind, message: x.message, code: x.code }, boot }));
    device.on('stopped', (r) => post({ t: 'stopped', d: spec.index, r: { kind: r.kind, code: r.code, exit: r.exit ? { kind: r.exit.kind, message: r.exit.message, code: r.exit.code } : undefined } }));
    members.push(m);
  }
  const byIndex = new Map(members.map((m) => [m.index, m]));

  if (data.timeoutMs !== undefined && members.length > 0) {
    const first = members[0].device;
    const ms = data.timeoutMs;
    first.once('boot', () => first.clock.setTimer(ms, () => post({ t: 'timeout' })));
  }

  const sendChildren = childPidsReporter((pids) => post({ t: 'children', pids }));
  const kidTimer = setInterval(sendChildren, 500);
  let lastEncoders = -1;
  const encoderId = encoderIds();
  const rowTimer = data.status
    ? setInterval(() => {
        post({ t: 'rows', rows: members.map((m) => rowOf(m, encoderId)) });
        if (pool.size !== lastEncoders) {
          lastEncoders = pool.size;
          post({ t: 'encoders', n: pool.size });
        }
      }, 1000)
    : null;

  let faultsSent = false;
  const t0 = Date.now();
  for (const m of members) {
    const start = () => {
      m.bootTimer = null;
      m.device.start().catch((e: Error) => {
        m.device.logRuntime('E', 'main', `cannot start the device: ${e.message}`);
        m.device.stop({ kind: 'load-error' });
      });
      if (!faultsSent) {
        faultsSent = true;
        // the fault list is the same for every device of the board: send the first one's
        m.device.once('boot', () => post({ t: 'faults', list: m.device.faults.list() }));
      }
    };
    const spec = data.devices.find((d) => d.index === m.index)!;
    const wait = Math.max(0, spec.bootAtMs - (Date.now() - t0));
    if (wait === 0) start();
    else m.bootTimer = setTimeout(start, wait);
  }

  let ended = false;
  port.on('message', (msg: ToFleetWorker) => {
    switch (msg.t) {
      case 'fault': {
        const errors: Array<[number, string]> = [];
        const runs = msg.devices.map((d) => {
          const m = byIndex.get(d);
          if (!m) return Promise.resolve();
          return m.device.faults.run(msg.name, msg.args).catch((e: Error) => void errors.push([d, e.message]));
        });
        void Promise.all(runs).then(() => post({ t: 'fault-result', id: msg.id, errors }));
        break;
      }
      case 'reboot':
        for (const d of msg.devices) byIndex.get(d)?.device.reboot(msg.reason);
        break;
      case 'stop':
        // The host terminates this thread as soon as 'final' arrives and SIGKILLs the children
        // it was told about: disposing hundreds of VMs one by one first would only delay the
        // stop (2 s bound). Pending logs and the child list go out first.
        if (ended) break;
        ended = true;
        for (const m of members) if (m.bootTimer) clearTimeout(m.bootTimer);
        flushLogs();
        sendChildren();
        clearInterval(kidTimer);
        if (rowTimer) clearInterval(rowTimer);
        post({ t: 'final' });
        break;
    }
  });
}

/** Short ids for the shared encoders' keys (the table shows which devices share one). */
function encoderIds(): (key: string | undefined) => string | null {
  const ids = new Map<string, string>();
  return (key) => {
    if (key === undefined) return null;
    let id = ids.get(key);
    if (!id) {
      id = `enc${ids.size + 1}`;
      ids.set(key, id);
    }
    return id;
  };
}

/** The fleet table's row of one device (runtime/host/status.ts reads the device model, never the VM). */
function rowOf(m: Member, encoderId: (key: string | undefined) => string | null): FleetRow {
  const { encoderKey, ...f } = deviceRowFigures(m.device);
  return { index: m.index, name: m.name, mac: m.mac, ...f, lastError: m.lastError, encoder: encoderId(encoderKey) };
}

main();
