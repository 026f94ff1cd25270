/**
 * Filters for `luatos logs`: level, tag, text and time range.
 *
 * - Level: minimum of D < I < W < E. Print output and lines without a level (U) rank as I (the
 *   same place `luatos run` colours them), so `--level W` hides them and `--level I` keeps them.
 * - Tag: the grammar of the web console's tag box, from the one file both use
 *   (runtime/host/web/static/tag-filter.js): comma-separated terms (and `--tag` repeatable), any may
 *   match; equal to the Lua tag or the module; a Lua tag also matches by dotted prefix (`--tag
 *   rtmp_app` keeps `rtmp_app.task`); a module also matches by its last part (`--tag lwip` keeps
 *   `ap1:lwip`); `--tag user` keeps every Lua log line; `!TERM` hides; `--ignore-case` applies.
 * - Text: `--grep` (plain text) and `--regex` (JavaScript regular expression, Unicode mode), both
 *   repeatable; a record is kept when any of them matches its text (header and message, all of a
 *   multi-line record). `--ignore-case` applies to both. Matching is on decoded text, so Chinese
 *   (UTF-8 or GBK in the file) matches Chinese in the pattern.
 * - Time: `--since`/`--until` (both inclusive) take
 *     wall time   `HH:MM[:SS[.mmm]]` or `YYYY-MM-DD HH:MM[:SS[.mmm]]` (also with `T`),
 *     boot time   `12000ms`, `+12000ms`, `12s`, `1.5s`, `2m` (ms since boot; applies in every boot).
 *   A bound given to the second (or minute) covers that whole second (minute) for `--until`.
 *   A time of day alone is placed on the date of the first stamped record, or on the day after when
 *   that is nearer to the first record (more than 12 h before it: a log that runs past midnight);
 *   an --until earlier than the --since moves to the next day.
 *   A record without its own wall or boot time (an unstamped line, a Luatools note) is judged by the
 *   last one seen before it; before any is seen it is kept by neither bound.
 */
import * as path from 'node:path';
import type { EntryLevel, LogEntry } from './parse';
import { defaultStaticDir } from '../web/static-files';
import type { LogLevel } from '../../core/log';

interface ParsedTagFilter {
  include: string[];
  exclude: string[];
  ignoreCase: boolean;
}
interface TagFilterGrammar {
  parse(input: string | string[], ignoreCase?: boolean): ParsedTagFilter | null;
  matches(f: ParsedTagFilter | null, tag: string | null, module: string | null): boolean;
}
/** The console page's script, loaded as a CommonJS module: one grammar for both. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const TAG_FILTER = require(path.join(defaultStaticDir(), 'tag-filter.js')) as TagFilterGrammar;

/** Parse `--tag` values (each may hold comma-separated terms, `!TERM` hides). Null: no filter. */
export function parseTagFilter(tags: string[], ignoreCase = false): ParsedTagFilter | null {
  return TAG_FILTER.parse(tags, ignoreCase);
}

export type MinLevel = LogLevel;

export type TimeBound =
  | { kind: 'boot'; ms: number }
  | { kind: 'wall'; ms: number }
  | { kind: 'clock'; ms: number };

export interface FilterSpec {
  /** only these devices of a merged fleet log (`<name>` after the stamp); lines without one never match */
  devices?: string[];
  minLevel?: MinLevel;
  tags?: string[];
  grep?: string[];
  regex?: RegExp[];
  since?: TimeBound;
  until?: TimeBound;
}

const RANK: Record<EntryLevel, number> = { D: 1, I: 2, U: 2, W: 3, E: 4 };
const DAY = 86_400_000;

export class FilterError extends Error {}

/** `D|I|W|E` or debug/info/warn/warning/error, any case. */
export function parseLevel(s: string): MinLevel {
  const v = s.trim().toUpperCase();
  const words: Record<string, MinLevel> = { D: 'D', DEBUG: 'D', I: 'I', INFO: 'I', W: 'W', WARN: 'W', WARNING: 'W', E: 'E', ERROR: 'E' };
  const r = words[v];
  if (!r) throw new FilterError(`--level must be D, I, W or E (got '${s}')`);
  return r;
}

/**
 * Parse a time bound. `end` = this is an --until bound (a bound to the second covers that second).
 */
export function parseTimeBound(s: string, end = false): TimeBound {
  const v = s.trim();
  let m = /^\+?(\d+(?:\.\d+)?)\s*(ms|s|m|min)$/i.exec(v);
  if (m) {
    const n = Number(m[1]);
    const unit = m[2].toLowerCase();
    const mult = unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000;
    return { kind: 'boot', ms: Math.round(n * mult) };
  }
  m = /^(?:(\d{4})-(\d{1,2})-(\d{1,2})[ T])?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(v);
  if (m) {
    const h = Number(m[4]);
    const mi = Number(m[5]);
    const sec = m[6] !== undefined ? Number(m[6]) : 0;
    const ms = m[7] !== undefined ? Number(m[7].padEnd(3, '0')) : 0;
    if (h > 23 || mi > 59 || sec > 59) throw new FilterError(`not a valid time: '${s}'`);
    // an --until given to the second or minute covers all of it
    const slack = !end ? 0 : m[7] !== undefined ? 0 : m[6] !== undefined ? 999 : 59_999;
    if (m[1] !== undefined) {
      const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), h, mi, sec, ms);
      if (d.getMonth() !== Number(m[2]) - 1 || d.getDate() !== Number(m[3])) throw new FilterError(`not a valid date: '${s}'`);
      return { kind: 'wall', ms: d.getTime() + slack };
    }
    return { kind: 'clock', ms: ((h * 60 + mi) * 60 + sec) * 1000 + ms + slack };
  }
  if (/^\+?\d+(?:\.\d+)?$/.test(v)) throw new FilterError(`'${s}' needs a unit: ms or s for boot time (12000ms, 12s), or HH:MM:SS for wall time`);
  throw new FilterError(`not a time: '${s}' (use HH:MM:SS[.mmm], 'YYYY-MM-DD HH:MM:SS', or boot time like 12s / +12000ms)`);
}

/** Build a RegExp from a --regex argument. */
export function compileRegex(src: string, ignoreCase: boolean): RegExp {
  try {
    return new RegExp(src, ignoreCase ? 'iu' : 'u');
  } catch (e) {
    throw new FilterError(`bad --regex '${src}': ${(e as Error).message}`);
  }
}

/** Whether the entry passes the tag terms (see the module comment). */
export function tagMatches(e: LogEntry, want: string | string[], ignoreCase = false): boolean {
  return TAG_FILTER.matches(TAG_FILTER.parse(want, ignoreCase), e.tag, e.module);
}

/** Local midnight of the day containing t. */
function midnight(t: number): number {
  const d = new Date(t);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/**
 * A stateful filter: it remembers the last wall/boot time seen (for records that carry none) and
 * the date that times of day refer to.
 */
export class LogFilter {
  private lastTime: number | null = null;
  private lastBoot: number | null = null;
  private anchor: number | null = null;
  private readonly grepLower: string[];
  private readonly ignoreCase: boolean;
  private readonly tags: ParsedTagFilter | null;

  constructor(private readonly spec: FilterSpec, opts: { ignoreCase?: boolean } = {}) {
    this.ignoreCase = !!opts.ignoreCase;
    this.tags = parseTagFilter(spec.tags ?? [], this.ignoreCase);
    this.grepLower = (spec.grep ?? []).map((g) => (this.ignoreCase ? g.toLowerCase() : g));
  }

  /** Forget times seen (a truncated file starts over). */
  reset(): void {
    this.lastTime = null;
    this.lastBoot = null;
  }

  test(e: LogEntry): boolean {
    if (e.time !== null) {
      this.lastTime = e.time;
      if (this.anchor === null) this.anchor = e.time;
    }
    if (e.bootMs !== null) this.lastBoot = e.bootMs;
    const s = this.spec;
    if (s.devices && !(e.device && s.devices.includes(e.device))) return false;
    if (s.minLevel && RANK[e.level] < RANK[s.minLevel]) return false;
    if (this.tags && !TAG_FILTER.matches(this.tags, e.tag, e.module)) return false;
    const nText = (s.grep?.length ?? 0) + (s.regex?.length ?? 0);
    if (nText) {
      const hay = this.ignoreCase ? e.text.toLowerCase() : e.text;
      let hit = this.grepLower.some((g) => hay.includes(g));
      if (!hit && s.regex) hit = s.regex.some((r) => r.test(e.text));
      if (!hit) return false;
    }
    if (s.since && !this.within(s.since, e, 1)) return false;
    if (s.until && !this.within(s.until, e, -1)) return false;
    return true;
  }

  /** A time of day on the anchor's date, or the next day's when that is nearer (past midnight). */
  private clockToWall(ms: number): number {
    const a = this.anchor as number;
    const t = midnight(a) + ms;
    return a - t > DAY / 2 ? t + DAY : t;
  }

  /** dir 1: value >= bound; dir -1: value <= bound. */
  private within(b: TimeBound, e: LogEntry, dir: 1 | -1): boolean {
    let v: number | null;
    let bound: number;
    if (b.kind === 'boot') {
      v = e.bootMs ?? this.lastBoot;
      bound = b.ms;
    } else {
      v = e.time ?? this.lastTime;
      if (b.kind === 'wall') bound = b.ms;
      else {
        if (this.anchor === null) return false;
        bound = this.clockToWall(b.ms);
        if (dir === -1 && this.spec.since?.kind === 'clock' && bound < this.clockToWall(this.spec.since.ms)) {
          // --until before --since (both times of day): the range runs past midnight
          bound += DAY;
        }
      }
    }
    if (v === null) return false;
    return dir === 1 ? v >= bound : v <= bound;
  }
}
