import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runLua } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { Vfs } from '../../runtime/core/fs/vfs';
import { tempDir } from '../helpers/tmp';

const BIN = path.resolve(__dirname, '..', '..', '..', 'bin', 'luatos.js');
const LOGO = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 255]);

/** A project as people lay it out for Luatools: modules and resources in sub-folders. */
function makeProject(): string {
  const dir = tempDir('luatos-project-');
  const put = (rel: string, content: string | Buffer) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  };
  put(
    'main.lua',
    `local w = require "netdrv_wifi"
local x = require "x"
local f = io.open("/luadb/logo.png", "rb")
local png = f:read("a")
f:close()
local ok, list = io.lsdir("/luadb/", 50)
local names = {}
for _, e in ipairs(list) do names[#names + 1] = e.name end
log.info("R", w, x, png:toHex(), table.concat(names, ","), pcall(require, "hidden"))
`,
  );
  put('netdrv/netdrv_wifi.lua', 'return "wifi"');
  put('app/x.lua', 'return "x:" .. select(1, ...)');
  put('res/logo.png', LOGO);
  put('.git/hidden.lua', 'return "hidden"');
  put('app/.cache/hidden.lua', 'return "hidden"');
  put('.luatos-state/air8101/fs/main.lua', 'error("the state folder must not be packed")');
  return dir;
}

for (const engine of ENGINE_NAMES) {
  test(`a script folder is packed recursively and flat, as Luatools does (${engine})`, async () => {
    const dir = makeProject();
    try {
      const r = await runLua(dir, { engine, until: 'I/user.R' });
      const line = r.user.find((u) => u.startsWith('I/user.R '));
      assert.equal(
        line,
        `I/user.R wifi x:/luadb/x.lua ${LOGO.toString('hex').toUpperCase()} logo.png,main.lua,netdrv_wifi.lua,x.lua false module 'hidden' not found`,
        r.lines.join('\n'),
      );
      fs.rmSync(r.device.vfs.dataDir, { recursive: true, force: true });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('two files with the same name in a script folder are an error naming both paths', () => {
  const dir = makeProject();
  const data = tempDir('luatos-data-');
  try {
    fs.mkdirSync(path.join(dir, 'lib'));
    fs.writeFileSync(path.join(dir, 'lib', 'x.lua'), 'return 1');
    assert.throws(
      () => new Vfs({ scripts: dir, dataDir: data }),
      (e: Error) => e.message.includes(`two files named 'x.lua'`) && e.message.includes(path.join('app', 'x.lua')) && e.message.includes(path.join('lib', 'x.lua')),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(data, { recursive: true, force: true });
  }
});

test('the data folder inside the script folder is skipped, symlinked folders are not followed, FIFOs are not packed', () => {
  const dir = makeProject();
  try {
    const data = path.join(dir, 'state', 'fs');
    fs.mkdirSync(data, { recursive: true });
    fs.writeFileSync(path.join(data, 'main.lua'), 'return 1'); // would collide if packed
    fs.symlinkSync(dir, path.join(dir, 'app', 'loop')); // a loop if followed
    fs.symlinkSync(path.join(dir, 'res', 'logo.png'), path.join(dir, 'logo-link.png')); // a file link is a file
    try {
      spawnSync('mkfifo', [path.join(dir, 'res', 'pipe.txt')]);
    } catch {
      /* checked below */
    }
    if (!fs.existsSync(path.join(dir, 'res', 'pipe.txt'))) console.log('# FIFO part skipped: no mkfifo on this system');
    const vfs = new Vfs({ scripts: dir, dataDir: data });
    assert.deepEqual(vfs.luadbNames().sort(), ['logo-link.png', 'logo.png', 'main.lua', 'netdrv_wifi.lua', 'x.lua']);
    assert.deepEqual(vfs.readFile('/luadb/logo-link.png'), LOGO);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('luatos run with a duplicate name prints a clear error and exits 1 (no stack trace)', async () => {
  const dir = makeProject();
  const state = tempDir('luatos-state-');
  try {
    fs.mkdirSync(path.join(dir, 'other'));
    fs.writeFileSync(path.join(dir, 'other', 'logo.png'), 'x');
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const p = spawn(process.execPath, [BIN, 'run', dir, '--state', state, '--timeout', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      const kill = setTimeout(() => p.kill('SIGKILL'), 20000);
      p.on('close', (code) => {
        clearTimeout(kill);
        resolve({ code, err });
      });
    });
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /two files named 'logo\.png' in the script folder: other[/\\]logo\.png and res[/\\]logo\.png/);
    assert.doesNotMatch(r.err, /\n\s+at /);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(state, { recursive: true, force: true });
  }
});
