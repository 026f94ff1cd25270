/**
 * httpsrv (luatos-api-2.md §7): the device-side HTTP server reachable from the PC on the port
 * the log prints. Requests come from Node's fetch, a raw socket (the exact HTTP/1.0 wire) and a
 * real Chromium (skipped, with the reason, when none is installed).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { once } from 'node:events';
import { WifiNetwork } from '../../runtime/net/model';
import { parseRequest } from '../../luatos-api/httpsrv';
import { ENGINES, FAST, findRec, REF_NET } from '../net/net-helpers';
import { runSock } from './helpers';

const SERVER = `
sys.taskInit(function()
  wlan.connect("lab", "pw")
  sys.waitUntil("IP_READY", 5000)
  log.info("start", httpsrv.start(80, function(client, method, uri, headers, body)
    log.info("req", type(client), method, uri, headers["X-Test"], headers["x-test"], #body, body)
    if uri:match("^/api") then return 200, {["Content-Type"] = "application/json", ["X-Dev"] = "1"}, '{"ok":true,"len":' .. #body .. '}' end
    if uri == "/odd" then return 418, {}, "teapot" end
    if uri == "/low" then return 5, nil, "low" end
    if uri == "/err" then return 500 end
    return
  end))
  log.info("dup", select("#", httpsrv.start(80, function() end)))
  log.info("bad adapter", select("#", httpsrv.start(81, function() end, socket.LWIP_ETH)))
  log.info("debug", httpsrv.debug(), httpsrv.debug(true))
  sys.waitUntil("STOP", 20000)
  log.info("stop", httpsrv.stop(80), httpsrv.stop(80))
  log.info("DONE")
end)
sys.run()
`;

async function raw(port: number, req: string): Promise<string> {
  const c = net.connect(port, '127.0.0.1');
  await once(c, 'connect');
  c.write(req);
  const chunks: Buffer[] = [];
  c.on('data', (d) => chunks.push(d));
  await once(c, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

function findChromium(): string | null {
  for (const c of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable']) if (c && fs.existsSync(c)) return c;
  return null;
}

test('parseRequest: limits (URL 1024, header 4096) and Content-Length bodies', () => {
  assert.equal(parseRequest(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n')), 'more');
  const ok = parseRequest(Buffer.from('POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc'));
  assert.ok(typeof ok === 'object' && 'method' in ok);
  assert.equal(ok.uri, '/a?b=1');
  assert.equal(ok.body.toString(), 'abc');
  assert.equal(parseRequest(Buffer.from('POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nab')), 'more');
  assert.deepEqual(parseRequest(Buffer.from(`GET /${'a'.repeat(1100)} HTTP/1.1\r\n\r\n`)), { error: 'url too long' });
  assert.deepEqual(parseRequest(Buffer.from(`GET / HTTP/1.1\r\nX: ${'a'.repeat(5000)}\r\n\r\n`)), { error: 'header too large' });
  assert.deepEqual(parseRequest(Buffer.from('BLAH\r\n\r\n')), { error: 'bad request line' });
  assert.deepEqual(parseRequest(Buffer.from('POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n')), { error: 'bad content-length' });
});

for (const engine of ENGINES) {
  test(`httpsrv: fetch and the raw HTTP/1.0 wire, static files first, status mapping, limits (${engine})`, async () => {
    const m = new WifiNetwork({ ...REF_NET, timing: FAST, listen: { '*': 0 } });
    const results: Record<string, unknown> = Object.create(null);
    let jsDone: Promise<void> = Promise.resolve();
    const r = await runSock({ 'main.lua': SERVER, 'index.html': '<h1>device</h1>', 'data.json': '{"a":1}' }, m, {
      engine,
      until: 'I/user.DONE',
      timeoutMs: 15000,
      onDevice: (d) =>
        d.logSink.on((_r, text) => {
          const mm = /reachable from the PC at 127\.0\.0\.1:(\d+)/.exec(text);
          if (!mm) return;
          const port = Number(mm[1]);
          jsDone = (async () => {
            try {
              const base = `http://127.0.0.1:${port}`;
              const a = await fetch(`${base}/api?x=1`, { method: 'POST', body: 'hello', headers: { 'X-Test': 'yes' } });
              results.api = [a.status, a.headers.get('content-type'), a.headers.get('x-dev'), await a.text()];
              const idx = await fetch(`${base}/`);
              results.index = [idx.status, idx.headers.get('content-type'), idx.headers.get('x-powered-by'), idx.headers.get('content-disposition'), await idx.text()];
              const js = await fetch(`${base}/data.json`);
              results.json = [js.status, js.headers.get('content-type'), js.headers.get('content-disposition'), await js.text()];
              const nf = await fetch(`${base}/nothing`);
              results.nf = [nf.status, await nf.text()];
              results.odd = await raw(port, 'GET /odd HTTP/1.1\r\nHost: x\r\n\r\n');
              results.low = await raw(port, 'GET /low HTTP/1.0\r\n\r\n');
              results.err = await raw(port, 'GET /err HTTP/1.0\r\n\r\n');
              results.dotdot = (await raw(port, 'GET /../main.lua HTTP/1.0\r\n\r\n')).split('\r\n')[0];
              results.big = (await raw(port, `GET / HTTP/1.1\r\nX: ${'a'.repeat(5000)}\r\n\r\n`)).split('\r\n')[0];
              results.junk = (await raw(port, 'NONSENSE\r\n\r\n')).split('\r\n')[0];
            } catch (err) {
              results.error = String(err);
            }
            d.vm?.publish('STOP');
          })();
        }),
    });
    await jsDone;
    assert.equal(results.error, undefined);
    assert.deepEqual(results.api, [200, 'application/json', '1', '{"ok":true,"len":5}']);
    assert.deepEqual(results.index, [200, 'text/html', 'LuatOS', null, '<h1>device</h1>']);
    assert.deepEqual(results.json, [200, 'application/json', 'attachment; filename="data.json"', '{"a":1}']);
    assert.deepEqual(results.nf, [404, '']);
    assert.equal(results.odd, 'HTTP/1.0 200 Ok\r\nContent-Length: 6\r\nConnection: close\r\n\r\nteapot');
    assert.equal(results.low, 'HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nlow');
    assert.equal(results.err, 'HTTP/1.0 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    assert.equal(results.dotdot, 'HTTP/1.0 404 Not Found');
    assert.equal(results.big, 'HTTP/1.0 400 Bad Request');
    assert.equal(results.junk, 'HTTP/1.0 400 Bad Request');
    assert.equal(r.timedOut, false, r.lines.join('\n'));
    const u = r.user;
    assert.deepEqual(u.slice(0, 4), ['I/user.start true', 'I/user.dup 0', 'I/user.bad adapter 0', 'I/user.debug false true']);
    assert.equal(u[4], 'I/user.req number POST /api?x=1 yes nil 5 hello');
    assert.deepEqual(u.slice(-2), ['I/user.stop true false', 'I/user.DONE']);
    assert.ok(findRec(r.records, /^httpsrv:device port 80 listening on adapter 2, reachable from the PC at 127\.0\.0\.1:\d+ \(luatos-pc\)$/) >= 0, r.lines.join('\n'));
  });
}

test('httpsrv: a real Chromium loads a page the device serves and the handler sees its request', { timeout: 60_000 }, async (t) => {
  const exe = findChromium();
  if (!exe) {
    const why = 'no Chromium found (/usr/bin/chromium, chromium-browser, google-chrome or $CHROMIUM_PATH)';
    console.log(`# skip: ${why}`);
    t.skip(why);
    return;
  }
  const { chromium } = await import('playwright-core');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-httpsrv-chromium-'));
  const m = new WifiNetwork({ ...REF_NET, timing: FAST, listen: { '*': 0 } });
  let seen: unknown = null;
  let jsDone: Promise<void> = Promise.resolve();
  const page = '<html><body><h1 id="t">served by the device</h1><script>fetch("/api",{method:"POST",body:"from-browser"}).then(r=>r.text()).then(t=>{document.title=t})</script></body></html>';
  try {
    const r = await runSock({ 'main.lua': SERVER, 'index.html': page }, m, {
      until: 'I/user.DONE',
      timeoutMs: 40000,
      onDevice: (d) =>
        d.logSink.on((_r, text) => {
          const mm = /reachable from the PC at 127\.0\.0\.1:(\d+)/.exec(text);
          if (!mm) return;
          jsDone = (async () => {
            const browser = await chromium.launchPersistentContext(userDataDir, {
              executablePath: exe,
              headless: true,
              args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
            });
            try {
              const p = await browser.newPage();
              await p.goto(`http://127.0.0.1:${mm[1]}/`);
              await p.waitForFunction(() => (globalThis as unknown as { document: { title: string } }).document.title.length > 0, undefined, { timeout: 20000 });
              seen = [await p.textContent('#t'), await p.title()];
            } finally {
              await browser.close();
            }
            d.vm?.publish('STOP');
          })().catch((err) => {
            seen = String(err);
            d.vm?.publish('STOP');
          });
        }),
    });
    await jsDone;
    assert.deepEqual(seen, ['served by the device', '{"ok":true,"len":12}']);
    assert.ok(r.user.includes('I/user.req number POST /api nil nil 12 from-browser'), r.user.join('\n'));
  } finally {
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
});
