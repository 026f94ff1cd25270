/**
 * The merged fleet log form (runtime/host/fleet/fleet-log.ts) read back by the log parser
 * (runtime/host/logs/parse.ts): `[stamp] <name> luat:...` gives the device; split print records join
 * only within one device.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseLine, parseLog } from '../../runtime/host/logs/parse';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { FleetLog, formatMergedRecord } from '../../runtime/host/fleet/fleet-log';
import { tempDir } from '../helpers/tmp';
import { PRINT_RECORD_BYTES } from '../../runtime/core/log';

test('a merged line carries the device; the rest parses as a device line', () => {
  const e = parseLine('[2026-11-24 04:03:34.312] <dev007> luat:U(93):I/user.main hello 1');
  assert.equal(e.device, 'dev007');
  assert.equal(e.tag, 'main');
  assert.equal(e.message, 'hello 1');
  assert.equal(e.bootMs, 93);
  const f = parseLine('[2026-11-24 04:03:34.312] <a.b-c_1> luat:E(5):wlan:down');
  assert.equal(f.device, 'a.b-c_1');
  assert.equal(f.module, 'wlan');
  assert.equal(f.level, 'E');
  // an ordinary device line has no device
  assert.equal(parseLine('[2026-11-24 04:03:34.312] luat:U(93):I/user.main x').device, undefined);
});

test('formatMergedRecord writes what the parser reads', () => {
  const wall = new Date(2026, 10, 24, 4, 3, 34, 312).getTime();
  const line = formatMergedRecord('dev042', { kind: 'I', ms: 1200, wall, module: 'rtmp_push', payload: Buffer.from('RTMP: State changed from 0 to 1'), boot: 1 }).toString();
  assert.equal(line, '[2026-11-24 04:03:34.312] <dev042> luat:I(1200):rtmp_push:RTMP: State changed from 0 to 1');
  const e = parseLine(line);
  assert.equal(e.device, 'dev042');
  assert.equal(e.module, 'rtmp_push');
});

test('split print records join within one device, never across devices', () => {
  const part = 'x'.repeat(PRINT_RECORD_BYTES);
  const same = `[2026-11-24 04:03:34.312] <d1> luat:U(10):${part}\n[2026-11-24 04:03:34.312] <d1> luat:U(10):tail\n`;
  assert.equal(parseLog(same).length, 1);
  const mixed = `[2026-11-24 04:03:34.312] <d1> luat:U(10):${part}\n[2026-11-24 04:03:34.312] <d2> luat:U(10):tail\n`;
  const recs = parseLog(mixed);
  assert.equal(recs.length, 2);
  assert.deepEqual(recs.map((r) => r.device), ['d1', 'd2']);
});

test('FleetLog: one file per device, the merged log, the terminal; a folder that goes away stops the files, not the fleet', async () => {
  const dir = tempDir('luatos-fleetlog-');
  const logDir = path.join(dir, 'logs');
  const term = new PassThrough();
  let termText = '';
  term.on('data', (d: Buffer) => (termText += d.toString()));
  const log = new FleetLog(new Map([[0, 'a000'], [1, 'a001']]), { dir: logDir, stream: term, format: 'jsonl' });
  const errors: string[] = [];
  log.onFileError = (e) => errors.push(e.message);
  const rec = (text: string) => ({ kind: 'U' as const, ms: 5, wall: Date.now(), payload: Buffer.from(`I/user.t ${text}`), boot: 1 });
  log.write(0, rec('zero'));
  log.write(1, rec('one'));
  log.flush();
  assert.match(fs.readFileSync(path.join(logDir, 'a000.log'), 'utf8'), /^\[[^\]]+\] luat:U\(5\):I\/user\.t zero\n$/);
  assert.match(fs.readFileSync(path.join(logDir, 'a001.log'), 'utf8'), /I\/user\.t one\n$/);
  const merged = fs.readFileSync(path.join(logDir, 'fleet.log'), 'utf8').trim().split('\n');
  assert.deepEqual(merged.map((l) => parseLine(l).device), ['a000', 'a001']);
  assert.deepEqual(termText.trim().split('\n').map((l) => (JSON.parse(l) as { device: string; message: string }).device), ['a000', 'a001']);
  // the folder is removed under the running fleet: a new device file cannot be opened
  fs.rmSync(logDir, { recursive: true, force: true });
  const log2 = new FleetLog(new Map([[0, 'b000']]), { dir: path.join(dir, 'l2'), stream: term });
  log2.onFileError = (e) => errors.push(e.message);
  fs.rmSync(path.join(dir, 'l2'), { recursive: true, force: true });
  log2.write(0, rec('after'));
  assert.doesNotThrow(() => log2.flush());
  log2.write(0, rec('again'));
  log2.flush();
  assert.equal(errors.length, 1, 'said once');
  assert.match(termText, /<b000> luat:U\(5\):I\/user\.t again/);
  log.close();
  log2.close();
});
