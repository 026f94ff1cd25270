/** The `run`, `logs` and `test` parsers built on the shared reader runtime/host/util/args.ts (tested in test/host/args.test.ts). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseRunArgs, UsageError } from '../../runtime/host/cli/main';
import { parseLogsArgs } from '../../runtime/host/logs/command';
import { testCommand, TEST_HELP } from '../../runtime/host/scenario/command';
import { Writable } from 'node:stream';
import { UsageError as SharedUsageError } from '../../runtime/host/util/usage-error';

test('parseRunArgs: the options, their checks and messages', () => {
  const o = parseRunArgs(['demo', '--engine', 'fengari', '--log-level=info', '--timeout', '2.5', '--wifi', 'a:b', '--wifi=c:d', '--web', '--clock', 'virtual', '--platform', 'local', '--dns', '1.1.1.1,,8.8.8.8']);
  assert.deepEqual(o.targets, ['demo']);
  assert.equal(o.engine, 'fengari');
  assert.equal(o.logLevel, 'I');
  assert.equal(o.timeoutSec, 2.5);
  assert.deepEqual(o.net.wifi, ['a:b', 'c:d']);
  assert.equal(o.web, 0);
  assert.equal(o.clock, 'virtual');
  assert.equal(o.platform, 'local');
  assert.deepEqual(o.net.dns, ['1.1.1.1', '8.8.8.8']);
  assert.equal(parseRunArgs(['--web', '8080', 'x']).web, 8080);
  assert.equal(parseRunArgs(['--web=9000', 'x']).web, 9000);
  assert.deepEqual(parseRunArgs(['--web', 'x']).targets, ['x'], 'a non-number after --web is a target');
  const bad: [string[], string][] = [
    [['x', '--engine', 'luajit'], '--engine must be one of lua53, wasmoon, fengari'],
    [['x', '--log-level', 'verbose'], '--log-level must be D, I, W or E'],
    [['x', '--timeout', '0'], '--timeout needs a positive number of seconds'],
    [['x', '--max-boots', '1.5'], '--max-boots needs a whole number >= 1'],
    [['x', '--web=70000'], '--web takes an optional port number'],
    [['x', '--sntp', 'ntp'], '--sntp must be host or real'],
    [['x', '--bogus'], 'unknown option --bogus'],
    [['x', '--profile', '--engine'], '--profile needs a value'],
    [[], 'run needs a script folder (or .lua files)'],
  ];
  for (const [args, msg] of bad) assert.throws(() => parseRunArgs(args), (e: Error) => e instanceof UsageError && e.message === msg, `${args.join(' ')} → ${msg}`);
});

test('parseLogsArgs: short flags, option-looking values, date + time, -- and -', () => {
  const o = parseLogsArgs(['-g', '--x', '--since', '2026-11-24', '10:00', '-i', '--encoding', 'GB-K', '--', '-dash-file', '-']);
  assert.deepEqual(o.filter.grep, ['--x']);
  assert.equal(o.ignoreCase, true);
  assert.equal(o.encoding, 'gbk');
  assert.deepEqual(o.files, ['-dash-file', '-']);
  assert.ok(o.filter.since);
  assert.throws(() => parseLogsArgs(['f.log', '--color', 'pink']), /--color must be auto, always or never/);
  assert.throws(() => parseLogsArgs(['f.log', '-z']), /unknown option -z/);
  assert.throws(() => parseLogsArgs(['f.log', '--tag']), /--tag needs a value/);
});

test('one usage error class: luatos run and luatos logs throw runtime/host/util/usage-error UsageError (re-exported by cli/main)', () => {
  assert.equal(UsageError, SharedUsageError);
  assert.throws(() => parseRunArgs(['--engine', 'lua51', 'x']), (e: unknown) => e instanceof SharedUsageError && /--engine/.test((e as Error).message));
  assert.throws(() => parseLogsArgs([]), (e: unknown) => e instanceof SharedUsageError && /needs a log file/.test((e as Error).message));
});

test('parseRunArgs: forms kept from the old reader — a dash target, a dash value, repeatable options in order, last one wins', () => {
  assert.deepEqual(parseRunArgs(['-odd', 'x']).targets, ['-odd', 'x'], 'an argument with an unknown short letter is a target, as before');
  assert.deepEqual(parseRunArgs(['-', 'x']).targets, ['-', 'x']);
  assert.throws(() => parseRunArgs(['x', '--timeout', '-1']), /--timeout needs a positive number of seconds/, 'a negative number reaches the range check');
  assert.deepEqual(parseRunArgs(['x', '--expect', '-5', '--expect', '--']).expect, ['-5', '--']);
  const o = parseRunArgs(['x', '--lib', 'a', '--lib=b', '--engine', 'fengari', '--engine', 'wasmoon', '--fail', 'E1']);
  assert.deepEqual(o.libDirs, ['a', 'b']);
  assert.equal(o.engine, 'wasmoon');
  assert.deepEqual(o.fail, ['E1']);
  assert.deepEqual(o.faults, []);
  assert.equal(o.web, undefined);
  assert.equal(o.coverage, false);
  assert.equal(o.maxBoots, 0);
  assert.equal(parseRunArgs(['x', '--coverage']).coverage, true);
  assert.equal(parseRunArgs(['x', '--max-boots', '3', '--runaway-ms=50']).maxBoots, 3);
  assert.equal(parseRunArgs(['x', '--help', '--bogus']).help, true, 'run --help wins over what follows');
  assert.equal(parseRunArgs(['-h']).help, true, 'no target needed with --help');
  const a = parseRunArgs(['x', '--engine', 'fengari', '--wifi', 'a:b', '--web']).args;
  assert.equal(Object.getPrototypeOf(a), null, 'RunOptions.args: every option as read, no prototype');
  assert.equal(a.engine, 'fengari');
  assert.deepEqual(a.wifi, ['a:b']);
  assert.equal(a.web, 0);
  assert.equal(a.timeout, undefined);
});

test('parseRunArgs: what changed with parseArgs — -- ends the options, a value on a flag is an error, --fault bounded', () => {
  assert.deepEqual(parseRunArgs(['--engine', 'fengari', '--', '--odd-folder']).targets, ['--odd-folder']);
  assert.throws(() => parseRunArgs(['x', '--coverage=no']), (e: Error) => e instanceof UsageError && e.message === '--coverage takes no value');
  const many = Array.from({ length: 257 }, (_, i) => ['--fault', `${i}s reboot`]).flat();
  assert.throws(() => parseRunArgs(['x', ...many]), (e: Error) => e instanceof UsageError && e.message === 'at most 256 --fault options');
  assert.equal(parseRunArgs(['x', ...many.slice(0, 512)]).faults.length, 256);
  assert.deepEqual(parseRunArgs(['x', ...many.slice(0, 4)]).faults.map((f) => f.i), [0, 1]);
});

test('parseLogsArgs: grouped short flags, a short value attached, --colour and --no-color in order, --help stops', () => {
  const o = parseLogsArgs(['-if', '-gERR', '-lW', 'f.log']);
  assert.equal(o.ignoreCase, true);
  assert.equal(o.follow, true);
  assert.deepEqual(o.filter.grep, ['ERR']);
  assert.equal(o.filter.minLevel, parseLogsArgs(['--level', 'W', 'f.log']).filter.minLevel);
  assert.notEqual(o.filter.minLevel, parseLogsArgs(['--level', 'E', 'f.log']).filter.minLevel);
  assert.deepEqual(o.files, ['f.log']);
  assert.equal(parseLogsArgs(['f.log', '--no-color', '--colour', 'always']).color, 'always');
  assert.equal(parseLogsArgs(['f.log', '--colour', 'always', '--no-color']).color, 'never');
  assert.deepEqual(parseLogsArgs(['f.log', '-t', 'a', '--tag', 'b,c']).filter.tags, ['a', 'b,c']);
  assert.equal(parseLogsArgs(['--help', '--bogus']).help, true);
  assert.throws(() => parseLogsArgs(['f.log', '-if', '-z']), /unknown option -z/);
  assert.throws(() => parseLogsArgs(['f.log', '--since=2026-11-24', '10:00']), /not a time: '2026-11-24'/, 'an inline date is not joined with the next argument (as before)');
});

test('luatos test: grouped short flags (-vh is --verbose --help), unknown short options, -- before targets', async () => {
  const run = async (args: string[]) => {
    let text = '';
    const out = new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) });
    return { code: await testCommand(args, out), text };
  };
  const h = await run(['-vh']);
  assert.equal(h.code, 0);
  assert.equal(h.text, TEST_HELP);
  const z = await run(['-z', 'a.yaml']);
  assert.equal(z.code, 2);
  assert.equal(z.text, "luatos test: unknown option -z\nTry 'luatos test --help'.\n");
  const t = await run(['--', '--no-such.yaml']);
  assert.equal(t.code, 2);
  assert.match(t.text, /^luatos test: no such file or folder: --no-such\.yaml\n/, 'after --, a target');
});
