/**
 * Worker-thread entry: one Device (VM, engine, clock, network model, media: the RTMP publisher
 * and the ffmpeg camera) built from serialisable options and run here, off Node's main thread.
 *
 * Everything the device does stays inside this thread, so the media path (camera frames into
 * the publisher, the publisher's socket) never crosses the thread boundary; only what the
 * supervisor needs does (runtime/host/worker/protocol.ts):
 *  - every log record as it is written (so nothing is lost if the thread is then terminated);
 *  - device events (boot, vmexit, stopped), the fault list, the status snapshot (once a second
 *    when the web console wants it), the coverage report at the end;
 *  - the pids of the child processes it spawned (ffmpeg, a capture one-shot): the main thread
 *    kills them if it has to terminate this thread;
 *  - the heartbeat (runtime/host/worker/heartbeat.ts) in shared memory, no message needed.
 *
 * The main thread terminates this thread when a Lua call never returns (a slow C-level call the
 * in-VM watchdog cannot interrupt), on a timeout the device cannot honour, and when it does not
 * answer a stop request within a second.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Device } from '../../core/device';
import { LogSink } from '../../core/log';
import { holdIfSlow } from '../../core/clock';
import { buildBoardDevice } from './board-device';
import { statusProvider } from '../status';
import { FaultError } from '../../core/faults';
import { childPidsReporter } from './children';
import { attachHeartbeat, heartbeatPaused } from './heartbeat';
import { DebugCore } from '../../core/debug/core';
import { DBG_PAUSE, DBG_WAKE, type DebugCommand } from '../../core/debug/protocol';
import { toWireRecord, type FromWorker, type ScheduledFault, type ToWorker, type WorkerData } from './protocol';

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('device-worker.js runs as a worker thread');
  const data = workerData as WorkerData;
  const o = data.opts;
  const post = (m: FromWorker) => port.postMessage(m);

  const sink = new LogSink({ stream: null });
  // set when the run is refused (an unknown --fault): nothing more is logged
  let quiet = false;
  sink.on((r) => {
    if (!quiet) post({ t: 'log', r: toWireRecord(r) });
  });
  let device: Device;
  try {
    device = buildBoardDevice({ ...o, log: sink });
  } catch (e) {
    post({ t: 'start-error', message: (e as Error).message });
    return;
  }
  device.boots = data.bootsBefore;
  const detach = attachHeartbeat(device, data.heartbeat);
  const closeDebugger = data.debug ? attachDebugger(device, data) : () => undefined;

  let lastFaults = '';
  const sendFaults = () => {
    const list = device.faults.list();
    const s = JSON.stringify(list);
    if (s !== lastFaults) {
      lastFaults = s;
      post({ t: 'faults', list });
    }
  };
  const sendChildren = childPidsReporter((pids) => post({ t: 'children', pids }));
  // few wake-ups: each costs CPU that shows in the per-stream figures (bench:rtmp)
  const status = o.status ? statusProvider(device) : null;
  const kidTimer = setInterval(sendChildren, 500);
  const slowTimer = status
    ? setInterval(() => {
        sendFaults();
        try {
          post({ t: 'status', s: status() });
        } catch {
          /* a half-built VM: next second */
        }
      }, 1000)
    : null;

  device.on('boot', (n: number) => {
    post({ t: 'boot', n });
    sendFaults();
    sendChildren();
  });
  device.on('vmexit', (x, boot) => post({ t: 'vmexit', x: { kind: x.kind, message: x.message, code: x.code }, boot }));
  device.on('stopped', (r) => post({ t: 'stopped', r: { kind: r.kind, code: r.code, exit: r.exit ? { kind: r.exit.kind, message: r.exit.message, code: r.exit.code } : undefined } }));
  if (data.timeoutMs !== undefined) {
    const ms = data.timeoutMs;
    // armed at the first boot: device time starts there
    device.once('boot', () => device.clock.setTimer(ms, () => post({ t: 'timeout' })));
  }

  const hostDone = scheduleFaults(device, o.faults ?? [], o.hostFaults ?? [], post, () => {
    quiet = true;
  });

  let ended = false;
  port.on('message', (m: ToWorker) => {
    switch (m.t) {
      case 'fault-host-done':
        hostDone(m.id);
        break;
      case 'fault':
        device.faults.run(m.name, m.args).then(
          () => {
            post({ t: 'fault-result', id: m.id });
            sendFaults();
          },
          (e: Error) => post({ t: 'fault-result', id: m.id, error: e.message, faultError: e instanceof FaultError }),
        );
        break;
      case 'reboot':
        device.reboot(m.reason);
        break;
      case 'stop':
        if (ended) break;
        ended = true;
        device.dispose();
        sink.close();
        sendChildren();
        post({ t: 'final', coverage: device.coverage ? device.coverage.report() : null });
        detach();
        if (slowTimer) clearInterval(slowTimer);
        clearInterval(kidTimer);
        closeDebugger();
        port.close();
        break;
    }
  });

  sendFaults();
  device.start().catch((e: Error) => post({ t: 'start-error', message: e.message }));
}

/**
 * `--inspect`: the debugger core on this thread. While the device is stopped this thread is
 * blocked in the Lua hook; it reads commands with receiveMessageOnPort, sleeping on the shared
 * wake word between them (the main thread bumps it after each command).
 */
function attachDebugger(device: Device, data: WorkerData): () => void {
  const d = data.debug!;
  const flags = new Int32Array(d.flags);
  const dport = d.port;
  const core = new DebugCore(
    device,
    {
      post: (m) => dport.postMessage(m),
      receive: (ms) => {
        const seen = Atomics.load(flags, DBG_WAKE);
        const r = receiveMessageOnPort(dport);
        if (r) return r.message as DebugCommand;
        Atomics.wait(flags, DBG_WAKE, seen, ms);
        const r2 = receiveMessageOnPort(dport);
        return r2 ? (r2.message as DebugCommand) : null;
      },
      pauseRequested: () => Atomics.exchange(flags, DBG_PAUSE, 0) !== 0,
      paused: (on) => heartbeatPaused(device, data.heartbeat, on),
    },
    { stopOnEntry: d.stopOnEntry },
  );
  device.debugger = core;
  dport.on('message', (m: DebugCommand) => core.command(m));
  return () => dport.close();
}

/**
 * `luatos run --fault AT NAME ARGS...`: armed at this worker's first boot, on the device clock
 * (virtual or real), after the API and the board's additions are installed and before the
 * script runs. That is when every fault of the device is registered (the camera's is added per
 * boot), so a name that is neither here nor on the main thread ends the run as a usage error
 * before any Lua line. A fault whose handler fails (bad arguments, a fault gone at that time)
 * is reported as `fault-at` error; the run goes on. The virtual clock is held while a fault
 * runs, as scenario steps do. Returns the handler of `fault-host-done`.
 */
function scheduleFaults(device: Device, faults: readonly ScheduledFault[], hostFaults: readonly string[], post: (m: FromWorker) => void, refuse: () => void): (id: number) => void {
  const waiting = new Map<number, () => void>();
  if (faults.length === 0) return () => undefined;
  let seq = 0;
  const fire = (f: ScheduledFault) => {
    post({ t: 'fault-at', i: f.i, phase: 'start' });
    if (!device.faults.has(f.name) && hostFaults.includes(f.name)) {
      const id = ++seq;
      waiting.set(id, device.clock.hold(`--fault ${f.text}`));
      post({ t: 'fault-host', id, i: f.i });
      return;
    }
    // a handler that does real async work holds the virtual clock; one that is done within a
    // few microtasks does not (no macrotask runs meanwhile: device time stays exact)
    const settle = holdIfSlow(device.clock, `--fault ${f.text}`);
    device.faults.run(f.name, f.args).then(
      () => {
        settle();
        post({ t: 'fault-at', i: f.i, phase: 'done' });
      },
      (e: Error) => {
        settle();
        post({ t: 'fault-at', i: f.i, phase: 'error', error: e.message });
      },
    );
  };
  let armed = false;
  device.bootHooks.push(() => {
    if (armed) return;
    armed = true;
    const known = new Set([...device.faults.list().map((f) => f.name), ...hostFaults]);
    const unknown = faults.filter((f) => !known.has(f.name));
    if (unknown.length > 0) {
      refuse();
      const names = [...known].sort().join(', ') || 'none';
      post({ t: 'usage-error', message: unknown.map((f) => `--fault '${f.text}': no fault '${f.name}' on this board (available: ${names})`).join('; ') });
      throw new FaultError('--fault names an unknown fault');
    }
    for (const f of faults) device.clock.setTimer(f.atMs, () => fire(f));
  });
  return (id) => {
    const release = waiting.get(id);
    waiting.delete(id);
    release?.();
  };
}

main();
