/**
 * `luatos test` runs each scenario in a worker thread (runtime/host/worker/scenario-worker.ts) and
 * supervises it from the main thread, so that a VM stuck in one Lua call (a slow C-level call
 * the in-VM watchdog cannot interrupt) is reported as a failure instead of freezing the
 * command, and Ctrl-C / SIGTERM end the run within a second or two.
 *
 * We run the whole scenario (step engine and local platform included) in the worker rather
 * than proxying the device: the step engine drives faults and timed steps on the device clock
 * (a virtual clock jumps between timers), which only works next to the device.
 *
 *  - stuck: one resume longer than the runaway budget + 1.5 s → the worker is terminated, its
 *    children killed, and the scenario fails with the log collected so far, a watchdog line
 *    (`luat:E(ms):wdt:...`) and a `watchdog` exit;
 *  - interrupt(): the worker is terminated at once; the scenario is reported as an error.
 *
 * In-process runScenario() (tests, `onDevice` hooks) is unchanged.
 */
import { DEFAULT_ENGINE } from '../../core/device';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { LogSink, type LogRecord } from '../../core/log';
import { makeLogLine, type LogLine } from '../scenario/pattern';
import type { RunScenarioOptions, ScenarioResult } from '../scenario/runner';
import { loadScenario } from '../scenario/schema';
import { killPids, STUCK_SLACK_MS } from './device-host';
import { createHeartbeatBuffer, readHeartbeat } from './heartbeat';
import { fromWireRecord, type WireRecord } from './protocol';
import type { ScenarioWorkerData } from './scenario-worker';

export interface SupervisedScenario {
  result: Promise<ScenarioResult>;
  /** end it now (Ctrl-C): the result says 'interrupted' */
  interrupt(): void;
}

type Msg =
  | { t: 'line'; r: WireRecord; at: number }
  | { t: 'children'; pids: number[] }
  | { t: 'tmpdir'; dir: string }
  | { t: 'result'; result: ScenarioResult }
  | { t: 'crash'; message: string };

export function startScenarioInWorker(file: string, opts: Pick<RunScenarioOptions, 'engine' | 'clock' | 'scripts' | 'logFile' | 'logStream'>): SupervisedScenario {
  const sab = createHeartbeatBuffer();
  const data: ScenarioWorkerData = {
    file,
    opts: { engine: opts.engine, clock: opts.clock, scripts: opts.scripts, logFile: opts.logFile, verbose: !!opts.logStream },
    heartbeat: sab,
  };
  const wallStart = performance.now();
  const lines: LogLine[] = [];
  let pids: number[] = [];
  /** runScenario's temporary folder (its own clean-up does not run when the thread is ended) */
  let tmpDir: string | null = null;
  let settled = false;
  let resolveResult!: (r: ScenarioResult) => void;
  const result = new Promise<ScenarioResult>((r) => (resolveResult = r));
  const worker = new Worker(path.join(__dirname, 'scenario-worker.js'), { workerData: data, stdout: false, stderr: false });

  // --verbose: the live log, written here (the worker may stall with lines not yet flushed)
  const live = opts.logStream ? new LogSink({ stream: opts.logStream, color: false }) : null;
  const settle = (r: ScenarioResult) => {
    if (settled) return;
    settled = true;
    clearInterval(poll);
    live?.close();
    void worker.terminate().catch(() => undefined).then(() => {
      killPids(pids);
      if (tmpDir && path.basename(tmpDir).startsWith('luatos-scenario-')) fs.rmSync(tmpDir, { recursive: true, force: true });
      resolveResult(r);
    });
  };

  /** A result made here, from what the worker streamed, when it had to be ended. */
  const made = (status: 'failed' | 'error', message: string, extra: Partial<ScenarioResult> = {}): ScenarioResult => {
    let name = path.basename(file).replace(/\.ya?ml$/i, '');
    let steps: ScenarioResult['steps'] = [];
    let clock: 'virtual' | 'real' = opts.clock ?? 'virtual';
    let engine: string = opts.engine ?? DEFAULT_ENGINE;
    try {
      const sc = loadScenario(file);
      name = sc.name;
      steps = sc.steps.map((step) => ({ step, status: 'not-run' as const }));
      clock = opts.clock ?? sc.options.clock;
      engine = opts.engine ?? sc.options.engine;
    } catch {
      /* the worker would have said so */
    }
    const last = lines[lines.length - 1];
    return {
      file: path.resolve(file),
      name,
      status,
      exitCode: 1,
      failure: { message, at: lines.length, between: true, t: last ? last.t : 0, hints: [] },
      steps,
      lines,
      exits: [],
      marks: [],
      boots: last ? last.boot : 0,
      wallMs: performance.now() - wallStart,
      deviceMs: last ? last.t : 0,
      clock,
      engine,
      ...extra,
    };
  };

  worker.on('message', (m: Msg) => {
    if (settled) return;
    switch (m.t) {
      case 'line': {
        const rec = fromWireRecord(m.r);
        lines.push(makeLogLine(rec, lines.length + 1, m.at));
        live?.write(rec);
        break;
      }
      case 'children':
        pids = m.pids;
        break;
      case 'tmpdir':
        tmpDir = m.dir;
        break;
      case 'result': {
        const r = m.result;
        for (const l of r.lines) {
          const p = l.record.payload as unknown as Uint8Array;
          (l.record as LogRecord).payload = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
        }
        settle(r);
        break;
      }
      case 'crash':
        settle(made('error', `internal error: ${m.message}`));
        break;
    }
  });
  worker.on('error', (e) => settle(made('error', `internal error: ${e.stack ?? e.message}`)));
  worker.on('exit', () => settle(made('error', 'internal error: the scenario thread ended without a result')));

  const poll = setInterval(() => {
    const hb = readHeartbeat(sab);
    const budget = hb.budgetMs > 0 ? hb.budgetMs : 10000;
    if (hb.resumeMs <= budget + STUCK_SLACK_MS) return;
    const last = lines[lines.length - 1];
    const boot = last ? last.boot : Math.max(1, hb.boots);
    const msg = `watchdog: Lua code ran for more than ${budget} ms without yielding (stuck in one call; the VM thread was ended)`;
    const rec: LogRecord = { kind: 'E', ms: Number.isFinite(hb.uptime) ? hb.uptime : 0, wall: Date.now(), module: 'wdt', payload: Buffer.from(msg), boot };
    const t = Number.isFinite(hb.sinceFirstBoot) ? hb.sinceFirstBoot : last ? last.t : 0;
    lines.push(makeLogLine(rec, lines.length + 1, t));
    const r = made('failed', `the VM was stuck in one Lua call for more than ${Math.round(hb.resumeMs)} ms (runaway budget ${budget} ms; the in-VM watchdog could not end it): the scenario was ended`, {
      exits: [{ boot, kind: 'watchdog', message: msg, atLine: lines.length, t }],
    });
    r.failure!.t = t;
    r.deviceMs = t;
    settle(r);
  }, 200);

  return {
    result,
    interrupt: () => settle(made('error', 'interrupted (Ctrl-C or SIGTERM): the scenario was ended')),
  };
}
