/**
 * Incremental HTTP/1.x response parser with the device's result codes.
 *
 * The firmware's codes for broken responses (choices where the device is vague, tested in
 * test/http/):
 * - the bytes do not start with `HTTP/1.` → −1 (the older firmware's "resp NOT startwith
 *   HTTP/1." check: not an HTTP response at all);
 * - a malformed status line or header line, an invalid or conflicting Content-Length, a
 *   header block over 4096 bytes (HTTP_RESP_HEADER_MAX_SIZE, interim 1xx heads each count on
 *   their own) or more than HTTP_RESP_HEADER_MAX_COUNT header lines → −2 (the count limit is
 *   our choice, the firmware only has the byte limit: a device keeps a few dozen headers);
 * - a broken chunked body (bad size line, missing CRLF after the data, over-long size or
 *   trailer line) → −3;
 * - the connection ends before the body is complete → −5 (left to the caller via `end()`).
 * The current firmware's http_parser path only logs a parser error and lets the request run
 * into its timeout; reporting the documented code at once is what scripts check for.
 *
 * Accepted leniently, as the device's parser does: LF-only line ends, obs-fold continuation
 * lines, a missing reason phrase. Interim 1xx responses (except 101) are skipped. A body
 * without Content-Length or chunked coding runs until the server closes. HEAD, 204 and 304
 * responses have no body. Extra bytes after a Content-Length body are ignored.
 */
import { HttpFailure, HTTP_ERROR_BODY, HTTP_ERROR_CLOSE, HTTP_ERROR_HEADER, HTTP_ERROR_STATE, HTTP_RESP_HEADER_MAX_COUNT, HTTP_RESP_HEADER_MAX_SIZE, RawHeader } from './types';

export interface ParserEvents {
  /** headers complete; contentLength is 0 when unknown (chunked or until close) */
  onHeaders(status: number, headers: RawHeader[], contentLength: number): void;
  onBody(chunk: Buffer): void;
  onComplete(): void;
}

type State = 'head' | 'length' | 'close' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' | 'done';

const PREFIX = Buffer.from('HTTP/1.', 'latin1');
const MAX_CHUNK_LINE = 1024;
const EMPTY = Buffer.alloc(0);

function isTokenChar(c: number): boolean {
  // RFC 9110 tchar
  if (c >= 0x30 && c <= 0x39) return true;
  if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) return true;
  return "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c));
}

function trimOws(b: Buffer): Buffer {
  let s = 0;
  let e = b.length;
  while (s < e && (b[s] === 0x20 || b[s] === 0x09)) s++;
  while (e > s && (b[e - 1] === 0x20 || b[e - 1] === 0x09)) e--;
  return b.subarray(s, e);
}

export class ResponseParser {
  private state: State = 'head';
  private head: Buffer = Buffer.alloc(0);
  private line: Buffer = EMPTY;
  /** chunk-crlf: the CR after the chunk data was seen */
  private sawCr = false;
  private remaining = 0;
  private headersSeen = false;

  constructor(
    private readonly ev: ParserEvents,
    private readonly isHead = false,
  ) {}

  /** true once a final status and its headers were parsed */
  get headersDone(): boolean {
    return this.headersSeen;
  }
  get done(): boolean {
    return this.state === 'done';
  }

  /** Feed received bytes; throws HttpFailure for a broken response. */
  feed(data: Buffer): void {
    let off = 0;
    while (off < data.length && this.state !== 'done') {
      switch (this.state) {
        case 'head': {
          // only what can still belong to the head is buffered: past the limit it is −2 anyway
          const room = HTTP_RESP_HEADER_MAX_SIZE + 1 - this.head.length;
          const take = Math.min(room, data.length - off);
          const piece = data.subarray(off, off + take);
          // a view while parsing; copied only when kept across reads
          this.head = this.head.length ? Buffer.concat([this.head, piece]) : piece;
          const used = this.parseHead();
          if (used < 0) {
            // no complete head yet: all of `piece` is buffered
            off += take;
            if (this.head === piece) this.head = Buffer.from(piece);
          } else {
            // `used` bytes of the buffered head were one response head (interim or final);
            // the rest of the buffer came from `data` and is parsed from there (no recursion,
            // no copies: 20 000 interim responses in one read are a loop)
            off += take - (this.head.length - used);
            this.head = Buffer.alloc(0);
          }
          break;
        }
        case 'length': {
          const n = Math.min(this.remaining, data.length - off);
          this.ev.onBody(data.subarray(off, off + n));
          off += n;
          this.remaining -= n;
          if (this.remaining === 0) this.complete();
          break;
        }
        case 'close':
          this.ev.onBody(data.subarray(off));
          off = data.length;
          break;
        case 'chunk-size':
        case 'trailers': {
          const limit = this.state === 'chunk-size' ? MAX_CHUNK_LINE : HTTP_RESP_HEADER_MAX_SIZE;
          const nl = data.indexOf(0x0a, off);
          const end = nl < 0 ? data.length : nl;
          let ln: Buffer;
          if (this.line.length === 0 && nl >= 0) {
            // the whole line is in this read: no copy (a million 1-byte chunks are a hot path)
            ln = data.subarray(off, end);
          } else {
            // keep at most limit + 1 bytes of an unfinished line
            const piece = data.subarray(off, Math.min(end, off + limit + 1 - this.line.length));
            this.line = this.line.length ? Buffer.concat([this.line, piece]) : Buffer.from(piece);
            ln = this.line;
          }
          off = nl < 0 ? data.length : nl + 1;
          if (ln.length > limit) throw new HttpFailure(HTTP_ERROR_BODY, `${this.state === 'chunk-size' ? 'chunk size' : 'trailer'} line too long`);
          if (nl < 0) break;
          this.line = EMPTY;
          if (ln.length && ln[ln.length - 1] === 0x0d) ln = ln.subarray(0, ln.length - 1);
          if (this.state === 'chunk-size') this.chunkSize(ln);
          else if (ln.length === 0) this.complete();
          break;
        }
        case 'chunk-data': {
          const n = Math.min(this.remaining, data.length - off);
          this.ev.onBody(data.subarray(off, off + n));
          off += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.state = 'chunk-crlf';
            this.line = EMPTY;
          }
          break;
        }
        case 'chunk-crlf': {
          const c = data[off++];
          if (!this.sawCr && c === 0x0d) {
            this.sawCr = true;
          } else if (c === 0x0a) {
            this.sawCr = false;
            this.state = 'chunk-size';
          } else {
            throw new HttpFailure(HTTP_ERROR_BODY, 'missing CRLF after chunk data');
          }
          break;
        }
      }
    }
  }

  /** The connection ended (FIN). Completes an until-close body; otherwise the response was cut. */
  end(): void {
    if (this.state === 'done') return;
    if (this.state === 'close') {
      this.complete();
      return;
    }
    throw new HttpFailure(HTTP_ERROR_CLOSE, this.headersSeen ? 'connection closed before the body was complete' : 'connection closed before the response headers');
  }

  private complete(): void {
    this.state = 'done';
    this.ev.onComplete();
  }

  /**
   * Try to parse a complete head from the start of `this.head`. Returns how many bytes of it
   * the head took (the caller drops them), or −1 when the head is not complete yet.
   */
  private parseHead(): number {
    const h = this.head;
    const cmp = Math.min(h.length, PREFIX.length);
    if (h.subarray(0, cmp).compare(PREFIX.subarray(0, cmp)) !== 0) {
      throw new HttpFailure(HTTP_ERROR_STATE, 'resp NOT startwith HTTP/1.');
    }
    // the head ends at the first empty line (CRLF CRLF, or bare LF LF)
    let end = -1;
    let from = 0;
    for (;;) {
      const nl = h.indexOf(0x0a, from);
      if (nl < 0) break;
      const next = h[nl + 1];
      if (next === 0x0a) {
        end = nl + 2;
        break;
      }
      if (next === 0x0d && h[nl + 2] === 0x0a) {
        end = nl + 3;
        break;
      }
      if (next === undefined || (next === 0x0d && nl + 2 >= h.length)) break;
      from = nl + 1;
    }
    if (end < 0) {
      if (h.length > HTTP_RESP_HEADER_MAX_SIZE) throw new HttpFailure(HTTP_ERROR_HEADER, 'http resp header too big!!!');
      return -1;
    }
    if (end > HTTP_RESP_HEADER_MAX_SIZE) throw new HttpFailure(HTTP_ERROR_HEADER, 'http resp header too big!!!');
    const lines: Buffer[] = [];
    let s = 0;
    const block = h.subarray(0, end);
    while (s < block.length) {
      let e = block.indexOf(0x0a, s);
      if (e < 0) e = block.length;
      let ln = block.subarray(s, e);
      if (ln.length && ln[ln.length - 1] === 0x0d) ln = ln.subarray(0, ln.length - 1);
      lines.push(ln);
      s = e + 1;
    }
    while (lines.length && lines[lines.length - 1].length === 0) lines.pop();
    const statusLine = lines.shift() ?? Buffer.alloc(0);
    // eslint-disable-next-line no-control-regex -- a reason phrase may not hold control characters (RFC 9112)
    const m = /^HTTP\/1\.\d ([0-9]{3})(?:[ \t][^\x00-\x08\x0a-\x1f\x7f]*)?[ \t]*$/.exec(statusLine.toString('latin1'));
    if (!m) throw new HttpFailure(HTTP_ERROR_HEADER, `bad status line "${statusLine.toString('latin1').slice(0, 80)}"`);
    const status = Number(m[1]);
    if (status < 100) throw new HttpFailure(HTTP_ERROR_HEADER, `bad status code ${status}`);
    const headers: RawHeader[] = [];
    for (const ln of lines) {
      if (ln[0] === 0x20 || ln[0] === 0x09) {
        // obs-fold: continues the previous value
        const prev = headers[headers.length - 1];
        if (!prev) throw new HttpFailure(HTTP_ERROR_HEADER, 'continuation line without a header');
        prev[1] = Buffer.concat([prev[1], Buffer.from(' '), trimOws(ln)]);
        continue;
      }
      const colon = ln.indexOf(0x3a);
      if (colon < 1) throw new HttpFailure(HTTP_ERROR_HEADER, `bad header line "${ln.toString('latin1').slice(0, 80)}"`);
      for (let i = 0; i < colon; i++) {
        if (!isTokenChar(ln[i])) throw new HttpFailure(HTTP_ERROR_HEADER, `bad header name "${ln.subarray(0, colon).toString('latin1').slice(0, 80)}"`);
      }
      if (headers.length >= HTTP_RESP_HEADER_MAX_COUNT) throw new HttpFailure(HTTP_ERROR_HEADER, `more than ${HTTP_RESP_HEADER_MAX_COUNT} response headers`);
      const value = trimOws(ln.subarray(colon + 1));
      for (const c of value) {
        if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new HttpFailure(HTTP_ERROR_HEADER, 'control character in a header value');
      }
      headers.push([Buffer.from(ln.subarray(0, colon)), Buffer.from(value)]);
    }
    if (status >= 100 && status < 200 && status !== 101) {
      // interim response: the final one follows (the caller loops)
      return end;
    }
    let chunked = false;
    let te = false;
    let length: number | null = null;
    for (const [n, v] of headers) {
      const name = n.toString('latin1').toLowerCase();
      if (name === 'transfer-encoding') {
        te = true;
        const codings = v.toString('latin1').split(',').map((x) => x.trim().toLowerCase()).filter((x) => x);
        chunked = codings[codings.length - 1] === 'chunked';
      } else if (name === 'content-length') {
        for (const part of v.toString('latin1').split(',')) {
          const p = part.trim();
          if (!/^[0-9]{1,15}$/.test(p)) throw new HttpFailure(HTTP_ERROR_HEADER, `bad Content-Length "${v.toString('latin1').slice(0, 40)}"`);
          const n2 = Number(p);
          if (length !== null && length !== n2) throw new HttpFailure(HTTP_ERROR_HEADER, 'conflicting Content-Length values');
          length = n2;
        }
      }
    }
    this.headersSeen = true;
    const noBody = this.isHead || status === 204 || status === 304;
    this.ev.onHeaders(status, headers, !noBody && !te && length !== null ? length : 0);
    if (noBody) {
      this.complete();
      return end;
    }
    if (te) {
      this.state = chunked ? 'chunk-size' : 'close';
    } else if (length !== null) {
      this.remaining = length;
      this.state = 'length';
      if (length === 0) this.complete();
    } else {
      this.state = 'close';
    }
    return end;
  }

  private chunkSize(ln: Buffer): void {
    const semi = ln.indexOf(0x3b);
    const digits = trimOws(semi < 0 ? ln : ln.subarray(0, semi));
    // 1 to 12 hex digits (up to 2^48 - 1: exact in a double; anything that big fails later on
    // the body limit anyway)
    let size = 0;
    let ok = digits.length >= 1 && digits.length <= 12;
    for (let i = 0; ok && i < digits.length; i++) {
      const c = digits[i];
      const v = c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1;
      if (v < 0) ok = false;
      else size = size * 16 + v;
    }
    if (!ok) throw new HttpFailure(HTTP_ERROR_BODY, `bad chunk size "${ln.toString('latin1').slice(0, 40)}"`);
    if (size === 0) {
      this.state = 'trailers';
      this.line = EMPTY;
      return;
    }
    this.remaining = size;
    this.state = 'chunk-data';
  }
}
