/**
 * Runs one scenario: boots a fresh device on the scenario's scripts, plays the steps against
 * its log, and says pass (exit 0), fail (1) or timeout (42), with what is needed for a report.
 *
 * How steps run (in order, one at a time):
 *  - trigger: `at: T` waits until T of device time since the first boot (at once if already
 *    past); `after: D` waits D after the previous step; `wait-for: P` waits for a log line
 *    matching P (with `timeout:` → the step fails when it elapses; without → the scenario's
 *    timeout applies, exit 42).
 *  - action:
 *    - `expect: P` — a line matching P must appear. The search starts at the "cursor": the line
 *      after the previous match, or the first line logged after the previous fault. So
 *      expectations are ordered: `expect: A` then `expect: B` needs B after A. With `within: D`
 *      the step fails (exit 1) if no line matched D of device time after the step began;
 *      without `within` it waits as long as the scenario runs (exit 42).
 *    - `expect-not: P` — with `within: D`, no line from the cursor to D after the step began may
 *      match (the step takes D); without `within`, a guard: no line from the cursor to the end
 *      of the scenario may match (the next step starts at once).
 *    - `expect-reboot[: any|crash|watchdog|reboot]` — the VM must end (a crash: error/load/script
 *      returned; watchdog: the hardware watchdog or a runaway; reboot: rtos.reboot) after the
 *      cursor; the reboot it expects does not fail the scenario. Optional `within`. It does not
 *      move the cursor, so the steps after it can check the exit's lines (the traceback).
 *    - a fault (`wifi`, `rtmp-server`, `http`, `dns`, `camera`, `reboot`) — runs
 *      `device.faults.run(kind, args)`; an unknown fault or a handler error fails the step.
 *      The cursor moves to the end of the log first: expectations after a fault look at what
 *      followed it. The virtual clock is held while a fault handler runs.
 *  - A matched wait/expectation moves the cursor past the matching line.
 *
 * Crashes and reboots: any VM exit (a Lua error that ends the VM, the watchdog, rtos.reboot, a
 * script that returns) fails the scenario with the exit message and its traceback, unless an
 * `expect-reboot` step is waiting for it, it follows the scenario's own `reboot` step, or
 * `options: { allow-reboot: true }` is set. Then the device reboots as a real one does, and
 * more than `max-boots` boots (default 10) is a reboot loop: the scenario fails.
 *
 * After a failure the device runs on for a moment (up to 10 more lines, 1 s of device time,
 * 1.5 s of wall time) so the report can show the log after the failure point.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Clock, holdIfSlow, RealClock, TimerHandle, VirtualClock } from '../../core/clock';
import { Device, StopReason } from '../../core/device';
import { createDevice } from '../../boards/device';
import { LogSink } from '../../core/log';
import { boardNetwork, boardProfile, DEFAULT_BOARD, getBoard, setupBoard } from '../../boards';
import type { HostMapRule } from '../../net/direct';
import type { VmExit } from '../../core/device';
import { describePattern, LinePattern, LogLine, makeLogLine, matches, textMatches } from './pattern';
import { loadPlatformFactory, LocalPlatform, PlatformFactory } from './platform';
import { loadScenario, RebootKind, Scenario, ScenarioError, Step } from './schema';
import { errorResult, type ScenarioExit, type ScenarioMark, type ScenarioResult, type StepRecord, type ScenarioFailure, type ScenarioStatus } from './result';
import { ScenarioFleet } from './fleet';

export type { ScenarioStatus, ScenarioFailure, StepRecord, ScenarioExit, ScenarioMark, ScenarioResult } from './result';

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

const CONTEXT_AFTER_LINES = 10;
const GRACE_DEVICE_MS = 1000;
const GRACE_WALL_MS = 1500;

function ruleText(r: string | HostMapRule): string {
  if (typeof r === 'string') return r;
  return `${r.host}${r.port !== undefined ? `:${r.port}` : ''}=${r.toHost}${r.toPort !== undefined ? `:${r.toPort}` : ''}`;
}

function fmtT(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}

function rebootMatches(which: RebootKind, kind: VmExit['kind']): boolean {
  switch (which) {
    case 'any':
      return true;
    case 'crash':
      return kind === 'error' || kind === 'load' || kind === 'returned';
    case 'watchdog':
      return kind === 'watchdog';
    case 'reboot':
      return kind === 'reboot';
  }
}

export function describeExit(kind: VmExit['kind']): string {
  switch (kind) {
    case 'error':
      return 'the Lua VM crashed (an error ended it)';
    case 'load':
      return 'the script failed to load';
    case 'returned':
      return 'main.lua returned (no sys.run()): the VM exited';
    case 'watchdog':
      return 'the watchdog reset the device';
    case 'reboot':
      return 'the script rebooted the device (rtos.reboot)';
    case 'exit':
      return 'the script ended the run (os.exit)';
    default:
      return `the VM ended (${kind})`;
  }
}

/** Run a scenario (a parsed one, or a YAML file). Never throws for scenario problems: they become results. */
export async function runScenario(input: Scenario | string, opts: RunScenarioOptions = {}): Promise<ScenarioResult> {
  let sc: Scenario;
  if (typeof input === 'string') {
    try {
      sc = loadScenario(input);
    } catch (e) {
      const file = path.resolve(input);
      const msg = e instanceof ScenarioError ? e.message : (e as Error).message;
      return errorResult({ file, name: path.basename(file).replace(/\.ya?ml$/i, '') }, `invalid scenario: ${msg}`, opts.engine ?? 'lua53', opts.clock ?? 'virtual');
    }
  } else sc = input;
  const engine = opts.engine ?? sc.options.engine;
  const clockKind = opts.clock ?? sc.options.clock;
  const wallStart = performance.now();

  let platform: LocalPlatform | null = null;
  if (sc.options.platform === 'local') {
    try {
      const factory = opts.platformFactory ?? loadPlatformFactory();
      platform = await factory({ ...sc.options.platformOptions });
    } catch (e) {
      return errorResult(sc, `cannot start the local platform: ${(e as Error).message}`, engine, clockKind);
    }
  }

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-scenario-'));
  const cleanup = async () => {
    try {
      await platform?.stop();
    } catch {
      /* stopping must go on */
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };

  let device: Device;
  let fleet: ScenarioFleet | null = null;
  let sink: LogSink;
  let streamOpen = true;
  const clock: Clock = clockKind === 'virtual' ? new VirtualClock() : new RealClock();
  try {
    const profileOver: Record<string, unknown> = { ...sc.profile };
    if (sc.options.camera) profileOver.camera = { ...((sc.profile.camera as Record<string, unknown>) ?? {}), ...sc.options.camera };
    const board = getBoard(sc.options.board ?? DEFAULT_BOARD);
    const profile = boardProfile(board, profileOver);
    const map = [...sc.options.map, ...(platform ? platform.mapRules().map(ruleText) : [])];
    const network = boardNetwork(board, profile, { wifi: sc.options.wifi, map });
    // the live stream stops with the scenario (teardown lines of a stopping device stay out of it)
    const live = opts.logStream ?? null;
    const gate = live ? ({ write: (b: Buffer | string) => (streamOpen ? live.write(b) : true) } as unknown as NodeJS.WritableStream) : null;
    sink = new LogSink({ stream: gate, file: opts.logFile, color: false });
    const scriptsDir = opts.scripts ? path.resolve(opts.scripts) : sc.scriptsDir;
    if (!fs.existsSync(scriptsDir) || !fs.statSync(scriptsDir).isDirectory()) throw new Error(`script folder not found: ${scriptsDir}`);
    device = createDevice({
      scripts: scriptsDir,
      engine,
      profile,
      log: sink,
      dataDir: path.join(dataDir, 'fs'),
      reboot: 'restart',
      maxBoots: sc.options.maxBoots,
      clock,
      network,
    });
    setupBoard(board, device);
    platform?.registerFaults(device.faults);
    if (sc.fleet) {
      fleet = new ScenarioFleet({
        devices: sc.fleet.devices,
        prefix: sc.fleet.prefix,
        staggerMs: sc.fleet.staggerMs,
        scripts: sc.fleet.scriptsDir ?? scriptsDir,
        engine,
        board: board.name,
        profile,
        wifi: sc.options.wifi,
        map,
        clock,
        dataDir: path.join(dataDir, 'fleet'),
      });
    }
    await opts.onDevice?.(device);
  } catch (e) {
    await cleanup();
    return errorResult(sc, `cannot set up the device: ${(e as Error).message}`, engine, clockKind);
  }

  const steps: StepRecord[] = sc.steps.map((step) => ({ step, status: 'not-run' }));
  const lines: LogLine[] = [];
  const exits: ScenarioExit[] = [];
  const marks: ScenarioMark[] = [];

  const result = await new Promise<Omit<ScenarioResult, 'wallMs'>>((resolve) => {
    let t0: number | null = null;
    const now = () => (t0 === null ? 0 : clock.now() - t0);
    let cursor = 0; // index into lines: expectations look at lines[cursor..]
    let current = -1;
    let waiter: { test: (l: LogLine) => boolean; onMatch: (l: LogLine) => void } | null = null;
    let rebootWaiter: { which: RebootKind; onExit: (x: ScenarioExit) => void } | null = null;
    const guards: { step: Step; pattern: LinePattern }[] = [];
    let stepTimers: TimerHandle[] = [];
    let hostRebootBoot: number | null = null;
    let overallTimer: TimerHandle | null = null;
    let wallTimer: NodeJS.Timeout | null = null;
    let failure: ScenarioFailure | undefined;
    let status: ScenarioStatus = 'passed';
    let failing = false;
    let graceUntilLine = 0;
    let graceTimer: TimerHandle | null = null;
    let graceWall: NodeJS.Timeout | null = null;
    let done = false;
    let offPlatform = () => {};
    let offFleet = () => {};

    const clearStepTimers = () => {
      for (const h of stepTimers) clock.clearTimer(h);
      stepTimers = [];
    };
    const timer = (ms: number, fn: () => void) => {
      stepTimers.push(clock.setTimer(Math.max(0, ms), () => {
        if (!failing) fn();
      }));
    };

    const finish = () => {
      if (done) return;
      done = true;
      clock.clearTimer(overallTimer);
      clock.clearTimer(graceTimer);
      if (wallTimer) clearTimeout(wallTimer);
      if (graceWall) clearTimeout(graceWall);
      clearStepTimers();
      offLog();
      offPlatform();
      const deviceMs = now();
      sink.flush();
      streamOpen = false;
      device.dispose();
      fleet?.dispose();
      offFleet();
      sink.close();
      for (const s of steps) if (s.status === 'not-run' && s.started !== undefined) s.status = 'pending';
      resolve({
        file: sc.file,
        name: sc.name,
        status,
        exitCode: status === 'passed' ? 0 : status === 'timeout' ? 42 : 1,
        failure,
        steps,
        lines,
        exits,
        marks,
        boots: device.boots,
        deviceMs,
        clock: clockKind,
        engine,
      });
    };

    const fail = (f: Omit<ScenarioFailure, 't' | 'hints'> & { hints?: string[] }, kind: 'failed' | 'timeout' = 'failed') => {
      if (failing || done) return;
      failing = true;
      status = kind;
      failure = { ...f, t: now(), hints: f.hints ?? [] };
      if (current >= 0 && current < steps.length && steps[current].status !== 'passed') {
        steps[current].status = f.step === steps[current].step ? 'failed' : 'pending';
        steps[current].ended = now();
      }
      waiter = null;
      rebootWaiter = null;
      clearStepTimers();
      if (kind === 'timeout') return void setImmediate(finish);
      // let the device run on a little so the report shows what followed
      graceUntilLine = lines.length + CONTEXT_AFTER_LINES;
      graceTimer = clock.setTimer(GRACE_DEVICE_MS, finish);
      graceWall = setTimeout(finish, GRACE_WALL_MS);
    };

    const searched = (from: number): string => {
      const n = lines.length - from;
      if (n <= 0) return `no line was logged after line ${from} by ${fmtT(now())}`;
      return `searched ${n} line${n === 1 ? '' : 's'}, #${from + 1} to #${lines.length}, logged by ${fmtT(now())}`;
    };

    const firstMatch = (p: LinePattern, from: number): LogLine | undefined => {
      for (let i = from; i < lines.length; i++) if (matches(p, lines[i])) return lines[i];
      return undefined;
    };

    /** Hints for a pattern that did not match: near misses and earlier matches. */
    const nearMisses = (p: LinePattern, from: number): string[] => {
      const hints: string[] = [];
      if (p.level || p.tag !== undefined) {
        const near = lines.slice(from).find((l) => textMatches(p, l));
        if (near) hints.push(`line ${near.no} has the text but level ${near.level}, tag ${near.tag ?? '(none)'}: ${near.body.split('\n')[0]}`);
      }
      const before = lines.slice(0, from).filter((l) => matches(p, l));
      if (before.length) {
        const b = before[before.length - 1];
        hints.push(`a matching line was logged before this step's search began (line ${b.no} at ${fmtT(b.t)}; the search started after line ${from}): ${b.body.split('\n')[0]}`);
      }
      return hints;
    };

    const waitFor = (step: Step, p: LinePattern, limitMs: number | undefined, what: string, cont: () => void) => {
      const hit = firstMatch(p, cursor);
      if (hit) {
        cursor = hit.no;
        return cont();
      }
      const from = cursor;
      const started = now();
      waiter = {
        test: (l) => matches(p, l),
        onMatch: (l) => {
          cursor = l.no;
          cont();
        },
      };
      if (limitMs !== undefined) {
        timer(limitMs, () => {
          waiter = null;
          fail({
            step,
            message: `${what}: no line matched within ${fmtT(limitMs)} (${searched(from)}; the step began at ${fmtT(started)})`,
            expected: describePattern(p),
            at: lines.length,
            between: true,
            hints: nearMisses(p, from),
          });
        });
      }
    };

    const nextStep = () => {
      if (failing || done) return;
      if (current >= 0) {
        steps[current].status = 'passed';
        steps[current].ended = now();
      }
      clearStepTimers();
      waiter = null;
      rebootWaiter = null;
      current++;
      if (current >= steps.length) {
        status = 'passed';
        // nothing may fail the scenario any more (a crash on the way out)
        failing = true;
        return void setImmediate(finish);
      }
      const rec = steps[current];
      rec.started = now();
      const step = rec.step;
      const cont = () => later(() => runAction(step));
      const tr = step.trigger;
      switch (tr.kind) {
        case 'none':
          return runAction(step);
        case 'at': {
          const wait = tr.ms - now();
          if (wait <= 0) return runAction(step);
          return timer(wait, () => runAction(step));
        }
        case 'after':
          return timer(tr.ms, () => runAction(step));
        case 'wait-for':
          return waitFor(step, tr.pattern, tr.timeoutMs, `wait-for timed out`, cont);
      }
    };

    // Continuations run from a 0 ms device timer, never from inside the VM: under a virtual
    // clock that also makes the VM handle what a step did (a published event) before time moves.
    const later = (fn: () => void) => {
      clock.setTimer(0, () => {
        if (!failing && !done) fn();
      });
    };
    const advance = () => later(nextStep);

    const runAction = (step: Step) => {
      if (failing || done) return;
      clearStepTimers();
      const a = step.action;
      switch (a.kind) {
        case 'none':
          return advance();
        case 'expect':
          return waitFor(step, a.pattern, a.withinMs, 'expected line not seen', advance);
        case 'expect-not': {
          const hit = firstMatch(a.pattern, cursor);
          if (hit) {
            return fail({ step, message: `a forbidden line appeared (line ${hit.no} at ${fmtT(hit.t)})`, expected: describePattern(a.pattern, true), at: hit.no, between: false });
          }
          if (a.withinMs === undefined) {
            guards.push({ step, pattern: a.pattern });
            return advance();
          }
          const p = a.pattern;
          waiter = {
            test: (l) => matches(p, l),
            onMatch: (l) => fail({ step, message: `a forbidden line appeared (line ${l.no} at ${fmtT(l.t)})`, expected: `${describePattern(p, true)} within ${fmtT(a.withinMs as number)}`, at: l.no, between: false }),
          };
          return timer(a.withinMs, () => {
            waiter = null;
            advance();
          });
        }
        case 'expect-reboot': {
          const prior = exits.find((x) => !x.accepted && x.atLine >= cursor && rebootMatches(a.which, x.kind));
          // the cursor stays: the exit's own lines (the traceback) can be checked by the next steps
          if (prior) {
            prior.accepted = 'expect-reboot';
            return advance();
          }
          rebootWaiter = { which: a.which, onExit: () => advance() };
          if (a.withinMs !== undefined) {
            const w = a.withinMs;
            timer(w, () => {
              rebootWaiter = null;
              fail({ step, message: `no ${a.which === 'any' ? 'reboot' : a.which} within ${fmtT(w)}`, expected: `the VM to end (${a.which})`, at: lines.length, between: true });
            });
          }
          return;
        }
        case 'fleet-expect': {
          const f = fleet as ScenarioFleet;
          const p = a.pattern;
          const check = () => f.missing(p).length === 0;
          if (check()) return advance();
          const started = now();
          offFleet();
          offFleet = f.onMatch(() => {
            if (failing || done || !check()) return;
            offFleet();
            offFleet = () => {};
            clearStepTimers();
            later(advance);
          });
          if (a.withinMs !== undefined) {
            const w = a.withinMs;
            timer(w, () => {
              offFleet();
              offFleet = () => {};
              const miss = f.missing(p);
              fail({
                step,
                message: `fleet: ${miss.length} of ${f.members.length} devices logged no matching line within ${fmtT(w)} (the step began at ${fmtT(started)}): ${miss.slice(0, 10).join(', ')}${miss.length > 10 ? ', ...' : ''}`,
                expected: `${describePattern(p)} on every fleet device`,
                at: lines.length,
                between: true,
              });
            });
          }
          return;
        }
        case 'fleet-fault': {
          const f = fleet as ScenarioFleet;
          const n = f.select(a.percent).length;
          marks.push({ after: lines.length, t: now(), text: `step ${step.index}: fleet ${[a.fault, ...a.args].join(' ')} on ${n} of ${f.members.length} devices` });
          const settle = holdIfSlow(clock, `scenario step ${step.index}: fleet ${a.fault}`);
          f.runFault(a.fault, a.args, a.percent).then((errors) => {
            settle();
            if (errors.length) return fail({ step, message: `fleet fault '${[a.fault, ...a.args].join(' ')}' failed on ${errors.length} device(s): ${errors.slice(0, 5).join('; ')}`, at: lines.length, between: true });
            advance();
          });
          return;
        }
        case 'fault': {
          cursor = lines.length;
          marks.push({ after: lines.length, t: now(), text: `step ${step.index}: ${[a.fault, ...a.args].join(' ')}` });
          if (a.fault === 'reboot') hostRebootBoot = device.vm && !device.vm.isDead ? device.vm.bootNo : null;
          let p: Promise<void>;
          try {
            p = device.faults.run(a.fault, a.args);
          } catch (e) {
            p = Promise.reject(e);
          }
          // a handler that does real async work (restarting a server) holds the virtual clock;
          // one that is done within a few microtasks does not (no macrotask can run meanwhile,
          // so device time stays exact)
          const settle = holdIfSlow(clock, `scenario step ${step.index}: ${a.fault}`);
          p.then(
            () => {
              settle();
              advance();
            },
            (e: Error) => {
              settle();
              fail({ step, message: `the fault '${[a.fault, ...a.args].join(' ')}' could not run: ${e.message}`, at: lines.length, between: true });
            },
          );
          return;
        }
      }
    };

    const offLog = sink.on((r) => {
      if (done) return;
      const line = makeLogLine(r, lines.length + 1, now());
      lines.push(line);
      if (failing) {
        if (lines.length >= graceUntilLine) setImmediate(finish);
        return;
      }
      for (const g of guards) {
        if (matches(g.pattern, line)) {
          return fail({ step: g.step, message: `a forbidden line appeared (line ${line.no} at ${fmtT(line.t)})`, expected: `${describePattern(g.pattern, true)} until the end of the scenario`, at: line.no, between: false });
        }
      }
      if (waiter && waiter.test(line)) {
        const w = waiter;
        waiter = null;
        // the match wins over a deadline due at the same device time
        clearStepTimers();
        later(() => w.onMatch(line));
      }
    });

    // the platform's own account of faults and ingest state, for the report
    const onPlatformLog = (level: string, msg: string) => {
      if (!done && (level === 'W' || level === 'E')) marks.push({ after: lines.length, t: now(), text: `platform: ${msg}` });
    };
    const pe = platform as unknown as { on?: (ev: string, fn: (...a: never[]) => void) => void; off?: (ev: string, fn: (...a: never[]) => void) => void } | null;
    pe?.on?.('log', onPlatformLog);
    offPlatform = () => pe?.off?.('log', onPlatformLog);

    device.on('boot', (bootNo: number) => {
      if (bootNo !== 1 || t0 !== null) return;
      t0 = clock.now();
      overallTimer = clock.setTimer(sc.options.timeoutMs, () => {
        overallTimer = null;
        const rec = steps[current];
        fail(
          {
            step: rec?.step,
            message: `scenario timeout: ${fmtT(sc.options.timeoutMs)} of device time elapsed with step ${rec?.step.index ?? '?'} of ${steps.length} still waiting`,
            expected: pendingWhat(rec?.step),
            at: lines.length,
            between: true,
            hints: rec ? hintsFor(rec.step) : [],
          },
          'timeout',
        );
      });
      wallTimer = setTimeout(() => {
        const rec = steps[current];
        fail(
          {
            step: rec?.step,
            message: `wall-clock limit: ${fmtT(sc.options.wallTimeoutMs)} of real time elapsed (device time ${fmtT(now())}) with step ${rec?.step.index ?? '?'} still waiting`,
            expected: pendingWhat(rec?.step),
            at: lines.length,
            between: true,
          },
          'timeout',
        );
      }, sc.options.wallTimeoutMs);
      advance();
    });

    const pendingWhat = (step?: Step): string | undefined => {
      if (!step) return undefined;
      if (step.action.kind === 'expect') return describePattern(step.action.pattern);
      if (step.action.kind === 'fleet-expect') return `${describePattern(step.action.pattern)} on every fleet device (missing: ${fleet?.missing(step.action.pattern).slice(0, 10).join(', ')})`;
      if (step.action.kind === 'expect-reboot') return `the VM to end (${step.action.which})`;
      if (step.trigger.kind === 'wait-for') return describePattern(step.trigger.pattern);
      return undefined;
    };
    const hintsFor = (step: Step): string[] => {
      const p = step.action.kind === 'expect' ? step.action.pattern : step.trigger.kind === 'wait-for' ? step.trigger.pattern : null;
      return p ? nearMisses(p, cursor) : [];
    };

    device.on('vmexit', (x: VmExit, bootNo: number) => {
      if (x.kind === 'stopped' || done) return;
      const ex: ScenarioExit = { boot: bootNo, kind: x.kind, message: x.message, atLine: lines.length, t: now() };
      exits.push(ex);
      if (failing) return;
      if (hostRebootBoot === bootNo) {
        hostRebootBoot = null;
        ex.accepted = 'reboot step';
        return;
      }
      if (rebootWaiter && rebootMatches(rebootWaiter.which, x.kind)) {
        const w = rebootWaiter;
        rebootWaiter = null;
        ex.accepted = 'expect-reboot';
        clearStepTimers();
        later(() => w.onExit(ex));
        return;
      }
      if (sc.options.allowReboot) {
        ex.accepted = 'allow-reboot';
        return;
      }
      const upcoming = steps.slice(Math.max(0, current)).find((s) => s.step.action.kind === 'expect-reboot');
      const hints: string[] = [];
      if (rebootWaiter) hints.push(`step ${steps[current].step.index} expects a reboot of kind '${rebootWaiter.which}', this one is '${x.kind}'`);
      else if (upcoming) hints.push(`step ${upcoming.step.index} expects a reboot, but the device went down earlier, while step ${steps[current]?.step.index ?? '?'} was running; move the expect-reboot step up or set options: { allow-reboot: true }`);
      else hints.push('if the scenario means to crash or reboot, add an expect-reboot step or set options: { allow-reboot: true }');
      fail({
        step: steps[current]?.step,
        message: `${describeExit(x.kind)} during step ${steps[current]?.step.index ?? '?'} (boot ${bootNo}, ${fmtT(now())})`,
        traceback: x.message,
        at: lines.length,
        between: true,
        hints,
      });
    });

    device.on('stopped', (r: StopReason) => {
      if (done) return;
      // a microtask, not setImmediate: a virtual clock would jump to the next timer first
      queueMicrotask(() => {
        if (failing || done) return;
        if (r.kind === 'max-boots') {
          const last = exits[exits.length - 1];
          return fail({
            step: steps[current]?.step,
            message: `reboot loop: the device booted ${device.boots} times (max-boots ${sc.options.maxBoots})${last ? `; the last exit: ${describeExit(last.kind)}` : ''}`,
            traceback: last?.message,
            at: lines.length,
            between: true,
          });
        }
        if (r.kind === 'load-error' || r.kind === 'no-main') {
          return fail({ step: steps[current]?.step, message: r.kind === 'no-main' ? 'main.lua not found in the script folder' : 'the script could not load', traceback: r.exit?.message, at: lines.length, between: true });
        }
        fail({ step: steps[current]?.step, message: `the device stopped (${r.kind})`, at: lines.length, between: true });
      });
    });

    device.start().catch((e: Error) => {
      fail({ message: `cannot start the device: ${e.message}`, at: 0, between: true });
    });
    fleet?.start((name, e) => fail({ message: `cannot start fleet device ${name}: ${e.message}`, at: 0, between: true }));
  });
  await cleanup();
  return { ...result, wallMs: performance.now() - wallStart };
}
