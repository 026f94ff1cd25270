/**
 * One board's Device built inside a worker thread from structured-cloned options: the device
 * worker (`luatos run`) and the fleet worker (many devices a thread) build theirs the same way.
 */
import type { Device } from '../../core/device';
import { RealClock, VirtualClock } from '../../core/clock';
import type { LogSink } from '../../core/log';
import { getBoard } from '../../boards';
import { createBoardDevice } from '../../boards/device';
import type { WorkerDeviceOptions } from './protocol';

export interface WorkerBoardDeviceOptions
  extends Pick<WorkerDeviceOptions, 'board' | 'scripts' | 'libDirs' | 'engine' | 'profile' | 'dataDir' | 'reboot' | 'maxBoots' | 'clock' | 'net'> {
  log: LogSink;
  coverage?: boolean;
  /** objects shared by the devices of one thread (fleet: camera pool, encoders) */
  shared?: Map<string, unknown>;
  isolatedEngine?: boolean;
}

/** The Device with the board's network and setup applied; throws (an Error with a message) on bad options. */
export function buildBoardDevice(o: WorkerBoardDeviceOptions): Device {
  return createBoardDevice(getBoard(o.board), {
    scripts: o.scripts,
    libDirs: o.libDirs,
    engine: o.engine,
    profile: o.profile,
    log: o.log,
    dataDir: o.dataDir,
    reboot: o.reboot,
    maxBoots: o.maxBoots,
    clock: o.clock === 'virtual' ? new VirtualClock() : new RealClock(),
    coverage: o.coverage,
    net: o.net,
    shared: o.shared,
    isolatedEngine: o.isolatedEngine,
  });
}
