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
import { BodySink, HttpFailure, HttpZbuff, HTTP_ERROR_DOWNLOAD, HTTP_ERROR_FOTA } from './types';

type Log = (level: 'D' | 'I' | 'W' | 'E', module: string, message: string) => void;

export class MemorySink implements BodySink {
  private parts: Buffer[] = [];
  open(): void {
    this.parts = [];
  }
  write(chunk: Buffer): void {
    this.parts.push(Buffer.from(chunk));
  }
  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
  abort(): number | null {
    return null;
  }
}

export class ZbuffSink implements BodySink {
  private received = 0;
  constructor(private readonly z: HttpZbuff) {}
  open(): void {
    /* the body is appended at the current `used` */
  }
  write(chunk: Buffer): void {
    try {
      this.z.append(chunk);
    } catch (e) {
      throw new HttpFailure(HTTP_ERROR_DOWNLOAD, `out of memory when recv http body: ${(e as Error).message}`);
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
   */
  constructor(
    private readonly dst: string,
    private readonly hostPath: () => string,
    private readonly log: Log,
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
