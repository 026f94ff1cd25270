/**
 * The board registry (runtime/boards/): `luatos boards`, `--board` parsing, the profile merge
 * order (defaults < board < profile file < CLI), and the scenario option `board:`.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BOARDS, boardProfile, DEFAULT_BOARD, findBoard, getBoard } from '../../runtime/boards';
import { parseRunArgs, UsageError } from '../../runtime/host/cli/main';
import { AIR8101_PROFILE } from '../../runtime/core/profile';
import { parseScenario, ScenarioError } from '../../runtime/host/scenario/schema';
import { runScenario } from '../../runtime/host/scenario/runner';
import { luatos } from './helpers';

test('the registry has air8101 (the default) and pc; names are unique, lowercase, described', () => {
  assert.equal(DEFAULT_BOARD, 'air8101');
  const names = BOARDS.map((b) => b.name);
  assert.ok(names.includes('air8101') && names.includes('pc'), names.join(','));
  assert.equal(new Set(names).size, names.length);
  for (const b of BOARDS) {
    assert.equal(b.name, b.name.toLowerCase());
    assert.ok(b.description.length > 10, b.name);
  }
  assert.equal(findBoard('PC')?.name, 'pc');
  assert.equal(findBoard('Air8101')?.name, 'air8101');
  assert.equal(findBoard('air780x'), undefined);
  assert.throws(() => getBoard('nope'), /unknown board 'nope' \(known: air8101, pc/);
});

test('luatos boards lists every board, the default marked', async () => {
  const r = await luatos(['boards']);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.equal(lines.length, BOARDS.length);
  assert.match(r.out, /^air8101\s+.*\(default\)$/m);
  assert.match(r.out, /^pc\s+.*PC simulator/m);
});

test('--board: parsed case-insensitively; an unknown name is a usage error naming the boards', () => {
  assert.equal(parseRunArgs(['--board', 'pc', 'x']).board, 'pc');
  assert.equal(parseRunArgs(['--board=PC', 'x']).board, 'pc');
  assert.equal(parseRunArgs(['x']).board, undefined);
  assert.throws(() => parseRunArgs(['--board', 'esp32', 'x']), (e: Error) => e instanceof UsageError && /unknown board 'esp32': --board is one of air8101, pc/.test(e.message));
  assert.throws(() => parseRunArgs(['x', '--board']), UsageError);
});

test('luatos run --board with an unknown name exits 2 with the list, no stack trace', async () => {
  const r = await luatos(['run', '--board', 'esp32'], { files: { 'main.lua': '' } });
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown board 'esp32'.*air8101, pc/);
  assert.doesNotMatch(r.err, /\n\s+at /);
});

test('luatos run --help names every board and documents --fault (the README CLI table does too)', async () => {
  const r = await luatos(['run', '--help']);
  assert.equal(r.code, 0, r.err);
  for (const b of BOARDS) assert.match(r.out, new RegExp(`\\b${b.name}\\b`), `--help names ${b.name}`);
  assert.match(r.out, /--fault "AT NAME ARGS\.\.\."/);
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  assert.match(readme, /\| `--fault "AT NAME ARGS\.\.\."` \|/);
  for (const b of BOARDS) assert.match(readme, new RegExp(`^\\|[^\\n]*\`${b.name}\`[^\\n]*\\| [^\\n]+\\|$`, 'm'), `the Boards table has a row for ${b.name}`);
});

test('--fault: parsed into device times and fault words; malformed values are usage errors', () => {
  const o = parseRunArgs(['x', '--fault', '10s sim remove', '--fault=1m30s http fail "a b" 503', '--fault', '1.5 reboot']);
  assert.deepEqual(
    o.faults.map((f) => [f.i, f.atMs, f.name, f.args]),
    [
      [0, 10000, 'sim', ['remove']],
      [1, 90000, 'http', ['fail', 'a b', '503']],
      [2, 1500, 'reboot', []],
    ],
  );
  for (const bad of ['sim remove', '10s', 'later sim remove', '-1s sim remove', '10s "sim x"', '']) assert.throws(() => parseRunArgs(['x', '--fault', bad]), UsageError, bad);
  assert.throws(() => parseRunArgs(['x', '--fault']), /--fault needs a value/);
});

test('profile merge order: Air8101 defaults < board preset < later overrides (the profile file)', () => {
  const pc = boardProfile(getBoard('pc'));
  assert.equal(pc.bsp, 'PC');
  assert.equal(pc.version, 'V2035');
  assert.equal(pc.baseVersion, '26.04');
  assert.equal(pc.exitRebootDelayMs, 1000);
  assert.equal(pc.board, 'pc');
  // fields the board does not set keep the defaults
  assert.deepEqual(pc.memory, AIR8101_PROFILE.memory);
  const over = boardProfile(getBoard('pc'), { bsp: 'X', memory: { lua: 1024 } }, { name: 'cli-name' });
  assert.equal(over.bsp, 'X');
  assert.equal(over.memory.lua, 1024);
  assert.equal(over.memory.sys, AIR8101_PROFILE.memory.sys);
  assert.equal(over.name, 'cli-name');
  assert.equal(over.version, 'V2035');
  const air = boardProfile(getBoard('air8101'));
  assert.equal(air.bsp, AIR8101_PROFILE.bsp);
  assert.equal(air.exitRebootDelayMs, AIR8101_PROFILE.exitRebootDelayMs);
  // the presets are not changed by building profiles
  assert.equal(getBoard('pc').profile.bsp, 'PC');
});

const SCEN = (board: string) => `
name: pc board scenario
scripts: .
options: { board: ${board}, clock: virtual, timeout: 10s }
steps:
  - wait-for: /IP_READY \\S+ 17/
  - expect: dft 17 17
`;

test('scenario option board: pc is parsed; an unknown board is a scenario error with the list', () => {
  assert.equal(parseScenario(SCEN('pc'), '/tmp/x.yaml').options.board, 'pc');
  assert.equal(parseScenario(SCEN('pc').replace('board: pc, ', ''), '/tmp/x.yaml').options.board, undefined);
  assert.throws(() => parseScenario(SCEN('nope'), '/tmp/x.yaml'), (e: Error) => e instanceof ScenarioError && /board is one of air8101, pc/.test(e.message));
});

test('a scenario with board: pc runs on the PC simulator board (IP_READY on 17); air8101 does not pass it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-boards-scen-'));
  try {
    fs.writeFileSync(
      path.join(dir, 'main.lua'),
      'sys.subscribe("IP_READY", function(ip, a) log.info("net", "IP_READY", ip, a) log.info("net", "dft", socket.dft()) end)\nsys.run()\n',
    );
    for (const [board, status] of [
      ['pc', 'passed'],
      ['air8101', 'timeout'],
    ] as const) {
      const file = path.join(dir, `${board}.yaml`);
      fs.writeFileSync(file, SCEN(board));
      const r = await runScenario(file);
      assert.equal(r.status, status, `${board}: ${JSON.stringify(r.failure)}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a scenario on board pc: the dns fail fault applies to adapter 17; HTTP works through it otherwise', async () => {
  const http = await import('node:http');
  const srv = http.createServer((_q, res) => res.end('hello'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as import('node:net').AddressInfo).port;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-boards-dns-'));
  try {
    fs.writeFileSync(
      path.join(dir, 'main.lua'),
      `sys.taskInit(function()
  sys.waitUntil("IP_READY")
  while true do
    local code, _, body = http.request("GET", "http://pc-sim.test/").wait()
    log.info("get", code, body)
    sys.wait(300)
  end
end)
sys.run()
`,
    );
    const file = path.join(dir, 's.yaml');
    fs.writeFileSync(
      file,
      `name: dns on pc
scripts: .
options: { board: pc, clock: real, timeout: 20s, map: ["pc-sim.test=127.0.0.1:${port}"] }
steps:
  - wait-for: get 200 hello
  - dns: fail pc-sim.test
  - expect: /get -\\d+ nil/
    within: 5s
  - dns: ok
  - expect: get 200 hello
    within: 5s
`,
    );
    const r = await runScenario(file);
    assert.equal(r.status, 'passed', JSON.stringify(r.failure));
  } finally {
    await new Promise((r) => srv.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
