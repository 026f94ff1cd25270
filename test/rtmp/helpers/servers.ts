/** Test peers as child processes: node-media-server, ffmpeg -listen, nginx-rtmp. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, waitForPort, delay } from './net-util';
import { ffmpegPath } from './h264-source';
import { tempDir } from '../../helpers/tmp';

export interface NmsPacket {
  ev: 'pkt';
  path: string;
  type: number;
  flags: number;
  dts: number;
  size: number;
  t: number;
}

/** A temporary folder `luatos-<prefix>XXXXXX`, removed at process exit (see test/helpers/tmp). */
export function tmpDir(prefix: string): string {
  return tempDir(prefix.startsWith('luatos-') ? prefix : `luatos-${prefix}`);
}

function killChild(p: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        p.kill('SIGKILL');
      } catch {
        /* gone */
      }
      resolve();
    }, 3000);
    p.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      p.kill(signal);
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

export class NmsServer {
  proc: ChildProcess | undefined;
  port = 0;
  dir = '';
  packets: NmsPacket[] = [];
  events: { ev: string; path?: string; t: number }[] = [];
  private buf = '';

  static async start(port?: number, dir?: string): Promise<NmsServer> {
    const s = new NmsServer();
    s.port = port ?? (await freePort());
    s.dir = dir ?? tmpDir('nms-');
    const script = path.join(__dirname, 'nms-child.js');
    s.proc = spawn(process.execPath, [script, String(s.port), s.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    s.proc.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
    });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`NMS did not start on ${s.port}: ${stderr}`)), 15_000);
      s.proc!.stdout!.on('data', (d: Buffer) => {
        s.buf += d.toString();
        let i: number;
        while ((i = s.buf.indexOf('\n')) >= 0) {
          const line = s.buf.slice(0, i);
          s.buf = s.buf.slice(i + 1);
          let o: any;
          try {
            o = JSON.parse(line);
          } catch {
            continue;
          }
          if (o.ev === 'pkt') s.packets.push(o);
          else s.events.push(o);
          if (o.ev === 'ready') {
            clearTimeout(timer);
            resolve();
          }
        }
      });
      s.proc!.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`NMS exited with ${code}: ${stderr}`));
      });
    });
    try {
      await ready;
    } catch (e) {
      await s.stop();
      throw e;
    }
    return s;
  }

  url(app: string, name: string): string {
    return `rtmp://127.0.0.1:${this.port}/${app}/${name}`;
  }

  flvFile(app: string, name: string): string {
    return path.join(this.dir, `${app}_${name}.flv`);
  }

  videoPackets(streamPath: string): NmsPacket[] {
    return this.packets.filter((p) => p.path === streamPath && p.type === 9);
  }

  async kill(): Promise<void> {
    await killChild(this.proc, 'SIGKILL');
  }

  async stop(): Promise<void> {
    await killChild(this.proc, 'SIGTERM');
  }
}

/** `ffmpeg -listen 1 -i rtmp://127.0.0.1:PORT/app/stream -c copy -f flv out.flv` (one connection). */
export class FfmpegListener {
  proc: ChildProcess | undefined;
  port = 0;
  out = '';
  stderr = '';
  exited: Promise<number | null> = Promise.resolve(null);

  static async start(app: string, stream: string, timeoutSec = 30): Promise<FfmpegListener> {
    const l = new FfmpegListener();
    l.port = await freePort();
    l.out = path.join(tmpDir('ffl-'), 'out.flv');
    l.proc = spawn(
      ffmpegPath(),
      ['-hide_banner', '-nostdin', '-loglevel', 'info', '-listen', '1', '-timeout', String(timeoutSec), '-i', `rtmp://127.0.0.1:${l.port}/${app}/${stream}`, '-c', 'copy', '-f', 'flv', '-y', l.out],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    l.proc.stderr!.on('data', (d: Buffer) => {
      l.stderr += d.toString();
    });
    l.exited = new Promise((resolve) => l.proc!.once('exit', (code) => resolve(code)));
    // ffmpeg accepts exactly one connection: no port probing; wait until its socket listens
    await waitListening(l.port, 10_000);
    return l;
  }

  url(app: string, stream: string): string {
    return `rtmp://127.0.0.1:${this.port}/${app}/${stream}`;
  }

  async stop(): Promise<void> {
    await killChild(this.proc, 'SIGKILL');
  }
}

/** Waits until a LISTEN socket exists on the port (reads /proc/net/tcp; no connection is made). */
export async function waitListening(port: number, timeoutMs: number): Promise<void> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const t0 = Date.now();
  for (;;) {
    let found = false;
    for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
      try {
        const txt = fs.readFileSync(f, 'utf8');
        if (new RegExp(`:${hex} [0-9A-F]{8,32}:0000 0A `).test(txt)) found = true;
      } catch {
        /* not linux */
      }
    }
    if (found) return;
    if (Date.now() - t0 > timeoutMs) {
      if (!fs.existsSync('/proc/net/tcp')) {
        await delay(1000);
        return;
      }
      throw new Error(`nothing listening on ${port} after ${timeoutMs} ms`);
    }
    await delay(30);
  }
}

/** nginx with libnginx-mod-rtmp, private config, daemon off; undefined when not installed. */
export class NginxRtmp {
  proc: ChildProcess | undefined;
  port = 0;
  dir = '';
  stderr = '';

  static findBinary(): { nginx: string; module: string } | undefined {
    const nginx = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'].find((p) => fs.existsSync(p));
    if (!nginx) return undefined;
    const module = ['/usr/lib/nginx/modules/ngx_rtmp_module.so', '/usr/local/lib/nginx/modules/ngx_rtmp_module.so'].find((p) => fs.existsSync(p));
    if (!module) return undefined;
    const r = spawnSync(nginx, ['-v'], { timeout: 5000 });
    if (r.status !== 0) return undefined;
    return { nginx, module };
  }

  static async start(): Promise<NginxRtmp> {
    const bin = NginxRtmp.findBinary();
    if (!bin) throw new Error('nginx with the rtmp module is not installed');
    const n = new NginxRtmp();
    n.port = await freePort();
    n.dir = tmpDir('nginx-rtmp-');
    const rec = path.join(n.dir, 'rec');
    fs.mkdirSync(path.join(n.dir, 'logs'), { recursive: true });
    fs.mkdirSync(rec, { recursive: true });
    fs.chmodSync(rec, 0o777);
    fs.chmodSync(n.dir, 0o755);
    const conf = `
load_module ${bin.module};
daemon off;
master_process off;
worker_processes 1;
error_log ${n.dir}/logs/error.log warn;
pid ${n.dir}/nginx.pid;
events { worker_connections 64; }
rtmp {
  server {
    listen 127.0.0.1:${n.port};
    chunk_size 4096;
    application live {
      live on;
      record all;
      record_path ${rec};
      record_unique off;
    }
  }
}
`;
    fs.writeFileSync(path.join(n.dir, 'nginx.conf'), conf);
    n.proc = spawn(bin.nginx, ['-p', n.dir + '/', '-e', path.join(n.dir, 'logs/error.log'), '-c', path.join(n.dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    n.proc.stderr!.on('data', (d: Buffer) => {
      n.stderr += d.toString();
    });
    try {
      await waitForPort(n.port, 10_000);
    } catch (e) {
      await n.stop();
      throw new Error(`${(e as Error).message}; nginx stderr: ${n.stderr}; log: ${safeRead(path.join(n.dir, 'logs/error.log'))}`, { cause: e });
    }
    return n;
  }

  recording(stream: string): string {
    return path.join(this.dir, 'rec', `${stream}.flv`);
  }

  url(stream: string): string {
    return `rtmp://127.0.0.1:${this.port}/live/${stream}`;
  }

  async stop(): Promise<void> {
    await killChild(this.proc, 'SIGTERM');
  }
}

function safeRead(f: string): string {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return '';
  }
}
