// What a scenario run gives (the runner's result types), and the result of a scenario that
// could not run (invalid file, set-up failure, a runner bug). Its own module so that the CLI
// side (command.ts) can build one without loading the runner.
import type { VmExit } from '../../core/device';
import type { LogLine } from './pattern';
import type { Step } from './schema';

export type ScenarioStatus = 'passed' | 'failed' | 'timeout' | 'error';

export interface ScenarioFailure {
  /** the step that failed (absent for crashes between steps, setup errors, ...) */
  step?: Step;
  /** what went wrong, one line */
  message: string;
  /** what the step wanted, for reports */
  expected?: string;
  /** the traceback of a crash */
  traceback?: string;
  /** where in the log it happened: the matching line (1-based) or, when `between` is true, the gap after line `at` */
  at: number;
  between: boolean;
  /** device time of the failure (ms since the scenario started) */
  t: number;
  /** further remarks (near misses, ...) */
  hints: string[];
}

export interface StepRecord {
  step: Step;
  status: 'passed' | 'failed' | 'pending' | 'not-run';
  /** device times (ms since the scenario started) */
  started?: number;
  ended?: number;
}

export interface ScenarioExit {
  boot: number;
  kind: VmExit['kind'];
  message?: string;
  /** log lines before it (the exit's own lines included) */
  atLine: number;
  t: number;
  /** why it did not fail the scenario */
  accepted?: 'expect-reboot' | 'reboot step' | 'allow-reboot';
}

/** Something the scenario did or saw outside the device log (a fault step, a platform event), placed between log lines. */
export interface ScenarioMark {
  /** number of log lines before it */
  after: number;
  t: number;
  text: string;
}

export interface ScenarioResult {
  file: string;
  name: string;
  status: ScenarioStatus;
  /** 0 passed, 1 failed or error, 42 timeout */
  exitCode: 0 | 1 | 42;
  failure?: ScenarioFailure;
  steps: StepRecord[];
  lines: LogLine[];
  exits: ScenarioExit[];
  marks: ScenarioMark[];
  boots: number;
  wallMs: number;
  /** device time the scenario covered */
  deviceMs: number;
  clock: 'virtual' | 'real';
  engine: string;
}


/** An `error` result for `sc` with `message`, failing before the first step (exit code 1). */
export function errorResult(sc: { file: string; name: string }, message: string, engine: string, clock: 'virtual' | 'real'): ScenarioResult {
  return {
    file: sc.file,
    name: sc.name,
    status: 'error',
    exitCode: 1,
    failure: { message, at: 0, between: true, t: 0, hints: [] },
    steps: [],
    lines: [],
    exits: [],
    marks: [],
    boots: 0,
    wallMs: 0,
    deviceMs: 0,
    clock,
    engine,
  };
}
