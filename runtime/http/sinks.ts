/**
 * Where a response body goes (luatos-api.md §7):
 * - memory: the body string (the default);
 * - a zbuff (non-POST/PUT request with a zbuff body): appended at `used`; result = length;
 * - a file (`opts.dst`): result = size. The firmware removes an old file and opens the new one
 *   when the headers arrive; if that fails it logs `open download file fail <dst>` and tries
 *   again at the first body byte, failing with −7. A status above 299 removes the file
 *   (`download fail, remove file <dst>`, W) and still reports the received size. A download
 *   cut after the headers (closed early, timeout, broken body, receive error) removes the
 *   file and gives `code, headers, -1`; a write error gives −7 alone;
 * - FOTA (`opts.fota`): the image is counted, not applied (there is no flash to update on the
 *   PC; a log line says so). A status other than 200/206 fails with −9, as on the device.
 */
import * as fs from 'node:fs';
import { BodySink, HttpFailure, HttpZbuff, HTTP_ERROR_DOWNLOAD, HTTP_ERROR_FOTA, HTTP_ERROR_RX } from './types';
import type { LogLevel } from '../core/log';

type Log = (level: LogLevel, module: string, message: string) => void;

/** The memory sizes of the device profile (runtime/core/profile.ts `memory`) the body limit uses. */
export interface BodyMemory {
  lua: number;
  psram?: number;
  psramUsed?: number;
  sys?: number;
  sysUsed?: number;
}

/**
 * The largest response body the device can hold in memory (our reading; the firmware has no
 * fixed limit, it simply runs out of heap): the body is collected in the C heap (PSRAM when the
 * board has it, else the system heap) and then copied into a Lua string, so it must fit the
 * free part of that heap AND the Lua heap. Air8101 defaults: min(2 097 144, 8 MB − 3 MB) =
 * 2 097 144 bytes. At least 64 KiB, so that a tiny or broken profile still works.
 */
export function deviceBodyLimit(mem: BodyMemory | undefined): number {
  const lua = mem && Number.isFinite(mem.lua) && mem.lua > 0 ? mem.lua : 2097144;
  let heap = Infinity;
  if (mem && Number.isFinite(mem.psram) && (mem.psram as number) > 0) heap = (mem.psram as number) - (mem.psramUsed ?? 0);
  else if (mem && Number.isFinite(mem.sys) && (mem.sys as number) > 0) heap = (mem.sys as number) - (mem.sysUsed ?? 0);
  return Math.max(64 * 1024, Math.floor(Math.min(lua, heap)));
}

/** The message of the firmware's E line when the body does not fit (also the failure's reason). */
export const BODY_OOM = 'out of memory when recv http body';

/**
 * The body in memory, at most `maxBytes` (deviceBodyLimit). A body that does not fit (a
 * Content-Length above the limit fails at the headers, without reading it; a chunked or
 * until-close body when it passes the limit) fails with −6, the receive error, as the
 * firmware's allocation failure inside the receive path does; the buffer is dropped at once.
 * One growing buffer (doubling, capped): a million 1-byte chunks cost no per-chunk objects.
 */
export class MemorySink implements BodySink {
  private buf: Buffer | null = null;
  private len = 0;
  constructor(
    /** default: the Air8101's limit, so no caller gets an unbounded buffer by forgetting it */
    private readonly maxBytes = deviceBodyLimit(undefined),
    private readonly log?: Log,
  ) {}
  private oom(need: number): never {
    this.release();
    this.log?.('E', 'http', BODY_OOM);
    throw new HttpFailure(HTTP_ERROR_RX, `${BODY_OOM}: ${need} bytes > the device's ${this.maxBytes}`);
  }
  private release(): void {
    this.buf = null;
    this.len = 0;
  }
  open(_status: number, contentLength = 0): void {
    this.release();
    if (contentLength > this.maxBytes) this.oom(contentLength);
    if (contentLength > 0) this.buf = Buffer.allocUnsafe(contentLength);
  }
  write(chunk: Buffer): void {
    const need = this.len + chunk.length;
    if (need > this.maxBytes) this.oom(need);
    if (!this.buf || need > this.buf.length) {
      const size = Math.min(this.maxBytes, Math.max(need, 16 * 1024, (this.buf?.length ?? 0) * 2));
      const next = Buffer.allocUnsafe(size);
      if (this.buf) this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    chunk.copy(this.buf, this.len);
    this.len = need;
  }
  finish(): Buffer {
    const out = this.buf ? Buffer.from(this.buf.subarray(0, this.len)) : Buffer.alloc(0);
    this.release();
    return out;
  }
  abort(): number | null {
    this.release();
    return null;
  }
}

/**
 * The body appended to a zbuff. The zbuff grows on the device heap, so the same limit as a
 * memory body applies to the bytes received (−7 with the firmware's OOM line when passed, as a
 * failed zbuff growth gives).
 */
export class ZbuffSink implements BodySink {
  private received = 0;
  constructor(
    private readonly z: HttpZbuff,
    private readonly maxBytes = deviceBodyLimit(undefined),
    private readonly log?: Log,
  ) {}
  open(): void {
    /* the body is appended at the current `used` */
  }
  write(chunk: Buffer): void {
    if (this.received + chunk.length > this.maxBytes) {
      this.log?.('E', 'http', BODY_OOM);
      throw new HttpFailure(HTTP_ERROR_DOWNLOAD, `${BODY_OOM}: more than the device's ${this.maxBytes} bytes`);
    }
    try {
      this.z.append(chunk);
    } catch (e) {
      throw new HttpFailure(HTTP_ERROR_DOWNLOAD, `${BODY_OOM}: ${(e as Error).message}`);
    }
    this.received += chunk.length;
  }
  finish(): number {
    return this.received;
  }
  abort(): number | null {
    return null;
  }
}

export class FileSink implements BodySink {
  private fd: number | null = null;
  private opened = false;
  private received = 0;
  /**
   * @param dst the virtual path the script gave (for log lines)
   * @param hostPath resolves it to a host path; throws when not writable (read-only, outside)
   * @param maxBytes the flash space the file may take (the device file system's free space);
   *   a body past it fails like a full flash: `err when fwrite`, file removed, −7
   */
  constructor(
    private readonly dst: string,
    private readonly hostPath: () => string,
    private readonly log: Log,
    private readonly maxBytes = Infinity,
  ) {}

  private tryOpen(): boolean {
    let p: string;
    try {
      p = this.hostPath();
      fs.rmSync(p, { force: true });
      this.fd = fs.openSync(p, 'w+');
      this.opened = true;
      return true;
    } catch {
      this.log('E', 'http', `open download file fail ${this.dst}`);
      return false;
    }
  }

  private remove(): void {
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* ignore */
      }
      this.fd = null;
    }
    if (this.opened) {
      try {
        fs.rmSync(this.hostPath(), { force: true });
      } catch {
        /* ignore */
      }
    }
  }

  open(): void {
    this.tryOpen();
  }

  write(chunk: Buffer): void {
    if (this.fd === null && !this.tryOpen()) throw new HttpFailure(HTTP_ERROR_DOWNLOAD, `cannot open ${this.dst}`);
    if (this.received + chunk.length > this.maxBytes) {
      this.log('E', 'http', `err when fwrite ${this.dst}`);
      this.remove();
      throw new HttpFailure(HTTP_ERROR_DOWNLOAD, `write to ${this.dst} failed: no space left on the device's flash (${this.maxBytes} bytes free)`);
    }
    try {
      let off = 0;
      while (off < chunk.length) off += fs.writeSync(this.fd as number, chunk, off, chunk.length - off);
    } catch (e) {
      this.log('E', 'http', `err when fwrite ${this.dst}`);
      this.remove();
      throw new HttpFailure(HTTP_ERROR_DOWNLOAD, `write to ${this.dst} failed: ${(e as Error).message}`);
    }
    this.received += chunk.length;
  }

  finish(status: number): number {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
      if (status > 299) {
        this.log('W', 'http', `download fail, remove file ${this.dst}`);
        this.remove();
      }
    }
    return this.received;
  }

  abort(code: number): number | null {
    const wasOpen = this.fd !== null;
    this.remove();
    if (code === HTTP_ERROR_DOWNLOAD) return null;
    return wasOpen ? -1 : null;
  }
}

export class FotaSink implements BodySink {
  private received = 0;
  private status = 0;
  constructor(private readonly log: Log) {}
  open(status: number): void {
    this.status = status;
  }
  write(chunk: Buffer): void {
    if (this.status === 200 || this.status === 206) this.received += chunk.length;
  }
  finish(status: number): number {
    if (status !== 200 && status !== 206) throw new HttpFailure(HTTP_ERROR_FOTA, `fota download got status ${status}`);
    this.log('I', 'http', `fota image received, ${this.received} bytes (not applied: the PC has no firmware flash)`);
    return this.received;
  }
  abort(): number | null {
    return null;
  }
}
