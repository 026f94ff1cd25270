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
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { StopReason } from '../../core/device';
import type { LogRecord, LogSink } from '../../core/log';
import { FaultError, type FaultInfo } from '../../core/faults';
import { entryFileLines, LogHistory, toWire, type WireLine } from './log-history';
import { defaultStaticDir, resolveStatic } from './static-files';
import { relayVideo, VIDEO_CLOSE, type VideoRelay } from './video-proxy';

// ------------------------------------------------------------------------------ status model

/** Memory figures in bytes, as `rtos.meminfo(kind)` returns them (total, used, max used). */
export interface MemoryUsage {
  total: number;
  used: number;
  max: number;
}

/** The publisher's figures (RtmpPublisher.getStats plus a frame rate). */
export interface RtmpStatusStats {
  /** average bit rate since the connection started, kbit/s */
  kbpsAvg: number;
  /** bit rate over the publisher's stats window (default 5 s), kbit/s */
  kbpsWindow: number;
  /** video frames sent per second (over the last second or the stats window) */
  fps: number;
  /** frames dropped since the connection started (cumulative; the chart plots the increase per second) */
  dropped: number;
  /** duration of the data waiting in the send queue, ms */
  queueMs: number;
  bytesSent?: number;
  videoFrames?: number;
}

/**
 * What the device panel shows; the CLI provides it (`status` option) once a second.
 * Unknown parts are null; the page shows "—" for them.
 */
export interface DeviceStatus {
  wifi: {
    /** 'off' | 'disconnected' | 'connecting' | 'connected' (others are shown as given) */
    state: string;
    ssid?: string | null;
    /** the station's IPv4 address while connected */
    ip: string | null;
    rssi?: number | null;
  };
  rtmp: {
    /** RtmpState number (0 IDLE, 1 CONNECTING, 2 HANDSHAKING, 3 CONNECTED, 4 PUBLISHING, 5 DISCONNECTING, 6 ERROR); null: no rtmp object */
    state: number | null;
    /** the URL the script pushes to */
    url?: string | null;
    stats: RtmpStatusStats | null;
  };
  /** boots of the device so far (1 after the first boot) */
  boots: number;
  /** ms since the current boot */
  uptimeMs?: number;
  memory: { lua: MemoryUsage | null; sys: MemoryUsage | null };
  /** the USB camera (the console says why the video stalled) */
  camera?: { unplugged: boolean };
  /**
   * Boards with a cellular modem (air780e*): the console shows this row instead of the Wi-Fi
   * one (whose model only carries the traffic there). What the modem model knows.
   */
  cellular?: {
    /** the modem's phase: off | nosim | pin | searching | registered | online */
    state: string;
    /** 'ready' (read and unlocked), 'absent' (pulled out), 'pin' (locked), 'not read' (yet) */
    sim: string;
    /** mobile.status(): 0 not registered, 1 registered, 2 searching, 3 denied, 4 unknown */
    registration: number;
    /** mobile.csq() / mobile.rssi() (0 / 0 without signal) */
    csq: number;
    rssi: number;
    /** the cellular netif's IPv4 while online */
    ip: string | null;
    /** MCC+MNC of the SIM's IMSI (e.g. 46000) once the SIM is ready, else null */
    operator: string | null;
    /** mobile.apn(): the APN in use (null before registration) */
    apn: string | null;
    flightMode: boolean;
  };
  /**
   * tasks sleeping in sys.wait/waitUntil (task timers), soonest first; afterError: the sleep began
   * within 2 s after an E/W line (the console shows "retrying in N s")
   */
  tasks?: { sleeping: { id: number; ms: number; wakeInMs: number; afterError: boolean }[] };
}

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

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  if (/^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  return false;
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

const HOST_HEADER_RE = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

const MPEGTS_FILE = (() => {
  try {
    return require.resolve('mpegts.js/dist/mpegts.js');
  } catch {
    return null;
  }
})();

function securityHeaders(hostHeader: string): Record<string, string> {
  return {
    'Content-Security-Policy':
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
      `connect-src 'self' ws://${hostHeader} wss://${hostHeader}; media-src 'self' blob:; worker-src 'self' blob:; ` +
      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
  };
}

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

interface LogClient {
  ws: WebSocket;
  missed: number;
}

const MAX_BUFFERED = 16 * 1024 * 1024;
const HISTORY_CHUNK = 2000;

// ------------------------------------------------------------------------------ the server

export async function startWebConsole(opts: WebConsoleOptions): Promise<WebConsole> {
  const device = opts.device;
  const bindHost = opts.host ?? '127.0.0.1';
  const loopback = isLoopbackHost(bindHost);
  const staticDir = opts.staticDir ?? defaultStaticDir();
  const history = new LogHistory(opts.historyLines ?? 50_000);
  const clientLines = opts.clientLines ?? 50_000;
  const batchMs = opts.batchMs ?? 100;
  const token = crypto.randomBytes(24).toString('hex');
  /** identifies this server run, so a reconnecting page knows whether its sequence numbers still apply */
  const session = crypto.randomBytes(8).toString('hex');
  const warnings: string[] = [];
  const logClients = new Set<LogClient>();
  const relays = new Set<VideoRelay>();
  let allowedHosts = new Set<string>();

  // ---- log capture and batching
  let pending: WireLine[] = [];
  let batchTimer: NodeJS.Timeout | null = null;
  const flush = () => {
    if (batchTimer) clearTimeout(batchTimer);
    batchTimer = null;
    if (!pending.length) return;
    const lines = pending;
    pending = [];
    if (!logClients.size) return;
    const msg = JSON.stringify({ t: 'log', lines });
    for (const c of logClients) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      if (c.ws.bufferedAmount > MAX_BUFFERED) {
        c.missed += lines.length;
        continue;
      }
      if (c.missed) {
        c.ws.send(JSON.stringify({ t: 'gap', n: c.missed }));
        c.missed = 0;
      }
      c.ws.send(msg);
    }
  };
  const unsubscribeLog = device.logSink.on((r: LogRecord, text: string) => {
    const e = history.push(r, text);
    if (!logClients.size) return;
    pending.push(toWire(e));
    if (!batchTimer) batchTimer = setTimeout(flush, batchMs);
  });

  const broadcast = (o: unknown) => {
    if (!logClients.size) return;
    const msg = JSON.stringify(o);
    for (const c of logClients) if (c.ws.readyState === WebSocket.OPEN && c.ws.bufferedAmount < MAX_BUFFERED) c.ws.send(msg);
  };
  const note = (text: string, level: 'I' | 'W' | 'E' = 'I') => {
    flush(); // keep notes in order with the lines around them
    broadcast({ t: 'note', text, level, time: Date.now() });
  };

  const onBoot = (n: number) => note(`device boot #${n}`);
  const onStopped = (r: StopReason) => note(`device stopped (${r.kind})`, 'W');
  device.on('boot', onBoot);
  device.on('stopped', onStopped);

  // ---- status
  const getStatus = (): DeviceStatus => {
    try {
      return opts.status ? opts.status() : basicStatus(device);
    } catch (e) {
      const s = basicStatus(device);
      (s as DeviceStatus & { error?: string }).error = (e as Error).message;
      return s;
    }
  };
  const getVideo = (): string | null => {
    try {
      return opts.videoUrl?.() ?? null;
    } catch {
      return null;
    }
  };
  const faultList = (): FaultInfo[] => device.faults.list();
  let lastFaults = JSON.stringify(faultList());
  const statusTimer = setInterval(() => {
    if (!logClients.size) return;
    const f = JSON.stringify(faultList());
    if (f !== lastFaults) {
      lastFaults = f;
      broadcast({ t: 'faults', faults: JSON.parse(f) });
    }
    broadcast({ t: 'status', s: getStatus(), video: getVideo(), now: Date.now() });
  }, opts.statusIntervalMs ?? 1000);

  // ---- request checks
  const hostOk = (req: http.IncomingMessage): string | null => {
    const h = req.headers.host;
    if (!h || !HOST_HEADER_RE.test(h)) return null;
    if (loopback && !allowedHosts.has(h.toLowerCase())) return null;
    return h;
  };
  const originOk = (req: http.IncomingMessage, host: string): boolean => req.headers.origin === `http://${host}`;

  const send = (res: http.ServerResponse, host: string, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...securityHeaders(host), 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...extra });
    res.end(body);
  };
  const sendJson = (res: http.ServerResponse, host: string, status: number, o: unknown) => send(res, host, status, 'application/json; charset=utf-8', JSON.stringify(o));
  const plain = (res: http.ServerResponse, status: number, text: string) => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'X-Content-Type-Options': 'nosniff' });
    res.end(text);
  };

  const serveFile = (req: http.IncomingMessage, res: http.ServerResponse, host: string, file: string, type: string) => {
    fs.readFile(file, (err, data) => {
      if (err) return plain(res, 404, 'not found\n');
      res.writeHead(200, { ...securityHeaders(host), 'Content-Type': type, 'Content-Length': data.length, 'Cache-Control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : data);
    });
  };

  const downloadLog = (res: http.ServerResponse, host: string) => {
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
  };

  const runFault = (req: http.IncomingMessage, res: http.ServerResponse, host: string) => {
    if (!originOk(req, host)) return sendJson(res, host, 403, { ok: false, error: 'cross-origin request refused' });
    if (req.headers['x-console-token'] !== token) return sendJson(res, host, 403, { ok: false, error: 'missing or wrong console token' });
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return sendJson(res, host, 415, { ok: false, error: 'JSON body expected' });
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > 8192) tooBig = true;
      else chunks.push(d);
    });
    req.on('end', async () => {
      if (tooBig) return sendJson(res, host, 413, { ok: false, error: 'body too large' });
      let name: unknown;
      let args: unknown;
      try {
        ({ name, args } = JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        return sendJson(res, host, 400, { ok: false, error: 'bad JSON' });
      }
      if (args === undefined) args = [];
      if (typeof name !== 'string' || !Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
        return sendJson(res, host, 400, { ok: false, error: 'expected {"name": string, "args": string[]}' });
      }
      const what = [name, ...(args as string[])].join(' ');
      note(`fault: ${what}`, 'W');
      try {
        await device.faults.run(name, args as string[]);
        sendJson(res, host, 200, { ok: true });
      } catch (e) {
        const msg = (e as Error).message;
        note(`fault ${what} failed: ${msg}`, 'E');
        sendJson(res, host, e instanceof FaultError ? 404 : 500, { ok: false, error: msg });
      }
    });
  };

  const server = http.createServer((req, res) => {
    const host = hostOk(req);
    if (!host) return plain(res, 403, 'unknown Host\n');
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const pathname = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    if (req.method === 'POST') {
      if (pathname === '/api/fault') return runFault(req, res, host);
      return plain(res, 404, 'not found\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'method not allowed\n');
    switch (pathname) {
      case '/api/info':
        return sendJson(res, host, 200, {
          token,
          faults: faultList(),
          clientLines,
          historyLines: history.capacity,
          firstSeq: history.firstSeq,
          lastSeq: history.lastSeq,
          device: { name: device.profile.name, bsp: device.profile.bsp, version: device.profile.version },
        });
      case '/api/status':
        return sendJson(res, host, 200, { s: getStatus(), video: getVideo(), now: Date.now() });
      case '/api/log':
        return downloadLog(res, host);
      case '/vendor/mpegts.js':
        if (!MPEGTS_FILE) return plain(res, 404, 'mpegts.js is not installed (npm install mpegts.js)\n');
        return serveFile(req, res, host, MPEGTS_FILE, 'text/javascript; charset=utf-8');
    }
    const r = resolveStatic(staticDir, pathname);
    if (!r.ok) return plain(res, r.status, r.status === 400 ? 'bad request\n' : 'not found\n');
    serveFile(req, res, host, r.file, r.type);
  });

  // ---- WebSockets
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const refuse = (code: number, text: string) => {
      socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length + 1}\r\n\r\n${text}\n`);
      socket.destroy();
    };
    socket.on('error', () => {});
    const host = hostOk(req);
    if (!host) return refuse(403, 'Forbidden');
    if (!originOk(req, host)) return refuse(403, 'Forbidden');
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname !== '/ws' && u.pathname !== '/video') return refuse(404, 'Not Found');
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (u.pathname === '/video') return onVideo(ws);
      onLogClient(ws, u.searchParams.get('session') === session ? Number(u.searchParams.get('since') ?? '0') || 0 : 0);
    });
  });

  const onLogClient = (ws: WebSocket, since: number) => {
    const c: LogClient = { ws, missed: 0 };
    flush(); // lines pending so far reach the others first; this page gets them from history
    logClients.add(c);
    ws.on('close', () => logClients.delete(c));
    ws.on('error', () => logClients.delete(c));
    ws.on('message', () => {}); // the page does not talk on this socket
    ws.send(
      JSON.stringify({
        t: 'hello',
        session,
        faults: faultList(),
        clientLines,
        historyLines: history.capacity,
        firstSeq: history.firstSeq,
        lastSeq: history.lastSeq,
        device: { name: device.profile.name, bsp: device.profile.bsp, version: device.profile.version },
        gap: since > 0 && since < history.firstSeq - 1 ? history.firstSeq - 1 - since : 0,
      }),
    );
    const entries = history.since(since);
    for (let i = 0; i < entries.length; i += HISTORY_CHUNK) {
      ws.send(JSON.stringify({ t: 'log', history: true, lines: entries.slice(i, i + HISTORY_CHUNK).map(toWire) }));
    }
    ws.send(JSON.stringify({ t: 'status', s: getStatus(), video: getVideo(), now: Date.now() }));
  };

  const onVideo = (ws: WebSocket) => {
    ws.on('message', () => {});
    const url = getVideo();
    if (!url) {
      ws.close(VIDEO_CLOSE.NO_STREAM, 'no stream yet');
      return;
    }
    const relay = relayVideo(ws, url);
    relays.add(relay);
    ws.on('close', () => relays.delete(relay));
  };

  // ---- listen
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, bindHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${hostForUrl(bindHost).toLowerCase()}:${port}`]);
  const url = `http://${hostForUrl(bindHost)}:${port}/`;
  if (!loopback) {
    const w =
      `warning: the web console listens on ${bindHost}:${port}, not only on loopback: anyone who can reach this ` +
      'address can read the device log, watch the video and inject faults. Use --web-host 127.0.0.1 unless you mean it.';
    warnings.push(w);
    if (opts.onWarning) opts.onWarning(w);
    else process.stderr.write(w + '\n');
  }

  let closed = false;
  return {
    url,
    host: bindHost,
    port,
    warnings,
    history,
    get clients() {
      return logClients.size;
    },
    async close() {
      if (closed) return;
      closed = true;
      unsubscribeLog();
      device.off('boot', onBoot);
      device.off('stopped', onStopped);
      clearInterval(statusTimer);
      if (batchTimer) clearTimeout(batchTimer);
      batchTimer = null;
      pending = [];
      for (const r of relays) r.close();
      for (const c of logClients) c.ws.terminate();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
