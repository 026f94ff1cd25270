/**
 * Scenario setup: the local platform (`platform: local`), the scratch data folder, and the
 * device on the scenario's board (profile from the board and the scenario's `profile:` and
 * `camera:`, network from `wifi:`/`map:` and the platform's host rules), plus the fleet of a
 * `fleet:` scenario. The device is built as `luatos run`'s is (createBoardDevice, withMapRules).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Clock } from '../../core/clock';
import type { Device } from '../../core/device';
import { createBoardDevice } from '../../boards/device';
import { LogSink } from '../../core/log';
import { boardProfile, DEFAULT_BOARD, getBoard } from '../../boards';
import { withMapRules } from '../util/map-rules';
import { loadPlatformFactory, LocalPlatform, type PlatformFactory } from './platform';
import type { Scenario } from './schema';
import { ScenarioFleet } from './fleet';

export interface RunScenarioOptions {
  /** run against this script folder instead of the scenario's `scripts` (e.g. a modified copy) */
  scripts?: string;
  /** override the scenario's engine / clock */
  engine?: Scenario['options']['engine'];
  clock?: 'virtual' | 'real';
  /** stream the device log here as it runs (default: nowhere) */
  logStream?: NodeJS.WritableStream | null;
  /** also write the whole device log (Luatools format) to this file */
  logFile?: string;
  /** called once the device exists, before it boots (register test faults, ...) */
  onDevice?: (device: Device) => void | Promise<void>;
  /** where `platform: local` comes from (default: runtime/host/platform's startLocalPlatform) */
  platformFactory?: PlatformFactory;
}

/** What a scenario runs on. */
export interface ScenarioRig {
  device: Device;
  fleet: ScenarioFleet | null;
  sink: LogSink;
  /** stop the live log stream (teardown lines of a stopping device stay out of it) */
  closeStream(): void;
}

/** The local platform when the scenario asks for it (else null); throws when it cannot start. */
export async function startScenarioPlatform(sc: Scenario, opts: RunScenarioOptions): Promise<LocalPlatform | null> {
  if (sc.options.platform !== 'local') return null;
  const factory = opts.platformFactory ?? loadPlatformFactory();
  return await factory({ ...sc.options.platformOptions });
}

/** A scratch folder for the device's file system, and its removal (with the platform's stop). */
export function scenarioScratch(platform: LocalPlatform | null): { dataDir: string; cleanup: () => Promise<void> } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-scenario-'));
  const cleanup = async () => {
    try {
      await platform?.stop();
    } catch {
      /* stopping must go on */
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  return { dataDir, cleanup };
}

/** The live log stream, gated: once closed, nothing more goes to it. */
function gatedStream(live: NodeJS.WritableStream | null): { stream: NodeJS.WritableStream | null; close: () => void } {
  let open = true;
  const stream = live ? ({ write: (b: Buffer | string) => (open ? live.write(b) : true) } as unknown as NodeJS.WritableStream) : null;
  return { stream, close: () => void (open = false) };
}

/** Build the scenario's device (and fleet); throws with a readable message. */
export async function setupScenarioDevice(
  sc: Scenario,
  opts: RunScenarioOptions,
  s: { engine: Scenario['options']['engine']; clock: Clock; platform: LocalPlatform | null; dataDir: string },
): Promise<ScenarioRig> {
  const profileOver: Record<string, unknown> = { ...sc.profile };
  if (sc.options.camera) profileOver.camera = { ...((sc.profile.camera as Record<string, unknown>) ?? {}), ...sc.options.camera };
  const board = getBoard(sc.options.board ?? DEFAULT_BOARD);
  const profile = boardProfile(board, profileOver);
  const net = withMapRules({ wifi: sc.options.wifi, map: sc.options.map }, s.platform ? s.platform.mapRules() : []);
  const gate = gatedStream(opts.logStream ?? null);
  const sink = new LogSink({ stream: gate.stream, file: opts.logFile, color: false });
  const scriptsDir = opts.scripts ? path.resolve(opts.scripts) : sc.scriptsDir;
  if (!fs.existsSync(scriptsDir) || !fs.statSync(scriptsDir).isDirectory()) throw new Error(`script folder not found: ${scriptsDir}`);
  const device = createBoardDevice(board, {
    scripts: scriptsDir,
    engine: s.engine,
    profile,
    log: sink,
    dataDir: path.join(s.dataDir, 'fs'),
    reboot: 'restart',
    maxBoots: sc.options.maxBoots,
    clock: s.clock,
    net,
  });
  s.platform?.registerFaults(device.faults);
  const fleet = sc.fleet
    ? new ScenarioFleet({
        devices: sc.fleet.devices,
        prefix: sc.fleet.prefix,
        staggerMs: sc.fleet.staggerMs,
        scripts: sc.fleet.scriptsDir ?? scriptsDir,
        engine: s.engine,
        board: board.name,
        profile,
        wifi: sc.options.wifi,
        map: net.map ?? [],
        clock: s.clock,
        dataDir: path.join(s.dataDir, 'fleet'),
      })
    : null;
  await opts.onDevice?.(device);
  return { device, fleet, sink, closeStream: gate.close };
}
