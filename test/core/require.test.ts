import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runLua, makeScriptDir } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { tempDir } from '../helpers/tmp';

for (const engine of ENGINE_NAMES) {
  test(`require follows the firmware's search order and texts (${engine})`, async () => {
    const lib = tempDir('luatos-lib-');
    fs.writeFileSync(path.join(lib, 'fromlib.lua'), 'return "lib"');
    fs.writeFileSync(path.join(lib, 'both.lua'), 'return "lib-both"');
    const src = `
      local m = require("mod")
      log.info("args", m.path, m.name)
      log.info("cached", require("mod") == m)
      log.info("lib", require("fromlib"), require("both"))
      log.info("bundled", type(require("sysplus")))
      local ok, err = pcall(require, "missing_mod")
      log.info("missing", err)
      ok, err = pcall(require, "broken")
      log.info("broken", err)
      ok, err = pcall(require, string.rep("x", 49))
      log.info("long", err)
      log.info("nilret", require("nilret"))
      log.info("sandbox", os.execute, io.popen, package.loadlib, os.exit, dofile ~= nil)
      log.info("END")
    `;
    const r = await runLua(
      {
        'main.lua': src,
        'mod.lua': 'local p, n = ...\nreturn { path = p, name = n }',
        'both.lua': 'return "script-both"',
        'broken.lua': 'x = = 1',
        'nilret.lua': 'local x = 1',
      },
      { engine, until: 'I/user.END', libDirs: [lib] },
    );
    const u = r.user;
    assert.ok(u.includes('I/user.args /luadb/mod.lua mod'), u.join('\n'));
    assert.ok(u.includes('I/user.cached true'));
    assert.ok(u.includes('I/user.lib lib script-both'), u.join('\n'));
    assert.ok(u.includes('I/user.bundled table'));
    assert.ok(u.some((x) => /^I\/user\.missing .*module 'missing_mod' not found$/.test(x)), u.join('\n'));
    assert.ok(u.some((x) => x.startsWith("I/user.broken ") && x.includes("error loading module 'broken' from file '/luadb/broken.lua':\n\tbroken.lua:1:")), u.join('\n'));
    assert.ok(u.some((x) => x.includes(`module name '${'x'.repeat(49)}' len 49 is invalid`)), u.join('\n'));
    assert.ok(u.includes('I/user.nilret true'));
    assert.ok(u.includes('I/user.sandbox nil nil nil nil ' + (u.find((x) => x.startsWith('I/user.sandbox'))?.endsWith('true') ? 'true' : 'false')));
  });
}

test('a file in the writable root overrides the packed script (firmware order / before /luadb/)', async () => {
  const dir = makeScriptDir({ 'main.lua': 'log.info("which", require("over"))\nlog.info("END")', 'over.lua': 'return "luadb"' });
  const r1 = await runLua(dir, { until: 'I/user.END' });
  assert.ok(r1.user.includes('I/user.which luadb'));
  // same script folder, a device whose data dir holds over.lua
  const dataDir = tempDir('luatos-data-');
  fs.writeFileSync(path.join(dataDir, 'over.lua'), 'return "root"');
  const r2 = await runLua(dir, { until: 'I/user.END', device: { dataDir } });
  assert.ok(r2.user.includes('I/user.which root'), r2.user.join('\n'));
});

test('the writable file system refuses symlinks that lead outside it (also dangling and via a parent)', async () => {
  const { Vfs } = await import('../../runtime/core/fs/vfs');
  const outside = tempDir('luatos-outside-');
  const data = tempDir('luatos-data-');
  fs.symlinkSync(outside, path.join(data, 'linkdir'));
  fs.symlinkSync(path.join(outside, 'nofile'), path.join(data, 'dangling'));
  const vfs = new Vfs({ scripts: [], dataDir: data });
  assert.throws(() => vfs.writablePath('/linkdir/new.txt'), /escapes/);
  assert.throws(() => vfs.writablePath('/dangling'), /escapes/);
  assert.equal(vfs.writablePath('/../x.txt'), path.join(data, 'x.txt'));
  assert.equal(vfs.writablePath('/sub/ok.txt'), path.join(data, 'sub', 'ok.txt'));
});
