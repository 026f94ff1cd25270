/**
 * `luatos run --board air780epm` end to end: the example script (examples/air780epm) waits
 * for IP_READY on the cellular adapter, reads mobile.csq()/iccid() and makes an HTTP request to
 * the embedded platform (a real server on 127.0.0.1, --platform local).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

async function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['bin/luatos.js', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60000);
  const code: number | null = await new Promise((r) => child.on('close', r));
  clearTimeout(killer);
  return { code, out, err };
}

test('luatos run --board air780epm: the example gets IP_READY on adapter 1, reads the modem and its HTTP request answers 200', async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-modem-cli-'));
  try {
    const r = await cli(['run', 'examples/air780epm', '--board', 'air780epm', '--platform', 'local', '--clock', 'virtual', '--state', state, '--expect', 'http round 1 code 200', '--timeout', '30']);
    assert.equal(r.code, 0, r.err + r.out.slice(-3000));
    assert.match(r.out, /luat:I\(\d+\):main:LuatOS@Air780EPM base \S+ bsp \S+ (32|64)bit/);
    assert.match(r.out, /I\/user\.mobile SIM_IND RDY/);
    assert.match(r.out, /luat:D\(\d+\):mobile:NETIF_LINK_ON -> IP_READY/);
    assert.match(r.out, /I\/user\.mobile IP_READY 10\.\d+\.\d+\.\d+ 1\n/);
    assert.match(r.out, /I\/user\.mobile csq 25 rssi -63 iccid 8986\d{16} status 1/);
    assert.match(r.out, /net:adapter 1 connect 127\.0\.0\.1:\d+ TCP/);
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
  }
});

test('luatos run --board with an unknown board name is a usage error naming the air780 boards', async () => {
  const r = await cli(['run', 'examples/air780epm', '--board', 'air780xyz']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown board 'air780xyz': --board is one of .*air780epm, air780ehm, air780ehv, air780egh/);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
});

test('luatos run --board air780epm --fault: the example sees IP_LOSE at 10 s, recovers after the SIM is back, and a platform fault (http fail) runs on the main thread', async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-modem-fault-'));
  try {
    const r = await cli(['run', 'examples/air780epm', '--board', 'air780epm', '--platform', 'local', '--clock', 'virtual', '--state', state, '--fault', '10s sim remove', '--fault=15s sim insert', '--fault', '12s http fail video.luatos.com 503 always', '--expect', 'http round 2 code', '--timeout', '60']);
    assert.equal(r.code, 0, r.err + r.out.slice(-3000));
    assert.match(r.out, /luatos: fault at 10000 ms: sim remove\n/);
    assert.match(r.out, /luatos: fault at 15000 ms: sim insert\n/);
    // device time of the fault lines: 10 s and 15 s after the first boot, on the virtual clock
    assert.match(r.out, /luat:D\(10000\):mobile:NETIF_LINK_OFF -> IP_LOSE/);
    assert.match(r.out, /luat:U\(10000\):W\/user\.mobile IP_LOSE 1\n/);
    const lose = r.out.indexOf('W/user.mobile IP_LOSE 1');
    const back = r.out.indexOf('I/user.mobile SIM_IND RDY', lose);
    assert.ok(back > lose, 'SIM_IND RDY after IP_LOSE');
    assert.match(r.out.slice(back), /I\/user\.mobile IP_READY 10\.\d+\.\d+\.\d+ 1\n/);
    // the platform's fault (registered on the main thread) answered the second request
    assert.match(r.out, /I\/user\.http round 1 code 200/);
    assert.match(r.out, /I\/user\.http round 2 code 503/);
    assert.doesNotMatch(r.out, /could not run/);
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
  }
});

test('luatos run --fault: a fault the board does not have is a usage error before the script runs; a malformed one too', async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-modem-fault-'));
  try {
    // air780epm has no Wi-Fi station: its `wifi` fault is removed
    const r = await cli(['run', 'examples/air780epm', '--board', 'air780epm', '--clock', 'virtual', '--state', state, '--fault', '5s wifi down', '--timeout', '20']);
    assert.equal(r.code, 2, r.err + r.out.slice(-2000));
    assert.match(r.err, /--fault '5s wifi down': no fault 'wifi' on this board \(available: [^)]*\bsim\b[^)]*\)/);
    assert.doesNotMatch(r.out, /user\.mobile/, 'the script did not run');
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    for (const bad of ['sim remove', '10s', 'soon sim remove', '10s "x y"']) {
      const b = await cli(['run', 'examples/air780epm', '--board', 'air780epm', '--state', state, '--fault', bad]);
      assert.equal(b.code, 2, bad);
      assert.match(b.err, /--fault '.*': /, bad);
    }
    // a fault the board has, with arguments it refuses: a warning line, the run goes on
    const w = await cli(['run', 'examples/air780epm', '--board', 'air780epm', '--clock', 'virtual', '--state', state, '--fault', '3s sim pull', '--timeout', '6']);
    assert.equal(w.code, 0, w.err + w.out.slice(-2000));
    assert.match(w.out, /luatos: WARNING: --fault '3s sim pull' could not run: sim: expected remove \| insert, got 'pull'/);
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
  }
});
