/**
 * The main-thread side of a fleet: spawns the fleet workers (fleet-worker.ts), hands each a
 * slice of the devices, collects their logs into a FleetLog and their table rows, routes faults
 * and reboots to the right worker, and stops everything within STOP_GRACE_MS (+ the terminate).
 *
 * Workers: `workers` threads (default 1). Device k of the process goes to worker
 * floor(k * W / N) (contiguous slices), and boots at k * staggerMs after the start. One worker
 * holds one engine instance shared by its devices; more workers use more cores and more memory
 * (bench:fleet measures both).
 *
 * Faults: the device faults (wifi, camera, reboot ...) run on a selection of devices; the host
 * faults (the local platform's `rtmp-server`, `http`, registered on `hostFaults`) run once here.
 *
 * Events: 'boot' (d, n), 'vmexit' (d, exit, boot), 'stopped' (d, reason), 'all-stopped',
 * 'timeout', 'start-error' (Error), 'rows' (FleetRow[] of every device, once a second when
 * `status` is on).
 */
import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { StopReason } from '../../core/device';
import { FaultError, FaultRegistry, type FaultInfo } from '../../core/faults';
import type { LogRecord } from '../../core/log';
import { killPids } from '../worker/device-host';
import { absNow, createHeartbeatBuffer } from '../worker/heartbeat';
import { fromWireRecord } from '../worker/protocol';
import type { FleetMember } from './names';
import type { FleetRow, FleetWorkerData, FromFleetWorker, ToFleetWorker } from './protocol';

// path: the compiled fleet worker script next to this file (dist/runtime/host/fleet/fleet-worker.js)
const FLEET_WORKER_SCRIPT = path.join(__dirname, 'fleet-worker.js');

export const FLEET_STOP_GRACE_MS = 1000;

export interface FleetHostOptions extends Omit<FleetWorkerData, 'devices' | 'heartbeat' | 'timeoutMs'> {
  members: FleetMember[];
  /** state folder of the fleet: device `name` keeps its file system in `<stateDir>/<name>/fs` */
  stateDir: string;
  staggerMs: number;
  workers: number;
  timeoutMs?: number;
  /** where records go */
  onLog: (d: number, r: LogRecord) => void;
}

interface WorkerSlot {
  worker: Worker | null;
  hb: SharedArrayBuffer;
  devices: number[];
  children: number[];
  finalWaiter: (() => void) | null;
  ended: boolean;
}

export class FleetHost extends EventEmitter {
  /** faults that live on this thread (the local platform's) */
  readonly hostFaults = new FaultRegistry();
  /** the device faults (the first device's list; every device of a board has the same) */
  deviceFaults: FaultInfo[] = [];
  readonly boots = new Map<number, number>();
  readonly stoppedDevices = new Map<number, StopReason>();
  readonly rows = new Map<number, FleetRow>();
  readonly names: Map<number, string>;
  /** shared encoders running, per worker (sum: encoders()) */
  private readonly encoderCounts = new Map<number, number>();
  private readonly slots: WorkerSlot[] = [];
  private readonly slotOf = new Map<number, WorkerSlot>();
  private faultSeq = 0;
  private readonly pending = new Map<number, { left: number; errors: Array<[number, string]>; resolve: (e: Array<[number, string]>) => void }>();
  private stopping: Promise<void> | null = null;
  private timeoutSent = false;

  constructor(private readonly opts: FleetHostOptions) {
    super();
    this.names = new Map(opts.members.map((m) => [m.index, m.name]));
  }

  get size(): number {
    return this.opts.members.length;
  }

  /** shared ffmpeg encoders running now (all workers) */
  encoders(): number {
    let n = 0;
    for (const v of this.encoderCounts.values()) n += v;
    return n;
  }

  /** pids of every child process the workers reported (ffmpeg encoders) */
  childPids(): number[] {
    return this.slots.flatMap((s) => s.children);
  }

  indexOf(name: string): number | undefined {
    for (const [i, n] of this.names) if (n === name) return i;
    return undefined;
  }

  start(): void {
    const o = this.opts;
    const n = o.members.length;
    const w = Math.max(1, Math.min(o.workers, n || 1));
    const groups: FleetMember[][] = Array.from({ length: w }, () => []);
    o.members.forEach((m, k) => groups[Math.floor((k * w) / Math.max(1, n))].push(m));
    let k = 0;
    for (let wi = 0; wi < w; wi++) {
      const devs = groups[wi].map((m) => ({ index: m.index, name: m.name, mac: m.mac, dataDir: path.join(o.stateDir, m.name, 'fs'), bootAtMs: k++ * o.staggerMs }));
      const hb = createHeartbeatBuffer();
      new Float64Array(hb)[0] = 0;
      const data: FleetWorkerData = {
        board: o.board,
        scripts: o.scripts,
        libDirs: o.libDirs,
        engine: o.engine,
        profile: o.profile,
        reboot: o.reboot,
        maxBoots: o.maxBoots,
        clock: o.clock,
        net: o.net,
        shareCamera: o.shareCamera,
        isolatedEngines: o.isolatedEngines,
        status: o.status,
        devices: devs,
        timeoutMs: wi === 0 ? o.timeoutMs : undefined,
        heartbeat: hb,
      };
      const slot: WorkerSlot = { worker: null, hb, devices: devs.map((d) => d.index), children: [], finalWaiter: null, ended: false };
      const worker = new Worker(FLEET_WORKER_SCRIPT, { workerData: data, stdout: false, stderr: false });
      slot.worker = worker;
      worker.on('message', (m: FromFleetWorker) => this.onMessage(wi, slot, m));
      worker.on('error', (e: Error) => {
        if (this.stopping) return;
        this.emit('start-error', new Error(`fleet thread ${wi} failed: ${e.message}`));
      });
      worker.on('exit', () => {
        slot.worker = null;
        slot.ended = true;
        slot.finalWaiter?.();
        for (const [id, p] of this.pending) {
          // devices of a gone worker cannot answer
          p.left--;
          if (p.left <= 0) {
            this.pending.delete(id);
            p.resolve(p.errors);
          }
        }
      });
      this.slots.push(slot);
      for (const d of slot.devices) this.slotOf.set(d, slot);
    }
  }

  private onMessage(wi: number, slot: WorkerSlot, m: FromFleetWorker): void {
    switch (m.t) {
      case 'logs':
        if (this.stopping) break;
        for (const [d, w] of m.items) this.opts.onLog(d, fromWireRecord(w));
        break;
      case 'boot':
        this.boots.set(m.d, m.n);
        this.emit('boot', m.d, m.n);
        break;
      case 'vmexit':
        this.emit('vmexit', m.d, m.x, m.boot);
        break;
      case 'stopped':
        this.stoppedDevices.set(m.d, m.r);
        this.emit('stopped', m.d, m.r);
        if (this.stoppedDevices.size === this.size) this.emit('all-stopped');
        break;
      case 'faults':
        this.deviceFaults = m.list;
        break;
      case 'rows':
        for (const r of m.rows) this.rows.set(r.index, r);
        this.emit('rows');
        break;
      case 'encoders':
        this.encoderCounts.set(wi, m.n);
        break;
      case 'children':
        slot.children = m.pids;
        break;
      case 'timeout':
        if (!this.timeoutSent) {
          this.timeoutSent = true;
          this.emit('timeout');
        }
        break;
      case 'fault-result': {
        const p = this.pending.get(m.id);
        if (!p) break;
        p.errors.push(...m.errors);
        if (--p.left <= 0) {
          this.pending.delete(m.id);
          p.resolve(p.errors);
        }
        break;
      }
      case 'start-error':
        this.emit('start-error', new Error(m.message));
        break;
      case 'final':
        slot.finalWaiter?.();
        break;
    }
  }

  /** Every fault name a selection can run (device faults and host faults). */
  faultList(): FaultInfo[] {
    const local = this.hostFaults.list();
    const names = new Set(local.map((f) => f.name));
    return [...this.deviceFaults.filter((f) => !names.has(f.name)), ...local];
  }

  /**
   * Run a fault: a host fault once (the selection does not matter), a device fault on every
   * selected device. Resolves with the per-device errors ([index, message]); rejects with a
   * FaultError for an unknown fault.
   */
  async runFault(devices: readonly number[], name: string, args: string[] = []): Promise<Array<[number, string]>> {
    if (this.hostFaults.has(name)) {
      await this.hostFaults.run(name, args);
      return [];
    }
    if (!this.deviceFaults.some((f) => f.name === name)) {
      const known = this.faultList().map((f) => f.name).join(', ') || 'none yet (no device has booted)';
      throw new FaultError(`no fault '${name}' in this fleet (available: ${known})`);
    }
    const bySlot = new Map<WorkerSlot, number[]>();
    for (const d of devices) {
      const s = this.slotOf.get(d);
      if (!s || !s.worker) continue;
      let l = bySlot.get(s);
      if (!l) bySlot.set(s, (l = []));
      l.push(d);
    }
    if (bySlot.size === 0) return [];
    const id = ++this.faultSeq;
    return new Promise((resolve) => {
      this.pending.set(id, { left: bySlot.size, errors: [], resolve });
      for (const [s, l] of bySlot) this.send(s, { t: 'fault', id, devices: l, name, args });
    });
  }

  reboot(devices: readonly number[], reason = 'host reset'): void {
    const bySlot = new Map<WorkerSlot, number[]>();
    for (const d of devices) {
      const s = this.slotOf.get(d);
      if (!s) continue;
      let l = bySlot.get(s);
      if (!l) bySlot.set(s, (l = []));
      l.push(d);
    }
    for (const [s, l] of bySlot) this.send(s, { t: 'reboot', devices: l, reason });
  }

  private send(s: WorkerSlot, m: ToFleetWorker): void {
    try {
      s.worker?.postMessage(m);
    } catch {
      /* gone */
    }
  }

  /**
   * Stop every device: ask each worker, terminate it after FLEET_STOP_GRACE_MS (at once when a
   * Lua call of it has run for more than 250 ms: a stuck VM cannot answer), kill the children.
   */
  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    await Promise.all(
      this.slots.map(async (s) => {
        const w = s.worker;
        if (!w) return;
        const since = new Float64Array(s.hb)[0];
        const stuck = since > 0 && absNow() - since > 250;
        if (!stuck) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, FLEET_STOP_GRACE_MS);
            s.finalWaiter = () => {
              clearTimeout(t);
              resolve();
            };
            this.send(s, { t: 'stop' });
          });
          s.finalWaiter = null;
        }
        await w.terminate().catch(() => undefined);
        killPids(s.children);
        s.children = [];
      }),
    );
  }
}
