/**
 * Worker-thread entry for `luatos test`: one whole scenario (device, step engine, local platform)
 * runs here through the unchanged runScenario(); the main thread (runtime/host/worker/scenario-host.ts)
 * supervises it through the heartbeat and can end it when the VM is stuck in one Lua call or
 * the user presses Ctrl-C.
 *
 * Posted to the main thread: every device log record with its scenario time (so the report of
 * a scenario that had to be ended still shows the log; the main thread also writes `--verbose`
 * from them), the pids of the child processes (platform ingest, ffmpeg) and the result at the end.
 */
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { Device } from '../../core/device';
import { runScenario, type RunScenarioOptions } from '../scenario/runner';
import { childPidsReporter } from './children';
import { attachHeartbeat } from './heartbeat';
import { toWireRecord } from './protocol';

export interface ScenarioWorkerData {
  file: string;
  opts: Pick<RunScenarioOptions, 'engine' | 'clock' | 'scripts' | 'logFile'> & { verbose: boolean };
  heartbeat: SharedArrayBuffer;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('scenario-worker.js runs as a worker thread');
  const data = workerData as ScenarioWorkerData;
  const kids = setInterval(
    childPidsReporter((pids) => port.postMessage({ t: 'children', pids })),
    500,
  );
  const onDevice = (d: Device) => {
    // runScenario's temporary folder: the main thread removes it if it has to end this thread
    port.postMessage({ t: 'tmpdir', dir: path.dirname(d.vfs.dataDir) });
    attachHeartbeat(d, data.heartbeat);
    let t0: number | null = null;
    d.once('boot', () => (t0 = d.clock.now()));
    d.logSink.on((r) => port.postMessage({ t: 'line', r: toWireRecord(r), at: t0 === null ? 0 : d.clock.now() - t0 }));
  };
  // `--verbose` is written by the main thread from the posted records: a stream written from
  // here would lose the lines batched just before a stall
  const { verbose: _v, ...ro } = data.opts;
  const result = await runScenario(data.file, { ...ro, logStream: null, onDevice });
  clearInterval(kids);
  port.postMessage({ t: 'result', result });
}

main().catch((e: Error) => parentPort?.postMessage({ t: 'crash', message: e.stack ?? e.message }));
