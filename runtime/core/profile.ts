/**
 * The device profile: what board the scripts believe they run on. JSON on disk
 * (`luatos run --profile FILE`), merged over the Air8101 defaults below.
 */
import * as fs from 'node:fs';

export interface DeviceProfile {
  /** a name for this simulated device (state folder, MAC derivation) */
  name: string;
  /** the board preset the profile was built from (runtime/boards/: air8101, pc, ...) */
  board?: string;
  /** rtos.bsp() */
  bsp: string;
  /** rtos.version(): the V2002-era firmware of the reference device log (exact string unsure) */
  version: string;
  /** firmware type number returned as 2nd value of rtos.version(true) */
  firmwareType: number;
  /** LuatOS core "base" version printed in the boot line */
  baseVersion: string;
  /** rtos.buildDate() */
  buildDate: string;
  /** delay between "Lua VM exit" and the reboot (firmware LUAT_EXIT_REBOOT_DELAY) */
  exitRebootDelayMs: number;
  /** memory sizes in bytes for rtos.meminfo */
  memory: {
    lua: number;
    sys: number;
    sysUsed: number;
    psram: number;
    psramUsed: number;
  };
  /** mcu.unique_id() as hex; derived from the name when empty */
  uniqueId?: string;
  /** mobile.imei() */
  imei?: string;
  /**
   * The flash file system mounted at `/` (littlefs): its size and block size in bytes. Writes
   * beyond it fail with "No space left on device"; io.fsstat reports it. The Air8101's real
   * partition size is unsure (not in the firmware facts); 512 KiB in 4 KiB blocks is our choice.
   */
  filesystem: { size: number; blockSize: number };
  /** hmeta.model(); the bsp name when absent */
  model?: string;
  /** hmeta.chip(); nil when absent */
  chipId?: string;
  /** hmeta.hwver(); nil when absent */
  hwVersion?: string;
  /** the runaway budget: a single run of Lua code longer than this ends the VM (ms) */
  runawayMs: number;
  /** free-form extra sections used by other modules (network, camera, ...) */
  [section: string]: unknown;
}

export const AIR8101_PROFILE: DeviceProfile = {
  name: 'air8101',
  bsp: 'Air8101',
  version: 'V2002',
  firmwareType: 0,
  baseVersion: '25.12',
  buildDate: 'Jan 20 2026',
  exitRebootDelayMs: 15000,
  memory: {
    // from the reference device log: lua 2097144, sys 238200 / 46160 used
    lua: 2097144,
    sys: 238200,
    sysUsed: 46160,
    psram: 8388608,
    psramUsed: 3145728,
  },
  filesystem: { size: 512 * 1024, blockSize: 4096 },
  runawayMs: 10000,
};

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge<T>(base: T, over: unknown): T {
  if (!isObj(over)) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    // defineProperty: a `__proto__` key in a profile file or scenario YAML is a plain key, never
    // the merged object's prototype
    const own = Object.prototype.hasOwnProperty.call(out, k) ? out[k] : undefined;
    Object.defineProperty(out, k, { value: isObj(v) && isObj(own) ? merge(own, v) : v, enumerable: true, writable: true, configurable: true });
  }
  return out as T;
}

/** Defaults merged with overrides (a parsed profile file and/or CLI overrides). */
export function makeProfile(...overrides: unknown[]): DeviceProfile {
  let p: DeviceProfile = structuredClone(AIR8101_PROFILE);
  for (const o of overrides) p = merge(p, o);
  return p;
}

export function loadProfileFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read profile ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`profile ${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}
