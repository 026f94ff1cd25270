import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as child from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { runLua, RunLuaResult } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { runSuite } from '../base/suite';
import { tempDir } from '../helpers/tmp';

function cleanup(r: RunLuaResult): void {
  fs.rmSync(r.dir, { recursive: true, force: true });
  fs.rmSync(r.device.vfs.dataDir, { recursive: true, force: true });
}

// Hardening 10: / has the profile's flash size (here 64 KiB = 16 blocks of 4 KiB; 2 blocks are
// the superblock pair, 2 per directory, ceil(size/4096) per file)
const LIMIT_BODY = String.raw`
eqv("fsstat empty", {true, 16, 2, 4096, "lfs2"}, io.fsstat("/"))
eqv("fsstat default arg", {true, 16, 2, 4096, "lfs2"}, io.fsstat())
local f = io.open("/big.bin", "wb")
eq("10 blocks fit", f:write(string.rep("a", 10 * 4096)), f)
eqv("fsstat after", {true, 16, 12, 4096, "lfs2"}, fs.fsstat("/"))
eqv("write past the end", {nil, "No space left on device", 28}, f:write(string.rep("b", 5 * 4096)))
eq("nothing of it written", f:seek("end"), 10 * 4096)
eq("what fits still goes", f:write(string.rep("c", 4 * 4096)), f)
eqv("full", {true, 16, 16, 4096, "lfs2"}, io.fsstat("/"))
eqv("not one byte more", {nil, "No space left on device", 28}, f:write("x"))
eq("rewriting inside the file is fine", f:seek("set", 0) == 0 and f:write("Z") == f, true)
f:close()
eq("writeFile when full", io.writeFile("/more.txt", "x"), false)
eqv("mkdir when full", {false, -28}, io.mkdir("/dir"))
eq("fileSize", io.fileSize("/big.bin"), 14 * 4096)
eq("fsize alias", fs.fsize("/big.bin"), 14 * 4096)
eq("remove frees", os.remove("/big.bin"), true)
eqv("fsstat freed", {true, 16, 2, 4096, "lfs2"}, io.fsstat("/"))
eq("writeFile fits again", io.writeFile("/more.txt", string.rep("m", 5000)), true)
eqv("fsstat two blocks", {true, 16, 4, 4096, "lfs2"}, io.fsstat("/"))
eq("truncating with w frees", io.writeFile("/more.txt", "m"), true)
eqv("fsstat one block", {true, 16, 3, 4096, "lfs2"}, io.fsstat("/"))
-- a huge loop stops at the limit instead of filling the PC's disk
local chunk = string.rep("z", 65536)
f = io.open("/loop.bin", "wb")
local n, ok = 0, f
while ok and n < 100000 do ok = f:write(chunk); if ok then n = n + 1 end end
f:close()
eq("loop stopped by the limit", n, 0)
f = io.open("/loop.bin", "wb")
for i = 1, 10000 do if not f:write(string.rep("y", 1000)) then n = i break end end
f:close()
eq("small writes stop at the limit too", io.fileSize("/loop.bin") <= 13 * 4096 and n > 1, true)
os.remove("/loop.bin")
-- empty files cost no block but a volume holds 16 entries per block (here 256)
local made, err = 0
for i = 1, 1000 do
  local f2, e2, code = io.open("/e" .. i, "w")
  if not f2 then err = e2 .. "|" .. code break end
  f2:close()
  made = made + 1
end
eq("entries bounded", made, 255)
eq("entries error", err, "/e256: No space left on device|28")
eqv("ram entries bounded too", {nil, "/ram/x: No space left on device", 28}, (function()
  for i = 1, 5000 do
    local f3, e3, c3 = io.open("/ram/e" .. i, "w")
    if not f3 then return nil, e3:gsub("e%d+", "x"), c3 end
    f3:close()
  end
end)())
`;

const API_BODY = String.raw`
eq("fs is io", fs, io)
eq("dexist root", io.dexist("/"), true)
io.mkdir("/d")
eq("dexist dir", io.dexist("/d"), true)
eq("dexist file", io.writeFile("/d/f", "1") and io.dexist("/d/f"), false)
eq("dexist missing", io.dexist("/nope"), false)
eq("dexist luadb", io.dexist("/luadb/"), true)
-- file:write(zbuff) writes the used part
local zb = zbuff.create(16)
zb:write("hello")
local f = io.open("/z.bin", "wb")
eq("write zbuff", f:write(zb, "!", 7), f)
f:close()
eq("zbuff bytes", io.readFile("/z.bin"), "hello!7")
eq("zbuff cursor untouched", zb:used(), 5)
-- readFile options
io.writeFile("/r.txt", "0123456789")
eq("readFile offset", io.readFile("/r.txt", "rb", 4), "456789")
eq("readFile offset len", io.readFile("/r.txt", "rb", 2, 3), "234")
eq("readFile len past end", io.readFile("/r.txt", "r", 8, 100), "89")
eq("writeFile append", io.writeFile("/r.txt", "ab", "ab+"), true)
eq("appended", io.readFile("/r.txt"), "0123456789ab")
eqv("writeFile bad mode", {}, io.writeFile("/r.txt", "x", "q"))
-- mounts
local m = io.lsmount()
local ms = {}
for _, x in ipairs(m) do ms[#ms + 1] = x.path .. "=" .. x.fs end
eq("lsmount", table.concat(ms, ","), "/=lfs2,/luadb/=luadb,/ram/=ram,/lfs2/=lfs2")
eqv("ram fsstat", {true, 256, 2, 4096, "ram"}, io.fsstat("/ram/"))
eqv("lfs2 fsstat", {true, 128, 2, 4096, "lfs2"}, io.fsstat("/lfs2/"))
eq("ram write", io.writeFile("/ram/a.txt", "in ram"), true)
eq("ram read", io.readFile("/ram/a.txt"), "in ram")
eq("ram exists", io.exists("/ram/a.txt"), true)
eq("ram not on /", io.exists("/a.txt"), false)
eq("ram size", io.fileSize("/ram/a.txt"), 6)
eqv("ram mkdir", {true, 0}, io.mkdir("/ram/sub"))
eqv("ram mkdir again", {false, -17}, io.mkdir("/ram/sub"))
eqv("ram mkdir no parent", {false, -2}, io.mkdir("/ram/x/y"))
eq("ram nested", io.writeFile("/ram/sub/b.bin", "\0\1\2"), true)
local ok, l = io.lsdir("/ram/")
eq("ram lsdir", ok and (l[1].name .. ":" .. l[1].size .. ":" .. l[1].type .. "," .. l[2].name .. ":" .. l[2].type), "a.txt:6:0,sub:1")
eqv("ram fsstat used (2 superblock + 1 + 2 dir + 1)", {true, 256, 6, 4096, "ram"}, io.fsstat("/ram/sub"))
f = io.open("/ram/a.txt", "r+")
eq("ram seek", f:seek("set", 3), 3)
eq("ram overwrite", f:write("RAM") == f, true)
eq("ram seek end", f:seek("end"), 6)
f:close()
eq("ram content", io.readFile("/ram/a.txt"), "in RAM")
f = io.open("/ram/a.txt", "a+")
f:write("!")
f:seek("set", 0)
eq("ram a+ read", f:read("a"), "in RAM!")
f:close()
local lines = {}
for line in io.lines("/ram/a.txt") do lines[#lines + 1] = line end
eq("ram io.lines", lines[1], "in RAM!")
eqv("ram open missing", {nil, "/ram/none: No such file or directory", 2}, io.open("/ram/none"))
eqv("ram open dir", {nil, "/ram/sub: Is a directory", 21}, io.open("/ram/sub", "w"))
eqv("ram rmdir not empty", {false, -39}, io.rmdir("/ram/sub"))
eq("ram rename", os.rename("/ram/sub/b.bin", "/ram/c.bin"), true)
eq("ram renamed", io.readFile("/ram/c.bin"), "\0\1\2")
eqv("rename across mounts", {nil, "/ram/c.bin: Invalid cross-device link", 18}, os.rename("/ram/c.bin", "/c.bin"))
eqv("ram rmdir", {true, 0}, io.rmdir("/ram/sub"))
eq("ram remove", os.remove("/ram/c.bin"), true)
eq("ram dexist", io.dexist("/ram/") and not io.dexist("/ram/sub"), true)
eq("ram dofile", io.writeFile("/ram/m.lua", "return 5 * 5") and dofile("/ram/m.lua"), 25)
eq("lfs2 write", io.writeFile("/lfs2/k.txt", string.rep("k", 4097)), true)
eqv("lfs2 fsstat used", {true, 128, 4, 4096, "lfs2"}, io.fsstat("/lfs2/k.txt"))
f = io.open("/lfs2/big", "wb")
eqv("lfs2 full", {nil, "No space left on device", 28}, f:write(string.rep("x", 512 * 1024)))
f:close()
local lb = math.ceil(io.fileSize("/luadb/main.lua") / 4096)
eqv("luadb fsstat", {true, lb, lb, 4096, "luadb"}, io.fsstat("/luadb/"))
eq("io.fsize on io", io.fsize, fs.fsize)
`;

for (const engine of ENGINE_NAMES) {
  test(`the flash file system has the profile's size: no space results and fsstat (${engine})`, async () => {
    const r = await runSuite(engine, LIMIT_BODY, {}, { profile: { filesystem: { size: 64 * 1024, blockSize: 4096 }, runawayMs: 20000 }, timeoutMs: 30000 });
    assert.ok(r.checks >= 20);
    const onDisk = fs.readdirSync(r.run.device.vfs.dataDir).reduce((n, f) => n + fs.statSync(path.join(r.run.device.vfs.dataDir, f)).size, 0);
    assert.ok(onDisk <= 64 * 1024, `data dir holds ${onDisk} bytes`);
    cleanup(r.run);
  });

  test(`io.fsstat/dexist/fsize, fs = io, file:write(zbuff), readFile/writeFile options, /ram/ and /lfs2/ (${engine})`, async () => {
    const r = await runSuite(engine, API_BODY);
    assert.ok(r.checks >= 50);
    // the RAM mounts never touch the data directory
    assert.deepEqual(fs.readdirSync(r.run.device.vfs.dataDir).sort(), ['d', 'r.txt', 'z.bin']);
    cleanup(r.run);
  });

  test(`/ram/ and /lfs2/ are lost on reboot, / is kept (${engine})`, async () => {
    const src = `
if not io.exists("/booted") then
  io.writeFile("/booted", "1")
  io.writeFile("/ram/r", "x")
  io.writeFile("/lfs2/l", "y")
  log.info("FIRST", io.exists("/ram/r"), io.exists("/lfs2/l"))
  rtos.reboot()
else
  log.info("SECOND", io.exists("/booted"), io.exists("/ram/r"), io.exists("/lfs2/l"), (select(3, io.fsstat("/ram/"))))
end
`;
    const r = await runLua({ 'main.lua': src }, { engine, reboot: 'restart', maxBoots: 3, until: 'I/user.SECOND', timeoutMs: 10000 });
    assert.ok(r.user.includes('I/user.FIRST true true'), r.lines.join('\n'));
    assert.ok(r.user.includes('I/user.SECOND true false false 2'), r.lines.join('\n'));
    cleanup(r);
  });
}

// Hardening 9: FIFOs, sockets (and device nodes) are never opened
function haveMkfifo(): boolean {
  try {
    child.execFileSync('mkfifo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

for (const engine of ENGINE_NAMES) {
  test(`a FIFO or socket in the device folder is refused, never blocks (${engine})`, async (t) => {
    if (process.platform === 'win32' || !haveMkfifo()) {
      t.skip('skipped: no mkfifo on this system (FIFOs are a POSIX feature)');
      return;
    }
    const src = String.raw`
eqv("open fifo r", {nil, "/fifo: Permission denied", 13}, io.open("/fifo"))
eqv("open fifo w", {nil, "/fifo: Permission denied", 13}, io.open("/fifo", "w"))
eqv("open fifo a+", {nil, "/fifo: Permission denied", 13}, io.open("/fifo", "a+"))
eqv("readFile fifo", {}, io.readFile("/fifo"))
eqv("writeFile fifo", {}, io.writeFile("/fifo", "x"))
eq("exists fifo", io.exists("/fifo"), false)
eq("fileSize fifo", io.fileSize("/fifo"), 0)
eqv("loadfile fifo", {nil, "cannot open /fifo.lua: No such file or directory"}, loadfile("/fifo.lua"))
raises("require fifo", "module 'fifo' not found", require, "fifo")
raises("io.lines fifo", "cannot open file '/fifo' (13)", io.lines, "/fifo")
eqv("open socket", {nil, "/sock: Permission denied", 13}, io.open("/sock"))
eqv("open luadb fifo", {nil, "/luadb/pipe.txt: No such file or directory", 2}, io.open("/luadb/pipe.txt"))
local ok, l = io.lsdir("/")
local names = {}
for _, e in ipairs(l) do names[#names + 1] = e.name end
eq("special files not listed", table.concat(names, ","), "")
`;
    let server: net.Server | null = null;
    const scriptFifoDir = tempDir('luatos-fifo-scripts-');
    child.execFileSync('mkfifo', [path.join(scriptFifoDir, 'pipe.txt')]);
    try {
      const r = await runSuite(engine, src, {}, {
        onDevice: (d) => {
          const dd = d.vfs.dataDir;
          child.execFileSync('mkfifo', [path.join(dd, 'fifo'), path.join(dd, 'fifo.lua')]);
          server = net.createServer();
          server.listen(path.join(dd, 'sock'));
        },
        libDirs: [scriptFifoDir],
      });
      cleanup(r.run);
    } finally {
      (server as net.Server | null)?.close();
      fs.rmSync(scriptFifoDir, { recursive: true, force: true });
    }
  });
}

test('a bad filesystem section in the profile is reported and the default size kept', async () => {
  const r = await runLua({ 'main.lua': 'log.info("S", io.fsstat("/"))' }, { profile: { filesystem: { size: 'big', blockSize: 4096 } }, until: 'I/user.S' });
  assert.ok(r.lines.some((l) => l.includes('luat:W(') && l.includes('profile filesystem must be')), r.lines.join('\n'));
  assert.ok(r.user.includes('I/user.S true 128 2 4096 lfs2'), r.user.join('\n'));
  cleanup(r);
});
