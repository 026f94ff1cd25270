/**
 * scripts/run-tests.js itself: the --unit list is checked (a missing file fails the run), the
 * unit guard makes a child process fail the test, and a `luatos*` temp folder left by the tests
 * is printed and fails the run. Real runs of the runner on a fixture test file
 * (test/fixtures/run-tests/leaks.test.ts), each in a child process.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tempDir } from '../helpers/tmp';

const ROOT = path.join(__dirname, '..', '..', '..');
const RUNNER = path.join(ROOT, 'scripts', 'run-tests.js');

function runWithList(lines: string[], env: Record<string, string> = {}): { status: number | null; out: string } {
  const list = path.join(tempDir('luatos-unit-list-'), 'list.txt');
  fs.writeFileSync(list, lines.join('\n') + '\n');
  // a run of its own, not a subtest of this one: without the test runner's child marker
  const base: Record<string, string | undefined> = { ...process.env };
  delete base.NODE_TEST_CONTEXT;
  delete base.NODE_OPTIONS;
  const r = spawnSync(process.execPath, [RUNNER, '--unit'], {
    cwd: ROOT,
    env: { ...base, LUATOS_UNIT_LIST: list, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

test('run-tests --unit: a listed file that does not exist fails the run, naming it', () => {
  const r = runWithList(['# a comment', 'test/core/no-such-file.test.ts']);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /line 2: test\/core\/no-such-file\.test\.ts does not exist/);
});

test('run-tests: a luatos* temp folder left by a test is printed and fails the run; the time is printed', () => {
  const r = runWithList(['test/fixtures/run-tests/leaks.test.ts']);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /the tests left 1 temporary folder\(s\) behind \(removed now\):\n\s+luatos-fixture-leak-\w+/);
  assert.match(r.out, /unit tests: 1 file\(s\) in \d+\.\d s/);
});

test('run-tests --unit: a unit test that starts a child process fails', () => {
  const r = runWithList(['test/fixtures/run-tests/leaks.test.ts'], { FIXTURE_SPAWN: '1' });
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /unit test started a child process \(child_process\.spawnSync\)/);
});
