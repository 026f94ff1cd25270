/**
 * `luatos test <scenario.yaml | folder>... [options]`: run scenarios one after the other.
 *
 * A folder means every `*.yaml` / `*.yml` file directly in it, in name order. Each scenario
 * prints a result line (PASS / FAIL / TIMEOUT / ERROR); a failure also prints its report. The
 * last line is the summary `N passed, N failed` (timeouts and invalid scenarios count as
 * failed; ` (N timed out)` is added when some did).
 *
 * Exit code: 0 all passed; 1 a scenario failed (or was invalid, or Ctrl-C/SIGTERM ended the
 * command); 42 none failed but at least one timed out; 2 usage error.
 *
 * Each scenario runs in a worker thread supervised from here (runtime/host/worker/scenario-host.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_ENGINE, ENGINE_NAMES, EngineName } from '../../core/device';
import { failureReport, junitXml, resultLine } from './report';
import type { RunScenarioOptions, ScenarioResult } from './runner';
import { errorResult } from './result';
import { startScenarioInWorker, type SupervisedScenario } from '../worker/scenario-host';
import { flag, help, oneOf, readArgs, value } from '../util/args';

export const TEST_HELP = `luatos test — run scenario files against the simulated device

Usage:
  luatos test <scenario.yaml | folder>... [options]

Options:
  --junit FILE           write a JUnit XML report (one testcase per scenario)
  --engine lua53|wasmoon|fengari   override the scenarios' engine
  --clock virtual|real   override the scenarios' clock
  --scripts DIR          run the scenarios against this script folder instead of their own
  --log-dir DIR          save each scenario's full device log as DIR/<scenario>.log
  --verbose              show the device log while scenarios run

Each scenario runs in its own thread: a VM stuck in one Lua call fails its scenario after the
runaway budget + 1.5 s; Ctrl-C ends the command at once (exit 1).

Exit codes: 0 all passed, 1 a scenario failed (or Ctrl-C), 42 a scenario timed out (none failed),
2 usage error.
`;

import { UsageError } from '../util/usage-error';

interface TestArgs {
  targets: string[];
  junit?: string;
  engine?: EngineName;
  clock?: 'virtual' | 'real';
  logDir?: string;
  scripts?: string;
  verbose: boolean;
  help: boolean;
}

/** The options of `luatos test` (runtime/host/util/args.ts): one line an option. */
const TEST_ARGS = {
  help: help(),
  junit: value(),
  engine: value(oneOf(ENGINE_NAMES, `--engine must be one of ${ENGINE_NAMES.join(', ')}`)),
  clock: value(oneOf(['virtual', 'real'], '--clock must be virtual or real')),
  scripts: value(),
  'log-dir': value(),
  verbose: flag({ short: 'v' }),
} as const;

function parseArgs(args: string[]): TestArgs {
  const { values: v, positionals } = readArgs(args, TEST_ARGS);
  return { targets: positionals, junit: v.junit, engine: v.engine, clock: v.clock, logDir: v['log-dir'], scripts: v.scripts, verbose: v.verbose ?? false, help: v.help ?? false };
}

/** Expand targets to scenario files (folders: their *.yaml / *.yml files, sorted). */
export function collectScenarioFiles(targets: string[]): string[] {
  const files: string[] = [];
  for (const t of targets) {
    if (!fs.existsSync(t)) throw new UsageError(`no such file or folder: ${t}`);
    if (fs.statSync(t).isDirectory()) {
      const found = fs
        .readdirSync(t)
        .filter((n) => /\.ya?ml$/i.test(n) && fs.statSync(path.join(t, n)).isFile())
        .sort()
        .map((n) => path.join(t, n));
      if (found.length === 0) throw new UsageError(`no *.yaml scenario files in ${t}`);
      files.push(...found);
    } else files.push(t);
  }
  return files;
}

export function summaryLine(results: ScenarioResult[]): string {
  const passed = results.filter((r) => r.status === 'passed').length;
  const timedOut = results.filter((r) => r.status === 'timeout').length;
  return `${passed} passed, ${results.length - passed} failed${timedOut ? ` (${timedOut} timed out)` : ''}`;
}

export function exitCodeOf(results: ScenarioResult[]): number {
  if (results.some((r) => r.status === 'failed' || r.status === 'error')) return 1;
  if (results.some((r) => r.status === 'timeout')) return 42;
  return 0;
}

/** The `luatos test` command. Returns the exit code; writes everything to `out`. */
export async function testCommand(args: string[], out: NodeJS.WritableStream): Promise<number> {
  let o: TestArgs;
  let files: string[];
  try {
    o = parseArgs(args);
    if (o.help) {
      out.write(TEST_HELP);
      return 0;
    }
    if (o.targets.length === 0) throw new UsageError('test needs a scenario file or a folder of scenarios');
    files = collectScenarioFiles(o.targets);
    if (o.logDir) fs.mkdirSync(o.logDir, { recursive: true });
    if (o.scripts && !(fs.existsSync(o.scripts) && fs.statSync(o.scripts).isDirectory())) throw new UsageError(`--scripts: no such folder: ${o.scripts}`);
  } catch (e) {
    if (e instanceof UsageError) {
      out.write(`luatos test: ${e.message}\nTry 'luatos test --help'.\n`);
      return 2;
    }
    throw e;
  }

  const results: ScenarioResult[] = [];
  const usedLogNames = new Set<string>();
  // each scenario runs in a worker thread, supervised from here (runtime/host/worker/scenario-host.ts):
  // a VM stuck in one call fails its scenario, Ctrl-C / SIGTERM end the command at once
  let interrupted = false;
  let current: SupervisedScenario | null = null;
  const onSig = () => {
    interrupted = true;
    current?.interrupt();
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  try {
    for (const f of files) {
      if (interrupted) break;
      const ro: RunScenarioOptions = { engine: o.engine, clock: o.clock, scripts: o.scripts, logStream: o.verbose ? out : null };
      if (o.logDir) {
        let base = path.basename(f).replace(/\.ya?ml$/i, '');
        for (let n = 2; usedLogNames.has(base); n++) base = `${path.basename(f).replace(/\.ya?ml$/i, '')}-${n}`;
        usedLogNames.add(base);
        ro.logFile = path.join(o.logDir, `${base}.log`);
        fs.rmSync(ro.logFile, { force: true });
      }
      let r: ScenarioResult;
      try {
        current = startScenarioInWorker(f, ro);
        r = await current.result;
        current = null;
      } catch (e) {
        // a bug in the runner must not hide the other scenarios' results
        const file = path.resolve(f);
        r = errorResult(
          { file, name: path.basename(file).replace(/\.ya?ml$/i, '') },
          `internal error: ${(e as Error).stack ?? e}`,
          o.engine ?? DEFAULT_ENGINE,
          o.clock ?? 'virtual',
        );
      }
      results.push(r);
      out.write(resultLine(r) + '\n');
      if (r.status !== 'passed') out.write(failureReport(r) + '\n\n');
    }
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
  if (interrupted) out.write('interrupted: the remaining scenarios were not run\n');
  if (o.junit) {
    fs.mkdirSync(path.dirname(path.resolve(o.junit)), { recursive: true });
    fs.writeFileSync(o.junit, junitXml(results));
  }
  out.write(summaryLine(results) + '\n');
  return interrupted ? 1 : exitCodeOf(results);
}
