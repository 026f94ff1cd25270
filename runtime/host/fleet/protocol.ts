/**
 * Messages between a fleet worker (fleet-worker.ts: many Devices in one thread) and the fleet
 * host on the main thread (fleet-host.ts). Everything survives structured cloning. Devices are
 * named by their fleet-wide index (`d`).
 */
import type { FaultInfo } from '../../core/faults';
import type { StopReason } from '../../core/device';
import type { VmExit } from '../../core/device';
import type { WireRecord, WorkerDeviceOptions } from '../worker/protocol';
import type { DeviceRowFigures } from '../status';

/** One device of a worker. */
export interface FleetWorkerDevice {
  index: number;
  name: string;
  mac: string;
  /** its state folder's file system (`<state>/<name>/fs`) */
  dataDir: string;
  /** wall ms after the worker started at which it boots (--stagger) */
  bootAtMs: number;
}

/**
 * What a fleet worker builds its devices from: the options a single device's worker takes
 * (worker/protocol.ts), shared by all its devices (`profile` is the common one: name and
 * network.mac are set per device), and the fleet's own.
 */
export interface FleetWorkerData extends Pick<WorkerDeviceOptions, 'board' | 'scripts' | 'libDirs' | 'engine' | 'profile' | 'reboot' | 'maxBoots' | 'clock' | 'net'> {
  /** share one ffmpeg encoder between devices whose camera source and settings are equal */
  shareCamera: boolean;
  /** one engine instance per device instead of one per thread (for measuring; bench:fleet) */
  isolatedEngines?: boolean;
  /** post table rows once a second */
  status: boolean;
  devices: FleetWorkerDevice[];
  /** device time after the first boot of the worker's first device at which it reports 'timeout' */
  timeoutMs?: number;
  /** the worker's heartbeat (only RESUME_SINCE is used: is a Lua call running, and since when) */
  heartbeat: SharedArrayBuffer;
}

/** One row of the fleet table (web console, `fleet.status()`): the device's figures (status.ts) and its place in the fleet. */
export interface FleetRow extends Omit<DeviceRowFigures, 'encoderKey'> {
  index: number;
  name: string;
  mac: string;
  /** the last E line (text), null when none */
  lastError: string | null;
  /** the shared encoder this device takes frames from (its key), null: none / its own */
  encoder: string | null;
}

export type FromFleetWorker =
  /** log records: [device index, record] in order */
  | { t: 'logs'; items: Array<[number, WireRecord]> }
  | { t: 'boot'; d: number; n: number }
  | { t: 'vmexit'; d: number; x: VmExit; boot: number }
  | { t: 'stopped'; d: number; r: StopReason }
  | { t: 'faults'; list: FaultInfo[] }
  | { t: 'rows'; rows: FleetRow[] }
  | { t: 'children'; pids: number[] }
  | { t: 'timeout' }
  | { t: 'fault-result'; id: number; errors: Array<[number, string]> }
  | { t: 'start-error'; message: string }
  | { t: 'encoders'; n: number }
  | { t: 'final' };

export type ToFleetWorker =
  | { t: 'fault'; id: number; devices: number[]; name: string; args: string[] }
  | { t: 'reboot'; devices: number[]; reason: string }
  | { t: 'stop' };
