/** The shared command-line reader (runtime/host/cli/args.ts) and the `run` and `logs` parsers built on it. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ArgReader } from '../../runtime/host/cli/args';
import { parseRunArgs, UsageError } from '../../runtime/host/cli/main';
import { parseLogsArgs } from '../../runtime/host/logs/command';
import { UsageError as SharedUsageError } from '../../runtime/host/util/usage-error';

class E extends Error {}
const reader = (args: string[], dashValues = false) => new ArgReader(args, (m) => new E(m), { dashValues });

test('ArgReader: --flag value, --flag=value, missing values, option-looking values', () => {
  const r = reader(['--a', '1', '--b=x=y', 'file', '--c', '--d', '--e', '--']);
  assert.equal(r.next(), '--a');
  assert.equal(r.value(), '1');
  assert.equal(r.next(), '--b');
  assert.equal(r.inline, true);
  assert.equal(r.value(), 'x=y');
  assert.equal(r.next(), 'file');
  assert.equal(r.arg, 'file');
  assert.equal(r.next(), '--c');
  assert.throws(() => r.value(), (e: Error) => e instanceof E && e.message === '--c needs a value');
  assert.equal(r.next(), '--d');
  assert.equal(r.next(), '--e');
  assert.equal(r.value(), '--', 'a lone -- is a value');
  assert.equal(r.next(), undefined);
  const d = reader(['--grep', '--verbose'], true);
  d.next();
  assert.equal(d.value(), '--verbose');
  const end = reader(['--x']);
  end.next();
  assert.throws(() => end.value(), /--x needs a value/);
});

test('ArgReader: choice (with normalising), number, peek/skip, fail', () => {
  const r = reader(['--fmt', 'JSONL', '--n', '3', '--m', 'x', '--web', '8080']);
  r.next();
  assert.equal(r.choice(['text', 'jsonl'] as const, 'bad fmt', (v) => v.toLowerCase()), 'jsonl');
  r.next();
  assert.equal(r.number((n) => Number.isInteger(n), 'bad n'), 3);
  r.next();
  assert.throws(() => r.number((n) => Number.isFinite(n), 'bad m'), (e: Error) => e instanceof E && e.message === 'bad m');
  r.next();
  assert.equal(r.peek(), '8080');
  assert.equal(r.skip(), '8080');
  assert.equal(r.next(), undefined);
  assert.throws(() => r.fail('nope'), (e: Error) => e instanceof E && e.message === 'nope');
  const c = reader(['--c', 'blue']);
  c.next();
  assert.throws(() => c.choice(['red'] as const, '--c must be red'), /--c must be red/);
});

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
    [['x', '--engine', 'luajit'], '--engine must be one of wasmoon, fengari'],
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
