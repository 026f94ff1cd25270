/**
 * `http fail <host> <status | reset | timeout> [count]` / `http ok [host]`: faults of the local
 * platform's HTTP(S) service. They act on requests that reach the platform (every host mapped to
 * it, e.g. `video.luatos.com`), matched by the request's Host header without the port (`*`
 * matches any host). The next `count` (default 1, `always` = until `http ok`) matching requests:
 *  - `<status>` (200..599): answer with that HTTP status and a small JSON body
 *    `{"msg":"<reason phrase>","code":<status>}`;
 *  - `reset`: the TCP connection is reset (RST) without an answer;
 *  - `timeout`: no answer at all; the connection stays open until the client gives up (or the
 *    platform stops).
 */
import { FaultError } from '../../core/faults';

export type HttpFailMode = { kind: 'status'; status: number } | { kind: 'reset' } | { kind: 'timeout' };

export interface HttpFailRule {
  host: string;
  mode: HttpFailMode;
  /** requests still to fail; Infinity = always */
  remaining: number;
}

export const HTTP_FAULT_USAGE = 'fail <host> <status | reset | timeout> [count | always] | ok [host]';

export function describeMode(m: HttpFailMode): string {
  return m.kind === 'status' ? String(m.status) : m.kind;
}

export class HttpFaults {
  private readonly rules = new Map<string, HttpFailRule>();

  fail(host: string, mode: HttpFailMode, count = 1): void {
    this.rules.set(host.toLowerCase(), { host: host.toLowerCase(), mode, remaining: count });
  }

  /** Clear the rule of one host, or all rules. */
  clear(host?: string): void {
    if (host === undefined) this.rules.clear();
    else this.rules.delete(host.toLowerCase());
  }

  list(): HttpFailRule[] {
    return [...this.rules.values()].map((r) => ({ ...r }));
  }

  /** Consume one failure for a request to `host` (the Host header, port allowed); undefined = answer normally. */
  take(hostHeader: string | undefined): HttpFailMode | undefined {
    const host = hostOnly(hostHeader ?? '');
    const r = this.rules.get(host) ?? this.rules.get('*');
    if (!r) return undefined;
    r.remaining -= 1;
    if (r.remaining <= 0) this.rules.delete(r.host);
    return r.mode;
  }

  /** Run the fault command (args after `http`). Throws FaultError on bad arguments. */
  command(args: string[]): string {
    const [verb, host, what, count, ...extra] = args;
    if (verb === 'ok') {
      if (args.length > 2) throw new FaultError(`http: too many arguments; usage: http ${HTTP_FAULT_USAGE}`);
      this.clear(host);
      return host ? `http faults for ${host} cleared` : 'http faults cleared';
    }
    if (verb !== 'fail' || !host || !what || extra.length > 0) throw new FaultError(`http: usage: http ${HTTP_FAULT_USAGE}`);
    let mode: HttpFailMode;
    if (what === 'reset') mode = { kind: 'reset' };
    else if (what === 'timeout') mode = { kind: 'timeout' };
    else if (/^\d{3}$/.test(what) && Number(what) >= 200 && Number(what) <= 599) mode = { kind: 'status', status: Number(what) };
    else throw new FaultError(`http: '${what}' is not an HTTP status (200..599), reset or timeout`);
    let n = 1;
    if (count !== undefined) {
      if (count === 'always') n = Infinity;
      else if (/^\d+$/.test(count) && Number(count) >= 1) n = Number(count);
      else throw new FaultError(`http: count '${count}' must be a whole number >= 1 or 'always'`);
    }
    this.fail(host, mode, n);
    return `http: the next ${n === Infinity ? 'all' : n} request${n === 1 ? '' : 's'} to ${host.toLowerCase()} fail with ${describeMode(mode)}`;
  }
}

/** `Host` header → lower-case host name without port (IPv6 brackets removed). */
export function hostOnly(h: string): string {
  const s = h.trim().toLowerCase();
  if (s.startsWith('[')) {
    const i = s.indexOf(']');
    return i > 0 ? s.slice(1, i) : s;
  }
  const i = s.lastIndexOf(':');
  return i >= 0 && s.indexOf(':') === i ? s.slice(0, i) : s;
}
