/**
 * Test helpers for the camera tests (not a test file itself; loading it does nothing).
 */
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';

export const isLinux = process.platform === 'linux';

/** pids of live processes whose command line contains `marker` (Linux /proc scan; [] elsewhere). */
export function pidsWithMarker(marker: string): number[] {
  if (!isLinux) return [];
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (!cmd.includes(marker)) continue;
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z') continue; // zombie: already dead, only waiting to be reaped
      out.push(Number(d));
    } catch {
      /* raced with exit */
    }
  }
  return out;
}

/** Direct children of `ppid` whose executable name (comm) contains `name` (Linux only). */
export function childrenNamed(ppid: number, name: string): number[] {
  if (!isLinux) return [];
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z') continue;
      if (Number(rest[1]) === ppid && comm.includes(name)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll until `fn()` returns true or `ms` passes; returns the last value. */
export async function waitFor(fn: () => boolean, ms: number, step = 50): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (fn()) return true;
    if (Date.now() > end) return false;
    await sleep(step);
  }
}

/** Run a command to completion, collecting stdout/stderr (with a hard timeout). */
export function run(cmd: string, args: string[], timeoutMs = 30000): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.stdout.on('data', (d: Buffer) => out.push(d));
    c.stderr.setEncoding('utf8');
    c.stderr.on('data', (d: string) => (err += d));
    c.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    c.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

/** NAL unit types of an Annex-B buffer, and whether every start code is the 4-byte form. */
export function nalTypes(b: Buffer): { types: number[]; all4: boolean } {
  const types: number[] = [];
  let all4 = true;
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1) {
      if (!(i > 0 && b[i - 1] === 0)) all4 = false;
      types.push(b[i + 3] & 0x1f);
      i += 2;
    }
  }
  return { types, all4 };
}

/** Width/height from a baseline JPEG's SOFn marker. */
export function jpegSize(b: Buffer): { width: number; height: number } | undefined {
  let o = 2;
  while (o + 9 < b.length) {
    if (b[o] !== 0xff) return undefined;
    const m = b[o + 1];
    const len = b.readUInt16BE(o + 2);
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { height: b.readUInt16BE(o + 5), width: b.readUInt16BE(o + 7) };
    }
    o += 2 + len;
  }
  return undefined;
}

/**
 * A stand-in ffmpeg (a shell script, POSIX only) that fails the way the real one does when
 * another program streams from the camera: the v4l2 demuxer's "Device or resource busy" lines on
 * stderr, exit code 1. For tests of the busy path on machines without a camera.
 */
export function writeBusyFfmpeg(file: string): string {
  fs.writeFileSync(
    file,
    '#!/bin/sh\necho "[video4linux2,v4l2 @ 0x5555] ioctl(VIDIOC_STREAMON): Device or resource busy" >&2\necho "/dev/video0: Device or resource busy" >&2\nexit 1\n',
    { mode: 0o755 },
  );
  return file;
}
