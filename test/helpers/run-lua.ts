/**
 * Test helper: boot a device on a throw-away script folder and collect its log.
 *
 *   const r = await runLua({ 'main.lua': src }, { engine: 'fengari', until: 'DONE' });
 *   r.user      // Lua output payloads, e.g. ['I/user.main hello']
 *   r.lines     // every full log line, Luatools format
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Device, DeviceOptions, StopReason } from '../../runtime/core/device';
import { EngineName } from '../../runtime/core/engine';
import { LogRecord, LogSink } from '../../runtime/core/log';
import { makeProfile } from '../../runtime/core/profile';
import { tempDir } from './tmp';

export interface RunLuaOptions {
  engine?: EngineName;
  /** stop when a log line contains this text */
  until?: string | RegExp;
  /** stop after this many ms of wall time (default 5000) */
  timeoutMs?: number;
  /** extra profile fields */
  profile?: Record<string, unknown>;
  reboot?: 'restart' | 'exit';
  maxBoots?: number;
  libDirs?: string[];
  /** extra device options (e.g. network) */
  device?: Partial<DeviceOptions>;
  /** called once the device exists (fault injection etc.) */
  onDevice?: (d: Device) => void;
  /** remove the temporary folders (the script folder made from `files`, the data folder) at the end */
  cleanup?: boolean;
}

export interface RunLuaResult {
  lines: string[];
  /** payloads of U records (Lua output) as text */
  user: string[];
  records: LogRecord[];
  stop?: StopReason;
  timedOut: boolean;
  device: Device;
  dir: string;
}

/** Make a temp folder with the given files (name -> content). */
export function makeScriptDir(files: Record<string, string | Buffer>): string {
  const dir = tempDir('luatos-test-');
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

export async function runLua(files: Record<string, string | Buffer> | string, opts: RunLuaOptions = {}): Promise<RunLuaResult> {
  const dir = typeof files === 'string' ? files : makeScriptDir(files);
  const dataDir = tempDir('luatos-data-');
  const sink = new LogSink({ stream: null });
  const device = new Device({
    scripts: dir,
    engine: opts.engine ?? 'wasmoon',
    profile: makeProfile({ exitRebootDelayMs: 50, runawayMs: 2000 }, opts.profile ?? {}),
    log: sink,
    dataDir,
    reboot: opts.reboot ?? 'exit',
    maxBoots: opts.maxBoots,
    libDirs: opts.libDirs,
    ...(opts.device ?? {}),
  });
  const lines: string[] = [];
  const user: string[] = [];
  const records: LogRecord[] = [];
  opts.onDevice?.(device);
  return await new Promise<RunLuaResult>((resolve, reject) => {
    let finished = false;
    const done = (stop: StopReason | undefined, timedOut: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      device.dispose();
      if (opts.cleanup) {
        fs.rmSync(dataDir, { recursive: true, force: true });
        if (typeof files !== 'string') fs.rmSync(dir, { recursive: true, force: true });
      }
      resolve({ lines, user, records, stop, timedOut, device, dir });
    };
    sink.on((r, text) => {
      records.push(r);
      lines.push(text);
      if (r.kind === 'U') user.push(r.payload.toString('utf8'));
      const u = opts.until;
      if (u && (typeof u === 'string' ? text.includes(u) : u.test(text))) setImmediate(() => done(undefined, false));
    });
    device.on('stopped', (r: StopReason) => setImmediate(() => done(r, false)));
    const timer = setTimeout(() => done(undefined, true), opts.timeoutMs ?? 5000);
    device.start().catch(reject);
  });
}
