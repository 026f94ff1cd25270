/**
 * The merged fleet log form (runtime/host/fleet/fleet-log.ts) read back by the log parser
 * (runtime/logs/parse.ts): `[stamp] <name> luat:...` gives the device; split print records join
 * only within one device.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseLine, parseLog } from '../../runtime/logs/parse';
import { formatMergedRecord } from '../../runtime/host/fleet/fleet-log';
import { PRINT_RECORD_BYTES } from '../../runtime/log';

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
