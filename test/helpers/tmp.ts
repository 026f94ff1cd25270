/**
 * Test helper: temporary folders that are removed again.
 *
 *   const dir = tempDir('luatos-data-');   // fs.mkdtempSync under os.tmpdir()
 *
 * Every folder made here is removed when the test process exits (Node's test runner gives each
 * test file its own process), whether its tests passed or failed; `removeTempDir` removes one
 * earlier. The name must start with `luatos-`, the prefix scripts/run-tests.js checks for
 * leftovers after a run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const made = new Set<string>();
let hooked = false;

function rm(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    /* a folder still in use is reported by the runner's leftover check */
  }
}

function removeAll(): void {
  for (const d of made) rm(d);
  made.clear();
}

/** Make a temporary folder named `<prefix>XXXXXX`, removed at process exit at the latest. */
export function tempDir(prefix: string): string {
  if (!prefix.startsWith('luatos-')) throw new Error(`temp folder prefix must start with "luatos-" (got "${prefix}")`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.add(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', removeAll);
  }
  return dir;
}

/** Remove a folder made by tempDir now (it is no longer removed at exit). */
export function removeTempDir(dir: string): void {
  made.delete(dir);
  rm(dir);
}
