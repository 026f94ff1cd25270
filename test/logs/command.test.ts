import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { logsCommand } from '../../runtime/host/logs/command';
import { Collector, fixture, local, readFixture, tmpDir, waitFor } from './helpers';

async function logs(args: string[], opts: Parameters<typeof logsCommand>[2] = {}): Promise<{ code: number; out: Collector; err: Collector }> {
  const out = new Collector();
  const err = new Collector();
  const code = await logsCommand(args, out, { stderr: err, ...opts });
  return { code, out, err };
}

test('text output without filters reproduces the file line for line (all three forms)', async () => {
  for (const name of ['air8101.txt', 'ec7xx.txt', 'ours.txt']) {
    const { code, out, err } = await logs([fixture(name)]);
    assert.equal(code, 0, err.text);
    assert.equal(out.text, readFixture(name).toString('utf8'), name);
  }
  // several files read as one log, in order
  const both = await logs([fixture('air8101.txt'), fixture('ec7xx.txt')]);
  assert.equal(both.out.text, readFixture('air8101.txt').toString('utf8') + readFixture('ec7xx.txt').toString('utf8'));
});

test('text output joins a split long line', async () => {
  const { code, out } = await logs([fixture('air8101-split.txt')]);
  assert.equal(code, 0);
  assert.equal(out.lines.length, 3);
  assert.match(out.lines[1], /^\[2026-03-05 09:12:05\.233\] luat:U\(5120\):I\/user\.设备列表 \{"msg":"操作成功".*"url":"rtmp:\/\/10\.0\.8\.2:1935\/live\/ch11"\}\]\}$/);
  assert.ok(!out.text.includes('\ufffd'));
});

test('--format jsonl writes one record a line with time, boot_ms, level, tag, module, message', async () => {
  const { code, out } = await logs([fixture('air8101.txt'), '--format', 'jsonl', '--level', 'W']);
  assert.equal(code, 0);
  const recs = out.lines.map((l) => JSON.parse(l));
  assert.equal(recs.length, 6);
  for (const r of recs) assert.deepEqual(Object.keys(r), ['time', 'boot_ms', 'level', 'tag', 'module', 'message']);
  assert.deepEqual(recs[5], {
    time: new Date(local(2026, 3, 5, 9, 12, 8, 301)).toISOString(),
    boot_ms: 8291,
    level: 'E',
    tag: 'rtmp_app',
    module: 'user',
    message: '推流失败 -5',
  });
  // EC7xx: source appears when the line names one; null time/boot where the line has none
  const ec = await logs([fixture('ec7xx.txt'), '--format=jsonl']);
  const e = ec.out.lines.map((l) => JSON.parse(l));
  assert.deepEqual(e[0], { time: new Date(local(2025, 6, 14, 8, 30, 10, 501)).toISOString(), boot_ms: null, level: 'U', tag: null, module: 'luatools', message: '工具提示: soc log port COM12打开成功' });
  assert.deepEqual(e[8], { time: new Date(local(2025, 6, 14, 8, 30, 10, 640)).toISOString(), boot_ms: 240, level: 'I', tag: 'bsp', module: 'user', message: 'EC618', source: 'main.lua:31' });
  // the traceback record keeps its lines in the message
  const o = await logs([fixture('ours.txt'), '--format', 'jsonl', '--grep', 'stack traceback']);
  assert.equal(o.out.lines.length, 1);
  assert.match(JSON.parse(o.out.lines[0]).message, /^main\.lua:8: 读取失败\nstack traceback:\n\t\[C\]/);
});

test('filters from the command line: level, tag, grep (Chinese), regex, since/until in both kinds', async () => {
  const f = fixture('air8101.txt');
  const msg = async (args: string[]): Promise<string[]> => {
    const { code, out, err } = await logs([f, '--format', 'jsonl', ...args]);
    assert.equal(code, 0, err.text);
    return out.lines.map((l) => JSON.parse(l).message);
  };
  assert.deepEqual(await msg(['-l', 'E', '-t', 'user']), ['推流失败 -5']);
  assert.deepEqual(await msg(['--tag', 'rtmp_app', '--tag', 'ap1:CAM']), ['平台返回错误, 5秒后重试', '打开摄像头失败 -3', '推流失败 -5']);
  assert.deepEqual(await msg(['--grep', '实验室']), ['STA connected 实验室-2.4G']);
  assert.deepEqual(await msg(['-g', 'dhcp_ack', '-i']), ['[KW:]sta:DHCP_ACK received']);
  assert.deepEqual(await msg(['--regex', 'State changed from \\d to 1']), ['RTMP: State changed from 0 to 1']);
  assert.deepEqual(await msg(['--since', '2026-03-05', '09:12:08.2', '--until', '+8291ms']), ['RTMP: connect failed, err=-5', '推流失败 -5']);
  assert.deepEqual(await msg(['--since=18s']), ['RTMP stats: total=812 kB packets=120 I=5 (51kB) P=115 (389kB) dropped=0 (0kB) queue=0 avg=655 kbps win=0 kbps']);
  assert.deepEqual(await msg(['--until', '09:12:01.2']), ['power domain on: 3']);
});

test('a log with CRLF line endings prints and filters like LF', async () => {
  const dir = tmpDir();
  for (const name of ['air8101.txt', 'ours.txt', 'ec7xx.txt']) {
    const crlf = path.join(dir, name);
    fs.writeFileSync(crlf, readFixture(name).toString('utf8').replace(/\n/g, '\r\n'));
    const a = await logs([crlf]);
    assert.equal(a.out.text, readFixture(name).toString('utf8'), name);
    const b = await logs([crlf, '--format', 'jsonl']);
    const c = await logs([fixture(name), '--format', 'jsonl']);
    assert.equal(b.out.text, c.out.text, name);
    assert.ok(!b.out.text.includes('\\r'), name);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a GBK-encoded log is printed as UTF-8 and matches Chinese patterns', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'gbk.log');
  // 连接 = C1AC BDD3, 失败 = CAA7 B0DC
  fs.writeFileSync(
    file,
    Buffer.concat([
      Buffer.from('[2025-06-14 08:30:13.431][000000003.250] E/user.mqtt '),
      Buffer.from([0xc1, 0xac, 0xbd, 0xd3, 0xca, 0xa7, 0xb0, 0xdc]),
      Buffer.from(' -1\r\n[2025-06-14 08:30:13.500][000000003.320] I/user.mqtt retry\r\n'),
    ]),
  );
  const { out } = await logs([file, '--grep', '连接失败']);
  assert.equal(out.text, '[2025-06-14 08:30:13.431][000000003.250] E/user.mqtt 连接失败 -1\n');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('--color: always colours by level, never and auto on a pipe do not', async () => {
  const f = fixture('air8101.txt');
  const always = await logs([f, '--color', 'always']);
  const lines = always.out.lines;
  assert.equal(lines[6], '\x1b[33m[2026-03-05 09:12:02.878] event:W(2873):event <2 0> has no cb\x1b[0m');
  assert.equal(lines[20], '\x1b[31m[2026-03-05 09:12:03.021] ap1:CAM:E(2951):打开摄像头失败 -3\x1b[0m');
  assert.equal(lines[8], '\x1b[90m[2026-03-05 09:12:02.879] luat:D(2875):wlan:STA connected 实验室-2.4G\x1b[0m');
  assert.ok(!lines[12].includes('\x1b'), 'I lines plain');
  for (const mode of ['never', 'auto']) {
    const r = await logs([f, '--color', mode]);
    assert.ok(!r.out.text.includes('\x1b'), mode);
  }
  // auto on a terminal colours
  const tty = new Collector();
  tty.isTTY = true;
  const saved = process.env.NO_COLOR;
  delete process.env.NO_COLOR;
  try {
    await logsCommand([f], tty, { stderr: new Collector() });
  } finally {
    if (saved !== undefined) process.env.NO_COLOR = saved;
  }
  assert.ok(tty.text.includes('\x1b[31m'));
});

test('reads standard input for -', async () => {
  const stdin = Readable.from([readFixture('ec7xx.txt').subarray(0, 300), readFixture('ec7xx.txt').subarray(300)]);
  const { code, out } = await logs(['-', '--tag', 'mobile'], { stdin });
  assert.equal(code, 0);
  assert.deepEqual(out.lines, [
    '[2025-06-14 08:30:12.881][000000002.703] D/mobile cid1, state0',
    '[2025-06-14 08:30:12.882][000000002.704] D/mobile NETIF_LINK_ON -> IP_READY',
  ]);
});

test('usage errors exit 2, unreadable files 1, --help 0', async () => {
  const f = fixture('air8101.txt');
  for (const args of [
    [],
    [f, '--bogus'],
    [f, '--level', 'X'],
    [f, '--regex', '('],
    [f, '--since', '12000'],
    [f, '--format', 'xml'],
    [f, '--color', 'rainbow'],
    [f, '--tag'],
    [f, f, '--follow'],
    [f, '--since', '20s', '--until', '10s'],
  ]) {
    const r = await logs(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err.text, /^luatos logs: .+\nTry 'luatos logs --help'\.\n$/, args.join(' '));
    assert.equal(r.out.text, '');
  }
  const missing = await logs(['/nonexistent/luatos.log']);
  assert.equal(missing.code, 1);
  assert.match(missing.err.text, /cannot read \/nonexistent\/luatos\.log/);
  const help = await logs(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out.text, /--follow/);
  assert.match(help.out.text, /--format text\|jsonl/);
});

test('--follow prints appended lines, survives truncation and rotation, and stops on abort (bounded)', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'live.log');
  fs.writeFileSync(file, '[2026-01-01 10:00:00.000] luat:U(100):I/user.main start\n');
  const out = new Collector();
  const err = new Collector();
  const ac = new AbortController();
  const hardStop = setTimeout(() => ac.abort(), 15000);
  const done = logsCommand([file, '--follow', '--level', 'I'], out, { signal: ac.signal, pollMs: 30, stderr: err });
  try {
    await waitFor(() => out.text.includes('I/user.main start'), 5000, 'the existing line');
    // appended in pieces, a line split across writes
    fs.appendFileSync(file, '[2026-01-01 10:00:01.000] luat:D(1100):wlan:hidden by --level\n[2026-01-01 10:00:01.000] luat:U(1101):I/user.wifi 已连');
    await new Promise((r) => setTimeout(r, 120));
    assert.ok(!out.text.includes('已连'), 'half a line is held back');
    fs.appendFileSync(file, '接\n');
    await waitFor(() => out.text.includes('I/user.wifi 已连接'), 5000, 'the appended line');
    assert.ok(!out.text.includes('hidden by --level'));
    // a traceback arriving after its first line still joins (within one poll it is held back)
    fs.appendFileSync(file, '[2026-01-01 10:00:02.000] luat:U(2100):E/user.task boom\nstack traceback:\n\tmain.lua:3: in main chunk\n');
    await waitFor(() => out.text.includes('main.lua:3: in main chunk'), 5000, 'the traceback');
    // truncation: the writer starts the file again
    fs.writeFileSync(file, '[2026-01-01 10:00:03.000] luat:U(10):I/user.main restarted\n');
    await waitFor(() => out.text.includes('I/user.main restarted'), 5000, 'the line after truncation');
    assert.match(err.text, /truncated/);
    // rotation: the file is moved away and a new one created
    fs.appendFileSync(file, '[2026-01-01 10:00:04.000] luat:U(20):I/user.main last of old\n');
    fs.renameSync(file, file + '.1');
    await new Promise((r) => setTimeout(r, 100));
    fs.writeFileSync(file, '[2026-01-01 10:00:05.000] luat:U(30):W/user.main new file\n');
    await waitFor(() => out.text.includes('W/user.main new file'), 5000, 'the line of the new file');
    assert.ok(out.text.includes('I/user.main last of old'), 'the rest of the old file was read');
    assert.match(err.text, /replaced/);
  } finally {
    ac.abort();
    clearTimeout(hardStop);
  }
  const code = await done;
  assert.equal(code, 0);
  assert.deepEqual(out.lines, [
    '[2026-01-01 10:00:00.000] luat:U(100):I/user.main start',
    '[2026-01-01 10:00:01.000] luat:U(1101):I/user.wifi 已连接',
    '[2026-01-01 10:00:02.000] luat:U(2100):E/user.task boom',
    'stack traceback:',
    '\tmain.lua:3: in main chunk',
    '[2026-01-01 10:00:03.000] luat:U(10):I/user.main restarted',
    '[2026-01-01 10:00:04.000] luat:U(20):I/user.main last of old',
    '[2026-01-01 10:00:05.000] luat:U(30):W/user.main new file',
  ]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('--follow --format jsonl with a filter streams only matching records', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'live.log');
  fs.writeFileSync(file, '');
  const out = new Collector();
  const ac = new AbortController();
  const hardStop = setTimeout(() => ac.abort(), 10000);
  const done = logsCommand([file, '-f', '--format', 'jsonl', '--grep', '推流'], out, { signal: ac.signal, pollMs: 30, stderr: new Collector() });
  try {
    for (let i = 0; i < 5; i++) {
      fs.appendFileSync(file, `[2026-01-01 10:00:0${i}.000][00000000${i}.500] I/user.rtmp ${i % 2 ? '推流中' : 'idle'} ${i}\n`);
      await new Promise((r) => setTimeout(r, 40));
    }
    await waitFor(() => out.lines.length >= 2, 5000, 'two matching records');
  } finally {
    ac.abort();
    clearTimeout(hardStop);
  }
  assert.equal(await done, 0);
  assert.deepEqual(out.lines.map((l) => JSON.parse(l)).map((r) => [r.boot_ms, r.message]), [
    [1500, '推流中 1'],
    [3500, '推流中 3'],
  ]);
  fs.rmSync(dir, { recursive: true, force: true });
});
