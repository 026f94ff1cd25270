/**
 * The web console's Host/Origin rules (runtime/host/web/server.ts) applied to the ingest's HTTP-FLV /
 * WS-FLV port (node-media-server's HTTP server, run by nms-child.ts).
 *
 * node-media-server answers any Host and any Origin and adds `Access-Control-Allow-Origin: *`
 * (its `cors()` middleware), so any web page the user opens could read the live video (a real
 * webcam with `--camera v4l2`), directly or through DNS rebinding. The console never needs that:
 * it relays the video server-side (runtime/host/web/video-proxy.ts, no Origin header). So:
 * - on a loopback bind the Host header must name the ingest itself (127.0.0.1/localhost/[::1]
 *   with its port), which defeats DNS rebinding; on another bind it must at least be well formed;
 * - a request or WebSocket upgrade carrying an Origin is refused unless the Origin is the
 *   ingest's own (`http://<Host>`), as the console does;
 * - no `Access-Control-*` header is ever sent (no cross-origin reads);
 * refused requests get `403 Forbidden` and are never seen by node-media-server.
 */
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { isLoopbackHost } from '../web/server';

const HOST_HEADER_RE = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Whether a request to an ingest bound to `bindHost:port` may be served. */
export function ingestRequestAllowed(headers: http.IncomingHttpHeaders, bindHost: string, port: number): boolean {
  const h = headers.host;
  if (typeof h !== 'string' || !HOST_HEADER_RE.test(h)) return false;
  if (isLoopbackHost(bindHost)) {
    const allowed = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${hostForUrl(bindHost).toLowerCase()}:${port}`];
    if (!allowed.includes(h.toLowerCase())) return false;
  }
  const origin = headers.origin;
  if (origin !== undefined && origin !== `http://${h}`) return false;
  return true;
}

const isCors = (name: unknown): boolean => typeof name === 'string' && name.toLowerCase().startsWith('access-control-');

/** Make `res` drop every Access-Control-* header, however it is set. */
function stripCors(res: http.ServerResponse): void {
  const setHeader = res.setHeader.bind(res);
  res.setHeader = ((name: string, value: number | string | readonly string[]) => (isCors(name) ? res : setHeader(name, value))) as typeof res.setHeader;
  const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => http.ServerResponse;
  res.writeHead = ((...args: unknown[]) => {
    for (let i = 1; i < args.length; i++) {
      const a = args[i];
      if (Array.isArray(a)) {
        // flat [name, value, name, value, ...] or [[name, value], ...]
        if (a.length && Array.isArray(a[0])) args[i] = a.filter((p) => !isCors((p as unknown[])[0]));
        else {
          const out: unknown[] = [];
          for (let k = 0; k + 1 < a.length; k += 2) if (!isCors(a[k])) out.push(a[k], a[k + 1]);
          args[i] = out;
        }
      } else if (a && typeof a === 'object') {
        const out: Record<string, unknown> = Object.create(null);
        for (const [k, v] of Object.entries(a)) if (!isCors(k)) out[k] = v;
        args[i] = out;
      }
    }
    return writeHead(...args);
  }) as typeof res.writeHead;
}

/**
 * Put the rules in front of every 'request' and 'upgrade' listener already on `server` (call it
 * after node-media-server created its server and WebSocket server, before it listens).
 */
export function guardIngestHttp(server: http.Server, bindHost: string, port: number): void {
  const onRequest = server.listeners('request') as Array<(req: http.IncomingMessage, res: http.ServerResponse) => void>;
  const onUpgrade = server.listeners('upgrade') as Array<(req: http.IncomingMessage, socket: Duplex, head: Buffer) => void>;
  server.removeAllListeners('request');
  server.removeAllListeners('upgrade');
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!ingestRequestAllowed(req.headers, bindHost, port)) {
      res.writeHead(403, { 'Content-Type': 'text/plain', 'Content-Length': 10, Connection: 'close' });
      res.end('Forbidden\n');
      return;
    }
    stripCors(res);
    for (const l of onRequest) l.call(server, req, res);
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!ingestRequestAllowed(req.headers, bindHost, port)) {
      socket.on('error', () => {});
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nForbidden\n');
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    for (const l of onUpgrade) l.call(server, req, socket, head);
  });
}
