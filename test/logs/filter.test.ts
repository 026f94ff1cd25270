import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LogEntry, parseLog } from '../../runtime/host/logs/parse';
import { FilterError, FilterSpec, LogFilter, compileRegex, parseLevel, parseTimeBound } from '../../runtime/host/logs/filter';
import { local, readFixture } from './helpers';

const air = parseLog(readFixture('air8101.txt'));
const ec = parseLog(readFixture('ec7xx.txt'));
const ours = parseLog(readFixture('ours.txt'));

function run(es: LogEntry[], spec: FilterSpec, ignoreCase = false): LogEntry[] {
  const f = new LogFilter(spec, { ignoreCase });
  return es.filter((e) => f.test(e));
}
const msgs = (es: LogEntry[]): string[] => es.map((e) => e.message);

test('--level keeps that level and above; print output and unlevelled lines count as I', () => {
  const w = run(air, { minLevel: 'W' });
  assert.ok(w.length > 0);
  assert.ok(w.every((e) => e.level === 'W' || e.level === 'E'));
  assert.equal(w.length, air.filter((e) => e.level === 'W' || e.level === 'E').length);
  assert.deepEqual(msgs(run(air, { minLevel: 'E' })), ['打开摄像头失败 -3', 'RTMP: connect failed, err=-5', '推流失败 -5']);
  const i = run(air, { minLevel: 'I' });
  assert.ok(i.some((e) => e.level === 'U'), 'print output kept at I');
  assert.ok(!i.some((e) => e.level === 'D'));
  assert.equal(run(air, { minLevel: 'D' }).length, air.length);
  // EC7xx
  assert.deepEqual(msgs(run(ec, { minLevel: 'W' })), ['mobile.status\tnil\t网络未注册', '上传失败\t-14']);
  assert.equal(parseLevel('warn'), 'W');
  assert.equal(parseLevel('e'), 'E');
  assert.throws(() => parseLevel('X'), FilterError);
});

test('--tag matches Lua tags (with dotted prefix), firmware modules (with the last part of a chain), repeatable', () => {
  assert.deepEqual(msgs(run(air, { tags: ['rtmp_app'] })), ['平台返回错误, 5秒后重试', '推流失败 -5']);
  assert.deepEqual(msgs(run(air, { tags: ['lwip'] })), [
    '[KW:]sta:DHCP_DISCOVER()',
    '[KW:]sta:DHCP_OFFER received in DHCP_STATE_SELECTING state',
    '[KW:]sta:DHCP_ACK received',
    'sta ip start',
  ]);
  assert.deepEqual(msgs(run(air, { tags: ['ap1:lwip'] })), ['sta ip start']);
  assert.deepEqual(msgs(run(air, { tags: ['netdrv_wifi'] })), ['IP_READY 10.0.8.57 255.255.255.0 10.0.8.1 nil']);
  assert.deepEqual(msgs(run(air, { tags: ['设备编号'] })), ['A1B2C3D4E5F6']);
  assert.deepEqual(msgs(run(air, { tags: ['wlan', 'http'] })), ['STA connected 实验室-2.4G', 'ipv4 got!! 10.0.8.57', 'http idp:1', 'http close 0x60a1c2f0']);
  assert.equal(run(air, { tags: ['user'] }).length, air.filter((e) => e.module === 'user').length);
  // no partial-word matches
  assert.equal(run(air, { tags: ['rtmp'] }).length, 0);
  assert.deepEqual(msgs(run(ec, { tags: ['mobile'] })), ['cid1, state0', 'NETIF_LINK_ON -> IP_READY']);
  assert.deepEqual(msgs(run(ec, { tags: ['bsp'] })), ['EC618']);
});

test('--grep and --regex match UTF-8 text including Chinese; any pattern may match; --ignore-case', () => {
  assert.deepEqual(msgs(run(air, { grep: ['推流失败'] })), ['推流失败 -5']);
  assert.deepEqual(msgs(run(air, { grep: ['摄像头', 'DHCP_ACK'] })), ['[KW:]sta:DHCP_ACK received', '打开摄像头失败 -3']);
  assert.deepEqual(msgs(run(air, { regex: [compileRegex('err=-\\d+$', false)] })), ['RTMP: connect failed, err=-5']);
  assert.deepEqual(msgs(run(air, { regex: [compileRegex('^\\[[^\\]]+\\] luat:U\\(\\d+\\):[WE]/user\\.', false)] })), ['平台返回错误, 5秒后重试', '推流失败 -5']);
  assert.deepEqual(msgs(run(ec, { regex: [compileRegex('网络.注册', false)] })), ['mobile.status\tnil\t网络未注册']);
  assert.equal(run(air, { grep: ['dhcp_ack'] }).length, 0);
  assert.equal(run(air, { grep: ['dhcp_ack'] }, true).length, 1);
  assert.equal(run(air, { regex: [compileRegex('dhcp_ack', true)] }, true).length, 1);
  // the whole of a multi-line record is searched
  const tb = run(ours, { grep: ['in function <main.lua:3>'] });
  assert.equal(tb.length, 1);
  assert.equal(tb[0].tag, 'coroutine.resume');
  assert.throws(() => compileRegex('(', false), FilterError);
});

test('--since/--until on wall time: time of day, full date, --until to the second is inclusive', () => {
  const r = run(air, { since: parseTimeBound('09:12:03'), until: parseTimeBound('09:12:08.140', true) });
  assert.equal(r[0].stamp, '2026-03-05 09:12:03.012');
  assert.equal(r[r.length - 1].stamp, '2026-03-05 09:12:08.140');
  assert.equal(r.length, 7);
  const r2 = run(air, { until: parseTimeBound('09:12:01', true) });
  assert.deepEqual(r2.map((e) => e.stamp), ['2026-03-05 09:12:01.105', '2026-03-05 09:12:01.230']);
  const r3 = run(air, { since: parseTimeBound('2026-03-05 09:12:08.3') });
  assert.deepEqual(msgs(r3), ['RTMP: connect failed, err=-5', '推流失败 -5', 'RTMP stats: total=812 kB packets=120 I=5 (51kB) P=115 (389kB) dropped=0 (0kB) queue=0 avg=655 kbps win=0 kbps']);
  // another day: nothing
  assert.equal(run(air, { since: parseTimeBound('2026-03-06 00:00:00') }).length, 0);
  assert.deepEqual(parseTimeBound('2026-03-05T09:12:08'), { kind: 'wall', ms: local(2026, 3, 5, 9, 12, 8) });
  assert.throws(() => parseTimeBound('2026-02-30 10:00:00'), FilterError);
  assert.throws(() => parseTimeBound('25:00:00'), FilterError);
});

test('--since/--until on boot time: 12000ms, +12000ms, 12s; records without boot time follow the record before', () => {
  assert.deepEqual(parseTimeBound('+8000ms'), { kind: 'boot', ms: 8000 });
  assert.deepEqual(parseTimeBound('8s'), { kind: 'boot', ms: 8000 });
  assert.deepEqual(parseTimeBound('1.5s'), { kind: 'boot', ms: 1500 });
  assert.deepEqual(parseTimeBound('2m'), { kind: 'boot', ms: 120000 });
  assert.throws(() => parseTimeBound('8000'), /needs a unit/);
  const r = run(air, { since: parseTimeBound('+8000ms'), until: parseTimeBound('8290ms', true) });
  assert.deepEqual(r.map((e) => e.bootMs), [8020, 8131, 8132, 8290]);
  // EC7xx: boot seconds in the stamp
  assert.deepEqual(msgs(run(ec, { since: parseTimeBound('3s'), until: parseTimeBound('3250ms', true) })), [
    '',
    'adapter 1 socket 0 not closing, but error -14',
    '上传失败\t-14',
  ]);
  // Luatools notes have no boot time: before any boot time is known they are not kept
  assert.equal(run(ec, { since: parseTimeBound('0ms') })[0].bootMs, 12);
  // boot time restarts with each boot: the filter applies in every boot
  assert.deepEqual(run(ours, { until: parseTimeBound('300ms', true) }).map((e) => e.bootMs), [290, 292, 290]);
});

test('a time of day in a log that runs past midnight refers to the right day', () => {
  const src = [
    '[2026-01-01 23:59:58.000] luat:U(1000):I/user.a before',
    '[2026-01-01 23:59:59.500] luat:U(2500):I/user.b just before',
    'unstamped continuation of b',
    '[2026-01-02 00:00:00.500] luat:U(3500):I/user.c after',
    '[2026-01-02 00:00:02.000] luat:U(5000):I/user.d later',
  ].join('\n');
  const es = parseLog(src);
  assert.deepEqual(run(es, { since: parseTimeBound('00:00:00') }).map((e) => e.tag), ['c', 'd']);
  assert.deepEqual(run(es, { since: parseTimeBound('23:59:59'), until: parseTimeBound('00:00:01', true) }).map((e) => e.tag), ['b', 'c']);
  assert.deepEqual(run(es, { since: parseTimeBound('23:00') }).map((e) => e.tag), ['a', 'b', 'c', 'd']);
  // an unstamped line that parses on its own takes its time from the record before
  const raw = parseLog('[2026-01-01 10:00:00.000] 工具提示: x\nplain text before any record?\n');
  assert.equal(raw.length, 1, 'the unstamped line continues the note');
  const es2 = parseLog('[2026-01-01 10:00:00.000] luat:U(10):I/user.a x\nI/user.b copied without stamp\n');
  assert.deepEqual(run(es2, { since: parseTimeBound('10:00:00') }).map((e) => e.tag), ['a', 'b']);
  assert.deepEqual(run(es2, { since: parseTimeBound('10:00:01') }).map((e) => e.tag), []);
});

test('filters combine (all must pass)', () => {
  const r = run(air, { minLevel: 'W', tags: ['user'], grep: ['失败'] });
  assert.deepEqual(msgs(r), ['推流失败 -5']);
  const r2 = run(ec, { tags: ['uploader'], since: parseTimeBound('08:30:14') });
  assert.deepEqual(msgs(r2), ['重试 第2次']);
});
