/**
 * The local platform's RTMP ingest (node-media-server child behind the throttling proxy), with
 * the project's own publisher and an ffmpeg-made H.264 clip: publish, HTTP-FLV / WS-FLV
 * playback, `rtmp-server kill | restart | throttle | unthrottle`, and no child left behind
 * (stop(), process exit, parent SIGKILL).
 */
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { startLocalPlatform, type LocalPlatform } from '../../runtime/host/platform';
import { FaultRegistry, FaultError } from '../../runtime/core/faults';
import { trackedChildren } from '../../runtime/media/ffmpeg/child-registry';
import { RtmpState } from '../../runtime/media/rtmp';
import { makeH264 } from '../rtmp/helpers/h264-source';
import { connectAndPublish, feed, waitState } from '../rtmp/helpers/publish-util';
import { parseFlv, videoTags } from '../rtmp/helpers/flv-file';
import { delay, waitFor } from '../rtmp/helpers/net-util';

const info = { width: 320, height: 240, framerate: 15, videodatarate: 100, videocodecid: 7, encoder: 'luatos-pc platform test' };

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function connectResult(port: number): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** Pull HTTP-FLV until `enough(bytes)` or the time is up; returns what arrived. */
function pullHttpFlv(url: string, timeoutMs: number, enough: (b: Buffer) => boolean): { done: Promise<{ status?: number; data: Buffer }> } {
  const chunks: Buffer[] = [];
  const done = new Promise<{ status?: number; data: Buffer }>((resolve) => {
    let status: number | undefined;
    const finish = () => {
      clearTimeout(timer);
      req.destroy();
      resolve({ status, data: Buffer.concat(chunks) });
    };
    const timer = setTimeout(finish, timeoutMs);
    const req = http.get(url, { agent: false }, (res) => {
      status = res.statusCode;
      res.on('data', (d: Buffer) => {
        chunks.push(d);
        if (enough(Buffer.concat(chunks))) finish();
      });
      res.on('end', finish);
      res.on('error', finish);
    });
    req.on('error', finish);
  });
  return { done };
}

function countFrames(b: Buffer): { frames: number; keyframes: number; seqHeaders: number } {
  if (b.length < 13) return { frames: 0, keyframes: 0, seqHeaders: 0 };
  const v = videoTags(parseFlv(b).tags);
  return { frames: v.filter((t) => t.avcPacketType === 1).length, keyframes: v.filter((t) => t.avcPacketType === 1 && t.keyframe).length, seqHeaders: v.filter((t) => t.avcPacketType === 0).length };
}

let p: LocalPlatform;
const reg = new FaultRegistry();
before(async () => {
  p = await startLocalPlatform({ publishGraceMs: 500 });
  p.registerFaults(reg);
});
after(async () => {
  await p?.stop();
});

test('publish with the project publisher through the handed-out URL; HTTP-FLV and WS-FLV play it (FLV header + H.264 tags)', { timeout: 60_000 }, async () => {
  const clip = makeH264({ seconds: 3, gop: 15 });
  const id = 'C8C2C68C5DEA';
  const published: string[] = [];
  p.on('publish', (s: string) => published.push(s));
  // players attached before the publisher (NMS lets them wait): they get every frame
  const httpPull = pullHttpFlv(p.flvUrl(id), 20_000, (b) => countFrames(b).frames >= clip.frames.length);
  const wsChunks: Buffer[] = [];
  const ws = new WebSocket(p.wsFlvUrl(id));
  ws.on('message', (d: Buffer) => wsChunks.push(Buffer.from(d)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  await delay(200);
  const url = p.publishUrl(id);
  assert.equal(url, `rtmp://127.0.0.1:${p.rtmpPort}/live/${id}`);
  const { pub } = await connectAndPublish(url, { streamInfo: info });
  await waitFor(() => published.includes(`/live/${id}`), 5000, 'publish event');
  assert.deepEqual(p.publishing(), [`/live/${id}`]);
  await feed(pub, clip.frames, 0);
  const got = await httpPull.done;
  await waitFor(() => countFrames(Buffer.concat(wsChunks)).frames >= clip.frames.length, 10_000, 'WS-FLV frames');
  ws.close();
  assert.equal(got.status, 200);
  assert.equal(got.data.subarray(0, 3).toString('latin1'), 'FLV', 'FLV signature');
  const h = countFrames(got.data);
  assert.equal(h.frames, clip.frames.length, 'every frame over HTTP-FLV');
  assert.ok(h.seqHeaders >= 1, 'AVC sequence header');
  assert.equal(h.keyframes, clip.frames.length / 15);
  const w = Buffer.concat(wsChunks);
  assert.equal(w.subarray(0, 3).toString('latin1'), 'FLV');
  assert.equal(countFrames(w).frames, clip.frames.length, 'every frame over WS-FLV');
  const st = p.proxyStats();
  assert.ok(st.bytesForwarded > clip.es.length && st.bytesForwarded === st.bytesIn, `the proxy carried the stream (${st.bytesForwarded} B)`);
  pub.disconnect();
  await waitState(pub, RtmpState.IDLE, 3000);
  pub.destroy();
  await waitFor(() => p.publishing().length === 0, 5000, 'unpublish after the grace window');
});

/** One raw HTTP/1.1 request with exactly the given headers; resolves with status and headers. */
function rawGet(port: number, pathName: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathName, method, headers, agent: false, setHost: false }, (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      req.destroy();
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    req.end();
  });
}

function wsOutcome(url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: 10_000 });
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(`HTTP ${res.statusCode}`);
      ws.terminate();
    });
    ws.once('error', (e) => resolve(`error ${e.message}`));
  });
}

test('HTTP-FLV / WS-FLV: a foreign Origin or Host (DNS rebinding) gets 403, no response carries CORS headers; the ingest own host is served', { timeout: 60_000 }, async () => {
  const port = p.flvPort;
  const flvPath = new URL(p.flvUrl('C8C2C68C5DEA')).pathname;
  const own = `127.0.0.1:${port}`;
  const cases: Array<[string, Record<string, string>, string?]> = [
    ['foreign Origin', { Host: own, Origin: 'http://evil.example' }],
    ['null Origin', { Host: own, Origin: 'null' }],
    ['rebound Host', { Host: `evil.example:${port}` }],
    ['rebound Host + its Origin', { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` }],
    ['CORS preflight', { Host: own, Origin: 'http://evil.example', 'Access-Control-Request-Method': 'GET' }, 'OPTIONS'],
  ];
  for (const [what, headers, method] of cases) {
    const r = await rawGet(port, flvPath, headers, method);
    assert.equal(r.status, 403, what);
    assert.equal(r.headers['access-control-allow-origin'], undefined, what);
  }
  // the ingest's own host (the console's relay sends no Origin) is served, without CORS
  const ok = await rawGet(port, flvPath, { Host: own });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['access-control-allow-origin'], undefined);
  const sameOrigin = await rawGet(port, flvPath, { Host: `localhost:${port}`, Origin: `http://localhost:${port}` });
  assert.equal(sameOrigin.status, 200);
  assert.equal(sameOrigin.headers['access-control-allow-origin'], undefined);
  // WS-FLV: the same rules on the upgrade
  const wsUrl = p.wsFlvUrl('C8C2C68C5DEA');
  assert.equal(await wsOutcome(wsUrl, { Origin: 'http://evil.example' }), 'HTTP 403');
  assert.equal(await wsOutcome(wsUrl, { Host: `evil.example:${port}` }), 'HTTP 403');
  assert.equal(await wsOutcome(wsUrl, {}), 'open');
});

test('rtmp-server kill: the publisher loses the server, connections are refused; restart: same ports, publishing works again', { timeout: 60_000 }, async () => {
  const clip = makeH264({ seconds: 2, gop: 15 });
  const id = 'KILL01';
  const ports = { rtmp: p.rtmpPort, nms: p.nmsRtmpPort, flv: p.flvPort };
  const pid0 = p.ingestPid;
  assert.ok(alive(pid0));
  const { pub } = await connectAndPublish(p.publishUrl(id), { streamInfo: info });
  await feed(pub, clip.frames.slice(0, 10), 0);
  const states: string[] = [];
  p.on('ingest', (s: string) => states.push(s));
  await reg.run('rtmp-server', ['kill']);
  assert.equal(p.ingestState, 'down');
  assert.equal(alive(pid0), false, 'the child is gone');
  await waitFor(() => pub.state !== RtmpState.PUBLISHING, 5000, 'publisher notices');
  assert.equal(await connectResult(ports.rtmp), 'ECONNREFUSED', 'the RTMP URL refuses connections like a dead server');
  assert.equal(await connectResult(ports.nms), 'ECONNREFUSED');
  assert.equal(await connectResult(ports.flv), 'ECONNREFUSED');
  pub.destroy();

  await reg.run('rtmp-server', ['restart']);
  assert.equal(p.ingestState, 'running');
  assert.deepEqual({ rtmp: p.rtmpPort, nms: p.nmsRtmpPort, flv: p.flvPort }, ports, 'same ports');
  assert.notEqual(p.ingestPid, pid0);
  assert.ok(alive(p.ingestPid));
  assert.deepEqual(states, ['down', 'starting', 'running']);
  const pull = pullHttpFlv(p.flvUrl(id), 15_000, (b) => countFrames(b).frames >= clip.frames.length);
  await delay(200);
  const again = await connectAndPublish(p.publishUrl(id), { streamInfo: info });
  await feed(again.pub, clip.frames, 0);
  const got = await pull.done;
  assert.equal(countFrames(got.data).frames, clip.frames.length, 'the restarted ingest serves the stream');
  again.pub.destroy();
  // restart while running also works (kill + start on the same ports)
  const pid1 = p.ingestPid;
  await reg.run('rtmp-server', ['restart']);
  assert.ok(alive(p.ingestPid) && p.ingestPid !== pid1 && !alive(pid1));
  assert.equal(await connectResult(p.rtmpPort), 'connected');
  for (const bad of [[], ['explode'], ['kill', 'now'], ['throttle'], ['throttle', '-5'], ['throttle', 'fast'], ['throttle', '0']]) {
    await assert.rejects(reg.run('rtmp-server', bad), FaultError, bad.join(' '));
  }
});

test('rtmp-server throttle <kbps> caps what the proxy reads from the publisher; unthrottle lifts it', { timeout: 60_000 }, async (t) => {
  const clip = makeH264({ seconds: 6, kbps: 1500, gop: 30 });
  assert.ok(clip.es.length > 600_000, `clip of ${clip.es.length} bytes`);
  const id = 'THROTTLE01';
  await reg.run('rtmp-server', ['throttle', '400']); // 50 000 bytes/s
  assert.equal(p.proxyStats().rateBytesPerSec, 50_000);
  const { pub } = await connectAndPublish(p.publishUrl(id), { streamInfo: info, dropThresholdMs: 1e9, maxQueueBytes: 64 * 1024 * 1024 });
  await feed(pub, clip.frames, 0);
  // measure at the proxy over 2.5 s, after a settling second
  await delay(1000);
  const a = { b: p.proxyStats().bytesForwarded, t: Date.now() };
  await delay(2500);
  const b = { b: p.proxyStats().bytesForwarded, t: Date.now() };
  const rate = ((b.b - a.b) * 1000) / (b.t - a.t);
  assert.ok(rate > 50_000 * 0.8 && rate < 50_000 * 1.15, `throttled rate ${Math.round(rate)} B/s, cap 50000 B/s`);
  t.diagnostic(`throttled at 400 kbit/s: ${Math.round(rate)} B/s through the proxy (cap 50000 B/s)`);
  const inFlight = p.proxyStats().bytesIn - p.proxyStats().bytesForwarded;
  assert.ok(inFlight <= 128 * 1024, `the proxy holds at most a read chunk (${inFlight} B), the rest stays with the sender`);
  await reg.run('rtmp-server', ['unthrottle']);
  assert.equal(p.proxyStats().rateBytesPerSec, Infinity);
  const c = { b: p.proxyStats().bytesForwarded, t: Date.now() };
  await delay(1000);
  const fast = ((p.proxyStats().bytesForwarded - c.b) * 1000) / (Date.now() - c.t);
  t.diagnostic(`after unthrottle: ${Math.round(fast)} B/s`);
  assert.ok(fast > 4 * 50_000, `after unthrottle the backlog drains fast (${Math.round(fast)} B/s)`);
  pub.destroy();
});

test('stop() kills the child and closes every port; trackedChildren has no node-media-server', { timeout: 30_000 }, async () => {
  const q = await startLocalPlatform();
  const pid = q.ingestPid;
  const ports = [q.httpPort, q.httpsPort, q.rtmpPort, q.nmsRtmpPort, q.flvPort];
  assert.ok(alive(pid));
  assert.ok(trackedChildren().some((c) => c.pid === pid && c.name === 'node-media-server'));
  for (const port of ports) assert.equal(await connectResult(port), 'connected');
  await q.stop();
  assert.equal(alive(pid), false);
  assert.ok(!trackedChildren().some((c) => c.pid === pid));
  for (const port of ports) assert.equal(await connectResult(port), 'ECONNREFUSED', `port ${port} closed`);
  await q.stop(); // idempotent
  const reg2 = new FaultRegistry();
  q.registerFaults(reg2);
  await assert.rejects(reg2.run('rtmp-server', ['restart']), FaultError);
});

/**
 * Remove the NMS store folders whose `.lock` names this (ended) platform process: after a SIGKILL
 * no JavaScript of it ran, so its folder waits for the sweep of a later start.
 */
function removeStoresOf(pid: number | undefined): void {
  for (const n of fs.readdirSync(os.tmpdir())) {
    if (!n.startsWith('luatos-platform-nms-')) continue;
    const dir = path.join(os.tmpdir(), n);
    try {
      if (Number(fs.readFileSync(path.join(dir, '.lock'), 'utf8').trim()) === pid) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      /* not ours, or gone */
    }
  }
}

for (const how of ['exit', 'SIGKILL'] as const) {
  test(`no orphan when the parent process ends without stop() (${how})`, { timeout: 30_000, skip: how === 'SIGKILL' && process.platform === 'win32' ? 'no watchdog on Windows' : false }, async () => {
    const platformModule = path.join(__dirname, '../../runtime/host/platform/index.js');
    const code = `
const { startLocalPlatform } = require(${JSON.stringify(platformModule)});
startLocalPlatform().then((p) => {
  process.stdout.write(JSON.stringify({ pid: p.ingestPid, port: p.rtmpPort }) + '\\n');
  ${how === 'exit' ? 'setTimeout(() => process.exit(0), 100);' : 'setInterval(() => {}, 1000);'}
});`;
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('\n'), 15_000, 'platform started in the child');
    const { pid } = JSON.parse(out.split('\n')[0]) as { pid: number };
    assert.ok(alive(pid));
    if (how === 'SIGKILL') child.kill('SIGKILL');
    await new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
    await waitFor(() => !alive(pid), 5000, `node-media-server ${pid} gone after the parent's ${how}`);
    removeStoresOf(child.pid);
  });
}
