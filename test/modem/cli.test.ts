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
