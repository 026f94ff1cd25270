/**
 * Parsing `rtmp://host[:port]/app/stream[?query]` URLs.
 *
 * - default port 1935; host may be a DNS name, an IPv4 literal or a bracketed IPv6 literal;
 * - app = the path up to the next `/`;
 * - stream = everything after that (it may itself contain `/`, `?query` stays attached: servers read
 *   tokens from it); it goes into releaseStream / FCPublish / publish;
 * - tcUrl = `rtmp://host:port/app` (no stream name, unlike the firmware which sends the full URL).
 */
import { RtmpUrlError } from './errors';

export interface RtmpUrl {
  /** as written, without brackets for IPv6 */
  host: string;
  port: number;
  app: string;
  /** stream key including `?query`, e.g. `cam1?sign=123-abc` */
  stream: string;
  /** `rtmp://host:port/app` */
  tcUrl: string;
  /** the original URL */
  url: string;
}

const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62})?)*\.?$/;

export function parseRtmpUrl(url: string): RtmpUrl {
  if (typeof url !== 'string') throw new RtmpUrlError('RTMP URL must be a string');
  const raw = url.trim();
  if (raw.length === 0) throw new RtmpUrlError('RTMP URL is empty');
  if (raw.length > 4096) throw new RtmpUrlError('RTMP URL is too long');
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(raw);
  if (!m) throw new RtmpUrlError(`RTMP URL must start with rtmp:// (got "${raw}")`);
  if (m[1].toLowerCase() !== 'rtmp') {
    throw new RtmpUrlError(`unsupported URL scheme "${m[1]}://" (only rtmp:// is supported)`);
  }
  const rest = raw.slice(m[0].length);
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1);
  if (authority.includes('@')) throw new RtmpUrlError('user:password@ in RTMP URLs is not supported');
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) throw new RtmpUrlError(`bad IPv6 host in "${raw}"`);
    host = authority.slice(1, close);
    const after = authority.slice(close + 1);
    if (after.length > 0) {
      if (!after.startsWith(':')) throw new RtmpUrlError(`bad host:port "${authority}"`);
      portText = after.slice(1);
    }
    if (!/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(':')) throw new RtmpUrlError(`bad IPv6 host "${host}"`);
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0) {
      host = authority.slice(0, colon);
      portText = authority.slice(colon + 1);
    } else {
      host = authority;
    }
    if (host.length === 0) throw new RtmpUrlError(`RTMP URL has no host: "${raw}"`);
    if (!HOST_RE.test(host) || host.length > 253) throw new RtmpUrlError(`bad host name "${host}"`);
  }
  let port = 1935;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText)) throw new RtmpUrlError(`bad port "${portText}"`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw new RtmpUrlError(`port out of range: ${port}`);
  }
  const appEnd = path.indexOf('/');
  const app = appEnd < 0 ? path : path.slice(0, appEnd);
  const stream = appEnd < 0 ? '' : path.slice(appEnd + 1);
  if (app.length === 0 || app.includes('?')) throw new RtmpUrlError(`RTMP URL has no application name: "${raw}" (expected rtmp://host[:port]/app/stream)`);
  if (stream.length === 0 || stream.startsWith('?')) throw new RtmpUrlError(`RTMP URL has no stream name: "${raw}" (expected rtmp://host[:port]/app/stream)`);
  // eslint-disable-next-line no-control-regex -- control characters are what this rejects
  if (/[\s\x00-\x1f]/.test(path)) throw new RtmpUrlError('RTMP URL path contains whitespace or control characters');
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return { host, port, app, stream, tcUrl: `rtmp://${hostPart}:${port}/${app}`, url: raw };
}
