/**
 * No orphaned ffmpeg: a separate Node process starts a camera and then dies in various ways;
 * its ffmpeg (found by a unique marker on the command line) must be gone afterwards.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { locateFfmpeg } from '../../runtime/media/ffmpeg/locate';
import * as fs from 'node:fs';
import { isLinux, pidsWithMarker, waitFor } from './helpers';

/** live watchdog shells guarding `pid` (their argv ends with the pid) */
function watchdogsOf(pid: number): number[] {
  return pidsWithMarker('luatos-child-watchdog').filter((p) => {
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean);
      return argv[argv.length - 1] === String(pid);
    } catch {
      return false;
    }
  });
}

let haveFfmpeg = true;
try {
  locateFfmpeg();
} catch {
  haveFfmpeg = false;
}
const skip = !isLinux ? 'needs /proc (Linux)' : !haveFfmpeg ? 'no ffmpeg' : false;
const fixture = path.join(__dirname, 'fixture-camera-child.js');

function startFixture(mode: string, tag: string): Promise<{ child: ChildProcess; ffmpegPid: number; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; stderr: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture], {
      env: { ...process.env, CAMERA_FIXTURE_MODE: mode, CAMERA_FIXTURE_TAG: tag },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fixture did not get ready: ${out} ${err}`));
    }, 20000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (err += d));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      const m = /READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ child, ffmpegPid: Number(m[1]), exited, stderr: () => err });
      } else if (/FAIL/.test(out)) {
        clearTimeout(t);
        reject(new Error(out));
      }
    });
  });
}

const cases: { name: string; mode: string; kill?: NodeJS.Signals; expect: (r: { code: number | null; signal: NodeJS.Signals | null }) => void }[] = [
  { name: 'SIGINT (Ctrl-C)', mode: 'wait', kill: 'SIGINT', expect: (r) => assert.equal(r.signal, 'SIGINT') },
  { name: 'SIGTERM', mode: 'wait', kill: 'SIGTERM', expect: (r) => assert.equal(r.signal, 'SIGTERM') },
  { name: 'SIGINT with an application handler that exits', mode: 'sigint-handled', kill: 'SIGINT', expect: (r) => assert.equal(r.code, 0) },
  { name: 'uncaught exception', mode: 'throw', expect: (r) => assert.equal(r.code, 1) },
  { name: 'process.exit without stopping', mode: 'exit', expect: (r) => assert.equal(r.code, 3) },
  { name: 'SIGKILL of Node (watchdog)', mode: 'wait', kill: 'SIGKILL', expect: (r) => assert.equal(r.signal, 'SIGKILL') },
  { name: 'SIGKILL of Node, child that never writes (watchdog only)', mode: 'silent-child', kill: 'SIGKILL', expect: (r) => assert.equal(r.signal, 'SIGKILL') },
];

for (const c of cases) {
  test(`no orphan ffmpeg after ${c.name}`, { skip, timeout: 40000 }, async () => {
    const tag = `camhyg-${process.pid}-${c.mode}-${c.kill ?? 'none'}-${Date.now()}`;
    const f = await startFixture(c.mode, tag);
    try {
      assert.ok(pidsWithMarker(tag).includes(f.ffmpegPid), 'ffmpeg runs with the marker');
      if (c.kill) f.child.kill(c.kill);
      const r = await f.exited;
      c.expect(r);
      if (c.mode === 'throw') assert.match(f.stderr(), /boom \(fixture\)/);
      const gone = await waitFor(() => pidsWithMarker(tag).length === 0, 3000);
      assert.ok(gone, `ffmpeg still running: ${pidsWithMarker(tag).join(',')}`);
      // and its watchdog is gone too
      assert.ok(await waitFor(() => watchdogsOf(f.ffmpegPid).length === 0, 3000), 'watchdog left behind');
    } finally {
      f.child.kill('SIGKILL');
      for (const p of pidsWithMarker(tag)) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  });
}
