/**
 * Helpers for the board tests: spawn the real CLI (`node bin/luatos.js ...`) on a throw-away
 * script folder and state folder (both removed afterwards).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'luatos.js');

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
  /** wall ms from spawn to exit */
  wallMs: number;
  /** wall time (performance.now()) at which each stdout chunk arrived, with its text */
  chunks: { t: number; text: string }[];
  endT: number;
}

/** Run `luatos <args>`; `files` (name → content) become a temp script folder appended as the target. */
export function luatos(args: string[], opts: { files?: Record<string, string>; target?: string; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-boards-'));
  const full = [...args];
  if (opts.files) {
    const dir = path.join(tmp, 'scripts');
    fs.mkdirSync(dir);
    for (const [n, c] of Object.entries(opts.files)) fs.writeFileSync(path.join(dir, n), c);
    full.push(dir);
  } else if (opts.target) full.push(opts.target);
  if (args[0] === 'run') full.push('--state', path.join(tmp, 'state'));
  const t0 = performance.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...full], { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd ?? tmp });
    let out = '';
    let err = '';
    const chunks: CliResult['chunks'] = [];
    p.stdout.on('data', (d: Buffer) => {
      out += d;
      chunks.push({ t: performance.now(), text: d.toString() });
    });
    p.stderr.on('data', (d) => (err += d));
    const kill = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30000);
    p.on('close', (code) => {
      const endT = performance.now();
      clearTimeout(kill);
      fs.rmSync(tmp, { recursive: true, force: true });
      resolve({ code, out, err, wallMs: endT - t0, chunks, endT });
    });
  });
}

/**
 * The boot ms of the first Lua output line containing `text`, or undefined: Luatools form
 * `luat:U(ms):...` or the PC simulator's `[stamp][SSSSSSSS.mmm] ...`.
 */
export function userLineMs(out: string, text: string): number | undefined {
  for (const l of out.split('\n')) {
    const m = /luat:U\((\d+)\):(.*)$/.exec(l);
    if (m && m[2].includes(text)) return Number(m[1]);
    const p = /^\[[^\]]+\]\[(\d{8})\.(\d{3})\] (.*)$/.exec(l);
    if (p && p[3].includes(text)) return Number(p[1]) * 1000 + Number(p[2]);
  }
  return undefined;
}
