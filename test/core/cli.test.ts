import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeScriptDir } from '../helpers/run-lua';
import { tempDir } from '../helpers/tmp';

const BIN = path.resolve(__dirname, '..', '..', '..', 'bin', 'luatos.js');

function luatos(args: string[], opts: { timeoutMs?: number; signalOn?: string } = {}): Promise<{ code: number | null; out: string; err: string }> {
  const state = tempDir('luatos-state-');
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args, ...(args[0] === 'run' ? ['--state', state] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let signalled = false;
    p.stdout.on('data', (d) => {
      out += d;
      if (opts.signalOn && !signalled && out.includes(opts.signalOn)) {
        signalled = true;
        p.kill('SIGINT');
      }
    });
    p.stderr.on('data', (d) => (err += d));
    const kill = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 15000);
    p.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, out, err });
    });
  });
}

const TICKER = `
log.info("main", "start")
sys.taskInit(function()
  local i = 0
  while true do sys.wait(50); i = i + 1; log.info("tick", i, "中文") end
end)
sys.run()
`;

test('exit 0 when every --expect appeared (Chinese text matches)', async () => {
  const dir = makeScriptDir({ 'main.lua': TICKER });
  const r = await luatos(['run', dir, '--expect', 'tick 3 中文', '--expect', 'main start']);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /luat:U\(\d+\):I\/user\.tick 3 中文/);
});

test('exit 1 when a --fail text appears', async () => {
  const dir = makeScriptDir({ 'main.lua': TICKER });
  const r = await luatos(['run', dir, '--fail', 'tick 2', '--expect', 'tick 50']);
  assert.equal(r.code, 1);
  assert.match(r.err, /fail text appeared: tick 2/);
});

test('exit 42 on timeout with expectations unmet; 0 on timeout without expectations', async () => {
  const dir = makeScriptDir({ 'main.lua': TICKER });
  const r = await luatos(['run', dir, '--timeout', '0.3', '--expect', 'never printed']);
  assert.equal(r.code, 42);
  const r2 = await luatos(['run', dir, '--timeout', '0.3']);
  assert.equal(r2.code, 0);
});

test('usage errors exit 2', async () => {
  assert.equal((await luatos(['run'])).code, 2);
  assert.equal((await luatos(['run', '/nonexistent/folder'])).code, 2);
  assert.equal((await luatos(['run', '.', '--engine', 'luajit'])).code, 2);
  assert.equal((await luatos(['frobnicate'])).code, 2);
});

test('a syntax error in main.lua gives the firmware lines and exit 1, no Node stack trace', async () => {
  const dir = makeScriptDir({ 'main.lua': 'log.info("a"\nx = = 2\n' });
  const r = await luatos(['run', dir]);
  assert.equal(r.code, 1);
  assert.match(r.out, /luat:E\(\d+\):main:Luat: /);
  assert.match(r.out, /luat:E\(\d+\):main:main\.lua:2: /);
  assert.match(r.out, /Lua VM exit!! reboot in 15000ms/);
  assert.doesNotMatch(r.out + r.err, /at .*\.js:\d+/);
});

test('a missing main.lua gives the firmware messages and exit 1', async () => {
  const dir = makeScriptDir({ 'other.lua': 'x = 1' });
  const r = await luatos(['run', dir]);
  assert.equal(r.code, 1);
  assert.match(r.out, /module 'main' not found/);
  assert.match(r.out, /main\.lua not found, please flash the script/);
});

test('a crash under --reboot exit gives exit 1; --max-boots stops a reboot loop', async () => {
  const dir = makeScriptDir({ 'main.lua': 'sys.taskInit(function() error("x") end)\nsys.run()' });
  const r = await luatos(['run', dir, '--reboot', 'exit']);
  assert.equal(r.code, 1);
  const dir2 = makeScriptDir({ 'main.lua': 'log.info("boot")\nsys.timerStart(rtos.reboot, 20)\nsys.run()' });
  const r2 = await luatos(['run', dir2, '--max-boots', '3']);
  assert.equal(r2.code, 1);
  assert.equal((r2.out.match(/I\/user\.boot/g) ?? []).length, 3);
});

test('--log-file writes the same Luatools lines; --log-level hides firmware debug lines', async () => {
  const dir = makeScriptDir({ 'main.lua': TICKER });
  const file = path.join(tempDir('luatos-log-'), 'dev.log');
  const r = await luatos(['run', dir, '--expect', 'tick 2', '--log-file', file, '--log-level', 'W']);
  assert.equal(r.code, 0);
  const saved = fs.readFileSync(file, 'utf8');
  assert.match(saved, /luat:U\(\d+\):I\/user\.tick 2 中文/);
  assert.doesNotMatch(r.out, /luat:I\(\d+\):main:LuatOS@/);
  assert.match(saved, /luat:I\(\d+\):main:LuatOS@Air8101/);
});

test('--format jsonl streams structured records', async () => {
  const dir = makeScriptDir({ 'main.lua': TICKER });
  const r = await luatos(['run', dir, '--expect', 'tick 1', '--format', 'jsonl']);
  const recs = r.out.trim().split('\n').map((l) => JSON.parse(l));
  const t = recs.find((x) => x.tag === 'tick');
  assert.deepEqual({ level: t.level, module: t.module, message: t.message }, { level: 'I', module: 'user', message: '1 中文' });
  assert.equal(typeof t.boot_ms, 'number');
});

test('both engines run the same folder with --engine', async () => {
  const dir = makeScriptDir({ 'main.lua': TICKER });
  for (const engine of ['lua53', 'wasmoon', 'fengari']) {
    const r = await luatos(['run', dir, '--engine', engine, '--expect', 'tick 2']);
    assert.equal(r.code, 0, `${engine}: ${r.err}`);
  }
});

test('Ctrl-C stops the run cleanly', async () => {
  const dir = makeScriptDir({ 'main.lua': TICKER });
  const r = await luatos(['run', dir], { signalOn: 'I/user.tick 1' });
  assert.equal(r.code, 0);
  assert.match(r.out, /I\/user\.tick 1/);
  assert.doesNotMatch(r.err, /Error/);
});

test('--coverage lists the functions used; a missing one is warned about by name', async () => {
  const dir = makeScriptDir({
    'main.lua': 'log.info("a", json.encode({1}))\nif netdrv.probe_only then end\nlog.info("gpio", gpio, undefined_global_xyz)\nsys.taskInit(function() sys.wait(10); rtmp.foo() end)\nsys.run()',
  });
  const r = await luatos(['run', dir, '--coverage', '--reboot', 'exit']);
  assert.match(r.out, /luat:W\(\d+\):luatos:rtmp\.foo is not implemented by this runtime/);
  assert.match(r.out, /luat:W\(\d+\):luatos:netdrv\.probe_only is not implemented by this runtime/);
  assert.match(r.out, /json\.encode\s+1\s+implemented/);
  assert.match(r.out, /rtmp\.foo\s+1\s+missing/);
  assert.match(r.out, /luat:W\(\d+\):luatos:gpio is not implemented by this runtime/);
  assert.match(r.out, /I\/user\.gpio nil nil/);
  assert.doesNotMatch(r.out, /undefined_global_xyz is not/);
  assert.doesNotMatch(r.out, /load_main|__index/);
});
