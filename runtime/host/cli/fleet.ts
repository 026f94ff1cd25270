/**
 * `luatos fleet DIR --devices N [options]`: N devices running the same scripts in one Node
 * process (runtime/host/fleet/). Options are `luatos run`'s where they make sense for a fleet,
 * plus the fleet's own:
 *
 *   --devices N          devices of the whole fleet (all shards), 1..100000
 *   --name-prefix P      device names P000, P001, ... (default dev)
 *   --stagger MS         wait MS between two boots (default 0)
 *   --shard I/N          run only slice I (from 0) of N; auto/N reads I from $JOB_COMPLETION_INDEX
 *   --workers W          device threads in this process (default 1)
 *   --log-dir DIR        per-device logs and fleet.log (default <state>/logs)
 *   --state DIR          the fleet's state folder: <DIR>/<name>/fs per device
 *                        (default ./.luatos-state/fleet-<prefix>)
 *   --quiet              no log lines on the terminal (the files still get everything)
 *   --no-share-camera    one ffmpeg encoder per device instead of one per camera setting
 *   --isolated-engines   one engine instance per device (measuring only: bench:fleet)
 *
 * `--expect TEXT` must appear in the log of EVERY device of this process; `--fail TEXT` in any
 * device's log ends the run with 1. Not taken (one device's options): --name, --mac, --ip,
 * --log-file, --coverage, --fault.
 *
 * Exit codes as `luatos run`: 0 ok, 1 failure, 2 usage error, 42 timeout with expectations
 * unmet; Ctrl-C / SIGTERM: 0, everything stopped (threads, ffmpeg, the ingest) within ~2 s.
 */
import * as path from 'node:path';
import { boardNetwork } from '../../boards';
import type { NetworkCliOptions } from '../../net/options';
import { FleetHost } from '../fleet/fleet-host';
import { FleetLog } from '../fleet/fleet-log';
import { fleetMembers, MAX_FLEET_DEVICES, NAME_PREFIX_RE, parseShard, type ShardSpec } from '../fleet/names';
import { startFleetConsole, type FleetConsole } from '../web/fleet-console';
import { UsageError } from '../util/usage-error';
import { runProfile, startCliPlatform, type RunCommonOptions } from './run-options';
import { withMapRules } from '../util/map-rules';

/** What the fleet takes of `luatos run`'s parsed options (main.ts RunOptions has them all). */
export type RunOptions = RunCommonOptions;

export interface RunResult {
  code: number;
  reason: string;
}

/** `luatos run`'s parser and target check (given by main.ts: no import cycle). */
export interface RunParsers {
  parseRunArgs(args: string[]): RunOptions;
  resolveScripts(targets: string[]): string | string[];
}

export const FLEET_HELP = `luatos fleet — many devices running the same scripts in one process

Usage:
  luatos fleet <folder> --devices N [options]

Fleet options:
  --devices N            devices of the whole fleet (all shards together), 1..${MAX_FLEET_DEVICES}
  --name-prefix P        device names P000, P001, ... (default dev); each device gets its
                         own MAC (so its own device id), state folder, Lua state, Wi-Fi
                         station and log
  --stagger MS           wait MS between two boots (default 0)
  --shard I/N            run only slice I (0..N-1) of the N disjoint slices of the device
                         names; auto/N takes I from $JOB_COMPLETION_INDEX (a Kubernetes
                         Indexed Job)
  --workers W            device threads in this process (default 1)
  --state DIR            fleet state folder (default ./.luatos-state/fleet-<prefix>);
                         device NAME keeps its files in DIR/NAME/fs
  --log-dir DIR          DIR/NAME.log per device and DIR/fleet.log (every device, the
                         name in each line); default <state>/logs
  --quiet                no log lines on the terminal
  --no-share-camera      one ffmpeg encoder per device (default: devices whose camera
                         source and settings are equal share one)
  --isolated-engines     one Lua engine instance (wasm heap) per device instead of one
                         per thread (costs more memory; for comparison, see bench:fleet)
Options of 'luatos run' that apply to every device:
  --board --engine --lib --profile --log-level --format --timeout --reboot --max-boots
  --runaway-ms --clock --wifi --map --sntp --netmask --gateway --dns --camera
  --platform local --platform-config --web [PORT] --web-host
  --expect TEXT (must appear in EVERY device's log) --fail TEXT (in any device's log)
`;

export interface FleetOptions {
  run: RunOptions;
  devices: number;
  prefix: string;
  staggerMs: number;
  shard?: ShardSpec;
  workers: number;
  logDir?: string;
  quiet: boolean;
  shareCamera: boolean;
  isolatedEngines?: boolean;
  help?: boolean;
}

const NOT_FOR_FLEET = new Set(['--name', '--mac', '--ip', '--log-file', '--coverage', '--fault']);

/** Parse the arguments after `fleet`. Throws UsageError. */
export function parseFleetArgs(args: string[], parsers: RunParsers, env: NodeJS.ProcessEnv = process.env): FleetOptions {
  const rest: string[] = [];
  const f: Omit<FleetOptions, 'run'> = { devices: 0, prefix: 'dev', staggerMs: 0, workers: 1, quiet: false, shareCamera: true };
  let devicesGiven = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      if (eq > 0) return a.slice(eq + 1);
      const v = args[i + 1];
      if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new UsageError(`${flag} needs a value`);
      i++;
      return v;
    };
    const int = (min: number, max: number): number => {
      const v = value();
      const n = Number(v);
      if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} needs a whole number from ${min} to ${max}, not '${v}'`);
      return n;
    };
    switch (flag) {
      case '--devices':
        f.devices = int(1, MAX_FLEET_DEVICES);
        devicesGiven = true;
        break;
      case '--name-prefix': {
        const v = value();
        if (!NAME_PREFIX_RE.test(v)) throw new UsageError(`--name-prefix '${v}': use 1 to 32 letters, digits, '_', '-' or '.'`);
        f.prefix = v;
        break;
      }
      case '--stagger':
        f.staggerMs = int(0, 3_600_000);
        break;
      case '--shard':
        try {
          f.shard = parseShard(value(), env);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        break;
      case '--workers':
        f.workers = int(1, 64);
        break;
      case '--log-dir':
        f.logDir = value();
        break;
      case '--quiet':
        f.quiet = true;
        break;
      case '--no-share-camera':
        f.shareCamera = false;
        break;
      case '--isolated-engines':
        f.isolatedEngines = true;
        break;
      case '--help':
      case '-h':
        return { ...f, help: true, run: undefined as unknown as RunOptions };
      default:
        if (NOT_FOR_FLEET.has(flag)) throw new UsageError(`${flag} is an option of one device; 'luatos fleet' does not take it (see luatos fleet --help)`);
        rest.push(a);
    }
  }
  if (!devicesGiven) throw new UsageError('fleet needs --devices N');
  const run = parsers.parseRunArgs(rest);
  if (run.targets.length !== 1) throw new UsageError('fleet needs one script folder');
  return { ...f, run };
}

export interface FleetRunResult extends RunResult {
  /** devices of this process */
  devices: number;
  /** devices that booted at least once */
  booted: number;
}

/** Run the fleet until it ends (see the file comment). */
export async function runFleet(fo: FleetOptions, parsers: RunParsers, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<FleetRunResult> {
  const o = fo.run;
  const scripts = parsers.resolveScripts(o.targets);
  const { board, profile } = runProfile(o);
  const members = fleetMembers(fo.prefix, fo.devices, fo.shard);
  const note = (t: string) => {
    try {
      (o.format === 'jsonl' ? err : out).write(t);
    } catch {
      /* gone */
    }
  };
  if (members.length === 0) {
    note(`luatos: fleet: shard ${fo.shard?.index}/${fo.shard?.count} of ${fo.devices} devices is empty\n`);
    return { code: 0, reason: 'empty shard', devices: 0, booted: 0 };
  }
  const platform = await startCliPlatform(o, note);
  const net: NetworkCliOptions = withMapRules(o.net, platform ? platform.mapRules() : []);
  try {
    boardNetwork(board, profile, net);
  } catch (e) {
    await platform?.stop();
    throw new UsageError((e as Error).message);
  }
  const stateDir = path.resolve(o.stateDir ?? path.join('.luatos-state', `fleet-${fo.prefix}`));
  const logDir = path.resolve(fo.logDir ?? path.join(stateDir, 'logs'));
  const names = new Map(members.map((m) => [m.index, m.name]));
  let log: FleetLog;
  try {
    log = new FleetLog(names, { dir: logDir, stream: fo.quiet ? null : out, format: o.format, minRuntimeLevel: o.logLevel });
  } catch (e) {
    await platform?.stop();
    throw new Error(`cannot write the fleet logs in ${logDir}: ${(e as Error).message}`, { cause: e });
  }
  log.onFileError = (e) => note(`luatos: WARNING: the fleet logs in ${logDir} cannot be written any more (${e.message}); the run goes on\n`);
  const host = new FleetHost({
    board: board.name,
    scripts,
    libDirs: o.libDirs,
    engine: o.engine,
    profile,
    reboot: o.reboot,
    maxBoots: o.maxBoots,
    clock: o.clock,
    net,
    shareCamera: fo.shareCamera,
    isolatedEngines: fo.isolatedEngines,
    status: o.web !== undefined,
    members,
    stateDir,
    staggerMs: fo.staggerMs,
    workers: fo.workers,
    timeoutMs: o.timeoutSec !== undefined ? o.timeoutSec * 1000 : undefined,
    onLog: (d, r) => log.write(d, r),
  });
  platform?.registerFaults(host.hostFaults);
  const shardText = fo.shard ? ` (shard ${fo.shard.index}/${fo.shard.count}: ${members[0].name}..${members[members.length - 1].name})` : '';
  note(`luatos: fleet: ${members.length} of ${fo.devices} devices${shardText}, ${fo.workers} thread(s), logs in ${logDir}\n`);
  let web: FleetConsole | null = null;
  if (o.web !== undefined) {
    try {
      web = await startFleetConsole({ fleet: host, platform, logDir, host: o.webHost, port: o.web });
    } catch (e) {
      await platform?.stop();
      log.close();
      throw e;
    }
    note(`luatos: web console: ${web.url}\n`);
  }

  return await new Promise<FleetRunResult>((resolve) => {
    // --expect: every device must show every text
    const pending = new Map<number, Set<string>>();
    if (o.expect.length) for (const m of members) pending.set(m.index, new Set(o.expect));
    let done = false;
    const finish = (r: RunResult) => {
      if (done) return;
      done = true;
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
      void (async () => {
        await host.stop();
        log.close();
        await Promise.allSettled([web?.close(), platform?.stop()]);
        const booted = host.boots.size;
        note(`luatos: fleet: ${booted}/${members.length} devices booted; ${r.reason}\n`);
        resolve({ ...r, devices: members.length, booted });
      })();
    };
    // only with --fail or --expect: a listener makes the fleet log format every line as text
    if (o.fail.length || o.expect.length) {
      log.on((d, name, _r, text) => {
        for (const x of o.fail) if (text.includes(x)) return finish({ code: 1, reason: `fail text appeared on ${name}: ${x}` });
        const p = pending.get(d);
        if (!p) return;
        for (const x of p) if (text.includes(x)) p.delete(x);
        if (p.size === 0) {
          pending.delete(d);
          if (pending.size === 0) finish({ code: 0, reason: `all expectations met on all ${members.length} devices` });
        }
      });
    }
    const onSig = () => finish({ code: 130, reason: 'interrupted' });
    process.on('SIGINT', onSig);
    process.on('SIGTERM', onSig);
    host.on('timeout', () => {
      if (pending.size > 0) {
        const first = [...pending.entries()].slice(0, 3).map(([d, s]) => `${names.get(d)}: ${[...s].join(' | ')}`);
        finish({ code: 42, reason: `timeout: ${pending.size} device(s) did not show every --expect (${first.join('; ')}${pending.size > 3 ? '; ...' : ''})` });
      } else finish({ code: 0, reason: 'timeout' });
    });
    host.on('all-stopped', () => setImmediate(() => finish({ code: pending.size > 0 ? 1 : 0, reason: 'every device stopped' })));
    host.on('start-error', (e: Error) => finish({ code: 1, reason: `cannot start the fleet: ${e.message}` }));
    host.start();
  });
}
