import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { VirtualClock } from '../../runtime/core/clock';
import { runLua, RunLuaResult } from '../helpers/run-lua';
import { suite } from './util';

function cleanup(r: RunLuaResult): void {
  fs.rmSync(r.dir, { recursive: true, force: true });
  fs.rmSync(r.device.vfs.dataDir, { recursive: true, force: true });
}

// 1700000000 = 2023-11-14 22:13:20 UTC (a Tuesday), 06:13:20 on the 15th at UTC+8.
const BODY = String.raw`
eq("default time zone is UTC+8 (32 quarter hours)", rtc.timezone(), 32)
eq("set unix", rtc.set(1700000000), true)
local t = rtc.get()
eq("get is UTC", string.format("%d-%d-%d %d:%d:%d", t.year, t.mon, t.day, t.hour, t.min, t.sec), "2023-11-14 22:13:20")
local now = os.time()
eq("os.time follows rtc.set", now >= 1700000000 and now <= 1700000002, true)
eq("os.date local is UTC+8", os.date("%Y-%m-%d %H:%M:%S", 1700000000), "2023-11-15 06:13:20")
eq("os.date ! is UTC", os.date("!%Y-%m-%d %H:%M:%S", 1700000000), "2023-11-14 22:13:20")
eq("%c", os.date("!%c", 1700000000), "Tue Nov 14 22:13:20 2023")
eq("%z", os.date("%z", 0), "+0800")
eq("os.time of a local table", os.time({year=2023, month=11, day=15, hour=6, min=13, sec=20}), 1700000000)
eq("os.time hour defaults to 12", os.time({year=1970, month=1, day=1}), 4 * 3600)
local tt = {year=2023, month=12, day=32, hour=0}
os.time(tt)
eq("os.time normalises the table", tt.year * 10000 + tt.month * 100 + tt.day, 20240101)
raises("os.time needs day", "field 'day' missing in date table", os.time, {year=2023, month=1})
local d = os.date("*t", 1700000000)
eq("*t", string.format("%d %d %d %d %d %d %d %d %s", d.year, d.month, d.day, d.hour, d.min, d.sec, d.wday, d.yday, tostring(d.isdst)), "2023 11 15 6 13 20 4 319 false")
local u = os.date("!*t", 1700000000)
eq("!*t", u.hour * 100 + u.day, 2214)
raises("invalid conversion", "invalid conversion specifier '%Ez'", os.date, "%Ez")
raises("invalid conversion 2", "invalid conversion specifier '%q'", os.date, "%q")
-- time zone
eq("timezone -16", rtc.timezone(-16), -16)
eq("os.date at UTC-4", os.date("%H:%M %z", 1700000000), "18:13 -0400")
eq("os.time at UTC-4", os.time({year=2023, month=11, day=14, hour=18, min=13, sec=20}), 1700000000)
eq("timezone not a multiple of 4", rtc.timezone(30), false)
eq("timezone out of range", rtc.timezone(52), false)
eq("timezone not an integer", rtc.timezone(1.5), false)
eq("timezone unchanged", rtc.timezone(), -16)
eq("timezone(0)", rtc.timezone(0), 0)
eq("rtc.get ignores the zone", rtc.get().hour, os.date("!*t").hour)
-- rtc.set validation
eq("set table", rtc.set({year=2024, mon=2, day=29, hour=23, min=59, sec=58}), true)
eq("after set table", os.date("!%F %T"):sub(1, 16), "2024-02-29 23:59")
eq("invalid day", rtc.set({year=2023, mon=2, day=29, hour=0, min=0, sec=0}), false)
eq("invalid year", rtc.set({year=1899, mon=1, day=1, hour=0, min=0, sec=0}), false)
eq("invalid sec", rtc.set({year=2023, mon=1, day=1, hour=0, min=0, sec=60}), false)
eqv("missing field", {}, rtc.set({year=2023, mon=1, day=1, hour=0, min=0}))
eq("timestamp 0", rtc.set(0), false)
eq("negative timestamp", rtc.set(-5), false)
eq("not a table or integer", rtc.set("x"), false)
raises("base year", "invalid base year", rtc.setBaseYear, 1800)
eqv("base year ok", {}, rtc.setBaseYear(2000))
eq("timerStop", rtc.timerStop(0), true)
`;

for (const engine of ENGINE_NAMES) {
  test(`rtc and os.time/os.date: device clock, time zone in quarter hours, validation (${engine})`, async () => {
    const r = await suite(engine, BODY);
    assert.equal(r.checks, 37);
    const warn = r.run.lines.filter((l) => l.includes(':W(') && l.includes(':rtc:'));
    assert.ok(warn.some((l) => l.endsWith('rtc:rtc time invalid day: 2023-2-29')), warn.join('\n'));
    assert.ok(warn.some((l) => l.endsWith('rtc:rtc time miss sec')), warn.join('\n'));
  });
}

// os.date against glibc's strftime (GNU date) as the independent implementation, for UTC and
// for device zones UTC+8 (POSIX TZ "UTC-8") and UTC-4 ("UTC+4").
const FORMATS = ['%a %A %b %B %C %d %D %e', '%F %g %G %H %I %j %m %M %p', '%r %R %S %T %u %U %V %w %W', '%x %X %y %Y %z %%', '%c', '%h %n%t|'];
const TIMES = [0, 1700000000, 1609632000, 951782400, 1230681600, 1230768000, 1262217600, 2147483647, 86399, 1104537600];
for (const engine of ENGINE_NAMES) test(`os.date: every C99 conversion equals GNU date (glibc strftime) in UTC, UTC+8 and UTC-4 (skipped without GNU date) (${engine})`, async (t) => {
  const probe = spawnSync('date', ['-u', '-d', '@0', '+%G'], { encoding: 'utf8' });
  if (probe.status !== 0 || probe.stdout.trim() !== '1970') {
    t.skip('GNU date not available');
    console.log('# skipped: GNU date (the reference strftime) is not available');
    return;
  }
  const zones: [number, string][] = [[32, 'UTC-8'], [-16, 'UTC+4']];
  const lines: string[] = [];
  for (const [tz] of zones) {
    lines.push(`rtc.timezone(${tz})`);
    for (const ts of TIMES) for (const f of FORMATS) lines.push(`log.info("D", ${JSON.stringify('!' + f)}, "=" .. os.date(${JSON.stringify('!' + f)}, ${ts}) .. "=")`, `log.info("D", ${JSON.stringify(f)}, "=" .. os.date(${JSON.stringify(f)}, ${ts}) .. "=")`);
  }
  lines.push('log.info("DONE")');
  const r = await runLua({ 'main.lua': lines.join('\n') }, { engine, until: 'I/user.DONE', timeoutMs: 15000 });
  try {
    const got = r.user.filter((u) => u.startsWith('I/user.D ')).map((u) => u.slice(u.indexOf('=') + 1, u.lastIndexOf('=')));
    const want: string[] = [];
    for (const [, posix] of zones) {
      for (const ts of TIMES)
        for (const f of FORMATS) {
          for (const utc of [true, false]) {
            const out = spawnSync('date', ['-d', `@${ts}`, `+${f}`], { encoding: 'utf8', env: { TZ: utc ? 'UTC' : posix, LC_ALL: 'C', PATH: process.env.PATH } });
            want.push(out.stdout.replace(/\n$/, ''));
          }
        }
    }
    assert.equal(got.length, want.length);
    for (let i = 0; i < want.length; i++) assert.equal(got[i], want[i], `case ${i}`);
  } finally {
    cleanup(r);
  }
});

for (const engine of ENGINE_NAMES) {
  test(`rtc: os.time moves with the virtual clock and an rtc alarm fires at its UTC time (${engine})`, async () => {
    const start = Date.UTC(2024, 0, 1, 0, 0, 0);
    const src = `
sys = require("sys")
sys.subscribe("RTC_IRQ", function(...) log.info("ALARM", select("#", ...), os.time() - ${start / 1000}) end)
sys.taskInit(function()
  log.info("START", os.date("%Y-%m-%d %H:%M:%S"), os.date("!%H:%M"))
  local t0 = os.time()
  eqok = rtc.timerStart(0, {year=2024, mon=1, day=1, hour=0, min=30, sec=0})
  log.info("ARMED", eqok)
  sys.wait(3600 * 1000)
  log.info("HOUR", os.time() - t0, os.date("%H:%M"))
  log.info("DONE")
end)
sys.run()
`;
    const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', timeoutMs: 15000, device: { clock: new VirtualClock(start) } });
    try {
      const u = r.user.join('\n');
      assert.match(u, /I\/user\.START 2024-01-01 08:00:0\d 00:00/);
      assert.match(u, /I\/user\.ARMED true/);
      assert.match(u, /I\/user\.ALARM 0 1800\b/); // no arguments, 30 min after the start
      assert.match(u, /I\/user\.HOUR 3600 09:00/);
      assert.ok(u.indexOf('ALARM') < u.indexOf('HOUR'));
    } finally {
      cleanup(r);
    }
  });
}

test('rtc: the profile sets the boot time zone (profile rtc.timezone)', async () => {
  const src = 'log.info("TZ", rtc.timezone(), os.date("%z", 0), os.date("%H", 0))\nlog.info("DONE")';
  const r = await runLua({ 'main.lua': src }, { until: 'I/user.DONE', profile: { rtc: { timezone: -20 } } });
  try {
    assert.ok(r.user.includes('I/user.TZ -20 -0500 19'), r.user.join('\n'));
  } finally {
    cleanup(r);
  }
});
