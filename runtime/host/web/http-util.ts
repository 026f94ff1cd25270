/**
 * The web console's HTTP plumbing: the security checks (Host header against the console's own
 * names on a loopback bind, Origin, the POST guard: Origin + per-run token + JSON content type),
 * the security headers, the responses (JSON, plain text, a file) and a bounded JSON body reader.
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  if (/^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  return false;
}

/** The bind address as a URL's host (a wildcard bind: 127.0.0.1). */
export function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** mpegts.js for the page's player (`/vendor/mpegts.js`), null when it is not installed */
export const MPEGTS_FILE = ((): string | null => {
  try {
    return require.resolve('mpegts.js/dist/mpegts.js');
  } catch {
    return null;
  }
})();

const HOST_HEADER_RE = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * The Host and Origin checks of one console. On a loopback bind the Host header must name the
 * console (127.0.0.1/localhost/[::1]:PORT, known once it listens), which defeats DNS rebinding.
 */
export class RequestChecks {
  private allowedHosts = new Set<string>();

  constructor(
    private readonly loopback: boolean,
    /** the per-run token POSTs carry in X-Console-Token */
    readonly token: string,
  ) {}

  /** The names the console answers to, once its port is known. */
  listening(bindHost: string, port: number): void {
    this.allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${hostForUrl(bindHost).toLowerCase()}:${port}`]);
  }

  /** The request's Host header when it is acceptable, else null. */
  host(req: http.IncomingMessage): string | null {
    const h = req.headers.host;
    if (!h || !HOST_HEADER_RE.test(h)) return null;
    if (this.loopback && !this.allowedHosts.has(h.toLowerCase())) return null;
    return h;
  }

  origin(req: http.IncomingMessage, host: string): boolean {
    return req.headers.origin === `http://${host}`;
  }

  /** A POST's Origin, token and content type: the refusal (status, error) or null when fine. */
  postRefusal(req: http.IncomingMessage, host: string): [number, string] | null {
    if (!this.origin(req, host)) return [403, 'cross-origin request refused'];
    if (req.headers['x-console-token'] !== this.token) return [403, 'missing or wrong console token'];
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return [415, 'JSON body expected'];
    return null;
  }
}

export function securityHeaders(hostHeader: string): Record<string, string> {
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

export function send(res: http.ServerResponse, host: string, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...securityHeaders(host), 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...extra });
  res.end(body);
}

export function sendJson(res: http.ServerResponse, host: string, status: number, o: unknown): void {
  send(res, host, status, 'application/json; charset=utf-8', JSON.stringify(o));
}

export function plain(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}

export function serveFile(req: http.IncomingMessage, res: http.ServerResponse, host: string, file: string, type: string): void {
  fs.readFile(file, (err, data) => {
    if (err) return plain(res, 404, 'not found\n');
    res.writeHead(200, { ...securityHeaders(host), 'Content-Type': type, 'Content-Length': data.length, 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : data);
  });
}

/**
 * The request body, at most `limit` bytes (413 beyond), parsed as JSON (400 when it is not);
 * `then` gets the value.
 */
export function readJsonBody(req: http.IncomingMessage, res: http.ServerResponse, host: string, limit: number, then: (o: unknown) => void | Promise<void>): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  req.on('data', (d: Buffer) => {
    size += d.length;
    if (size > limit) tooBig = true;
    else chunks.push(d);
  });
  req.on('end', async () => {
    if (tooBig) return sendJson(res, host, 413, { ok: false, error: 'body too large' });
    let o: unknown;
    try {
      o = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return sendJson(res, host, 400, { ok: false, error: 'bad JSON' });
    }
    await then(o);
  });
}
