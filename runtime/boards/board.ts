/** What a board preset is (runtime/boards/): its own module so the presets and the registry do not import each other. */
import type { Device } from '../core/device';
import type { DeviceNetwork } from '../net/types';
import type { NetworkCliOptions } from '../net/options';
import type { DeviceProfile } from '../core/profile';
import type { LineStyle } from '../core/log';

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

