// The result of a scenario that could not run (invalid file, set-up failure, a runner bug).
// Its own module so that the CLI side (command.ts) can build one without loading the runner.
import type { ScenarioResult } from './runner';

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
