/**
 * The `luatos` command line.
 *
 *   luatos run <folder | files...> [options]
 *
 * Exit codes: 0 expectations met (or none, and the run ended by timeout or normally);
 * 1 a fail text appeared, the VM crashed under --reboot exit, or the script could not load;
 * 2 usage error; 42 timeout with expectations unmet. Ctrl-C, SIGTERM and a closed stdout: 0.
 *
 * `run` keeps the device in a worker thread (runtime/host/worker/device-host.ts), so this thread stays
 * responsive whatever the script does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StopReason } from '../../core/device';
import { DeviceHost } from '../worker/device-host';
import { startDapServer, type DapServer } from '../debug/dap-server';
import { DEFAULT_ENGINE, ENGINE_NAMES } from '../../core/device';
import { LogSink } from '../../core/log';
import { logsCommand } from '../logs/command';
import { NetworkCliOptions } from '../../net/options';
import { listCameras } from '../../media/camera/sources';
import { locateFfmpeg } from '../../media/ffmpeg/locate';
import type { LocalPlatform } from '../platform';
import { startWebConsole, WebConsole } from '../web';
import { testCommand } from '../scenario/command';
import { checkRunOptions, MAX_FAULTS, parseFaultSpec } from './args';
import { flag, help, list, number, oneOf, optional, readArgs, value, type Values } from '../util/args';
import { FLEET_HELP, parseFleetArgs, runFleet } from './fleet';
import { runProfile, startCliPlatform, type RunCommonOptions } from './run-options';
import type { ScheduledFault } from '../worker/protocol';
import { boardNames, boardNetwork, findBoard, formatBoardList } from '../../boards';

import { UsageError } from '../util/usage-error';
import { withMapRules } from '../util/map-rules';
export { UsageError };

const HELP = `luatos — run LuatOS firmware scripts on a PC

Usage:
  luatos run <folder | files...> [options]
  luatos logs <file...> [options]     read saved logs (ours and Luatools'); luatos logs --help
  luatos test <scenario.yaml | folder> [options]   run test scenarios; luatos test --help
  luatos fleet <folder> --devices N [options]   N devices in one process; luatos fleet --help
  luatos cameras                      list the cameras this PC has (for --camera)
  luatos boards                       list the boards --board takes
  luatos --help | --version

Options for run:
  --board NAME               the board: air8101 (default), pc (the LuatOS PC simulator:
                             adapter 17, os.exit(n) ends the run with n), air780epm,
                             air780ehm, air780ehv, air780egh (4G Cat.1 modem: adapter 1,
                             SIM/registration before IP_READY, mobile.*); luatos boards
  --engine lua53|wasmoon|fengari   Lua engine (default lua53: Lua 5.3.6 as on the device)
  --lib DIR                  extra Lua library folder (repeatable)
  --profile FILE             device profile (JSON): bsp, firmware version, memory, ...
  --name NAME                device name (state folder, ids)
  --state DIR                where the device's writable file system lives
                             (default ./.luatos-state/<name>)
  --log-file PATH            also write the log to PATH (Luatools format)
  --log-level D|I|W|E        hide firmware lines below this level (Lua output is always shown)
  --format text|jsonl        terminal output format (default text)
  --timeout SEC              stop after SEC seconds of device time
  --expect TEXT              all must appear; the run stops as soon as they have (repeatable)
  --fail TEXT                stop with exit code 1 when this appears (repeatable)
  --reboot restart|exit      what a VM exit does (default restart, like the device)
  --max-boots N              stop a reboot loop after N boots
  --runaway-ms MS            end Lua code that runs this long without yielding (default 10000)
  --fault "AT NAME ARGS..."  run a fault at device time AT after the first boot (repeatable;
                             AT: 500ms, 10s, 2m, 1m30s; virtual clock included), e.g.
                             --fault "10s sim remove" --fault "15s sim insert",
                             --fault "5s wifi down", --fault "20s http fail 503", "30s reboot".
                             Faults: wifi, dns, camera, reboot; with --platform local
                             rtmp-server, http; on air780e*: sim, signal, network, flightmode.
                             A fault the board does not have: exit 2
Network (the simulated Air8101 Wi-Fi):
  --wifi SSID:PASSWORD       a virtual access point (repeatable; none = any SSID joins;
                             SSID: with nothing after the ':' is an open access point)
  --map HOST[:PORT]=ADDR[:PORT]  send the scripts' connections for HOST to ADDR (repeatable;
                             ports 1-65535)
  --sntp host|real           socket.sntp takes the PC's clock (default) or asks NTP servers
  --ip, --netmask, --gateway, --mac, --dns A,B   what the STA reports
  --camera SOURCE            testsrc (default), v4l2:/dev/videoN, avfoundation:N, dshow:NAME,
                             file:PATH (a device or file that does not exist: exit 2)
Demo environment:
  --platform local|none      local: start the embedded video platform (device API over HTTP
                             and HTTPS, RTMP ingest) and map video.luatos.com to it
  --platform-config FILE     devices, credentials and URL lists for the local platform (JSON)
  --web [PORT]               serve the web console (live log, device panel, live video, faults)
  --web-host HOST            listen address of the web console (default 127.0.0.1)
  --clock real|virtual       virtual: device time jumps ahead while only timers are pending
  --inspect [PORT]           serve the Debug Adapter Protocol on 127.0.0.1:PORT (default an
                             ephemeral port, printed): breakpoints, stepping, variables
  --inspect-brk [PORT]       the same, and stop before main.lua's first line
  --coverage                 at the end, list the LuatOS functions the scripts used and
                             whether each is implemented, simulated or missing

Exit codes: 0 ok, 1 failure, 2 usage error, 42 timeout with expectations unmet.
Ctrl-C, SIGTERM and a closed output (| head) end the run with 0, within about 2 s even when
the script is stuck in one Lua call (the device runs in its own thread).
--board pc: the code of os.exit(n) / rtos.reboot(n), 1 after a VM exit.
`;

/** `luatos run`'s options: the ones a fleet takes too (run-options.ts) and one device's own. */
export interface RunOptions extends RunCommonOptions {
  name?: string;
  logFile?: string;
  coverage: boolean;
  /** --inspect / --inspect-brk PORT (0: ephemeral) */
  inspect?: number;
  inspectBrk?: boolean;
  /** --fault "AT NAME ARGS..." (repeatable) */
  faults: ScheduledFault[];
  /** `run --help`: print the help and exit 0 (nothing else is checked) */
  help?: boolean;
  /** every option as read by RUN_ARGS (no prototype): a new option needs no field of its own */
  args: RunArgs;
}

/**
 * The options of `luatos run` (runtime/host/util/args.ts): one line an option. A new option is a
 * line here (and its line in HELP); its value is then `RunOptions.args.<name>`, typed by the line
 * (e.g. `inspect: optional(/^\d+$/, number('--inspect takes an optional port', { integer: true, min: 0, max: 65535 }), 9229)`
 * gives `o.args.inspect: number | undefined`).
 */
const RUN_ARGS = {
  board: value(boardOption),
  engine: value(oneOf(ENGINE_NAMES, `--engine must be one of ${ENGINE_NAMES.join(', ')}`)),
  lib: list(),
  profile: value(),
  name: value(),
  state: value(),
  'log-file': value(),
  'log-level': value(oneOf(['D', 'I', 'W', 'E'], '--log-level must be D, I, W or E', (v) => v.toUpperCase().slice(0, 1))),
  format: value(oneOf(['text', 'jsonl'], '--format must be text or jsonl')),
  timeout: value(number('--timeout needs a positive number of seconds', { above: 0 })),
  expect: list(),
  fail: list(),
  reboot: value(oneOf(['restart', 'exit'], '--reboot must be restart or exit')),
  'max-boots': value(number('--max-boots needs a whole number >= 1', { integer: true, min: 1 })),
  'runaway-ms': value(number('--runaway-ms needs a number >= 10', { min: 10 })),
  fault: list(parseFaultSpec, { limit: MAX_FAULTS }),
  wifi: list(),
  map: list(),
  sntp: value(oneOf(['host', 'real'], '--sntp must be host or real')),
  ip: value(),
  netmask: value(),
  gateway: value(),
  mac: value(),
  dns: value((v) => v.split(',').filter(Boolean)),
  camera: value(),
  platform: value(oneOf(['local', 'none'], '--platform must be local or none')),
  'platform-config': value(),
  // optional port: `--web`, `--web 8080`, `--web=8080` (a non-number after --web is a target)
  web: optional(/^\d+$/, number('--web takes an optional port number', { integer: true, min: 0, max: 65535 }), 0),
  'web-host': value(),
  inspect: optional(/^\d+$/, number('--inspect takes an optional port number', { integer: true, min: 0, max: 65535 }), 0),
  'inspect-brk': optional(/^\d+$/, number('--inspect-brk takes an optional port number', { integer: true, min: 0, max: 65535 }), 0),
  coverage: flag(),
  clock: value(oneOf(['real', 'virtual'], '--clock must be real or virtual')),
  help: help(),
} as const;

/** The `luatos run` options as read (see RUN_ARGS). */
export type RunArgs = Values<typeof RUN_ARGS>;

/** --board NAME: case-insensitive, the board's own name kept */
function boardOption(v: string): string {
  const b = findBoard(v);
  if (!b) throw new UsageError(`unknown board '${v}': --board is one of ${boardNames().join(', ')}`);
  return b.name;
}

export function parseRunArgs(args: string[]): RunOptions {
  // an argument starting with '-' that is no option is a target, as it always was for run
  const { values: v, positionals } = readArgs(args, RUN_ARGS, { dashPositionals: true });
  const net: NetworkCliOptions = { wifi: v.wifi, map: v.map, sntp: v.sntp, ip: v.ip, netmask: v.netmask, gateway: v.gateway, mac: v.mac, dns: v.dns };
  const o: RunOptions = {
    targets: positionals,
    board: v.board,
    engine: v.engine ?? DEFAULT_ENGINE,
    libDirs: v.lib,
    profileFile: v.profile,
    name: v.name,
    stateDir: v.state,
    logFile: v['log-file'],
    logLevel: v['log-level'] ?? 'D',
    format: v.format ?? 'text',
    timeoutSec: v.timeout,
    expect: v.expect,
    fail: v.fail,
    reboot: v.reboot ?? 'restart',
    maxBoots: v['max-boots'] ?? 0,
    runawayMs: v['runaway-ms'],
    clock: v.clock ?? 'real',
    coverage: v.coverage ?? false,
    net,
    camera: v.camera,
    platform: v.platform ?? 'none',
    platformConfig: v['platform-config'],
    web: v.web,
    webHost: v['web-host'],
    inspect: v['inspect-brk'] ?? v.inspect,
    inspectBrk: v['inspect-brk'] !== undefined ? true : undefined,
    faults: v.fault,
    args: v,
  };
  if (v.help) return { ...o, help: true };
  if (o.targets.length === 0) throw new UsageError('run needs a script folder (or .lua files)');
  checkRunOptions(o);
  return o;
}

/** Resolve targets to a folder or a file list; checks they exist. */
export function resolveScripts(targets: string[]): string | string[] {
  if (targets.length === 1 && fs.existsSync(targets[0]) && fs.statSync(targets[0]).isDirectory()) return path.resolve(targets[0]);
  for (const t of targets) {
    if (!fs.existsSync(t)) throw new UsageError(`no such file or folder: ${t}`);
    if (fs.statSync(t).isDirectory()) throw new UsageError(`give one folder, or files: ${t} is a folder`);
  }
  return targets.map((t) => path.resolve(t));
}

export interface RunResult {
  code: number;
  reason: string;
  /** the script chose the code (os.exit / rtos.reboot on the pc board) */
  scriptExit?: boolean;
}

/**
 * Run a device until it stops, an expectation settles, or the timeout.
 *
 * The device runs in a worker thread (runtime/host/worker/device-host.ts); this thread keeps the log,
 * the expectations, the web console and the local platform, and stays responsive when the VM
 * is stuck in one Lua call: `--timeout`, Ctrl-C and SIGTERM end the run within about 2 s, the
 * log flushed and the children killed. A closed stdout (`luatos run ... | head -2`) ends the
 * run quietly, like Ctrl-C.
 */
export async function runDevice(o: RunOptions, out: NodeJS.WritableStream = process.stdout): Promise<RunResult> {
  const scripts = resolveScripts(o.targets);
  const { board, profile } = runProfile(o);
  const output = new RunOutput(out);
  const platform = await startRunPlatform(o, output);
  const net: NetworkCliOptions = withMapRules(o.net, platform ? platform.mapRules() : []);
  try {
    boardNetwork(board, profile, net); // checks the flags here; the worker builds its own
  } catch (e) {
    await platform?.stop();
    output.release();
    throw new UsageError((e as Error).message);
  }
  const stateDir = path.resolve(o.stateDir ?? path.join('.luatos-state', profile.name));
  const sink = new LogSink({ stream: out, file: o.logFile, minRuntimeLevel: o.logLevel, format: o.format, style: board.logStyle });
  const device = new DeviceHost({
    board: board.name,
    scripts,
    libDirs: o.libDirs,
    engine: o.engine,
    profile,
    log: sink,
    dataDir: path.join(stateDir, 'fs'),
    reboot: o.reboot,
    maxBoots: o.maxBoots,
    clock: o.clock,
    coverage: o.coverage,
    net,
    status: o.web !== undefined,
    faults: o.faults,
    timeoutMs: o.timeoutSec !== undefined ? o.timeoutSec * 1000 : undefined,
    inspect: o.inspect !== undefined ? { stopOnEntry: o.inspectBrk === true } : undefined,
  });
  const dap = await startRunDebugger(o, device, sink, platform, output);
  platform?.registerFaults(device.faults);
  const web = await startRunConsole(o, device, platform, dap, output);
  return await waitForRun(o, { device, sink, output, platform, dap, web });
}

/** The run's output: it may close under us (`| head`), which ends the run quietly. */
class RunOutput {
  /** set once the output failed: nothing more is written to it */
  gone = false;
  /** what a closed output does (ends the run) */
  onClosed: (() => void) | null = null;
  private readonly emitter: NodeJS.WritableStream & { on?: (ev: string, fn: (e: NodeJS.ErrnoException) => void) => unknown; off?: (ev: string, fn: (e: NodeJS.ErrnoException) => void) => unknown };

  constructor(readonly out: NodeJS.WritableStream) {
    this.emitter = out as RunOutput['emitter'];
    this.emitter.on?.('error', this.onError);
  }

  private readonly onError = (e: NodeJS.ErrnoException): void => {
    this.gone = true;
    if (e && (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED' || e.code === 'ERR_STREAM_WRITE_AFTER_END')) this.onClosed?.();
    else this.onClosed?.();
  };

  say(text: string): void {
    if (!this.gone) this.out.write(text);
  }

  /** stop listening for the output's errors */
  release(): void {
    this.emitter.off?.('error', this.onError);
  }
}

/** --platform local: the local platform, its addresses said; null without it. */
async function startRunPlatform(o: RunOptions, output: RunOutput): Promise<LocalPlatform | null> {
  try {
    return await startCliPlatform(o, (t) => output.say(t));
  } catch (e) {
    output.release();
    throw e;
  }
}

/** --inspect: the DAP server on the device's debugger; null without it. */
async function startRunDebugger(o: RunOptions, device: DeviceHost, sink: LogSink, platform: LocalPlatform | null, output: RunOutput): Promise<DapServer | null> {
  if (!device.debug || o.inspect === undefined) return null;
  let dap: DapServer;
  try {
    dap = await startDapServer(device.debug, { port: o.inspect, log: sink });
  } catch (e) {
    await platform?.stop();
    output.release();
    throw new Error(`cannot serve the debugger on 127.0.0.1:${o.inspect}: ${(e as Error).message}`, { cause: e });
  }
  output.say(`luatos: debugger (DAP) listening on 127.0.0.1:${dap.port}${o.inspectBrk ? ' (stopping before main.lua)' : ''}\n`);
  return dap;
}

/** --web: the web console (the platform's first published stream as its video); null without it. */
async function startRunConsole(o: RunOptions, device: DeviceHost, platform: LocalPlatform | null, dap: DapServer | null, output: RunOutput): Promise<WebConsole | null> {
  if (o.web === undefined) return null;
  const p = platform;
  let web: WebConsole;
  try {
    web = await startWebConsole({
      device,
      host: o.webHost,
      port: o.web,
      status: () => device.status(),
      videoUrl: p
        ? () => {
            const path = p.publishing()[0];
            return path ? `ws://127.0.0.1:${p.flvPort}${path}.flv` : null;
          }
        : undefined,
      onWarning: (m) => output.say(`luatos: WARNING: ${m}\n`),
      debug: device.debug,
    });
  } catch (e) {
    await Promise.allSettled([platform?.stop(), dap?.close()]);
    output.release();
    throw e;
  }
  output.say(`luatos: web console: ${web.url}\n`);
  return web;
}

interface RunParts {
  device: DeviceHost;
  sink: LogSink;
  output: RunOutput;
  platform: LocalPlatform | null;
  dap: DapServer | null;
  web: WebConsole | null;
}

/** How a device that stopped by itself ends the run. */
function stoppedResult(r: StopReason, expectsPending: boolean): RunResult {
  // the board ends the run with a code (pc: os.exit(n), rtos.reboot(n), 1 after a VM exit)
  if (r.code !== undefined) return { code: r.code, reason: r.exit?.kind === 'exit' || r.exit?.kind === 'reboot' ? `the script ended the run with code ${r.code}` : `the VM ended (${r.exit?.kind ?? r.kind}): exit code ${r.code}`, scriptExit: r.exit?.kind === 'exit' || r.exit?.kind === 'reboot' };
  if (r.kind === 'load-error' || r.kind === 'no-main') return { code: 1, reason: 'the script could not load' };
  if (r.kind === 'exit') {
    if (r.exit && r.exit.kind !== 'reboot') return { code: 1, reason: `the VM ended (${r.exit.kind})` };
    return { code: expectsPending ? 1 : 0, reason: 'rebooted under --reboot exit' };
  }
  if (r.kind === 'max-boots') return { code: 1, reason: 'boot limit reached' };
  return { code: expectsPending ? 42 : 0, reason: 'stopped' };
}

/** Start the device and wait for the end of the run (expectations, fail texts, stop, timeout, signals, a closed output); then tear down. */
function waitForRun(o: RunOptions, parts: RunParts): Promise<RunResult> {
  const { device, sink, output } = parts;
  return new Promise<RunResult>((resolve) => {
    const pendingExpect = new Set(o.expect);
    let done = false;
    const finish = (r: RunResult) => {
      if (done) return;
      done = true;
      off();
      device.mute();
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
      void teardownRun(parts).then(() => resolve(r));
    };
    output.onClosed = () => finish({ code: 0, reason: 'the output was closed' });
    const off = sink.on((_r, text) => {
      for (const f of o.fail) {
        if (text.includes(f)) return finish({ code: 1, reason: `fail text appeared: ${f}` });
      }
      for (const x of [...pendingExpect]) if (text.includes(x)) pendingExpect.delete(x);
      if (o.expect.length > 0 && pendingExpect.size === 0) finish({ code: 0, reason: 'all expectations met' });
    });
    const onSig = () => finish({ code: 130, reason: 'interrupted' });
    process.on('SIGINT', onSig);
    process.on('SIGTERM', onSig);
    device.on('vmexit', (x: { kind: string }) => {
      // a script that cannot load ends the run whatever the reboot policy says
      if (x.kind === 'load') setImmediate(() => finish({ code: 1, reason: 'the script could not load' }));
    });
    device.on('stopped', (r: StopReason) => {
      if (done) return;
      // let the listeners see the last lines first
      setImmediate(() => finish(stoppedResult(r, pendingExpect.size > 0)));
    });
    device.on('timeout', () => {
      if (pendingExpect.size > 0) finish({ code: 42, reason: `timeout: not seen: ${[...pendingExpect].join(' | ')}` });
      else finish({ code: 0, reason: 'timeout' });
    });
    noteScheduledFaults(o, parts, () => done);
    device.on('usage-error', (m: string) => finish({ code: 2, reason: `${m}\nTry 'luatos --help'.` }));
    // the reason goes to stderr (main prints it): `luatos: cannot start the device: ...`
    device.on('start-error', (e: Error) => finish({ code: 1, reason: `cannot start the device: ${e.message}` }));
    device.start().catch((e: Error) => finish({ code: 1, reason: `cannot start the device: ${e.message}` }));
  });
}

/**
 * --fault: a line where it runs (in the log's order: the worker's messages keep theirs);
 * on stderr under --format jsonl, whose stdout is one JSON record a line
 */
function noteScheduledFaults(o: RunOptions, parts: RunParts, isDone: () => boolean): void {
  const { device, sink, output } = parts;
  const note = (t: string) => {
    if (o.format === 'jsonl') return void process.stderr.write(t);
    sink.flush(); // the lines before it first (the sink batches its writes)
    output.say(t);
  };
  device.on('scheduled-fault', (x: { fault: ScheduledFault; phase: string; error?: string }) => {
    if (isDone()) return;
    if (x.phase === 'start') note(`luatos: fault at ${x.fault.atMs} ms: ${[x.fault.name, ...x.fault.args].join(' ')}\n`);
    else if (x.phase === 'error') note(`luatos: WARNING: --fault '${x.fault.text}' could not run: ${x.error}\n`);
  });
}

/** The end of a run: the device stopped, the log closed, the coverage report, the services stopped. */
async function teardownRun(parts: RunParts): Promise<void> {
  const { device, sink, output } = parts;
  await device.stop();
  try {
    sink.close();
  } catch {
    /* the output is gone */
  }
  if (device.coverageReport) output.say(device.coverageReport);
  await Promise.allSettled([parts.web?.close(), parts.platform?.stop(), parts.dap?.close()]);
  output.release();
  if (output.gone) output.out.on?.('error', () => undefined); // late writes of a closed pipe stay quiet
}

const CAMERAS_HELP = `luatos cameras — list the cameras this PC has (for luatos run --camera)

Usage:
  luatos cameras
`;

const BOARDS_HELP = `luatos boards — list the boards luatos run --board takes (the default marked)

Usage:
  luatos boards
`;

/** `luatos boards` and `luatos cameras` take only --help: true when it was given. */
function noArgs(cmd: string, args: string[]): boolean {
  const { values, positionals } = readArgs(args, { help: help() });
  if (values.help) return true;
  if (positionals.length > 0) throw new UsageError(`${cmd} takes no arguments (got '${positionals[0]}')`);
  return false;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      process.stdout.write(HELP);
      return cmd ? 0 : 2;
    }
    if (cmd === '--version' || cmd === '-v') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      process.stdout.write(require('../../../package.json').version + '\n');
      return 0;
    }
    if (cmd === 'logs') return await logsCommand(rest, process.stdout);
    if (cmd === 'test') return await testCommand(rest, process.stdout);
    if (cmd === 'fleet') {
      const parsers = { parseRunArgs, resolveScripts };
      const fo = parseFleetArgs(rest, parsers);
      if (fo.help) {
        process.stdout.write(FLEET_HELP);
        return 0;
      }
      const r = await runFleet(fo, parsers);
      if (r.code !== 0 && r.code !== 130) process.stderr.write(`luatos: ${r.reason}\n`);
      return r.code === 130 ? 0 : r.code;
    }
    if (cmd === 'cameras') {
      if (noArgs('cameras', rest)) {
        process.stdout.write(CAMERAS_HELP);
        return 0;
      }
      let ffmpegPath: string | undefined;
      try {
        ffmpegPath = locateFfmpeg().path;
      } catch {
        ffmpegPath = undefined;
      }
      const cams = await listCameras({ ffmpegPath });
      if (cams.length === 0) process.stdout.write('no camera found (use --camera testsrc or --camera file:PATH)\n');
      for (const c of cams) process.stdout.write(`${c.source}\t${c.name}\n`);
      return 0;
    }
    if (cmd === 'boards') {
      if (noArgs('boards', rest)) {
        process.stdout.write(BOARDS_HELP);
        return 0;
      }
      process.stdout.write(formatBoardList());
      return 0;
    }
    if (cmd === 'run') {
      const o = parseRunArgs(rest);
      if (o.help) {
        process.stdout.write(HELP);
        return 0;
      }
      const r = await runDevice(o);
      // a code the script chose: the process exit status is its low 8 bits, as exit(3) gives
      if (r.scriptExit) return r.code & 0xff;
      if (r.code !== 0 && r.code !== 130) process.stderr.write(`luatos: ${r.reason}\n`);
      return r.code === 130 ? 0 : r.code;
    }
    throw new UsageError(`unknown command '${cmd}'`);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`luatos: ${e.message}\nTry 'luatos --help'.\n`);
      return 2;
    }
    process.stderr.write(`luatos: ${(e as Error).message}\n`);
    return 1;
  }
}
