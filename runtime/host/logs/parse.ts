/**
 * Parsing saved LuatOS device logs: ours, and what Luatools saves for the two module families.
 *
 * Forms recognised, per line (a file may mix them):
 *
 *   air8101  `[YYYY-MM-DD HH:MM:SS.mmm] <chain>:<L>(<ms>):<body>`
 *            Ours (runtime/core/log.ts) and the Air8101 in Luatools. `<chain>` is `luat:` for LuatOS
 *            lines and the SDK component otherwise (`lwip:`, `wifid:`, `event:`, `ap1:CAM:` ...).
 *              luat:U(ms):I/user.<tag> <args>   Lua log output (level = the letter before /user.)
 *              luat:U(ms):<text>                 print output (level U)
 *              luat:<D|I|W|E>(ms):<module>:<msg> LuatOS firmware line
 *              <chain>:<L>(ms):<msg>             other SDK line; module = the chain without its last ':'
 *   ec7xx    `[YYYY-MM-DD HH:MM:SS.mmm][SSSSSSSSS.mmm] <body>` (EC618/EC7xx: Air780E, Air780EP ...;
 *            the second stamp is seconds since boot). Newer Luatools add a channel, as in
 *            `[stamp][LTOS/N][SSSSSSSSS.mmm]:<body>`; the channel is ignored.
 *              I/user.<tag> <args>               Lua log output (args may be tab-separated)
 *              I/<file>.lua:<line> <tag> <args>  Lua log with log.style(1): tag is the first word,
 *                                                source = file:line
 *              D/<module> <msg>                  LuatOS firmware line
 *              <function> <line>:<msg>           SDK trace line without a level: level U,
 *                                                module = the C function, source = function:line
 *   raw      anything else. A stamped line (`[stamp] 工具提示: ...`) is a record of its own (level U,
 *            with its time; Luatools' own `工具提示:` notes get module "luatools"). An unstamped line
 *            that does not start like a record (`luat:U(12):...`, `[000000001.234] ...`, `I/user.x`)
 *            continues the record before it: Lua tracebacks and prints with embedded newlines span
 *            several physical lines, so they join into one record (message lines joined with \n).
 *            An unstamped line before any record becomes a record of its own. (When --follow had to
 *            show a record before its continuation lines arrived, those lines become a record of
 *            their own that takes the first one's level, tag, module and times.)
 *
 * Split long lines (air8101 form): the firmware's print buffer is 512 bytes and every flush is a
 * record, so a long Lua line arrives as several `luat:U` records. A `luat:U` record is joined to the
 * one before when that one was a `luat:U` record of PRINT_RECORD_BYTES-3 .. PRINT_RECORD_BYTES bytes
 * (our runtime backs off up to 3 bytes to a UTF-8 boundary; the device cuts at 512), the new one comes
 * at most JOIN_MAX_MS later and does not start a new Lua log line (`X/user.`). The bytes are joined
 * before decoding, so a character the device cut in two is whole again. The EC7xx form is not joined
 * (no evidence that it splits).
 *
 * Bytes and encodings: lines are handled as bytes; headers are ASCII. Each record's text is decoded
 * as UTF-8 when valid; otherwise as GBK (Luatools on Chinese Windows) when that is valid; otherwise as
 * UTF-8 with replacement characters. UTF-8 that is only broken at its very ends (a cut character) stays
 * UTF-8. A record's whole text is decoded one way. `--encoding gbk` tries GBK first, `utf8` never
 * tries it; bytes that cannot be GBK are read as UTF-8 either way (Node's GBK decoder would drop them).
 *
 * Times: the bracketed stamp is the PC's local time when the line arrived; it is read as local time of
 * this machine (the same reading `luatos run --format jsonl` uses when writing). Boot time is ms since
 * the device booted (resets at each reboot).
 */
import { TextDecoder } from 'node:util';
import { PRINT_RECORD_BYTES } from '../../core/log';
import type { LogKind } from '../../core/log';

export type EntryLevel = LogKind;
export type EntryForm = 'air8101' | 'ec7xx' | 'raw';
export type TextEncoding = 'utf8' | 'gbk' | 'invalid';

export interface LogEntry {
  form: EntryForm;
  /** wall time, ms since the epoch (stamp read as local time); null when the line has no stamp */
  time: number | null;
  /** the stamp text as in the file, e.g. `2026-01-22 16:54:12.288` */
  stamp: string | null;
  /** ms since boot; null when the line has none */
  bootMs: number | null;
  /** D/I/W/E; U for print output and lines without a level */
  level: EntryLevel;
  /** Lua log tag (`log.info(tag, ...)`), else null */
  tag: string | null;
  /** `user` for Lua log lines, the firmware/SDK module otherwise, null for print/raw lines */
  module: string | null;
  /** `file.lua:line` (log.style 1) or `c_function:line` (EC7xx SDK lines), else null */
  source: string | null;
  /** the message: Lua args, firmware message, or the whole text for raw lines */
  message: string;
  /** the logical line as text: the first header and the whole body (physical lines joined by \n) */
  text: string;
  /** 1-based number of the first physical line */
  lineNo: number;
  /** physical lines this record spans */
  lines: number;
  /** how the bytes were decoded */
  encoding: TextEncoding;
  /** the device name of a merged fleet log line (`[stamp] <dev007> luat:...`), else null */
  device?: string | null;
}

export type EncodingChoice = 'auto' | 'utf8' | 'gbk';

export interface ParserOptions {
  encoding?: EncodingChoice;
}

/** Largest gap (ms of boot time) between two parts of one split line. */
export const JOIN_MAX_MS = 10;

const STAMP = String.raw`\[(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3})\]`;
const CHAIN = String.raw`((?:[A-Za-z0-9_.\-]+:)+?)([UDIWE])\((\d+)\):`;
/** the merged fleet log's device field after the stamp: `[stamp] <dev007> luat:...` */
const DEVICE = String.raw`(?:<([A-Za-z0-9_.\-]{1,64})> )?`;
const RE_AIR = new RegExp(`^${STAMP} ${DEVICE}${CHAIN}`);
const RE_EC = new RegExp(String.raw`^${STAMP}(?:\[[A-Za-z0-9_]+/[A-Za-z]\])?\[(\d+)\.(\d{3})\]:?[ \t]?`);
const RE_STAMPED = new RegExp(String.raw`^${STAMP}[ \t]?`);
const RE_BARE_AIR = new RegExp(`^${CHAIN}`);
const RE_BARE_EC = /^\[(\d+)\.(\d{3})\]:?[ \t]?/;
const RE_BARE_USER = /^[DIWE]\/user\.\S/;
const RE_USER_START = /^[DIWE]\/user\./;

const RE_USER = /^([DIWE])\/user\.(\S*)(?:[ \t]([\s\S]*))?$/;
const RE_STYLED = /^([DIWE])\/([^\s/]+\.lua:\d+)(?:[ \t]+(\S*)(?:[ \t]([\s\S]*))?)?$/;
const RE_FW_EC = /^([DIWE])\/(\S+)(?:[ \t]([\s\S]*))?$/;
const RE_SDK_EC = /^([A-Za-z_][A-Za-z0-9_]*) (\d+):([\s\S]*)$/;
const RE_FW_LUAT = /^([^:\s]*):([\s\S]*)$/;

/** A record being assembled: header parsed, body still bytes. */
interface Pending {
  form: EntryForm;
  stamp: string | null;
  time: number | null;
  bootMs: number | null;
  /** air8101: the chain (`luat:`, `ap1:lwip:`) */
  chain: string | null;
  /** air8101: the header's level letter */
  headLevel: string | null;
  /** the merged fleet log's device name */
  device?: string | null;
  head: Buffer;
  body: Buffer[];
  /** byte length of the last `luat:U` part (for split detection) */
  lastPartBytes: number;
  lastPartMs: number;
  /** unstamped continuation lines were appended */
  continued: boolean;
  /** continuation lines whose record was already released: they take its level, tag and times */
  parent?: LogEntry;
  lineNo: number;
  lines: number;
}

function stampOf(m: RegExpExecArray): { stamp: string; time: number } {
  const [y, mo, d, h, mi, s, ms] = m.slice(1, 8).map(Number);
  return {
    stamp: `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}.${m[7]}`,
    time: new Date(y, mo - 1, d, h, mi, s, ms).getTime(),
  };
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');
let gbkFatal: TextDecoder | null | undefined;
function gbkDecoder(): TextDecoder | null {
  if (gbkFatal === undefined) {
    try {
      gbkFatal = new TextDecoder('gbk', { fatal: true });
    } catch {
      gbkFatal = null; // Node built without full ICU
    }
  }
  return gbkFatal;
}

function tryDecode(d: TextDecoder, b: Buffer): string | null {
  try {
    return d.decode(b);
  } catch {
    return null;
  }
}

/** Is b valid UTF-8 apart from a cut character at either end? */
function utf8CutAtEnds(b: Buffer): boolean {
  let s = 0;
  while (s < 3 && s < b.length && (b[s] & 0xc0) === 0x80) s++;
  let e = b.length;
  // drop an incomplete sequence at the end: back up over continuation bytes to a lead byte
  let k = e - 1;
  let back = 0;
  while (k >= s && back < 3 && (b[k] & 0xc0) === 0x80) {
    k--;
    back++;
  }
  if (k >= s && b[k] >= 0xc0) {
    const need = b[k] >= 0xf0 ? 4 : b[k] >= 0xe0 ? 3 : 2;
    if (e - k < need) e = k;
  }
  if (s === 0 && e === b.length) return false;
  return tryDecode(utf8Fatal, b.subarray(s, e)) !== null;
}

/**
 * Do the bytes have the structure of GBK/GB18030 text? (Node's decoder silently drops some invalid
 * bytes such as 0xFF even in fatal mode, so structure is checked first.)
 */
function looksGbk(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c < 0x80) continue;
    if (c === 0x80 || c === 0xff) return false;
    const t = b[i + 1];
    if (t === undefined) return false;
    if ((t >= 0x40 && t <= 0x7e) || (t >= 0x80 && t <= 0xfe)) {
      i++;
      continue;
    }
    // GB18030 four-byte sequence
    if (t >= 0x30 && t <= 0x39 && b[i + 2] >= 0x81 && b[i + 2] <= 0xfe && b[i + 3] >= 0x30 && b[i + 3] <= 0x39) {
      i += 3;
      continue;
    }
    return false;
  }
  return true;
}

/** Decode bytes as described in the file comment. */
export function decodeBytes(b: Buffer, choice: EncodingChoice = 'auto'): { text: string; encoding: TextEncoding } {
  if (choice === 'gbk') {
    const g = gbkDecoder();
    if (g) {
      const t = looksGbk(b) ? tryDecode(g, b) : null;
      if (t !== null) return { text: t, encoding: 'gbk' };
      // not GBK after all: read as UTF-8 below rather than drop bytes
    }
  }
  const u = tryDecode(utf8Fatal, b);
  if (u !== null) return { text: u, encoding: 'utf8' };
  if (choice === 'auto' && !utf8CutAtEnds(b) && looksGbk(b)) {
    const g = gbkDecoder();
    const t = g ? tryDecode(g, b) : null;
    if (t !== null) return { text: t, encoding: 'gbk' };
  }
  return { text: utf8Lenient.decode(b), encoding: 'invalid' };
}

/** Splits a byte stream into lines (without \n, trailing \r removed). */
export class LineSplitter {
  private rest: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    const data = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const out: Buffer[] = [];
    let start = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, start);
      if (nl < 0) break;
      out.push(stripCR(data.subarray(start, nl)));
      start = nl + 1;
    }
    this.rest = Buffer.from(data.subarray(start));
    return out;
  }

  /** The unterminated last line, if any. */
  end(): Buffer[] {
    const r = this.rest;
    this.rest = Buffer.alloc(0);
    return r.length ? [stripCR(r)] : [];
  }

  /** Bytes held back (an unterminated line). */
  get pendingBytes(): number {
    return this.rest.length;
  }
}

function stripCR(b: Buffer): Buffer {
  return b.length && b[b.length - 1] === 0x0d ? b.subarray(0, b.length - 1) : b;
}

/**
 * Streaming parser: feed physical lines (bytes, no newline), get finished records. The last record
 * is held back until the next line shows whether it continues; `end()` releases it.
 */
export class LogParser {
  private pending: Pending | null = null;
  private released: LogEntry | null = null;
  private lineNo = 0;
  private readonly encoding: EncodingChoice;

  constructor(opts: ParserOptions = {}) {
    this.encoding = opts.encoding ?? 'auto';
  }

  /** Start counting lines from 1 again (a truncated or rotated file); pending is released. */
  reset(): LogEntry[] {
    const out = this.end();
    this.lineNo = 0;
    return out;
  }

  push(line: Buffer | string): LogEntry[] {
    const buf = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
    this.lineNo++;
    if (this.lineNo === 1 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return this.pushLine(buf.subarray(3));
    return this.pushLine(buf);
  }

  private pushLine(buf: Buffer): LogEntry[] {
    // headers are ASCII: match on a latin1 view so string offsets are byte offsets
    const head = buf.toString('latin1', 0, Math.min(buf.length, 160));
    const p = this.headerOf(buf, head);
    const out: LogEntry[] = [];
    if (!p) {
      // an unstamped line that does not start a record: continuation
      if (this.pending) {
        this.pending.body.push(Buffer.from('\n'), buf);
        this.pending.continued = true;
        this.pending.lines++;
        return out;
      }
      const parent = this.released ?? undefined;
      this.pending = {
        form: 'raw', stamp: parent?.stamp ?? null, time: parent?.time ?? null, bootMs: parent?.bootMs ?? null, chain: null, headLevel: null,
        head: Buffer.alloc(0), body: [buf], lastPartBytes: 0, lastPartMs: 0, continued: !!parent, lineNo: this.lineNo, lines: 1, parent,
      };
      this.released = null;
      return out;
    }
    this.released = null;
    const prev = this.pending;
    if (prev && this.joins(prev, p)) {
      prev.body.push(p.body[0]);
      prev.lastPartBytes = p.body[0].length;
      prev.lastPartMs = p.bootMs ?? prev.lastPartMs;
      prev.lines++;
      return out;
    }
    if (prev) out.push(this.finish(prev));
    this.pending = p;
    return out;
  }

  /** Release the held-back record (end of input). */
  end(): LogEntry[] {
    const p = this.pending;
    this.pending = null;
    this.released = null;
    return p ? [this.finish(p)] : [];
  }

  /**
   * Release the held-back record because the input went quiet (--follow). Should continuation lines
   * of it arrive later, they become a record of their own with its level, tag, module and times.
   */
  release(): LogEntry[] {
    const p = this.pending;
    this.pending = null;
    if (!p) return [];
    const e = this.finish(p);
    this.released = e;
    return [e];
  }

  /** Is a record held back? */
  get hasPending(): boolean {
    return this.pending !== null;
  }

  private joins(prev: Pending, p: Pending): boolean {
    if (prev.form !== 'air8101' || p.form !== 'air8101') return false;
    if (prev.chain !== 'luat:' || p.chain !== 'luat:' || prev.headLevel !== 'U' || p.headLevel !== 'U') return false;
    if (prev.continued) return false;
    if ((prev.device ?? null) !== (p.device ?? null)) return false;
    if (prev.lastPartBytes < PRINT_RECORD_BYTES - 3 || prev.lastPartBytes > PRINT_RECORD_BYTES) return false;
    const dt = (p.bootMs ?? 0) - prev.lastPartMs;
    if (dt < 0 || dt > JOIN_MAX_MS) return false;
    return !RE_USER_START.test(p.body[0].toString('latin1', 0, 8));
  }

  private headerOf(buf: Buffer, head: string): Pending | null {
    const base = (form: EntryForm, len: number): Pending => ({
      form, stamp: null, time: null, bootMs: null, chain: null, headLevel: null,
      head: buf.subarray(0, len), body: [buf.subarray(len)], lastPartBytes: buf.length - len, lastPartMs: 0,
      continued: false, lineNo: this.lineNo, lines: 1,
    });
    let m: RegExpExecArray | null;
    if ((m = RE_AIR.exec(head))) {
      const p = base('air8101', m[0].length);
      Object.assign(p, stampOf(m));
      p.device = m[8] ?? null;
      p.chain = m[9];
      p.headLevel = m[10];
      p.bootMs = Number(m[11]);
      p.lastPartMs = p.bootMs;
      return p;
    }
    if ((m = RE_EC.exec(head))) {
      const p = base('ec7xx', m[0].length);
      Object.assign(p, stampOf(m));
      p.bootMs = Number(m[8]) * 1000 + Number(m[9]);
      return p;
    }
    if ((m = RE_STAMPED.exec(head))) {
      const p = base('raw', m[0].length);
      Object.assign(p, stampOf(m));
      return p;
    }
    if ((m = RE_BARE_AIR.exec(head))) {
      const p = base('air8101', m[0].length);
      p.chain = m[1];
      p.headLevel = m[2];
      p.bootMs = Number(m[3]);
      p.lastPartMs = p.bootMs;
      return p;
    }
    if ((m = RE_BARE_EC.exec(head))) {
      const p = base('ec7xx', m[0].length);
      p.bootMs = Number(m[1]) * 1000 + Number(m[2]);
      return p;
    }
    if (RE_BARE_USER.test(head)) return base('ec7xx', 0);
    return null;
  }

  private finish(p: Pending): LogEntry {
    const bodyBytes = p.body.length === 1 ? p.body[0] : Buffer.concat(p.body);
    const { text: body, encoding } = decodeBytes(bodyBytes, this.encoding);
    const headText = p.head.toString('latin1');
    const e: LogEntry = {
      form: p.form, time: p.time, stamp: p.stamp, bootMs: p.bootMs, level: 'U', tag: null, module: null, source: null,
      message: body, text: headText + body, lineNo: p.lineNo, lines: p.lines, encoding,
    };
    if (p.device) e.device = p.device;
    if (p.parent) {
      const q = p.parent;
      Object.assign(e, { level: q.level, tag: q.tag, module: q.module, source: q.source });
      if (q.device) e.device = q.device;
      return e;
    }
    let m: RegExpExecArray | null;
    if (p.form === 'air8101') {
      if (p.chain === 'luat:') {
        if (p.headLevel === 'U') {
          if ((m = RE_USER.exec(body))) setUser(e, m);
        } else {
          e.level = p.headLevel as EntryLevel;
          if ((m = RE_FW_LUAT.exec(body))) {
            e.module = m[1];
            e.message = m[2];
          }
        }
      } else {
        e.level = p.headLevel as EntryLevel;
        e.module = (p.chain as string).slice(0, -1);
      }
    } else if (p.form === 'ec7xx') {
      if ((m = RE_USER.exec(body))) setUser(e, m);
      else if ((m = RE_STYLED.exec(body))) {
        e.level = m[1] as EntryLevel;
        e.module = 'user';
        e.source = m[2];
        e.tag = m[3] ?? '';
        e.message = m[4] ?? '';
      } else if ((m = RE_FW_EC.exec(body))) {
        e.level = m[1] as EntryLevel;
        e.module = m[2];
        e.message = m[3] ?? '';
      } else if ((m = RE_SDK_EC.exec(body))) {
        e.module = m[1];
        e.source = `${m[1]}:${m[2]}`;
        e.message = m[3];
      }
    } else if (p.stamp !== null && /^(?:工具提示|DBG):/.test(body)) {
      e.module = 'luatools';
    }
    return e;
  }
}

function setUser(e: LogEntry, m: RegExpExecArray): void {
  e.level = m[1] as EntryLevel;
  e.module = 'user';
  e.tag = m[2];
  e.message = m[3] ?? '';
}

/** Parse a whole log (bytes or text) into records. */
export function parseLog(data: Buffer | string, opts: ParserOptions = {}): LogEntry[] {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const sp = new LineSplitter();
  const parser = new LogParser(opts);
  const out: LogEntry[] = [];
  for (const l of sp.push(buf)) out.push(...parser.push(l));
  for (const l of sp.end()) out.push(...parser.push(l));
  out.push(...parser.end());
  return out;
}

/** Parse one line on its own (no joining). */
export function parseLine(line: Buffer | string, opts: ParserOptions = {}): LogEntry {
  const p = new LogParser(opts);
  const first = p.push(typeof line === 'string' ? Buffer.from(line.replace(/\r?\n$/, ''), 'utf8') : line);
  return [...first, ...p.end()][0];
}
