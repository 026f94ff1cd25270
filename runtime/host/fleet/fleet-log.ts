/**
 * The logs of a fleet: one file per device and one merged log.
 *
 *   <dir>/<name>.log   the device's own log, in the Luatools form `luatos run --log-file` writes
 *   <dir>/fleet.log    every device, one line per record, the device name after the stamp:
 *                        [2026-11-24 04:03:34.312] <dev007> luat:U(93):I/user.main ...
 *
 * `luatos logs` reads both; `luatos logs --device dev007 fleet.log` keeps one device's lines
 * (runtime/host/logs/parse.ts reads the `<name>` field). The terminal gets the merged form (hidden
 * firmware levels below `minRuntimeLevel`, as `luatos run --log-level`), or JSON lines with a
 * `device` field under `--format jsonl`.
 *
 * Writes are batched per event-loop turn (like LogSink) and never block a device.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LEVEL_RANK, formatRecord, formatRecordBody, formatStamp, recordLevel, splitPayload, toJsonRecord, type LogLevel, type LogRecord } from '../../core/log';

export const MERGED_LOG_NAME = 'fleet.log';

export interface FleetLogOptions {
  /** folder of the per-device files and the merged log; undefined: no files */
  dir?: string;
  /** terminal; null: none */
  stream?: NodeJS.WritableStream | null;
  format?: 'text' | 'jsonl';
  minRuntimeLevel?: LogLevel;
}

export type FleetLogListener = (d: number, name: string, r: LogRecord, text: string) => void;

const NL = Buffer.from('\n');

/** The merged form of one record: `[stamp] <name> luat:...` */
export function formatMergedRecord(name: string, r: LogRecord): Buffer {
  return formatBoth(name, r, false, true).merged as Buffer;
}

/**
 * Both lines of one record from one stamp and one body (per log line: each was formatted twice
 * when the per-device line came from formatRecord and the merged one from formatMergedRecord).
 */
function formatBoth(name: string, r: LogRecord, own: boolean, merged: boolean): { own: Buffer | null; merged: Buffer | null } {
  const stamp = `[${formatStamp(r.wall)}] `;
  const body = formatRecordBody(r);
  return {
    own: own ? Buffer.concat([Buffer.from(stamp), body]) : null,
    merged: merged ? Buffer.concat([Buffer.from(`${stamp}<${name}> `), body]) : null,
  };
}

export class FleetLog {
  private readonly listeners = new Set<FleetLogListener>();
  private readonly fds = new Map<number, number>();
  private readonly perDevice = new Map<number, Buffer[]>();
  private merged: Buffer[] = [];
  private term: Buffer[] = [];
  private mergedFd: number | null = null;
  private scheduled = false;
  private closed = false;
  private readonly minRuntime: number;
  private readonly opts: FleetLogOptions;

  constructor(
    private readonly names: ReadonlyMap<number, string>,
    opts: FleetLogOptions = {},
  ) {
    this.opts = { ...opts };
    this.minRuntime = LEVEL_RANK[opts.minRuntimeLevel ?? 'D'];
    if (opts.dir) {
      fs.mkdirSync(opts.dir, { recursive: true });
      this.mergedFd = fs.openSync(path.join(opts.dir, MERGED_LOG_NAME), 'a');
    }
  }

  /** the per-device file of a device name */
  fileOf(name: string): string | undefined {
    return this.opts.dir ? path.join(this.opts.dir, `${name}.log`) : undefined;
  }

  on(fn: FleetLogListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  write(d: number, r: LogRecord): void {
    if (this.closed) return;
    const name = this.names.get(d) ?? `#${d}`;
    const parts = r.kind === 'U' ? splitPayload(r.payload) : [r.payload];
    const toTerm = this.opts.stream && (r.kind === 'U' || LEVEL_RANK[r.kind] >= this.minRuntime);
    for (const p of parts) {
      const rec = parts.length === 1 ? r : { ...r, payload: p };
      const lines = formatBoth(name, rec, !!this.opts.dir, this.mergedFd !== null || (!!toTerm && this.opts.format !== 'jsonl'));
      if (lines.own) {
        let q = this.perDevice.get(d);
        if (!q) this.perDevice.set(d, (q = []));
        q.push(lines.own, NL);
      }
      const line = lines.merged;
      if (this.mergedFd !== null) this.merged.push(line!, NL);
      if (toTerm) {
        if (this.opts.format === 'jsonl') this.term.push(Buffer.from(JSON.stringify({ device: name, ...toJsonRecord(rec) }) + '\n'));
        else this.term.push(line!, NL);
      }
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    if (this.listeners.size) {
      const text = formatRecord(r).toString('utf8');
      for (const l of this.listeners) {
        try {
          l(d, name, r, text);
        } catch {
          /* a listener never breaks the log */
        }
      }
    }
  }

  /** the level letter of a record (for listeners that count errors) */
  static level(r: LogRecord): string {
    return recordLevel(r);
  }

  /** the first file error (the files then stop; the terminal and listeners go on) */
  fileError: Error | null = null;
  /** called once with a file error (the CLI prints a warning) */
  onFileError: ((e: Error) => void) | null = null;

  flush(): void {
    this.scheduled = false;
    try {
      this.flushInner();
    } catch (e) {
      // a full disk or a removed folder must not crash the fleet: stop writing files, say so once
      this.perDevice.clear();
      this.merged = [];
      if (!this.fileError) {
        this.fileError = e as Error;
        this.opts.dir = undefined;
        const fd = this.mergedFd;
        this.mergedFd = null;
        try {
          if (fd !== null) fs.closeSync(fd);
        } catch {
          /* gone */
        }
        this.onFileError?.(e as Error);
      }
    }
  }

  private flushInner(): void {
    if (this.term.length && this.opts.stream) {
      const b = Buffer.concat(this.term);
      this.term = [];
      try {
        this.opts.stream.write(b);
      } catch {
        /* the terminal is gone */
      }
    }
    if (!this.opts.dir) return;
    if (this.merged.length && this.mergedFd !== null) {
      const b = Buffer.concat(this.merged);
      this.merged = [];
      fs.writeSync(this.mergedFd, b);
    }
    for (const [d, q] of this.perDevice) {
      if (q.length === 0) continue;
      let fd = this.fds.get(d);
      if (fd === undefined) {
        fd = fs.openSync(this.fileOf(this.names.get(d) ?? `#${d}`)!, 'a');
        this.fds.set(d, fd);
      }
      fs.writeSync(fd, Buffer.concat(q));
      q.length = 0;
    }
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    for (const fd of this.fds.values()) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already gone */
      }
    }
    this.fds.clear();
    if (this.mergedFd !== null) {
      try {
        fs.closeSync(this.mergedFd);
      } catch {
        /* already gone */
      }
    }
    this.mergedFd = null;
  }
}
