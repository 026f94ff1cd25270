/**
 * The board registry: `luatos run --board NAME`, `luatos boards`, the scenario option `board:`.
 *
 * A board is ONE object, one file per board in this folder, listed in `BOARDS` below:
 *
 *   export const MY_BOARD: Board = {
 *     name: 'air780epm',                 // what --board takes (matched case-insensitively)
 *     description: 'Air780EPM, 4G Cat.1 modem',
 *     profile: { bsp: 'Air780EPM', ... }, // profile preset: any DeviceProfile field
 *     setup(device) { ... },             // what the board brings beyond its profile
 *     createNetwork(profile, cli) { ... }, // optional: a network model other than Wi-Fi
 *     logStyle: 'pc',                    // optional: the log line form of `luatos run`
 *   };
 *
 * - `profile` is merged as: Air8101 defaults < board preset < profile file (`--profile`) < CLI
 *   overrides, so a profile file can still override any field of the board.
 * - `setup(device)` runs once, after the Device is built and before it starts: it adds adapters
 *   to the network model, pushes per-boot API additions onto `device.bootHooks` (run after the
 *   standard API is installed, e.g. `os.exit`), sets `device.exitOnReset`, registers faults.
 * - `createNetwork(profile, cli)` builds the device network (default: the Wi-Fi model from the
 *   profile's `network` section and the CLI flags, `createNetworkFromOptions`).
 *
 * Boards hold no state of their own: everything per device lives on the Device object.
 */
import type { Device } from '../core/device';
import type { DeviceNetwork } from '../net/types';
import { createNetworkFromOptions, NetworkCliOptions } from '../net/options';
import { DeviceProfile, makeProfile } from '../core/profile';
import type { LineStyle } from '../core/log';
import { AIR8101_BOARD } from './air8101';
import { AIR780EGH_BOARD, AIR780EHM_BOARD, AIR780EHV_BOARD, AIR780EPM_BOARD } from './air780epm';
import { PC_BOARD } from './pc';

export interface Board {
  /** lowercase; what `--board` and the scenario option `board:` take */
  readonly name: string;
  /** one line for `luatos boards` */
  readonly description: string;
  /** profile preset (merged over the Air8101 defaults, under the profile file) */
  readonly profile: Readonly<Record<string, unknown>>;
  /** what the board brings: adapters, per-boot API additions, exit behaviour */
  setup?(device: Device): void;
  /** the line style of `luatos run`'s terminal output and log file (default luatools) */
  readonly logStyle?: LineStyle;
  /** the board's own network model (default: the Wi-Fi model) */
  createNetwork?(profile: DeviceProfile, cli: NetworkCliOptions): DeviceNetwork;
  /**
   * Check the board's profile sections before anything starts (throws Error with a readable
   * message): the CLI turns it into a usage error, where `setup` would only fail inside the
   * device's worker thread.
   */
  validate?(profile: DeviceProfile): void;
}

/** today's behaviour when no board is named */
export const DEFAULT_BOARD = 'air8101';

/** Every board, in the order `luatos boards` lists them. */
export const BOARDS: readonly Board[] = [AIR8101_BOARD, PC_BOARD, AIR780EPM_BOARD, AIR780EHM_BOARD, AIR780EHV_BOARD, AIR780EGH_BOARD];

/** The board called `name` (case-insensitive), or undefined. */
export function findBoard(name: string): Board | undefined {
  const n = name.trim().toLowerCase();
  return BOARDS.find((b) => b.name === n);
}

export function boardNames(): string[] {
  return BOARDS.map((b) => b.name);
}

/** The board called `name`, else an Error naming the known boards. */
export function getBoard(name: string = DEFAULT_BOARD): Board {
  const b = findBoard(name);
  if (!b) throw new Error(`unknown board '${name}' (known: ${boardNames().join(', ')}; see luatos boards)`);
  return b;
}

/** The device profile of a board: defaults < board preset < `overrides` in order. */
export function boardProfile(board: Board, ...overrides: unknown[]): DeviceProfile {
  return makeProfile({ board: board.name }, board.profile, ...overrides);
}

/** The board's network model for a profile and the CLI's network flags. */
export function boardNetwork(board: Board, profile: DeviceProfile, cli: NetworkCliOptions = {}): DeviceNetwork {
  try {
    board.validate?.(profile);
  } catch (e) {
    throw new Error(`board ${board.name}: ${(e as Error).message}`, { cause: e });
  }
  return board.createNetwork ? board.createNetwork(profile, cli) : createNetworkFromOptions(profile, cli);
}

/** Apply what the board brings to a device built with its profile and network. */
export function setupBoard(board: Board, device: Device): void {
  board.setup?.(device);
}

/** `luatos boards`: one line per board, the default marked. */
export function formatBoardList(): string {
  const w = Math.max(...BOARDS.map((b) => b.name.length));
  return BOARDS.map((b) => `${b.name.padEnd(w)}  ${b.description}${b.name === DEFAULT_BOARD ? ' (default)' : ''}\n`).join('');
}
