/**
 * The official Lua 5.3 test suite's portable files (test/lua53-suite/) inside the runtime, each
 * compared with native lua5.3 (pass/fail, first error text, return value).
 *
 * The engines of ASSERTED_ENGINES (test/lua53-suite/run.ts) must give native's results; the
 * other registered engines run too and print their table (how far they deviate), without
 * failing. Native lua5.3 absent: the comparisons skip and say so.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { makeProfile } from '../../runtime/core/profile';
import { ASSERTED_ENGINES, HEAP_BYTES, SKIPS, SUITE_DIR, SUITE_FILES, describe, formatTable, nativeLua, runEngine, runInRuntime, runNative, sameOutcome, suiteSource } from '../lua53-suite/run';

const NO_NATIVE = 'native lua5.3 is not installed (/usr/bin/lua5.3; apt-get install lua5.3): nothing to compare with';

test('the vendored suite files are the pinned ones; skips blank only their own lines', () => {
  for (const f of SUITE_FILES) {
    const original = fs.readFileSync(path.join(SUITE_DIR, `${f}.lua`), 'latin1').split('\n');
    const run = suiteSource(f).split('\n'); // throws on a changed file or a skip that no longer matches
    assert.equal(run.length, original.length, `${f}: line count changed`);
    const blanked = new Set<number>();
    for (const s of SKIPS) if (s.file === f) for (let i = s.from; i <= s.to; i++) blanked.add(i);
    for (let i = 0; i < run.length; i++) assert.equal(run[i], blanked.has(i + 1) ? '' : original[i], `${f}.lua:${i + 1}`);
  }
});

test('every asserted engine is a registered engine', () => {
  for (const e of ASSERTED_ENGINES) assert.ok(ENGINE_NAMES.includes(e), `${e} is not registered (ENGINE_NAMES: ${ENGINE_NAMES.join(', ')})`);
});

test('native lua5.3 passes every vendored file with the runner settings (the harness and skips are sound)', (t) => {
  const exe = nativeLua();
  if (!exe) return t.skip(NO_NATIVE);
  const bad = SUITE_FILES.map((f) => ({ f, o: runNative(exe, f) })).filter((r) => r.o.status !== 'pass');
  assert.deepEqual(bad.map((r) => `${r.f}: ${describe(r.o)}`), []);
});

test('the runner tells a deviation from native, a match, and bounds a hang (synthetic files)', async (t) => {
  const exe = nativeLua();
  if (!exe) return t.skip(NO_NATIVE);
  const engine = ENGINE_NAMES[0];
  // runs natively only: the device has rtos
  const onlyNative = 'assert(rtos == nil, "only natively")';
  const n1 = runNative(exe, 'synthetic', {}, onlyNative);
  const o1 = await runInRuntime(engine, 'synthetic', {}, onlyNative);
  assert.equal(n1.status, 'pass');
  assert.equal(o1.status, 'fail');
  assert.equal(o1.error, 'synthetic.lua:1: only natively');
  assert.equal(sameOutcome(n1, o1), false);
  // the same error text on both sides, addresses aside
  const same = 'local t = {}; error("boom " .. tostring(t))';
  const n2 = runNative(exe, 'synthetic', {}, same);
  const o2 = await runInRuntime(engine, 'synthetic', {}, same);
  assert.match(n2.error, /^synthetic\.lua:1: boom table: 0x/);
  assert.equal(sameOutcome(n2, o2), true, `${describe(n2)} / ${describe(o2)}`);
  // a hang ends at the bound on both sides, as a result
  const hang = 'while true do end';
  assert.equal(runNative(exe, 'synthetic', { wallMs: 500 }, hang).status, 'timeout');
  const o3 = await runInRuntime(engine, 'synthetic', { runawayMs: 300, wallMs: 20_000 }, hang);
  assert.equal(o3.status, 'timeout');
  assert.match(o3.error, /watchdog/);
});

test("each larger heap of HEAP_BYTES is needed: with the device's heap the file does not finish on lua53 (the allocator enforces it)", async () => {
  const deviceHeap = makeProfile().memory.lua;
  const entries = Object.entries(HEAP_BYTES);
  assert.ok(entries.length > 0);
  for (const [file, h] of entries) {
    assert.ok(h && h.bytes > deviceHeap && h.reason.length > 0, file);
    // the watchdog shortened: the hang is the point, not its length
    const o = await runInRuntime('lua53', file, { heapBytes: deviceHeap, runawayMs: 3000, wallMs: 30_000 });
    assert.equal(o.status, 'timeout', `${file} with the device's ${deviceHeap}-byte heap: ${describe(o)}`);
    assert.match(o.error, /watchdog/);
  }
});

for (const engine of ENGINE_NAMES) {
  const asserted = ASSERTED_ENGINES.includes(engine);
  test(`${engine}: the Lua 5.3 suite ${asserted ? 'gives the same results as' : 'compared with (table only, not asserted)'} native lua5.3`, async (t) => {
    if (!nativeLua()) return t.skip(NO_NATIVE);
    const rows = await runEngine(engine, SUITE_FILES);
    console.log(formatTable(engine, rows));
    if (!asserted) return;
    const differ = rows.filter((r) => !r.same).map((r) => `${r.file}: native ${r.native ? describe(r.native) : '?'} / ${engine} ${describe(r.ours)}`);
    assert.deepEqual(differ, []);
  });
}
