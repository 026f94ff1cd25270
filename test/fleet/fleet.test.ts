/**
 * `luatos fleet` (runtime/host/cli/fleet.ts, runtime/host/fleet/): N devices in one process, each with
 * its own name, MAC, state folder, Lua state, Wi-Fi station and log; per-device log files and a
 * merged log with the device name in each line; `luatos logs --device`; `--expect` per device;
 * Ctrl-C/SIGTERM stops it with no child left.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { tempDir } from '../helpers/tmp';
import { parseRunArgs, resolveScripts, main } from '../../runtime/host/cli/main';
import { parseFleetArgs, runFleet } from '../../runtime/host/cli/fleet';
import { logsCommand } from '../../runtime/host/logs/command';
import { UsageError } from '../../runtime/host/util/usage-error';

const parsers = { parseRunArgs, resolveScripts };
const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'bin', 'luatos.js');

/** an idle device: joins Wi-Fi, logs who it is, counts its boots in its own flash, then waits */
const IDLE_MAIN = `
PROJECT = "fleetidle"
VERSION = "1.0.0"
sys.taskInit(function()
    local n = tonumber(io.readFile("/boots.txt") or "0") + 1
    io.writeFile("/boots.txt", tostring(n))
    wlan.init()
    wlan.connect("lab", "pw")
    sys.waitUntil("IP_READY", 10000)
    log.info("who", mcu.unique_id and "uid" or "", netdrv.mac(socket.LWIP_STA), "boot", n)
    while true do sys.wait(60000) end
end)
sys.run()
`;

function collect(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (d: Buffer) => parts.push(d));
  return { out, text: () => Buffer.concat(parts).toString('utf8') };
}

test('fleet: 20 devices, each its own name, MAC, state folder and log; merged log names the device; logs --device filters', async () => {
  const dir = tempDir('luatos-fleet-');
  fs.writeFileSync(path.join(dir, 'main.lua'), IDLE_MAIN);
  const state = path.join(dir, 'state');
  const fo = parseFleetArgs([dir, '--devices', '20', '--name-prefix', 'node', '--state', state, '--expect', 'I/user.who', '--timeout', '60', '--quiet'], parsers);
  const c = collect();
  const r = await runFleet(fo, parsers, c.out, c.out);
  assert.equal(r.code, 0, `${r.reason}\n${c.text()}`);
  assert.equal(r.booted, 20);
  const logs = path.join(state, 'logs');
  const macs = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const name = `node${String(i).padStart(3, '0')}`;
    // its own state folder (flash): the boot counter it wrote
    assert.equal(fs.readFileSync(path.join(state, name, 'fs', 'boots.txt'), 'utf8'), '1', name);
    const own = fs.readFileSync(path.join(logs, `${name}.log`), 'utf8');
    const m = /I\/user\.who uid ([0-9A-F]{12}) boot 1/.exec(own);
    assert.ok(m, `${name}: ${own.slice(0, 400)}`);
    macs.add(m[1]);
    // one device's file has one boot banner: nothing of the others
    assert.equal(own.match(/LuatOS@Air8101/g)?.length, 1, name);
  }
  assert.equal(macs.size, 20, 'every device has its own MAC (device id)');
  const merged = fs.readFileSync(path.join(logs, 'fleet.log'), 'utf8').trimEnd().split('\n');
  const banners = merged.filter((l) => l.includes('LuatOS@Air8101'));
  assert.equal(banners.length, 20);
  for (const l of merged) assert.match(l, /^\[[\d\- :.]+\] <node0[01]\d> luat:|^\s|^stack|^\t/, l);

  // luatos logs --device: only that device's lines, and jsonl carries the name
  const lo = collect();
  assert.equal(await logsCommand(['--device', 'node007', '--grep', 'who', '--format', 'jsonl', path.join(logs, 'fleet.log')], lo.out), 0);
  const recs = lo.text().trim().split('\n').map((l) => JSON.parse(l) as { device: string; tag: string });
  assert.equal(recs.length, 1);
  assert.equal(recs[0].device, 'node007');
  assert.equal(recs[0].tag, 'who');
  const all = collect();
  assert.equal(await logsCommand(['-d', 'node001,node002', path.join(logs, 'fleet.log')], all.out), 0);
  const devs = new Set([...all.text().matchAll(/<(node\d+)>/g)].map((m) => m[1]));
  assert.deepEqual([...devs].sort(), ['node001', 'node002']);
});

test('fleet: JSONL on the terminal carries the device name', async () => {
  const dir = tempDir('luatos-fleet-');
  fs.writeFileSync(path.join(dir, 'main.lua'), IDLE_MAIN);
  const fo = parseFleetArgs([dir, '--devices', '3', '--state', path.join(dir, 's'), '--format', 'jsonl', '--expect', 'I/user.who', '--timeout', '30'], parsers);
  const c = collect();
  const err = collect();
  const r = await runFleet(fo, parsers, c.out, err.out);
  assert.equal(r.code, 0, r.reason);
  const recs = c.text().trim().split('\n').map((l) => JSON.parse(l) as { device: string; tag: string | null });
  const who = recs.filter((x) => x.tag === 'who').map((x) => x.device).sort();
  assert.deepEqual(who, ['dev000', 'dev001', 'dev002']);
});

test('fleet: --expect must appear on every device (timeout 42 names who did not)', async () => {
  const dir = tempDir('luatos-fleet-');
  fs.writeFileSync(path.join(dir, 'main.lua'), `sys.taskInit(function() log.info("hello", "x") while true do sys.wait(1000) end end) sys.run()`);
  const fo = parseFleetArgs([dir, '--devices', '4', '--state', path.join(dir, 's'), '--expect', 'I/user.hello', '--expect', 'never seen', '--timeout', '3', '--quiet'], parsers);
  const c = collect();
  const r = await runFleet(fo, parsers, c.out, c.out);
  assert.equal(r.code, 42);
  assert.match(r.reason, /4 device\(s\) did not show every --expect/);
  assert.match(r.reason, /dev000: never seen/);
});

test('fleet: usage errors (exit 2) for missing --devices, one-device options, bad shards', async () => {
  assert.throws(() => parseFleetArgs(['demo'], parsers), (e: Error) => e instanceof UsageError && /--devices/.test(e.message));
  assert.throws(() => parseFleetArgs(['demo', '--devices', '0'], parsers), /from 1 to/);
  assert.throws(() => parseFleetArgs(['demo', '--devices', '3', '--mac', 'AABBCCDDEEFF'], parsers), /option of one device/);
  assert.throws(() => parseFleetArgs(['demo', '--devices', '3', '--shard', '3/3'], parsers), /from 0 to 2/);
  assert.throws(() => parseFleetArgs(['demo', '--devices', '3', '--shard', 'auto/2'], parsers, {}), /JOB_COMPLETION_INDEX/);
  assert.throws(() => parseFleetArgs(['demo', '--devices', '3', '--name-prefix', '../x'], parsers), /name-prefix/);
  const o = parseFleetArgs(['demo', '--devices', '10', '--shard', 'auto/2', '--stagger', '50'], parsers, { JOB_COMPLETION_INDEX: '1' });
  assert.deepEqual(o.shard, { index: 1, count: 2 });
  assert.equal(o.staggerMs, 50);
  // through main(): exit code 2
  const saved = process.stderr.write;
  let errText = '';
  process.stderr.write = ((s: string) => ((errText += s), true)) as typeof process.stderr.write;
  try {
    assert.equal(await main(['fleet', 'demo']), 2);
  } finally {
    process.stderr.write = saved;
  }
  assert.match(errText, /fleet needs --devices N/);
});

test('fleet: a shard runs only its slice of the names', async () => {
  const dir = tempDir('luatos-fleet-');
  fs.writeFileSync(path.join(dir, 'main.lua'), IDLE_MAIN);
  const state = path.join(dir, 's');
  const fo = parseFleetArgs([dir, '--devices', '10', '--shard', '1/3', '--state', state, '--expect', 'I/user.who', '--timeout', '30', '--quiet'], parsers);
  const c = collect();
  const r = await runFleet(fo, parsers, c.out, c.out);
  assert.equal(r.code, 0, r.reason);
  assert.equal(r.devices, 3);
  const names = fs.readdirSync(path.join(state, 'logs')).filter((f) => f !== 'fleet.log').sort();
  assert.deepEqual(names, ['dev003.log', 'dev004.log', 'dev005.log']);
  assert.match(c.text(), /shard 1\/3: dev003\.\.dev005/);
});

test('fleet: SIGTERM ends the CLI, its threads and every ffmpeg child (no orphan)', { timeout: 90_000 }, async () => {
  const dir = tempDir('luatos-fleet-');
  const state = path.join(dir, 's');
  const child = spawn(process.execPath, [BIN, 'fleet', path.join(ROOT, 'demo'), '--profile', path.join(ROOT, 'demo', 'device.json'), '--devices', '3', '--platform', 'local', '--state', state, '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  // wait until every device streams (the shared encoder runs)
  const merged = path.join(state, 'logs', 'fleet.log');
  const deadline = Date.now() + 60_000;
  let pids: number[] = [];
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    const text = fs.existsSync(merged) ? fs.readFileSync(merged, 'utf8') : '';
    pids = [...text.matchAll(/ffmpeg pid (\d+)/g)].map((m) => Number(m[1]));
    if ((text.match(/已开始推流/g) ?? []).length >= 3 && pids.length >= 3) break;
  }
  assert.ok(pids.length >= 3, `devices did not stream:\n${out}`);
  assert.equal(new Set(pids).size, 1, 'the three devices share one encoder');
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0, out);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');
    } catch {
      return false;
    }
  };
  assert.equal(alive(pids[0]), false, 'the shared ffmpeg is gone');
});
