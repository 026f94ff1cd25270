/**
 * Log line patterns of scenario steps (`expect`, `expect-not`, `wait-for`).
 *
 * A pattern is plain text (a substring match) or `/regex/flags` (a JavaScript regular
 * expression), optionally narrowed by a level and a tag. It is tested against the line as
 * Luatools shows it, without the PC's `[date time]` stamp:
 *
 *   luat:U(1121):I/user.main 你好 1 2         Lua output: level I, tag "main"
 *   luat:D(3042):wlan:STA connected lab      firmware line: level D, tag (module) "wlan"
 *
 * Text is decoded as UTF-8, so Chinese text matches as written in the YAML file. A line that
 * is longer than one device record (512 bytes) is matched whole.
 */
import { formatRecordBody, LogRecord, recordLevel, toJsonRecord } from '../../core/log';
import type { LogLevel } from '../../core/log';

export type Level = LogLevel;

export interface LinePattern {
  /** as written in the scenario (for reports) */
  source: string;
  /** plain text to find, or */
  text?: string;
  /** a regular expression */
  regex?: RegExp;
  level?: Level;
  tag?: string;
}

/** One line of a scenario's log, as the runner keeps it. */
export interface LogLine {
  /** 1-based position in the scenario's log */
  no: number;
  /** device time since the scenario started (ms) */
  t: number;
  /** boot number and ms since that boot */
  boot: number;
  bootMs: number;
  /** the line without the wall stamp: `luat:U(123):I/user.tag message` */
  body: string;
  level: Level | 'U';
  /** user tag for Lua output, module for firmware lines (null when there is none) */
  tag: string | null;
  record: LogRecord;
}

export function makeLogLine(r: LogRecord, no: number, t: number): LogLine {
  return {
    no,
    t,
    boot: r.boot,
    bootMs: r.ms,
    body: formatRecordBody(r).toString('utf8'),
    level: recordLevel(r),
    // only Lua output needs the JSON form's parse (its `X/user.<tag>`); firmware lines name their module
    tag: r.kind === 'U' ? toJsonRecord(r).tag : (r.module ?? null),
    record: r,
  };
}

const LEVEL_WORDS: Record<string, Level> = {
  d: 'D', debug: 'D',
  i: 'I', info: 'I',
  w: 'W', warn: 'W', warning: 'W',
  e: 'E', error: 'E',
};

/** `D|I|W|E` or `debug|info|warn|error` (any case); null when not a level. */
export function parseLevel(s: string): Level | null {
  return LEVEL_WORDS[s.trim().toLowerCase()] ?? null;
}

/**
 * Compile a pattern. `/.../flags` is a regex (flags i, m, s, u; `g` and `y` are refused as
 * they make `test()` stateful); anything else is text. Throws Error with a readable message.
 */
export function compilePattern(source: string, level?: Level, tag?: string): LinePattern {
  const m = /^\/([\s\S]+)\/([a-z]*)$/.exec(source);
  if (m) {
    const flags = m[2];
    if (/[^imsu]/.test(flags)) throw new Error(`regex flags may only be i, m, s, u (got '${flags}')`);
    let regex: RegExp;
    try {
      regex = new RegExp(m[1], flags);
    } catch (e) {
      throw new Error(`bad regular expression ${source}: ${(e as Error).message}`, { cause: e });
    }
    return { source, regex, level, tag };
  }
  if (source === '') throw new Error('an empty pattern matches every line; give some text or a /regex/');
  return { source, text: source, level, tag };
}

/** Does the text part match (ignoring level and tag)? */
export function textMatches(p: LinePattern, line: LogLine): boolean {
  return p.regex ? p.regex.test(line.body) : line.body.includes(p.text as string);
}

export function matches(p: LinePattern, line: LogLine): boolean {
  if (p.level && line.level !== p.level) return false;
  if (p.tag !== undefined && line.tag !== p.tag) return false;
  return textMatches(p, line);
}

/** "/IP_READY/ (level I, tag netdrv)" */
export function describePattern(p: LinePattern, negated = false): string {
  const a = negated ? 'no line' : 'a line';
  const text = p.regex ? `${a} matching ${p.source}` : `${a} containing "${p.source}"`;
  const extra = [p.level ? `level ${p.level}` : '', p.tag !== undefined ? `tag ${p.tag}` : ''].filter(Boolean);
  return extra.length ? `${text} (${extra.join(', ')})` : text;
}
