/**
 * Messages between the device worker (runtime/host/worker/device-worker.ts) and its main-thread proxy
 * (runtime/host/worker/device-host.ts). Everything here survives structured cloning: plain objects,
 * strings, numbers, Uint8Array.
 */
import type { EngineName } from '../../core/engine';
import type { FaultInfo } from '../../core/faults';
import type { LogKind, LogRecord } from '../../core/log';
import type { DeviceProfile } from '../../core/profile';
import type { NetworkCliOptions } from '../../net/options';
import type { StopReason } from '../../core/device';
import type { VmExit } from '../../core/vm/vm';
import type { DeviceStatus } from '../web/server';

/** What the worker needs to build the Device (the serialisable half of DeviceOptions). */
export interface WorkerDeviceOptions {
  /** the board's name (runtime/boards; default air8101): its network and setup are applied in the worker */
  board?: string;
  scripts: string | string[];
  libDirs: string[];
  engine: EngineName;
  profile: DeviceProfile;
  dataDir: string;
  reboot: 'restart' | 'exit';
  maxBoots: number;
  clock: 'real' | 'virtual';
  coverage: boolean;
  /** network flags; `map` already holds the local platform's rules */
  net: NetworkCliOptions;
  /** push a status snapshot (web console device panel) once a second */
  status: boolean;
  /**
   * `--fault AT NAME ARGS...`: faults to run at device times after the first boot (this
   * worker's first boot: a respawned worker gets the ones not yet started, shifted)
   */
  faults?: ScheduledFault[];
  /** names of the faults registered on the main thread (the local platform's): known, run there */
  hostFaults?: string[];
}

/** One `--fault` of `luatos run` (runtime/host/cli/args.ts parseFaultSpec). */
export interface ScheduledFault {
  /** its index among the run's --fault options */
  i: number;
  /** device time after the first boot, ms */
  atMs: number;
  name: string;
  args: string[];
  /** the option's text, for messages */
  text: string;
}

export interface WorkerData {
  opts: WorkerDeviceOptions;
  /** boots before this worker (a previous worker was ended by the supervisor) */
  bootsBefore: number;
  /** device time after this worker's first boot at which it reports 'timeout' */
  timeoutMs?: number;
  heartbeat: SharedArrayBuffer;
}

export interface WireRecord {
  kind: LogKind;
  ms: number;
  wall: number;
  module?: string;
  payload: Uint8Array;
  boot: number;
}

export function toWireRecord(r: LogRecord): WireRecord {
  // a copy of exactly the payload (a pooled Buffer's view would clone its whole 8 KB slab)
  return { kind: r.kind, ms: r.ms, wall: r.wall, module: r.module, payload: new Uint8Array(r.payload), boot: r.boot };
}

export function fromWireRecord(w: WireRecord): LogRecord {
  return { kind: w.kind, ms: w.ms, wall: w.wall, module: w.module, payload: Buffer.from(w.payload.buffer, w.payload.byteOffset, w.payload.byteLength), boot: w.boot };
}

export type FromWorker =
  | { t: 'log'; r: WireRecord }
  | { t: 'boot'; n: number }
  | { t: 'vmexit'; x: VmExit; boot: number }
  | { t: 'stopped'; r: StopReason }
  | { t: 'faults'; list: FaultInfo[] }
  | { t: 'status'; s: DeviceStatus }
  | { t: 'children'; pids: number[] }
  | { t: 'timeout' }
  | { t: 'fault-result'; id: number; error?: string; faultError?: boolean }
  | { t: 'start-error'; message: string }
  | { t: 'final'; coverage: string | null }
  /** a scheduled --fault: started, done, or failed (`error`) */
  | { t: 'fault-at'; i: number; phase: 'start' | 'done' | 'error'; error?: string }
  /** a scheduled --fault that lives on the main thread is due: run it, answer 'fault-host-done' */
  | { t: 'fault-host'; id: number; i: number }
  /** a --fault names a fault this device does not have (checked at the first boot, before the script runs) */
  | { t: 'usage-error'; message: string };

export type ToWorker =
  | { t: 'fault'; id: number; name: string; args: string[] }
  | { t: 'reboot'; reason: string }
  | { t: 'stop' }
  | { t: 'fault-host-done'; id: number };
