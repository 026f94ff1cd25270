/**
 * `--board pc`: the PC simulator's network and identity (luatos-api-2.md §25): the posix
 * adapter 17 is the default and ready at once, IP_READY(host IPv4, 17) arrives 500 ms after the
 * start, socket.localIP gives the host IP with a fake .1 gateway, rtos.bsp() "PC", the banner,
 * the mobile stub. The Air8101 board keeps its own numbers. Real CLI runs.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatPcRecord } from '../../runtime/core/log';
import { luatos, userLineMs } from './helpers';

/** The host's first non-loopback IPv4, straight from the OS list (what the simulator reports). */
function expectedHostIp(): { ip: string; netmask: string } {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return { ip: a.address, netmask: a.netmask };
  }
  return { ip: '0.0.0.0', netmask: '0.0.0.0' };
}

/** An independent Luhn validity check (the sum with the check digit is a multiple of 10). */
function luhnValid(s: string): boolean {
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    let d = Number(s[s.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const PROBE = `
log.info("probe", "adapter17", socket.adapter(17))
log.info("probe", "dft", socket.dft())
log.info("probe", "ETH0", socket.ETH0)
log.info("probe", "localIP", socket.localIP())
log.info("probe", "bsp", rtos.bsp(), rtos.version())
log.info("probe", "mobile", mobile.imei(), mobile.iccid(), mobile.imsi(), mobile.number(), mobile.csq(), mobile.rssi(), mobile.rsrp(), mobile.status(), mobile.flymode())
sys.subscribe("IP_READY", function(ip, adapter) log.info("probe", "IP_READY", ip, adapter) end)
sys.taskInit(function()
  sys.waitUntil("IP_READY", 3000)
  sys.wait(50)
  os.exit(0)
end)
sys.run()
`;

for (const engine of ['wasmoon', 'fengari'] as const) {
  test(`--board pc (${engine}): adapter 17 is the default, IP_READY(host IP, 17) at 500 ms, localIP, bsp, banner`, async () => {
    const r = await luatos(['run', '--board', 'pc', '--engine', engine], { files: { 'main.lua': PROBE } });
    assert.equal(r.code, 0, r.out + r.err);
    const host = expectedHostIp();
    const gw = host.ip.split('.').slice(0, 3).concat('1').join('.');
    assert.match(r.out, /I\/user\.probe adapter17 true 17\n/, 'ready at once (check_ready)');
    assert.match(r.out, /I\/user\.probe dft 17 17\n/);
    assert.match(r.out, /I\/user\.probe ETH0 17\n/);
    assert.ok(r.out.includes(`I/user.probe localIP ${host.ip} ${host.netmask} ${gw} nil\n`), r.out);
    assert.match(r.out, /I\/user\.probe bsp PC V2035\n/);
    assert.match(r.out, new RegExp(`^\\[[^\\]]+\\]\\[\\d{8}\\.\\d{3}\\] I/main LuatOS@PC base 26\\.04 bsp V2035 ${engine === 'fengari' ? 32 : 64}bit$`, 'm'));
    assert.ok(r.out.includes(`I/user.probe IP_READY ${host.ip} 17\n`), r.out);
    // 500 ms after the start: not before 500 ms of boot time (the log's ms; a Lua timer would
    // start late, after the engine's start-up)
    const ipAt = userLineMs(r.out, 'probe IP_READY');
    assert.ok(ipAt !== undefined, r.out);
    assert.ok(ipAt >= 500, `IP_READY at ${ipAt} ms, before 500 ms`);
    // exactly one IP_READY, on 17 only
    assert.equal(r.out.split('probe IP_READY').length - 1, 1);
  });
}

test('--board pc: the mobile stub of the simulator (IMEI 86228905…, Luhn; nil ids; zero signal; flight mode)', async () => {
  const r = await luatos(['run', '--board', 'pc'], { files: { 'main.lua': PROBE } });
  const m = /I\/user\.probe mobile (\d+) nil nil nil 0 0 0 0 true\n/.exec(r.out);
  assert.ok(m, r.out);
  assert.equal(m[1].length, 15);
  assert.ok(m[1].startsWith('86228905'), m[1]);
  assert.ok(luhnValid(m[1]), `${m[1]} fails the Luhn check`);
});

test('the Air8101 board keeps its own numbers: dft 2 3, ETH0 16, bsp Air8101, no IP_READY on 17', async () => {
  const r = await luatos(['run', '--board', 'air8101', '--timeout', '1.2'], { files: { 'main.lua': PROBE } });
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /I\/user\.probe adapter17 false 17\n/);
  assert.match(r.out, /I\/user\.probe dft 2 3\n/);
  assert.match(r.out, /I\/user\.probe ETH0 16\n/);
  assert.match(r.out, /I\/user\.probe bsp Air8101 V2002\n/);
  assert.doesNotMatch(r.out, /probe IP_READY/);
});

function withProfile(p: unknown, fn: (file: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-boards-prof-'));
  const file = path.join(dir, 'profile.json');
  fs.writeFileSync(file, JSON.stringify(p));
  return fn(file).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}

test('--board pc: the profile\'s network.posix section sets the address and the delay', async () => {
  await withProfile({ network: { posix: { ip: '10.9.8.7', readyMs: 800 } } }, async (prof) => {
    const r = await luatos(['run', '--board', 'pc', '--profile', prof], { files: { 'main.lua': PROBE } });
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /I\/user\.probe localIP 10\.9\.8\.7 255\.255\.255\.0 10\.9\.8\.1 nil\n/);
    assert.match(r.out, /I\/user\.probe IP_READY 10\.9\.8\.7 17\n/);
    assert.ok((userLineMs(r.out, 'probe IP_READY') as number) >= 800);
  });
});

test('--board pc: networking disabled (network.posix.enabled false): no IP_READY, adapter 17 not ready', async () => {
  await withProfile({ network: { posix: { enabled: false } } }, async (prof) => {
    const r = await luatos(['run', '--board', 'pc', '--profile', prof], {
      files: { 'main.lua': 'log.info("probe", "adapter17", socket.adapter(17))\nsys.taskInit(function() log.info("probe", "wait", sys.waitUntil("IP_READY", 1000)) os.exit(4) end)\nsys.run()\n' },
    });
    assert.equal(r.code, 4, r.out + r.err);
    assert.match(r.out, /I\/user\.probe adapter17 false 17\n/);
    assert.match(r.out, /I\/user\.probe wait false\n/);
  });
});

test('--board pc: a bad network.posix section is a clear usage error, no stack trace', async () => {
  await withProfile({ network: { posix: { readyMs: 'soon' } } }, async (prof) => {
    const r = await luatos(['run', '--board', 'pc', '--profile', prof], { files: { 'main.lua': 'os.exit(0)\n' } });
    assert.equal(r.code, 2, r.out + r.err);
    assert.match(r.err, /board pc: profile network\.posix\.readyMs must be a number/);
    assert.doesNotMatch(r.err, /\n\s+at /);
  });
});

test('--board pc: log lines in the simulator\'s form `[local time][uptime s] I/user.tag ...`; air8101 keeps Luatools\'', async () => {
  const src = 'log.info("main", "hello", 1)\nos.exit(0)\n';
  const pc = await luatos(['run', '--board', 'pc'], { files: { 'main.lua': src } });
  assert.equal(pc.code, 0, pc.out + pc.err);
  const line = pc.out.split('\n').find((l) => l.includes('hello'));
  assert.match(line ?? '', /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[\d{8}\.\d{3}\] I\/user\.main hello 1$/);
  assert.doesNotMatch(pc.out, /luat:[UDIWE]\(/);
  const air = await luatos(['run', '--timeout', '0.2'], { files: { 'main.lua': 'log.info("main", "hello", 1)\nsys.run()\n' } });
  assert.match(air.out, /^\[[^\]]+\] luat:U\(\d+\):I\/user\.main hello 1$/m);
});

test('the pc line form: uptime zero-padded to 8 digits with ms; firmware lines as <L>/<module>', () => {
  const wall = new Date(2026, 7, 3, 18, 42, 52, 123).getTime();
  const u = formatPcRecord({ kind: 'U', ms: 1503.7, wall, payload: Buffer.from('I/user.main hello 1'), boot: 1 }).toString();
  assert.equal(u, '[2026-08-03 18:42:52.123][00000001.503] I/user.main hello 1');
  const f = formatPcRecord({ kind: 'E', ms: 123456789, wall, module: 'main', payload: Buffer.from('Lua VM exit!! reboot in 1000ms'), boot: 1 }).toString();
  assert.equal(f, '[2026-08-03 18:42:52.123][00123456.789] E/main Lua VM exit!! reboot in 1000ms');
});

test('--board pc --log-file: the file has the simulator\'s form and luatos logs reads it back', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-boards-logfile-'));
  try {
    const file = path.join(dir, 'pc.log');
    const r = await luatos(['run', '--board', 'pc', '--log-file', file], { files: { 'main.lua': 'log.info("main", "hello", 1)\nos.exit(0)\n' } });
    assert.equal(r.code, 0, r.out + r.err);
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /^\[[^\]]+\]\[\d{8}\.\d{3}\] I\/main LuatOS@PC /m);
    const back = await luatos(['logs', file, '--format', 'jsonl']);
    assert.equal(back.code, 0, back.err);
    const recs = back.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const hello = recs.find((x) => x.tag === 'main' && x.message === 'hello 1');
    assert.ok(hello, back.out);
    assert.equal(hello.level, 'I');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
