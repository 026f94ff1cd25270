/**
 * Playing a scenario's steps against a device that is set up (runtime/host/scenario/setup.ts):
 * the run's state (the log lines, the cursor, the step in progress, its waiter and timers), the
 * step sequence (triggers), failing and finishing (with the grace period after a failure), and
 * the device's events (log lines, boot, VM exits, stop). The actions themselves are in
 * ./actions.ts, the matching logic in ./expect.ts; the rules are in runner.ts's header.
 */
import { Clock, TimerHandle } from '../../core/clock';
import type { StopReason, VmExit } from '../../core/device';
import { describePattern, LinePattern, LogLine, makeLogLine, matches } from './pattern';
import type { LocalPlatform } from './platform';
import type { Scenario, RebootKind, Step } from './schema';
import type { ScenarioExit, ScenarioFailure, ScenarioMark, ScenarioResult, ScenarioStatus, StepRecord } from './result';
import type { ScenarioRig } from './setup';
import { describeExit, firstMatch, fmtT, hintsFor, nearMisses, pendingWhat, rebootMatches, searched } from './expect';
import { runAction, type RunState } from './actions';

const CONTEXT_AFTER_LINES = 10;
const GRACE_DEVICE_MS = 1000;
const GRACE_WALL_MS = 1500;

type FailureIn = Omit<ScenarioFailure, 't' | 'hints'> & { hints?: string[] };

/** One scenario run. Its fields are the state the actions (./actions.ts) work on. */
export class ScenarioRun implements RunState {
  readonly steps: StepRecord[];
  readonly lines: LogLine[] = [];
  readonly exits: ScenarioExit[] = [];
  readonly marks: ScenarioMark[] = [];
  /** device time at the first boot */
  private t0: number | null = null;
  /** index into lines: expectations look at lines[cursor..] */
  cursor = 0;
  current = -1;
  waiter: { test: (l: LogLine) => boolean; onMatch: (l: LogLine) => void } | null = null;
  rebootWaiter: { which: RebootKind; onExit: (x: ScenarioExit) => void } | null = null;
  readonly guards: { step: Step; pattern: LinePattern }[] = [];
  /** the boot a `reboot` fault step ends (its exit does not fail the scenario) */
  hostRebootBoot: number | null = null;
  failing = false;
  done = false;
  /** undo the fleet-expect listener */
  offFleet = () => {};
  private stepTimers: TimerHandle[] = [];
  private overallTimer: TimerHandle | null = null;
  private wallTimer: NodeJS.Timeout | null = null;
  private failure: ScenarioFailure | undefined;
  private status: ScenarioStatus = 'passed';
  private graceUntilLine = 0;
  private graceTimer: TimerHandle | null = null;
  private graceWall: NodeJS.Timeout | null = null;
  private offPlatform = () => {};
  private offLog = () => {};
  readonly device: ScenarioRig['device'];
  readonly fleet: ScenarioRig['fleet'];

  constructor(
    readonly sc: Scenario,
    private readonly rig: ScenarioRig,
    readonly clock: Clock,
    private readonly meta: { engine: string; clockKind: 'virtual' | 'real'; platform: LocalPlatform | null },
    private readonly resolve: (r: Omit<ScenarioResult, 'wallMs'>) => void,
  ) {
    this.steps = sc.steps.map((step) => ({ step, status: 'not-run' }));
    this.device = rig.device;
    this.fleet = rig.fleet;
  }

  /** Device time since the first boot. */
  now(): number {
    return this.t0 === null ? 0 : this.clock.now() - this.t0;
  }

  clearStepTimers(): void {
    for (const h of this.stepTimers) this.clock.clearTimer(h);
    this.stepTimers = [];
  }

  /** A step timer (cleared when the step ends; ignored once the scenario is failing). */
  timer(ms: number, fn: () => void): void {
    this.stepTimers.push(
      this.clock.setTimer(Math.max(0, ms), () => {
        if (!this.failing) fn();
      }),
    );
  }

  // Continuations run from a 0 ms device timer, never from inside the VM: under a virtual
  // clock that also makes the VM handle what a step did (a published event) before time moves.
  later(fn: () => void): void {
    this.clock.setTimer(0, () => {
      if (!this.failing && !this.done) fn();
    });
  }

  readonly advance = (): void => this.later(() => this.nextStep());

  // ------------------------------------------------------------------ start, fail, finish

  /** Listen to the device (and platform, fleet) and boot it. */
  start(): void {
    const { device, sink, fleet } = this.rig;
    this.offLog = sink.on((r) => this.onRecord(r));
    // the platform's own account of faults and ingest state, for the report
    const onPlatformLog = (level: string, msg: string) => {
      if (!this.done && (level === 'W' || level === 'E')) this.marks.push({ after: this.lines.length, t: this.now(), text: `platform: ${msg}` });
    };
    const pe = this.meta.platform as unknown as { on?: (ev: string, fn: (...a: never[]) => void) => void; off?: (ev: string, fn: (...a: never[]) => void) => void } | null;
    pe?.on?.('log', onPlatformLog);
    this.offPlatform = () => pe?.off?.('log', onPlatformLog);
    device.on('boot', (bootNo: number) => this.onBoot(bootNo));
    device.on('vmexit', (x: VmExit, bootNo: number) => this.onVmExit(x, bootNo));
    device.on('stopped', (r: StopReason) => this.onStopped(r));
    device.start().catch((e: Error) => {
      this.fail({ message: `cannot start the device: ${e.message}`, at: 0, between: true });
    });
    fleet?.start((name, e) => this.fail({ message: `cannot start fleet device ${name}: ${e.message}`, at: 0, between: true }));
  }

  readonly finish = (): void => {
    if (this.done) return;
    this.done = true;
    const { clock, rig } = this;
    clock.clearTimer(this.overallTimer);
    clock.clearTimer(this.graceTimer);
    if (this.wallTimer) clearTimeout(this.wallTimer);
    if (this.graceWall) clearTimeout(this.graceWall);
    this.clearStepTimers();
    this.offLog();
    this.offPlatform();
    const deviceMs = this.now();
    rig.sink.flush();
    rig.closeStream();
    rig.device.dispose();
    rig.fleet?.dispose();
    this.offFleet();
    rig.sink.close();
    for (const s of this.steps) if (s.status === 'not-run' && s.started !== undefined) s.status = 'pending';
    const status = this.status;
    this.resolve({
      file: this.sc.file,
      name: this.sc.name,
      status,
      exitCode: status === 'passed' ? 0 : status === 'timeout' ? 42 : 1,
      failure: this.failure,
      steps: this.steps,
      lines: this.lines,
      exits: this.exits,
      marks: this.marks,
      boots: rig.device.boots,
      deviceMs,
      clock: this.meta.clockKind,
      engine: this.meta.engine,
    });
  };

  fail(f: FailureIn, kind: 'failed' | 'timeout' = 'failed'): void {
    if (this.failing || this.done) return;
    this.failing = true;
    this.status = kind;
    this.failure = { ...f, t: this.now(), hints: f.hints ?? [] };
    const { steps, current } = this;
    if (current >= 0 && current < steps.length && steps[current].status !== 'passed') {
      steps[current].status = f.step === steps[current].step ? 'failed' : 'pending';
      steps[current].ended = this.now();
    }
    this.waiter = null;
    this.rebootWaiter = null;
    this.clearStepTimers();
    if (kind === 'timeout') return void setImmediate(this.finish);
    // let the device run on a little so the report shows what followed
    this.graceUntilLine = this.lines.length + CONTEXT_AFTER_LINES;
    this.graceTimer = this.clock.setTimer(GRACE_DEVICE_MS, this.finish);
    this.graceWall = setTimeout(this.finish, GRACE_WALL_MS);
  }

  // ------------------------------------------------------------------ steps

  /** Wait for a line matching `p` from the cursor (at most `limitMs`), then `cont`. */
  waitFor(step: Step, p: LinePattern, limitMs: number | undefined, what: string, cont: () => void): void {
    const hit = firstMatch(this.lines, p, this.cursor);
    if (hit) {
      this.cursor = hit.no;
      return cont();
    }
    const from = this.cursor;
    const started = this.now();
    this.waiter = {
      test: (l) => matches(p, l),
      onMatch: (l) => {
        this.cursor = l.no;
        cont();
      },
    };
    if (limitMs !== undefined) {
      this.timer(limitMs, () => {
        this.waiter = null;
        this.fail({
          step,
          message: `${what}: no line matched within ${fmtT(limitMs)} (${searched(this.lines, from, this.now())}; the step began at ${fmtT(started)})`,
          expected: describePattern(p),
          at: this.lines.length,
          between: true,
          hints: nearMisses(this.lines, p, from),
        });
      });
    }
  }

  /** End the current step (passed) and start the next one at its trigger. */
  nextStep(): void {
    if (this.failing || this.done) return;
    const { steps } = this;
    if (this.current >= 0) {
      steps[this.current].status = 'passed';
      steps[this.current].ended = this.now();
    }
    this.clearStepTimers();
    this.waiter = null;
    this.rebootWaiter = null;
    this.current++;
    if (this.current >= steps.length) {
      this.status = 'passed';
      // nothing may fail the scenario any more (a crash on the way out)
      this.failing = true;
      return void setImmediate(this.finish);
    }
    const rec = steps[this.current];
    rec.started = this.now();
    const step = rec.step;
    const act = () => runAction(this, step);
    const tr = step.trigger;
    switch (tr.kind) {
      case 'none':
        return act();
      case 'at': {
        const wait = tr.ms - this.now();
        if (wait <= 0) return act();
        return this.timer(wait, act);
      }
      case 'after':
        return this.timer(tr.ms, act);
      case 'wait-for':
        return this.waitFor(step, tr.pattern, tr.timeoutMs, `wait-for timed out`, () => this.later(act));
    }
  }

  // ------------------------------------------------------------------ device events

  private onRecord(r: Parameters<Parameters<ScenarioRig['sink']['on']>[0]>[0]): void {
    if (this.done) return;
    const line = makeLogLine(r, this.lines.length + 1, this.now());
    this.lines.push(line);
    if (this.failing) {
      if (this.lines.length >= this.graceUntilLine) setImmediate(this.finish);
      return;
    }
    for (const g of this.guards) {
      if (matches(g.pattern, line)) {
        return this.fail({ step: g.step, message: `a forbidden line appeared (line ${line.no} at ${fmtT(line.t)})`, expected: `${describePattern(g.pattern, true)} until the end of the scenario`, at: line.no, between: false });
      }
    }
    if (this.waiter && this.waiter.test(line)) {
      const w = this.waiter;
      this.waiter = null;
      // the match wins over a deadline due at the same device time
      this.clearStepTimers();
      this.later(() => w.onMatch(line));
    }
  }

  private pendingWhat(step?: Step): string | undefined {
    return pendingWhat(step, (p) => this.fleet?.missing(p));
  }

  /** The first boot starts device time, the scenario's timeouts and the first step. */
  private onBoot(bootNo: number): void {
    if (bootNo !== 1 || this.t0 !== null) return;
    const { sc, steps } = this;
    this.t0 = this.clock.now();
    this.overallTimer = this.clock.setTimer(sc.options.timeoutMs, () => {
      this.overallTimer = null;
      const rec = steps[this.current];
      this.fail(
        {
          step: rec?.step,
          message: `scenario timeout: ${fmtT(sc.options.timeoutMs)} of device time elapsed with step ${rec?.step.index ?? '?'} of ${steps.length} still waiting`,
          expected: this.pendingWhat(rec?.step),
          at: this.lines.length,
          between: true,
          hints: rec ? hintsFor(this.lines, rec.step, this.cursor) : [],
        },
        'timeout',
      );
    });
    this.wallTimer = setTimeout(() => {
      const rec = steps[this.current];
      this.fail(
        {
          step: rec?.step,
          message: `wall-clock limit: ${fmtT(sc.options.wallTimeoutMs)} of real time elapsed (device time ${fmtT(this.now())}) with step ${rec?.step.index ?? '?'} still waiting`,
          expected: this.pendingWhat(rec?.step),
          at: this.lines.length,
          between: true,
        },
        'timeout',
      );
    }, sc.options.wallTimeoutMs);
    this.advance();
  }

  /** A VM exit: accepted (reboot step, expect-reboot, allow-reboot) or a failure. */
  private onVmExit(x: VmExit, bootNo: number): void {
    if (x.kind === 'stopped' || this.done) return;
    const { steps, current } = this;
    const ex: ScenarioExit = { boot: bootNo, kind: x.kind, message: x.message, atLine: this.lines.length, t: this.now() };
    this.exits.push(ex);
    if (this.failing) return;
    if (this.hostRebootBoot === bootNo) {
      this.hostRebootBoot = null;
      ex.accepted = 'reboot step';
      return;
    }
    if (this.rebootWaiter && rebootMatches(this.rebootWaiter.which, x.kind)) {
      const w = this.rebootWaiter;
      this.rebootWaiter = null;
      ex.accepted = 'expect-reboot';
      this.clearStepTimers();
      this.later(() => w.onExit(ex));
      return;
    }
    if (this.sc.options.allowReboot) {
      ex.accepted = 'allow-reboot';
      return;
    }
    const upcoming = steps.slice(Math.max(0, current)).find((s) => s.step.action.kind === 'expect-reboot');
    const hints: string[] = [];
    if (this.rebootWaiter) hints.push(`step ${steps[current].step.index} expects a reboot of kind '${this.rebootWaiter.which}', this one is '${x.kind}'`);
    else if (upcoming) hints.push(`step ${upcoming.step.index} expects a reboot, but the device went down earlier, while step ${steps[current]?.step.index ?? '?'} was running; move the expect-reboot step up or set options: { allow-reboot: true }`);
    else hints.push('if the scenario means to crash or reboot, add an expect-reboot step or set options: { allow-reboot: true }');
    this.fail({
      step: steps[current]?.step,
      message: `${describeExit(x.kind)} during step ${steps[current]?.step.index ?? '?'} (boot ${bootNo}, ${fmtT(this.now())})`,
      traceback: x.message,
      at: this.lines.length,
      between: true,
      hints,
    });
  }

  /** The device stopped by itself (reboot loop, no main.lua, a load error, ...): a failure. */
  private onStopped(r: StopReason): void {
    if (this.done) return;
    // a microtask, not setImmediate: a virtual clock would jump to the next timer first
    queueMicrotask(() => {
      if (this.failing || this.done) return;
      const step = this.steps[this.current]?.step;
      if (r.kind === 'max-boots') {
        const last = this.exits[this.exits.length - 1];
        return this.fail({
          step,
          message: `reboot loop: the device booted ${this.device.boots} times (max-boots ${this.sc.options.maxBoots})${last ? `; the last exit: ${describeExit(last.kind)}` : ''}`,
          traceback: last?.message,
          at: this.lines.length,
          between: true,
        });
      }
      if (r.kind === 'load-error' || r.kind === 'no-main') {
        return this.fail({ step, message: r.kind === 'no-main' ? 'main.lua not found in the script folder' : 'the script could not load', traceback: r.exit?.message, at: this.lines.length, between: true });
      }
      this.fail({ step, message: `the device stopped (${r.kind})`, at: this.lines.length, between: true });
    });
  }
}
