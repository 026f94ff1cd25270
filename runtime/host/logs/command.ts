/**
 * `luatos logs <file...>`: read saved device logs (ours, Luatools' Air8101 and EC7xx forms), filter
 * them and print them as text or JSONL. See parse.ts for the forms, filter.ts for the filters,
 * format.ts for the output, follow.ts for --follow.
 *
 * Exit codes: 0 ok (also when nothing matched, and when --follow ends by Ctrl-C), 1 a file could not
 * be read, 2 usage error.
 */
import * as fs from 'node:fs';
import { LineSplitter, LogParser, EncodingChoice, LogEntry } from './parse';
import { FilterError, FilterSpec, LogFilter, compileRegex, parseLevel, parseTimeBound } from './filter';
import { formatJsonl, formatText } from './format';
import { followFile } from './follow';
import { flag, help, list, oneOf, readArgs, value } from '../util/args';

export const LOGS_HELP = `luatos logs — read saved LuatOS device logs

Usage:
  luatos logs <file...> [options]      ('-' reads standard input)

Reads logs written by 'luatos run --log-file' and logs saved by Luatools, in the
Air8101 form ([time] luat:U(ms):I/user.tag ...) and the EC7xx form (Air780E etc.,
[time][000000001.234] I/user.tag ...), detected line by line. Long Lua lines the
device split over several records are joined; tracebacks stay with their line.
Files may be UTF-8 or GBK.

Options:
  -l, --level D|I|W|E      minimum level (print output and lines without a level count as I)
  -t, --tag TAG            only this Lua tag or firmware module (repeatable, or a,b; any
                           matches; 'rtmp' also matches 'rtmp.sub', 'lwip' also 'ap1:lwip',
                           'user' all Lua lines; !TAG hides) — the web console's tag grammar
  -d, --device NAME        only this device's lines of a merged fleet log (luatos fleet's
                           fleet.log: '[time] <NAME> luat:...'; repeatable, or a,b)
  -g, --grep TEXT          only records containing TEXT (repeatable; any matches)
  -e, --regex RE           only records matching the regular expression RE (repeatable)
  -i, --ignore-case        --grep, --regex and --tag ignore case
      --since TIME         records at or after TIME
      --until TIME         records at or before TIME
                           TIME is wall time HH:MM:SS[.mmm] or 'YYYY-MM-DD HH:MM:SS',
                           or time since boot: 12000ms, +12000ms, 12s
  -f, --follow             keep reading as the file grows (truncation and rotation handled);
                           Ctrl-C stops
      --format text|jsonl  output format (default text); jsonl fields: time, boot_ms,
                           level, tag, module, message (and source when known;
                           device first for a merged fleet log)
      --color auto|always|never
                           colour by level (default auto: when the output is a terminal)
      --encoding auto|utf8|gbk
                           text encoding of the file (default auto: UTF-8, else GBK)
  -h, --help               this help

Exit codes: 0 ok, 1 a file could not be read, 2 usage error.
`;

import { UsageError } from '../util/usage-error';

export interface LogsOptions {
  files: string[];
  filter: FilterSpec;
  ignoreCase: boolean;
  follow: boolean;
  format: 'text' | 'jsonl';
  color: 'auto' | 'always' | 'never';
  encoding: EncodingChoice;
  help: boolean;
}

const RE_DATE_ONLY = /^\d{4}-\d{1,2}-\d{1,2}$/;
const RE_TIME_ONLY = /^\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?$/;
/** `--since 2026-11-24 10:00`: a date alone may be followed by the time as the next argument */
const dateThenTime = (v: string, next: string): boolean => RE_DATE_ONLY.test(v) && RE_TIME_ONLY.test(next);

/** The options of `luatos logs` (runtime/host/util/args.ts): one line an option. */
const LOGS_ARGS = {
  help: help(),
  level: value({ short: 'l' }),
  tag: list(undefined, { short: 't' }),
  device: list(undefined, { short: 'd' }),
  grep: list(undefined, { short: 'g' }),
  regex: list(undefined, { short: 'e' }),
  'ignore-case': flag({ short: 'i' }),
  since: value({ join: dateThenTime }),
  until: value({ join: dateThenTime }),
  follow: flag({ short: 'f' }),
  format: value(oneOf(['text', 'jsonl'], '--format must be text or jsonl')),
  color: value(oneOf(['auto', 'always', 'never'], '--color must be auto, always or never'), { aliases: ['colour'] }),
  'no-color': flag({ into: 'color', value: 'never' }),
  encoding: value(oneOf(['auto', 'utf8', 'gbk'], '--encoding must be auto, utf8 or gbk', (v) => v.toLowerCase().replace('-', ''))),
} as const;

/** Parse the arguments after `logs`. Throws on usage errors. */
export function parseLogsArgs(args: string[]): LogsOptions {
  // values may look like options here (`--grep --verbose`)
  const { values: v, positionals } = readArgs(args, LOGS_ARGS, { dashValues: true });
  const o: LogsOptions = {
    files: positionals,
    filter: {},
    ignoreCase: v['ignore-case'] ?? false,
    follow: v.follow ?? false,
    format: v.format ?? 'text',
    color: v.color ?? 'auto',
    encoding: v.encoding ?? 'auto',
    help: v.help ?? false,
  };
  const { level, tag: tags, grep, regex: regexSrc, since, until } = v;
  if (o.help) return o;
  // --device a,b (repeatable): fleet device names
  const devices: string[] = [];
  for (const d of v.device.flatMap((x) => x.split(','))) {
    const n = d.trim();
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(n)) throw new UsageError(`--device '${d}' is not a device name`);
    devices.push(n);
  }
  try {
    if (level !== undefined) o.filter.minLevel = parseLevel(level);
    if (tags.length) o.filter.tags = tags;
    if (devices.length) o.filter.devices = devices;
    if (grep.length) o.filter.grep = grep;
    if (regexSrc.length) o.filter.regex = regexSrc.map((r) => compileRegex(r, o.ignoreCase));
    if (since !== undefined) o.filter.since = parseTimeBound(since, false);
    if (until !== undefined) o.filter.until = parseTimeBound(until, true);
  } catch (e) {
    if (e instanceof FilterError) throw new UsageError(e.message);
    throw e;
  }
  if (o.filter.since && o.filter.until && o.filter.since.kind !== 'clock' && o.filter.since.kind === o.filter.until.kind && o.filter.since.ms > o.filter.until.ms) {
    throw new UsageError('--since is after --until');
  }
  if (o.files.length === 0) throw new UsageError('logs needs a log file (or - for standard input)');
  if (o.follow && (o.files.length !== 1 || o.files[0] === '-')) throw new UsageError('--follow takes exactly one file');
  return o;
}

export interface LogsCommandOptions {
  /** stops --follow (default: Ctrl-C) */
  signal?: AbortSignal;
  /** --follow poll interval (default 250 ms) */
  pollMs?: number;
  /** what '-' reads (default process.stdin) */
  stdin?: NodeJS.ReadableStream;
  /** where errors and notes go (default process.stderr) */
  stderr?: NodeJS.WritableStream;
}

/** Batches output and respects back-pressure; notices a closed pipe. */
class Writer {
  private parts: string[] = [];
  broken = false;
  private readonly onError = (): void => {
    this.broken = true;
  };

  constructor(private readonly out: NodeJS.WritableStream) {
    out.on('error', this.onError);
  }

  push(s: string): void {
    this.parts.push(s, '\n');
  }

  async flush(): Promise<void> {
    if (!this.parts.length || this.broken) {
      this.parts = [];
      return;
    }
    const s = this.parts.join('');
    this.parts = [];
    const ok = this.out.write(s);
    if (!ok && !this.broken) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.out.removeListener('drain', done);
          this.out.removeListener('error', done);
          this.out.removeListener('close', done);
          resolve();
        };
        this.out.once('drain', done);
        this.out.once('error', done);
        this.out.once('close', done);
      });
    }
  }

  close(): void {
    this.out.removeListener('error', this.onError);
  }
}

/** One pass of records through filter and formatter. */
class Pipeline {
  readonly splitter = new LineSplitter();
  readonly parser: LogParser;
  readonly filter: LogFilter;
  private readonly color: boolean;

  constructor(private readonly o: LogsOptions, private readonly w: Writer, color: boolean) {
    this.parser = new LogParser({ encoding: o.encoding });
    this.filter = new LogFilter(o.filter, { ignoreCase: o.ignoreCase });
    this.color = color;
  }

  emit(entries: LogEntry[]): void {
    for (const e of entries) {
      if (!this.filter.test(e)) continue;
      this.w.push(this.o.format === 'jsonl' ? formatJsonl(e) : formatText(e, this.color));
    }
  }

  data(chunk: Buffer): void {
    for (const line of this.splitter.push(chunk)) this.emit(this.parser.push(line));
  }

  /** End of one input: release everything held back. */
  end(): void {
    for (const line of this.splitter.end()) this.emit(this.parser.push(line));
    this.emit(this.parser.end());
  }

  /** The writer went idle: show the held-back record unless half a line is waiting. */
  idle(): void {
    if (this.splitter.pendingBytes === 0) this.emit(this.parser.release());
  }
}

function useColor(o: LogsOptions, out: NodeJS.WritableStream): boolean {
  if (o.color === 'always') return true;
  if (o.color === 'never' || o.format === 'jsonl') return false;
  const env = process.env;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return !!(out as NodeJS.WriteStream).isTTY;
}

/** `luatos logs ...`: returns the exit code. */
export async function logsCommand(args: string[], out: NodeJS.WritableStream, opts: LogsCommandOptions = {}): Promise<number> {
  const err = opts.stderr ?? process.stderr;
  let o: LogsOptions;
  try {
    o = parseLogsArgs(args);
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`luatos logs: ${e.message}\nTry 'luatos logs --help'.\n`);
      return 2;
    }
    throw e;
  }
  if (o.help) {
    out.write(LOGS_HELP);
    return 0;
  }
  const w = new Writer(out);
  const color = useColor(o, out);
  try {
    if (o.follow) return await follow(o, w, color, err, opts);
    // one pipeline across files: several files read as one log (e.g. rotated parts in order)
    const pipe = new Pipeline(o, w, color);
    for (const f of o.files) {
      if (f !== '-') {
        try {
          const st = fs.statSync(f);
          if (st.isDirectory()) throw new Error('is a folder');
        } catch (e) {
          err.write(`luatos logs: cannot read ${f}: ${(e as Error).message}\n`);
          return 1;
        }
      }
      const stream = f === '-' ? (opts.stdin ?? process.stdin) : fs.createReadStream(f);
      try {
        for await (const chunk of stream as AsyncIterable<Buffer | string>) {
          pipe.data(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
          await w.flush();
          if (w.broken) return 0;
        }
      } catch (e) {
        err.write(`luatos logs: cannot read ${f}: ${(e as Error).message}\n`);
        return 1;
      }
      // the last line of a file ends there, a record may continue in the next file
      for (const line of pipe.splitter.end()) pipe.emit(pipe.parser.push(line));
    }
    pipe.end();
    await w.flush();
    return 0;
  } finally {
    w.close();
  }
}

async function follow(o: LogsOptions, w: Writer, color: boolean, err: NodeJS.WritableStream, opts: LogsCommandOptions): Promise<number> {
  const file = o.files[0];
  try {
    if (fs.statSync(file).isDirectory()) throw new Error('is a folder');
  } catch (e) {
    err.write(`luatos logs: cannot read ${file}: ${(e as Error).message}\n`);
    return 1;
  }
  const pipe = new Pipeline(o, w, color);
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  if (opts.signal) {
    if (opts.signal.aborted) ac.abort();
    else opts.signal.addEventListener('abort', onSigint, { once: true });
  } else {
    process.on('SIGINT', onSigint);
  }
  try {
    await followFile(file, {
      signal: ac.signal,
      pollMs: opts.pollMs,
      onData: async (chunk) => {
        pipe.data(chunk);
        await w.flush();
        if (w.broken) ac.abort();
      },
      onIdle: async () => {
        pipe.idle();
        await w.flush();
      },
      onReset: async (why) => {
        pipe.end();
        pipe.parser.reset();
        pipe.filter.reset();
        await w.flush();
        if (o.format === 'text') err.write(`luatos logs: ${file} was ${why === 'truncated' ? 'truncated' : 'replaced'}; reading it from the start\n`);
      },
    });
  } catch (e) {
    err.write(`luatos logs: cannot read ${file}: ${(e as Error).message}\n`);
    return 1;
  } finally {
    if (opts.signal) opts.signal.removeEventListener('abort', onSigint);
    else process.removeListener('SIGINT', onSigint);
  }
  pipe.end();
  await w.flush();
  return 0;
}
