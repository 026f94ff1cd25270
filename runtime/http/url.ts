/**
 * URL splitting and request-head building as the firmware's http client does them
 * (luatos-api.md §7). The rules are the device's, not WHATWG's:
 *
 * - only `http://` and `https://` (case-sensitive); the rest after the scheme must be at least
 *   5 bytes ("url too short");
 * - the host part runs to the first `/` (at most 255 bytes); the path is the rest, or `/`. A
 *   `?query` without a path stays in the host part, as on the device (it then fails to resolve);
 * - `user:pass@` in the host part becomes an `Authorization: Basic` line;
 * - `host:port` (the port read like C `atoi`, kept to 16 bits; 0 or missing means 80/443);
 *   `[v6]:port` for IPv6 literals.
 *
 * The request head: `METHOD path HTTP/1.1`, `Connection: Close` (unless a user header name
 * starts with "Connection", any case), `Host: host:port` with the port always present (unless a
 * user header is named exactly `Host` or `host`), the Authorization line, then the user
 * headers in table order as `Name:value` (the firmware's format, no space), then
 * `Content-Length:N` when there is a body, and the blank line. A user `Content-Length` is
 * dropped (any case: the device compares exactly, which would send two conflicting lengths).
 */

export interface FirmwareUrl {
  tls: boolean;
  /** host as written (IPv6 without brackets) */
  host: string;
  port: number;
  /** path and query, starting with `/` */
  path: string;
  /** `user:pass` from the URL, or null */
  auth: string | null;
}

export class UrlError extends Error {}

function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  const n = parseInt(m[1], 10);
  return Number.isFinite(n) ? n : 0;
}

/**
 * Split a URL the way the firmware does; throws UrlError with the firmware's log text.
 * `url` is the Lua string's bytes as latin1 (one char per byte), so lengths are byte counts.
 */
export function parseFirmwareUrl(url: string): FirmwareUrl {
  let rest: string;
  let tls: boolean;
  if (url.startsWith('https://')) {
    tls = true;
    rest = url.slice(8);
  } else if (url.startsWith('http://')) {
    tls = false;
    rest = url.slice(7);
  } else {
    throw new UrlError(`only http/https supported ${url}`);
  }
  if (rest.length < 5) throw new UrlError(`url too short ${url}`);
  const slash = rest.indexOf('/');
  let hostPart = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '/' : rest.slice(slash) || '/';
  if (hostPart.length > 255) throw new UrlError(`host too long ${url}`);
  if (hostPart.length < 1) throw new UrlError(`host not found ${url}`);
  let auth: string | null = null;
  const at = hostPart.indexOf('@');
  if (at >= 1 && at < 128) {
    auth = hostPart.slice(0, at);
    hostPart = hostPart.slice(at + 1);
  }
  let host = hostPart;
  let port = 0;
  if (hostPart.startsWith('[')) {
    const close = hostPart.indexOf(']');
    if (close > 0) {
      const colon = hostPart.indexOf(':', close);
      if (colon >= 0) port = atoi(hostPart.slice(colon + 1));
      host = hostPart.slice(1, close);
    }
  } else {
    const colon = hostPart.indexOf(':', 1);
    if (colon >= 1) {
      port = atoi(hostPart.slice(colon + 1));
      host = hostPart.slice(0, colon);
    }
  }
  port &= 0xffff;
  if (port <= 0) port = tls ? 443 : 80;
  return { tls, host, port, path, auth };
}

export interface RequestHeadOptions {
  method: string;
  url: FirmwareUrl;
  /** user headers in table order: name and value bytes */
  headers: Array<[Buffer, Buffer]>;
  /** body length, or null when there is no body (no Content-Length line) */
  bodyLength: number | null;
}

/** The user header names that change the automatic lines. */
export function isHostHeader(name: Buffer): boolean {
  const s = name.toString('latin1');
  return s === 'Host' || s === 'host';
}
export function isConnectionHeader(name: Buffer): boolean {
  return name.toString('latin1').toLowerCase().startsWith('connection');
}
export function isContentLengthHeader(name: Buffer): boolean {
  return name.toString('latin1').toLowerCase() === 'content-length';
}

/** Build the request head bytes (request line through the blank line). */
export function buildRequestHead(o: RequestHeadOptions): Buffer {
  const parts: Buffer[] = [];
  const line = (s: string) => parts.push(Buffer.from(s + '\r\n', 'latin1'));
  parts.push(Buffer.from(`${o.method} `, 'latin1'), Buffer.from(o.url.path, 'latin1'), Buffer.from(' HTTP/1.1\r\n', 'latin1'));
  const user = o.headers.filter(([n]) => !isContentLengthHeader(n));
  if (!user.some(([n]) => isConnectionHeader(n))) line('Connection: Close');
  if (!user.some(([n]) => isHostHeader(n))) {
    parts.push(Buffer.from('Host: ', 'latin1'), Buffer.from(o.url.host, 'latin1'), Buffer.from(`:${o.url.port}\r\n`, 'latin1'));
  }
  if (o.url.auth) line(`Authorization: Basic ${Buffer.from(o.url.auth, 'latin1').toString('base64')}`);
  for (const [n, v] of user) parts.push(n, Buffer.from(':'), v, Buffer.from('\r\n'));
  if (o.bodyLength !== null) line(`Content-Length:${o.bodyLength}`);
  line('');
  return Buffer.concat(parts);
}
