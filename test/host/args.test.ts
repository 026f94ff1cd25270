/** The shared command-line reader runtime/host/util/args.ts (on node:util parseArgs). No child process. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import { flag, help, list, number, oneOf, optional, readArgs, UsageError, value } from '../../runtime/host/util/args';
import { UsageError as SharedUsageError } from '../../runtime/host/util/usage-error';

const SPEC = {
  name: value(),
  mode: value(oneOf(['fast', 'slow'], '--mode must be fast or slow', (v) => v.toLowerCase())),
  count: value(number('--count needs a whole number >= 1', { integer: true, min: 1 })),
  lib: list(),
  tag: list(undefined, { short: 't' }),
  quiet: flag({ short: 'q' }),
  follow: flag({ short: 'f' }),
  grep: value({ short: 'g' }),
  help: help(),
} as const;

/** the usage error thrown by `fn`, with its message */
function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UsageError, `not a UsageError: ${String(e)}`);
    return e.message;
  }
  assert.fail('no usage error');
}

test('the one UsageError: runtime/host/util/args re-exports runtime/host/util/usage-error', () => {
  assert.equal(UsageError, SharedUsageError);
});

test('--x V, --x=V, -x V, -xV; a lone -- or a one-dash word after an option is its value', () => {
  const { values: v, positionals } = readArgs(['--name', 'a', 'file1', '--mode=SLOW', '-g', 'x', '-tT1', '--lib=', 'file2'], SPEC);
  assert.equal(v.name, 'a');
  assert.equal(v.mode, 'slow', 'normalised, then checked');
  assert.equal(v.grep, 'x');
  assert.deepEqual(v.tag, ['T1']);
  assert.deepEqual(v.lib, ['']);
  assert.deepEqual(positionals, ['file1', 'file2']);
  assert.equal(readArgs(['--name', '-5'], SPEC).values.name, '-5', 'a negative number is a value');
  assert.equal(readArgs(['--name', '-q'], SPEC).values.name, '-q');
  assert.equal(readArgs(['--name', '--'], SPEC).values.name, '--');
  assert.equal(readArgs(['--name=--x'], SPEC).values.name, '--x', 'inline, a value may look like an option');
});

test('missing values: at the end, or a long option where the value should be (unless dashValues)', () => {
  assert.equal(usage(() => readArgs(['--name'], SPEC)), '--name needs a value');
  assert.equal(usage(() => readArgs(['-g'], SPEC)), '-g needs a value');
  assert.equal(usage(() => readArgs(['--name', '--quiet'], SPEC)), '--name needs a value');
  assert.equal(readArgs(['--name', '--quiet'], SPEC, { dashValues: true }).values.name, '--quiet');
  assert.equal(readArgs(['-g', '--quiet'], SPEC, { dashValues: true }).values.grep, '--quiet');
});

test('unknown options: long, short, in a group, with a value; prototype names are unknown too', () => {
  assert.equal(usage(() => readArgs(['--bogus'], SPEC)), 'unknown option --bogus');
  assert.equal(usage(() => readArgs(['--bogus=1'], SPEC)), 'unknown option --bogus=1');
  assert.equal(usage(() => readArgs(['-z'], SPEC)), 'unknown option -z');
  assert.equal(usage(() => readArgs(['-qz'], SPEC)), 'unknown option -qz');
  for (const n of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    assert.equal(usage(() => readArgs([`--${n}`], SPEC)), `unknown option --${n}`);
    assert.equal(usage(() => readArgs([`--${n}=1`], SPEC)), `unknown option --${n}=1`);
  }
});

test('values and positionals carry no prototype surprises', () => {
  const { values, positionals } = readArgs(['__proto__', '--name', '__proto__', '--lib', 'constructor'], SPEC);
  assert.equal(Object.getPrototypeOf(values), null);
  assert.deepEqual(Object.keys(values).sort(), ['lib', 'name', 'tag'], 'only the options given, and the lists');
  assert.equal(values.name, '__proto__');
  assert.deepEqual(positionals, ['__proto__']);
});

test('the first mistake in argument order is the one reported; a repeated option: the last counts, each is checked', () => {
  assert.equal(usage(() => readArgs(['--mode', 'warp', '--bogus'], SPEC)), '--mode must be fast or slow');
  assert.equal(usage(() => readArgs(['--bogus', '--mode', 'warp'], SPEC)), 'unknown option --bogus');
  assert.equal(readArgs(['--mode', 'fast', '--mode', 'slow'], SPEC).values.mode, 'slow');
  assert.equal(usage(() => readArgs(['--mode', 'warp', '--mode', 'slow'], SPEC)), '--mode must be fast or slow');
});

test('repeatable options: every value in order, [] when absent; parse sees the index; a limit', () => {
  const seen: [string, number][] = [];
  const spec = { item: list((v, n) => (seen.push([v, n]), `${n}:${v}`), { limit: 3 }), other: list() };
  const { values } = readArgs(['--item', 'a', '--item=b', '--item', 'c'], spec);
  assert.deepEqual(values.item, ['0:a', '1:b', '2:c']);
  assert.deepEqual(values.other, []);
  assert.deepEqual(seen, [['a', 0], ['b', 1], ['c', 2]]);
  assert.equal(usage(() => readArgs(['--item', 'a', '--item', 'b', '--item', 'c', '--item', 'd'], spec)), 'at most 3 --item options');
});

test('flags: true when given; a value on a flag is a usage error; grouped short flags', () => {
  assert.equal(readArgs([], SPEC).values.quiet, undefined);
  assert.equal(readArgs(['--quiet'], SPEC).values.quiet, true);
  assert.equal(usage(() => readArgs(['--quiet=no'], SPEC)), '--quiet takes no value');
  const g = readArgs(['-qf'], SPEC).values;
  assert.equal(g.quiet, true);
  assert.equal(g.follow, true);
  const gv = readArgs(['-qg', 'x'], SPEC).values;
  assert.equal(gv.grep, 'x', 'the last letter of a group may take the next argument');
  assert.equal(gv.quiet, true);
});

test('into: several options write one key, the last given counts; aliases', () => {
  const spec = {
    color: value(oneOf(['auto', 'always', 'never'], '--color must be auto, always or never'), { aliases: ['colour'] }),
    'no-color': flag({ into: 'color', value: 'never' }),
  } as const;
  assert.equal(readArgs(['--no-color', '--color', 'always'], spec).values.color, 'always');
  assert.equal(readArgs(['--color', 'always', '--no-color'], spec).values.color, 'never');
  assert.equal(readArgs(['--colour=auto'], spec).values.color, 'auto');
  assert.equal(usage(() => readArgs(['--colour', 'pink'], spec)), '--color must be auto, always or never');
  assert.equal(usage(() => readArgs(['--colour'], spec)), '--colour needs a value', 'the name as written');
});

test('optional value: alone, a matching next argument, inline; not across --', () => {
  const spec = { web: optional(/^\d+$/, number('--web takes an optional port number', { integer: true, min: 0, max: 65535 }), 0) };
  const r = (a: string[]) => readArgs(a, spec);
  assert.equal(r(['--web']).values.web, 0);
  assert.equal(r(['--web', '8080']).values.web, 8080);
  assert.deepEqual(r(['--web', '8080']).positionals, []);
  assert.equal(r(['--web=9000']).values.web, 9000);
  assert.deepEqual(r(['--web', 'demo']).positionals, ['demo']);
  assert.equal(r(['--web', 'demo']).values.web, 0);
  assert.deepEqual(r(['--web', '--', '8080']).positionals, ['8080']);
  assert.equal(r(['--web', '--', '8080']).values.web, 0);
  assert.equal(usage(() => r(['--web=70000'])), '--web takes an optional port number');
  assert.equal(usage(() => r(['--web=x'])), '--web takes an optional port number');
  assert.equal(r([]).values.web, undefined);
});

test('join: a value of two words when the next argument fits', () => {
  const spec = { since: value({ join: (v, next) => /^\d{4}-\d\d-\d\d$/.test(v) && /^\d\d:\d\d$/.test(next) }) };
  assert.equal(readArgs(['--since', '2026-11-24', '10:00'], spec).values.since, '2026-11-24 10:00');
  assert.deepEqual(readArgs(['--since', '12s', '10:00'], spec).positionals, ['10:00']);
  assert.deepEqual(readArgs(['--since=2026-11-24', '10:00'], spec).positionals, ['10:00'], 'not after an inline value');
  assert.deepEqual(readArgs(['--since', '2026-11-24', '--', '10:00'], spec).positionals, ['10:00']);
});

test('--help and -h stop the reading: what follows is not checked, what precedes is', () => {
  assert.equal(readArgs(['--help', '--bogus'], SPEC).values.help, true);
  const h = readArgs(['x', '-h', '--mode', 'warp', 'y'], SPEC);
  assert.equal(h.values.help, true);
  assert.deepEqual(h.positionals, ['x']);
  assert.equal(usage(() => readArgs(['--bogus', '--help'], SPEC)), 'unknown option --bogus');
  assert.equal(usage(() => readArgs(['--help=1'], SPEC)), '--help takes no value');
});

test('-- ends the options; - is a positional', () => {
  const { values, positionals } = readArgs(['-', '--quiet', '--', '--name', '-q', '-'], SPEC);
  assert.equal(values.quiet, true);
  assert.equal(values.name, undefined);
  assert.deepEqual(positionals, ['-', '--name', '-q', '-']);
});

test('dashPositionals: an argument with an unknown short letter is a positional (whole), known groups are options', () => {
  const r = (a: string[]) => readArgs(a, SPEC, { dashPositionals: true });
  assert.deepEqual(r(['-x']).positionals, ['-x']);
  assert.deepEqual(r(['-5']).positionals, ['-5']);
  const mixed = r(['-qx']);
  assert.deepEqual(mixed.positionals, ['-qx']);
  assert.equal(mixed.values.quiet, undefined, 'no letter of a positional is applied');
  const took = r(['-xg', 'next']);
  assert.deepEqual(took.positionals, ['-xg', 'next'], 'the argument a letter of it had taken is a positional again');
  assert.equal(took.values.grep, undefined);
  assert.equal(r(['-qf']).values.follow, true);
  assert.equal(usage(() => r(['--bogus'])), 'unknown option --bogus', 'long options stay checked');
});

test('number(): finite, integer, min, max, above (Number() reading)', () => {
  const p = number('bad', { above: 0 });
  assert.equal(p('2.5', 0), 2.5);
  for (const bad of ['0', '-1', 'x', 'Infinity', 'NaN']) assert.throws(() => p(bad, 0), (e: Error) => e instanceof UsageError && e.message === 'bad', bad);
  const q = number('bad q', { integer: true, min: 1, max: 10 });
  assert.equal(q('10', 0), 10);
  assert.equal(q('0x0a', 0), 10, 'Number() reading, as before');
  for (const bad of ['0', '11', '1.5', '']) assert.throws(() => q(bad, 0), /bad q/, bad);
  assert.equal(number('m')('', 0), 0, 'an empty value is 0, as Number("") (--web= before)');
});

test('a bad spec is a programming error, not a usage error', () => {
  assert.throws(() => readArgs([], { a: flag({ short: 'x' }), b: flag({ short: 'x' }) }), (e: Error) => !(e instanceof UsageError) && /repeated short name 'x'/.test(e.message));
  assert.throws(() => readArgs([], { a: flag({ aliases: ['b'] }), b: flag() }), /repeated name 'b'/);
  assert.throws(() => readArgs([], { a: flag({ short: 'xy' }) }), /bad or repeated short name 'xy'/);
});

test('well-formed command lines: the same values as parseArgs in strict mode (independent reading)', () => {
  const spec = { name: value(), lib: list(), quiet: flag({ short: 'q' }), tag: list(undefined, { short: 't' }) };
  const options = { name: { type: 'string' }, lib: { type: 'string', multiple: true }, quiet: { type: 'boolean', short: 'q' }, tag: { type: 'string', short: 't', multiple: true } } as const;
  const lines = [
    ['--name', 'a', 'x', '--lib', 'l1', '--lib=l2', '-q', 'y'],
    ['-t', 'a', '-tb', '--tag=c', '--', '--name', 'z'],
    ['-qt', 'v', '--name=', 'p'],
    ['--name', 'a', '--name', 'b'],
    [],
  ];
  for (const args of lines) {
    const ours = readArgs(args, spec);
    const node = parseArgs({ args, options, strict: true, allowPositionals: true });
    const nodeValues = { lib: [], tag: [], ...node.values };
    assert.deepEqual({ ...ours.values }, nodeValues, args.join(' '));
    assert.deepEqual(ours.positionals, node.positionals, args.join(' '));
  }
});
