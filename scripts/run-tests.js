#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with Node's own test runner.
//
//   node scripts/run-tests.js                 every test file
//   node scripts/run-tests.js rtmp core/log   files whose path contains one of the substrings
//   node scripts/run-tests.js --unit [...]    only the files listed in test/unit-files.txt
//                                             (no child process, no server; see that file)
// Files under a `fixtures` folder are not run unless a list names them.
//
// The run gets a temp directory of its own (TMPDIR/TMP/TEMP point into a fresh
// `luatos-run-XXXXXX` folder under the system temp directory, so runs of other worktrees at the
// same time do not mix in). After the run, every `luatos*` entry the tests left in it is printed
// and fails the run; then the folder is removed. The time taken is printed at the end.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const testDir = path.join(root, 'dist', 'test');
// LUATOS_UNIT_LIST: another list file (the runner's own tests use it)
const unitList = process.env.LUATOS_UNIT_LIST ? path.resolve(process.env.LUATOS_UNIT_LIST) : path.join(root, 'test', 'unit-files.txt');
// folders a helper keeps on purpose for the rest of the run (a cache), not leftovers
const RUN_CACHES = new Set(['luatos-rtmp-test-h264']);

function walk(dir, out) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'fixtures') walk(p, out); // fixtures run only when a list names them
    }
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

/** The compiled files of test/unit-files.txt; exits 1 if a listed source file is missing. */
function unitFiles() {
  const missing = [];
  const out = [];
  const lines = fs.readFileSync(unitList, 'utf8').split('\n');
  lines.forEach((raw, i) => {
    const src = raw.replace(/#.*/, '').trim();
    if (!src) return;
    if (!/^test\/.+\.test\.ts$/.test(src)) missing.push(`line ${i + 1}: "${src}" is not a test/**/*.test.ts path`);
    else if (!fs.existsSync(path.join(root, src))) missing.push(`line ${i + 1}: ${src} does not exist`);
    else {
      const js = path.join(root, 'dist', src.replace(/\.ts$/, '.js'));
      if (!fs.existsSync(js)) missing.push(`line ${i + 1}: ${src} is not compiled (${path.relative(root, js)}; did tsc run?)`);
      else out.push(js);
    }
  });
  if (missing.length) {
    console.error(`${path.relative(root, unitList)} lists files that cannot run:\n  ${missing.join('\n  ')}`);
    process.exit(1);
  }
  return out;
}

const args = process.argv.slice(2);
const unit = args.includes('--unit');
const filters = args.filter((a) => a !== '--unit');
const pool = unit ? unitFiles() : walk(testDir, []).sort();
const files = pool.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(unit ? 'no unit test file matches the filter' : 'no test files found under dist/test (did tsc run?)');
  process.exit(1);
}

// run folders of earlier runs that were killed before they could clean up (owner gone)
for (const n of fs.readdirSync(os.tmpdir())) {
  if (!n.startsWith('luatos-run-')) continue;
  const dir = path.join(os.tmpdir(), n);
  try {
    const pid = Number(fs.readFileSync(path.join(dir, '.owner'), 'utf8'));
    let alive = pid > 0;
    try {
      if (alive) process.kill(pid, 0);
    } catch (e) {
      alive = e.code === 'EPERM';
    }
    if (!alive) fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    /* not ours to judge */
  }
}
const runTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-run-'));
fs.writeFileSync(path.join(runTmp, '.owner'), String(process.pid));
// a signal while the tests run: still check and remove the run folder once they have ended
let signalled = null;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => (signalled = sig));
const env = { ...process.env, TMPDIR: runTmp, TMP: runTmp, TEMP: runTmp };
if (unit) {
  const guard = `--require=${path.join(__dirname, 'unit-guard.js')}`;
  env.NODE_OPTIONS = env.NODE_OPTIONS ? `${env.NODE_OPTIONS} ${guard}` : guard;
}
const t0 = process.hrtime.bigint();
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit', cwd: root, env });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;

let leftovers = [];
try {
  leftovers = fs.readdirSync(runTmp).filter((n) => n.startsWith('luatos') && !RUN_CACHES.has(n));
} catch {
  /* the folder itself is gone: nothing to report */
}
fs.rmSync(runTmp, { recursive: true, force: true, maxRetries: 3 });

console.log(`\n${unit ? 'unit tests' : 'tests'}: ${files.length} file(s) in ${seconds.toFixed(1)} s`);
let status = r.status === null || signalled ? 1 : r.status;
if (leftovers.length) {
  console.error(`the tests left ${leftovers.length} temporary folder(s) behind (removed now):\n  ${leftovers.sort().join('\n  ')}`);
  status = status || 1;
}
process.exit(status);
