/**
 * The main-thread side of a device that runs in a worker thread (runtime/host/worker/device-worker.ts):
 * an EventEmitter proxy with the surface the CLI and the web console use (`boots`, `uptime()`,
 * `profile`, `logSink`, `faults`, `on('boot'|'vmexit'|'stopped')`, `reboot()`, `stop()`,
 * `status()`), and the supervisor that keeps every run stoppable.
 *
 * Why a thread: a Lua call that never returns (`debug.sethook()` then `while true do end`, or a
 * slow C-level call such as a pathological `string.find`) blocks the thread it runs on. On the
 * main thread that froze the whole process: no output, `--timeout`, Ctrl-C and SIGTERM ignored.
 * Here only the worker blocks; `worker.terminate()` stops wasm and JS mid-instruction.
 *
 * Supervision (a 200 ms poll of the shared heartbeat, runtime/host/worker/heartbeat.ts):
 *  - one resume longer than the runaway budget + 1.5 s (the in-VM watchdog did not end it):
 *    the thread is terminated, its children killed, the firmware's watchdog lines logged
 *    (`luat:E(ms):wdt:...`, `luat:E(ms):main:watchdog reset, rebooting`) and a `vmexit` of kind
 *    `watchdog` emitted; under `reboot: 'restart'` a fresh worker boots (the boot count goes on,
 *    the state folder persists as flash does), under `'exit'` the device stops (`stopped`, kind
 *    `exit`);
 *  - `timeoutMs`: the worker reports it on the device clock (exact, also for the virtual clock);
 *    the supervisor's own estimate of device time (extrapolated while a resume runs) is the
 *    backstop, 300 ms later, so a stuck VM cannot postpone it. Either way: event `timeout`.
 *
 * `--fault` (opts.faults): armed by the worker at its first boot on the device clock; events
 * `scheduled-fault` ({fault, phase: start|done|error, error}) and `usage-error` (a fault name
 * the device does not have; the worker then runs nothing). Faults that live on this thread run
 * here when the worker says they are due.
 *
 * Faults: those registered here (the local platform's `rtmp-server ...`, `http fail ...`) and
 * those inside the worker (wifi, camera, reboot) form one list (`faults.list()`); `faults.run()`
 * routes a fault to where it lives.
 *
 * Log records arrive one message each, in order, and go to the main-thread LogSink (terminal,
 * file, `--expect`, the web console).
 */
import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { StopReason } from '../../core/device';
import { FaultError, FaultRegistry, type FaultInfo } from '../../core/faults';
import type { LogKind, LogSink } from '../../core/log';
import type { DeviceProfile } from '../../core/profile';
import type { VmExit } from '../../core/vm/vm';
import type { DeviceStatus } from '../web/server';
import { absNow, createHeartbeatBuffer, readHeartbeat } from './heartbeat';
import { fromWireRecord, type FromWorker, type ToWorker, type WorkerData, type WorkerDeviceOptions } from './protocol';

/** Slack over the runaway budget before the supervisor ends a stuck VM thread. */
export const STUCK_SLACK_MS = 1500;
/** How long a stop request may take before the thread is terminated. */
export const STOP_GRACE_MS = 1000;
const POLL_MS = 200;
const TIMEOUT_BACKSTOP_MS = 300;

export interface DeviceHostOptions extends WorkerDeviceOptions {
  /** where the worker's records go (terminal, file, listeners) */
  log: LogSink;
  /** device time after the first boot at which `timeout` is emitted */
  timeoutMs?: number;
}

/** One fault list over the faults of this thread and those of the worker. */
export class HostFaults extends FaultRegistry {
  remote: FaultInfo[] = [];
  constructor(private readonly runRemote: (name: string, args: string[]) => Promise<void>) {
    super();
  }
  override has(name: string): boolean {
    return super.has(name) || this.remote.some((f) => f.name === name);
  }
  override list(): FaultInfo[] {
    const local = super.list();
    const names = new Set(local.map((f) => f.name));
    return [...this.remote.filter((f) => !names.has(f.name)), ...local];
  }
  /** the faults registered on this thread (not the worker's) */
  localList(): FaultInfo[] {
    return super.list();
  }
  override async run(name: string, args: string[] = []): Promise<void> {
    if (super.has(name)) return super.run(name, args);
    if (this.remote.some((f) => f.name === name)) return this.runRemote(name, args);
    const known = this.list().map((f) => f.name).join(', ') || 'none';
    throw new FaultError(`no fault '${name}' is available on this device (available: ${known})`);
  }
}

/** SIGKILL pids (process groups first: ffmpeg children are group leaders). */
export function killPids(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

export class DeviceHost extends EventEmitter {
  readonly profile: DeviceProfile;
  readonly logSink: LogSink;
  readonly faults: HostFaults;
  /** the coverage report the worker sent at the end (`coverage: true`) */
  coverageReport: string | null = null;
  private readonly opts: DeviceHostOptions;
  private worker: Worker | null = null;
  private hb: SharedArrayBuffer = createHeartbeatBuffer();
  private bootsSeen = 0;
  private lastStatus: DeviceStatus | null = null;
  private children: number[] = [];
  private poll: NodeJS.Timeout | null = null;
  private stoppedFlag = false;
  private muted = false;
  private timeoutSent = false;
  /** device time covered by earlier workers since the first boot (for the timeout) */
  private elapsedBefore = 0;
  private firstBootSeen = false;
  private faultSeq = 0;
  private readonly pendingFaults = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private finalWaiter: (() => void) | null = null;
  private generation = 0;
  /** indices of the --fault options that have started (a respawned worker skips them) */
  private readonly faultsStarted = new Set<number>();

  constructor(opts: DeviceHostOptions) {
    super();
    this.opts = opts;
    this.profile = opts.profile;
    this.logSink = opts.log;
    this.faults = new HostFaults((name, args) => this.runRemoteFault(name, args));
  }

  get boots(): number {
    return this.bootsSeen;
  }
  get stopped(): boolean {
    return this.stoppedFlag;
  }
  /** pids of the worker's child processes, as last reported */
  get childPids(): readonly number[] {
    return this.children;
  }

  /** ms since the current boot (from the heartbeat: fresh even while the VM is stuck) */
  uptime(): number {
    if (!this.worker) return 0;
    const u = readHeartbeat(this.hb).uptime;
    return Number.isFinite(u) ? u : 0;
  }

  /** The device panel's figures: the worker's last snapshot, boots and uptime from here. */
  status(): DeviceStatus {
    const base: DeviceStatus = this.lastStatus ?? { wifi: { state: 'unknown', ip: null }, rtmp: { state: null, stats: null }, boots: 0, memory: { lua: null, sys: null } };
    return { ...base, boots: this.bootsSeen, uptimeMs: Math.round(this.uptime()) };
  }

  /** Start the first worker. Resolves once it is spawned (boot happens asynchronously). */
  async start(): Promise<void> {
    if (this.stoppedFlag || this.worker) return;
    this.spawn();
    this.poll = setInterval(() => this.supervise(), POLL_MS);
  }

  /** Drop records that arrive from now on (the run has ended). */
  mute(): void {
    this.muted = true;
  }

  /** Like pressing reset (web console, fault injection). */
  reboot(reason = 'host reset'): void {
    this.send({ t: 'reboot', reason });
  }

  /**
   * Stop for good: ask the worker, terminate it after STOP_GRACE_MS (at once when it is stuck
   * in a Lua call), kill its children. Emits `stopped` (kind 'stopped') unless it already did.
   */
  async stop(): Promise<void> {
    const w = this.worker;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    if (w) {
      const hb = readHeartbeat(this.hb);
      if (hb.resumeMs < 250) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, STOP_GRACE_MS);
          this.finalWaiter = () => {
            clearTimeout(t);
            resolve();
          };
          this.send({ t: 'stop' });
        });
        this.finalWaiter = null;
      }
      await this.endWorker();
    }
    if (!this.stoppedFlag) {
      this.stoppedFlag = true;
      this.emit('stopped', { kind: 'stopped' } satisfies StopReason);
    }
  }

  // ------------------------------------------------------------------ worker lifecycle

  private spawn(): void {
    const gen = ++this.generation;
    this.hb = createHeartbeatBuffer();
    this.firstBootSeen = false;
    const timeoutMs = this.opts.timeoutMs !== undefined ? Math.max(0, this.opts.timeoutMs - this.elapsedBefore) : undefined;
    const { log: _log, timeoutMs: _t, ...wopts } = this.opts;
    // --fault: the ones not started yet, on this worker's clock (it starts at its first boot)
    const faults = (this.opts.faults ?? []).filter((f) => !this.faultsStarted.has(f.i)).map((f) => ({ ...f, atMs: Math.max(0, f.atMs - this.elapsedBefore) }));
    const hostFaults = this.faults.localList().map((f) => f.name);
    const data: WorkerData = { opts: { ...wopts, faults, hostFaults }, bootsBefore: this.bootsSeen, timeoutMs, heartbeat: this.hb };
    const w = new Worker(path.join(__dirname, 'device-worker.js'), { workerData: data, stdout: false, stderr: false });
    this.worker = w;
    w.on('message', (m: FromWorker) => {
      if (gen === this.generation) this.onMessage(m);
    });
    w.on('error', (e: Error) => {
      if (gen !== this.generation || this.stoppedFlag) return;
      this.firmwareLine('E', 'main', `device thread failed: ${e.message}`);
      this.deviceStopped({ kind: 'exit', exit: { kind: 'error', message: `device thread failed: ${e.message}` } });
    });
    w.on('exit', () => {
      if (gen !== this.generation) return;
      this.worker = null;
      this.rejectFaults('the device thread ended');
      this.finalWaiter?.();
    });
  }

  private async endWorker(): Promise<void> {
    const w = this.worker;
    this.generation++; // late messages of this worker are ignored from here on
    this.worker = null;
    this.rejectFaults('the device thread ended');
    if (w) await w.terminate().catch(() => undefined);
    killPids(this.children);
    this.children = [];
  }

  private send(m: ToWorker): void {
    try {
      this.worker?.postMessage(m);
    } catch {
      /* the worker is gone */
    }
  }

  private onMessage(m: FromWorker): void {
    switch (m.t) {
      case 'log':
        if (!this.muted) this.logSink.write(fromWireRecord(m.r));
        break;
      case 'boot':
        this.bootsSeen = m.n;
        this.firstBootSeen = true;
        this.emit('boot', m.n);
        break;
      case 'vmexit':
        this.emit('vmexit', m.x, m.boot);
        break;
      case 'stopped':
        this.deviceStopped(m.r);
        break;
      case 'faults':
        this.faults.remote = m.list;
        break;
      case 'status':
        this.lastStatus = m.s;
        break;
      case 'children':
        this.children = m.pids;
        break;
      case 'timeout':
        this.fireTimeout();
        break;
      case 'fault-result': {
        const p = this.pendingFaults.get(m.id);
        if (!p) break;
        this.pendingFaults.delete(m.id);
        if (m.error === undefined) p.resolve();
        else p.reject(m.faultError ? new FaultError(m.error) : new Error(m.error));
        break;
      }
      case 'start-error':
        this.emit('start-error', new Error(m.message));
        break;
      case 'usage-error':
        this.emit('usage-error', m.message);
        break;
      case 'fault-at': {
        if (m.phase === 'start') this.faultsStarted.add(m.i);
        const f = this.opts.faults?.find((x) => x.i === m.i);
        if (f) this.emit('scheduled-fault', { fault: f, phase: m.phase, error: m.error });
        break;
      }
      case 'fault-host': {
        const f = this.opts.faults?.find((x) => x.i === m.i);
        const id = m.id;
        const done = () => this.send({ t: 'fault-host-done', id });
        if (!f) {
          done();
          break;
        }
        this.faults.run(f.name, f.args).then(
          () => {
            done();
            this.emit('scheduled-fault', { fault: f, phase: 'done' });
          },
          (e: Error) => {
            done();
            this.emit('scheduled-fault', { fault: f, phase: 'error', error: e.message });
          },
        );
        break;
      }
      case 'final':
        this.coverageReport = m.coverage;
        this.finalWaiter?.();
        break;
    }
  }

  private deviceStopped(r: StopReason): void {
    if (this.stoppedFlag) return;
    this.stoppedFlag = true;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    this.emit('stopped', r);
  }

  private fireTimeout(): void {
    if (this.timeoutSent) return;
    this.timeoutSent = true;
    this.emit('timeout');
  }

  private runRemoteFault(name: string, args: string[]): Promise<void> {
    if (!this.worker) return Promise.reject(new FaultError('the device is not running'));
    const busy = readHeartbeat(this.hb).resumeMs;
    // a VM stuck in one call cannot take it; the supervisor ends such a VM after its budget
    if (busy > 1000) return Promise.reject(new FaultError(`the device does not answer: its VM has been in one Lua call for ${Math.round(busy)} ms`));
    const id = ++this.faultSeq;
    return new Promise<void>((resolve, reject) => {
      this.pendingFaults.set(id, { resolve, reject });
      this.send({ t: 'fault', id, name, args });
    });
  }

  private rejectFaults(why: string): void {
    for (const p of this.pendingFaults.values()) p.reject(new FaultError(why));
    this.pendingFaults.clear();
  }

  /** A firmware line written by the supervisor (the worker cannot write it any more). */
  private firmwareLine(level: Exclude<LogKind, 'U'>, module: string, message: string): void {
    if (this.muted) return;
    this.logSink.write({ kind: level, ms: this.uptime(), wall: Date.now(), module, payload: Buffer.from(message), boot: this.bootsSeen });
  }

  // ------------------------------------------------------------------ supervision

  private supervise(): void {
    if (this.stoppedFlag || !this.worker) return;
    const now = absNow();
    const hb = readHeartbeat(this.hb, now);
    if (this.opts.timeoutMs !== undefined && this.firstBootSeen && !this.timeoutSent) {
      const elapsed = this.elapsedBefore + hb.sinceFirstBoot;
      if (elapsed > this.opts.timeoutMs + TIMEOUT_BACKSTOP_MS) return this.fireTimeout();
    }
    const budget = Number.isFinite(hb.budgetMs) && hb.budgetMs > 0 ? hb.budgetMs : this.profile.runawayMs;
    if (hb.resumeMs > budget + STUCK_SLACK_MS) void this.stuck(budget, hb.uptime);
  }

  /** The VM thread is stuck in one Lua call: end it as the hardware watchdog would. */
  private async stuck(budget: number, uptime: number): Promise<void> {
    const boot = this.bootsSeen;
    const message = `watchdog: Lua code ran for more than ${budget} ms without yielding (stuck in one call; the VM thread was ended)`;
    if (this.firstBootSeen) this.elapsedBefore += readHeartbeat(this.hb).sinceFirstBoot;
    await this.endWorker();
    if (this.stoppedFlag) return;
    const line = (level: 'E' | 'W', module: string, text: string) => {
      if (!this.muted) this.logSink.write({ kind: level, ms: uptime, wall: Date.now(), module, payload: Buffer.from(text), boot });
    };
    line('E', 'wdt', message);
    line('E', 'main', 'watchdog reset, rebooting');
    const exit: VmExit = { kind: 'watchdog', message };
    this.emit('vmexit', exit, boot);
    if (this.stoppedFlag) return;
    if (this.opts.reboot === 'exit') return this.deviceStopped({ kind: 'exit', exit });
    const max = this.opts.maxBoots;
    if (max > 0 && boot >= max) {
      line('W', 'main', `boot limit reached (--max-boots ${max}), not rebooting`);
      return this.deviceStopped({ kind: 'max-boots', exit });
    }
    this.spawn();
  }
}
