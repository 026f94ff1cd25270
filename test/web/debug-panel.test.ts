/**
 * The web console's Debug panel (`luatos run --inspect --web`) in Chromium: a breakpoint set by
 * clicking a line number stops the device's task, the panel shows the task list, the stopped
 * line and the locals, a table expands, Over steps, Continue runs on. Also the API's refusals
 * (no token; a file that is not the device's). Skips with the reason when no Chromium is found.
 */
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeviceHost } from '../../runtime/host/worker/device-host';
import { LogSink, recordText } from '../../runtime/core/log';
import { makeProfile } from '../../runtime/core/profile';
import { startWebConsole } from '../../runtime/host/web';

const temps: string[] = [];
after(() => {
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});
function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
}

const NO_CHROMIUM = 'no Chromium found (/usr/bin/chromium, chromium-browser, google-chrome or $CHROMIUM_PATH); install it with apt-get install chromium';
function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  return null;
}

const APP = `local function blink_task()
  local state = { on = false, count = 0 }
  while true do
    state.count = state.count + 1
    state.on = not state.on -- BP
    log.info("blink", state.count, state.on)
    sys.wait(200)
  end
end
sys.taskInit(blink_task)
`;

async function device(dir: string) {
  const sink = new LogSink({ stream: null });
  const lines: string[] = [];
  sink.on((r) => void lines.push(recordText(r)));
  const host = new DeviceHost({
    scripts: dir,
    libDirs: [],
    engine: 'lua53',
    profile: makeProfile({}),
    log: sink,
    dataDir: path.join(dir, '.data'),
    reboot: 'exit',
    maxBoots: 0,
    clock: 'real',
    coverage: false,
    net: {},
    status: false,
    inspect: { stopOnEntry: false },
  });
  await host.start();
  return { host, lines };
}

test('the debug API refuses requests without the token, and files that are not the device', async () => {
  const dir = tempDir('luatos-dbgweb-');
  fs.writeFileSync(path.join(dir, 'main.lua'), 'sys.run()\n');
  const { host } = await device(dir);
  const con = await startWebConsole({ device: host, debug: host.debug });
  try {
    const origin = con.url.replace(/\/$/, '');
    const info = (await (await fetch(con.url + 'api/info')).json()) as { token: string; debug: boolean };
    assert.equal(info.debug, true);
    const post = (body: unknown, token = info.token) => fetch(con.url + 'api/debug', { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: origin, 'X-Console-Token': token }, body: JSON.stringify(body) });
    assert.equal((await post({ op: 'status' }, 'nope')).status, 403);
    const bad = (await (await post({ op: 'source', path: '/etc/passwd' })).json()) as { ok: boolean; error: string };
    assert.deepEqual(bad, { ok: false, error: 'not a file of the device' });
    const ok = (await (await post({ op: 'source', path: path.join(dir, 'main.lua') })).json()) as { ok: boolean; body: { text: string } };
    assert.equal(ok.body.text, 'sys.run()\n');
  } finally {
    await con.close();
    await host.stop();
  }
});

test('Chromium: the Debug panel sets a breakpoint by a click in the gutter, shows the stop, the tasks and locals, steps and continues', { timeout: 120_000 }, async (t) => {
  const exe = findChromium();
  if (!exe) {
    console.log(`# skip: ${NO_CHROMIUM}`);
    t.skip(NO_CHROMIUM);
    return;
  }
  const dir = tempDir('luatos-dbgweb-');
  fs.writeFileSync(path.join(dir, 'main.lua'), 'require "app"\nsys.run()\n');
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'src', 'app.lua'), APP);
  const bpLine = APP.split('\n').findIndex((l) => l.includes('-- BP')) + 1;
  const { host, lines } = await device(dir);
  const con = await startWebConsole({ device: host, debug: host.debug });
  const { chromium } = await import('playwright-core');
  const userDataDir = tempDir('luatos-web-chromium-');
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: exe,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(con.url);
    await page.waitForSelector('#debug-panel:not([hidden])');
    await page.selectOption('#dbg-files', path.join(dir, 'src', 'app.lua'));
    await page.waitForSelector(`#dbg-source [data-line="${bpLine}"]`);
    await page.click(`#dbg-source [data-line="${bpLine}"] .gut`);
    await page.waitForSelector(`#dbg-source [data-line="${bpLine}"].bp`);
    // the device stops there: the panel says so and marks the line
    await page.waitForFunction(() => (globalThis as any).document.querySelector('#dbg-state')?.textContent === 'paused (breakpoint)', undefined, { timeout: 20_000 });
    await page.waitForSelector(`#dbg-source [data-line="${bpLine}"].cur`);
    const threads = await page.locator('#dbg-threads li').allTextContents();
    assert.ok(threads.some((x) => x.startsWith('blink_task')), threads.join(' | '));
    assert.ok(threads.some((x) => x.startsWith('main')), threads.join(' | '));
    await page.waitForFunction(() => [...(globalThis as any).document.querySelectorAll('#dbg-vars > li')].some((li: any) => li.textContent?.includes('state = table')));
    // expand the table
    await page.locator('#dbg-vars > li', { hasText: 'state = table' }).click();
    await page.waitForFunction(() => [...(globalThis as any).document.querySelectorAll('#dbg-vars ul li')].some((li: any) => /^count = \d+$/.test(li.textContent)));
    const countText = await page.locator('#dbg-vars ul li', { hasText: /^count = \d+$/ }).first().textContent();
    const count = Number(/\d+/.exec(countText ?? '')![0]);
    // the task logged each round before this one, and nothing while stopped
    const logged = lines.filter((l) => l.includes('I/user.blink')).length;
    assert.equal(logged, count - 1, lines.join('\n'));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(lines.filter((l) => l.includes('I/user.blink')).length, logged);
    // step over: the next line, still stopped
    await page.click('#dbg-next');
    await page.waitForFunction(() => (globalThis as any).document.querySelector('#dbg-state')?.textContent === 'paused (step)', undefined, { timeout: 20_000 });
    await page.waitForSelector(`#dbg-source [data-line="${bpLine + 1}"].cur`);
    // evaluate in the frame
    await page.fill('#dbg-eval', 'state.count * 100');
    await page.press('#dbg-eval', 'Enter');
    await page.waitForFunction((want) => (globalThis as any).document.querySelector('#dbg-eval-out')?.textContent === want, `state.count * 100 = ${count * 100}`);
    // clear the breakpoint, run on: the task goes on logging
    await page.click(`#dbg-source [data-line="${bpLine}"] .gut`);
    await page.waitForSelector(`#dbg-source [data-line="${bpLine}"]:not(.bp)`);
    await page.click('#dbg-continue');
    await page.waitForFunction(() => (globalThis as any).document.querySelector('#dbg-state')?.textContent === 'running');
    const next = `blink ${count + 2}`;
    for (let i = 0; i < 200 && !lines.some((l) => l.includes(next)); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(lines.some((l) => l.includes(next)), lines.join('\n'));
  } catch (e) {
    const page = browser.pages()[0];
    console.log('PANEL', await page.locator('#debug-panel').innerText().catch(() => '?'));
    throw e;
  } finally {
    await browser.close();
    await con.close();
    await host.stop();
  }
});
