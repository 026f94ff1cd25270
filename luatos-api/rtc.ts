/**
 * rtc (luat_lib_rtc.c; luatos-api-2.md §13) and the firmware's `os.time` / `os.date`, both on
 * the device clock (`Clock.wallNow`, so `--clock virtual` moves them with virtual time, and
 * SNTP / rtc.set move them together) and the device time zone, never the host's.
 *
 * - `rtc.set({year, mon, day, hour, min, sec})` (UTC; every field required: a missing one logs
 *   `rtc time miss <field>` (W) and returns nothing; out of range → `rtc time invalid ...` and
 *   false) or `rtc.set(unix)` (1..0xFFFFFFFF, else false) → true.
 * - `rtc.get()` → `{year, mon, day, hour, min, sec}` in UTC.
 * - `rtc.timerStart(id, {year, mon, day, hour, min, sec})` → true: an alarm at that UTC time
 *   of the device clock; it publishes `RTC_IRQ` with no arguments, as the ports that deliver
 *   the RTC interrupt to Lua do (e.g. the W800 port's rtc handler: `sys_pub("RTC_IRQ")`).
 *   One alarm per id; an alarm already due fires at once. `rtc.timerStop(id)` → true.
 * - `rtc.timezone(tz?)` → the zone in quarter hours (default 32 = UTC+8, as most modules ship;
 *   profile `rtc.timezone` changes it); tz must be an integer in -48..48 and a multiple of 4,
 *   else false. Kept per boot (RAM), like the firmware.
 * - `rtc.setBaseYear(y)`: 1900..2050, else the error "invalid base year"; stored, no effect on
 *   the values here (the firmware uses it for its hardware RTC registers).
 * - `os.time(t?)` → now (seconds) or the table read as device local time (Lua 5.3 rules:
 *   day, month, year required, hour 12 by default, fields normalised and written back).
 * - `os.date(fmt="%c", t=now)`: "!" = UTC, otherwise device local time; "*t" → table; C-locale
 *   strftime conversions of C99 (other specifiers raise Lua's "invalid conversion specifier").
 *   `%Z` gives "" (unsure what the firmware's libc prints).
 */
import { LuaError, LUA_TTABLE } from '../runtime/core/engine/types';
import type { Args } from '../runtime/core/vm/lua-value';
import type { TimerHandle } from '../runtime/core/clock';
import type { Vm } from '../runtime/core/vm/vm';

const MAX_TIMER_MS = 0x7fffffff;
const FIELDS = ['year', 'mon', 'day', 'hour', 'min', 'sec'] as const;
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const VALID_CONV = new Set('aAbBcCdDeFgGhHIjmMnprRStTuUVwWxXyYzZ%'.split(''));
const VALID_E = new Set('cCxXyY'.split(''));
const VALID_O = new Set('deHImMSuUVwWy'.split(''));

export interface Tm {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  min: number;
  sec: number;
  wday: number; // 1..7, Sunday = 1
  yday: number; // 1..366
}

/** broken-down UTC time of unix seconds `t` */
export function gmtime(t: number): Tm {
  const d = new Date(t * 1000);
  const y = d.getUTCFullYear();
  const start = Date.UTC(y, 0, 1) / 1000;
  return {
    year: y,
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    min: d.getUTCMinutes(),
    sec: d.getUTCSeconds(),
    wday: d.getUTCDay() + 1,
    yday: Math.floor((t - start) / 86400) + 1,
  };
}

/** unix seconds of a (normalising) UTC calendar time */
export function timegm(year: number, month: number, day: number, hour: number, min: number, sec: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, min, sec, 0);
  return Math.floor(d.getTime() / 1000);
}

function pad(n: number, w: number, c = '0'): string {
  const s = String(Math.abs(n));
  return (n < 0 ? '-' : '') + (s.length >= w ? s : c.repeat(w - s.length) + s);
}

/** ISO 8601 week-based year and week number */
function isoWeek(tm: Tm): [number, number] {
  const wdayMon = (tm.wday + 5) % 7; // Monday = 0
  const thursdayYday = tm.yday - wdayMon + 3; // yday of this week's Thursday (1-based)
  const ylen = (y: number) => ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 366 : 365);
  if (thursdayYday < 1) {
    const py = tm.year - 1;
    return [py, Math.floor((thursdayYday + ylen(py) - 1) / 7) + 1];
  }
  if (thursdayYday > ylen(tm.year)) return [tm.year + 1, 1];
  return [tm.year, Math.floor((thursdayYday - 1) / 7) + 1];
}

/** C-locale strftime of one conversion */
function conv(c: string, tm: Tm, tzMin: number, utc: boolean): string {
  const h12 = tm.hour % 12 === 0 ? 12 : tm.hour % 12;
  switch (c) {
    case 'a':
      return DAYS[tm.wday - 1].slice(0, 3);
    case 'A':
      return DAYS[tm.wday - 1];
    case 'b':
    case 'h':
      return MONTHS[tm.month - 1].slice(0, 3);
    case 'B':
      return MONTHS[tm.month - 1];
    case 'c':
      return `${conv('a', tm, tzMin, utc)} ${conv('b', tm, tzMin, utc)} ${pad(tm.day, 2, ' ')} ${conv('T', tm, tzMin, utc)} ${tm.year}`;
    case 'C':
      return pad(Math.floor(tm.year / 100), 2);
    case 'd':
      return pad(tm.day, 2);
    case 'D':
    case 'x':
      return `${pad(tm.month, 2)}/${pad(tm.day, 2)}/${pad(tm.year % 100, 2)}`;
    case 'e':
      return pad(tm.day, 2, ' ');
    case 'F':
      return `${pad(tm.year, 4)}-${pad(tm.month, 2)}-${pad(tm.day, 2)}`;
    case 'g':
      return pad(isoWeek(tm)[0] % 100, 2);
    case 'G':
      return String(isoWeek(tm)[0]);
    case 'H':
      return pad(tm.hour, 2);
    case 'I':
      return pad(h12, 2);
    case 'j':
      return pad(tm.yday, 3);
    case 'm':
      return pad(tm.month, 2);
    case 'M':
      return pad(tm.min, 2);
    case 'n':
      return '\n';
    case 'p':
      return tm.hour < 12 ? 'AM' : 'PM';
    case 'r':
      return `${pad(h12, 2)}:${pad(tm.min, 2)}:${pad(tm.sec, 2)} ${tm.hour < 12 ? 'AM' : 'PM'}`;
    case 'R':
      return `${pad(tm.hour, 2)}:${pad(tm.min, 2)}`;
    case 'S':
      return pad(tm.sec, 2);
    case 't':
      return '\t';
    case 'T':
    case 'X':
      return `${pad(tm.hour, 2)}:${pad(tm.min, 2)}:${pad(tm.sec, 2)}`;
    case 'u':
      return String(tm.wday === 1 ? 7 : tm.wday - 1);
    case 'U':
      return pad(Math.floor((tm.yday - 1 + 7 - (tm.wday - 1)) / 7), 2);
    case 'V':
      return pad(isoWeek(tm)[1], 2);
    case 'w':
      return String(tm.wday - 1);
    case 'W':
      return pad(Math.floor((tm.yday - 1 + 7 - ((tm.wday + 5) % 7)) / 7), 2);
    case 'y':
      return pad(tm.year % 100, 2);
    case 'Y':
      return String(tm.year);
    case 'z': {
      const m = utc ? 0 : tzMin;
      return (m < 0 ? '-' : '+') + pad(Math.floor(Math.abs(m) / 60), 2) + pad(Math.abs(m) % 60, 2);
    }
    case 'Z':
      return '';
    case '%':
      return '%';
  }
  return '';
}

/** os.date's strftime over a whole format (Lua 5.3's checks of the conversions) */
export function strftime(fmt: string, tm: Tm, tzMin: number, utc: boolean): string {
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i];
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const c = fmt[i + 1];
    if (c === 'E' || c === 'O') {
      const c2 = fmt[i + 2];
      if (c2 === undefined || !(c === 'E' ? VALID_E : VALID_O).has(c2)) throw new LuaError(`invalid conversion specifier '%${c}${c2 ?? ''}'`);
      out += conv(c2, tm, tzMin, utc);
      i += 2;
      continue;
    }
    if (c === undefined || !VALID_CONV.has(c)) throw new LuaError(`invalid conversion specifier '%${c ?? ''}'`);
    out += conv(c, tm, tzMin, utc);
    i++;
  }
  return out;
}

interface RtcState {
  /** quarter hours */
  tz: number;
  baseYear: number;
  alarms: Map<number, TimerHandle>;
}

function validTime(vm: Vm, t: Record<string, number>): boolean {
  const { year, mon, day, hour, min, sec } = t;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dim = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  let bad: string | null = null;
  if (!(year >= 1900 && year <= 2200)) bad = `invalid year: ${year}`;
  else if (!(mon >= 1 && mon <= 12)) bad = `invalid month: ${mon}`;
  else if (!(day >= 1 && day <= dim[mon - 1])) bad = `invalid day: ${year}-${mon}-${day}`;
  else if (!(hour >= 0 && hour <= 23)) bad = `invalid hour: ${hour}`;
  else if (!(min >= 0 && min <= 59)) bad = `invalid minute: ${min}`;
  else if (!(sec >= 0 && sec <= 59)) bad = `invalid second: ${sec}`;
  if (bad) vm.log('W', 'rtc', `rtc time ${bad}`);
  return !bad;
}

/** One VM's rtc: the VM and its state (zone, base year, alarms). */
interface RtcCtx {
  vm: Vm;
  e: Vm['e'];
  st: RtcState;
}

function nowSec(ctx: RtcCtx): number {
  return Math.floor(ctx.vm.clock.wallNow() / 1000);
}

/** the zone in minutes */
function tzMin(ctx: RtcCtx): number {
  return ctx.st.tz * 15;
}

/** read the six fields of the table at i; null (after the firmware's warning) when one is missing */
function readFields(ctx: RtcCtx, a: Args, i: number): Record<string, number> | null {
  const { vm, e } = ctx;
  const t: Record<string, number> = Object.create(null);
  for (const f of FIELDS) {
    e.getfield(a.L, i, f);
    if (!e.isnumber(a.L, -1)) {
      e.pop(a.L, 1);
      vm.log('W', 'rtc', `rtc time miss ${f}`);
      return null;
    }
    e.pop(a.L, 1);
    t[f] = a.fieldInteger(i, f, 0);
  }
  return t;
}

function pushTm(ctx: RtcCtx, a: Args, tm: Tm, names: 'rtc' | 'os'): void {
  const { e } = ctx;
  e.createtable(a.L, 0, 9);
  const set = (k: string, v: number) => {
    e.pushinteger(a.L, v);
    e.setfield(a.L, -2, k);
  };
  set('year', tm.year);
  set(names === 'rtc' ? 'mon' : 'month', tm.month);
  set('day', tm.day);
  set('hour', tm.hour);
  set('min', tm.min);
  set('sec', tm.sec);
  if (names === 'os') {
    set('yday', tm.yday);
    set('wday', tm.wday);
    e.pushboolean(a.L, false);
    e.setfield(a.L, -2, 'isdst');
  }
}

/** rtc.set(table | unix) */
function rtcSet(ctx: RtcCtx, a: Args): number {
  const { vm, e } = ctx;
  if (a.type(1) !== LUA_TTABLE) {
    if (e.isinteger(a.L, 1)) {
      const t = a.integer(1);
      if (t === 0 || t < 0 || t > 0xffffffff) {
        vm.log('W', 'rtc', `rtc time invalid timestamp: ${t}`);
        e.pushboolean(a.L, false);
        return 1;
      }
      vm.clock.setWallTime(t * 1000);
      e.pushboolean(a.L, true);
      return 1;
    }
    vm.log('W', 'rtc', 'rtc time need table or integer');
    e.pushboolean(a.L, false);
    return 1;
  }
  const t = readFields(ctx, a, 1);
  if (!t) return 0;
  if (!validTime(vm, t)) {
    e.pushboolean(a.L, false);
    return 1;
  }
  vm.clock.setWallTime(timegm(t.year, t.mon, t.day, t.hour, t.min, t.sec) * 1000);
  e.pushboolean(a.L, true);
  return 1;
}

/** the alarm `id` at wall time `due` (ms): RTC_IRQ then */
function armAlarm(ctx: RtcCtx, id: number, due: number): void {
  const { vm, st } = ctx;
  // at most ~24 days per timer (Node's setTimeout limit); re-armed until due
  const wait = Math.min(due - vm.clock.wallNow(), MAX_TIMER_MS);
  st.alarms.set(
    id,
    vm.clock.setTimer(Math.max(0, wait), () => {
      // the wall clock may have been set meanwhile (rtc.set, SNTP): re-arm if not yet due
      if (vm.clock.wallNow() < due - 1) return armAlarm(ctx, id, due);
      st.alarms.delete(id);
      vm.publish('RTC_IRQ');
    }),
  );
}

/** rtc.timerStart, rtc.timerStop */
function alarmMethods(ctx: RtcCtx): Record<string, (a: Args) => number> {
  const { vm, e, st } = ctx;
  return {
    timerStart: (a) => {
      const id = a.integer(1);
      if (a.type(2) !== LUA_TTABLE) {
        vm.log('W', 'rtc', 'rtc time need table');
        return 0;
      }
      const t = readFields(ctx, a, 2);
      if (!t) return 0;
      const due = timegm(t.year, t.mon, t.day, t.hour, t.min, t.sec) * 1000;
      const old = st.alarms.get(id);
      if (old) vm.clock.clearTimer(old);
      armAlarm(ctx, id, due);
      e.pushboolean(a.L, true);
      return 1;
    },
    timerStop: (a) => {
      const id = a.integer(1);
      const h = st.alarms.get(id);
      if (h) vm.clock.clearTimer(h);
      st.alarms.delete(id);
      e.pushboolean(a.L, true);
      return 1;
    },
  };
}

/** rtc.setBaseYear, rtc.timezone */
function settingMethods(ctx: RtcCtx): Record<string, (a: Args) => number> {
  const { vm, e, st } = ctx;
  return {
    setBaseYear: (a) => {
      const y = a.integer(1);
      if (y < 1900 || y > 2050) {
        vm.log('W', 'rtc', `rtc invalid base year: ${y}`);
        throw new LuaError('invalid base year');
      }
      st.baseYear = y;
      return 0;
    },
    timezone: (a) => {
      if (a.count > 0) {
        if (!e.isinteger(a.L, 1)) {
          vm.log('W', 'rtc', 'rtc timezone invalid parameter type');
          e.pushboolean(a.L, false);
          return 1;
        }
        const tz = a.integer(1);
        if (tz < -48 || tz > 48 || tz % 4 !== 0) {
          vm.log('W', 'rtc', `rtc timezone invalid value: ${tz}`);
          e.pushboolean(a.L, false);
          return 1;
        }
        st.tz = tz;
      }
      e.pushinteger(a.L, st.tz);
      return 1;
    },
  };
}

/** a field of os.time's table (Lua 5.3's rules: an integer, or the default when nil) */
function dateField(ctx: RtcCtx, a: Args, k: string, def: number | null): number {
  const { e } = ctx;
  e.getfield(a.L, 1, k);
  const isnum = e.isinteger(a.L, -1) || e.isnumber(a.L, -1);
  let v: number | null = null;
  if (isnum) v = e.tointeger(a.L, -1);
  const t = e.type(a.L, -1);
  e.pop(a.L, 1);
  if (v === null) {
    if (t !== 0 /* nil */) throw new LuaError(`field '${k}' is not an integer`);
    if (def === null) throw new LuaError(`field '${k}' missing in date table`);
    return def;
  }
  return v;
}

/** os.time(t?) */
function osTime(ctx: RtcCtx, a: Args): number {
  const { e } = ctx;
  if (a.isNoneOrNil(1)) {
    e.pushinteger(a.L, nowSec(ctx));
    return 1;
  }
  a.table(1);
  e.settop(a.L, 1);
  const year = dateField(ctx, a, 'year', null);
  const month = dateField(ctx, a, 'month', null);
  const day = dateField(ctx, a, 'day', null);
  const hour = dateField(ctx, a, 'hour', 12);
  const min = dateField(ctx, a, 'min', 0);
  const sec = dateField(ctx, a, 'sec', 0);
  const t = timegm(year, month, day, hour, min, sec) - tzMin(ctx) * 60;
  if (!Number.isFinite(t) || (e.integerBits === 32 && (t > 0x7fffffff || t < -0x80000000))) {
    throw new LuaError('time result cannot be represented in this installation');
  }
  // normalise the fields (as mktime does) and write them back
  const tm = gmtime(t + tzMin(ctx) * 60);
  const set = (k: string, v: number) => {
    e.pushinteger(a.L, v);
    e.setfield(a.L, 1, k);
  };
  set('year', tm.year);
  set('month', tm.month);
  set('day', tm.day);
  set('hour', tm.hour);
  set('min', tm.min);
  set('sec', tm.sec);
  set('yday', tm.yday);
  set('wday', tm.wday);
  e.pushboolean(a.L, false);
  e.setfield(a.L, 1, 'isdst');
  e.pushinteger(a.L, t);
  return 1;
}

/** os.date(fmt?, t?) */
function osDate(ctx: RtcCtx, a: Args): number {
  let fmt = a.optString(1, '%c');
  const t = a.isNoneOrNil(2) ? nowSec(ctx) : a.integer(2);
  let utc = false;
  if (fmt.startsWith('!')) {
    utc = true;
    fmt = fmt.slice(1);
  }
  const tm = gmtime(utc ? t : t + tzMin(ctx) * 60);
  if (!Number.isFinite(tm.year)) throw new LuaError("time result cannot be represented in this installation");
  if (fmt.startsWith('*t')) {
    pushTm(ctx, a, tm, 'os');
    return 1;
  }
  ctx.e.pushstring(a.L, strftime(fmt, tm, tzMin(ctx), utc));
  return 1;
}

/** the state of a boot: the profile's zone (32 = UTC+8 when absent or invalid, with a warning) */
function initialState(vm: Vm): RtcState {
  const prof = vm.device.profile.rtc as { timezone?: number } | undefined;
  const ptz = prof?.timezone;
  const validTz = typeof ptz === 'number' && Number.isInteger(ptz) && ptz >= -48 && ptz <= 48 && ptz % 4 === 0;
  if (ptz !== undefined && !validTz) vm.log('W', 'rtc', `profile rtc.timezone ${String(ptz)} is not a multiple of 4 in -48..48, using 32`);
  return { tz: validTz ? ptz : 32, baseYear: 1900, alarms: new Map() };
}

export function openRtc(vm: Vm): void {
  const { e } = vm;
  const st = initialState(vm);
  const ctx: RtcCtx = { vm, e, st };
  vm.onClose(() => {
    for (const h of st.alarms.values()) vm.clock.clearTimer(h);
    st.alarms.clear();
  });
  const alarms = alarmMethods(ctx);
  const settings = settingMethods(ctx);
  vm.defineModule('rtc', {
    set: (a) => rtcSet(ctx, a),
    get: (a) => {
      pushTm(ctx, a, gmtime(nowSec(ctx)), 'rtc');
      return 1;
    },
    timerStart: alarms.timerStart,
    timerStop: alarms.timerStop,
    setBaseYear: settings.setBaseYear,
    timezone: settings.timezone,
  });
  e.getglobal(vm.L, 'os');
  vm.pushBinding('os.time', (a) => osTime(ctx, a));
  e.setfield(vm.L, -2, 'time');
  vm.pushBinding('os.date', (a) => osDate(ctx, a));
  e.setfield(vm.L, -2, 'date');
  e.pop(vm.L, 1);
}
