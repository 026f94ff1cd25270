import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { suite } from './util';
import { runLua } from '../helpers/run-lua';
import { FskvStore, fskvPath } from '../../luatos-api/fskv';
import { tempDir } from '../helpers/tmp';

// Return values from luat_lib_fskv.c; stored formats from luatos-api-2.md §9 (float through
// pack ">f": 1.1 comes back as the float32 value 1.1000000238418579).
const BODY = String.raw`
eqv("set before init", {}, fskv.set("a", 1))
eqv("get before init", {}, fskv.get("a"))
eqv("status before init", {}, fskv.status())
eq("fdb is fskv", fdb, fskv)
eq("init", fskv.init(), true)
eq("init again", fskv.init(), true)
eq("clear", fskv.clear(), true)
eq("set int", fskv.set("int", 42), true)
eq("get int", fskv.get("int"), 42)
eq("set negative", fskv.set("neg", -7), true)
eq("get negative", fskv.get("neg"), -7)
eq("set float", fskv.set("f", 1.1), true)
eq("float is stored as float32", fskv.get("f"), string.unpack(">f", string.pack(">f", 1.1)))
eq("set bool", fskv.set("b", false), true)
eq("get bool", fskv.get("b"), false)
eq("set string", fskv.set("s", "a\0b"), true)
eq("get string", fskv.get("s"), "a\0b")
eq("set table", fskv.set("t", {x = 1, y = "z"}), true)
eq("get table", fskv.get("t").y, "z")
eq("get table skey", fskv.get("t", "x"), 1)
eq("get table missing skey", fskv.get("t", "nope"), nil)
eq("set nil", fskv.set("n", nil), false)
eq("set function", fskv.set("fn", print), false)
eqv("missing key", {}, fskv.get("missing"))
eq("value of 4095 bytes", fskv.set("big", string.rep("x", 4095)), true)
eq("value over 4096 bytes", fskv.set("big2", string.rep("x", 4096)), false)
eq("key of 63 bytes", fskv.set(string.rep("k", 63), 1), true)
eq("key of 64 bytes", fskv.set(string.rep("k", 64), 1), false)
eq("empty key", fskv.set("", 1), false)
eq("sett new", fskv.sett("cfg", "a", 1), true)
eq("sett add", fskv.sett("cfg", "b", "two"), true)
eq("sett delete", fskv.sett("cfg", "a", nil), true)
eq("sett result", fskv.get("cfg", "b") .. tostring(fskv.get("cfg", "a")), "twonil")
eq("sett over a non-table", fskv.sett("int", "k", 5), true)
eq("sett replaced it", fskv.get("int", "k"), 5)
eqv("sett with 2 args", {}, fskv.sett("cfg", "b"))
eq("del existing", fskv.del("neg"), true)
eq("del missing", fskv.del("neg"), false)
local used, total, count = fskv.status()
eq("status total", total, 65536)
eq("status count", count, 8)
eq("status used", used > 4096 * 2 + 4095 and used < total, true)
local keys, it = {}, fskv.iter()
for i = 1, 20 do local k = fskv.next(it); if not k then break end; keys[#keys + 1] = k end
eq("iter keys", #keys, 8)
eqv("next at end", {}, fskv.next(it))
eq("aliases", fskv.kv_get == fskv.get and fskv.kv_set == fskv.set and fskv.clr == fskv.clear and fskv.stat == fskv.status, true)
-- fill the area: set must return false when it is full
local n = 0
while n < 100 and fskv.set("fill" .. n, string.rep("y", 4000)) do n = n + 1 end
eq("fills up before 16 values of 4000 bytes", n >= 10 and n < 16, true)
local u2, t2 = fskv.status()
eq("used stays within total", u2 <= t2, true)
eq("clear empties", fskv.clear() and select(3, fskv.status()), 0)
`;

for (const engine of ENGINE_NAMES) {
  test(`fskv: init, set/get/del/clear, sett, iterators, status, size limits and full area (${engine})`, async () => {
    const r = await suite(engine, BODY);
    assert.equal(r.checks, 47);
    const logs = r.run.lines.filter((l) => l.includes(':fskv:')).map((l) => l.replace(/^.*luat:(\w)\(\d+\):/, '$1 '));
    assert.deepEqual(logs.slice(0, 3), Array(3).fill('E fskv:call fskv.init() first!!!'));
    assert.deepEqual(
      logs.slice(3),
      ["W fskv:function/userdata/nil/thread isn't allow", "W fskv:function/userdata/nil/thread isn't allow", 'E fskv:value too big 4097 max 4096', 'D fskv:require key skey value'],
    );
  });
}

test('fskv: a damaged or oversized image reads as an empty store; the image is written atomically', () => {
  const dir = tempDir('luatos-fskv-img-');
  try {
    const file = fskvPath(dir);
    assert.equal(file, path.join(dir, '.fskv.json'));
    assert.equal(fskvPath(path.join(dir, 'fs')), path.join(dir, 'fskv.json'));
    for (const content of ['{not json', '{"a":1}', '[["zz","04"],[1,2],["61"]]', 'x'.repeat(2 * 1024 * 1024)]) {
      fs.writeFileSync(file, content);
      const s = new FskvStore(file);
      s.load();
      assert.equal(s.map.size, 0, content.slice(0, 20));
    }
    fs.writeFileSync(file, JSON.stringify([['6b', '0401'], ['', '0401'], ['6b32', '05' + '00'.repeat(5000)]]));
    const s = new FskvStore(file);
    s.load();
    assert.deepEqual([...s.map.keys()], ['k'], 'empty keys and values over 4096 bytes are dropped');
    s.save();
    assert.deepEqual(fs.readdirSync(dir).sort(), ['.fskv.json']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fskv: when the host refuses the write, set/del/clear return false with an error line and the store is unchanged', async () => {
  const src = `
fskv.init()
log.info("R", fskv.set("a", 1), fskv.get("a"), fskv.del("a"), fskv.clear(), fskv.status())
log.info("DONE")`;
  const r = await runLua({ 'main.lua': src }, {
    until: 'I/user.DONE',
    // the image path is a non-empty folder: the atomic rename of the new image fails
    onDevice: (d) => fs.mkdirSync(path.join(fskvPath(d.vfs.dataDir), 'x'), { recursive: true }),
  });
  try {
    assert.ok(r.user.includes('I/user.R false nil false false 8192 65536 0'), r.user.join('\n'));
    assert.deepEqual(fs.readdirSync(r.device.vfs.dataDir), ['.fskv.json'], 'no temporary image left behind');
    assert.ok(r.lines.some((l) => /luat:E\(\d+\):fskv:write failed: /.test(l)), r.lines.join('\n'));
  } finally {
    fs.rmSync(r.dir, { recursive: true, force: true });
    fs.rmSync(r.device.vfs.dataDir, { recursive: true, force: true });
  }
});

// Across runs: two separate `luatos run` processes on one state folder; the second reads what
// the first wrote (and counts boots across reboots of the first run too).
test('fskv: data written in one `luatos run` is read in the next (state folder, CLI layout)', () => {
  const root = tempDir('luatos-fskv-runs-');
  try {
    const scripts = path.join(root, 'scripts');
    fs.mkdirSync(scripts);
    fs.writeFileSync(
      path.join(scripts, 'main.lua'),
      `fskv.init()
local n = (fskv.get("boots") or 0) + 1
fskv.set("boots", n)
fskv.sett("cfg", "last", n)
log.info("BOOTS", n, fskv.get("cfg", "last"), fskv.get("name"))
if n == 1 then fskv.set("name", "written in run 1") end
`,
    );
    const state = path.join(root, 'state');
    const cli = path.resolve(__dirname, '..', '..', '..', 'bin', 'luatos.js');
    const run = () => {
      const r = spawnSync(process.execPath, [cli, 'run', scripts, '--state', state, '--max-boots', '1'], { encoding: 'utf8', timeout: 30000 });
      return (r.stdout + r.stderr).split('\n').filter((l) => l.includes('I/user.BOOTS'));
    };
    assert.deepEqual(run().map((l) => l.slice(l.indexOf('I/user.'))), ['I/user.BOOTS 1 1']);
    assert.ok(fs.existsSync(path.join(state, 'fskv.json')), 'image beside the fs folder');
    assert.deepEqual(run().map((l) => l.slice(l.indexOf('I/user.'))), ['I/user.BOOTS 2 2 written in run 1']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
