/**
 * `luatos test` with a VM stuck in one Lua call (a slow C-level `string.find`), through the real
 * CLI: the scenario fails after the runaway budget + 1.5 s with the log up to the stall and the
 * watchdog line, and Ctrl-C / SIGTERM end the command within about 2 s (exit 1, "interrupted").
 */
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { pidsWithMarker } from '../camera/helpers';

const BIN = path.resolve(__dirname, '..', '..', '..', 'bin', 'luatos.js');
const temps: string[] = [];
after(() => {
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

function scenarioDir(runawayMs: number): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-host-scn-'));
  temps.push(d);
  fs.mkdirSync(path.join(d, 's'));
  fs.writeFileSync(
    path.join(d, 's', 'main.lua'),
    `
log.info("main", "before stall")
sys.taskInit(function()
  sys.wait(100)
  log.info("task", "entering the stall")
  local r = string.find(("a"):rep(30000), ".-.-.-.-.-.-b")
  log.info("task", "found", r)
end)
sys.run()
`,
  );
  fs.writeFileSync(
    path.join(d, 'stuck.yaml'),
    `name: stuck in a C call
scripts: s
profile: { runawayMs: ${runawayMs} }
options: { clock: real, timeout: 120s }
steps:
  - wait-for: entering the stall
  - expect: found
    within: 100s
`,
  );
  return d;
}

function luatos(args: string[], onOut?: (out: string, p: ReturnType<typeof spawn>) => void) {
  const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout!.on('data', (d) => {
    out += d;
    onOut?.(out, p);
  });
  p.stderr!.on('data', (d) => (err += d));
  const guard = setTimeout(() => p.kill('SIGKILL'), 60_000);
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string; at: number }>((resolve) =>
    p.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, out, err, at: Date.now() });
    }),
  );
}

for (const engine of ENGINE_NAMES) {
  test(`[${engine}] a scenario whose VM is stuck in one call fails after the budget, with the log up to the stall`, async (t) => {
    const d = scenarioDir(1000);
    const t0 = Date.now();
    const r = await luatos(['test', path.join(d, 'stuck.yaml'), '--engine', engine]);
    t.diagnostic(`ended in ${Date.now() - t0} ms (budget 1000 ms + 1.5 s slack + start-up)`);
    assert.equal(r.signal, null, 'ended by itself');
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /^FAIL\s/m);
    assert.match(r.out, /the VM was stuck in one Lua call for more than \d+ ms \(runaway budget 1000 ms/);
    assert.match(r.out, /I\/user\.task entering the stall/);
    assert.match(r.out, /luat:E\(\d+\):wdt:watchdog: Lua code ran for more than 1000 ms without yielding/);
    assert.match(r.out, /0 passed, 1 failed/);
  });
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  test(`${sig} ends \`luatos test\` while the VM is stuck (exit 1, interrupted)`, async (t) => {
    const d = scenarioDir(60000);
    let sent = 0;
    const r = await luatos(['test', path.join(d, 'stuck.yaml'), '--verbose'], (out, p) => {
      if (!sent && out.includes('I/user.task entering the stall')) {
        sent = Date.now();
        setTimeout(() => p.kill(sig), 400);
      }
    });
    assert.ok(sent > 0, r.out + r.err);
    t.diagnostic(`${sig} → exit in ${r.at - sent - 400} ms`);
    assert.equal(r.signal, null, 'ended by itself');
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /interrupted \(Ctrl-C or SIGTERM\): the scenario was ended/);
    assert.ok(r.at - sent - 400 < 2000 + 2500, `ended ${r.at - sent - 400} ms after ${sig}`);
  });
}

test('Ctrl-C during a streaming scenario (local platform, camera): exit 1 within about 2 s, no camera ffmpeg left', async (t) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-host-scn-'));
  temps.push(d);
  const marker = `luatos-host-scn-${process.pid}-${Date.now()}`;
  const demo = path.resolve(__dirname, '..', '..', '..', 'demo');
  fs.writeFileSync(
    path.join(d, 'stream.yaml'),
    `name: streaming, then interrupted
scripts: ${JSON.stringify(demo)}
options:
  platform: local
  camera: { source: testsrc, tag: ${marker} }
  clock: virtual
  timeout: 150s
  wifi: ["茶室-降功耗,找合宙!:HZ88888888"]
steps:
  - wait-for: 已开始推流
  - after: 100s
  - expect: never logged
`,
  );
  let sent = 0;
  let during = 0;
  const r = await luatos(['test', path.join(d, 'stream.yaml'), '--verbose'], (out, p) => {
    if (!sent && out.includes('已开始推流')) {
      sent = Date.now();
      setTimeout(() => {
        during = pidsWithMarker(marker).length;
        sent = Date.now();
        p.kill('SIGINT');
      }, 1000);
    }
  });
  assert.ok(sent > 0, r.out + r.err);
  t.diagnostic(`SIGINT → exit in ${r.at - sent} ms`);
  assert.equal(r.signal, null, 'ended by itself');
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /interrupted \(Ctrl-C or SIGTERM\)/);
  assert.ok(during > 0, 'the camera ffmpeg ran before the interrupt');
  assert.ok(r.at - sent < 2000 + 2500, `ended ${r.at - sent} ms after SIGINT`);
  const end = Date.now() + 3000;
  while (pidsWithMarker(marker).length > 0 && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
  assert.deepEqual(pidsWithMarker(marker), [], 'no ffmpeg left');
});
