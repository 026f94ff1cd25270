/**
 * `npm run bench:startup`: start-up time of `luatos run` — from spawning `node bin/luatos.js run`
 * on a one-line script to the first log line on its stdout — for each engine: wall time, and the
 * CPU time (user + system, /proc, 10 ms steps; Linux only) the process used until then, which a
 * loaded machine disturbs much less. Prints medians (of --runs, default 5) and the single runs;
 * nothing is asserted. Engines: `--engine <name>` (repeatable); default all of ENGINE_NAMES
 * (the default engine first).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { procCpuSeconds } from './bench/util';
import { ENGINE_NAMES } from '../runtime/core/engine';
import { DEFAULT_ENGINE, engineArgs } from './bench/engines';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'luatos.js');

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const RUNS = arg('--runs', 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Sample {
  wallMs: number;
  cpuMs: number;
}

/** Wall and CPU ms from spawn to the first complete stdout line; the child is killed right after. */
function firstLine(scripts: string, state: string, engine: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(process.execPath, [BIN, 'run', scripts, '--engine', engine, '--state', state, '--reboot', 'exit', '--timeout', '5'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let done = false;
    const finish = (err: Error | null, ms?: Sample) => {
      if (done) return;
      done = true;
      p.kill('SIGKILL');
      if (err) reject(err);
      else resolve(ms as Sample);
    };
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n') && !done) {
        const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
        finish(null, { wallMs, cpuMs: (procCpuSeconds(p.pid) ?? NaN) * 1000 });
      }
    });
    p.on('exit', (code) => finish(new Error(`luatos run exited (${code}) before its first log line`)));
    p.on('error', (e) => finish(e));
  });
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-bench-startup-'));
  try {
    const scripts = path.join(tmp, 'scripts');
    fs.mkdirSync(scripts);
    fs.writeFileSync(path.join(scripts, 'main.lua'), 'log.info("bench", "up")\n');
    console.log(`luatos run: spawn -> first log line, median of ${RUNS} (ms)`);
    for (const engine of engineArgs(process.argv, [DEFAULT_ENGINE, ...ENGINE_NAMES])) {
      const runs: Sample[] = [];
      await firstLine(scripts, path.join(tmp, 'state'), engine); // warm the file cache
      for (let i = 0; i < RUNS; i++) runs.push(await firstLine(scripts, path.join(tmp, 'state'), engine));
      const wall = runs.map((r) => r.wallMs);
      const cpu = runs.map((r) => r.cpuMs);
      console.log(
        `  ${engine.padEnd(8)} wall ${median(wall).toFixed(0).padStart(5)}  cpu ${median(cpu).toFixed(0).padStart(5)}` +
          `   runs wall: ${wall.map((x) => x.toFixed(0)).join(' ')}; cpu: ${cpu.map((x) => x.toFixed(0)).join(' ')}`,
      );
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`bench-startup: ${(e as Error).message}`);
  process.exit(1);
});
