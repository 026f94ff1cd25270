/**
 * Web console: HTTP/WebSocket security and behaviour (plain Node clients), the video relay from a
 * real node-media-server (WS-FLV and HTTP-FLV), and a Playwright test that drives Debian's
 * Chromium against a real Device running a Lua script and a real RTMP publisher pushing into NMS.
 * The browser test skips (with the reason) when no Chromium is installed.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import WebSocket from 'ws';
import { Device } from '../../runtime/core/device';
import { LogSink, type LogRecord } from '../../runtime/core/log';
import { makeProfile } from '../../runtime/core/profile';
import { boardNetwork, boardProfile, getBoard, setupBoard } from '../../runtime/boards';
import { RtmpPublisher, RtmpState } from '../../runtime/media/rtmp';
import type { EncodedVideoFrame } from '../../runtime/media/types';
import { startWebConsole, isLoopbackHost, type DeviceStatus, type WebConsole } from '../../runtime/host/web';
import { LogHistory, classify } from '../../runtime/host/web/log-history';
import { statusProvider } from '../../runtime/host/status';
import { makeScriptDir } from '../helpers/run-lua';
import { makeH264 } from '../rtmp/helpers/h264-source';
import { freePort, waitForPort, delay, waitFor } from '../rtmp/helpers/net-util';
import { tempDir } from '../helpers/tmp';

// ------------------------------------------------------------------------------ helpers

// Browser globals used inside page.evaluate / waitForFunction callbacks (the project compiles
// without the DOM lib; these callbacks run in Chromium, not in Node).
interface PageElement {
  textContent: string | null;
  [k: string]: any;
}
declare const document: { querySelectorAll(sel: string): Iterable<PageElement>; querySelector(sel: string): any };
declare const window: { luatosConsole: { lines: number; shown: number; playing: boolean; lastSeq: number } };
declare function requestAnimationFrame(cb: (t: number) => void): number;
type HTMLVideoElement = any;
type HTMLCanvasElement = any;

const LOGGING_SCRIPT = `
PROJECT = "webtest"
VERSION = "1.0.0"
local sys = require("sys")
sys.taskInit(function()
  local n = 0
  while true do
    n = n + 1
    log.info("tick", "count", n)
    if n % 4 == 0 then log.warn("net", "link check", n) end
    sys.wait(40)
  end
end)
sys.subscribe("TEST_FAULT", function(word)
  log.info("fault", "script saw fault", word)
end)
sys.taskInit(function()
  sys.wait(300)
  log.error("upload", "failed, retry later")
  sys.wait(60000)
end)
sys.run()
`;

async function bootDevice(src = LOGGING_SCRIPT): Promise<Device> {
  const dir = makeScriptDir({ 'main.lua': src });
  const dataDir = tempDir('luatos-web-data-');
  const device = new Device({
    scripts: dir,
    engine: 'wasmoon',
    profile: makeProfile({ exitRebootDelayMs: 50 }),
    log: new LogSink({ stream: null }),
    dataDir,
    reboot: 'restart',
  });
  // the throw-away folders go with the device
  device.once('stopped', () => {
    for (const d of [dir, dataDir]) fs.rmSync(d, { recursive: true, force: true });
  });
  await device.start();
  return device;
}

function waitLine(device: Device, re: RegExp, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no log line matching ${re} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = device.logSink.on((_r: LogRecord, text: string) => {
      if (re.test(text)) {
        clearTimeout(timer);
        off();
        resolve(text);
      }
    });
  });
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An HTTP request with the path sent exactly as given (no normalisation). */
function rawRequest(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end(opts.body);
  });
}

/** Send a request line byte for byte over TCP (for paths http.request would refuse). */
function rawTcp(port: number, requestLine: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('end', () => resolve(out));
    s.on('close', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(5000, () => s.destroy());
    s.write(`${requestLine}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  });
}

type WsResult = { ok: true; ws: WebSocket; msgs: any[]; bins: Buffer[] } | { ok: false; status: number };

/** Open a WebSocket; JSON messages are collected from the first one on (they can arrive with the handshake). */
function openWs(url: string, origin?: string): Promise<WsResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    const msgs: any[] = [];
    const bins: Buffer[] = [];
    ws.on('message', (d: Buffer, binary: boolean) => {
      if (binary) bins.push(d);
      else msgs.push(JSON.parse(d.toString()));
    });
    ws.once('open', () => resolve({ ok: true, ws, msgs, bins }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ ok: false, status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', (e) => reject(e));
  });
}

// ---- node-media-server with HTTP-FLV / WS-FLV, in a child process (it exits the process on EADDRINUSE)

const NMS_CHILD = `
const { startNms } = require(process.argv[4]);
const [rtmpPort, httpPort, dir] = process.argv.slice(1);
startNms({ rtmpPort: Number(rtmpPort), httpPort: Number(httpPort), storeDir: dir, logLevel: 'error', publishGraceMs: 100 });
process.on('SIGTERM', () => process.exit(0));
`;
const NMS_LAUNCH = path.resolve(__dirname, '..', '..', 'runtime', 'host', 'platform', 'nms-launch.js');

class NmsHttp {
  proc!: ChildProcess;
  rtmpPort = 0;
  httpPort = 0;
  static async start(): Promise<NmsHttp> {
    const s = new NmsHttp();
    s.rtmpPort = await freePort();
    s.httpPort = await freePort();
    const dir = tempDir('luatos-nms-web-');
    s.proc = spawn(process.execPath, ['-e', NMS_CHILD, String(s.rtmpPort), String(s.httpPort), dir, NMS_LAUNCH], {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: path.resolve(__dirname, '..', '..', '..'),
    });
    let err = '';
    s.proc.stderr!.on('data', (d) => (err += d.toString()));
    try {
      await waitForPort(s.rtmpPort, 15_000);
      await waitForPort(s.httpPort, 15_000);
    } catch (e) {
      s.stop();
      throw new Error(`${(e as Error).message}; NMS stderr: ${err}`, { cause: e });
    }
    return s;
  }
  stop(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

/** A real RtmpPublisher fed with an H.264 clip in a loop at real time. */
class LoopPublisher {
  pub: RtmpPublisher;
  private running = true;
  /** true: keep the connection but send no frames (a frozen picture) */
  paused = false;
  private done: Promise<void>;
  private lastFrames = 0;
  private lastT = Date.now();
  fps = 0;
  constructor(
    readonly url: string,
    frames: EncodedVideoFrame[],
    fps: number,
  ) {
    const pub = new RtmpPublisher(url, { statsIntervalMs: 0, streamInfo: { width: 320, height: 240, framerate: fps, videodatarate: 300, videocodecid: 7 } });
    this.pub = pub;
    pub.connect();
    pub.start();
    const period = (frames.length * 1000) / fps;
    this.done = (async () => {
      const t0 = Date.now();
      for (let loop = 0; this.running; loop++) {
        for (const f of frames) {
          if (!this.running) return;
          const dts = f.dts + loop * period;
          const wait = t0 + dts - Date.now();
          if (wait > 0) await delay(wait);
          if (pub.state === RtmpState.PUBLISHING && !this.paused) pub.pushVideo({ ...f, dts, pts: dts });
        }
      }
    })();
  }
  stats(): DeviceStatus['rtmp']['stats'] {
    const s = this.pub.getStats();
    const now = Date.now();
    if (now - this.lastT >= 900) {
      this.fps = ((s.videoFrames - this.lastFrames) * 1000) / (now - this.lastT);
      this.lastFrames = s.videoFrames;
      this.lastT = now;
    }
    return { kbpsAvg: s.avgKbps, kbpsWindow: s.windowKbps, fps: this.fps, dropped: s.droppedFrames, queueMs: s.queueMs, bytesSent: s.bytesSent, videoFrames: s.videoFrames };
  }
  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    this.pub.destroy();
  }
}

async function launchChromium(exe: string) {
  const { chromium } = await import('playwright-core');
  const userDataDir = tempDir('luatos-web-chromium-');
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: exe,
    headless: true,
    viewport: { width: 1400, height: 860 },
    acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
  return { browser, userDataDir };
}

const NO_CHROMIUM = 'no Chromium found (/usr/bin/chromium, chromium-browser, google-chrome or $CHROMIUM_PATH); install it with apt-get install chromium';

function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  return null;
}

// ------------------------------------------------------------------------------ unit parts

test('LogHistory keeps the last N lines with continuous sequence numbers', () => {
  const h = new LogHistory(1000);
  for (let i = 1; i <= 2500; i++) h.push({ kind: 'U', ms: i, wall: 0, payload: Buffer.from(`I/user.t n ${i}`), boot: 1 }, `line ${i}`);
  assert.equal(h.size, 1000);
  assert.equal(h.firstSeq, 1501);
  assert.equal(h.lastSeq, 2500);
  const all = h.since(0);
  assert.equal(all.length, 1000);
  assert.equal(all[0].text, 'line 1501');
  assert.equal(all[999].text, 'line 2500');
  assert.deepEqual(
    h.since(2490).map((e) => e.seq),
    [2491, 2492, 2493, 2494, 2495, 2496, 2497, 2498, 2499, 2500],
  );
  assert.equal(h.since(2500).length, 0);
});

test('classify: level and tag of user and firmware lines', () => {
  assert.deepEqual(classify({ kind: 'U', ms: 0, wall: 0, payload: Buffer.from('W/user.net link down'), boot: 1 }), { level: 'W', tag: 'net', module: 'user' });
  assert.deepEqual(classify({ kind: 'U', ms: 0, wall: 0, payload: Buffer.from('I/user.main'), boot: 1 }), { level: 'I', tag: 'main', module: 'user' });
  assert.deepEqual(classify({ kind: 'U', ms: 0, wall: 0, payload: Buffer.from('plain print'), boot: 1 }), { level: 'U', tag: '', module: '' });
  assert.deepEqual(classify({ kind: 'E', ms: 0, wall: 0, module: 'wlan', payload: Buffer.from('x'), boot: 1 }), { level: 'E', tag: 'wlan', module: 'wlan' });
});

test('one tag grammar: the console page and luatos logs --tag give the same answers (static/tag-filter.js)', async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tf = require(path.resolve(__dirname, '..', '..', '..', 'runtime', 'host', 'web', 'static', 'tag-filter.js'));
  const { parseLog } = await import('../../runtime/host/logs/parse');
  const { LogFilter } = await import('../../runtime/host/logs/filter');
  const log = [
    '[2026-01-22 10:00:00.000] luat:U(10):I/user.main hello',
    '[2026-01-22 10:00:00.001] luat:U(11):W/user.rtmp_app.task retry',
    '[2026-01-22 10:00:00.002] luat:D(12):wlan:STA connected',
    '[2026-01-22 10:00:00.003] ap1:lwip:I(13):sta ip start',
    '[2026-01-22 10:00:00.004] luat:U(14):plain print',
  ].join('\n');
  const entries = parseLog(log);
  // the console's view of the same lines, through the server's classify
  const records: LogRecord[] = [
    { kind: 'U', ms: 10, wall: 0, payload: Buffer.from('I/user.main hello'), boot: 1 },
    { kind: 'U', ms: 11, wall: 0, payload: Buffer.from('W/user.rtmp_app.task retry'), boot: 1 },
    { kind: 'D', ms: 12, wall: 0, module: 'wlan', payload: Buffer.from('STA connected'), boot: 1 },
    { kind: 'I', ms: 13, wall: 0, module: 'ap1:lwip', payload: Buffer.from('sta ip start'), boot: 1 },
    { kind: 'U', ms: 14, wall: 0, payload: Buffer.from('plain print'), boot: 1 },
  ];
  const cases: [string, number[]][] = [
    ['user', [0, 1]],
    ['rtmp_app', [1]],
    ['lwip', [3]],
    ['wlan,main', [0, 2]],
    ['!user', [2, 3, 4]],
    ['user,!main', [1]],
    ['MAIN', []],
  ];
  for (const [spec, want] of cases) {
    const logs = new LogFilter({ tags: [spec] });
    const fromLogs = entries.map((e, i) => (logs.test(e) ? i : -1)).filter((i) => i >= 0);
    const f = tf.parse(spec, false);
    const fromPage = records.map((r, i) => {
      const c = classify(r);
      return tf.matches(f, c.tag, c.module) ? i : -1;
    }).filter((i: number) => i >= 0);
    assert.deepEqual(fromLogs, want, `logs --tag ${spec}`);
    assert.deepEqual(fromPage, want, `console tag box ${spec}`);
  }
  // the console's "Aa" off and logs -i: case-insensitive
  assert.equal(new LogFilter({ tags: ['MAIN'] }, { ignoreCase: true }).test(entries[0]), true);
});

test('fault usage texts become buttons with parameters (static/usage.js, shared with the page)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const u = require(path.resolve(__dirname, '..', '..', '..', 'runtime', 'host', 'web', 'static', 'usage.js'));
  assert.deepEqual(u.parseUsage(''), [{ label: '', items: [] }]);
  const wifi = u.parseUsage('down | up | password <new> [ssid]');
  assert.deepEqual(wifi.map((a: { label: string }) => a.label), ['down', 'up', 'password']);
  assert.deepEqual(u.buildArgs(wifi[2], ['secret', '']), { args: ['password', 'secret'] });
  assert.deepEqual(u.buildArgs(wifi[2], ['secret', 'ap2']), { args: ['password', 'secret', 'ap2'] });
  assert.deepEqual(u.buildArgs(wifi[2], ['', 'ap2']), { error: 'missing new', index: 0 });
  const http = u.parseUsage('fail <host> <status | reset | timeout> [count | always] | ok [host]');
  assert.deepEqual(http.map((a: { label: string }) => a.label), ['fail', 'ok']);
  assert.deepEqual(http[0].items[2], { param: 'status|reset|timeout', optional: false, choices: ['status', 'reset', 'timeout'] });
  assert.deepEqual(http[0].items[3], { param: 'count|always', optional: true, choices: ['count', 'always'] });
  assert.deepEqual(u.buildArgs(http[0], ['video.luatos.com', '500', 'always']), { args: ['fail', 'video.luatos.com', '500', 'always'] });
  assert.deepEqual(u.buildArgs(http[1], ['']), { args: ['ok'] });
  const rtmp = u.parseUsage('kill | restart | throttle N | unthrottle');
  assert.deepEqual(rtmp.map((a: { label: string }) => a.label), ['kill', 'restart', 'throttle', 'unthrottle']);
  assert.deepEqual(u.buildArgs(rtmp[2], ['300']), { args: ['throttle', '300'] });
});

test('status: tasks sleeping in sys.wait with their wake-up times; a sleep right after an error is a retry', async () => {
  const device = await bootDevice(`
sys.taskInit(function() sys.wait(30000) end)
sys.taskInit(function()
  sys.wait(200)
  log.error("platform", "HTTP 500, retrying")
  sys.wait(60000)
end)
sys.run()
`);
  try {
    const status = statusProvider(device);
    await waitLine(device, /E\/user\.platform HTTP 500/);
    await delay(100);
    const s = status().tasks!.sleeping;
    assert.equal(s.length, 2, JSON.stringify(s));
    const [a, b] = s;
    assert.equal(a.ms, 30000);
    assert.equal(a.afterError, false);
    assert.ok(a.wakeInMs > 20000 && a.wakeInMs <= 30000, String(a.wakeInMs));
    assert.equal(b.ms, 60000);
    assert.equal(b.afterError, true);
    assert.ok(b.wakeInMs > 50000 && b.wakeInMs <= 60000, String(b.wakeInMs));
  } finally {
    device.dispose();
  }
});

test('isLoopbackHost and the warning for a non-loopback bind', async () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '192.168.1.5', 'example.com']) assert.equal(isLoopbackHost(h), false, h);
  const device = await bootDevice('sys = require("sys") sys.run()');
  const warnings: string[] = [];
  // 0.0.0.0 for a few milliseconds: the only way to see the real warning path
  const c = await startWebConsole({ device, host: '0.0.0.0', port: 0, onWarning: (w) => warnings.push(w) });
  try {
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /not only on loopback/);
    assert.deepEqual(c.warnings, warnings);
    assert.equal(c.url, `http://127.0.0.1:${c.port}/`);
  } finally {
    await c.close();
    device.dispose();
  }
  const device2 = await bootDevice('sys = require("sys") sys.run()');
  const c2 = await startWebConsole({ device: device2, onWarning: (w) => warnings.push(w) });
  assert.equal(warnings.length, 1, 'no warning on 127.0.0.1');
  assert.match(c2.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  await c2.close();
  device2.dispose();
});

// ------------------------------------------------------------------------------ server against a real device

describe('web console server', () => {
  let device: Device;
  let con: WebConsole;
  let port = 0;
  let host = '';
  const faultRuns: string[][] = [];

  before(async () => {
    device = await bootDevice();
    device.faults.register({ name: 'testfault', usage: 'ping <word> | boom', description: 'test fault' }, (args) => {
      faultRuns.push(args);
      if (args[0] === 'boom') throw new Error('boom failed on purpose');
      if (args[0] === 'ping') device.vm?.publish('TEST_FAULT', args[1] ?? '');
    });
    con = await startWebConsole({ device, port: 0, historyLines: 60 });
    port = con.port;
    host = `127.0.0.1:${port}`;
    await waitLine(device, /I\/user\.tick count 3\b/);
  });
  after(async () => {
    await con.close();
    device.dispose();
  });

  test('serves the page, the mpegts.js bundle and security headers', async () => {
    const r = await rawRequest(port, { path: '/' });
    assert.equal(r.status, 200);
    assert.match(r.body, /<title>LuatOS-PC console<\/title>/);
    assert.match(String(r.headers['content-security-policy']), /default-src 'none'/);
    assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['x-frame-options'], 'DENY');
    const js = await rawRequest(port, { path: '/vendor/mpegts.js' });
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /javascript/);
    assert.ok(js.body.includes('mpegts'), 'the mpegts.js bundle');
    for (const p of ['/app.js', '/style.css']) assert.equal((await rawRequest(port, { path: p })).status, 200, p);
  });

  test('never serves files outside the static folder', async () => {
    const secret = fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8');
    const attempts = [
      '/../package.json',
      '/../../package.json',
      '/../../../package.json',
      '/%2e%2e/package.json',
      '/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/%2E%2E%2Fpackage.json',
      '/..%2f..%2f..%2fpackage.json',
      '/..%5c..%5cpackage.json',
      '/%252e%252e/package.json',
      '//etc/passwd',
      '/etc/passwd',
      '/node_modules/mpegts.js/package.json',
      '/vendor/../../../package.json',
      '/static/../server.ts',
      '/index.html%00.js',
      '/C:/Windows/win.ini',
      '/%2fetc%2fpasswd',
    ];
    for (const p of attempts) {
      const r = await rawRequest(port, { path: p });
      assert.ok(r.status === 400 || r.status === 404, `${p} -> ${r.status}`);
      assert.ok(!r.body.includes('"name": "luatos-pc"') && !r.body.includes('root:'), `${p} leaked a file`);
    }
    // absolute-form and odd request targets sent byte for byte
    for (const line of ['GET http://127.0.0.1/../../package.json HTTP/1.1', 'GET /..\\..\\package.json HTTP/1.1', 'GET ../package.json HTTP/1.1']) {
      const out = await rawTcp(port, line, host);
      assert.ok(!out.includes('"name": "luatos-pc"'), `${line} leaked package.json`);
      assert.match(out, /^HTTP\/1\.1 (400|404)/, line);
    }
    assert.ok(secret.includes('"name": "luatos-pc"'), 'the file the attempts target exists');
  });

  test('refuses requests whose Host is not the console (DNS rebinding)', async () => {
    const r = await rawRequest(port, { path: '/api/info', headers: { Host: `evil.example:${port}` } });
    assert.equal(r.status, 403);
    assert.ok(!r.body.includes('token'));
    const ok = await rawRequest(port, { path: '/api/info', headers: { Host: `localhost:${port}` } });
    assert.equal(ok.status, 200);
  });

  test('WebSocket upgrades need the console\'s own Origin', async () => {
    const url = `ws://${host}/ws`;
    for (const origin of ['http://evil.example', `http://localhost:${port + 1}`, `https://${host}`, 'null']) {
      const r = await openWs(url, origin);
      assert.equal(r.ok, false, origin);
      if (!r.ok) assert.equal(r.status, 403, origin);
    }
    const none = await openWs(url);
    assert.equal(none.ok, false, 'no Origin');
    const video = await openWs(`ws://${host}/video`, 'http://evil.example');
    assert.equal(video.ok, false, '/video with a foreign Origin');

    const good = await openWs(url, `http://${host}`);
    assert.equal(good.ok, true);
    if (!good.ok) return;
    const msgs = good.msgs;
    await waitFor(() => msgs.some((m) => m.t === 'log' && !m.history), 5000, 'a live log batch');
    good.ws.close();
    const hello = msgs[0];
    assert.equal(hello.t, 'hello');
    assert.ok(hello.faults.some((f: { name: string }) => f.name === 'testfault'));
    assert.ok(hello.faults.some((f: { name: string }) => f.name === 'reboot'));
    const lines = msgs.filter((m) => m.t === 'log').flatMap((m) => m.lines);
    const seqs = lines.map((l: unknown[]) => l[0] as number);
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, 'no gap or duplicate between history and live lines');
    const tick = lines.find((l: unknown[]) => /I\/user\.tick count/.test(l[3] as string));
    assert.ok(tick, 'tick lines arrive');
    assert.equal(tick[1], 'I');
    assert.equal(tick[2], 'tick');
    assert.match(tick[3], /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] luat:U\(\d+\):I\/user\.tick count \d+$/);
    assert.ok(msgs.some((m) => m.t === 'status' && m.s.boots === 1));
  });

  test('a reconnecting page gets only the lines it missed', async () => {
    const first = await openWs(`ws://${host}/ws`, `http://${host}`);
    assert.ok(first.ok);
    if (!first.ok) return;
    const m1 = first.msgs;
    await waitFor(() => m1.some((m) => m.t === 'log'), 5000, 'lines');
    const session = m1[0].session as string;
    first.ws.close();
    const last = m1.filter((m) => m.t === 'log').flatMap((m) => m.lines).at(-1)[0] as number;
    await delay(300);
    const again = await openWs(`ws://${host}/ws?since=${last}&session=${session}`, `http://${host}`);
    assert.ok(again.ok);
    if (!again.ok) return;
    const m2 = again.msgs;
    await waitFor(() => m2.some((m) => m.t === 'log'), 5000, 'lines');
    again.ws.close();
    const firstSeq = m2.find((m) => m.t === 'log').lines[0][0];
    assert.equal(firstSeq, last + 1);
  });

  test('POST /api/fault: Origin, content type and token are required; the fault runs and the script reacts', async () => {
    const info = JSON.parse((await rawRequest(port, { path: '/api/info' })).body);
    const token = info.token as string;
    assert.match(token, /^[0-9a-f]{48}$/);
    const body = JSON.stringify({ name: 'testfault', args: ['ping', 'x1'] });
    const good = { 'Content-Type': 'application/json', Origin: `http://${host}`, 'X-Console-Token': token };
    const bad: [string, Record<string, string>][] = [
      ['no Origin', { 'Content-Type': 'application/json', 'X-Console-Token': token }],
      ['foreign Origin', { ...good, Origin: 'http://evil.example' }],
      ['no token', { 'Content-Type': 'application/json', Origin: `http://${host}` }],
      ['wrong token', { ...good, 'X-Console-Token': 'x'.repeat(48) }],
      ['form post', { ...good, 'Content-Type': 'application/x-www-form-urlencoded' }],
    ];
    for (const [what, headers] of bad) {
      const r = await rawRequest(port, { method: 'POST', path: '/api/fault', headers, body });
      assert.ok(r.status === 403 || r.status === 415, `${what} -> ${r.status}`);
    }
    assert.equal(faultRuns.length, 0, 'none of the refused requests ran the fault');

    const seen = waitLine(device, /I\/user\.fault script saw fault x1/);
    const r = await rawRequest(port, { method: 'POST', path: '/api/fault', headers: good, body });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { ok: true });
    assert.deepEqual(faultRuns, [['ping', 'x1']]);
    await seen;

    const boom = await rawRequest(port, { method: 'POST', path: '/api/fault', headers: good, body: JSON.stringify({ name: 'testfault', args: ['boom'] }) });
    assert.equal(boom.status, 500);
    assert.match(JSON.parse(boom.body).error, /boom failed on purpose/);
    const unknown = await rawRequest(port, { method: 'POST', path: '/api/fault', headers: good, body: JSON.stringify({ name: 'nope' }) });
    assert.equal(unknown.status, 404);
    assert.match(JSON.parse(unknown.body).error, /no fault 'nope'/);
    const malformed = await rawRequest(port, { method: 'POST', path: '/api/fault', headers: good, body: JSON.stringify({ name: 'testfault', args: [1] }) });
    assert.equal(malformed.status, 400);
  });

  test('GET /api/log downloads the bounded history in the Luatools format', async () => {
    // historyLines is 60 here; wait until the device has logged more than that
    await waitFor(() => con.history.lastSeq > 100, 20_000, 'more lines than the history holds');
    const r = await rawRequest(port, { path: '/api/log' });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-disposition']), /^attachment; filename="luatos-\d{8}-\d{6}\.log"$/);
    const lines = r.body.split('\n');
    assert.equal(lines.pop(), '', 'ends with a newline');
    assert.equal(lines.length, 60, 'exactly the bounded history');
    for (const l of lines) assert.match(l, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] luat:[UDIWE]\(\d+\):/);
    const counts = lines.map((l) => /tick count (\d+)$/.exec(l)?.[1]).filter(Boolean).map(Number);
    assert.ok(counts.length > 30);
    for (let i = 1; i < counts.length; i++) assert.equal(counts[i], counts[i - 1] + 1, 'in order, nothing missing');
  });

  test('long print output is split into 512-byte records in the .log download', async () => {
    const d = await bootDevice(`sys = require("sys") sys.taskInit(function() sys.wait(50) log.info("long", string.rep("a", 1200)) end) sys.run()`);
    const c = await startWebConsole({ device: d, port: 0 });
    try {
      await waitLine(d, /I\/user\.long a+/);
      const r = await rawRequest(c.port, { path: '/api/log' });
      const rec = r.body.split('\n').filter((l) => l.includes('luat:U('));
      const long = rec.filter((l) => /luat:U\(\d+\):(I\/user\.long )?a+$/.test(l));
      assert.equal(long.length, 3, 'the 1213-byte payload is three records');
      assert.equal(long.map((l) => l.replace(/^.*?luat:U\(\d+\):/, '')).join(''), `I/user.long ${'a'.repeat(1200)}`);
    } finally {
      await c.close();
      d.dispose();
    }
  });
});

// ------------------------------------------------------------------------------ video relay + browser

describe('live video and the page in Chromium', () => {
  let nms: NmsHttp;
  let clip: ReturnType<typeof makeH264>;

  before(async () => {
    nms = await NmsHttp.start();
    clip = makeH264({ width: 320, height: 240, fps: 15, seconds: 4, gop: 15 });
  });
  after(() => nms?.stop());

  for (const kind of ['ws', 'http'] as const) {
    test(`/video relays the ingest's ${kind === 'ws' ? 'WS-FLV' : 'HTTP-FLV'} stream to the page`, { timeout: 60_000 }, async () => {
      const name = `relay_${kind}_${Date.now()}`;
      const pub = new LoopPublisher(`rtmp://127.0.0.1:${nms.rtmpPort}/live/${name}`, clip.frames, clip.fps);
      const device = await bootDevice('sys = require("sys") sys.run()');
      let url: string | null = null;
      const con = await startWebConsole({ device, videoUrl: () => url });
      try {
        const origin = `http://127.0.0.1:${con.port}`;
        // before the stream exists: the relay says so (close code 4404)
        const early = await openWs(`ws://127.0.0.1:${con.port}/video`, origin);
        assert.ok(early.ok);
        if (!early.ok) return;
        const code = await new Promise<number>((resolve) => early.ws.once('close', (c) => resolve(c)));
        assert.equal(code, 4404);

        await waitFor(() => pub.pub.state === RtmpState.PUBLISHING, 10_000, 'publishing');
        url = `${kind}://127.0.0.1:${nms.httpPort}/live/${name}.flv`;
        const r = await openWs(`ws://127.0.0.1:${con.port}/video`, origin);
        assert.ok(r.ok);
        if (!r.ok) return;
        const chunks = r.bins;
        await waitFor(() => Buffer.concat(chunks).length > 20_000, 10_000, 'FLV bytes');
        r.ws.close();
        assert.equal(r.msgs.length, 0, 'binary messages only');
        const flv = Buffer.concat(chunks);
        assert.equal(flv.subarray(0, 3).toString('latin1'), 'FLV');
        // walk the tags: video tags (type 9) with an AVC sequence header first
        let off = flv.readUInt32BE(5) + 4;
        const types: number[] = [];
        while (off + 11 <= flv.length) {
          const type = flv[off] & 0x1f;
          const size = flv.readUIntBE(off + 1, 3);
          if (off + 11 + size + 4 > flv.length) break;
          types.push(type);
          if (type === 9 && types.filter((t) => t === 9).length === 1) {
            assert.equal(flv[off + 11] & 0x0f, 7, 'AVC');
            assert.equal(flv[off + 12], 0, 'sequence header first');
          }
          off += 11 + size + 4;
        }
        assert.ok(types.filter((t) => t === 9).length > 10, `video tags: ${types.length}`);
      } finally {
        await con.close();
        await pub.stop();
        device.dispose();
      }
    });
  }

  test('Chromium: log lines arrive, filters, search, pause, a fault button, the device panel and the video plays', { timeout: 180_000 }, async (t) => {
    const exe = findChromium();
    if (!exe) {
      console.log(`# skip: ${NO_CHROMIUM}`);
      t.skip(NO_CHROMIUM);
      return;
    }
    const device = await bootDevice();
    const real = statusProvider(device);
    const faultRuns: string[][] = [];
    device.faults.register({ name: 'testfault', usage: 'ping <word> | boom', description: 'test fault' }, (args) => {
      faultRuns.push(args);
      if (args[0] === 'ping') device.vm?.publish('TEST_FAULT', args[1] ?? '');
    });
    const name = `page_${Date.now()}`;
    let pub: LoopPublisher | null = null;
    let videoUrl: string | null = null;
    let wifiState = 'connected';
    const status = (): DeviceStatus => ({
      wifi: { state: wifiState, ssid: 'luatos-test', ip: '192.168.4.23' },
      rtmp: { state: pub ? pub.pub.state : null, url: pub?.url ?? null, stats: pub ? pub.stats() : null },
      boots: device.boots,
      uptimeMs: device.uptime(),
      memory: { lua: { total: 1 << 20, used: 210_000, max: 250_000 }, sys: { total: 4 << 20, used: 1_500_000, max: 1_600_000 } },
      tasks: real().tasks,
    });
    const con = await startWebConsole({ device, videoUrl: () => videoUrl, status });
    const { browser, userDataDir } = await launchChromium(exe);
    const problems: string[] = [];
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      page.on('console', (m) => {
        if (m.type() === 'error' && !/Failed to load resource.*favicon/.test(m.text())) problems.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      await page.goto(con.url);

      // ---- log lines arrive (rendered rows only: the viewport holds a few dozen of them)
      await page.waitForSelector('#log-rows .row:not([hidden])', { timeout: 10_000 });
      await page.waitForFunction(() => (window as any).luatosConsole.lines > 30, null, { timeout: 10_000 });
      const rowCount = await page.locator('#log-rows .row:not([hidden])').count();
      assert.ok(rowCount > 5 && rowCount < 120, `windowed rendering: ${rowCount} rows in the DOM`);
      await page.waitForFunction(() => [...document.querySelectorAll('#log-rows .row')].some((r) => /I\/user\.tick count \d+/.test(r.textContent ?? '')));
      assert.equal(await page.locator('#conn').textContent(), '● live');

      // ---- level + tag filter: only W/user.net rows
      await page.click('.levels button[data-level="I"]');
      await page.fill('#f-tag', 'net');
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('#log-rows .row:not([hidden])')];
        return rows.length > 2 && rows.every((r) => /luat:U\(\d+\):W\/user\.net link check \d+$/.test(r.textContent ?? ''));
      }, null, { timeout: 10_000 });
      // ---- the tag grammar of `luatos logs --tag`: 'user' keeps every Lua log line
      await page.click('.levels button[data-level="I"]');
      await page.fill('#f-tag', 'user');
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('#log-rows .row:not([hidden])')];
        return rows.length > 5 && rows.every((r) => /luat:U\(\d+\):[DIWE]\/user\./.test(r.textContent ?? '')) && rows.some((r) => /I\/user\.tick/.test(r.textContent ?? ''));
      }, null, { timeout: 10_000 });
      // ---- regex text filter (tag filter cleared, I back on): counts ending in 7
      await page.fill('#f-tag', '');
      await page.check('#f-regex');
      await page.fill('#f-text', 'tick count \\d*7$');
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('#log-rows .row:not([hidden])')];
        return rows.length >= 3 && rows.every((r) => /I\/user\.tick count \d*7$/.test(r.textContent ?? ''));
      }, null, { timeout: 10_000 });
      // an invalid regex is flagged, not applied
      await page.fill('#f-text', 'tick(');
      await page.waitForSelector('#f-text.bad');
      await page.fill('#f-text', '');
      await page.uncheck('#f-regex');

      // ---- search with highlight
      await page.fill('#s-text', 'link check');
      await page.waitForSelector('#log-rows .row mark', { timeout: 5000 });
      assert.equal(await page.locator('#log-rows .row mark').first().textContent(), 'link check');
      await page.press('#s-text', 'Enter');
      await page.waitForSelector('#log-rows .row.cur');
      assert.match((await page.locator('#s-count').textContent()) ?? '', /^\d+\/\d+$/);
      await page.fill('#s-text', '');
      // jumping to a match stops following the tail (unless the match sits at the very bottom,
      // where scrolling resumes it); the follow button brings it back
      await page.evaluate(() => {
        const b = document.querySelector('#b-follow');
        if (!b.hidden) b.click();
      });
      await page.waitForSelector('#b-follow', { state: 'hidden' });

      // ---- pause / resume
      await page.click('#b-pause');
      const shown0 = await page.evaluate(() => (window as any).luatosConsole.shown);
      const lines0 = await page.evaluate(() => (window as any).luatosConsole.lines);
      await delay(700);
      assert.equal(await page.evaluate(() => (window as any).luatosConsole.shown), shown0, 'paused: the view does not change');
      assert.ok((await page.evaluate(() => (window as any).luatosConsole.lines)) > lines0, 'paused: lines are still collected');
      assert.match((await page.locator('#l-state').textContent()) ?? '', /paused · \d+ new/);
      await page.click('#b-pause');
      await page.waitForFunction((n) => (window as any).luatosConsole.shown > n, shown0);

      // ---- multi-line records (a Lua traceback as sys.lua logs it, with \r\n; a 61-line one)
      const writeUser = (text: string) => device.logSink.write({ kind: 'U', ms: device.uptime(), wall: Date.now(), payload: Buffer.from(text), boot: device.boots });
      writeUser("E/user.coroutine.resume main.lua:9: boom\r\nstack traceback:\r\n\t[C]: in function 'error'\r\n\tmain.lua:9: in function <main.lua:7>");
      writeUser('E/user.coroutine.resume long one\r\n' + Array.from({ length: 60 }, (_, i) => `\tframe ${i}`).join('\r\n'));
      await page.waitForFunction(() => [...document.querySelectorAll('#log-rows .row:not([hidden])')].some((r) => /long one/.test(r.textContent ?? '')), null, { timeout: 5000 });
      await page.click('#b-pause'); // freeze the view to measure it
      const geo = await page.evaluate(() =>
        [...document.querySelectorAll('#log-rows .row:not([hidden])')].map((r) => {
          const b = r.getBoundingClientRect();
          return { top: b.top, bottom: b.bottom, text: r.textContent ?? '' };
        }),
      );
      await page.click('#b-pause');
      for (let i = 1; i < geo.length; i++) assert.ok(geo[i].top >= geo[i - 1].bottom - 0.5, `row ${i} starts below row ${i - 1}: ${geo[i - 1].text.slice(0, 60)}`);
      const tbRow = geo.find((g) => /boom/.test(g.text));
      assert.ok(tbRow, 'the traceback row is rendered');
      assert.match(tbRow!.text, /boom\nstack traceback:\n\t\[C\]: in function 'error'\n\tmain\.lua:9: in function <main\.lua:7>$/, 'shown whole');
      assert.ok(Math.abs(tbRow!.bottom - tbRow!.top - 4 * 18) < 1, `4 lines tall: ${tbRow!.bottom - tbRow!.top}`);
      const longRow = geo.find((g) => /long one/.test(g.text))!;
      assert.match(longRow.text, /frame 37\n… 22 more lines \(click the row to see the whole record\)$/, 'folded with a marker');
      // following goes on after a tall record: no "↓ follow", and newer lines keep showing
      const tickNow = async () => page.evaluate(() => Math.max(0, ...[...document.querySelectorAll('#log-rows .row:not([hidden])')].map((r) => Number(/tick count (\d+)/.exec(r.textContent ?? '')?.[1] ?? 0))));
      writeUser("E/user.coroutine.resume main.lua:9: again\r\nstack traceback:\r\n\tmain.lua:9: in function <main.lua:7>");
      const t0 = await tickNow();
      await page.waitForFunction((n) => [...document.querySelectorAll('#log-rows .row:not([hidden])')].some((r) => Number(/tick count (\d+)/.exec(r.textContent ?? '')?.[1] ?? 0) > n + 10), t0, { timeout: 10_000 });
      assert.equal(await page.locator('#b-follow').isHidden(), true, 'still following');

      // ---- a fault button, and the script's reaction in the log
      await page.waitForSelector('button.fault-btn[data-fault="testfault"][data-args="ping"]');
      assert.ok(await page.locator('button.fault-btn[data-fault="reboot"]').count(), 'a button per registered fault');
      await page.fill('#faults input[placeholder="word"]', 'hello42');
      await page.click('button.fault-btn[data-fault="testfault"][data-args="ping"]');
      await page.waitForFunction(() => /✓ testfault ping hello42/.test(document.querySelector('#fault-result')?.textContent ?? ''), null, { timeout: 5000 });
      assert.deepEqual(faultRuns, [['ping', 'hello42']]);
      // every button says what it will do; "up" does not repeat the fault's own text
      const title = (sel: string) => page.locator(sel).getAttribute('title');
      const tDown = await title('button.fault-btn[data-fault="wifi"][data-args="down"]');
      const tUp = await title('button.fault-btn[data-fault="wifi"][data-args="up"]');
      assert.match(tDown ?? '', /^wifi down — switch the access point off/);
      assert.match(tUp ?? '', /^wifi up — switch the access point on again/);
      assert.match((await title('button.fault-btn[data-fault="testfault"][data-args="boom"]')) ?? '', /^testfault boom — testfault boom \(testfault: test fault\)$/);
      assert.match((await title('button.fault-btn[data-fault="reboot"]')) ?? '', /RESET key/);
      // a required input left empty: nothing runs, and the page says why
      const runsBefore = faultRuns.length;
      await page.fill('#faults input[placeholder="word"]', '');
      await page.click('button.fault-btn[data-fault="wifi"][data-args="password"]');
      await page.waitForFunction(() => /^✗ wifi password <new> \[ssid\]: not run — type the new first/.test(document.querySelector('#fault-result')?.textContent ?? ''), null, { timeout: 5000 });
      // what a run did is reported
      await page.fill('#faults input[placeholder="word"]', 'again');
      await page.click('button.fault-btn[data-fault="testfault"][data-args="ping"]');
      await page.waitForFunction(() => /^✓ testfault ping again — done: /.test(document.querySelector('#fault-result')?.textContent ?? ''), null, { timeout: 5000 });
      assert.equal(faultRuns.length, runsBefore + 1);
      await page.waitForFunction(() => [...document.querySelectorAll('#log-rows .row')].some((r) => /I\/user\.fault script saw fault hello42/.test(r.textContent ?? '')), null, { timeout: 5000 });
      await page.waitForFunction(() => [...document.querySelectorAll('#log-rows .row.note')].some((r) => /fault: testfault ping hello42/.test(r.textContent ?? '')));

      // ---- the video: nothing published yet; then the device "publishes" and the page picks it up
      assert.match((await page.locator('#v-overlay').textContent()) ?? '', /waiting for the device to publish/);
      pub = new LoopPublisher(`rtmp://127.0.0.1:${nms.rtmpPort}/live/${name}`, clip.frames, clip.fps);
      await waitFor(() => pub!.pub.state === RtmpState.PUBLISHING, 10_000, 'publishing');
      videoUrl = `ws://127.0.0.1:${nms.httpPort}/live/${name}.flv`;
      await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames > 0, null, { timeout: 20_000 });
      const f1 = await page.evaluate(() => (document.querySelector('video') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames);
      await delay(2000);
      const f2 = await page.evaluate(() => (document.querySelector('video') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames);
      assert.ok(f2 >= f1 + 15, `frames grow: ${f1} -> ${f2} in 2 s`);
      await page.waitForFunction(() => /^\d+\.\d\d s$/.test(document.querySelector('#v-delay')?.textContent ?? ''));
      const delayS = parseFloat((await page.locator('#v-delay').textContent()) ?? 'NaN');
      assert.ok(delayS >= 0 && delayS < 3, `player delay ${delayS} s`);
      assert.equal(await page.locator('#v-state').textContent(), 'live');

      // ---- a frozen picture (connection kept, no frames; Wi-Fi down): "stalled" and why, not "live"
      wifiState = 'disconnected';
      pub.paused = true;
      await page.waitForFunction(() => document.querySelector('#v-state')?.textContent === 'stalled', null, { timeout: 8000 });
      assert.match((await page.locator('#v-overlay').textContent()) ?? '', /no new frames for \d+ s — Wi-Fi is disconnected/);
      wifiState = 'connected';
      pub.paused = false;
      await page.waitForFunction(() => document.querySelector('#v-state')?.textContent === 'live', null, { timeout: 20_000 });

      // ---- device panel and chart
      await page.waitForFunction(() => /PUBLISHING \(4\)/.test(document.querySelector('#d-rtmp')?.textContent ?? ''));
      assert.equal(await page.locator('#d-ip').textContent(), '192.168.4.23');
      // the script's task sleeps 60 s right after log.error: the panel says it is retrying
      await page.waitForFunction(() => /^retrying in \d+ s \(a task sleeps 60 s after an error\)$/.test(document.querySelector('#d-tasks')?.textContent ?? ''), null, { timeout: 5000 });
      await page.waitForFunction(() => /^connected/.test(document.querySelector('#d-wifi')?.textContent ?? ''), null, { timeout: 5000 });
      assert.equal(await page.locator('#d-boots').textContent(), '1');
      await page.waitForFunction(() => Number(document.querySelector('#c-kbps')?.textContent) > 0, null, { timeout: 10_000 });
      const chartInk = await page.evaluate(() => {
        const c = document.querySelector('#chart') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let blue = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 2] > 200 && d[i] < 120 && d[i + 3] > 0) blue++;
        return blue;
      });
      assert.ok(chartInk > 20, `the kbps line is drawn (${chartInk} px)`);

      // ---- the stream goes away, then comes back under another name: the page follows
      await pub.stop();
      pub = null;
      videoUrl = null;
      await page.waitForFunction(() => {
        const o = document.querySelector('#v-overlay');
        return !o.hidden && /waiting for the device to publish/.test(o.textContent ?? '');
      }, null, { timeout: 5000 });
      pub = new LoopPublisher(`rtmp://127.0.0.1:${nms.rtmpPort}/live/${name}_again`, clip.frames, clip.fps);
      await waitFor(() => pub!.pub.state === RtmpState.PUBLISHING, 10_000, 'publishing again');
      videoUrl = `ws://127.0.0.1:${nms.httpPort}/live/${name}_again.flv`;
      await page.waitForFunction(() => document.querySelector('#v-state')?.textContent === 'live' && document.querySelector('#v-overlay').hidden, null, { timeout: 20_000 });
      const g1 = await page.evaluate(() => (document.querySelector('video') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames);
      await delay(1500);
      const g2 = await page.evaluate(() => (document.querySelector('video') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames);
      assert.ok(g2 >= g1 + 10, `frames grow again: ${g1} -> ${g2} in 1.5 s`);

      // ---- download of the .log (server history)
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#b-download')]);
      assert.match(dl.suggestedFilename(), /^luatos-\d{8}-\d{6}\.log$/);
      const file = await dl.path();
      const text = fs.readFileSync(file!, 'utf8');
      assert.match(text, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] luat:/);
      assert.match(text, /I\/user\.fault script saw fault hello42/);

      // ---- "Save view": the rows shown, client side, without console notes
      await page.fill('#f-tag', 'net');
      await page.waitForFunction(() => [...document.querySelectorAll('#log-rows .row:not([hidden])')].every((r) => /W\/user\.net/.test(r.textContent ?? '')));
      const [dv] = await Promise.all([page.waitForEvent('download'), page.click('#b-download-view')]);
      assert.match(dv.suggestedFilename(), /^luatos-view-\d{8}-\d{6}\.log$/);
      const viewLines = fs.readFileSync((await dv.path())!, 'utf8').trimEnd().split('\n');
      assert.ok(viewLines.length > 5);
      for (const l of viewLines) assert.match(l, /^\[[\d :.-]+\] luat:U\(\d+\):W\/user\.net link check \d+$/);
      await page.fill('#f-tag', '');

      await delay(1500); // let the chart collect a few samples for the screenshot
      await page.evaluate(() => {
        document.querySelector('#side').scrollTop = 0;
      });
      await page.screenshot({ path: '/tmp/console.png' });

      // ---- CJK: the page names a font stack that covers Chinese
      const fam = await page.evaluate(() => (globalThis as any).getComputedStyle(document.querySelector('#log-viewport')).fontFamily as string);
      assert.match(fam, /WenQuanYi Micro Hei/);
      assert.match(fam, /Noto Sans Mono CJK SC/);
      const cjkFonts = (() => {
        try {
          return execFileSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' }).trim();
        } catch {
          return '';
        }
      })();
      if (!cjkFonts) t.diagnostic('skip: no CJK font on this system (apt-get install fonts-wqy-microhei), Chinese in the screenshot shows as boxes');

      // ---- the reboot button: the RESET key, in the same words in the log
      await page.click('button.fault-btn[data-fault="reboot"]');
      await page.waitForFunction(() => [...document.querySelectorAll('#log-rows .row')].some((r) => /luat:I\(\d+\):main:RESET key \(RESET键\) pressed, rebooting/.test(r.textContent ?? '')), null, { timeout: 5000 });
      assert.doesNotMatch(fs.readFileSync(file!, 'utf8') + (await page.locator('#log-rows').textContent()), /watchdog reset/);
      await page.screenshot({ path: '/tmp/console-cjk.png' });

      // ---- clear
      await page.click('#b-clear');
      assert.ok((await page.evaluate(() => (window as any).luatosConsole.lines)) < 30);
      assert.deepEqual(problems.filter((p) => !/WebSocket connection to .*\/video.* failed/.test(p)), []);
    } catch (e) {
      await browser.pages()[0]?.screenshot({ path: '/tmp/console-failure.png' }).catch(() => {});
      throw e;
    } finally {
      await browser.close();
      await con.close();
      await pub?.stop();
      device.dispose();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------------------ a modem board

test('Chromium: on an air780epm the device panel has a cellular row (SIM, registration, CSQ, PLMN, APN, the modem IP) and no Wi-Fi row; sim remove shows it', { timeout: 120_000 }, async (t) => {
  const exe = findChromium();
  if (!exe) {
    console.log(`# skip: ${NO_CHROMIUM}`);
    t.skip(NO_CHROMIUM);
    return;
  }
  const board = getBoard('air780epm');
  const dir = makeScriptDir({ 'main.lua': 'sys.taskInit(function() while true do sys.wait(500) end end)\nsys.run()\n' });
  const dataDir = tempDir('luatos-web-data-');
  const profile = boardProfile(board, { exitRebootDelayMs: 50 });
  const device = new Device({ scripts: dir, engine: 'wasmoon', profile, log: new LogSink({ stream: null }), dataDir, reboot: 'restart', network: boardNetwork(board, profile) });
  setupBoard(board, device);
  await device.start();
  const con = await startWebConsole({ device, status: statusProvider(device), onWarning: () => undefined });
  const { browser, userDataDir } = await launchChromium(exe);
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(con.url);
    // the model's default figures: csq 25 (rssi -113 + 2*25), a China Mobile test IMSI (46000, APN cmnet)
    await page.waitForFunction(() => /^online · SIM ready · reg 1 · CSQ 25 \(-63 dBm\) · PLMN 46000 · APN cmnet$/.test(document.querySelector('#d-cell')?.textContent ?? ''), null, { timeout: 20_000 });
    assert.match((await page.locator('#d-ip').textContent()) ?? '', /^10\.\d+\.\d+\.\d+$/);
    assert.equal(await page.locator('#d-wifi').isVisible(), false, 'no Wi-Fi row on a modem board');
    assert.equal(await page.locator('#d-wifi-dt').isVisible(), false);
    assert.equal(await page.locator('#d-cell').isVisible(), true);
    await device.faults.run('sim', ['remove']);
    await page.waitForFunction(() => /^no SIM · SIM absent · reg 0 · CSQ 25 \(-63 dBm\)$/.test(document.querySelector('#d-cell')?.textContent ?? ''), null, { timeout: 10_000 });
    assert.equal(await page.locator('#d-ip').textContent(), '—');
  } catch (e) {
    await browser.pages()[0]?.screenshot({ path: '/tmp/console-cellular-failure.png' }).catch(() => {});
    throw e;
  } finally {
    await browser.close();
    await con.close();
    device.dispose();
    for (const d of [dir, dataDir, userDataDir]) fs.rmSync(d, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------------------------ hours of logs

test('Chromium: 200 000 lines (hours of logs) stay bounded, windowed and responsive', { timeout: 120_000 }, async (t) => {
  const exe = findChromium();
  if (!exe) {
    console.log(`# skip: ${NO_CHROMIUM}`);
    t.skip(NO_CHROMIUM);
    return;
  }
  const device = await bootDevice('sys = require("sys") sys.run()');
  const clientLines = 20_000;
  const con = await startWebConsole({ device, clientLines });
  const { browser, userDataDir } = await launchChromium(exe);
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(con.url);
    await page.waitForFunction(() => document.querySelector('#conn')?.textContent === '● live');
    // the page records its longest frame gap while the flood arrives
    await page.evaluate(() => {
      const w = window as any;
      w.maxGap = 0;
      let last = performance.now();
      const tick = (t: number) => {
        w.maxGap = Math.max(w.maxGap, t - last);
        last = t;
        if (!w.stopGap) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    // 200 000 records (about three hours at 20 lines/s), 2 000 per event-loop turn
    const total = 200_000;
    const t0 = Date.now();
    for (let i = 1; i <= total; i++) {
      const text = i % 10 === 0 ? `W/user.net flood line ${i}` : `I/user.flood line ${i} ${'x'.repeat(i % 80)}`;
      device.logSink.write({ kind: 'U', ms: i, wall: t0 + i, payload: Buffer.from(text), boot: 1 });
      if (i % 2000 === 0) await new Promise((r) => setImmediate(r));
    }
    const last = con.history.lastSeq;
    await page.waitForFunction((n) => (window as any).luatosConsole.lastSeq >= n, last, { timeout: 60_000 });
    const tArrive = Date.now() - t0;
    await delay(300);
    const lines = await page.evaluate(() => (window as any).luatosConsole.lines);
    assert.ok(lines <= clientLines * 1.05 + 100 && lines >= clientLines, `the page keeps about ${clientLines} lines: ${lines}`);
    assert.equal(con.history.size, 50_000, 'the server keeps 50 000');
    const rows = await page.locator('#log-rows .row:not([hidden])').count();
    assert.ok(rows > 5 && rows < 120, `only the visible rows are in the DOM: ${rows}`);
    const lastRow = await page.locator('#log-rows .row:not([hidden])').last().textContent();
    assert.match(lastRow ?? '', /flood line 200000/);
    const maxGap = await page.evaluate(() => ((window as any).stopGap = true, (window as any).maxGap));
    assert.ok(maxGap < 1500, `the page kept painting (longest frame gap ${Math.round(maxGap)} ms)`);

    // a filter over the whole buffer and a scroll into the middle stay fast
    const t1 = Date.now();
    await page.fill('#f-text', 'flood line 19123');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#log-rows .row:not([hidden])')];
      return rows.length > 0 && rows.every((r) => /flood line 19123\d/.test(r.textContent ?? ''));
    });
    const filterMs = Date.now() - t1;
    assert.ok(filterMs < 3000, `filtering ${lines} lines took ${filterMs} ms`);
    t.diagnostic(`200k lines reached the page in ${tArrive} ms; longest frame gap ${Math.round(maxGap)} ms; filter over ${lines} lines ${filterMs} ms`);
    await page.fill('#f-text', '');
    await page.waitForFunction((n) => (window as any).luatosConsole.shown >= n, clientLines);
    await page.evaluate(() => {
      const vp = document.querySelector('#log-viewport');
      vp.scrollTop = vp.scrollHeight / 2;
    });
    await page.waitForFunction(() => !/flood line 200000/.test([...document.querySelectorAll('#log-rows .row:not([hidden])')].map((r) => r.textContent).join('')));
    const mid = await page.evaluate(() => [...document.querySelectorAll('#log-rows .row:not([hidden])')].map((r) => Number(/flood line (\d+)/.exec(r.textContent ?? '')?.[1])));
    assert.ok(mid.length > 5 && mid.length < 120);
    for (let i = 1; i < mid.length; i++) assert.equal(mid[i], mid[i - 1] + 1, 'consecutive rows in the middle of the buffer');
    assert.ok(mid[0] > total - clientLines * 1.05 && mid[0] < total - 1000, `the middle of the kept lines: ${mid[0]}`);
  } finally {
    await browser.close();
    await con.close();
    device.dispose();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
});
