/**
 * The fleet view of the web console (runtime/host/web/fleet-console.ts + static/fleet.*): the HTTP API
 * against a real fleet (worker thread, real devices), its security checks, faults on a selection
 * and on a percentage; then Chromium (playwright-core, /usr/bin/chromium) drives the page: the
 * table sorts and filters, a click opens one device's panel, log and live video (two devices
 * streaming the demo through the local platform), the fault buttons act on the checked rows and
 * "kill the ingest" stops every stream. The browser test skips (with the reason) without Chromium.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { tempDir } from '../helpers/tmp';
import { FleetHost } from '../../runtime/host/fleet/fleet-host';
import { FleetLog } from '../../runtime/host/fleet/fleet-log';
import { fleetMembers } from '../../runtime/host/fleet/names';
import { startFleetConsole, pickPercent } from '../../runtime/host/web/fleet-console';
import { startLocalPlatform, type LocalPlatform } from '../../runtime/host/platform';
import { boardProfile, getBoard } from '../../runtime/boards';
import { loadProfileFile } from '../../runtime/core/profile';

interface PageElement {
  textContent: string | null;
  [k: string]: any;
}
declare const document: { querySelectorAll(sel: string): Iterable<PageElement>; querySelector(sel: string): any };
declare const window: { luatosFleet: { rows: Array<{ name: string; wifi: string; rtmp: number | null }> } };

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DEMO = path.join(ROOT, 'demo');
const IDLE = `
sys.taskInit(function()
    wlan.init()
    wlan.connect("lab", "pw")
    sys.waitUntil("IP_READY", 10000)
    log.info("who", netdrv.mac(socket.LWIP_STA))
    while true do sys.wait(1000) end
end)
sys.run()
`;

async function makeFleet(n: number, opts: { demo?: boolean; platform?: LocalPlatform | null } = {}) {
  const dir = tempDir('luatos-fleetweb-');
  let scripts = DEMO;
  let profile = boardProfile(getBoard('air8101'), loadProfileFile(path.join(DEMO, 'device.json')), { camera: { source: 'testsrc', tag: 'fleet-web-test' } });
  if (!opts.demo) {
    scripts = path.join(dir, 'scripts');
    fs.mkdirSync(scripts);
    fs.writeFileSync(path.join(scripts, 'main.lua'), IDLE);
    profile = boardProfile(getBoard('air8101'));
  }
  const members = fleetMembers('web', n);
  const logDir = path.join(dir, 'logs');
  const log = new FleetLog(new Map(members.map((m) => [m.index, m.name])), { dir: logDir, stream: null });
  const host = new FleetHost({
    scripts, libDirs: [], engine: 'wasmoon', profile, reboot: 'restart', maxBoots: 0, clock: 'real',
    net: { map: opts.platform ? opts.platform.mapRuleStrings() : [] }, shareCamera: true, status: true,
    members, stateDir: dir, staggerMs: 0, workers: 1, onLog: (d, r) => log.write(d, r),
  });
  opts.platform?.registerFaults(host.hostFaults);
  host.start();
  const con = await startFleetConsole({ fleet: host, platform: opts.platform, logDir });
  return {
    host, con, log,
    close: async () => {
      await con.close();
      await host.stop();
      log.close();
    },
  };
}

function req(url: string, o: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const data = o.body === undefined ? undefined : Buffer.from(typeof o.body === 'string' ? o.body : JSON.stringify(o.body));
    const r = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: o.method ?? 'GET', headers: { ...(o.headers ?? {}), ...(data ? { 'Content-Length': String(data.length) } : {}) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString() }));
    });
    r.on('error', reject);
    r.end(data);
  });
}

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('pickPercent: a share of the devices, without repeats, at least one', () => {
  const all = Array.from({ length: 50 }, (_, i) => i);
  const p = pickPercent(all, 10);
  assert.equal(p.length, 5);
  assert.equal(new Set(p).size, 5);
  assert.equal(pickPercent([1, 2, 3], 10).length, 1);
  assert.equal(pickPercent(all, 100).length, 50);
});

test('fleet console API: table rows, the security checks, faults on a selection and on 50 %', { timeout: 60_000 }, async () => {
  const f = await makeFleet(6);
  try {
    const base = f.con.url.replace(/\/$/, '');
    const state = await until(async () => {
      const r = JSON.parse((await req(`${base}/api/fleet`)).text) as { token: string; devices: Array<{ name: string; wifi: string; mac: string }> };
      return r.devices.length === 6 && r.devices.every((d) => d.wifi === 'connected') ? r : undefined;
    });
    assert.deepEqual(state.devices.map((d) => d.name), ['web000', 'web001', 'web002', 'web003', 'web004', 'web005']);
    assert.equal(new Set(state.devices.map((d) => d.mac)).size, 6);
    const origin = base;
    const hdr = { 'Content-Type': 'application/json', Origin: origin, 'X-Console-Token': state.token };
    // security: Host, Origin, token, content type
    assert.equal((await req(`${base}/api/fleet`, { headers: { Host: 'evil.example:80' } })).status, 403);
    assert.equal((await req(`${base}/api/fault`, { method: 'POST', headers: { ...hdr, Origin: 'http://evil.example' }, body: { name: 'wifi', args: ['down'] } })).status, 403);
    assert.equal((await req(`${base}/api/fault`, { method: 'POST', headers: { ...hdr, 'X-Console-Token': 'x' }, body: { name: 'wifi', args: ['down'] } })).status, 403);
    assert.equal((await req(`${base}/api/fault`, { method: 'POST', headers: { ...hdr, 'Content-Type': 'text/plain' }, body: { name: 'wifi', args: ['down'] } })).status, 403);
    assert.equal((await req(`${base}/api/fault`, { method: 'POST', headers: hdr, body: 'not json' })).status, 400);
    assert.equal((await req(`${base}/api/device/log?name=../../etc/passwd`)).status, 404);
    const nf = await req(`${base}/api/fault`, { method: 'POST', headers: hdr, body: { name: 'nosuch', args: [] } });
    assert.equal(nf.status, 404);
    assert.match(nf.text, /no fault 'nosuch'/);
    // a selection by name
    const sel = JSON.parse((await req(`${base}/api/fault`, { method: 'POST', headers: hdr, body: { name: 'wifi', args: ['down'], devices: ['web001', 'web004', 'nobody'] } })).text) as { ok: boolean; devices: number };
    assert.deepEqual(sel, { ok: true, devices: 2, errors: [] });
    await until(() => {
      const down = [...f.host.rows.values()].filter((r) => r.wifi !== 'connected').map((r) => r.name).sort();
      return down.join() === 'web001,web004' ? true : undefined;
    });
    // a share of all devices: 50 % = 3
    const pc = JSON.parse((await req(`${base}/api/fault`, { method: 'POST', headers: hdr, body: { name: 'wifi', args: ['up'], percent: 50 } })).text) as { devices: number };
    assert.equal(pc.devices, 3);
    // one device's log
    const log = await req(`${base}/api/device/log?name=web003`);
    assert.equal(log.status, 200);
    assert.match(log.text, /I\/user\.who C8C2C6/);
    assert.doesNotMatch(log.text, /<web/);
  } finally {
    await f.close();
  }
});

const NO_CHROMIUM = 'no Chromium found (/usr/bin/chromium or $CHROMIUM_PATH); install it with apt-get install chromium';
function findChromium(): string | null {
  for (const c of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (c && fs.existsSync(c)) return c;
  return null;
}

test('Chromium: the fleet table sorts, filters, opens a device (panel, log, live video) and runs faults on a selection', { timeout: 150_000 }, async (t) => {
  const exe = findChromium();
  if (!exe) {
    console.log(`# skip: ${NO_CHROMIUM}`);
    t.skip(NO_CHROMIUM);
    return;
  }
  const platform = await startLocalPlatform();
  const f = await makeFleet(3, { demo: true, platform });
  const { chromium } = await import('playwright-core');
  const userDataDir = tempDir('luatos-fleetweb-chromium-');
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: exe,
    headless: true,
    viewport: { width: 1400, height: 860 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'],
  });
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(f.con.url);
    // every device publishing (the demo through the local platform, one shared encoder)
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#devices tbody tr')];
      return rows.length === 3 && rows.every((r) => r.querySelectorAll('td')[3].textContent === 'PUBLISHING');
    }, null, { timeout: 90_000 });
    // sort by device name, descending
    await page.click('#devices th[data-sort="name"]');
    const desc = await page.$$eval('#devices tbody td.name', (els) => els.map((e) => e.textContent));
    assert.deepEqual(desc, ['web002', 'web001', 'web000']);
    // filter
    await page.fill('#f-filter', 'web001');
    assert.deepEqual(await page.$$eval('#devices tbody td.name', (els) => els.map((e) => e.textContent)), ['web001']);
    await page.fill('#f-filter', '');
    // click through: panel, log, video
    await page.click('#devices tbody tr[data-name="web001"] td.name');
    await page.waitForFunction(() => /^C8C2C6/.test(document.querySelector('#d-mac')?.textContent ?? ''), null, { timeout: 10_000 });
    await page.waitForFunction(() => (document.querySelector('#d-log')?.textContent ?? '').includes('已开始推流'), null, { timeout: 10_000 });
    await page.waitForFunction(() => {
      const v = document.querySelector('#d-video');
      return v && v.videoWidth === 1280 && v.currentTime > 0.2;
    }, null, { timeout: 30_000 });
    // Wi-Fi down on the checked rows only
    await page.check('#devices tbody tr[data-name="web000"] input.sel');
    await page.check('#devices tbody tr[data-name="web002"] input.sel');
    await page.click('#b-wifi-down');
    await page.waitForFunction(() => (document.querySelector('#fault-result')?.textContent ?? '') === 'done on 2 device(s)', null, { timeout: 10_000 });
    await page.waitForFunction(() => {
      const w = Object.fromEntries(window.luatosFleet.rows.map((r) => [r.name, r.wifi]));
      return w.web000 !== 'connected' && w.web002 !== 'connected' && w.web001 === 'connected';
    }, null, { timeout: 10_000 });
    // kill the ingest: the remaining stream stops publishing
    await page.click('#b-ingest-kill');
    await page.waitForFunction(() => window.luatosFleet.rows.every((r) => r.rtmp !== 4), null, { timeout: 20_000 });
    assert.equal(platform.ingestState, 'down');
    await page.click('#b-ingest-restart');
    await until(() => (platform.ingestState === 'running' ? true : undefined), 20_000);
  } catch (e) {
    await browser.pages()[0]?.screenshot({ path: '/tmp/fleet-console-failure.png' }).catch(() => {});
    throw e;
  } finally {
    await browser.close();
    await f.close();
    await platform.stop();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
});
