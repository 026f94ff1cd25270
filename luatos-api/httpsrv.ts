/**
 * httpsrv (luatos-api-2.md §7): the device-side HTTP server, reachable from the PC on
 * 127.0.0.1 (runtime/net/listen.ts prints the port).
 *
 * - `httpsrv.start(port, fn, adapter = dft)` → true, false (the port cannot be bound), or
 *   nothing: adapter not a registered lwIP netif, more than 16 servers, or a duplicate
 *   (port, adapter) pair (each with a W line naming why; the firmware is silent).
 * - `httpsrv.stop(port, nil, adapter)` → bool; `httpsrv.debug(on)` → the current flag.
 * - Static files first, for any method: `/` → `/index.html`; URIs with `..` or over 200 chars
 *   are not served statically; lookup `/luadb<uri>` then `<uri>`; a non-empty file gets
 *   `HTTP/1.0 200 OK`, Content-Length, `X-Powered-By: LuatOS`, a Content-Type by suffix, and
 *   `Content-Disposition: attachment; filename="…"` unless html/htm/css/js.
 * - Otherwise `fn(client, method, uri, headers, body)` (uri raw with the query, header names
 *   in their original case in a table without a JS prototype, body a string) returns
 *   `code, headers, body`: no code → 404, code < 100 → 200, a code outside {200, 301, 302, 400,
 *   401, 403, 404, 500} is sent as `200 Ok`. Response `HTTP/1.0 <code> <msg>`, Content-Length,
 *   `Connection: close`, the script's headers, body; then the connection closes.
 * - Limits (hostile clients): URL ≤ 1024 bytes, header block ≤ 4096 bytes (else 400 and
 *   close), body ≤ BODY_MAX; a client that sends nothing complete in 10 s is dropped.
 *
 * The request parser and response writer are our own (not node:http) because the firmware's
 * wire format is HTTP/1.0 with these exact limits and status texts, which node:http does not
 * produce.
 */
import * as net from 'node:net';
import { LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, LUA_TFUNCTION, LUA_TBOOLEAN, type LuaState } from '../runtime/core/engine/types';
import type { Args } from '../runtime/core/vm/lua-value';
import { listenOnHost, ListenHandle } from '../runtime/net/listen';
import { ADAPTER_QTY } from '../runtime/net/adapters';
import { wifiOf } from './shared/net-events';
import type { Vm } from '../runtime/core/vm/vm';

const MAX_SERVERS = 16;
const URL_MAX = 1024;
const HEADER_MAX = 4096;
/** largest request body we buffer (our bound; the device's RAM bounds it there) */
export const BODY_MAX = 256 * 1024;
const IDLE_MS = 10000;

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  301: 'Moved Permanently',
  302: 'Found',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  500: 'Internal Server Error',
};

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html',
  txt: 'text/plain',
  xml: 'text/xml',
  jpg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  json: 'application/json',
  js: 'application/javascript',
  css: 'text/css',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  webm: 'video/webm',
  mp4: 'video/mp4',
  bin: 'application/octet-stream',
};

export interface HttpRequest {
  method: string;
  uri: string;
  /** [name, value] in arrival order, names in their original case */
  headers: [string, string][];
  body: Buffer;
}

/** Parse one request from `buf`: the request, 'more' (incomplete) or an error text. */
export function parseRequest(buf: Buffer): HttpRequest | 'more' | { error: string } {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) {
    if (buf.length > URL_MAX + HEADER_MAX) return { error: 'header too large' };
    return 'more';
  }
  const head = buf.subarray(0, end).toString('latin1');
  const lines = head.split('\r\n');
  const m = /^([A-Z]{1,16}) (\S+) HTTP\/1\.[01]$/.exec(lines[0]);
  if (!m) return { error: 'bad request line' };
  if (m[2].length > URL_MAX) return { error: 'url too long' };
  if (end - lines[0].length > HEADER_MAX) return { error: 'header too large' };
  const headers: [string, string][] = [];
  let len = 0;
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i <= 0) return { error: 'bad header line' };
    const k = l.slice(0, i).trim();
    const v = l.slice(i + 1).trim();
    headers.push([k, v]);
    if (k.toLowerCase() === 'content-length') {
      if (!/^\d{1,9}$/.test(v)) return { error: 'bad content-length' };
      len = Number(v);
    }
  }
  if (len > BODY_MAX) return { error: 'body too large' };
  if (buf.length < end + 4 + len) return 'more';
  return { method: m[1], uri: m[2], headers, body: Buffer.from(buf.subarray(end + 4, end + 4 + len)) };
}

function response(code: number, headers: [string, string][], body: Buffer): Buffer {
  const text = STATUS_TEXT[code];
  const status = text ? `${code} ${text}` : '200 Ok';
  const lines = [`HTTP/1.0 ${status}`, `Content-Length: ${body.length}`, 'Connection: close', ...headers.map(([k, v]) => `${k}: ${v}`)];
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body]);
}

interface Server {
  port: number;
  adapter: number;
  ref: number;
  handle: ListenHandle;
  clients: Set<net.Socket>;
}

/** One VM's httpsrv: its servers, the debug switch, the client counter. */
interface HttpsrvCtx {
  vm: Vm;
  e: Vm['e'];
  servers: Server[];
  debug: boolean;
  clientSeq: number;
}

function stopServer(ctx: HttpsrvCtx, s: Server): void {
  s.handle.close();
  for (const c of s.clients) c.destroy();
  s.clients.clear();
  const i = ctx.servers.indexOf(s);
  if (i >= 0) ctx.servers.splice(i, 1);
}

/** a file for the URI from /luadb or the file system (no `..`, URIs up to 200 bytes), else null */
function staticFile(vm: Vm, uri: string): { data: Buffer; name: string } | null {
  let path = uri.split('?')[0];
  if (path.includes('..') || uri.length > 200) return null;
  if (path === '/') path = '/index.html';
  for (const p of [`/luadb${path}`, path]) {
    let data: Buffer | null;
    try {
      data = vm.vfs.readFile(p);
    } catch {
      data = null;
    }
    if (data && data.length > 0) return { data, name: path.slice(path.lastIndexOf('/') + 1) };
  }
  return null;
}

function serveStatic(f: { data: Buffer; name: string }): Buffer {
  const dot = f.name.lastIndexOf('.');
  const ext = dot >= 0 ? f.name.slice(dot + 1).toLowerCase() : '';
  const headers: [string, string][] = [
    ['Content-Type', CONTENT_TYPES[ext === 'htm' ? 'html' : ext] ?? 'application/octet-stream'],
    ['X-Powered-By', 'LuatOS'],
  ];
  if (!['html', 'htm', 'css', 'js'].includes(ext)) headers.push(['Content-Disposition', `attachment; filename="${f.name}"`]);
  return response(200, headers, f.data);
}

/** the response from the handler's results at top+1..top+3 (code, headers, body) */
function handlerResponse(e: Vm['e'], L: LuaState, top: number): Buffer {
  let code = 404;
  if (e.type(L, top + 1) === LUA_TNUMBER) {
    code = e.tointeger(L, top + 1) ?? 404;
    if (code < 100) code = 200;
  }
  const headers: [string, string][] = [];
  if (e.type(L, top + 2) === LUA_TTABLE) {
    e.pushnil(L);
    while (e.next(L, top + 2)) {
      if (e.type(L, -2) === LUA_TSTRING && (e.type(L, -1) === LUA_TSTRING || e.type(L, -1) === LUA_TNUMBER)) {
        const k = Buffer.from(e.tobytes(L, -2) as Uint8Array).toString('latin1');
        const v = Buffer.from(e.tobytes(L, -1) as Uint8Array).toString('latin1');
        if (!/[\r\n]/.test(k + v)) headers.push([k, v]);
      }
      e.pop(L, 1);
    }
  }
  const bt = e.type(L, top + 3);
  const body = bt === LUA_TSTRING || bt === LUA_TNUMBER ? Buffer.from(e.tobytes(L, top + 3) as Uint8Array) : Buffer.alloc(0);
  return response(code, headers, body);
}

/** run the Lua handler inside the VM; `reply` gets the response bytes */
function callHandler(ctx: HttpsrvCtx, srv: Server, client: number, req: HttpRequest, reply: (b: Buffer) => void): void {
  const { vm, e } = ctx;
  vm.post((L) => {
    if (!ctx.servers.includes(srv)) {
      reply(response(404, [], Buffer.alloc(0)));
      return 0;
    }
    const top = e.gettop(L);
    e.rawgeti(L, e.REGISTRYINDEX, srv.ref);
    e.pushinteger(L, client);
    e.pushstring(L, req.method);
    e.pushbytes(L, Buffer.from(req.uri, 'latin1'));
    e.createtable(L, 0, req.headers.length);
    for (const [k, v] of req.headers) {
      e.pushbytes(L, Buffer.from(v, 'latin1'));
      e.setfield(L, -2, k);
    }
    e.pushbytes(L, req.body);
    // unprotected, as the firmware's lua_call: a Lua error in the handler ends the VM
    e.call(L, 5, 3);
    const res = handlerResponse(e, L, top);
    e.settop(L, top);
    reply(res);
    return 0;
  });
}

/** a connection: one request (a static file, else the Lua handler), one response, closed */
function onClient(ctx: HttpsrvCtx, srv: Server, s: net.Socket): void {
  const { vm } = ctx;
  srv.clients.add(s);
  s.on('error', () => undefined);
  s.on('close', () => srv.clients.delete(s));
  s.setTimeout(IDLE_MS, () => s.destroy());
  let buf = Buffer.alloc(0);
  let done = false;
  s.on('data', (d: Buffer) => {
    if (done) return;
    buf = Buffer.concat([buf, d]);
    const r = parseRequest(buf);
    if (r === 'more') return;
    done = true;
    const reply = (b: Buffer) => {
      if (!s.destroyed) s.end(b);
    };
    if ('error' in r) {
      if (ctx.debug) vm.log('D', 'httpsrv', `bad request: ${r.error}`);
      reply(response(400, [], Buffer.alloc(0)));
      return;
    }
    if (ctx.debug) vm.log('D', 'httpsrv', `${r.method} ${r.uri.slice(0, 200)}`);
    const f = staticFile(vm, r.uri);
    if (f) return reply(serveStatic(f));
    callHandler(ctx, srv, ++ctx.clientSeq, r, reply);
  });
}

/** httpsrv.start(port, handler, adapter?) */
function start(ctx: HttpsrvCtx, a: Args): number {
  const { vm, e, servers } = ctx;
  const port = a.integer(1);
  if (a.type(2) !== LUA_TFUNCTION) return a.typeError(2, 'function');
  const m = wifiOf(vm);
  const adapter = a.optInteger(3, m.defaultAdapter());
  if (adapter < 0 || adapter >= ADAPTER_QTY || !m.isRegistered(adapter)) {
    vm.log('W', 'httpsrv', `adapter ${adapter} is not an lwIP network interface, server not started`);
    return 0;
  }
  if (servers.length >= MAX_SERVERS) {
    vm.log('W', 'httpsrv', `too many servers (${MAX_SERVERS})`);
    return 0;
  }
  if (servers.some((s) => s.port === port && s.adapter === adapter)) {
    vm.log('W', 'httpsrv', `port ${port} on adapter ${adapter} is already served`);
    return 0;
  }
  let handle: ListenHandle;
  const srv = { port, adapter, ref: 0, clients: new Set<net.Socket>() } as Server;
  try {
    handle = listenOnHost(vm.device.net, port, adapter, (s) => onClient(ctx, srv, s), (msg) => vm.log('I', 'httpsrv', msg));
  } catch (err) {
    vm.log('E', 'httpsrv', (err as Error).message);
    e.pushboolean(a.L, false);
    return 1;
  }
  srv.handle = handle;
  e.pushvalue(a.L, 2);
  srv.ref = e.ref(a.L, e.REGISTRYINDEX);
  servers.push(srv);
  handle.ready.catch((err: Error) => {
    vm.log('E', 'httpsrv', `port ${port}: ${err.message}`);
    stopServer(ctx, srv);
  });
  e.pushboolean(a.L, true);
  return 1;
}

export function openHttpsrv(vm: Vm): void {
  const { e } = vm;
  const ctx: HttpsrvCtx = { vm, e, servers: [], debug: false, clientSeq: 0 };
  vm.onClose(() => {
    for (const s of [...ctx.servers]) stopServer(ctx, s);
  });
  vm.defineModule('httpsrv', {
    start: (a) => start(ctx, a),
    stop: (a) => {
      const port = a.integer(1);
      const adapter = a.optInteger(3, wifiOf(vm).defaultAdapter());
      const s = ctx.servers.find((x) => x.port === port && x.adapter === adapter);
      if (s) {
        stopServer(ctx, s);
        e.unref(a.L, e.REGISTRYINDEX, s.ref);
      }
      e.pushboolean(a.L, !!s);
      return 1;
    },
    debug: (a) => {
      if (a.type(1) === LUA_TBOOLEAN) ctx.debug = a.boolean(1);
      e.pushboolean(a.L, ctx.debug);
      return 1;
    },
  });
}

/** the host port a started server is reachable on (tests) */
export type { ListenHandle };
