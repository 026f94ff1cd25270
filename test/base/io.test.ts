import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { runSuite } from './suite';
import { tempDir } from '../helpers/tmp';

// io/os on the device file system: stock Lua results for the stock functions, liolib.c's
// LuatOS extensions for the rest.
const BODY = String.raw`
local all = {}
for i = 0, 255 do all[#all + 1] = string.char(i) end
all = table.concat(all)
local f = io.open("/bin.dat", "wb")
eq("io.type open", io.type(f), "file")
eq("write returns file", f:write(all, "\r\n", 12, "x"), f)
eq("close", f:close(), true)
eq("io.type closed", io.type(f), "closed file")
eq("io.type other", io.type({}), nil)
raises("closed file", "attempt to use a closed file", function() return f:read("a") end)
f = io.open("/bin.dat", "rb")
eq("binary read all", f:read("a"), all .. "\r\n12x")
eq("read at eof a", f:read("a"), "")
eq("read at eof l", f:read("l"), nil)
eq("read(0) at eof", f:read(0), nil)
eq("seek set", f:seek("set", 254), 254)
eq("read count", f:read(2), "\254\255")
eq("seek cur default", f:seek(), 256)
eq("seek end", f:seek("end"), 261)
eq("seek end -1", f:seek("end", -1), 260)
eq("read(0) not eof", f:read(0), "")
raises("bad seek option", "bad argument #1 to 'seek' (invalid option 'x')", function() return f:seek("x") end)
raises("bad read format", "bad argument #1 to 'read' (invalid format)", function() return f:read("z") end)
f:close()
eq("writeFile", io.writeFile("/t.txt", "line1\nline2\r\n\n3.5 0x10 -7 nope"), true)
f = io.open("/t.txt")
eq("read default line", f:read(), "line1")
eq("read L", f:read("L"), "line2\r\n")
eq("read *l empty line", f:read("*l"), "")
eqv("read numbers", {3.5, 16, -7, nil, n = 4}, f:read("n", "n", "n", "n"))
eq("after failed n", f:read("a"), "nope")
f:close()
local lines = {}
for l in io.lines("/t.txt") do lines[#lines + 1] = l end
eq("io.lines count", #lines, 4)
eq("io.lines last", lines[4], "3.5 0x10 -7 nope")
f = io.open("/t.txt")
local chunks = {}
for a, b in f:lines(2, 3) do chunks[#chunks + 1] = a .. "|" .. b end
eq("f:lines formats", chunks[1], "li|ne1")
eq("f:lines keeps file open", io.type(f), "file")
f:close()
raises("io.lines missing", "cannot open file '/none.txt' (2)", io.lines, "/none.txt")
eqv("open missing", {nil, "/none.txt: No such file or directory", 2}, io.open("/none.txt"))
eqv("open missing rel", {nil, "none.txt: No such file or directory", 2}, io.open("none.txt", "r"))
raises("invalid mode", "bad argument #2 to 'open' (invalid mode)", io.open, "/t.txt", "rw")
f = io.open("/t.txt", "r")
eqv("write on read handle", {nil, "Bad file descriptor", 9}, f:write("x"))
f:close()
f = io.open("/t.txt", "a+")
f:write("!")
f:seek("set", 0)
eq("a+ reads", f:read("l"), "line1")
f:write("?")
f:close()
eq("append goes to end", io.readFile("/t.txt"):sub(-2), "!?")
eq("flush returns nothing", select("#", io.open("/t.txt"):flush()), 0)
-- read-only areas
eq("luadb readable", io.readFile("/luadb/data.txt"), "hello\0world")
eqv("luadb not writable", {nil, "/luadb/data.txt: Read-only file system", 30}, io.open("/luadb/data.txt", "w"))
eqv("luadb new file", {nil, "/luadb/new.txt: Read-only file system", 30}, io.open("/luadb/new.txt", "w"))
eqv("writeFile luadb", {}, io.writeFile("/luadb/x.txt", "x"))
eqv("remove luadb", {nil, "/luadb/data.txt: Read-only file system", 30}, os.remove("/luadb/data.txt"))
eqv("open dir", {nil, "/: Is a directory", 21}, io.open("/", "r"))
-- LuatOS extensions
eq("exists", io.exists("/t.txt"), true)
eq("exists luadb", io.exists("/luadb/data.txt"), true)
eq("exists missing", io.exists("/nope"), false)
eq("fileSize", io.fileSize("/luadb/data.txt"), 11)
eq("fileSize missing", io.fileSize("/nope"), 0)
eq("readFile offset len", io.readFile("/luadb/data.txt", "rb", 3, 4), "lo\0w")
eqv("readFile missing", {}, io.readFile("/nope"))
eq("writeFile append mode", io.writeFile("/ap.txt", "a") and io.writeFile("/ap.txt", "b", "ab"), true)
eq("appended", io.readFile("/ap.txt"), "ab")
eqv("mkdir", {true, 0}, io.mkdir("/d"))
eqv("mkdir exists", {false, -17}, io.mkdir("/d"))
eqv("mkdir no parent", {false, -2}, io.mkdir("/x/y"))
io.writeFile("/d/f1.txt", "12345")
io.mkdir("/d/sub")
local ok, list = io.lsdir("/d")
eq("lsdir ok", ok, true)
eq("lsdir n", #list, 2)
eq("lsdir file", list[1].name .. ":" .. list[1].size .. ":" .. list[1].type, "f1.txt:5:0")
eq("lsdir dir", list[2].name .. ":" .. list[2].type, "sub:1")
eq("io.FILE/DIR", io.FILE .. io.DIR, "01")
ok, list = io.lsdir("/d", 1, 1)
eq("lsdir paging", #list == 1 and list[1].name, "sub")
eqv("lsdir missing", {false, -2}, io.lsdir("/nope"))
ok, list = io.lsdir("/luadb/")
local names = {}
for _, e in ipairs(list) do names[#names + 1] = e.name end
eq("lsdir luadb", table.concat(names, ","), "data.lua,data.txt,main.lua")
eqv("rmdir not empty", {false, -39}, io.rmdir("/d"))
eqv("rmdir file", {false, -20}, io.rmdir("/d/f1.txt"))
eq("os.remove", os.remove("/d/f1.txt"), true)
eqv("os.remove missing", {nil, "/d/f1.txt: No such file or directory", 2}, os.remove("/d/f1.txt"))
eqv("rmdir", {true, 0}, io.rmdir("/d/sub"))
eq("os.rename", os.rename("/ap.txt", "/d/ap2.txt"), true)
eq("renamed", io.readFile("/d/ap2.txt"), "ab")
eqv("os.rename missing", {nil, "/ap.txt: No such file or directory", 2}, os.rename("/ap.txt", "/b.txt"))
eq("lsmount", io.lsmount()[2].path, "/luadb/")
eq("stdout removed", io.stdout, nil)
-- zbuff fill
local zb = zbuff.create(4)
f = io.open("/luadb/data.txt")
eqv("fill", {true, 4}, f:fill(zb))
eq("fill data", zb:toStr(), "hell")
f:close()
-- loadfile / dofile
io.writeFile("/mod.lua", "#!shebang\nlocal a, b = ...\nreturn 40 + 2, x, a")
eqv("dofile", {42, nil, nil, n = 3}, dofile("/mod.lua"))
local fn = loadfile("/mod.lua", "t", {x = "envx"})
eqv("loadfile env", {42, "envx", "arg", n = 3}, fn("arg"))
eqv("loadfile missing", {nil, "cannot open /none.lua: No such file or directory"}, loadfile("/none.lua"))
io.writeFile("/bad.lua", "\nerror('boom')")
raises("chunk name", "bad.lua:2: boom", dofile, "/bad.lua")
io.writeFile("/syntax.lua", "x = = 1")
raises("dofile syntax error", "syntax.lua:1:", dofile, "/syntax.lua")
eq("dofile luadb", dofile("/luadb/data.lua"), "from luadb")
`;

for (const engine of ENGINE_NAMES) {
  test(`io/os/dofile on the device file system (${engine})`, async () => {
    const r = await runSuite(engine, BODY, { 'data.txt': Buffer.from('hello\0world'), 'data.lua': 'return "from luadb"' });
    assert.ok(r.checks >= 80, `only ${r.checks} checks ran`);
  });

  test(`no path reaches the host outside the sandbox (${engine})`, async () => {
    const outside = tempDir('luatos-outside-');
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret');
    fs.writeFileSync(path.join(outside, 'code.lua'), 'return "escaped"');
    let dataDir = '';
    const src = String.raw`
      eqv("dotdot read", {nil, "/../../../../../../etc/passwd: No such file or directory", 2}, io.open("/../../../../../../etc/passwd"))
      eq("host absolute path is a device path", io.exists("${outside}/secret.txt"), false)
      eq("dotdot write stays inside", io.writeFile("/../../../escape.txt", "x"), true)
      eq("it landed in the data root", io.readFile("/escape.txt"), "x")
      eqv("symlinked file", {nil, "/linkfile: Permission denied", 13}, io.open("/linkfile"))
      eq("symlinked file exists?", io.exists("/linkfile"), false)
      eqv("readFile through link", {}, io.readFile("/linkfile"))
      eqv("new file under symlinked dir", {nil, "/evil/pwn.txt: Permission denied", 13}, io.open("/evil/pwn.txt", "w"))
      eqv("writeFile under symlinked dir", {}, io.writeFile("/evil/pwn2.txt", "x"))
      eqv("dangling symlink write", {nil, "/dangling: Permission denied", 13}, io.open("/dangling", "w"))
      eqv("lsdir symlinked dir", {false, -13}, io.lsdir("/evil"))
      eqv("mkdir under symlinked dir", {false, -13}, io.mkdir("/evil/sub"))
      eqv("remove through link", {nil, "/evil/secret.txt: Permission denied", 13}, os.remove("/evil/secret.txt"))
      io.writeFile("/mine.txt", "m")
      eqv("rename into symlinked dir", {nil, "/mine.txt: Permission denied", 13}, os.rename("/mine.txt", "/evil/mine.txt"))
      eqv("loadfile through link", {nil, "cannot open /evil/code.lua: No such file or directory"}, loadfile("/evil/code.lua"))
      local ok, list = io.lsdir("/")
      local names = {}
      for _, e in ipairs(list) do names[#names + 1] = e.name end
      eq("symlinks are not listed", table.concat(names, ","), "escape.txt,mine.txt")
    `;
    try {
      await runSuite(engine, src, {}, {
        onDevice: (d) => {
          dataDir = d.vfs.dataDir;
          fs.symlinkSync(outside, path.join(dataDir, 'evil'));
          fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dataDir, 'linkfile'));
          fs.symlinkSync(path.join(outside, 'new.txt'), path.join(dataDir, 'dangling'));
        },
      });
      assert.deepEqual(fs.readdirSync(outside).sort(), ['code.lua', 'secret.txt']);
      assert.equal(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8'), 'secret');
      assert.ok(!fs.existsSync(path.join(path.dirname(dataDir), 'escape.txt')));
      assert.ok(fs.existsSync(path.join(dataDir, 'escape.txt')));
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
}
