/**
 * The web console's bounded log history: a ring buffer of the last N logical log lines (default
 * 50 000), each with a sequence number so a browser that reconnects can ask for what it missed.
 *
 * Every entry keeps the record (for the `.log` download, which splits long print lines into
 * 512-byte records exactly like the device's log file) and the full Luatools text line (for the
 * live view, which shows a logical line as one row).
 */
import { formatRecord, LogRecord, recordLevel, splitPayload } from '../../core/log';
import type { LogKind } from '../../core/log';

export type LineLevel = LogKind;

export interface HistoryEntry {
  seq: number;
  record: LogRecord;
  /** the full Luatools line, e.g. `[2026-01-01 10:00:00.000] luat:U(120):I/user.main hello` */
  text: string;
  level: LineLevel;
  /** the user tag (`I/user.<tag>`) for Lua output, the firmware module otherwise ('' if none) */
  tag: string;
  /** `user` for Lua log lines, the firmware module otherwise, '' for print output */
  module: string;
}

/**
 * What a browser receives per line: [seq, level, tag, text, module] (tag and module as
 * runtime/host/logs/parse.ts gives them, so the tag box follows `luatos logs --tag`'s grammar).
 */
export type WireLine = [number, LineLevel, string, string, string];

/** Level, tag and module of a record as the console shows and filters them. */
export function classify(r: LogRecord): { level: LineLevel; tag: string; module: string } {
  const level = recordLevel(r);
  if (r.kind !== 'U') return { level, tag: r.module ?? '', module: r.module ?? '' };
  if (level === 'U') return { level, tag: '', module: '' };
  // `I/user.<tag> ...`: the tag runs to the first space
  const p = r.payload;
  if (p.length > 7 && p.toString('latin1', 2, 7) === 'user.') {
    let end = p.indexOf(0x20, 7);
    if (end < 0) end = p.length;
    return { level, tag: p.toString('utf8', 7, end), module: 'user' };
  }
  return { level, tag: '', module: '' };
}

export class LogHistory {
  private readonly buf: (HistoryEntry | undefined)[];
  private head = 0; // index of the oldest entry
  private count = 0;
  private nextSeq = 1;

  constructor(readonly capacity = 50_000) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be >= 1');
    this.buf = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** sequence number of the oldest line kept (nextSeq when empty) */
  get firstSeq(): number {
    return this.nextSeq - this.count;
  }

  /** sequence number the next line will get */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  push(record: LogRecord, text: string): HistoryEntry {
    const { level, tag, module } = classify(record);
    const e: HistoryEntry = { seq: this.nextSeq++, record, text, level, tag, module };
    const i = (this.head + this.count) % this.capacity;
    this.buf[i] = e;
    if (this.count < this.capacity) this.count++;
    else this.head = (this.head + 1) % this.capacity;
    return e;
  }

  /** Entries with seq > `after`, oldest first (all when after < firstSeq). */
  since(after = 0): HistoryEntry[] {
    const skip = Math.max(0, Math.min(this.count, after - this.firstSeq + 1));
    const out: HistoryEntry[] = [];
    for (let k = skip; k < this.count; k++) out.push(this.buf[(this.head + k) % this.capacity] as HistoryEntry);
    return out;
  }

  clear(): void {
    this.buf.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
}

export function toWire(e: HistoryEntry): WireLine {
  return [e.seq, e.level, e.tag, e.text, e.module];
}

/** The Luatools `.log` file bytes of one entry: long print output split into device records. */
export function entryFileLines(e: HistoryEntry): Buffer {
  const r = e.record;
  const parts = r.kind === 'U' ? splitPayload(r.payload) : [r.payload];
  const out: Buffer[] = [];
  for (const p of parts) out.push(formatRecord(parts.length === 1 ? r : { ...r, payload: p }), Buffer.from('\n'));
  return Buffer.concat(out);
}
