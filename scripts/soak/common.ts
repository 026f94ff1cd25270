/**
 * Shared plumbing of `npm run soak` (scripts/soak.ts) and its parts (scripts/soak/*.ts,
 * scripts/fuzz/*.ts).
 *
 * Every part is a separate Node process so that a Node crash or a hang in one part is seen by
 * the orchestrator instead of taking it down. The protocol is deliberately dumb:
 * - the part writes the case it is about to run into a small *progress file* (`--progress F`,
 *   overwritten in place with one pwrite per case, so it survives an abort of the process);
 * - at the end it prints one line `SOAK-RESULT <json>` (a PartResult) on stdout.
 * The orchestrator kills a part whose progress file has not changed for `--hang-sec` seconds
 * and reports the last case written there (seed + index) as the hang or crash culprit.
 *
 * Random cases are reproducible one by one: case `i` of seed `s` depends only on (s, i).
 */
import * as fs from 'node:fs';

export interface Failure {
  /** 'vm-death' | 'node-crash' | 'hang' | 'invariant' | ... */
  kind: string;
  seed?: number;
  index?: number;
  detail: string;
  /** a command line that reproduces this case alone */
  repro?: string;
}

export interface PartResult {
  part: string;
  /** printed in the summary table, in order */
  rows: Array<[label: string, value: string | number]>;
  failures: Failure[];
  /** the part could not run here (says why); not a failure */
  skipped?: string;
}

export const RESULT_PREFIX = 'SOAK-RESULT ';

export function printResult(r: PartResult): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(r)}\n`);
}

// ------------------------------------------------------------------ arguments

export function argStr(name: string, def: string): string;
export function argStr(name: string, def?: string): string | undefined;
export function argStr(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

export function argNum(name: string, def: number): number {
  const v = argStr(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n)) {
    process.stderr.write(`soak: ${name} expects a number, got '${v}'\n`);
    process.exit(2);
  }
  return n;
}

export function argFlag(name: string): boolean {
  return process.argv.includes(name);
}

// ------------------------------------------------------------------ randomness

/** 32-bit hash of (seed, index): the per-case seed. */
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (index >>> 0), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = Math.imul(h ^ Math.floor(index / 0x100000000), 0x27d4eb2f) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: small, fast, deterministic. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** uniform in [0, 1) */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

// ------------------------------------------------------------------ progress file

/** One pwrite per case into a fixed-size record at offset 0 (cheap, survives a crash). */
export class Progress {
  private fd: number | null = null;
  private readonly buf = Buffer.alloc(200, 0x20);
  constructor(file: string | undefined) {
    if (file) this.fd = fs.openSync(file, 'w');
  }
  /** the last text set (for in-process error reports) */
  last = '';
  set(text: string): void {
    this.last = text;
    if (this.fd === null) return;
    this.buf.fill(0x20);
    this.buf.write(text.slice(0, 198), 0, 'utf8');
    this.buf[199] = 0x0a;
    fs.writeSync(this.fd, this.buf, 0, this.buf.length, 0);
  }
  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

// ------------------------------------------------------------------ /proc readings

/** VmRSS of a process in MB (undefined when gone or not on Linux). */
export function rssMB(pid: number = process.pid): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** All live descendants of a process, with their command names (Linux /proc). */
export function descendants(root: number): Array<{ pid: number; comm: string; cmdline: string }> {
  const parent = new Map<number, number>();
  const comm = new Map<number, string>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const s = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const close = s.lastIndexOf(')');
      const fields = s.slice(close + 2).split(' ');
      if (fields[0] === 'Z') continue; // a zombie is not alive
      parent.set(Number(e), Number(fields[1]));
      comm.set(Number(e), s.slice(s.indexOf('(') + 1, close));
    } catch {
      /* gone */
    }
  }
  const out: Array<{ pid: number; comm: string; cmdline: string }> = [];
  const want = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, pp] of parent) {
      if (want.has(pp) && !want.has(pid)) {
        want.add(pid);
        grew = true;
      }
    }
  }
  for (const pid of want) {
    if (pid === root) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      continue;
    }
    out.push({ pid, comm: comm.get(pid) ?? '', cmdline });
  }
  return out;
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function fmtMB(x: number | undefined): string {
  return x === undefined ? '—' : `${x.toFixed(1)} MB`;
}

/** Counter map printed as `a=1 b=2` (keys sorted). */
export function fmtCounts(m: Map<string, number>): string {
  return [...m.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

export function bump(m: Map<string, number>, k: string, by = 1): void {
  m.set(k, (m.get(k) ?? 0) + by);
}
