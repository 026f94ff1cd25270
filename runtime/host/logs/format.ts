/**
 * Output of `luatos logs`.
 *
 * text   the record's logical line as in the file (a split long line comes out whole, a multi-line
 *        record keeps its lines), decoded to UTF-8; coloured by level on request (D grey, W yellow,
 *        E red, the same colours `luatos run` uses).
 * jsonl  one JSON object a record, the shape `luatos run --format jsonl` writes
 *        (runtime/core/log.ts toJsonRecord): time (ISO 8601, UTC, from the stamp read as local time),
 *        boot_ms, level, tag, module, message. time and boot_ms are null when the line has none.
 *        `source` is added only when the line names one (`main.lua:22` from log.style(1), or the
 *        C function and line of an EC7xx SDK trace line).
 */
import type { LogEntry } from './parse';

const COLORS: Record<string, string> = { D: '\x1b[90m', I: '', U: '', W: '\x1b[33m', E: '\x1b[31m' };
const RESET = '\x1b[0m';

export function formatText(e: LogEntry, color = false): string {
  if (!color) return e.text;
  const c = COLORS[e.level];
  if (!c) return e.text;
  // colour each physical line so a pager that cuts lines keeps the colour right
  return e.text
    .split('\n')
    .map((l) => c + l + RESET)
    .join('\n');
}

export interface JsonLogEntry {
  /** the device of a merged fleet log line (first, as `luatos fleet --format jsonl` writes it) */
  device?: string;
  time: string | null;
  boot_ms: number | null;
  level: string;
  tag: string | null;
  module: string | null;
  message: string;
  source?: string;
}

export function toJsonEntry(e: LogEntry): JsonLogEntry {
  const j: JsonLogEntry = {
    ...(e.device ? { device: e.device } : {}),
    time: e.time === null ? null : new Date(e.time).toISOString(),
    boot_ms: e.bootMs,
    level: e.level,
    tag: e.tag,
    module: e.module,
    message: e.message,
  };
  if (e.source !== null) j.source = e.source;
  return j;
}

export function formatJsonl(e: LogEntry): string {
  return JSON.stringify(toJsonEntry(e));
}
