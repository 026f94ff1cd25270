// --coverage: the core's report counts calls and classifies them with the catalog it is given;
// the LuatOS catalog (which modules are watched, absent, stubbed, simulated) lives with the
// bindings (luatos-api/catalog.ts) and reaches the Device through createDevice.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiCoverage, EMPTY_API_CATALOG } from '../../runtime/core/coverage';
import { createDevice } from '../../runtime/boards/device';
import { API_CATALOG, ABSENT_MODULES, WATCHED_MODULES } from '../../luatos-api/catalog';
import { tempDir } from '../helpers/tmp';

const ROOT = path.resolve(__dirname, '..', '..', '..');

test('ApiCoverage without a catalog: every call counted, nothing stubbed or simulated; metamethods never counted', () => {
  const cov = new ApiCoverage();
  assert.equal(cov.catalog, EMPTY_API_CATALOG);
  for (const f of ['wlan.smartconfig', 'wlan.connect', 'boot_lines', 'zbuff.__gc']) cov.record(f);
  assert.deepEqual(cov.rows(), [
    { name: 'boot_lines', calls: 1, status: 'implemented' },
    { name: 'wlan.connect', calls: 1, status: 'implemented' },
    { name: 'wlan.smartconfig', calls: 1, status: 'implemented' },
  ]);
});

test('ApiCoverage with the LuatOS catalog: stubs are missing, wlan is simulated, the runtime helpers are not counted', () => {
  const cov = new ApiCoverage(API_CATALOG);
  for (const f of ['wlan.smartconfig', 'wlan.connect', 'json.encode', 'boot_lines', 'fmt_float', 'zbuff.__gc']) cov.record(f);
  cov.recordMissing('gpio.setup');
  assert.deepEqual(cov.rows(), [
    { name: 'gpio.setup', calls: 1, status: 'missing' },
    { name: 'json.encode', calls: 1, status: 'implemented' },
    { name: 'wlan.connect', calls: 1, status: 'simulated' },
    { name: 'wlan.smartconfig', calls: 1, status: 'missing' },
  ]);
  assert.match(cov.report(), /implemented 1, simulated 1, missing 2\n$/);
});

test('createDevice hands the LuatOS catalog to the coverage report (a caller may pass another)', () => {
  const dataDir = tempDir('luatos-data-');
  try {
    const dev = createDevice({ scripts: dataDir, dataDir, coverage: true });
    assert.equal(dev.coverage?.catalog, API_CATALOG);
    dev.dispose();
    const other = createDevice({ scripts: dataDir, dataDir, coverage: true, apiCatalog: EMPTY_API_CATALOG });
    assert.equal(other.coverage?.catalog, EMPTY_API_CATALOG);
    other.dispose();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('runtime/core/coverage.ts names no LuatOS module (the list is luatos-api/catalog.ts)', () => {
  const src = fs.readFileSync(path.join(ROOT, 'runtime', 'core', 'coverage.ts'), 'utf8');
  const named = [...WATCHED_MODULES, ...ABSENT_MODULES, ...API_CATALOG.stubbed, ...API_CATALOG.internal].filter((m) => src.includes(`'${m}'`));
  assert.deepEqual(named, []);
});
