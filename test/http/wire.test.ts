/**
 * The plain-TS parts of the http client: URL splitting and the request head (firmware rules),
 * and the response parser (codes for broken responses, lenient forms, any split of the bytes).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildRequestHead, parseFirmwareUrl, UrlError } from '../../runtime/http/url';
import { ResponseParser } from '../../runtime/http/parser';
import { HttpFailure, RawHeader } from '../../runtime/http/types';

test('URLs are split the way the firmware does', () => {
  assert.deepEqual(parseFirmwareUrl('http://video.luatos.com:10030/api-system/x?a=1'), { tls: false, host: 'video.luatos.com', port: 10030, path: '/api-system/x?a=1', auth: null });
  assert.deepEqual(parseFirmwareUrl('https://example.com'), { tls: true, host: 'example.com', port: 443, path: '/', auth: null });
  assert.deepEqual(parseFirmwareUrl('http://u:p@1.2.3.4/x'), { tls: false, host: '1.2.3.4', port: 80, path: '/x', auth: 'u:p' });
  assert.deepEqual(parseFirmwareUrl('http://[::1]:8080/v6'), { tls: false, host: '::1', port: 8080, path: '/v6', auth: null });
  // atoi port: garbage means the default port; 16 bits like the C field
  assert.equal(parseFirmwareUrl('http://host.cn:abc/').port, 80);
  assert.equal(parseFirmwareUrl('http://host.cn:65616/').port, 80);
  assert.equal(parseFirmwareUrl('http://host.cn:65617/').port, 81);
  assert.throws(() => parseFirmwareUrl('HTTP://host.cn/'), (e: Error) => e instanceof UrlError && e.message === 'only http/https supported HTTP://host.cn/');
  assert.throws(() => parseFirmwareUrl('http://a.b'), /url too short/);
  assert.throws(() => parseFirmwareUrl('http://' + 'h'.repeat(300) + '/x'), /host too long/);
});

test('request head: Connection: Close, Host with the port, Name:value user headers, one Content-Length', () => {
  const url = parseFirmwareUrl('http://video.luatos.com/p');
  const h = (pairs: Array<[string, string]>) => pairs.map(([n, v]) => [Buffer.from(n), Buffer.from(v)] as [Buffer, Buffer]);
  assert.equal(
    buildRequestHead({ method: 'POST', url, headers: h([['Content-Type', 'application/json'], ['content-length', '5'], ['X', '1']]), bodyLength: 2 }).toString(),
    'POST /p HTTP/1.1\r\nConnection: Close\r\nHost: video.luatos.com:80\r\nContent-Type:application/json\r\nX:1\r\nContent-Length:2\r\n\r\n',
  );
  assert.equal(buildRequestHead({ method: 'GET', url, headers: h([['host', 'h:1'], ['connection-x', 'y']]), bodyLength: null }).toString(), 'GET /p HTTP/1.1\r\nhost:h:1\r\nconnection-x:y\r\n\r\n');
  // only exactly "Host"/"host" suppresses ours (as on the device)
  assert.match(buildRequestHead({ method: 'GET', url, headers: h([['HOST', 'x']]), bodyLength: null }).toString(), /Host: video\.luatos\.com:80\r\nHOST:x\r\n/);
});

interface Parsed {
  status?: number;
  headers?: RawHeader[];
  contentLength?: number;
  body: Buffer;
  complete: boolean;
  error?: number;
}

function parse(pieces: Buffer[], opts: { head?: boolean; eof?: boolean } = {}): Parsed {
  const out: Parsed = { body: Buffer.alloc(0), complete: false };
  const p = new ResponseParser(
    {
      onHeaders: (s, h, cl) => Object.assign(out, { status: s, headers: h, contentLength: cl }),
      onBody: (c) => (out.body = Buffer.concat([out.body, c])),
      onComplete: () => (out.complete = true),
    },
    opts.head,
  );
  try {
    for (const b of pieces) p.feed(b);
    if (opts.eof) p.end();
  } catch (e) {
    if (!(e instanceof HttpFailure)) throw e;
    out.error = e.code;
  }
  return out;
}
const P = (s: string, o?: { head?: boolean; eof?: boolean }) => parse([Buffer.from(s, 'latin1')], o);

test('response parser: bodies by length, chunks with extensions and trailers, until close, none', () => {
  let r = P('HTTP/1.1 200 OK\r\nA: 1\r\nB:   two words  \r\nContent-Length: 5\r\n\r\nhelloEXTRA');
  assert.equal(r.status, 200);
  assert.deepEqual(r.headers?.map(([n, v]) => `${n}=${v}`), ['A=1', 'B=two words', 'Content-Length=5']);
  assert.equal(r.contentLength, 5);
  assert.equal(r.body.toString(), 'hello');
  assert.ok(r.complete);
  r = P('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA \r\n, world!!!\r\n0\r\nX-Trailer: t\r\n\r\n');
  assert.equal(r.body.toString(), 'hello, world!!!');
  assert.equal(r.contentLength, 0);
  assert.ok(r.complete);
  r = P('HTTP/1.0 200 OK\r\n\r\nuntil close', { eof: true });
  assert.equal(r.body.toString(), 'until close');
  assert.ok(r.complete);
  r = P('HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n');
  assert.ok(r.complete);
  assert.equal(r.body.length, 0);
  r = P('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', { head: true });
  assert.ok(r.complete);
  // lenient: LF-only, no reason phrase, obs-fold, interim 100 Continue skipped
  r = P('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201\nX: a\n  b\nContent-Length: 2\n\nok');
  assert.equal(r.status, 201);
  assert.deepEqual(r.headers?.map(([n, v]) => `${n}=${v}`), ['X=a b', 'Content-Length=2']);
  assert.equal(r.body.toString(), 'ok');
});

test('response parser: the codes for broken responses', () => {
  assert.equal(P('SSH-2.0\r\n').error, -1);
  assert.equal(P('H').error, undefined); // could still be HTTP
  assert.equal(P('HTTP/1.1 2000 OK\r\n\r\n').error, -2);
  assert.equal(P('HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n').error, -2);
  assert.equal(P('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n').error, -2);
  assert.equal(P('HTTP/1.1 200 OK\r\nX: ' + 'a'.repeat(5000)).error, -2);
  assert.equal(P('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n').error, -3);
  assert.equal(P('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' + '1'.repeat(2000)).error, -3);
  assert.equal(P('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc', { eof: true }).error, -5);
  assert.equal(P('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n', { eof: true }).error, -5);
  assert.equal(P('HTTP/1.1 200', { eof: true }).error, -5);
});

test('response parser: any split of the bytes gives the same result', () => {
  const whole = Buffer.from(
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nServer: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nT: 1\r\n\r\n',
    'latin1',
  );
  const ref = parse([whole]);
  assert.equal(ref.body.toString(), 'Wikipedia in\r\n\r\nchunks.');
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: whole.length - 1 }), { maxLength: 12 }), (cuts) => {
      const sorted = [...cuts].sort((a, b) => a - b);
      const pieces: Buffer[] = [];
      let last = 0;
      for (const c of sorted) {
        pieces.push(whole.subarray(last, c));
        last = c;
      }
      pieces.push(whole.subarray(last));
      const r = parse(pieces);
      assert.equal(r.error, undefined);
      assert.equal(r.status, 200);
      assert.ok(r.complete);
      assert.deepEqual(r.body, ref.body);
    }),
    { numRuns: 300 },
  );
});
