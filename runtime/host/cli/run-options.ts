/**
 * What `luatos run` (main.ts) and `luatos fleet` (fleet.ts) share: the parsed options that apply
 * to every device, and the profile they build from them. Its own module so that fleet.ts needs no
 * import of main.ts (main.ts imports fleet.ts).
 */
import * as fs from 'node:fs';
import type { EngineName } from '../../core/device';
import type { LogLevel } from '../../core/log';
import { loadProfileFile, type DeviceProfile } from '../../core/profile';
import type { NetworkCliOptions } from '../../net/options';
import { boardProfile, DEFAULT_BOARD, getBoard, type Board } from '../../boards';
import { UsageError } from '../util/usage-error';
import { LocalPlatform, startLocalPlatform } from '../platform';

/** The options of `luatos run` that a fleet takes too (main.ts RunOptions adds one device's own). */
export interface RunCommonOptions {
  targets: string[];
  /** --board NAME (runtime/boards/); default air8101 */
  board?: string;
  engine: EngineName;
  libDirs: string[];
  profileFile?: string;
  stateDir?: string;
  logLevel: LogLevel;
  format: 'text' | 'jsonl';
  timeoutSec?: number;
  expect: string[];
  fail: string[];
  reboot: 'restart' | 'exit';
  maxBoots: number;
  runawayMs?: number;
  clock: 'real' | 'virtual';
  net: NetworkCliOptions;
  camera?: string;
  platform: 'local' | 'none';
  platformConfig?: string;
  web?: number;
  webHost?: string;
}

/**
 * The board and the device profile of a run: defaults < board preset < --profile FILE < the
 * options (--name, --runaway-ms, --camera). Checks the --lib folders first; throws UsageError.
 */
export function runProfile(o: RunCommonOptions & { name?: string }): { board: Board; profile: DeviceProfile } {
  for (const d of o.libDirs) if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) throw new UsageError(`--lib folder not found: ${d}`);
  const fileProfile = o.profileFile ? loadProfileFile(o.profileFile) : {};
  const overrides: Record<string, unknown> = {};
  if (o.name) overrides.name = o.name;
  if (o.runawayMs) overrides.runawayMs = o.runawayMs;
  if (o.camera) overrides.camera = { source: o.camera };
  const board = getBoard(o.board ?? DEFAULT_BOARD);
  return { board, profile: boardProfile(board, fileProfile, overrides) };
}

/**
 * `--platform local`: start the local video platform and say where it is (run and fleet);
 * null for `--platform none`. A failure is a readable Error.
 */
export async function startCliPlatform(o: Pick<RunCommonOptions, 'platform' | 'platformConfig'>, say: (text: string) => void): Promise<LocalPlatform | null> {
  if (o.platform !== 'local') return null;
  let platform: LocalPlatform;
  try {
    platform = await startLocalPlatform({ config: o.platformConfig });
  } catch (e) {
    throw new Error(`cannot start the local platform: ${(e as Error).message}`, { cause: e });
  }
  say(`luatos: local platform: device API ${platform.apiUrl('<deviceId>')} (also https), RTMP ingest rtmp://127.0.0.1:${platform.rtmpBase().port}/\n`);
  return platform;
}
