/**
 * `luatos run` as a new user meets it: help, checks of option values before anything starts,
 * the platform's startup line and its temporary folder, jsonl line breaks, requested reboots,
 * --coverage counts. Every test runs the real CLI in a child process with its own TMPDIR.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/tmp';

const BIN = path.resolve(__dirname, '..', '..', '..', 'bin', 'luatos.js');

interface RunOut {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** A private temporary folder: the scripts, the state and the child's TMPDIR; removed after. */
function sandbox(t: { after: (fn: () => void) => void }, files: Record<string, string> = {}): { dir: string; scripts: string; tmp: string } {
  const dir = tempDir('luatos-clipolish-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const scripts = path.join(dir, 'scripts');
  const tmp = path.join(dir, 'tmp');
  fs.mkdirSync(scripts);
  fs.mkdirSync(tmp);
  for (const [n, c] of Object.entries(files)) fs.writeFileSync(path.join(scripts, n), c);
  return { dir, scripts, tmp };
}

function luatos(args: string[], box: { dir: string; tmp: string }, opts: { killOn?: string; timeoutMs?: number } = {}): Promise<RunOut> {
  const full = args[0] === 'run' ? [...args, '--state', path.join(box.dir, 'state')] : args;
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...full], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: box.tmp } });
    let out = '';
    let err = '';
    let killed = false;
    p.stdout.on('data', (d) => {
      out += d;
      if (opts.killOn && !killed && out.includes(opts.killOn)) {
        killed = true;
        p.kill('SIGKILL');
      }
    });
    p.stderr.on('data', (d) => (err += d));
    const guard = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30000);
    p.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, out, err });
    });
  });
}

test('run --help (and -h) prints the help and exits 0, like test --help and logs --help', async (t) => {
  const box = sandbox(t);
  for (const h of ['--help', '-h']) {
    const r = await luatos(['run', h], box);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Options for run:/);
    assert.doesNotMatch(r.err, /unknown option/);
  }
  const r2 = await luatos(['run', 'some/folder', '--engine', 'fengari', '--help'], box);
  assert.equal(r2.code, 0, 'help wins over the other options');
});

test('option values checked at start: --map ports, --wifi without ":", a --camera that does not exist (exit 2, clear message)', async (t) => {
  const box = sandbox(t, { 'main.lua': 'log.info("main", "started")\nsys.run()\n' });
  const fakeCam = path.join(box.dir, 'video99');
  const cases: [string[], RegExp][] = [
    [['--map', 'video.luatos.com:10030=127.0.0.1:70000'], /--map 'video\.luatos\.com:10030=127\.0\.0\.1:70000': port 70000 is outside 1–65535/],
    [['--map', 'a.example:0=127.0.0.1'], /port 0 is outside 1–65535/],
    [['--map', 'nonsense'], /--map: bad mapping 'nonsense': use HOST\[:PORT\]=ADDR\[:PORT\]/],
    [['--wifi', 'lab'], /--wifi 'lab' has no ':' between SSID and password: write --wifi 'lab:PASSWORD', or --wifi 'lab:' for an open access point/],
    [['--wifi', ':pw'], /--wifi ':pw': the SSID before ':' is empty/],
    [['--camera', `v4l2:${fakeCam}`], new RegExp(`--camera: camera device ${fakeCam.replace(/[/.]/g, '\\$&')} does not exist`)],
    [['--camera', `file:${path.join(box.dir, 'nope.mp4')}`], /--camera: camera source file .*nope\.mp4 does not exist/],
    [['--camera', 'webcam'], /--camera: bad camera source "webcam"/],
  ];
  for (const [extra, re] of cases) {
    const r = await luatos(['run', box.dir + '/scripts', ...extra, '--reboot', 'exit', '--timeout', '2'], box);
    assert.equal(r.code, 2, `${extra.join(' ')}: ${r.out}${r.err}`);
    assert.match(r.err, re, extra.join(' '));
    assert.doesNotMatch(r.out, /I\/user\.main started/, 'nothing ran');
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  }
  // what the messages propose is accepted
  const ok = await luatos(['run', box.dir + '/scripts', '--wifi', 'lab:', '--map', 'a.example:1=127.0.0.1:65535', '--expect', 'main started'], box);
  assert.equal(ok.code, 0, ok.err);
});

test('a task calling rtos.reboot() logs no coroutine.resume error or traceback (both engines)', async (t) => {
  const box = sandbox(t, { 'main.lua': 'log.info("boot")\nsys.taskInit(function() sys.wait(20) rtos.reboot() end)\nsys.run()\n' });
  for (const engine of ['lua53', 'wasmoon', 'fengari']) {
    const r = await luatos(['run', box.scripts, '--engine', engine, '--max-boots', '2'], box);
    assert.equal(r.code, 1, 'boot limit reached');
    assert.equal((r.out.match(/I\/user\.boot/g) ?? []).length, 2, `${engine}: it rebooted`);
    assert.match(r.out, /luat:I\(\d+\):rtos:rtos\.reboot\(\) called, rebooting/);
    assert.doesNotMatch(r.out, /coroutine\.resume|stack traceback|Lua VM exit/, engine);
  }
});

test('run --format jsonl writes "\\n" inside multi-line messages, as logs --format jsonl does', async (t) => {
  const box = sandbox(t, { 'main.lua': 'sys.taskInit(function() sys.wait(10) error("boom") end)\nsys.run()\n' });
  const r = await luatos(['run', box.scripts, '--format', 'jsonl', '--reboot', 'exit'], box);
  const recs = r.out.trim().split('\n').map((l) => JSON.parse(l));
  const tb = recs.find((x) => x.tag === 'coroutine.resume');
  assert.ok(tb, r.out);
  assert.match(tb.message, /boom\nstack traceback:\n/);
  assert.doesNotMatch(tb.message, /\r/);
  // the same record read back from the Luatools-format file by `luatos logs`
  const file = path.join(box.dir, 'dev.log');
  await luatos(['run', box.scripts, '--log-file', file, '--reboot', 'exit'], box);
  const back = await luatos(['logs', file, '--format', 'jsonl', '--tag', 'coroutine.resume'], box);
  const rec = JSON.parse(back.out.trim().split('\n')[0]);
  assert.equal(rec.message.split('\n')[0], tb.message.split('\n')[0]);
  assert.equal(rec.message.includes('\r'), false);
  assert.equal(rec.message.split('\n').length, tb.message.split('\n').length, 'the same lines');
});

test('--coverage: print counted only when the script calls it; __gc is not a LuatOS function', async (t) => {
  const box = sandbox(t, {
    'main.lua': 'log.info("a", 1)\nlog.warn("b")\nprint("own")\nlocal z = zbuff.create(8)\nz = nil\ncollectgarbage()\ncollectgarbage()\nsys.taskInit(function() sys.wait(10) rtos.reboot() end)\nsys.run()\n',
  });
  const r = await luatos(['run', box.scripts, '--coverage', '--reboot', 'exit'], box);
  assert.match(r.out, /log\.info\s+1\s+implemented/);
  assert.match(r.out, /log\.warn\s+1\s+implemented/);
  assert.match(r.out, /^print\s+1\s+implemented$/m, r.out);
  assert.doesNotMatch(r.out, /__gc/);
});

test('--platform local: the startup line shows <deviceId> as written; a kill -9 leaves a store folder that the next start removes', async (t) => {
  const box = sandbox(t, { 'main.lua': 'sys.run()\n' });
  const first = await luatos(['run', box.scripts, '--platform', 'local'], box, { killOn: 'RTMP ingest' });
  assert.equal(first.signal, 'SIGKILL');
  assert.match(first.out, /device API http:\/\/127\.0\.0\.1:\d+\/api-system\/deviceVideo\/get\/<deviceId> \(also https\)/);
  assert.doesNotMatch(first.out, /%3C/);
  const left = fs.readdirSync(box.tmp).filter((n) => n.startsWith('luatos-platform-nms-'));
  assert.equal(left.length, 1, 'kill -9 left its folder behind');
  const second = await luatos(['run', box.scripts, '--platform', 'local', '--timeout', '0.5'], box);
  assert.equal(second.code, 0, second.err);
  assert.deepEqual(fs.readdirSync(box.tmp).filter((n) => n.startsWith('luatos-platform-nms-')), [], 'the stale folder is gone and the second run cleaned its own');
});

test('README truths: no link outside the repository; the task-error timeline, rtos.reboot and exit codes it states are what happens', async (t) => {
  const root = path.resolve(__dirname, '..', '..', '..');
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  assert.doesNotMatch(readme, /\.\.\/shared/, 'a clone has no ../shared');
  for (const m of readme.matchAll(/\]\((?!https?:|#)([^)]+)\)|`((?:demo|runtime|test|scripts|luatos-api)\/[^`\s]*)`/g)) {
    const rel = (m[1] ?? m[2]).replace(/[#?].*$/, '');
    if (/[<*]/.test(rel)) continue;
    assert.ok(fs.existsSync(path.join(root, rel)), `README names ${rel}, which the repository has`);
  }
  assert.match(readme, /500 ms later the same error is raised\s+in the main loop, which ends the VM/);
  assert.match(readme, /`--max-boots N` reached \(`boot limit reached`\)/);
  assert.match(readme, /`main\.lua` returns without error/);
  assert.match(readme, /must be quoted/);

  // the task-error timeline: coroutine.resume at once, the VM ends >= 500 ms later, then the reboot delay
  const box = sandbox(t, { 'main.lua': 'sys.taskInit(function() sys.wait(10) error("bad") end)\nsys.run()\n', 'p.json': '{"exitRebootDelayMs": 300}' });
  const r = await luatos(['run', box.scripts, '--profile', path.join(box.scripts, 'p.json'), '--max-boots', '1', '--format', 'jsonl'], box);
  const recs = r.out.trim().split('\n').map((l) => JSON.parse(l));
  const err = recs.find((x) => x.tag === 'coroutine.resume');
  const exit = recs.find((x) => /^Lua VM exit!! reboot in 300ms$/.test(x.message));
  assert.ok(err && exit, r.out);
  assert.ok(exit.boot_ms - err.boot_ms >= 490, `the VM ends 500 ms after the task error (${exit.boot_ms - err.boot_ms} ms)`);
  assert.equal(r.code, 1);
  assert.match(r.err, /boot limit reached/);
  // main.lua that returns: exit 1, "the VM ended (returned)"
  const box2 = sandbox(t, { 'main.lua': 'log.info("x")\n' });
  const r2 = await luatos(['run', box2.scripts, '--reboot', 'exit'], box2);
  assert.equal(r2.code, 1);
  assert.match(r2.err, /the VM ended \(returned\)/);
});

test('a reboot while the camera streams: the old ffmpeg is stopped and drained before the new boot logs (RESET key via luatos test)', { timeout: 120_000 }, async (t) => {
  const root = path.resolve(__dirname, '..', '..', '..');
  const box = sandbox(t);
  const yaml = path.join(box.dir, 'reset.yaml');
  fs.writeFileSync(
    yaml,
    [
      'name: reset while streaming',
      `scripts: ${JSON.stringify(path.join(root, 'demo'))}`,
      'options:',
      '  platform: local',
      '  camera: testsrc',
      '  clock: virtual',
      '  timeout: 90s',
      '  wifi: ["茶室-降功耗,找合宙!:HZ88888888"]',
      '  allow-reboot: true',
      'steps:',
      '  - wait-for: "camera: streaming"',
      '    timeout: 60s',
      '  - after: 2s',
      '    fault: reboot',
      '  - wait-for: 摄像头初始化',
      '    timeout: 60s',
      '',
    ].join('\n'),
  );
  const logs = path.join(box.dir, 'logs');
  const r = await luatos(['test', yaml, '--log-dir', logs], box, { timeoutMs: 110_000 });
  assert.equal(r.code, 0, r.out + r.err);
  const lines = fs.readFileSync(path.join(logs, fs.readdirSync(logs)[0]), 'utf8').split('\n');
  const reset = lines.findIndex((l) => /main:RESET key \(RESET键\) pressed, rebooting/.test(l));
  const banner2 = lines.findIndex((l, i) => i > reset && /main:LuatOS@Air8101/.test(l));
  assert.ok(reset > 0 && banner2 > reset, 'a reset, then a second boot');
  const between = lines.slice(reset, banner2).join('\n');
  assert.match(between, /camera:camera: stopped/, 'the old encoder stopped before the new banner');
  const openAgain = lines.findIndex((l, i) => i > banner2 && /camera: open source=/.test(l));
  const afterBanner = lines.slice(banner2, openAgain < 0 ? undefined : openAgain).join('\n');
  assert.doesNotMatch(afterBanner, /frame=|Exiting normally|camera: stopped|kb\/s:/, 'nothing of the old ffmpeg after the new banner');
});

test('a Wi-Fi drop while streaming: the RTMP error says the link went down, not "closed by the server"', { timeout: 120_000 }, async (t) => {
  const root = path.resolve(__dirname, '..', '..', '..');
  const box = sandbox(t);
  const yaml = path.join(box.dir, 'wifi.yaml');
  fs.writeFileSync(
    yaml,
    [
      'name: wifi drop wording',
      `scripts: ${JSON.stringify(path.join(root, 'demo'))}`,
      'options: { platform: local, camera: testsrc, clock: virtual, timeout: 90s, wifi: ["茶室-降功耗,找合宙!:HZ88888888"] }',
      'steps:',
      '  - expect-not: closed by the server',
      '  - wait-for: 已开始推流',
      '    timeout: 60s',
      '  - after: 2s',
      '    wifi: down',
      "  - expect: 'RTMP: network error: the Wi-Fi link went down'",
      '    within: 5s',
      '',
    ].join('\n'),
  );
  const r = await luatos(['test', yaml], box, { timeoutMs: 110_000 });
  assert.equal(r.code, 0, r.out + r.err);
});
