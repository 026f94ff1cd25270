/**
 * Shared types of the HTTP client (runtime/http/): the firmware's result codes and the small
 * interfaces the client needs from the device (network, clock, log) and from the body sinks.
 */
import type { DeviceNetwork } from '../net/types';
import type { TimerHandle } from '../core/clock';
import type { LogLevel } from '../core/log';

/** The firmware's negative result codes (luat_http.h). `.wait()` returns exactly one of these. */
export const HTTP_ERROR_STATE = -1;
export const HTTP_ERROR_HEADER = -2;
export const HTTP_ERROR_BODY = -3;
export const HTTP_ERROR_CONNECT = -4;
export const HTTP_ERROR_CLOSE = -5;
export const HTTP_ERROR_RX = -6;
export const HTTP_ERROR_DOWNLOAD = -7;
export const HTTP_ERROR_TIMEOUT = -8;
export const HTTP_ERROR_FOTA = -9;

/** Response header block limit (HTTP_RESP_HEADER_MAX_SIZE in the firmware). */
export const HTTP_RESP_HEADER_MAX_SIZE = 4096;

/**
 * Most response header lines kept (our choice; the firmware is bounded by the 4096-byte block
 * only, which still allows ~1300 `a:` lines, each a Lua table entry). More → −2.
 */
export const HTTP_RESP_HEADER_MAX_COUNT = 100;

/** A request failed: the code `.wait()` returns, and why (for logs and tests). */
export class HttpFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpFailure';
  }
}

/** A raw response header as received: name and value bytes (value trimmed). */
export type RawHeader = [name: Buffer, value: Buffer];

/**
 * The part of a zbuff (luatos-api/shared/zbuff.ts `ZbuffState`) the http client uses: POST/PUT send the
 * used part; other methods append the response body at `used`, growing the buffer.
 */
export interface HttpZbuff {
  usedBytes(): Uint8Array;
  append(data: Uint8Array): void;
}

/** Where the response body goes. */
export interface BodySink {
  /**
   * headers are complete (status known); contentLength is 0 when unknown. Throw HttpFailure
   * to refuse the body (e.g. it cannot fit).
   */
  open(status: number, contentLength?: number): void;
  /** a piece of the body; throw HttpFailure to abort the request */
  write(chunk: Buffer): void;
  /** the body is complete: the value returned as the 3rd result (string bytes or a length) */
  finish(status: number): Buffer | number;
  /**
   * The request failed after the headers had arrived. Return a body result to report the
   * failure as `code, headers, <result>` (an interrupted download gives -1), or null to
   * report the single error code.
   */
  abort(code: number): number | null;
}

export interface HttpTls {
  /** PEM text of the CA to verify the server with; without it nothing is verified (as on the device) */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  passphrase?: string;
}

export interface HttpEnv {
  net: DeviceNetwork;
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(h: TimerHandle): void;
  /**
   * Real I/O is in flight: a virtual clock must run at wall speed until the release function is
   * called (Clock.hold), so the request's timeout means real time.
   */
  hold?(reason: string): () => void;
  /** a firmware log line */
  log(level: LogLevel, module: string, message: string): void;
  /**
   * Log the network stack's lines for this connection (DNS query, connect). Called once the
   * address is known; `ip`/`port` is where the connection really went (after mapping).
   */
  logDnsStart?(host: string, adapter: number): void;
  logConnected?(host: string, ip: string, port: number, adapter: number): void;
}

/** The outcome of a request as the binding turns it into `.wait()` results. */
export type HttpOutcome =
  | { kind: 'response'; status: number; headers: RawHeader[]; body: Buffer | number }
  | { kind: 'error'; code: number; reason: string };
