/**
 * The console's `/video` WebSocket: it relays the ingest's live FLV (WS-FLV `ws://…/app/name.flv`
 * or HTTP-FLV `http://…/app/name.flv`) to the page as binary WebSocket messages, which mpegts.js
 * plays as a WS-FLV stream.
 *
 * Why relay instead of letting the page connect to the ingest: the page then talks only to its
 * own origin (a strict Content-Security-Policy, the Origin check applies to the video too), it
 * works when the console is opened from another machine (`--web-host`) while the ingest listens
 * on loopback, and HTTP-FLV needs no CORS. On loopback the relay adds well under a millisecond.
 *
 * The upstream URL comes from the server side (the `videoUrl` option), never from the browser.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import WebSocket from 'ws';

/** close codes the page understands */
export const VIDEO_CLOSE = {
  NO_STREAM: 4404,
  UPSTREAM_FAILED: 4502,
  UPSTREAM_ENDED: 4503,
  TOO_SLOW: 4508,
  SHUTDOWN: 1001,
} as const;

const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 512 * 1024;
const HARD_LIMIT = 32 * 1024 * 1024;

export interface VideoRelay {
  close(): void;
}

function safeClose(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
    try {
      ws.close(code, reason.slice(0, 120));
    } catch {
      ws.terminate();
    }
  }
}

/** Relay `upstream` to the browser socket `client` until either side ends. */
export function relayVideo(client: WebSocket, upstream: string): VideoRelay {
  let u: URL;
  try {
    u = new URL(upstream);
  } catch {
    safeClose(client, VIDEO_CLOSE.UPSTREAM_FAILED, 'bad video URL');
    return { close() {} };
  }
  let ended = false;
  let paused = false;
  let pause: () => void = () => {};
  let resume: () => void = () => {};
  let stopUpstream: () => void = () => {};

  const finish = (code: number, reason: string) => {
    if (ended) return;
    ended = true;
    stopUpstream();
    safeClose(client, code, reason);
  };

  const forward = (chunk: Buffer) => {
    if (ended || client.readyState !== WebSocket.OPEN) return;
    if (client.bufferedAmount > HARD_LIMIT) {
      finish(VIDEO_CLOSE.TOO_SLOW, 'browser too slow');
      return;
    }
    client.send(chunk, { binary: true }, () => {
      if (paused && client.bufferedAmount < LOW_WATER) {
        paused = false;
        resume();
      }
    });
    if (!paused && client.bufferedAmount > HIGH_WATER) {
      paused = true;
      pause();
    }
  };

  if (u.protocol === 'ws:' || u.protocol === 'wss:') {
    const up = new WebSocket(upstream, { handshakeTimeout: 5000, perMessageDeflate: false });
    pause = () => up.pause();
    resume = () => up.resume();
    stopUpstream = () => up.terminate();
    up.on('message', (data: WebSocket.RawData) => {
      const b = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      forward(b);
    });
    up.on('unexpected-response', (_req, res) => finish(VIDEO_CLOSE.UPSTREAM_FAILED, `upstream HTTP ${res.statusCode}`));
    up.on('error', (e) => finish(VIDEO_CLOSE.UPSTREAM_FAILED, `upstream: ${e.message}`));
    up.on('close', () => finish(VIDEO_CLOSE.UPSTREAM_ENDED, 'stream ended'));
  } else if (u.protocol === 'http:' || u.protocol === 'https:') {
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.get(u, { timeout: 5000, rejectUnauthorized: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        finish(VIDEO_CLOSE.UPSTREAM_FAILED, `upstream HTTP ${res.statusCode}`);
        return;
      }
      req.setTimeout(0);
      pause = () => res.pause();
      resume = () => res.resume();
      res.on('data', (d: Buffer) => forward(d));
      res.on('end', () => finish(VIDEO_CLOSE.UPSTREAM_ENDED, 'stream ended'));
      res.on('error', (e) => finish(VIDEO_CLOSE.UPSTREAM_FAILED, `upstream: ${e.message}`));
    });
    stopUpstream = () => req.destroy();
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => finish(VIDEO_CLOSE.UPSTREAM_FAILED, `upstream: ${e.message}`));
  } else {
    finish(VIDEO_CLOSE.UPSTREAM_FAILED, `unsupported video URL scheme ${u.protocol}`);
  }

  client.on('close', () => {
    ended = true;
    stopUpstream();
  });
  client.on('error', () => {
    ended = true;
    stopUpstream();
  });
  return { close: () => finish(VIDEO_CLOSE.SHUTDOWN, 'console closing') };
}
