/**
 * The fleet view of the web console (`luatos fleet ... --web [PORT]`): a table of every device
 * of the process (Wi-Fi, RTMP state, kbps, drops, boots, last error) with sorting and filtering,
 * a detail pane for one device (its log, its live video, its panel figures) and fault buttons
 * that act on a selection ("drop Wi-Fi on 10% of devices", "kill the ingest").
 *
 * HTTP routes
 *   GET  /                         fleet.html (runtime/host/web/static: fleet.html, fleet.js, style.css)
 *   GET  /vendor/mpegts.js         the player
 *   GET  /api/fleet                {token, devices: FleetRow[], faults, encoders, ingest, now}
 *   GET  /api/device/log?name=N    the last 64 KB of device N's log file (text)
 *   POST /api/fault                {"name":"wifi","args":["down"],"devices":["dev001",...]}
 *                                  or {"name":"wifi","args":["down"],"percent":10}: a random 10 %
 *                                  of the devices; a host fault (rtmp-server, http) runs once.
 *                                  Answers {ok, devices: n, errors: [[name, message]...]}
 *   POST /api/reboot               {"devices":[...]}
 * WebSocket
 *   /video?name=N                  device N's live FLV from the local platform (video-proxy.ts)
 *
 * Security as the device console (server.ts): loopback bind by default, the Host header must name
 * the console, WebSocket and POST need the console's own Origin, POST needs JSON and the per-run
 * token; device names are looked up, never used as paths.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { FaultError } from '../../core/faults';
import type { FleetHost } from '../fleet/fleet-host';
import type { LocalPlatform } from '../platform';
import { hostForUrl, isLoopbackHost, MPEGTS_FILE, plain, RequestChecks, send, sendJson, serveFile } from './http-util';
import { defaultStaticDir, resolveStatic } from './static-files';
import { relayVideo, VIDEO_CLOSE, type VideoRelay } from './video-proxy';

export interface FleetConsoleOptions {
  fleet: FleetHost;
  platform?: LocalPlatform | null;
  /** the per-device log files (`<logDir>/<name>.log`) */
  logDir?: string;
  host?: string;
  port?: number;
  staticDir?: string;
}

export interface FleetConsole {
  url: string;
  port: number;
  close(): Promise<void>;
}

const LOG_TAIL_BYTES = 64 * 1024;
const MAX_BODY = 256 * 1024;

/** A random `percent` % of `all` (at least one when percent > 0), without repeats. */
export function pickPercent<T>(all: readonly T[], percent: number, rand: () => number = Math.random): T[] {
  const n = Math.min(all.length, Math.max(percent > 0 ? 1 : 0, Math.round((all.length * percent) / 100)));
  const a = [...all];
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rand() * (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, n);
}

/** What the fleet console's routes share. */
interface FleetCtx {
  fleet: FleetHost;
  opts: FleetConsoleOptions;
  staticDir: string;
  /** Host and Origin checks, the per-run token (http-util.ts, shared with the device console) */
  checks: RequestChecks;
  relays: Set<VideoRelay>;
}

function deviceIndex(fleet: FleetHost, name: string | null): number | undefined {
  return name ? fleet.indexOf(name) : undefined;
}

/** GET /api/fleet */
function fleetState(ctx: FleetCtx): unknown {
  const { fleet, opts } = ctx;
  return {
    token: ctx.checks.token,
    now: Date.now(),
    devices: [...fleet.names.keys()].map((i) => fleet.rows.get(i) ?? { index: i, name: fleet.names.get(i), wifi: 'unknown', rtmp: null, kbps: 0, dropped: 0, boots: fleet.boots.get(i) ?? 0, lastError: null }),
    faults: fleet.faultList(),
    encoders: fleet.encoders(),
    ingest: opts.platform ? { state: opts.platform.ingestState, publishing: opts.platform.publishing().length } : null,
  };
}

/** A JSON body of at most MAX_BODY bytes. */
function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    req.on('data', (d: Buffer) => {
      n += d.length;
      if (n > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      parts.push(d);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(parts).toString('utf8')));
      } catch {
        reject(new Error('the body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

/** the devices a request names: `devices: [names]`, `percent: P` of all, or all */
function selection(fleet: FleetHost, b: Record<string, unknown>): number[] {
  const all = [...fleet.names.keys()];
  if (Array.isArray(b.devices)) {
    const out: number[] = [];
    for (const n of b.devices.slice(0, all.length)) {
      const i = typeof n === 'string' ? fleet.indexOf(n) : undefined;
      if (i !== undefined) out.push(i);
    }
    return out;
  }
  if (typeof b.percent === 'number' && b.percent > 0 && b.percent <= 100) return pickPercent(all, b.percent);
  return all;
}

/** POST /api/fault, /api/reboot */
async function post(ctx: FleetCtx, req: http.IncomingMessage, res: http.ServerResponse, host: string, pathname: string): Promise<void> {
  const { fleet } = ctx;
  if (!ctx.checks.origin(req, host) || !(req.headers['content-type'] ?? '').startsWith('application/json') || req.headers['x-console-token'] !== ctx.checks.token) return plain(res, 403, 'forbidden\n');
  let body: Record<string, unknown>;
  try {
    const b = await readBody(req);
    if (!b || typeof b !== 'object' || Array.isArray(b)) throw new Error('the body must be a JSON object');
    body = b as Record<string, unknown>;
  } catch (e) {
    return sendJson(res, host, 400, { ok: false, error: (e as Error).message });
  }
  const sel = selection(fleet, body);
  if (pathname === '/api/reboot') {
    fleet.reboot(sel, 'web console reset');
    return sendJson(res, host, 200, { ok: true, devices: sel.length });
  }
  const name = typeof body.name === 'string' ? body.name : '';
  const args = Array.isArray(body.args) ? body.args.filter((a): a is string => typeof a === 'string').slice(0, 16) : [];
  try {
    const errors = await fleet.runFault(sel, name, args);
    return sendJson(res, host, 200, { ok: true, devices: fleet.hostFaults.has(name) ? 0 : sel.length, errors: errors.map(([d, m]) => [fleet.names.get(d), m]) });
  } catch (e) {
    return sendJson(res, host, e instanceof FaultError ? 404 : 500, { ok: false, error: (e as Error).message });
  }
}

/** GET /api/device/log?name=N: the last LOG_TAIL_BYTES of the device's log file */
function deviceLog(ctx: FleetCtx, res: http.ServerResponse, host: string, name: string | null): void {
  const i = deviceIndex(ctx.fleet, name);
  if (i === undefined || !ctx.opts.logDir) return plain(res, 404, 'no such device\n');
  const file = `${ctx.opts.logDir}/${ctx.fleet.names.get(i)}.log`;
  fs.open(file, 'r', (err, fd) => {
    if (err) return send(res, host, 200, 'text/plain; charset=utf-8', '');
    fs.fstat(fd, (e2, st) => {
      if (e2) {
        fs.close(fd, () => undefined);
        return plain(res, 500, 'cannot read\n');
      }
      const len = Math.min(st.size, LOG_TAIL_BYTES);
      const buf = Buffer.alloc(len);
      fs.read(fd, buf, 0, len, st.size - len, () => {
        fs.close(fd, () => undefined);
        send(res, host, 200, 'text/plain; charset=utf-8', buf);
      });
    });
  });
}

function handleRequest(ctx: FleetCtx, req: http.IncomingMessage, res: http.ServerResponse): void {
  const host = ctx.checks.host(req);
  if (!host) return plain(res, 403, 'unknown Host\n');
  const u = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'POST') {
    if (u.pathname === '/api/fault' || u.pathname === '/api/reboot') return void post(ctx, req, res, host, u.pathname);
    return plain(res, 404, 'not found\n');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'method not allowed\n');
  switch (u.pathname) {
    case '/':
      return serveFile(req, res, host, resolveStaticOr(ctx.staticDir, '/fleet.html'), 'text/html; charset=utf-8');
    case '/api/fleet':
      return sendJson(res, host, 200, fleetState(ctx));
    case '/api/device/log':
      return deviceLog(ctx, res, host, u.searchParams.get('name'));
    case '/vendor/mpegts.js':
      if (!MPEGTS_FILE) return plain(res, 404, 'mpegts.js is not installed\n');
      return serveFile(req, res, host, MPEGTS_FILE, 'text/javascript; charset=utf-8');
  }
  const r = resolveStatic(ctx.staticDir, u.pathname);
  if (!r.ok) return plain(res, r.status, r.status === 400 ? 'bad request\n' : 'not found\n');
  serveFile(req, res, host, r.file, r.type);
}

/** /video?name=N: the device's live FLV from the local platform */
function handleUpgrade(ctx: FleetCtx, wss: WebSocketServer, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  const refuse = (code: number, text: string) => {
    socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  };
  socket.on('error', () => {});
  const host = ctx.checks.host(req);
  if (!host || !ctx.checks.origin(req, host)) return refuse(403, 'Forbidden');
  const u = new URL(req.url ?? '/', 'http://x');
  if (u.pathname !== '/video') return refuse(404, 'Not Found');
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('message', () => {});
    const i = deviceIndex(ctx.fleet, u.searchParams.get('name'));
    const row = i !== undefined ? ctx.fleet.rows.get(i) : undefined;
    const p = ctx.opts.platform;
    if (!p || !row) return ws.close(VIDEO_CLOSE.NO_STREAM, 'no stream for this device');
    const relay = relayVideo(ws, p.wsFlvUrl(row.mac));
    ctx.relays.add(relay);
    ws.on('close', () => ctx.relays.delete(relay));
  });
}

export async function startFleetConsole(opts: FleetConsoleOptions): Promise<FleetConsole> {
  const bindHost = opts.host ?? '127.0.0.1';
  const ctx: FleetCtx = {
    fleet: opts.fleet,
    opts,
    staticDir: opts.staticDir ?? defaultStaticDir(),
    checks: new RequestChecks(isLoopbackHost(bindHost), crypto.randomBytes(24).toString('hex')),
    relays: new Set<VideoRelay>(),
  };
  const server = http.createServer((req, res) => handleRequest(ctx, req, res));
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 });
  server.on('upgrade', (req, socket, head) => handleUpgrade(ctx, wss, req, socket, head));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, bindHost, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  ctx.checks.listening(bindHost, port);
  return {
    url: `http://${hostForUrl(bindHost)}:${port}/`,
    port,
    close: async () => {
      for (const r of ctx.relays) r.close();
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function resolveStaticOr(dir: string, p: string): string {
  const r = resolveStatic(dir, p);
  return r.ok ? r.file : `${dir}/fleet.html`;
}
