/**
 * The device API of the local video platform: `POST` (and `GET`)
 * `/api-system/deviceVideo/get/<deviceId>` with the JSON body the demo sends,
 * `{"deviceAccess":"8","deviceUser":"admin","devicePsd":"Air123456"}`.
 *
 * Success (as in the reference device log, same key order, no spaces, UTF-8 unescaped):
 *   `{"msg":"操作成功","code":200,"data":{"urlList":["rtmp://…"],"deviceId":"…","deviceChannels":1}}`
 *
 * Errors. The public docs show only the success answer. `/api-system/`, `msg`/`code`/`data` in
 * this order and `操作成功` are the marks of a RuoYi (Spring) back end, whose `AjaxResult.error`
 * answers **HTTP 200** with `{"msg":"…","code":500}`; we do the same (choice, not observed):
 *  - body not JSON / not an object / a field missing or not a string → `请求参数格式错误…`;
 *  - device unknown to the platform (config) → `设备不存在`;
 *  - wrong deviceUser or devicePsd → `设备用户名或密码错误`;
 *  - deviceAccess not the configured one → `设备接入方式不匹配`;
 *  - a method other than GET/POST → `请求方式'PUT'不支持` (RuoYi's text);
 *  - body over 64 KiB → `请求体过大` (and the connection is closed).
 * An unknown path answers HTTP 404 with `{"msg":"请求地址'/x'不存在","code":404}`.
 * A GET may carry the JSON body too; without a body its query string (`?deviceUser=…&devicePsd=…
 * &deviceAccess=…`) is used.
 *
 * `http fail` faults (http-faults.ts) are applied before any of this.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { checkPlatformConfig, expandUrl, resolveDevice, type PlatformConfig } from './config';
import { HttpFaults, describeMode, hostOnly, type HttpFailMode } from './http-faults';

export const API_PREFIX = '/api-system/deviceVideo/get/';
const MAX_BODY = 64 * 1024;
/** a `timeout` fault holds a request at most this long (bounded), then drops the connection */
const MAX_HOLD_MS = 10 * 60 * 1000;

export interface ApiRequestInfo {
  t: number;
  scheme: 'http' | 'https';
  method: string;
  path: string;
  host: string;
  deviceId?: string;
  /** HTTP status sent, or 'reset' / 'timeout' for injected faults */
  status: number | 'reset' | 'timeout';
  /** `code` of the JSON answer, when there is one */
  code?: number;
  msg?: string;
  /** true when an `http fail` fault answered */
  fault: boolean;
}

export interface DeviceApiOptions {
  config?: PlatformConfig;
  /** host and port written into `{rtmp}` of URL templates */
  rtmpBase: () => { host: string; port: number };
  faults?: HttpFaults;
  onRequest?: (info: ApiRequestInfo) => void;
}

export interface ApiAnswer {
  httpStatus: number;
  body: string;
  code: number;
  msg: string;
  deviceId?: string;
}

function json(o: unknown): string {
  return JSON.stringify(o);
}

export function errorBody(msg: string, code = 500): string {
  return json({ msg, code });
}

/** The platform's answer to one request (pure: no I/O). */
export function answerDeviceApi(
  cfg: PlatformConfig,
  rtmpBase: { host: string; port: number },
  method: string,
  rawPath: string,
  body: Buffer,
): ApiAnswer {
  const err = (msg: string, code = 500, httpStatus = 200, deviceId?: string): ApiAnswer => ({ httpStatus, body: errorBody(msg, code), code, msg, deviceId });
  const qi = rawPath.indexOf('?');
  const pathname = qi >= 0 ? rawPath.slice(0, qi) : rawPath;
  const query = new URLSearchParams(qi >= 0 ? rawPath.slice(qi + 1) : '');
  if (!pathname.startsWith(API_PREFIX) || pathname.length === API_PREFIX.length || pathname.indexOf('/', API_PREFIX.length) >= 0) {
    return err(`请求地址'${pathname}'不存在`, 404, 404);
  }
  let deviceId: string;
  try {
    deviceId = decodeURIComponent(pathname.slice(API_PREFIX.length));
  } catch {
    return err(`请求地址'${pathname}'不存在`, 404, 404);
  }
  if (method !== 'POST' && method !== 'GET') return err(`请求方式'${method}'不支持`, 500, 200, deviceId);

  let params: Record<string, unknown>;
  const text = body.toString('utf8').trim();
  if (text === '' && method === 'GET') {
    params = Object.assign(Object.create(null), Object.fromEntries(query.entries()));
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return err('请求参数格式错误: 请求体不是有效的JSON', 500, 200, deviceId);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return err('请求参数格式错误: 请求体必须是JSON对象', 500, 200, deviceId);
    // a prototype-less copy: only the body's own keys count (`{"__proto__": ...}` is just a key)
    params = Object.assign(Object.create(null), parsed) as Record<string, unknown>;
  }
  for (const f of ['deviceAccess', 'deviceUser', 'devicePsd']) {
    const v = params[f];
    if (v === undefined || v === null) return err(`请求参数格式错误: 缺少参数 ${f}`, 500, 200, deviceId);
    if (typeof v !== 'string' && !(f === 'deviceAccess' && typeof v === 'number')) return err(`请求参数格式错误: 参数 ${f} 必须是字符串`, 500, 200, deviceId);
  }
  const dev = resolveDevice(cfg, deviceId);
  if (!dev) return err('设备不存在', 500, 200, deviceId);
  if (params.deviceUser !== dev.credentials.deviceUser || params.devicePsd !== dev.credentials.devicePsd) return err('设备用户名或密码错误', 500, 200, deviceId);
  if (dev.credentials.deviceAccess !== null && String(params.deviceAccess) !== dev.credentials.deviceAccess) return err('设备接入方式不匹配', 500, 200, deviceId);
  const urlList = dev.urlTemplates.map((t) => expandUrl(t, { ...rtmpBase, deviceId, platformDeviceId: dev.platformDeviceId }));
  const out = { msg: '操作成功', code: 200, data: { urlList, deviceId: dev.platformDeviceId, deviceChannels: dev.deviceChannels } };
  return { httpStatus: 200, body: json(out), code: 200, msg: '操作成功', deviceId };
}

/** Reset (RST) the TCP connection under a plain or TLS socket. */
function resetSocket(s: net.Socket): void {
  // A TLS socket has no TCP handle of its own: reset the TCP socket under it, and destroy the
  // TLS socket only once that one has closed (destroying both at once leaves a freed parser in
  // the HTTP server's connection list on Node 20, and server.close() then throws).
  const raw = (s as unknown as { _parent?: net.Socket | null })._parent ?? s;
  if (raw !== s) raw.once('close', () => s.destroy());
  try {
    raw.resetAndDestroy();
  } catch {
    s.destroy();
  }
}

/** HTTP and HTTPS servers answering the device API. */
export class DeviceApiService {
  readonly faults: HttpFaults;
  private cfg: PlatformConfig;
  private readonly servers: (http.Server | https.Server)[] = [];
  private readonly held = new Set<{ res: http.ServerResponse; timer: NodeJS.Timeout }>();
  /** every TCP connection (under TLS too), so that close() can always cut them */
  private readonly sockets = new Set<net.Socket>();
  private closed = false;

  constructor(private readonly opts: DeviceApiOptions) {
    this.cfg = checkPlatformConfig(opts.config ?? {});
    this.faults = opts.faults ?? new HttpFaults();
  }

  get config(): PlatformConfig {
    return this.cfg;
  }

  /** Replace the device config (takes effect for the next request). */
  setConfig(cfg: PlatformConfig): void {
    this.cfg = checkPlatformConfig(cfg);
  }

  /** Start an HTTP (no tls) or HTTPS server on host:port (0 = a free port); resolves with the port. */
  listen(host: string, port: number, tls?: { cert: string; key: string }): Promise<number> {
    const scheme = tls ? 'https' : 'http';
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(scheme, req, res);
    const srv = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
    srv.on('connection', (sock: net.Socket) => {
      this.sockets.add(sock);
      sock.once('close', () => this.sockets.delete(sock));
    });
    srv.keepAliveTimeout = 5000;
    srv.requestTimeout = 30_000;
    srv.headersTimeout = 20_000;
    this.servers.push(srv);
    return new Promise((resolve, reject) => {
      const onErr = (e: Error) => reject(e);
      srv.once('error', onErr);
      srv.listen(port, host, () => {
        srv.off('error', onErr);
        srv.on('error', () => {
          /* after listening: per-connection errors only */
        });
        resolve((srv.address() as net.AddressInfo).port);
      });
    });
  }

  private handle(scheme: 'http' | 'https', req: http.IncomingMessage, res: http.ServerResponse): void {
    const info: ApiRequestInfo = {
      t: Date.now(),
      scheme,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      host: hostOnly(req.headers.host ?? ''),
      status: 200,
      fault: false,
    };
    const pathOnly = info.path.split('?')[0];
    if (pathOnly.startsWith(API_PREFIX)) {
      try {
        info.deviceId = decodeURIComponent(pathOnly.slice(API_PREFIX.length));
      } catch {
        /* reported as 404 below */
      }
    }
    req.on('error', () => {});
    res.on('error', () => {});
    const fault = this.faults.take(req.headers.host);
    if (fault) {
      info.fault = true;
      this.applyFault(fault, req, res, info);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (d: Buffer) => {
      if (tooBig) return;
      size += d.length;
      if (size > MAX_BODY) {
        tooBig = true;
        const body = errorBody('请求体过大');
        info.code = 500;
        info.msg = '请求体过大';
        res.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
        res.end(body, () => req.socket.destroy());
        this.report(info);
        return;
      }
      chunks.push(d);
    });
    req.on('end', () => {
      if (tooBig) return;
      const a = answerDeviceApi(this.cfg, this.opts.rtmpBase(), info.method, info.path, Buffer.concat(chunks));
      info.status = a.httpStatus;
      info.code = a.code;
      info.msg = a.msg;
      res.writeHead(a.httpStatus, { 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': Buffer.byteLength(a.body) });
      res.end(a.body);
      this.report(info);
    });
  }

  private applyFault(f: HttpFailMode, req: http.IncomingMessage, res: http.ServerResponse, info: ApiRequestInfo): void {
    if (f.kind === 'reset') {
      info.status = 'reset';
      this.report(info);
      resetSocket(req.socket);
      return;
    }
    if (f.kind === 'timeout') {
      info.status = 'timeout';
      this.report(info);
      req.resume();
      const h = {
        res,
        timer: setTimeout(() => {
          this.held.delete(h);
          req.socket.destroy();
        }, MAX_HOLD_MS),
      };
      h.timer.unref();
      this.held.add(h);
      res.once('close', () => {
        clearTimeout(h.timer);
        this.held.delete(h);
      });
      return;
    }
    const reason = http.STATUS_CODES[f.status] ?? 'Error';
    const body = errorBody(reason, f.status);
    info.status = f.status;
    info.code = f.status;
    info.msg = `${reason} (http fail ${describeMode(f)})`;
    req.resume();
    req.on('end', () => {
      res.writeHead(f.status, { 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      this.report(info);
    });
  }

  private report(info: ApiRequestInfo): void {
    try {
      this.opts.onRequest?.(info);
    } catch {
      /* a listener's problem is not the platform's */
    }
  }

  /** Close the servers and every connection (also held ones). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.held) {
      clearTimeout(h.timer);
      h.res.socket?.destroy();
    }
    this.held.clear();
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (!s.listening) return resolve();
            try {
              s.close(() => resolve());
              s.closeAllConnections();
            } catch {
              // Node's connection bookkeeping is off: close the listening socket itself
              net.Server.prototype.close.call(s, () => resolve());
            }
          }),
      ),
    );
  }
}
