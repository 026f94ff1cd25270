import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { tempDir } from '../helpers/tmp';

/** test/fixtures/logs, from dist/test/logs or test/logs */
export function fixture(name: string): string {
  const candidates = [
    path.join(__dirname, '..', 'fixtures', 'logs', name),
    path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'logs', name),
  ];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error(`fixture not found: ${name}`);
}

export function readFixture(name: string): Buffer {
  return fs.readFileSync(fixture(name));
}

/** A stream that collects what is written to it. */
export class Collector extends Writable {
  chunks: Buffer[] = [];
  isTTY = false;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    cb();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
  get lines(): string[] {
    const t = this.text;
    return t === '' ? [] : t.replace(/\n$/, '').split('\n');
  }
}

export function tmpDir(): string {
  return tempDir('luatos-logs-');
}

export async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** local wall time as epoch ms, the way the parser reads stamps */
export function local(y: number, mo: number, d: number, h: number, mi: number, s: number, ms = 0): number {
  return new Date(y, mo - 1, d, h, mi, s, ms).getTime();
}
