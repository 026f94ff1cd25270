/**
 * The small command-line reader shared by `luatos run`, `luatos test` and `luatos logs`:
 * `--flag value` and `--flag=value`, short flags, and typed values that throw the command's own
 * usage error (each command maps it to exit code 2).
 *
 *   const r = new ArgReader(args, (m) => new UsageError(m));
 *   for (let flag = r.next(); flag !== undefined; flag = r.next()) {
 *     switch (flag) {
 *       case '--engine': o.engine = r.choice(ENGINE_NAMES, `--engine must be one of ...`); break;
 *       default: o.targets.push(r.arg);
 *     }
 *   }
 */
import { CameraSourceError, parseSource, validateSource } from '../../media/camera/sources';
import { HostMapRule, parseMapRule } from '../../net/direct';
import type { ScheduledFault } from '../worker/protocol';
import { parseDuration, splitArgs } from '../scenario/schema';

export interface ArgReaderOptions {
  /**
   * Whether a separate value may look like an option (`--grep --foo`). Default false: `--x --y`
   * is "--x needs a value" (a lone `--` is still taken as a value).
   */
  dashValues?: boolean;
}

export class ArgReader {
  private i = -1;
  private eq = -1;
  /** the whole current argument (`--x=1`, `-f`, `main.lua`) */
  arg = '';
  /** its flag part (`--x` of `--x=1`; the argument itself otherwise) */
  flag = '';

  constructor(
    private readonly args: readonly string[],
    private readonly usage: (message: string) => Error,
    private readonly opts: ArgReaderOptions = {},
  ) {}

  /** Advance; returns the flag part of the next argument, or undefined at the end. */
  next(): string | undefined {
    if (++this.i >= this.args.length) return undefined;
    this.arg = this.args[this.i];
    this.eq = this.arg.startsWith('--') ? this.arg.indexOf('=') : -1;
    this.flag = this.eq > 0 ? this.arg.slice(0, this.eq) : this.arg;
    return this.flag;
  }

  /** The current argument was written `--flag=value`. */
  get inline(): boolean {
    return this.eq > 0;
  }

  /** The argument after the current one, not consumed. */
  peek(): string | undefined {
    return this.args[this.i + 1];
  }

  /** Consume the argument after the current one (after a successful peek()). */
  skip(): string {
    return this.args[++this.i];
  }

  /** The flag's value: after `=`, or the next argument (consumed). */
  value(): string {
    if (this.eq > 0) return this.arg.slice(this.eq + 1);
    const v = this.args[this.i + 1];
    if (v === undefined || (!this.opts.dashValues && v.startsWith('--') && v.length > 2)) throw this.usage(`${this.flag} needs a value`);
    this.i++;
    return v;
  }

  /** A value out of `allowed` (after `normalise`), else the usage error `message`. */
  choice<T extends string>(allowed: readonly T[], message: string, normalise: (v: string) => string = (v) => v): T {
    const v = normalise(this.value());
    if (!allowed.includes(v as T)) throw this.usage(message);
    return v as T;
  }

  /** A number for which `ok` holds, else the usage error `message`. */
  number(ok: (n: number) => boolean, message: string): number {
    const n = Number(this.value());
    if (!ok(n)) throw this.usage(message);
    return n;
  }

  /** Throw the command's usage error. */
  fail(message: string): never {
    throw this.usage(message);
  }
}

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
export function checkRunOptions(o: RunOptionChecks, usage: (message: string) => Error): void {
  for (const m of o.net.map ?? []) {
    let rule: HostMapRule;
    try {
      rule = parseMapRule(m);
    } catch (e) {
      throw usage(`--map: ${(e as Error).message}`);
    }
    for (const port of [rule.port, rule.toPort]) {
      if (port !== undefined && (port < 1 || port > 65535)) throw usage(`--map '${m}': port ${port} is outside 1–65535`);
    }
  }
  for (const w of o.net.wifi ?? []) {
    const i = w.indexOf(':');
    if (i < 0) throw usage(`--wifi '${w}' has no ':' between SSID and password: write --wifi '${w}:PASSWORD', or --wifi '${w}:' for an open access point`);
    if (i === 0) throw usage(`--wifi '${w}': the SSID before ':' is empty`);
  }
  if (o.camera !== undefined) {
    try {
      validateSource(parseSource(o.camera));
    } catch (e) {
      if (e instanceof CameraSourceError) throw usage(`--camera: ${e.message}`);
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
export function parseFaultSpec(text: string, i: number, usage: (message: string) => Error): ScheduledFault {
  const form = `--fault '${text}': write --fault "AT NAME ARGS...", e.g. --fault "10s sim remove"`;
  const words = splitArgs(text);
  if (words.length < 2) throw usage(form);
  let atMs: number;
  try {
    atMs = parseDuration(words[0]);
  } catch {
    throw usage(`${form} (AT is a device time such as 500ms, 10s, 2m, 1m30s)`);
  }
  if (!Number.isFinite(atMs) || atMs < 0 || atMs > 2 ** 31 - 1) throw usage(`--fault '${text}': AT must be between 0 and 24 days`);
  const name = words[1];
  if (!/^[a-z][a-z0-9_-]*$/i.test(name)) throw usage(`${form} (NAME '${name}' is not a fault name)`);
  return { i, atMs, name, args: words.slice(2), text };
}
