/**
 * `npm run soak` — soak and fuzz runs of the "Hardening" issue, kept out of `npm test`:
 *
 * | part       | what                                                                  | script                      |
 * |------------|-----------------------------------------------------------------------|-----------------------------|
 * | reboots    | 1,000 reboots, RSS flat                                               | scripts/soak-reboots.ts     |
 * | ingest     | 100 ingest kill/restart cycles under the demo (`npm start`'s command) | scripts/soak/ingest.ts      |
 * | http       | ≥ 100,000 hostile HTTP responses                                      | scripts/fuzz/http.ts        |
 * | rtmp       | ≥ 100,000 hostile RTMP server byte streams                            | scripts/fuzz/rtmp.ts        |
 * | bindings   | ≥ 100,000 random binding calls on each engine                         | scripts/fuzz/bindings.ts    |
 *
 * Every part runs in its own Node process: a Node crash (the process ends without its
 * `SOAK-RESULT` line) or a hang (its progress file unchanged for --hang-sec) is reported with
 * the last case it started (seed + index) instead of taking the soak down. The ingest part runs
 * alongside the others (it mostly waits on wall-clock time); the rest run one after another.
 *
 * The parts' time budgets add up to 20 minutes (the ingest part, 15 minutes at most, runs
 * alongside); a part that runs out of time stops early and reports an `incomplete` failure
 * with the count it reached (a loaded machine shows up as that, not as a silent pass).
 *
 * Options: `--quick` (about 2 minutes instead of about 15–20), `--seed N` (default: from the
 * clock, printed; the same seed replays the same cases), `--only part,part`, `--hang-sec S`.
 * Prints a summary table with the counts and exits 1 on any failure.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { argFlag, argNum, argStr, Failure, PartResult, RESULT_PREFIX } from './soak/common';

const DIST = path.resolve(__dirname); // dist/scripts
const QUICK = argFlag('--quick');
const SEED = argNum('--seed', Date.now() % 1_000_000_007) >>> 0;
const HANG_SEC = argNum('--hang-sec', 60);
const ONLY = argStr('--only')?.split(',').map((s) => s.trim()).filter(Boolean);

interface PartSpec {
  name: string;
  group: string;
  script: string;
  args: string[];
  /** the part's own time budget; the soak kills it 60 s after that */
  maxSec: number;
  hangSec?: number;
  nodeArgs?: string[];
  /** output is not in the SOAK-RESULT protocol (scripts/soak-reboots.ts prints its own) */
  foreign?: boolean;
}

function parts(): PartSpec[] {
  const q = QUICK;
  const s = String(SEED);
  const list: PartSpec[] = [];
  // the 1,000-reboot RSS check is scripts/soak-reboots.ts (its own output: figures, PASS/FAIL)
  const reboots = path.join(DIST, 'soak-reboots.js');
  list.push({ name: 'reboots/wasmoon', group: 'reboots', script: reboots, args: ['--engine', 'wasmoon', '--boots', q ? '100' : '1000'], maxSec: q ? 60 : 180, foreign: true });
  list.push({ name: 'reboots/fengari', group: 'reboots', script: reboots, args: ['--engine', 'fengari', '--boots', q ? '30' : '200'], maxSec: q ? 60 : 120, foreign: true });
  list.push({ name: 'ingest', group: 'ingest', script: path.join(DIST, 'soak', 'ingest.js'), args: ['--cycles', q ? '5' : '100', '--max-sec', q ? '120' : '900'], maxSec: q ? 120 : 900, hangSec: 180 });
  list.push({ name: 'http', group: 'http', script: path.join(DIST, 'fuzz', 'http.js'), args: ['--seed', s, '--count', q ? '10000' : '100000', '--lua-count', q ? '300' : '3000', '--max-sec', q ? '100' : '360'], maxSec: q ? 100 : 360 });
  list.push({ name: 'rtmp', group: 'rtmp', script: path.join(DIST, 'fuzz', 'rtmp.js'), args: ['--seed', s, '--count', q ? '10000' : '100000', '--tcp-count', q ? '100' : '1000', '--max-sec', q ? '90' : '240'], maxSec: q ? 90 : 240 });
  list.push({ name: 'bindings/wasmoon', group: 'bindings', script: path.join(DIST, 'fuzz', 'bindings.js'), args: ['--engine', 'wasmoon', '--seed', s, '--count', q ? '10000' : '100000', '--max-sec', q ? '60' : '120'], maxSec: q ? 60 : 120 });
  list.push({ name: 'bindings/fengari', group: 'bindings', script: path.join(DIST, 'fuzz', 'bindings.js'), args: ['--engine', 'fengari', '--seed', s, '--count', q ? '5000' : '100000', '--max-sec', q ? '60' : '240'], maxSec: q ? 60 : 240 });
  return ONLY ? list.filter((p) => ONLY.includes(p.group) || ONLY.includes(p.name)) : list;
}

function runPart(p: PartSpec, tmp: string): Promise<PartResult[]> {
  const progressFile = path.join(tmp, `${p.name.replace(/\W/g, '_')}.progress`);
  const args = [...(p.nodeArgs ?? []), p.script, ...p.args, ...(p.foreign ? [] : ['--progress', progressFile])];
  const t0 = Date.now();
  process.stdout.write(`soak: ${p.name} started (node ${args.map((a) => path.relative(process.cwd(), a) || a).join(' ')})\n`);
  return new Promise((resolve) => {
    // the part's temp folders go under the soak's own, removed at the end even if the part was killed
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.length > 4_000_000) stdout = stdout.slice(-2_000_000);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
    });
    let lastProgress = '';
    let lastChange = Date.now();
    let killedFor: string | null = null;
    const readProgress = (): string => {
      try {
        return fs.readFileSync(progressFile, 'utf8').trim();
      } catch {
        return '';
      }
    };
    const watch = setInterval(() => {
      const now = Date.now();
      if (!p.foreign) {
        const cur = readProgress();
        if (cur !== lastProgress) {
          lastProgress = cur;
          lastChange = now;
        } else if (now - lastChange > (p.hangSec ?? HANG_SEC) * 1000) {
          killedFor = `hang: no progress for ${p.hangSec ?? HANG_SEC} s`;
          child.kill('SIGKILL');
        }
      }
      if (now - t0 > (p.maxSec + 60) * 1000 && !killedFor) {
        killedFor = `over its time budget (${p.maxSec} s + 60 s)`;
        child.kill('SIGKILL');
      }
    }, 1000);
    child.on('exit', (code, signal) => {
      clearInterval(watch);
      const sec = ((Date.now() - t0) / 1000).toFixed(1);
      const results: PartResult[] = [];
      for (const line of stdout.split('\n')) {
        if (line.startsWith(RESULT_PREFIX)) {
          try {
            results.push(JSON.parse(line.slice(RESULT_PREFIX.length)) as PartResult);
          } catch {
            /* a broken line is reported below as a missing result */
          }
        }
      }
      const last = readProgress() || lastProgress;
      const culprit: { seed?: number; index?: number; repro?: string } = parseCulprit(last);
      if (culprit.index !== undefined) culprit.repro = reproCommand(p, culprit.index);
      if (killedFor) {
        results.push({ part: p.name, rows: [], failures: [{ kind: 'hang', ...culprit, detail: `${killedFor}; last case started: ${last || '(none)'}` }] });
      } else if (p.foreign) {
        if (results.length === 0) {
          const tail = (stdout + stderr).trim().split('\n').slice(-12);
          results.push({ part: p.name, rows: tail.map((l, i) => [i === 0 ? 'output (last lines)' : '', l] as [string, string]), failures: code === 0 ? [] : [{ kind: 'failed', detail: `exit code ${code}${signal ? `, signal ${signal}` : ''}` }] });
        }
      } else if (results.length === 0) {
        results.push({
          part: p.name,
          rows: [],
          failures: [{ kind: 'node-crash', ...culprit, detail: `process ended (code ${code}, signal ${signal}) without a result; last case started: ${last || '(none)'}; stderr: ${stderr.trim().split('\n').slice(-4).join(' | ').slice(0, 600)}` }],
        });
      } else if (code !== 0) {
        results[results.length - 1].failures.push({ kind: 'node-crash', detail: `exit code ${code}, signal ${signal}` });
      }
      process.stdout.write(`soak: ${p.name} ended in ${sec} s${results.some((r) => r.failures.length) ? ' (with failures)' : ''}\n`);
      resolve(results);
    });
  });
}

/** A command that runs case `index` of a part alone (for a hang or crash found by the watcher). */
function reproCommand(p: PartSpec, index: number): string | undefined {
  const keep: string[] = [];
  for (let i = 0; i < p.args.length; i += 2) {
    if (!['--count', '--from', '--max-sec', '--tcp-count', '--lua-count', '--boots', '--cycles'].includes(p.args[i])) keep.push(p.args[i], p.args[i + 1]);
  }
  const extra: Record<string, string[]> = {
    bindings: ['--from', String(index), '--count', '1', '--describe'],
    http: index >= 1_000_000_000 ? ['--count', '0', '--lua-count', '16', '--lua-from', String(Math.max(0, index - 15))] : ['--from', String(index), '--count', '1', '--lua-count', '0', '--describe'],
    rtmp: index >= 1_000_000_000 ? ['--count', '0', '--tcp-count', '1', '--tcp-from', String(index)] : ['--from', String(index), '--count', '1', '--tcp-count', '0'],
  };
  const e = extra[p.group];
  if (!e) return undefined;
  return `node ${path.relative(process.cwd(), p.script)} ${[...keep, ...e].join(' ')}`;
}

function parseCulprit(progress: string): { seed?: number; index?: number } {
  const s = /seed=(\d+)/.exec(progress);
  const i = /case=(\d+)/.exec(progress);
  return { seed: s ? Number(s[1]) : undefined, index: i ? Number(i[1]) : undefined };
}

function table(results: PartResult[]): string {
  const rows: string[][] = [['part', 'measure', 'value']];
  for (const r of results) {
    const fails = r.failures.length;
    rows.push([r.part, 'status', r.skipped ? `skipped: ${r.skipped}` : fails ? `FAIL (${fails} failure${fails > 1 ? 's' : ''})` : 'ok']);
    for (const [k, v] of r.rows) rows.push(['', k, String(v)]);
  }
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.min(48, Math.max(...rows.map((r) => r[1].length)));
  return rows.map((r, i) => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}` + (i === 0 ? `\n${'-'.repeat(w0)}  ${'-'.repeat(w1)}  ${'-'.repeat(20)}` : '')).join('\n');
}

/** Failures grouped by part, kind and message shape (numbers blurred), with one example each. */
function failureReport(results: PartResult[]): string {
  const groups = new Map<string, { n: number; first: Failure; part: string }>();
  for (const r of results) {
    for (const f of r.failures) {
      const shape = `${r.part}|${f.kind}|${f.detail.replace(/\d+(\.\d+)?/g, '#').slice(0, 160)}`;
      const g = groups.get(shape);
      if (g) g.n++;
      else groups.set(shape, { n: 1, first: f, part: r.part });
    }
  }
  const out: string[] = [];
  for (const g of groups.values()) {
    const f = g.first;
    const where = f.seed !== undefined || f.index !== undefined ? ` [seed ${f.seed ?? '?'}, case ${f.index ?? '?'}]` : '';
    out.push(`- ${g.part} ${f.kind}${g.n > 1 ? ` (×${g.n}, first shown)` : ''}${where}: ${f.detail}`);
    if (f.repro) out.push(`    reproduce: ${f.repro}`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-soak-'));
  const list = parts();
  if (list.length === 0) {
    process.stderr.write(`soak: --only ${ONLY?.join(',')} matches no part (reboots, ingest, http, rtmp, bindings)\n`);
    process.exit(2);
  }
  process.stdout.write(`soak: ${QUICK ? 'quick' : 'full'} run, seed ${SEED} (replay with --seed ${SEED}), ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
  const ingest = list.find((p) => p.group === 'ingest');
  const ingestP = ingest ? runPart(ingest, tmp) : Promise.resolve([] as PartResult[]);
  const results: PartResult[] = [];
  for (const p of list) {
    if (p === ingest) continue;
    results.push(...(await runPart(p, tmp)));
  }
  results.push(...(await ingestP));
  // the table in the order of the part list
  const order = list.map((p) => p.group);
  results.sort((a, b) => order.indexOf(a.part.split('/')[0]) - order.indexOf(b.part.split('/')[0]));
  fs.rmSync(tmp, { recursive: true, force: true });
  const failures = results.reduce((n, r) => n + r.failures.length, 0);
  process.stdout.write(`\n${table(results)}\n\n`);
  if (failures) process.stdout.write(`FAILURES (${failures}):\n${failureReport(results)}\n\n`);
  process.stdout.write(`soak: ${failures ? `FAILED, ${failures} failure${failures > 1 ? 's' : ''}` : 'passed'} in ${((Date.now() - t0) / 1000).toFixed(0)} s (seed ${SEED}${QUICK ? ', --quick' : ''})\n`);
  process.exit(failures ? 1 : 0);
}

main().catch((e) => {
  process.stderr.write(`soak: ${(e as Error)?.stack ?? e}\n`);
  process.exit(3);
});
