/**
 * One HTTP request as the device's http client runs it (luatos-api.md §7), on a TCP socket
 * from the device network (`DeviceNetwork.connectTcp`: host mapping, adapters, link loss).
 *
 * Why not undici for the wire: the product names undici and it was tried first, but its
 * request writer cannot produce the device's requests. It always writes its own lower-case
 * `host:` line first and `connection: keep-alive`/`close` after it, silently drops a user
 * `Connection` header it does not know, refuses user `Transfer-Encoding`, `Keep-Alive`,
 * `Upgrade` and `Expect` headers and values with control bytes (the device sends them as
 * given), and always adds its own `content-length`. The device sends `Connection: Close`
 * before `Host: host:port` and user headers as `Name:value`, and test servers and scripts see
 * exactly that. Its strict llhttp parser also gives no way to tell a broken header from a
 * broken body the way the firmware's codes do. So the wire is this small HTTP/1.1 client
 * (request head in ./url.ts, response parser in ./parser.ts); TLS is Node's `tls` layered on
 * the device socket.
 *
 * Result codes:
 * - connect failures (refused, DNS, link down, TLS handshake or certificate) → −4;
 * - no complete response within the timeout (connect included) → −8;
 * - the server closes or resets before the response is complete, or the link drops → −5;
 * - any other socket/TLS error while receiving → −6;
 * - response format errors → −1/−2/−3 (./parser.ts); sink errors → −7 (download) / −9 (FOTA);
 * - a body larger than the device's memory (./sinks.ts deviceBodyLimit) → −6, at the headers
 *   when Content-Length says so, else when the limit is passed; a zbuff body → −7; a download
 *   past the free flash → −7.
 * Nothing grows without bound: the head buffer stops at 4096 bytes + 1, a chunk-size line at
 * 1024 + 1, the body at the limit; a server that sends nothing more runs into the timeout.
 * After the headers, a download sink may turn a failure into `code, headers, -1`.
 */
import type * as tls from 'node:tls';
import type * as net from 'node:net';
import { NetError } from '../net/types';
import { isIpHost, tlsOnSocket } from '../net/tls-upgrade';
import type { TimerHandle } from '../core/clock';
import { ResponseParser } from './parser';
import { buildRequestHead, FirmwareUrl } from './url';
import {
  BodySink,
  HttpEnv,
  HttpFailure,
  HttpOutcome,
  HttpTls,
  HTTP_ERROR_CLOSE,
  HTTP_ERROR_CONNECT,
  HTTP_ERROR_RX,
  HTTP_ERROR_TIMEOUT,
  RawHeader,
} from './types';

export interface HttpRequestSpec {
  method: string;
  url: FirmwareUrl;
  /** user headers in order (Content-Length already allowed for: it is dropped) */
  headers: Array<[Buffer, Buffer]>;
  /** request body, or null */
  body: Buffer | null;
  timeoutMs: number;
  /** adapter index; undefined = the default adapter */
  adapter?: number;
  tls?: HttpTls;
  sink: BodySink;
  /** progress: (content length or 0, received body bytes) after the headers and each piece */
  onProgress?: (contentLength: number, received: number) => void;
}

export interface HttpExchange {
  readonly done: Promise<HttpOutcome>;
  /** stop at once (VM ended); `done` never settles afterwards */
  cancel(): void;
}

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

function connectFailure(e: unknown): HttpFailure {
  if (e instanceof NetError) {
    return new HttpFailure(e.kind === 'timeout' ? HTTP_ERROR_TIMEOUT : HTTP_ERROR_CONNECT, `connect failed (${e.kind}): ${e.message}`);
  }
  return new HttpFailure(HTTP_ERROR_CONNECT, `connect failed: ${(e as Error)?.message ?? String(e)}`);
}

/** Start a request; the returned promise resolves with the response or a failure code. */
export function startHttpRequest(spec: HttpRequestSpec, env: HttpEnv): HttpExchange {
  const x = new Exchange(spec, env);
  x.start();
  return { done: x.done, cancel: () => x.cancel() };
}

/** One request: the connection, the response parser into the body sink, the deadline. */
class Exchange {
  readonly done: Promise<HttpOutcome>;
  private resolveDone!: (o: HttpOutcome) => void;
  private settled = false;
  private cancelled = false;
  private timer: TimerHandle | null = null;
  /** the stream read from (the TLS socket for https) and the TCP socket under it */
  private sock: net.Socket | null = null;
  private rawSock: net.Socket | null = null;
  private status = 0;
  private headers: RawHeader[] = [];
  private contentLength = 0;
  private received = 0;
  /** the virtual clock held while the request runs */
  private release: (() => void) | null;
  private readonly parser: ResponseParser;

  constructor(
    private readonly spec: HttpRequestSpec,
    private readonly env: HttpEnv,
  ) {
    this.done = new Promise<HttpOutcome>((r) => (this.resolveDone = r));
    this.release = env.hold?.(`http ${spec.method} ${spec.url.host}:${spec.url.port}`) ?? null;
    this.parser = new ResponseParser(
      {
        onHeaders: (st, hs, cl) => {
          this.status = st;
          this.headers = hs;
          this.contentLength = cl;
          spec.sink.open(st, cl);
          spec.onProgress?.(cl, 0);
        },
        onBody: (chunk) => {
          if (chunk.length === 0) return;
          spec.sink.write(chunk);
          this.received += chunk.length;
          spec.onProgress?.(this.contentLength, this.received);
        },
        onComplete: () => {
          const body = spec.sink.finish(this.status);
          this.finish({ kind: 'response', status: this.status, headers: this.headers, body });
        },
      },
      spec.method === 'HEAD',
    );
  }

  /** The deadline, then the connection. */
  start(): void {
    const { spec } = this;
    this.timer = this.env.setTimer(spec.timeoutMs, () => {
      this.timer = null;
      this.fail(new HttpFailure(HTTP_ERROR_TIMEOUT, `no complete response within ${spec.timeoutMs} ms`));
    });
    void this.run().catch((e) => this.fail(new HttpFailure(HTTP_ERROR_CONNECT, (e as Error)?.message ?? String(e))));
  }

  /** stop at once (VM ended); `done` never settles afterwards */
  cancel(): void {
    if (this.settled || this.cancelled) return;
    this.cancelled = true;
    this.cleanup();
    try {
      this.spec.sink.abort(HTTP_ERROR_CLOSE);
    } catch {
      /* ignore */
    }
  }

  private cleanup(): void {
    if (this.release) {
      this.release();
      this.release = null;
    }
    if (this.timer) this.env.clearTimer(this.timer);
    this.timer = null;
    if (this.sock) {
      this.sock.removeAllListeners('data');
      this.sock.destroy();
      this.sock = null;
    }
    if (this.rawSock) {
      this.rawSock.destroy();
      this.rawSock = null;
    }
  }

  private finish(o: HttpOutcome): void {
    if (this.settled || this.cancelled) return;
    this.settled = true;
    this.cleanup();
    this.resolveDone(o);
  }

  /** A failure: after the headers the sink may still make it a response (a partial download); else the error code. */
  private fail(f: HttpFailure): void {
    if (this.settled || this.cancelled) return;
    if (this.parser.headersDone) {
      let body: number | null;
      try {
        body = this.spec.sink.abort(f.code);
      } catch {
        body = null;
      }
      if (body !== null) {
        this.finish({ kind: 'response', status: this.status, headers: this.headers, body });
        return;
      }
    } else {
      try {
        this.spec.sink.abort(f.code);
      } catch {
        /* nothing opened yet */
      }
    }
    this.finish({ kind: 'error', code: f.code, reason: f.message });
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e instanceof HttpFailure ? e : new HttpFailure(HTTP_ERROR_RX, (e as Error)?.message ?? String(e)));
    }
  }

  /** Connect (TLS on top for https), then send the request. */
  private async run(): Promise<void> {
    const { spec, env } = this;
    const adapter = spec.adapter ?? env.net.defaultAdapter();
    const isName = !isIpHost(spec.url.host);
    if (isName) env.logDnsStart?.(spec.url.host, adapter);
    let raw: net.Socket;
    try {
      raw = await env.net.connectTcp({ host: spec.url.host, port: spec.url.port, adapter: spec.adapter, timeoutMs: spec.timeoutMs, owner: 'http' });
    } catch (e) {
      this.fail(connectFailure(e));
      return;
    }
    if (this.settled || this.cancelled) {
      raw.destroy();
      return;
    }
    this.sock = raw;
    this.rawSock = raw;
    // errors are handled on the stream we read from (the TLS socket for https); never let one
    // on the raw socket go unhandled
    raw.on('error', () => {});
    env.logConnected?.(spec.url.host, raw.remoteAddress ?? spec.url.host, raw.remotePort ?? spec.url.port, adapter);
    let s: net.Socket = raw;
    if (spec.url.tls) {
      try {
        s = await handshake(raw, spec);
      } catch (e) {
        this.fail(new HttpFailure(HTTP_ERROR_CONNECT, `TLS handshake failed: ${(e as Error)?.message ?? String(e)}`));
        return;
      }
      if (this.settled || this.cancelled) {
        s.destroy();
        return;
      }
      this.sock = s;
    }
    this.send(s);
  }

  /** Read the response from `s`; write the request head and body. */
  private send(s: net.Socket): void {
    const { spec } = this;
    s.on('data', (d: Buffer) => this.guard(() => this.parser.feed(d)));
    s.on('end', () => this.guard(() => this.parser.end()));
    s.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code && RESET_CODES.has(e.code) ? HTTP_ERROR_CLOSE : HTTP_ERROR_RX;
      this.fail(new HttpFailure(code, `receive failed: ${e.message}`));
    });
    s.on('close', () => this.fail(new HttpFailure(HTTP_ERROR_CLOSE, 'connection closed before the response was complete')));
    const head = buildRequestHead({ method: spec.method, url: spec.url, headers: spec.headers, bodyLength: spec.body ? spec.body.length : null });
    s.write(spec.body && spec.body.length ? Buffer.concat([head, spec.body]) : head);
  }
}

/** TLS on the device socket. Without a CA nothing is verified (the device's default). */
function handshake(raw: net.Socket, spec: HttpRequestSpec): Promise<tls.TLSSocket> {
  const t = spec.tls ?? {};
  const host = spec.url.host;
  return tlsOnSocket(raw, {
    servername: isIpHost(host) ? undefined : host,
    rejectUnauthorized: !!t.ca,
    ca: t.ca ? [t.ca] : undefined,
    cert: t.cert,
    key: t.key,
    passphrase: t.passphrase,
  });
}
