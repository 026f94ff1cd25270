import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { runLua } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { formatRecord, splitPayload } from '../../runtime/core/log';

const LINE = /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] luat:(U|D|I|W|E)\(\d+\):/;

for (const engine of ENGINE_NAMES) {
  test(`log and print follow the firmware's rules (${engine})`, async () => {
    const src = `
      log.info("tag", "a", 1, 2.0, 2.5, nil, true, nil)
      log.info(nil, "niltag")
      log.info(true, "booltag")
      log.info({}, "tabletag")
      log.info(12, "numtag")
      log.warn("w", "x")
      log.error("e", "y")
      log.fatal("f", "z")
      log.debug("d", "dbg")
      log.info()
      print("p", 1, 2.0, nil)
      print()
      log.setLevel("INFO")
      log.debug("hidden", "no")
      log.info("lv", log.getLevel())
      log.setLevel("FATAL")
      log.error("silenced", "no")
      log.setLevel(1)
      log.info("lv2", log.getLevel(), log.LOG_DEBUG, log.LOG_INFO, log.LOG_WARN, log.LOG_ERROR, log.LOG_SILENT)
      log.style(1)
      log.info("styled", "s1")
      log.style(2)
      log.info("styled", "s2")
      log.style(0)
      log.info("END", tostring(1e15), tostring(-0.5), tostring(3), 1/0)
    `;
    const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.END' });
    const u = r.user;
    assert.deepEqual(u.slice(0, 11), [
      'I/user.tag a 1 2 2.5 nil true nil',
      'I/user.(null) niltag',
      'I/user.(null) booltag',
      'I/user.(null) tabletag',
      'I/user.12 numtag',
      'W/user.w x',
      'E/user.e y',
      'E/user.f z',
      'D/user.d dbg',
      'p 1 2 nil',
      '',
    ]);
    assert.ok(!u.some((x) => x.includes('hidden') || x.includes('silenced')));
    assert.ok(u.includes('I/user.lv 2'));
    assert.ok(u.includes('I/user.lv2 1 1 2 3 4 7'));
    assert.ok(u.includes('I/main.lua:22 styled s1'), u.join('\n'));
    assert.ok(u.includes('I/user.styled main.lua:24 s2'), u.join('\n'));
    assert.ok(u.includes('I/user.END 1e+15 -0.5 3 inf'), u.join('\n'));
    for (const l of r.lines) assert.match(l, LINE);
  });
}

test('a U record has the Luatools layout and long lines split at 512 bytes on UTF-8 boundaries', () => {
  const rec = { kind: 'U' as const, ms: 3903.7, wall: new Date(2026, 0, 22, 10, 0, 0, 5).getTime(), payload: Buffer.from('I/user.x 中'), boot: 1 };
  assert.equal(formatRecord(rec).toString(), '[2026-01-22 10:00:00.005] luat:U(3903):I/user.x 中');
  const rt = { kind: 'D' as const, ms: 1, wall: rec.wall, module: 'wlan', payload: Buffer.from('STA connected x'), boot: 1 };
  assert.equal(formatRecord(rt).toString(), '[2026-01-22 10:00:00.005] luat:D(1):wlan:STA connected x');
  const long = Buffer.from('a'.repeat(511) + '中'.repeat(200));
  const parts = splitPayload(long);
  assert.equal(parts[0].length, 511);
  assert.deepEqual(Buffer.concat(parts), long);
  for (const p of parts) assert.ok(p.length <= 512 && p.toString('utf8').indexOf('\ufffd') === -1);
});

test('binary and GBK bytes in scripts reach the log unchanged (both engines)', async () => {
  // "你好" in GBK is C4 E3 BA C3; a script file in GBK must load as bytes
  const gbk = Buffer.from([0xc4, 0xe3, 0xba, 0xc3]);
  const src = Buffer.concat([Buffer.from('log.info("gbk", "'), gbk, Buffer.from('", #"'), gbk, Buffer.from('", "\\0\\255x")\nlog.info("END")\n')]);
  for (const engine of ENGINE_NAMES) {
    const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.END' });
    const rec = r.records.find((x) => x.kind === 'U' && x.payload.includes(Buffer.from('user.gbk')));
    assert.ok(rec, `${engine}: no gbk line`);
    assert.deepEqual(rec.payload, Buffer.concat([Buffer.from('I/user.gbk '), gbk, Buffer.from(' 4 '), Buffer.from([0, 255, 0x78])]));
  }
});
