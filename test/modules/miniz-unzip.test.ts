/**
 * miniz.unzip (luatos-api-2.md §14; luatos-api/miniz.ts): archives made by a real tool
 * (python3's zipfile: `python3 -m zipfile -c` for deflate entries, its ZIP_STORED mode for stored
 * ones, listed back with `python3 -m zipfile -l`) extracted into the device file system on both
 * engines; the extracted bytes are compared (MD5) with the files the tool packed. Hostile
 * archives (`..` and absolute names, more than the free flash, too many entries, a bad CRC,
 * truncation) are refused. Skips with a reason when python3 is not installed.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { UNZIP_MAX_ENTRIES } from '../../luatos-api/miniz';
import { runSuite } from '../base/suite';

function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'import zipfile'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const md5 = (b: Buffer | string): string => crypto.createHash('md5').update(b).digest('hex').toUpperCase();

/** python3 writes an archive from (name → content) with the given compression */
function pyZip(out: string, entries: [string, Buffer | string][], stored: boolean): void {
  const spec = JSON.stringify(entries.map(([n, c]) => [n, Buffer.from(c).toString('base64')]));
  const prog = `import sys, json, base64, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_STORED if sys.argv[2] == '1' else zipfile.ZIP_DEFLATED) as z:
    for n, c in json.loads(sys.stdin.read()):
        z.writestr(n, base64.b64decode(c))`;
  execFileSync('python3', ['-c', prog, out, stored ? '1' : '0'], { input: spec });
}

interface Zips {
  files: Record<string, Buffer>;
  expect: Record<string, string>; // device path → MD5
  listing: string;
}

function makeZips(tmp: string): Zips {
  // a folder packed with the command-line tool (deflate)
  const src = path.join(tmp, 'src');
  fs.mkdirSync(path.join(src, 'web', 'img'), { recursive: true });
  const index = '<h1>LuatOS 测试</h1>\n'.repeat(50);
  const bin = crypto.randomBytes(20000);
  fs.writeFileSync(path.join(src, 'web', 'index.html'), index);
  fs.writeFileSync(path.join(src, 'web', 'img', 'logo.bin'), bin);
  fs.writeFileSync(path.join(src, 'web', 'empty.txt'), '');
  execFileSync('python3', ['-m', 'zipfile', '-c', path.join(tmp, 'site.zip'), 'web'], { cwd: src });
  const listing = execFileSync('python3', ['-m', 'zipfile', '-l', path.join(tmp, 'site.zip')]).toString();
  const cfg = JSON.stringify({ ssid: 'lab', n: 42 });
  pyZip(path.join(tmp, 'stored.zip'), [['cfg.json', cfg], ['a/b/c.txt', 'stored text']], true);
  pyZip(path.join(tmp, 'dotdot.zip'), [['ok.txt', 'x'], ['../evil.txt', 'evil']], false);
  pyZip(path.join(tmp, 'abs.zip'), [['/abs.txt', 'evil']], false);
  pyZip(path.join(tmp, 'big.zip'), [['zeros.bin', Buffer.alloc(1024 * 1024)]], false); // 1 KiB packed, 1 MiB out
  pyZip(path.join(tmp, 'many.zip'), Array.from({ length: UNZIP_MAX_ENTRIES + 1 }, (_, i): [string, string] => [`f${i}`, '']), true);
  const stored = fs.readFileSync(path.join(tmp, 'stored.zip'));
  const badcrc = Buffer.from(stored);
  badcrc[badcrc.indexOf('stored text')] ^= 0x20; // data changed, CRC in the headers not
  const files: Record<string, Buffer> = {};
  for (const n of ['site', 'stored', 'dotdot', 'abs', 'big', 'many']) files[`${n}.zip`] = fs.readFileSync(path.join(tmp, `${n}.zip`));
  files['badcrc.zip'] = badcrc;
  files['trunc.zip'] = files['site.zip'].subarray(0, files['site.zip'].length - 30);
  files['notzip.zip'] = Buffer.from('PK this is not an archive');
  return {
    files,
    listing,
    expect: {
      '/out/web/index.html': md5(index),
      '/out/web/img/logo.bin': md5(bin),
      '/out/web/empty.txt': md5(''),
      '/st/cfg.json': md5(cfg),
      '/st/a/b/c.txt': md5('stored text'),
    },
  };
}

const PY = hasPython();

for (const engine of ENGINE_NAMES) {
  test(`miniz.unzip: python3 zipfile archives (deflate and stored) extract into the flash file system and the /ram/ mount; hostile archives are refused (${engine})`, async (t) => {
    if (!PY) {
      t.skip('python3 with zipfile is not installed: no independent zip tool to make the archives');
      return;
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-unzip-'));
    const dirs: string[] = [tmp];
    try {
      const z = makeZips(tmp);
      for (const n of ['web/index.html', 'web/img/logo.bin', 'web/empty.txt']) assert.match(z.listing, new RegExp(n.replace(/\./g, '\\.')));
      const expectLua = Object.entries(z.expect).map(([p, h]) => `{"${p}", "${h}"}`).join(',\n');
      const body = String.raw`
eq("deflate archive", miniz.unzip("/luadb/site.zip", "/out/"), true)
eq("stored archive", miniz.unzip("/luadb/stored.zip", "/st/", true, 5000), true)
for _, e in ipairs({${expectLua}}) do
  local d = io.readFile(e[1])
  eq("content " .. e[1], d and crypto.md5(d), e[2])
end
eq("again: existing files are overwritten", miniz.unzip("/luadb/stored.zip", "/st/"), true)
eq("'..' name", miniz.unzip("/luadb/dotdot.zip", "/dd/"), false)
eq("nothing of it written", io.exists("/dd/ok.txt") or io.exists("/evil.txt"), false)
eq("absolute name", miniz.unzip("/luadb/abs.zip", "/ab/"), false)
eq("no /abs.txt", io.exists("/abs.txt"), false)
eq("1 MiB on 512 KiB flash", miniz.unzip("/luadb/big.zip", "/big/"), false)
eq("no zeros.bin", io.exists("/big/zeros.bin"), false)
eq("too many entries", miniz.unzip("/luadb/many.zip", "/many/"), false)
eq("bad CRC", miniz.unzip("/luadb/badcrc.zip", "/bc/"), false)
eq("truncated", miniz.unzip("/luadb/trunc.zip", "/tr/"), false)
eq("not a zip", miniz.unzip("/luadb/notzip.zip", "/nz/"), false)
eq("missing archive", miniz.unzip("/luadb/none.zip", "/nz/"), false)
eq("folder without trailing slash", miniz.unzip("/luadb/stored.zip", "/st2"), false)
eq("read-only target", miniz.unzip("/luadb/stored.zip", "/luadb/x/"), false)
eq("into the in-memory /ram/ mount", miniz.unzip("/luadb/stored.zip", "/ram/z/"), true)
eq("read back from /ram/", io.readFile("/ram/z/a/b/c.txt"), "stored text")
eq("1 MiB into /lfs2/ (512 KiB)", miniz.unzip("/luadb/big.zip", "/lfs2/"), false)
`;
      const r = await runSuite(engine, body, z.files);
      dirs.push(r.run.dir, r.run.device.vfs.dataDir);
      assert.equal(r.checks, 24);
      const errs = r.run.lines.filter((l) => /miniz:unzip/.test(l)).map((l) => l.replace(/^.*?miniz:/, ''));
      assert.ok(errs.some((l) => /refused name "\.\.\/evil\.txt"/.test(l)), errs.join('\n'));
      assert.ok(errs.some((l) => /CRC mismatch/.test(l)), errs.join('\n'));
      assert.ok(r.run.lines.some((l) => /miniz:file \/st\/cfg\.json \d+ bytes/.test(l)), 'debug=true logs each file');
    } finally {
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    }
  });
}
