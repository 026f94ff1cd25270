/**
 * The checks of `luatos run` values that need more than one option's value or another part of the
 * runtime (--map, --wifi, --camera, --fault). The options themselves are read by the shared reader
 * runtime/host/util/args.ts (spec in cli/main.ts); everything here throws its one UsageError.
 */
import { CameraSourceError, parseSource, validateSource } from '../../media/camera/sources';
import { HostMapRule, parseMapRule } from '../../net/direct';
import type { ScheduledFault } from '../worker/protocol';
import { parseDuration, splitArgs } from '../scenario/schema';
import { UsageError } from '../util/usage-error';

/** The `run` options checked before anything starts (see {@link checkRunOptions}). */
export interface RunOptionChecks {
  net: { wifi?: readonly string[]; map?: readonly string[] };
  camera?: string;
}

/**
 * Checks of `luatos run` values that can be made before the device starts, so that a typo is a
 * usage error (exit 2) and not a reboot loop that ends with exit 0:
 *
 * - `--map HOST[:PORT]=ADDR[:PORT]`: the form, and both ports within 1–65535;
 * - `--wifi SSID:PASSWORD`: a ':' is required (an open access point is written `SSID:`), because
 *   a bare `--wifi lab` is more often a forgotten password than a wish for an open network;
 * - `--camera`: the spec's form, and what can be checked without ffmpeg — a V4L2 device node or
 *   a `file:` that does not exist, a source for another OS. (avfoundation/dshow cameras are
 *   listed only by ffmpeg; they are checked when the script opens the camera.)
 */
export function checkRunOptions(o: RunOptionChecks): void {
  for (const m of o.net.map ?? []) {
    let rule: HostMapRule;
    try {
      rule = parseMapRule(m);
    } catch (e) {
      throw new UsageError(`--map: ${(e as Error).message}`);
    }
    for (const port of [rule.port, rule.toPort]) {
      if (port !== undefined && (port < 1 || port > 65535)) throw new UsageError(`--map '${m}': port ${port} is outside 1–65535`);
    }
  }
  for (const w of o.net.wifi ?? []) {
    const i = w.indexOf(':');
    if (i < 0) throw new UsageError(`--wifi '${w}' has no ':' between SSID and password: write --wifi '${w}:PASSWORD', or --wifi '${w}:' for an open access point`);
    if (i === 0) throw new UsageError(`--wifi '${w}': the SSID before ':' is empty`);
  }
  if (o.camera !== undefined) {
    try {
      validateSource(parseSource(o.camera));
    } catch (e) {
      if (e instanceof CameraSourceError) throw new UsageError(`--camera: ${e.message}`);
      throw e;
    }
  }
}

/** --fault options one run takes (a bound: each arms a timer in the device) */
export const MAX_FAULTS = 256;

/**
 * `luatos run --fault "AT NAME ARGS..."`: AT is device time after the first boot, written as the
 * scenarios write durations (`500ms`, `10s`, `1.5s`, `2m`, `1m30s`, or a bare number of seconds);
 * NAME ARGS is a fault as scenario steps and the web console run it (`sim remove`, `wifi down`,
 * `http fail 503`, `reboot`; "double quotes" group an argument). Only the form is checked here;
 * whether the device has the fault is checked at its first boot (runtime/host/worker/device-worker.ts).
 */
export function parseFaultSpec(text: string, i: number): ScheduledFault {
  const form = `--fault '${text}': write --fault "AT NAME ARGS...", e.g. --fault "10s sim remove"`;
  const words = splitArgs(text);
  if (words.length < 2) throw new UsageError(form);
  let atMs: number;
  try {
    atMs = parseDuration(words[0]);
  } catch {
    throw new UsageError(`${form} (AT is a device time such as 500ms, 10s, 2m, 1m30s)`);
  }
  if (!Number.isFinite(atMs) || atMs < 0 || atMs > 2 ** 31 - 1) throw new UsageError(`--fault '${text}': AT must be between 0 and 24 days`);
  const name = words[1];
  if (!/^[a-z][a-z0-9_-]*$/i.test(name)) throw new UsageError(`${form} (NAME '${name}' is not a fault name)`);
  return { i, atMs, name, args: words.slice(2), text };
}
