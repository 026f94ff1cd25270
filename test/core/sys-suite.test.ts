import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runLua } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';

const SUITE = fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'test', 'lua', 'sys_suite.lua'), 'utf8');

function summarize(user: string[]): { passed: number; failed: string[]; done: boolean } {
  const failed = user.filter((u) => u.startsWith('I/user.suite FAIL'));
  const done = user.find((u) => u.startsWith('I/user.suite SUITE DONE'));
  const m = done ? /SUITE DONE (\d+) (\d+)/.exec(done) : null;
  return { passed: m ? Number(m[1]) : 0, failed, done: !!done };
}

for (const engine of ENGINE_NAMES) {
  test(`Lua sys/rtos/json suite passes on ${engine}`, async () => {
    const r = await runLua({ 'main.lua': SUITE }, { engine, until: 'SUITE DONE', timeoutMs: 15000 });
    const s = summarize(r.user);
    assert.ok(s.done, `suite did not finish:\n${r.lines.slice(-20).join('\n')}`);
    assert.deepEqual(s.failed, []);
    assert.ok(s.passed >= 40, `only ${s.passed} checks ran`);
  });
}

/**
 * The firmware's own corelib sys.lua (and sysplus.lua) dropped into the script folder must run
 * the same suite unchanged. The project does not ship LuatOS's code, so this runs only when
 * LUATOS_CORELIB_DIR points at a folder holding the firmware's sys.lua (and sysplus.lua).
 */
test('the firmware corelib sys.lua runs the same suite (needs LUATOS_CORELIB_DIR)', async (t) => {
  const dir = process.env.LUATOS_CORELIB_DIR;
  if (!dir || !fs.existsSync(path.join(dir, 'sys.lua'))) {
    t.skip('LUATOS_CORELIB_DIR not set (the firmware sys.lua is not redistributed with this project)');
    return;
  }
  const files: Record<string, string | Buffer> = { 'main.lua': SUITE, 'sys.lua': fs.readFileSync(path.join(dir, 'sys.lua')) };
  if (fs.existsSync(path.join(dir, 'sysplus.lua'))) files['sysplus.lua'] = fs.readFileSync(path.join(dir, 'sysplus.lua'));
  for (const engine of ENGINE_NAMES) {
    const r = await runLua(files, { engine, until: 'SUITE DONE', timeoutMs: 15000 });
    const s = summarize(r.user);
    assert.ok(s.done, `${engine}: suite did not finish with the firmware sys.lua:\n${r.lines.slice(-20).join('\n')}`);
    assert.deepEqual(s.failed, [], `${engine}: firmware sys.lua differs`);
  }
});
