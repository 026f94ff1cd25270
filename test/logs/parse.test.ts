import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LogEntry, LogParser, LineSplitter, decodeBytes, parseLine, parseLog } from '../../runtime/host/logs/parse';
import { toJsonEntry } from '../../runtime/host/logs/format';
import { LogRecord, LogSink, PRINT_RECORD_BYTES, toJsonRecord } from '../../runtime/core/log';
import { local, readFixture, tmpDir } from './helpers';

function pick(e: LogEntry): Pick<LogEntry, 'level' | 'tag' | 'module' | 'message'> {
  return { level: e.level, tag: e.tag, module: e.module, message: e.message };
}

test('Air8101 form (Luatools): SDK lines, LuatOS firmware lines, Lua log and print lines', () => {
  const buf = readFixture('air8101.txt');
  const es = parseLog(buf);
  const physical = buf.toString('utf8').trimEnd().split('\n');
  assert.equal(es.length, physical.length, 'one record a line');
  assert.ok(es.every((e) => e.form === 'air8101' && e.encoding === 'utf8'));
  // every record's text is its line: nothing lost
  assert.deepEqual(es.map((e) => e.text), physical);

  assert.deepEqual(pick(es[0]), { level: 'I', tag: null, module: 'ap1:pm_ap', message: 'power domain on: 3' });
  assert.equal(es[0].bootMs, 812);
  assert.equal(es[0].time, local(2026, 3, 5, 9, 12, 1, 105));
  assert.equal(es[0].stamp, '2026-03-05 09:12:01.105');
  assert.deepEqual(pick(es[2]), { level: 'I', tag: null, module: 'lwip', message: '[KW:]sta:DHCP_DISCOVER()' });
  assert.deepEqual(pick(es[6]), { level: 'W', tag: null, module: 'event', message: 'event <2 0> has no cb' });
  assert.deepEqual(pick(es[7]), { level: 'I', tag: null, module: 'ap1:lwip', message: 'sta ip start' });
  assert.deepEqual(pick(es[8]), { level: 'D', tag: null, module: 'wlan', message: 'STA connected 实验室-2.4G' });
  assert.deepEqual(pick(es[11]), {
    level: 'I', tag: 'netdrv_wifi.ip_ready_func', module: 'user', message: 'IP_READY 10.0.8.57 255.255.255.0 10.0.8.1 nil',
  });
  assert.deepEqual(pick(es[12]), { level: 'I', tag: '设备编号', module: 'user', message: 'A1B2C3D4E5F6' });
  assert.deepEqual(pick(es[18]), { level: 'W', tag: 'rtmp_app', module: 'user', message: '平台返回错误, 5秒后重试' });
  assert.deepEqual(pick(es[20]), { level: 'E', tag: null, module: 'ap1:CAM', message: '打开摄像头失败 -3' });
  assert.deepEqual(pick(es[21]), { level: 'U', tag: null, module: null, message: 'hello from print 1 2' });
  assert.deepEqual(pick(es[24]), { level: 'E', tag: null, module: 'rtmp_push', message: 'RTMP: connect failed, err=-5' });
  assert.equal(es[26].bootMs, 18320);
});

test('EC7xx form (Luatools, Air780E etc.): boot seconds, tool notes, SDK trace lines, styled and channel variants', () => {
  const buf = readFixture('ec7xx.txt');
  const es = parseLog(buf);
  assert.equal(es.length, buf.toString('utf8').trimEnd().split('\n').length);

  // Luatools' own notes: stamped, no boot time, kept as level U
  assert.deepEqual(pick(es[0]), { level: 'U', tag: null, module: 'luatools', message: '工具提示: soc log port COM12打开成功' });
  assert.equal(es[0].form, 'raw');
  assert.equal(es[0].bootMs, null);
  assert.equal(es[0].time, local(2025, 6, 14, 8, 30, 10, 501));

  // SDK trace line: C function and line, no level
  assert.equal(es[2].form, 'ec7xx');
  assert.deepEqual(pick(es[2]), { level: 'U', tag: null, module: 'Uart_BaseInitEx', message: 'uart 0 rx cache 256 dma 256' });
  assert.equal(es[2].source, 'Uart_BaseInitEx:1040');
  assert.equal(es[2].bootMs, 12);

  assert.deepEqual(pick(es[3]), { level: 'I', tag: null, module: 'pm', message: 'poweron: Power/Reset' });
  assert.equal(es[3].bootMs, 198);
  assert.deepEqual(pick(es[5]), { level: 'D', tag: null, module: 'main', message: 'loadlibs luavm 262136 14000 14032' });
  // Lua log with tab-separated args
  assert.deepEqual(pick(es[6]), { level: 'I', tag: 'main', module: 'user', message: 'sms_relay\t2.1.0' });
  // log.style(1): file:line in place of user.<tag>
  assert.deepEqual(pick(es[8]), { level: 'I', tag: 'bsp', module: 'user', message: 'EC618' });
  assert.equal(es[8].source, 'main.lua:31');
  assert.deepEqual(pick(es[9]), { level: 'W', tag: 'net_check', module: 'user', message: 'mobile.status\tnil\t网络未注册' });
  assert.deepEqual(pick(es[11]), { level: 'D', tag: null, module: 'mobile', message: 'NETIF_LINK_ON -> IP_READY' });
  assert.equal(es[11].bootMs, 2704);
  // a tag with no args
  assert.deepEqual(pick(es[14]), { level: 'I', tag: '已联网', module: 'user', message: '' });
  assert.deepEqual(pick(es[16]), { level: 'E', tag: 'uploader', module: 'user', message: '上传失败\t-14' });
  // newer Luatools: [LTOS/N] / [CAPP/N] channel between the stamps
  assert.deepEqual(pick(es[17]), { level: 'I', tag: 'uploader', module: 'user', message: '重试 第2次' });
  assert.equal(es[17].bootMs, 4820);
  assert.equal(es[17].time, local(2025, 6, 14, 8, 30, 15, 6));
  assert.deepEqual(pick(es[18]), { level: 'U', tag: null, module: 'luat_pm_last_state', message: 'not support yet' });
});

test('our own log: firmware and Lua lines, a traceback continues its record, boot time restarts after a reboot', () => {
  const es = parseLog(readFixture('ours.txt'));
  assert.equal(es.length, 11);
  const tb = es[7];
  assert.equal(tb.level, 'E');
  assert.equal(tb.tag, 'coroutine.resume');
  assert.equal(tb.lines, 4);
  assert.equal(tb.lineNo, 8);
  assert.equal(tb.message, "main.lua:8: 读取失败\nstack traceback:\n\t[C]: in function 'error'\n\tmain.lua:8: in function <main.lua:3>");
  assert.deepEqual(pick(es[4]), { level: 'U', tag: null, module: null, message: 'plain print output 42' });
  assert.deepEqual(pick(es[8]), { level: 'E', tag: null, module: 'main', message: 'Lua VM exit!! reboot in 15000ms' });
  assert.equal(es[8].lineNo, 12);
  assert.equal(es[9].bootMs, 290);
  assert.ok(es[9].time! > es[8].time!);
});

test('round trip: what LogSink writes (luatos run --log-file) parses back to the JSONL `run` would print', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'run.log');
  const sink = new LogSink({ stream: null, file });
  const t0 = local(2026, 5, 1, 10, 0, 0, 0);
  const long = 'I/user.长行 ' + '数据,'.repeat(200) + 'END';
  const recs: LogRecord[] = [
    { kind: 'I', ms: 290.4, wall: t0 + 290, module: 'main', payload: Buffer.from('LuatOS@Air8101 base 25.12'), boot: 1 },
    { kind: 'U', ms: 300, wall: t0 + 301, payload: Buffer.from('I/user.main demo 1.0.0'), boot: 1 },
    { kind: 'U', ms: 310, wall: t0 + 311, payload: Buffer.from(long), boot: 1 },
    { kind: 'U', ms: 320, wall: t0 + 321, payload: Buffer.from('W/user.wifi 断开 原因 15'), boot: 1 },
    { kind: 'U', ms: 330, wall: t0 + 331, payload: Buffer.from('print only'), boot: 1 },
    { kind: 'E', ms: 340, wall: t0 + 341, module: 'main', payload: Buffer.from('Lua VM exit!!'), boot: 1 },
  ];
  for (const r of recs) sink.write(r);
  sink.close();
  const raw = fs.readFileSync(file);
  // the long line really was split by the writer
  assert.ok(Buffer.byteLength(long) > PRINT_RECORD_BYTES);
  assert.ok(raw.toString('utf8').trimEnd().split('\n').length >= recs.length + 2);
  const es = parseLog(raw);
  assert.equal(es.length, recs.length);
  assert.deepEqual(es.map(toJsonEntry), recs.map((r) => toJsonRecord(r)));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('split long line (device cut at 512 bytes mid-character) joins back into one record', () => {
  const buf = readFixture('air8101-split.txt');
  // the fixture really is cut mid-character: the file is not valid UTF-8 line by line
  assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, buf.indexOf('\n', buf.indexOf('\n') + 1))));
  const es = parseLog(buf);
  assert.equal(es.length, 3);
  const e = es[1];
  assert.equal(e.lines, 3);
  assert.equal(e.tag, '设备列表');
  assert.equal(e.bootMs, 5120);
  assert.equal(e.encoding, 'utf8');
  assert.ok(!e.message.includes('\ufffd'), 'no replacement characters');
  const items = [];
  for (let i = 0; i < 12; i++) items.push({ id: 'cam_' + String(i).padStart(2, '0'), name: '通道' + i + '号摄像头', url: 'rtmp://10.0.8.2:1935/live/ch' + i });
  assert.deepEqual(JSON.parse(e.message), { msg: '操作成功', req: 'r1', code: 200, data: items });
  assert.equal(e.text, '[2026-03-05 09:12:05.233] luat:U(5120):I/user.设备列表 ' + e.message);
  assert.deepEqual(pick(es[2]), { level: 'I', tag: '设备数量', module: 'user', message: '12' });
});

test('split detection: only a full-size luat:U record followed closely by a part that does not start a Lua line', () => {
  const full = 'x'.repeat(PRINT_RECORD_BYTES);
  const s = (ms: number, body: string): string => `[2026-01-01 00:00:00.000] luat:U(${ms}):${body}`;
  // joined
  assert.equal(parseLog([s(10, full), s(11, 'tail')].join('\n')).length, 1);
  // next part starts a new Lua log line: not joined
  assert.equal(parseLog([s(10, full), s(10, 'I/user.t next')].join('\n')).length, 2);
  // too far apart in time
  assert.equal(parseLog([s(10, full), s(500, 'tail')].join('\n')).length, 2);
  // the first record is short: not a split
  assert.equal(parseLog([s(10, 'x'.repeat(300)), s(10, 'tail')].join('\n')).length, 2);
  // a firmware line in between is never glued
  assert.equal(parseLog([s(10, full), '[2026-01-01 00:00:00.000] luat:D(11):net:x'].join('\n')).length, 2);
});

test('CRLF line endings give the same records as LF', () => {
  for (const name of ['air8101.txt', 'ec7xx.txt', 'ours.txt', 'air8101-split.txt']) {
    const lf = readFixture(name);
    const crlf = Buffer.from(lf.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
    assert.ok(crlf.length > lf.length);
    const a = parseLog(lf);
    const b = parseLog(crlf);
    assert.deepEqual(b, a, name);
    assert.ok(b.every((e) => !e.text.includes('\r')), name);
  }
});

test('GBK bytes (Luatools on Chinese Windows) decode as GBK; UTF-8 lines in the same file stay UTF-8', () => {
  // GBK: 中文 = D6D0 CEC4, 警告 = BEAF B8E6
  const gbkLine = Buffer.concat([
    Buffer.from('[2025-06-14 08:30:13.431][000000003.250] W/user.'),
    Buffer.from([0xbe, 0xaf, 0xb8, 0xe6]),
    Buffer.from(' '),
    Buffer.from([0xd6, 0xd0, 0xce, 0xc4]),
  ]);
  const utf8Line = Buffer.from('[2025-06-14 08:30:13.500][000000003.320] I/user.正常 中文');
  const es = parseLog(Buffer.concat([gbkLine, Buffer.from('\r\n'), utf8Line, Buffer.from('\r\n')]));
  assert.equal(es.length, 2);
  assert.deepEqual(pick(es[0]), { level: 'W', tag: '警告', module: 'user', message: '中文' });
  assert.equal(es[0].encoding, 'gbk');
  assert.deepEqual(pick(es[1]), { level: 'I', tag: '正常', module: 'user', message: '中文' });
  assert.equal(es[1].encoding, 'utf8');
  // forced GBK
  const p = new LogParser({ encoding: 'gbk' });
  const forced = [...p.push(gbkLine), ...p.end()];
  assert.equal(forced[0].message, '中文');
});

test('bytes that are neither UTF-8 nor GBK are kept with replacement characters, and a cut UTF-8 character is not mistaken for GBK', () => {
  const bad = Buffer.concat([Buffer.from('[2026-01-01 00:00:00.000] luat:U(5):'), Buffer.from([0xff, 0xfe, 0x41])]);
  const e = parseLine(bad);
  assert.equal(e.encoding, 'invalid');
  assert.equal(e.message, '\ufffd\ufffdA');
  // '好' cut after its first byte at the end: still UTF-8 (lenient), not GBK garbage
  const cut = Buffer.concat([Buffer.from('中文'), Buffer.from('好').subarray(0, 2)]);
  const d = decodeBytes(cut);
  assert.equal(d.encoding, 'invalid');
  assert.ok(d.text.startsWith('中文'));
});

test('lines that parse as nothing are kept: raw records, unstamped lines, a BOM', () => {
  const src = '\ufeffsome banner text\n[2026-01-01 00:00:01.000] 工具提示: 用户虚拟串口 COM5\n[2026-01-01 00:00:01.100] 随便 一行\n';
  const es = parseLog(src);
  assert.equal(es.length, 3);
  assert.deepEqual(pick(es[0]), { level: 'U', tag: null, module: null, message: 'some banner text' });
  assert.equal(es[0].time, null);
  assert.equal(es[0].form, 'raw');
  assert.equal(es[1].module, 'luatools');
  assert.deepEqual(pick(es[2]), { level: 'U', tag: null, module: null, message: '随便 一行' });
  assert.equal(es[2].time, local(2026, 1, 1, 0, 0, 1, 100));
  // bare lines copied without stamps still parse
  const bare = parseLine('I/user.wdt 喂狗完成');
  assert.deepEqual(pick(bare), { level: 'I', tag: 'wdt', module: 'user', message: '喂狗完成' });
  assert.equal(bare.time, null);
  const bareAir = parseLine('luat:D(3892):wlan:ipv4 got!! 192.168.1.9');
  assert.deepEqual(pick(bareAir), { level: 'D', tag: null, module: 'wlan', message: 'ipv4 got!! 192.168.1.9' });
  assert.equal(bareAir.bootMs, 3892);
});

test('the line splitter holds an unterminated line until the next chunk', () => {
  const sp = new LineSplitter();
  assert.deepEqual(sp.push(Buffer.from('ab')), []);
  assert.equal(sp.pendingBytes, 2);
  assert.deepEqual(sp.push(Buffer.from('c\r\nd\n')).map(String), ['abc', 'd']);
  assert.deepEqual(sp.push(Buffer.from('e')), []);
  assert.deepEqual(sp.end().map(String), ['e']);
});

test('continuation lines arriving after their record was released (follow mode) keep its level, tag and times', () => {
  const p = new LogParser();
  assert.deepEqual(p.push('[2026-01-01 10:00:02.000] luat:U(2100):E/user.task boom'), []);
  const first = p.release();
  assert.equal(first.length, 1);
  assert.equal(first[0].message, 'boom');
  assert.deepEqual(p.push('stack traceback:'), []);
  assert.deepEqual(p.push('\tmain.lua:3: in main chunk'), []);
  const more = [...p.push('[2026-01-01 10:00:03.000] luat:U(3100):I/user.next ok'), ...p.end()];
  assert.equal(more.length, 2);
  assert.deepEqual(pick(more[0]), { level: 'E', tag: 'task', module: 'user', message: 'stack traceback:\n\tmain.lua:3: in main chunk' });
  assert.equal(more[0].bootMs, 2100);
  assert.equal(more[0].time, local(2026, 1, 1, 10, 0, 2));
  assert.equal(more[0].lines, 2);
  assert.equal(more[1].tag, 'next');
  // without a released record before it, an unstamped first line is plain raw text
  const q = new LogParser();
  q.push('orphan');
  assert.deepEqual(pick(q.end()[0]), { level: 'U', tag: null, module: null, message: 'orphan' });
});
