/**
 * The web console (`luatos run --web [PORT]`): one page with the live device log, a device panel
 * with a live chart, the live video and fault buttons.
 *
 *   const c = await startWebConsole({ device, port: 0, videoUrl: () => url, status: () => s });
 *   console.log(c.url); ...; await c.close();
 *
 * HTTP routes
 *   GET  /, /app.js, /style.css, ...  the page (runtime/host/web/static only)
 *   GET  /vendor/mpegts.js            node_modules/mpegts.js/dist/mpegts.js (explicit route)
 *   GET  /api/info                    faults, limits, the CSRF token
 *   GET  /api/status                  the DeviceStatus snapshot
 *   GET  /api/log                     the bounded history as a Luatools `.log` file (streamed)
 *   POST /api/fault                   {"name":"wifi","args":["down"]} -> device.faults.run(...)
 *   POST /api/debug                   the Debug panel (`--inspect`): {"op": "status" | "state" |
 *                                     "source" | "threads" | "stack" | "scopes" | "variables" |
 *                                     "evaluate" | "continue" | "next" | "stepIn" | "stepOut" |
 *                                     "pause" | "setBreakpoints", ...} -> {ok, body}; the same
 *                                     debugger core the DAP server talks to
 * WebSocket routes
 *   /ws?since=SEQ   server -> page JSON messages:
 *                     {t:'hello', ...}            once
 *                     {t:'log', lines:[[seq, level, tag, text], ...]}   batched (every 100 ms)
 *                     {t:'gap', n}                lines this page missed (it was too slow)
 *                     {t:'status', s, video, now} every second
 *                     {t:'faults', faults}        when the registered faults change
 *                     {t:'note', text, level}     console events (boot, fault runs, ...)
 *   /video          the live FLV, relayed from `videoUrl()` (see video-proxy.ts)
 *
 * Security
 *   - binds 127.0.0.1 unless `host` says otherwise; a non-loopback host gives a warning
 *     (`onWarning`, default: stderr; also in `console.warnings`);
 *   - on a loopback bind the Host header must name the console (127.0.0.1/localhost/[::1]:PORT),
 *     which defeats DNS rebinding;
 *   - WebSocket upgrades need Origin == the console's own origin, else 403;
 *   - POST needs the same Origin, `Content-Type: application/json` and the per-run token from
 *     /api/info in `X-Console-Token` (a cross-site page can neither send the first two without a
 *     preflight nor read the token);
 *   - files only from the static folder (static-files.ts); CSP and the usual security headers.
 *
 * The parts: http-util.ts (the checks, headers, responses, body reader), log-feed.ts (the log
 * sockets), debug-api.ts (the Debug panel), video-proxy.ts; here the routes and the wiring.
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import type { StopReason } from '../../core/device';
import type { LogSink } from '../../core/log';
import { FaultError, type FaultInfo } from '../../core/faults';
import { entryFileLines, LogHistory } from './log-history';
import { defaultStaticDir, resolveStatic } from './static-files';
import { relayVideo, VIDEO_CLOSE, type VideoRelay } from './video-proxy';
import type { DeviceStatus } from './status-model';
import type { DebugChannel } from '../debug/channel';
import { hostForUrl, isLoopbackHost, MPEGTS_FILE, plain, readJsonBody, RequestChecks, securityHeaders, sendJson, serveFile } from './http-util';
import { LogFeed } from './log-feed';
import { debugApi } from './debug-api';

// ------------------------------------------------------------------------------ status model

// the device panel's figures (status-model.ts: types only, so runtime/host/status.ts fills them without importing the server)
export type { DeviceStatus, MemoryUsage, RtmpStatusStats } from './status-model';

/**
 * What the console needs of a device: both the in-process `Device` and the proxy of a device
 * running in a worker thread (runtime/host/worker/device-host.ts) satisfy it.
 */
export interface ConsoleDevice {
  readonly profile: { name: string; bsp: string; version: string };
  readonly logSink: Pick<LogSink, 'on'>;
  readonly boots: number;
  uptime(): number;
  readonly faults: { list(): FaultInfo[]; run(name: string, args?: string[]): Promise<void> };
  on(event: 'boot', fn: (n: number) => void): unknown;
  on(event: 'stopped', fn: (r: StopReason) => void): unknown;
  off(event: 'boot', fn: (n: number) => void): unknown;
  off(event: 'stopped', fn: (r: StopReason) => void): unknown;
}

/** The status when no provider is given: what the Device itself knows. */
export function basicStatus(device: ConsoleDevice): DeviceStatus {
  return {
    wifi: { state: 'unknown', ip: null },
    rtmp: { state: null, stats: null },
    boots: device.boots,
    uptimeMs: Math.round(device.uptime()),
    memory: { lua: null, sys: null },
  };
}

// ------------------------------------------------------------------------------ options / API

export interface WebConsoleOptions {
  device: ConsoleDevice;
  /** listen address (default 127.0.0.1); anything not loopback gives a warning */
  host?: string;
  /** listen port (default 0: any free port) */
  port?: number;
  /** the live FLV of the device (WS-FLV or HTTP-FLV URL); null while nothing is published */
  videoUrl?: () => string | null;
  /** the device panel's figures, polled once a second */
  status?: () => DeviceStatus;
  /** warnings (non-loopback bind); default: written to stderr */
  onWarning?: (msg: string) => void;
  /** lines kept on the server (default 50 000) */
  historyLines?: number;
  /** lines a page keeps (default 50 000) */
  clientLines?: number;
  /** log batching interval in ms (default 100) */
  batchMs?: number;
  /** status push interval in ms (default 1000) */
  statusIntervalMs?: number;
  /** the page's folder (default runtime/host/web/static) */
  staticDir?: string;
  /** `--inspect`: the debugger, for the Debug panel */
  debug?: DebugChannel | null;
}

export interface WebConsole {
  /** e.g. http://127.0.0.1:8080/ */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** warnings given at start (non-loopback bind) */
  readonly warnings: string[];
  /** the server-side log history */
  readonly history: LogHistory;
  /** connected pages (log sockets) */
  readonly clients: number;
  close(): Promise<void>;
}

// ------------------------------------------------------------------------------ helpers

export { isLoopbackHost };

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** What the routes share: one console's state. */
interface ConsoleContext {
  device: ConsoleDevice;
  checks: RequestChecks;
  feed: LogFeed;
  history: LogHistory;
  clientLines: number;
  /** identifies this server run, so a reconnecting page knows whether its sequence numbers still apply */
  session: string;
  staticDir: string;
  debug: ((o: Record<string, unknown>) => Promise<unknown>) | null;
  relays: Set<VideoRelay>;
  getStatus(): DeviceStatus;
  getVideo(): string | null;
}

/** The status (a provider that throws: the basic one, with the error) and the video URL. */
function statusSources(opts: WebConsoleOptions): Pick<ConsoleContext, 'getStatus' | 'getVideo'> {
  const device = opts.device;
  return {
    getStatus: (): DeviceStatus => {
      try {
        return opts.status ? opts.status() : basicStatus(device);
      } catch (e) {
        const s = basicStatus(device);
        (s as DeviceStatus & { error?: string }).error = (e as Error).message;
        return s;
      }
    },
    getVideo: (): string | null => {
      try {
        return opts.videoUrl?.() ?? null;
      } catch {
        return null;
      }
    },
  };
}

function deviceInfo(device: ConsoleDevice): { name: string; bsp: string; version: string } {
  return { name: device.profile.name, bsp: device.profile.bsp, version: device.profile.version };
}

// ------------------------------------------------------------------------------ HTTP routes

/** GET /api/log: the history as a Luatools `.log` file, streamed with back-pressure. */
function downloadLog(history: LogHistory, res: http.ServerResponse, host: string): void {
  const entries = history.since(0);
  res.writeHead(200, {
    ...securityHeaders(host),
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Disposition': `attachment; filename="luatos-${stamp()}.log"`,
    'Cache-Control': 'no-store',
  });
  let i = 0;
  const pump = () => {
    while (i < entries.length) {
      const parts: Buffer[] = [];
      const end = Math.min(entries.length, i + 500);
      for (; i < end; i++) parts.push(entryFileLines(entries[i]));
      if (!res.write(Buffer.concat(parts))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => {
    i = entries.length;
  });
  pump();
}

/** POST /api/fault: {"name": string, "args": string[]} -> device.faults.run. */
function postFault(ctx: ConsoleContext, req: http.IncomingMessage, res: http.ServerResponse, host: string): void {
  const refused = ctx.checks.postRefusal(req, host);
  if (refused) return sendJson(res, host, refused[0], { ok: false, error: refused[1] });
  readJsonBody(req, res, host, 8192, async (o) => {
    // (null has no fields: a bad body like one that does not parse)
    if (o === null) return sendJson(res, host, 400, { ok: false, error: 'bad JSON' });
    const name = (o as { name?: unknown }).name;
    const given = (o as { args?: unknown }).args;
    const args = given === undefined ? [] : given;
    if (typeof name !== 'string' || !Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
      return sendJson(res, host, 400, { ok: false, error: 'expected {"name": string, "args": string[]}' });
    }
    const what = [name, ...(args as string[])].join(' ');
    ctx.feed.note(`fault: ${what}`, 'W');
    try {
      await ctx.device.faults.run(name, args as string[]);
      sendJson(res, host, 200, { ok: true });
    } catch (e) {
      const msg = (e as Error).message;
      ctx.feed.note(`fault ${what} failed: ${msg}`, 'E');
      sendJson(res, host, e instanceof FaultError ? 404 : 500, { ok: false, error: msg });
    }
  });
}

/** POST /api/debug: one Debug panel operation (debug-api.ts). */
function postDebug(ctx: ConsoleContext, req: http.IncomingMessage, res: http.ServerResponse, host: string): void {
  const refused = ctx.checks.postRefusal(req, host);
  if (refused) return sendJson(res, host, refused[0], { ok: false, error: refused[1] });
  const op = ctx.debug ?? debugApi(null);
  readJsonBody(req, res, host, 65536, async (o) => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return sendJson(res, host, 400, { ok: false, error: 'a JSON object expected' });
    try {
      const body = await op(Object.assign(Object.create(null), o) as Record<string, unknown>);
      sendJson(res, host, 200, { ok: true, body: body ?? null });
    } catch (e) {
      sendJson(res, host, 200, { ok: false, error: (e as Error).message });
    }
  });
}

/** GET/HEAD: the API's reads, the vendored player, the page's files. */
function getRoute(ctx: ConsoleContext, req: http.IncomingMessage, res: http.ServerResponse, host: string, pathname: string): void {
  const { history } = ctx;
  switch (pathname) {
    case '/api/info':
      return sendJson(res, host, 200, { token: ctx.checks.token, ...consoleSummary(ctx), debug: ctx.debug !== null });
    case '/api/status':
      return sendJson(res, host, 200, { s: ctx.getStatus(), video: ctx.getVideo(), now: Date.now() });
    case '/api/log':
      return downloadLog(history, res, host);
    case '/vendor/mpegts.js':
      if (!MPEGTS_FILE) return plain(res, 404, 'mpegts.js is not installed (npm install mpegts.js)\n');
      return serveFile(req, res, host, MPEGTS_FILE, 'text/javascript; charset=utf-8');
  }
  const r = resolveStatic(ctx.staticDir, pathname);
  if (!r.ok) return plain(res, r.status, r.status === 400 ? 'bad request\n' : 'not found\n');
  serveFile(req, res, host, r.file, r.type);
}

function handleRequest(ctx: ConsoleContext, req: http.IncomingMessage, res: http.ServerResponse): void {
  const host = ctx.checks.host(req);
  if (!host) return plain(res, 403, 'unknown Host\n');
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const pathname = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  if (req.method === 'POST') {
    if (pathname === '/api/fault') return postFault(ctx, req, res, host);
    if (pathname === '/api/debug') return postDebug(ctx, req, res, host);
    return plain(res, 404, 'not found\n');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'method not allowed\n');
  getRoute(ctx, req, res, host, pathname);
}

// ------------------------------------------------------------------------------ WebSockets

function handleUpgrade(ctx: ConsoleContext, wss: WebSocketServer, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  const refuse = (code: number, text: string) => {
    socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length + 1}\r\n\r\n${text}\n`);
    socket.destroy();
  };
  socket.on('error', () => {});
  const host = ctx.checks.host(req);
  if (!host) return refuse(403, 'Forbidden');
  if (!ctx.checks.origin(req, host)) return refuse(403, 'Forbidden');
  const u = new URL(req.url ?? '/', 'http://x');
  if (u.pathname !== '/ws' && u.pathname !== '/video') return refuse(404, 'Not Found');
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (u.pathname === '/video') return onVideo(ctx, ws);
    onLogClient(ctx, ws, u.searchParams.get('session') === ctx.session ? Number(u.searchParams.get('since') ?? '0') || 0 : 0);
  });
}

/** What /api/info and the log socket's hello both tell: the faults, the log window, the device. */
function consoleSummary(ctx: ConsoleContext) {
  const { history } = ctx;
  return {
    faults: ctx.device.faults.list(),
    clientLines: ctx.clientLines,
    historyLines: history.capacity,
    firstSeq: history.firstSeq,
    lastSeq: history.lastSeq,
    device: deviceInfo(ctx.device),
  };
}

function onLogClient(ctx: ConsoleContext, ws: WebSocket, since: number): void {
  const hello = { t: 'hello', session: ctx.session, ...consoleSummary(ctx) };
  ctx.feed.add(ws, since, hello, () => ({ t: 'status', s: ctx.getStatus(), video: ctx.getVideo(), now: Date.now() }));
}

/** /video: the live FLV relayed from `videoUrl()` (video-proxy.ts). */
function onVideo(ctx: ConsoleContext, ws: WebSocket): void {
  ws.on('message', () => {});
  const url = ctx.getVideo();
  if (!url) {
    ws.close(VIDEO_CLOSE.NO_STREAM, 'no stream yet');
    return;
  }
  const relay = relayVideo(ws, url);
  ctx.relays.add(relay);
  ws.on('close', () => ctx.relays.delete(relay));
}

/** Once a second to the pages: the fault list when it changed, the status. */
function startStatusPush(ctx: ConsoleContext, intervalMs: number): NodeJS.Timeout {
  const faultList = (): FaultInfo[] => ctx.device.faults.list();
  let lastFaults = JSON.stringify(faultList());
  return setInterval(() => {
    if (!ctx.feed.size) return;
    const f = JSON.stringify(faultList());
    if (f !== lastFaults) {
      lastFaults = f;
      ctx.feed.broadcast({ t: 'faults', faults: JSON.parse(f) });
    }
    ctx.feed.broadcast({ t: 'status', s: ctx.getStatus(), video: ctx.getVideo(), now: Date.now() });
  }, intervalMs);
}

// ------------------------------------------------------------------------------ the server

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The warning of a bind that is not loopback only (to `onWarning`, default stderr); null on loopback. */
function bindWarning(opts: WebConsoleOptions, bindHost: string, port: number): string | null {
  if (isLoopbackHost(bindHost)) return null;
  const w =
    `warning: the web console listens on ${bindHost}:${port}, not only on loopback: anyone who can reach this ` +
    'address can read the device log, watch the video and inject faults. Use --web-host 127.0.0.1 unless you mean it.';
  if (opts.onWarning) opts.onWarning(w);
  else process.stderr.write(w + '\n');
  return w;
}

export async function startWebConsole(opts: WebConsoleOptions): Promise<WebConsole> {
  const device = opts.device;
  const bindHost = opts.host ?? '127.0.0.1';
  const history = new LogHistory(opts.historyLines ?? 50_000);
  const feed = new LogFeed(device.logSink, history, opts.batchMs ?? 100);
  const ctx: ConsoleContext = {
    device,
    checks: new RequestChecks(isLoopbackHost(bindHost), crypto.randomBytes(24).toString('hex')),
    feed,
    history,
    clientLines: opts.clientLines ?? 50_000,
    session: crypto.randomBytes(8).toString('hex'),
    staticDir: opts.staticDir ?? defaultStaticDir(),
    debug: opts.debug ? debugApi(opts.debug) : null,
    relays: new Set<VideoRelay>(),
    ...statusSources(opts),
  };
  const onBoot = (n: number) => feed.note(`device boot #${n}`);
  const onStopped = (r: StopReason) => feed.note(`device stopped (${r.kind})`, 'W');
  device.on('boot', onBoot);
  device.on('stopped', onStopped);
  const statusTimer = startStatusPush(ctx, opts.statusIntervalMs ?? 1000);

  const server = http.createServer((req, res) => handleRequest(ctx, req, res));
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
  server.on('upgrade', (req, socket, head) => handleUpgrade(ctx, wss, req, socket, head));
  await listen(server, opts.port ?? 0, bindHost);
  const port = (server.address() as AddressInfo).port;
  ctx.checks.listening(bindHost, port);
  const warning = bindWarning(opts, bindHost, port);

  let closed = false;
  return {
    url: `http://${hostForUrl(bindHost)}:${port}/`,
    host: bindHost,
    port,
    warnings: warning ? [warning] : [],
    history,
    get clients() {
      return feed.size;
    },
    async close() {
      if (closed) return;
      closed = true;
      feed.close();
      device.off('boot', onBoot);
      device.off('stopped', onStopped);
      clearInterval(statusTimer);
      for (const r of ctx.relays) r.close();
      feed.terminateAll();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
