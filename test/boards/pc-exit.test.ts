/**
 * `--board pc`: how a run ends, as the LuatOS PC simulator ends its process (luatos-api-2.md
 * §25): os.exit(status) with Lua 5.3's status rules, rtos.reboot(code) → exit(code), a VM exit
 * → `Lua VM exit!! reboot in 1000ms` then exit(1) a second later. And on the Air8101 board
 * os.exit stays absent, as on the device. Every case spawns the real CLI.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { luatos } from './helpers';

interface ExitCase {
  name: string;
  lua: string;
  code: number;
  engine?: 'wasmoon' | 'fengari';
}

const wrap = (body: string) => `
log.info("main", "start")
sys.taskInit(function()
  sys.wait(20)
  ${body}
  log.info("main", "AFTER EXIT")
end)
sys.run()
`;

const CASES: ExitCase[] = [
  { name: 'os.exit(0) → 0', lua: wrap('os.exit(0)'), code: 0 },
  { name: 'os.exit(3) → 3', lua: wrap('os.exit(3)'), code: 3 },
  { name: 'os.exit(true) → 0', lua: wrap('os.exit(true)'), code: 0 },
  { name: 'os.exit(false) → 1', lua: wrap('os.exit(false)'), code: 1 },
  { name: 'os.exit() → 0', lua: wrap('os.exit()'), code: 0 },
  { name: 'os.exit(3, true) → 3 (the close flag changes nothing)', lua: wrap('os.exit(3, true)'), code: 3 },
  { name: 'os.exit("4") → 4 (a numeric string converts, as luaL_optinteger)', lua: wrap('os.exit("4")'), code: 4 },
  { name: 'os.exit(263) → 7 (the process status is the low 8 bits)', lua: wrap('os.exit(263)'), code: 7 },
  { name: 'os.exit(-1) → 255', lua: wrap('os.exit(-1)'), code: 255 },
  { name: 'os.exit(math.maxinteger) → 255 (a C int of 2^63-1 is -1; exact 64-bit digits)', lua: wrap('os.exit(math.maxinteger)'), code: 255 },
  { name: 'os.exit(0x100000005) → 5', lua: wrap('os.exit(0x100000005)'), code: 5 },
  { name: 'os.exit inside pcall still ends the run', lua: wrap('local ok = pcall(os.exit, 6) log.info("main", "pcall returned", ok)'), code: 6 },
  { name: 'os.exit from the main chunk', lua: 'log.info("main", "x")\nos.exit(9)\nlog.info("main", "AFTER EXIT")', code: 9 },
  { name: 'rtos.reboot(5) → 5', lua: wrap('rtos.reboot(5)'), code: 5 },
  { name: 'rtos.reboot() → 0', lua: wrap('rtos.reboot()'), code: 0 },
  { name: 'fengari: os.exit(3) → 3', lua: wrap('os.exit(3)'), code: 3, engine: 'fengari' },
  { name: 'fengari: os.exit(false) → 1', lua: wrap('os.exit(false)'), code: 1, engine: 'fengari' },
];

for (const c of CASES) {
  test(`--board pc: ${c.name}`, async () => {
    const r = await luatos(['run', '--board', 'pc', '--engine', c.engine ?? 'wasmoon'], { files: { 'main.lua': c.lua } });
    assert.equal(r.code, c.code, r.out + r.err);
    // the process ends at once: nothing after the call runs, no coroutine.resume error line
    assert.doesNotMatch(r.out, /AFTER EXIT|coroutine\.resume|pcall returned/, r.out);
    // and the CLI adds no complaint of its own for a code the script chose
    assert.equal(r.err, '');
  });
}

test('--board pc: os.exit with a non-number raises the stock error (the VM ends: exit 1)', async () => {
  const r = await luatos(['run', '--board', 'pc'], { files: { 'main.lua': wrap('os.exit({})') } });
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /bad argument #1 to 'exit' \(number expected, got table\)/);
  assert.match(r.out, /Lua VM exit!! reboot in 1000ms/);
});

test('--board pc: main.lua returning → "Lua VM exit!! reboot in 1000ms", then exit 1 a second later', async () => {
  const r = await luatos(['run', '--board', 'pc'], { files: { 'main.lua': 'log.info("main", "done")\n' } });
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /\] E\/main Lua VM exit!! reboot in 1000ms\n/);
  assert.doesNotMatch(r.out, /LuatOS@PC.*[\s\S]*LuatOS@PC/, 'no second boot');
  const at = r.chunks.find((c) => c.text.includes('Lua VM exit!!'));
  assert.ok(at, 'the VM exit line arrived');
  // the exit waits for the firmware's delay (a lower bound on behaviour, not a speed check;
  // slack for pipe latency)
  assert.ok(r.endT - at.t >= 800, `the run ended ${Math.round(r.endT - at.t)} ms after the VM exit line`);
});

test('--board pc: an uncaught task error ends the run with 1 after the VM exit line', async () => {
  const r = await luatos(['run', '--board', 'pc'], { files: { 'main.lua': wrap('error("boom")') } });
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /boom/);
  assert.match(r.out, /Lua VM exit!! reboot in 1000ms/);
});

test('--board pc: the VM-exit delay comes from the profile (a profile file overrides the board)', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-boards-prof-'));
  try {
    const prof = path.join(dir, 'p.json');
    fs.writeFileSync(prof, JSON.stringify({ exitRebootDelayMs: 20, bsp: 'MYPC' }));
    const r = await luatos(['run', '--board', 'pc', '--profile', prof], { files: { 'main.lua': 'log.info("main", rtos.bsp(), type(os.exit))\n' } });
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /I\/user\.main MYPC function/);
    assert.match(r.out, /Lua VM exit!! reboot in 20ms/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const args of [['--board', 'air8101'], []]) {
  test(`${args.length ? '--board air8101' : 'the default board'}: os.exit is nil, calling it crashes as on the device`, async () => {
    const r = await luatos(['run', ...args, '--reboot', 'exit'], { files: { 'main.lua': 'log.info("main", "os.exit is", type(os.exit), rtos.bsp())\nos.exit(3)\n' } });
    assert.match(r.out, /I\/user\.main os\.exit is nil Air8101/);
    assert.match(r.out, /attempt to call a nil value \(field 'exit'\)/);
    assert.equal(r.code, 1, r.out + r.err);
  });
}
