/**
 * The RTMP ingest of the local platform: node-media-server in a tracked child process
 * (nms-child.ts) on fixed loopback ports, so that it can be SIGKILLed and started again on the
 * SAME ports (the `rtmp-server kill | restart` faults). No orphan: the child is spawned with
 * `spawnTracked` (killed on exit/signals, watchdog on POSIX) and also exits itself when the
 * IPC channel to its parent closes.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { killTree, spawnTracked } from '../../media/ffmpeg/child-registry';

export type IngestState = 'stopped' | 'starting' | 'running' | 'down';

export interface IngestOptions {
  host: string;
  rtmpPort: number;
  httpPort: number;
  /** node-media-server's publish grace window (default 10 000 ms; NMS's own is 30 s) */
  publishGraceMs?: number;
  /** NMS log level: trace | debug | info | warn | error (default error) */
  logLevel?: string;
  startTimeoutMs?: number;
}

const STORE_PREFIX = 'luatos-platform-nms-';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove NMS store folders left by a platform whose process was SIGKILLed (no JavaScript ran to
 * clean up): ours by name, with a `.lock` file naming a process that is gone (whatever the age),
 * or no lock file and older than a day (a folder seconds old may be between mkdtemp and its lock).
 */
function sweepStaleStores(): void {
  const tmp = os.tmpdir();
  let names: string[];
  try {
    names = fs.readdirSync(tmp).filter((n) => n.startsWith(STORE_PREFIX));
  } catch {
    return;
  }
  const now = Date.now();
  for (const n of names) {
    const dir = path.join(tmp, n);
    try {
      const age = now - fs.statSync(dir).mtimeMs;
      let stale: boolean;
      try {
        const pid = Number(fs.readFileSync(path.join(dir, '.lock'), 'utf8').trim());
        stale = !(pid > 0) || !pidAlive(pid);
      } catch {
        stale = age > 24 * 3600_000;
      }
      if (stale) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      /* someone else's business */
    }
  }
}

export class IngestStartError extends Error {
  constructor(
    message: string,
    /** true when a port was already taken */
    readonly addressInUse: boolean,
  ) {
    super(message);
  }
}

/**
 * Events: 'state' (IngestState), 'publish' (streamPath), 'unpublish' (streamPath),
 * 'play' / 'donePlay' (streamPath, protocol), 'log' (line).
 */
export class NmsIngest extends EventEmitter {
  state: IngestState = 'stopped';
  /** stream paths with a live publisher (`/live/NAME`) */
  readonly publishing = new Set<string>();
  private child: ChildProcess | undefined;
  private readonly storeDir: string;
  private logTail: string[] = [];
  private stopping = false;

  constructor(readonly opts: IngestOptions) {
    super();
    sweepStaleStores();
    this.storeDir = fs.mkdtempSync(path.join(os.tmpdir(), STORE_PREFIX));
    // who owns the folder, for the sweep of a later start after a kill -9
    fs.writeFileSync(path.join(this.storeDir, '.lock'), String(process.pid));
  }

  get rtmpPort(): number {
    return this.opts.rtmpPort;
  }
  get httpPort(): number {
    return this.opts.httpPort;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  /** the last lines NMS printed (diagnostics) */
  recentLog(): string[] {
    return [...this.logTail];
  }

  private setState(s: IngestState): void {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
  }

  /** Start the child on the configured ports; resolves when both listen. */
  start(): Promise<void> {
    if (this.child) return Promise.reject(new Error('ingest already running'));
    this.stopping = false;
    this.setState('starting');
    const script = path.join(__dirname, 'nms-child.js');
    if (!fs.existsSync(script)) {
      this.setState('down');
      return Promise.reject(new IngestStartError(`${script} is missing: the RTMP ingest runs from the compiled output (npm run build)`, false));
    }
    const arg = JSON.stringify({
      rtmpPort: this.opts.rtmpPort,
      httpPort: this.opts.httpPort,
      host: this.opts.host,
      storeDir: this.storeDir,
      publishGraceMs: this.opts.publishGraceMs ?? 10_000,
      logLevel: this.opts.logLevel ?? 'error',
    });
    const child = spawnTracked(process.execPath, [script, arg], {
      name: 'node-media-server',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      windowsHide: true,
    });
    this.child = child;
    let out = '';
    const onOut = (d: Buffer) => {
      out += d.toString();
      let i: number;
      while ((i = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, i).replace(/\r$/, '');
        out = out.slice(i + 1);
        this.logTail.push(line);
        if (this.logTail.length > 200) this.logTail.splice(0, this.logTail.length - 200);
        this.emit('log', line);
      }
      if (out.length > 64 * 1024) out = out.slice(-16 * 1024);
    };
    child.stdout?.on('data', onOut);
    child.stderr?.on('data', onOut);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        void killTree(child, 'SIGKILL');
        reject(new IngestStartError(`node-media-server did not start within ${this.opts.startTimeoutMs ?? 15_000} ms: ${this.logTail.slice(-5).join(' | ')}`, false));
      }, this.opts.startTimeoutMs ?? 15_000);
      child.on('message', (m: { ev?: string; path?: string; protocol?: string; message?: string }) => {
        switch (m.ev) {
          case 'ready':
            if (!settled) {
              settled = true;
              clearTimeout(timer);
              this.setState('running');
              resolve();
            }
            break;
          case 'publish':
            if (m.path) {
              this.publishing.add(m.path);
              this.emit('publish', m.path);
            }
            break;
          case 'donePublish':
            if (m.path) {
              this.publishing.delete(m.path);
              this.emit('unpublish', m.path);
            }
            break;
          case 'play':
          case 'donePlay':
            this.emit(m.ev, m.path, m.protocol);
            break;
          case 'fatal':
            this.logTail.push(`fatal: ${m.message}`);
            break;
        }
      });
      child.once('error', (e) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.child = undefined;
        this.setState('down');
        reject(new IngestStartError(`cannot start node-media-server: ${e.message}`, false));
      });
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        for (const p of this.publishing) this.emit('unpublish', p);
        this.publishing.clear();
        this.setState(this.stopping ? 'stopped' : 'down');
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          const log = this.logTail.slice(-5).join(' | ');
          const inUse = /already in use|EADDRINUSE/.test(log);
          reject(new IngestStartError(`node-media-server exited (${signal ?? code}) before it was ready: ${log}`, inUse));
        }
      });
    });
  }

  /** SIGKILL the child (a crash of the server); resolves when it is gone. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c) return;
    await killTree(c, 'SIGKILL');
  }

  /** Stop for good: SIGTERM (NMS closes its sessions), SIGKILL after 1.5 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    const c = this.child;
    if (c) await killTree(c, 'SIGTERM', 1500);
    this.setState('stopped');
  }

  /** Remove the temporary store folder (after stop). */
  cleanup(): void {
    try {
      fs.rmSync(this.storeDir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
}
