/**
 * The scenario steps' actions (see runner.ts's header): expect, expect-not, expect-reboot, the
 * fault steps (`fault` on the device, `fleet-fault` on a share of the fleet) and fleet-expect.
 * Each works on the run's state (./play.ts) and ends by advancing to the next step or failing.
 */
import { holdIfSlow } from '../../core/clock';
import { describePattern, matches } from './pattern';
import type { Step } from './schema';
import type { ScenarioFleet } from './fleet';
import type { Clock } from '../../core/clock';
import type { Device } from '../../core/device';
import type { LinePattern, LogLine } from './pattern';
import type { ScenarioExit, ScenarioFailure, ScenarioMark } from './result';
import type { RebootKind } from './schema';
import { firstMatch, fmtT, rebootMatches } from './expect';

/** The run's state the actions work on (./play.ts: ScenarioRun). */
export interface RunState {
  readonly device: Device;
  readonly fleet: ScenarioFleet | null;
  readonly clock: Clock;
  readonly lines: LogLine[];
  readonly exits: ScenarioExit[];
  readonly marks: ScenarioMark[];
  readonly guards: { step: Step; pattern: LinePattern }[];
  cursor: number;
  waiter: { test: (l: LogLine) => boolean; onMatch: (l: LogLine) => void } | null;
  rebootWaiter: { which: RebootKind; onExit: (x: ScenarioExit) => void } | null;
  hostRebootBoot: number | null;
  readonly failing: boolean;
  readonly done: boolean;
  offFleet: () => void;
  readonly advance: () => void;
  now(): number;
  timer(ms: number, fn: () => void): void;
  later(fn: () => void): void;
  clearStepTimers(): void;
  waitFor(step: Step, p: LinePattern, limitMs: number | undefined, what: string, cont: () => void): void;
  fail(f: Omit<ScenarioFailure, 't' | 'hints'> & { hints?: string[] }): void;
}

type ActionOf<K extends Step['action']['kind']> = Extract<Step['action'], { kind: K }>;

/** Run `step`'s action. */
export function runAction(run: RunState, step: Step): void {
  if (run.failing || run.done) return;
  run.clearStepTimers();
  const a = step.action;
  switch (a.kind) {
    case 'none':
      return run.advance();
    case 'expect':
      return run.waitFor(step, a.pattern, a.withinMs, 'expected line not seen', run.advance);
    case 'expect-not':
      return expectNot(run, step, a);
    case 'expect-reboot':
      return expectReboot(run, step, a);
    case 'fleet-expect':
      return fleetExpect(run, step, a);
    case 'fleet-fault':
      return fleetFault(run, step, a);
    case 'fault':
      return faultStep(run, step, a);
  }
}

function expectNot(run: RunState, step: Step, a: ActionOf<'expect-not'>): void {
  const hit = firstMatch(run.lines, a.pattern, run.cursor);
  if (hit) {
    return run.fail({ step, message: `a forbidden line appeared (line ${hit.no} at ${fmtT(hit.t)})`, expected: describePattern(a.pattern, true), at: hit.no, between: false });
  }
  if (a.withinMs === undefined) {
    run.guards.push({ step, pattern: a.pattern });
    return run.advance();
  }
  const p = a.pattern;
  run.waiter = {
    test: (l) => matches(p, l),
    onMatch: (l) => run.fail({ step, message: `a forbidden line appeared (line ${l.no} at ${fmtT(l.t)})`, expected: `${describePattern(p, true)} within ${fmtT(a.withinMs as number)}`, at: l.no, between: false }),
  };
  return run.timer(a.withinMs, () => {
    run.waiter = null;
    run.advance();
  });
}

function expectReboot(run: RunState, step: Step, a: ActionOf<'expect-reboot'>): void {
  const prior = run.exits.find((x) => !x.accepted && x.atLine >= run.cursor && rebootMatches(a.which, x.kind));
  // the cursor stays: the exit's own lines (the traceback) can be checked by the next steps
  if (prior) {
    prior.accepted = 'expect-reboot';
    return run.advance();
  }
  run.rebootWaiter = { which: a.which, onExit: () => run.advance() };
  if (a.withinMs !== undefined) {
    const w = a.withinMs;
    run.timer(w, () => {
      run.rebootWaiter = null;
      run.fail({ step, message: `no ${a.which === 'any' ? 'reboot' : a.which} within ${fmtT(w)}`, expected: `the VM to end (${a.which})`, at: run.lines.length, between: true });
    });
  }
}

function fleetExpect(run: RunState, step: Step, a: ActionOf<'fleet-expect'>): void {
  const f = run.fleet as ScenarioFleet;
  const p = a.pattern;
  const check = () => f.missing(p).length === 0;
  if (check()) return run.advance();
  const started = run.now();
  run.offFleet();
  run.offFleet = f.onMatch(() => {
    if (run.failing || run.done || !check()) return;
    run.offFleet();
    run.offFleet = () => {};
    run.clearStepTimers();
    run.later(run.advance);
  });
  if (a.withinMs !== undefined) {
    const w = a.withinMs;
    run.timer(w, () => {
      run.offFleet();
      run.offFleet = () => {};
      const miss = f.missing(p);
      run.fail({
        step,
        message: `fleet: ${miss.length} of ${f.members.length} devices logged no matching line within ${fmtT(w)} (the step began at ${fmtT(started)}): ${miss.slice(0, 10).join(', ')}${miss.length > 10 ? ', ...' : ''}`,
        expected: `${describePattern(p)} on every fleet device`,
        at: run.lines.length,
        between: true,
      });
    });
  }
}

function fleetFault(run: RunState, step: Step, a: ActionOf<'fleet-fault'>): void {
  const f = run.fleet as ScenarioFleet;
  const n = f.select(a.percent).length;
  run.marks.push({ after: run.lines.length, t: run.now(), text: `step ${step.index}: fleet ${[a.fault, ...a.args].join(' ')} on ${n} of ${f.members.length} devices` });
  const settle = holdIfSlow(run.clock, `scenario step ${step.index}: fleet ${a.fault}`);
  void f.runFault(a.fault, a.args, a.percent).then((errors) => {
    settle();
    if (errors.length) return run.fail({ step, message: `fleet fault '${[a.fault, ...a.args].join(' ')}' failed on ${errors.length} device(s): ${errors.slice(0, 5).join('; ')}`, at: run.lines.length, between: true });
    run.advance();
  });
}

function faultStep(run: RunState, step: Step, a: ActionOf<'fault'>): void {
  const { device } = run;
  run.cursor = run.lines.length;
  run.marks.push({ after: run.lines.length, t: run.now(), text: `step ${step.index}: ${[a.fault, ...a.args].join(' ')}` });
  if (a.fault === 'reboot') run.hostRebootBoot = device.liveBoot();
  let p: Promise<void>;
  try {
    p = device.faults.run(a.fault, a.args);
  } catch (e) {
    p = Promise.reject(e);
  }
  // a handler that does real async work (restarting a server) holds the virtual clock;
  // one that is done within a few microtasks does not (no macrotask can run meanwhile,
  // so device time stays exact)
  const settle = holdIfSlow(run.clock, `scenario step ${step.index}: ${a.fault}`);
  p.then(
    () => {
      settle();
      run.advance();
    },
    (e: Error) => {
      settle();
      run.fail({ step, message: `the fault '${[a.fault, ...a.args].join(' ')}' could not run: ${e.message}`, at: run.lines.length, between: true });
    },
  );
}
