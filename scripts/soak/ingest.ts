/**
 * Ingest kill/restart soak (part of `npm run soak`): the demo runs the way `npm start` runs it
 * (`node bin/luatos.js run <demo> --profile demo/device.json --platform local --web 0`), and the
 * local RTMP ingest is killed and restarted N times (default 100) through the web console's
 * fault API (`POST /api/fault` with the console's Origin, JSON body and the per-run token from
 * `/api/info`, see runtime/host/web/server.ts).
 *
 * The demo's reconnect task waits 60 s after an error; the soak runs a *short-retry variant*
 * made at run time: demo/*.lua copied to a temp folder with one find/replace patch
 * (`sys.wait(60000)` → `sys.wait(1000)`, the find must occur exactly once, like the patches of
 * test/fixtures/broken-demo), everything else unchanged.
 *
 * Each cycle: `rtmp-server kill`, wait for the script's `rtmp状态变化 出错`, `rtmp-server
 * restart`, wait for `rtmp状态变化 已开始推流` again. Counted: cycles done, cycles that
 * republished, ffmpeg processes alive under the run after each cycle (exactly one expected:
 * /proc descendants of the run), RSS of the run process at cycles 1, N/2 and N (flat: ±10 MB
 * after warm-up = cycle 1). At the end the run gets SIGINT (Ctrl-C) and must exit leaving no
 * child process behind. The whole part is bounded (--max-sec, default 900 s).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { argNum, argStr, delay, descendants, Failure, fmtMB, printResult, Progress, rssMB } from './common';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CYCLES = argNum('--cycles', 100);
const MAX_SEC = argNum('--max-sec', 900);
const RETRY_MS = argNum('--retry-ms', 1000);
const TOLERANCE_MB = argNum('--tolerance-mb', 10);
const SIGINT_WAIT_MS = 30_000;
const progress = new Progress(argStr('--progress'));

const PATCH = { file: 'rtmp_app.lua', find: 'sys.wait(60000)', replace: `sys.wait(${RETRY_MS})` };

function makeVariant(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-soak-demo-'));
  for (const f of fs.readdirSync(path.join(ROOT, 'demo'))) {
    if (f.endsWith('.lua')) fs.copyFileSync(path.join(ROOT, 'demo', f), path.join(dir, f));
  }
  const p = path.join(dir, PATCH.file);
  const src = fs.readFileSync(p, 'utf8');
  const n = src.split(PATCH.find).length - 1;
  if (n !== 1) throw new Error(`short-retry patch: '${PATCH.find}' occurs ${n} times in demo/${PATCH.file} (expected exactly once); update scripts/soak/ingest.ts`);
  fs.writeFileSync(p, src.replace(PATCH.find, PATCH.replace));
  return dir;
}

/** The run's output, line by line, with waiters for patterns. */
class Output {
  lines: string[] = [];
  private waiters: Array<{ re: RegExp; from: number; resolve: (l: string) => void }> = [];
  count = 0;
  push(line: string): void {
    this.count++;
    this.lines.push(line);
    if (this.lines.length > 400) this.lines.splice(0, 200);
    for (const w of [...this.waiters]) {
      if (w.re.test(line)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  }
  /** the next line (after now) matching re, or null after ms */
  next(re: RegExp, ms: number): Promise<string | null> {
    return new Promise((resolve) => {
      const w = { re, from: this.count, resolve: (l: string) => (clearTimeout(t), resolve(l)) };
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(null);
      }, ms);
      this.waiters.push(w);
    });
  }
  tail(n = 8): string {
    return this.lines.slice(-n).join('\n    ');
  }
}

function request(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, timeout: 10_000, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const deadline = t0 + MAX_SEC * 1000;
  const failures: Failure[] = [];
  const rows: Array<[string, string | number]> = [];
  const variant = makeVariant();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-soak-state-'));
  const args = [path.join(ROOT, 'bin', 'luatos.js'), 'run', variant, '--profile', path.join(ROOT, 'demo', 'device.json'), '--platform', 'local', '--web', '0', '--state', stateDir];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new Output();
  let exited: { code: number | null; signal: string | null } | null = null;
  const exitP = new Promise<void>((r) => child.on('exit', (code, signal) => ((exited = { code, signal }), r())));
  for (const s of [child.stdout!, child.stderr!]) {
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        out.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
  }
  const cleanup = async () => {
    if (!exited) {
      child.kill('SIGINT');
      await Promise.race([exitP, delay(10_000)]);
      if (!exited) child.kill('SIGKILL');
    }
    fs.rmSync(variant, { recursive: true, force: true });
    fs.rmSync(stateDir, { recursive: true, force: true });
  };
  const pid = child.pid!;
  const ffmpegs = () => descendants(pid).filter((d) => /ffmpeg/.test(d.comm) || /(^|\/)ffmpeg(\s|$)/.test(d.cmdline));

  let cycles = 0;
  let republished = 0;
  const ffCounts = new Map<number, number>();
  const rss = new Map<number, number | undefined>();
  try {
    const urlLine = await out.next(/web console: http:\/\//, 30_000);
    if (!urlLine) throw new Error(`the demo printed no web console URL within 30 s:\n    ${out.tail()}`);
    const base = /(http:\/\/[^\s]+?)\/?$/.exec(urlLine.slice(urlLine.indexOf('http://')))![1];
    const host = new URL(base).host;
    const info = await request(`${base}/api/info`, 'GET', {});
    const token = (JSON.parse(info.text) as { token?: string }).token;
    if (!token) throw new Error(`/api/info gave no token (${info.status})`);
    const fault = async (...a: string[]) => {
      const r = await request(`${base}/api/fault`, 'POST', { Origin: `http://${host}`, 'Content-Type': 'application/json', 'X-Console-Token': token }, JSON.stringify({ name: a[0], args: a.slice(1) }));
      if (r.status !== 200) throw new Error(`fault ${a.join(' ')}: HTTP ${r.status} ${r.text}`);
    };
    progress.set('ingest: waiting for the first 已开始推流');
    const first = await out.next(/rtmp状态变化 已开始推流/, 90_000);
    if (!first) throw new Error(`the demo never started publishing (90 s):\n    ${out.tail()}`);
    await delay(1000);
    rss.set(0, rssMB(pid));
    ffCounts.set(0, ffmpegs().length);
    const mid = Math.max(1, Math.round(CYCLES / 2));
    for (let k = 1; k <= CYCLES; k++) {
      if (Date.now() > deadline) {
        failures.push({ kind: 'incomplete', detail: `time bound (${MAX_SEC} s) reached after ${cycles} of ${CYCLES} cycles` });
        break;
      }
      progress.set(`ingest cycle=${k}`);
      const sawError = out.next(/rtmp状态变化 出错/, 20_000);
      await fault('rtmp-server', 'kill');
      if (!(await sawError)) {
        failures.push({ kind: 'invariant', index: k, detail: `cycle ${k}: the script did not see the ingest die within 20 s:\n    ${out.tail()}` });
        break;
      }
      const again = out.next(/rtmp状态变化 已开始推流/, 30_000 + RETRY_MS);
      await fault('rtmp-server', 'restart');
      const ok = await again;
      cycles++;
      if (ok) republished++;
      else {
        failures.push({ kind: 'invariant', index: k, detail: `cycle ${k}: no 已开始推流 within ${(30_000 + RETRY_MS) / 1000} s of the restart:\n    ${out.tail()}` });
        break;
      }
      await delay(300);
      const nf = ffmpegs().length;
      ffCounts.set(k, nf);
      if (nf !== 1) failures.push({ kind: 'invariant', index: k, detail: `cycle ${k}: ${nf} ffmpeg processes under the run (expected exactly 1)` });
      if (k === 1 || k === mid || k === CYCLES) rss.set(k, rssMB(pid));
      if (exited) throw new Error(`the run exited during cycle ${k}: ${JSON.stringify(exited)}`);
    }
  } catch (e) {
    failures.push({ kind: 'error', detail: (e as Error).message });
  }
  // Ctrl-C: the run must end every child it started
  const kids = descendants(pid).map((d) => d.pid);
  const tInt = Date.now();
  if (!exited) child.kill('SIGINT');
  await Promise.race([exitP, delay(SIGINT_WAIT_MS)]);
  const exitSec = exited ? ((Date.now() - tInt) / 1000).toFixed(1) : undefined;
  const stillAlive = kids.filter((p) => {
    try {
      const st = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      return st.slice(st.lastIndexOf(')') + 2)[0] !== 'Z';
    } catch {
      return false;
    }
  });
  if (!exited) failures.push({ kind: 'invariant', detail: `the run did not exit within ${SIGINT_WAIT_MS / 1000} s of SIGINT (Ctrl-C); children then: ${kids.length}` });
  if (stillAlive.length) {
    failures.push({ kind: 'orphans', detail: `child processes left after SIGINT: ${stillAlive.join(', ')}` });
    for (const p of stillAlive) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  await cleanup();
  const ffValues = [...ffCounts.entries()].filter(([k]) => k > 0).map(([, v]) => v);
  const ffHist = new Map<number, number>();
  for (const v of ffValues) ffHist.set(v, (ffHist.get(v) ?? 0) + 1);
  const r1 = rss.get(1);
  const rEnd = rss.get(cycles);
  if (r1 !== undefined && rEnd !== undefined && cycles === CYCLES && Math.abs(rEnd - r1) > TOLERANCE_MB) {
    failures.push({ kind: 'rss-growth', detail: `run RSS moved ${(rEnd - r1).toFixed(1)} MB between cycle 1 and cycle ${cycles} (allowed ±${TOLERANCE_MB} MB)` });
  }
  rows.push(['cycles done / republished', `${cycles} / ${republished} (of ${CYCLES}), short-retry variant (sys.wait(60000) → sys.wait(${RETRY_MS}))`]);
  rows.push(['ffmpeg processes after each cycle', ffValues.length ? [...ffHist.entries()].map(([n, c]) => `${n} ffmpeg: ${c} cycles`).join(', ') : '—']);
  rows.push(['run RSS at start / cycle 1 / ' + Math.max(1, Math.round(CYCLES / 2)) + ' / ' + CYCLES, [0, 1, Math.max(1, Math.round(CYCLES / 2)), CYCLES].map((k) => fmtMB(rss.get(k))).join(' / ')]);
  rows.push(['SIGINT (Ctrl-C) at the end', `${exitSec !== undefined ? `exited after ${exitSec} s (${JSON.stringify(exited)})` : `did not exit within ${SIGINT_WAIT_MS / 1000} s`}, ${stillAlive.length} children left`]);
  rows.push(['time', `${((Date.now() - t0) / 1000).toFixed(1)} s`]);
  printResult({ part: 'ingest', rows, failures });
  progress.close();
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`ingest soak: ${(e as Error)?.stack ?? e}\n`);
      process.exit(3);
    },
  );
}
