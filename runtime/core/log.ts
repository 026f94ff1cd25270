/**
 * The device log, in the format Luatools shows for an Air8101:
 *
 *   [YYYY-MM-DD HH:MM:SS.mmm] luat:U(<ms since boot>):I/user.<tag> <args>     Lua print/log output
 *   [YYYY-MM-DD HH:MM:SS.mmm] luat:<D|I|W|E>(<ms>):<module>:<message>           firmware (C-level) lines
 *
 * The bracketed stamp is the PC's receive time (Luatools adds it); `<ms>` is the device's
 * uptime. Lua output is bytes (GBK or binary strings survive); it is written to the outputs
 * as is. Writing never blocks the VM: lines are batched and flushed on the next turn of
 * Node's event loop.
 *
 * Long print lines: the firmware's print collects output in a 512-byte buffer and the
 * Air8101 turns every flush into its own record, so lines longer than that appear split over
 * several `luat:U` records. We split the same way (at 512 bytes, moved back to a UTF-8
 * character boundary so text stays readable — a choice; the device cuts mid-character).
 * Listeners (`--expect`, the web console) still receive the whole logical line.
 */
import * as fs from 'node:fs';

/** A firmware log level as Luatools shows it: D(ebug), I(nfo), W(arning), E(rror). */
export type LogLevel = 'D' | 'I' | 'W' | 'E';
/** What a log record is: a firmware line of a LogLevel, or 'U' for the Lua scripts' output. */
export type LogKind = LogLevel | 'U';

export interface LogRecord {
  /** 'U' for Lua output; D/I/W/E for firmware lines */
  kind: LogKind;
  /** ms since boot */
  ms: number;
  /** wall clock (ms since epoch) when the line was produced */
  wall: number;
  /** firmware module tag for D/I/W/E lines (e.g. "wlan"), undefined for U lines */
  module?: string;
  /** the payload bytes (for U: `I/user.tag args`; for others: the message without module) */
  payload: Buffer;
  /** boot number (1 for the first boot) */
  boot: number;
}

export const PRINT_RECORD_BYTES = 512;

/** The rank of a firmware level (log.setLevel's numbers: D 1 .. E 4); one table for the sink and the device. */
export const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { D: 1, I: 2, W: 3, E: 4 };

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export function formatStamp(wall: number): string {
  const d = new Date(wall);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

/** The bytes after the stamp: `luat:U(123):...` */
export function formatRecordBody(r: LogRecord): Buffer {
  const head = r.kind === 'U' ? `luat:U(${Math.floor(r.ms)}):` : `luat:${r.kind}(${Math.floor(r.ms)}):${r.module}:`;
  return Buffer.concat([Buffer.from(head), r.payload]);
}

/** The full Luatools-style line without the newline. */
export function formatRecord(r: LogRecord): Buffer {
  return Buffer.concat([Buffer.from(`[${formatStamp(r.wall)}] `), formatRecordBody(r)]);
}

/**
 * Line styles: `luatools` (above) or `pc`, the official LuatOS PC simulator's console and log
 * file form (luatos-api-2.md §25; `luatos logs` reads it as the EC7xx form):
 *
 *   [YYYY-MM-DD HH:MM:SS.mmm][SSSSSSSS.mmm] I/user.<tag> <args>     Lua output
 *   [YYYY-MM-DD HH:MM:SS.mmm][SSSSSSSS.mmm] <L>/<module> <message>  firmware lines
 *
 * (local time, then the uptime in seconds, zero-padded to 8 digits, with ms).
 */
export type LineStyle = 'luatools' | 'pc';

/** The PC simulator's line without the newline. */
export function formatPcRecord(r: LogRecord): Buffer {
  const up = Math.max(0, Math.floor(r.ms));
  const head = `[${formatStamp(r.wall)}][${pad(Math.floor(up / 1000), 8)}.${pad(up % 1000, 3)}] `;
  return Buffer.concat([Buffer.from(r.kind === 'U' ? head : `${head}${r.kind}/${r.module} `), r.payload]);
}

/** Text of a record for matching (`--expect`): the line as UTF-8 text. */
export function recordText(r: LogRecord): string {
  return formatRecord(r).toString('utf8');
}

/** Split a payload into device-sized records, keeping UTF-8 sequences whole. */
export function splitPayload(payload: Buffer, max = PRINT_RECORD_BYTES): Buffer[] {
  if (payload.length <= max) return [payload];
  const out: Buffer[] = [];
  let start = 0;
  while (start < payload.length) {
    let end = Math.min(start + max, payload.length);
    if (end < payload.length) {
      let e = end;
      // back off while the byte at e is a UTF-8 continuation byte
      while (e > start && (payload[e] & 0xc0) === 0x80) e--;
      if (e > start) end = e;
    }
    out.push(payload.subarray(start, end));
    start = end;
  }
  return out;
}

export type LogListener = (r: LogRecord, text: string) => void;

export interface LogOutputOptions {
  /** write to this stream (default process.stdout); null for none */
  stream?: NodeJS.WritableStream | null;
  /** colour by level (default: when the stream is a TTY) */
  color?: boolean;
  /** also append to this file */
  file?: string;
  /** hide runtime lines below this level ('D' shows all) */
  minRuntimeLevel?: LogLevel;
  /** output format */
  format?: 'text' | 'jsonl';
  /** text line style of the terminal and the file (default luatools; the pc board: pc) */
  style?: LineStyle;
}

const COLORS: Record<string, string> = { D: '\x1b[90m', I: '', W: '\x1b[33m', E: '\x1b[31m' };
/** line ends, shared by every queued line (Buffer.concat and the queues only read them) */
const NEWLINE = Buffer.from('\n');
const COLOR_END = Buffer.from('\x1b[0m\n');

/** Level letter of a record: firmware level, or the `X/user.` letter inside a U payload. */
export function recordLevel(r: LogRecord): LogKind {
  if (r.kind !== 'U') return r.kind;
  const c = String.fromCharCode(r.payload[0] ?? 0);
  if (r.payload[1] === 0x2f && (c === 'D' || c === 'I' || c === 'W' || c === 'E')) return c;
  return 'U';
}

/**
 * Where log records go: terminal, file, listeners. Batches writes per event-loop turn.
 */
export class LogSink {
  private readonly listeners = new Set<LogListener>();
  private pending: Buffer[] = [];
  private pendingFile: Buffer[] = [];
  private flushScheduled = false;
  private fileFd: number | null = null;
  private readonly stream: NodeJS.WritableStream | null;
  private readonly color: boolean;
  private readonly minRuntime: number;
  private readonly format: 'text' | 'jsonl';
  private readonly style: LineStyle;

  constructor(opts: LogOutputOptions = {}) {
    this.stream = opts.stream === undefined ? process.stdout : opts.stream;
    const s = this.stream as NodeJS.WriteStream | null;
    this.color = opts.color ?? !!(s && s.isTTY);
    this.minRuntime = LEVEL_RANK[opts.minRuntimeLevel ?? 'D'];
    this.format = opts.format ?? 'text';
    this.style = opts.style ?? 'luatools';
    if (opts.file) this.fileFd = fs.openSync(opts.file, 'a');
  }

  on(fn: LogListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Emit one logical line. U payloads longer than 512 bytes become several records. */
  write(r: LogRecord): void {
    // --log-level hides firmware lines from the terminal only; the log file keeps everything
    const toStream = r.kind === 'U' || LEVEL_RANK[r.kind] >= this.minRuntime;
    const parts = r.kind === 'U' ? splitPayload(r.payload) : [r.payload];
    for (const p of parts) {
      const rec = parts.length === 1 ? r : { ...r, payload: p };
      this.queueOut(rec, toStream);
    }
    if (this.listeners.size === 0) return;
    // the listeners' text is formatted only when someone listens (every line passes here)
    const text = recordText(r);
    for (const l of this.listeners) {
      try {
        l(r, text);
      } catch {
        /* a listener must never break the device */
      }
    }
  }

  private queueOut(r: LogRecord, toStream: boolean): void {
    const toOut = this.stream !== null && toStream;
    // a sink without file or (for this line) terminal formats nothing (a fleet's or a test's)
    if (this.fileFd === null && !toOut) return;
    const line = this.style === 'pc' ? formatPcRecord(r) : formatRecord(r);
    if (this.fileFd !== null) this.pendingFile.push(line, NEWLINE);
    if (toOut) {
      if (this.format === 'jsonl') {
        this.pending.push(Buffer.from(JSON.stringify(toJsonRecord(r)) + '\n'));
      } else if (this.color) {
        const lv = recordLevel(r);
        const c = COLORS[lv === 'U' ? 'I' : lv];
        this.pending.push(c ? Buffer.concat([Buffer.from(c), line, COLOR_END]) : Buffer.concat([line, NEWLINE]));
      } else {
        this.pending.push(line, NEWLINE);
      }
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Write out everything batched so far (synchronous for the file). */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length && this.stream) {
      const b = Buffer.concat(this.pending);
      this.pending = [];
      this.stream.write(b);
    }
    if (this.pendingFile.length && this.fileFd !== null) {
      const b = Buffer.concat(this.pendingFile);
      this.pendingFile = [];
      fs.writeSync(this.fileFd, b);
    }
  }

  close(): void {
    this.flush();
    if (this.fileFd !== null) {
      fs.closeSync(this.fileFd);
      this.fileFd = null;
    }
  }
}

export interface JsonLogRecord {
  time: string;
  boot_ms: number;
  level: string;
  tag: string | null;
  module: string | null;
  message: string;
}

/**
 * The structured form used by `--format jsonl`. Line breaks inside a message are `\n`, as
 * `luatos logs --format jsonl` writes them (the firmware's traceback records carry `\r\n`).
 */
export function toJsonRecord(r: LogRecord): JsonLogRecord {
  const text = r.payload.toString('utf8').replace(/\r\n/g, '\n');
  if (r.kind === 'U') {
    const m = /^([DIWE])\/user\.(\S*)(?: ([\s\S]*))?$/.exec(text);
    if (m) return { time: new Date(r.wall).toISOString(), boot_ms: Math.floor(r.ms), level: m[1], tag: m[2], module: 'user', message: m[3] ?? '' };
    return { time: new Date(r.wall).toISOString(), boot_ms: Math.floor(r.ms), level: 'U', tag: null, module: null, message: text };
  }
  return { time: new Date(r.wall).toISOString(), boot_ms: Math.floor(r.ms), level: r.kind, tag: null, module: r.module ?? null, message: text };
}
