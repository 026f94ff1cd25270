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
 *
 * The parts: ./setup.ts (platform, scratch folder, device and fleet), ./play.ts (the run's state,
 * the step sequence, the device's events), ./actions.ts (the step actions, faults included),
 * ./expect.ts (matching and the failure texts).
 */
import { DEFAULT_ENGINE } from '../../core/device';
import * as path from 'node:path';
import { Clock, RealClock, VirtualClock } from '../../core/clock';
import type { LocalPlatform } from './platform';
import { loadScenario, Scenario, ScenarioError } from './schema';
import { errorResult, type ScenarioResult } from './result';
import { scenarioScratch, setupScenarioDevice, startScenarioPlatform, type RunScenarioOptions, type ScenarioRig } from './setup';
import { ScenarioRun } from './play';

export type { ScenarioStatus, ScenarioFailure, StepRecord, ScenarioExit, ScenarioMark, ScenarioResult } from './result';
export { describeExit } from './expect';
export type { RunScenarioOptions } from './setup';

/** The scenario of `input` (a parsed one or a YAML file), or the error result of a file that does not load. */
function scenarioOf(input: Scenario | string, opts: RunScenarioOptions): Scenario | ScenarioResult {
  if (typeof input !== 'string') return input;
  try {
    return loadScenario(input);
  } catch (e) {
    const file = path.resolve(input);
    const msg = e instanceof ScenarioError ? e.message : (e as Error).message;
    return errorResult({ file, name: path.basename(file).replace(/\.ya?ml$/i, '') }, `invalid scenario: ${msg}`, opts.engine ?? DEFAULT_ENGINE, opts.clock ?? 'virtual');
  }
}

/** Run a scenario (a parsed one, or a YAML file). Never throws for scenario problems: they become results. */
export async function runScenario(input: Scenario | string, opts: RunScenarioOptions = {}): Promise<ScenarioResult> {
  const sc = scenarioOf(input, opts);
  if (!('options' in sc)) return sc; // the scenario did not load
  const engine = opts.engine ?? sc.options.engine;
  const clockKind = opts.clock ?? sc.options.clock;
  const wallStart = performance.now();

  let platform: LocalPlatform | null;
  try {
    platform = await startScenarioPlatform(sc, opts);
  } catch (e) {
    return errorResult(sc, `cannot start the local platform: ${(e as Error).message}`, engine, clockKind);
  }
  const { dataDir, cleanup } = scenarioScratch(platform);
  const clock: Clock = clockKind === 'virtual' ? new VirtualClock() : new RealClock();
  let rig: ScenarioRig;
  try {
    rig = await setupScenarioDevice(sc, opts, { engine, clock, platform, dataDir });
  } catch (e) {
    await cleanup();
    return errorResult(sc, `cannot set up the device: ${(e as Error).message}`, engine, clockKind);
  }
  const result = await new Promise<Omit<ScenarioResult, 'wallMs'>>((resolve) => {
    new ScenarioRun(sc, rig, clock, { engine, clockKind, platform }, resolve).start();
  });
  await cleanup();
  return { ...result, wallMs: performance.now() - wallStart };
}
