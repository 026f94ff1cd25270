/**
 * The `fleet:` section of a scenario: N more devices running the scenario's scripts (or their
 * own) next to the scenario's device, in the same process and on the SAME clock (a virtual clock
 * moves all of them together), each its own Device — name, MAC (device id), state folder, Lua
 * state, Wi-Fi station, log — as `luatos fleet` makes them (runtime/host/fleet/names.ts).
 * Devices with equal camera settings share one ffmpeg encoder (CameraPool).
 *
 *   fleet:
 *     devices: 20             # 1..1000 in a scenario
 *     name-prefix: node       # default dev
 *     stagger: 100ms          # between two boots (device time)
 *     scripts: ../other       # optional: another script folder (relative to the scenario)
 *
 * Steps that act on it (runtime/host/scenario/runner.ts):
 *   - fleet-expect: P [within: D]     every fleet device must have logged a line matching P
 *                                     (since its first boot); within → fail after D
 *   - fleet-fault: wifi down [percent: 10]   a device fault on the first ceil(N × percent / 100)
 *                                     devices (all without percent); deterministic, so a failing
 *                                     run can be repeated. The platform's faults (rtmp-server,
 *                                     http) act on the platform, not on devices: they stay
 *                                     ordinary steps (`rtmp-server: kill`) and hit the fleet too.
 */
import * as path from 'node:path';
import type { Clock } from '../../core/clock';
import { Device } from '../../core/device';
import { createBoardDevice } from '../../boards/device';
import { LogSink } from '../../core/log';
import type { DeviceProfile } from '../../core/profile';
import type { EngineName } from '../../core/device';
import { getBoard } from '../../boards';
import { CAMERA_POOL_KEY, CameraPool } from '../../media/camera/camera-pool';
import { fleetMembers, fleetProfile, type FleetMember } from '../fleet/names';
import { makeLogLine, matches, type LinePattern, type LogLine } from './pattern';

export const SCENARIO_FLEET_MAX = 1000;
/** lines kept per fleet device for fleet-expect (older ones are dropped; matches are remembered) */
const KEPT_LINES = 2000;

export interface ScenarioFleetOptions {
  devices: number;
  prefix: string;
  staggerMs: number;
  scripts: string;
  engine: EngineName;
  board?: string;
  profile: DeviceProfile;
  wifi: string[];
  map: string[];
  clock: Clock;
  dataDir: string;
}

interface Member extends FleetMember {
  device: Device;
  lines: LogLine[];
  /** patterns (by source) this device has matched */
  seen: Set<string>;
}

export class ScenarioFleet {
  readonly members: Member[] = [];
  private readonly pool = new CameraPool();
  private readonly watching = new Map<string, LinePattern>();
  private listeners = new Set<() => void>();

  constructor(private readonly o: ScenarioFleetOptions) {
    const board = getBoard(o.board);
    const shared = new Map<string, unknown>([[CAMERA_POOL_KEY, this.pool]]);
    for (const m of fleetMembers(o.prefix, o.devices)) {
      const profile = fleetProfile(o.profile, m);
      const sink = new LogSink({ stream: null });
      const device = createBoardDevice(board, {
        scripts: o.scripts,
        engine: o.engine,
        profile,
        log: sink,
        dataDir: path.join(o.dataDir, m.name, 'fs'),
        reboot: 'restart',
        clock: o.clock,
        net: { wifi: o.wifi, map: o.map, mac: m.mac },
        shared,
      });
      const mem: Member = { ...m, device, lines: [], seen: new Set() };
      sink.on((r) => {
        const l = makeLogLine(r, mem.lines.length + 1, 0);
        mem.lines.push(l);
        if (mem.lines.length > KEPT_LINES) mem.lines.splice(0, mem.lines.length - KEPT_LINES);
        let hit = false;
        for (const [k, p] of this.watching) {
          if (!mem.seen.has(k) && matches(p, l)) {
            mem.seen.add(k);
            hit = true;
          }
        }
        if (hit) for (const fn of this.listeners) fn();
      });
      this.members.push(mem);
    }
  }

  /** Boot every device, `staggerMs` of device time apart. */
  start(onError: (name: string, e: Error) => void): void {
    this.members.forEach((m, k) => {
      this.o.clock.setTimer(k * this.o.staggerMs, () => {
        // the engine comes from a promise (real time): a virtual clock must not run ahead
        // meanwhile, or every device would boot at the same device time
        const release = this.o.clock.hold(`fleet device ${m.name} boots`);
        m.device
          .start()
          .catch((e: Error) => onError(m.name, e))
          .finally(release);
      });
    });
  }

  /** Names of the devices that have not logged a line matching `p` (kept lines and since watched). */
  missing(p: LinePattern): string[] {
    const k = this.key(p);
    if (!this.watching.has(k)) {
      this.watching.set(k, p);
      for (const m of this.members) if (m.lines.some((l) => matches(p, l))) m.seen.add(k);
    }
    return this.members.filter((m) => !m.seen.has(k)).map((m) => m.name);
  }

  /** Call `fn` whenever a device newly matches a watched pattern; returns the unsubscribe. */
  onMatch(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The first ceil(N × percent / 100) devices (all when percent is undefined). */
  select(percent?: number): Member[] {
    if (percent === undefined) return this.members;
    return this.members.slice(0, Math.ceil((this.members.length * percent) / 100));
  }

  async runFault(fault: string, args: string[], percent?: number): Promise<string[]> {
    const errors: string[] = [];
    await Promise.all(this.select(percent).map((m) => m.device.faults.run(fault, args).catch((e: Error) => void errors.push(`${m.name}: ${e.message}`))));
    return errors;
  }

  dispose(): void {
    for (const m of this.members) m.device.dispose();
    void this.pool.closeAll();
    this.listeners.clear();
  }

  private key(p: LinePattern): string {
    return `${p.source}\u0000${p.level ?? ''}\u0000${p.tag ?? ''}`;
  }
}
