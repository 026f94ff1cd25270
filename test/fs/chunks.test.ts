import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { runLua, RunLuaResult } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { BINARY_CHUNK_MSG } from '../../runtime/core/fs/chunk';
import { runSuite } from '../base/suite';

function cleanup(r: RunLuaResult): void {
  fs.rmSync(r.dir, { recursive: true, force: true });
  fs.rmSync(r.device.vfs.dataDir, { recursive: true, force: true });
}

// Hardening 6: load(string.dump(f)) and every other way in refuse bytecode with a clear error
const BIN_BODY = String.raw`
local BIN = ${JSON.stringify(BINARY_CHUNK_MSG)}
local bin = string.dump(function() return 1 end)
eqv("load binary", {nil, BIN}, load(bin))
eqv("load binary mode b", {nil, BIN}, load(bin, "x", "b", {}))
-- a mutated chunk never reaches the undump code
local bad = bin:sub(1, 12) .. string.rep("\255", 64)
eqv("load mutated binary", {nil, BIN}, load(bad, "m", "bt"))
local i = 0
eqv("load reader binary", {nil, BIN}, load(function() i = i + 1; if i == 1 then return bin:sub(1, 1) elseif i == 2 then return bin:sub(2) end end))
eq("load text works", load("return 7")(), 7)
eq("load reader text works", load(coroutine.wrap(function() coroutine.yield("return ") coroutine.yield("8") end))(), 8)
eq("load env kept", load("return x", "c", "t", {x = 9})(), 9)
eq("load explicit nil env", select(2, pcall(load("return x", "c", "t", nil))):find("attempt to index") ~= nil, true)
eq("text in mode b stays stock", select(2, load("return 7", "x", "b")), "attempt to load a text chunk (mode is 'b')")
io.writeFile("/b.lua", bin)
eqv("loadfile binary", {nil, "/b.lua: " .. BIN}, loadfile("/b.lua"))
io.writeFile("/c.lua", "#!/usr/bin/lua\n" .. bin)
eqv("loadfile binary after # line", {nil, "/c.lua: " .. BIN}, loadfile("/c.lua"))
raises("dofile binary", "/b.lua: " .. BIN, dofile, "/b.lua")
io.writeFile("/bmod.lua", bin)
raises("require binary", "error loading module 'bmod' from file '/bmod.lua':\n\t" .. BIN, require, "bmod")
raises("require binary luac in luadb", "error loading module 'pre' from file '/luadb/pre.luac':\n\t" .. BIN, require, "pre")
eq("string.dump stays", type(string.dump), "function")
`;

for (const engine of ENGINE_NAMES) {
  test(`binary chunks are refused by load, loadfile, dofile and require (${engine})`, async () => {
    const r = await runSuite(engine, BIN_BODY, { 'pre.luac': Buffer.from('\x1bLuaS\x00garbage-bytecode') });
    assert.ok(r.checks >= 15);
    cleanup(r.run);
  });

  test(`a binary main.lua is refused with a clear error (${engine})`, async () => {
    const r = await runLua({ 'main.lua': Buffer.concat([Buffer.from([0x1b]), Buffer.from('LuaS\x00\x19\x93\r\n\x1a\n\x04\x08\x08\xff\xff\xff\xff')]) }, { engine });
    assert.ok(r.lines.some((l) => l.includes(`main.lua: ${BINARY_CHUNK_MSG}`)), r.lines.join('\n'));
    cleanup(r);
  });

  // Loading issue: require is yieldable
  test(`a required module may yield in its main chunk (sys.wait inside a task) (${engine})`, async () => {
    const r = await runLua(
      {
        'main.lua': `sys.taskInit(function()
  local m = require("slow")
  log.info("got", m.v, require("slow") == m)
end)
sys.run()`,
        'slow.lua': 'local p, n = ...\nsys.wait(30)\nreturn { v = n .. "@" .. p }',
      },
      { engine, until: 'I/user.got' },
    );
    assert.ok(r.user.includes('I/user.got slow@/luadb/slow.lua true'), r.lines.join('\n'));
    cleanup(r);
  });

  test(`a dofile'd chunk may yield too (stock 5.3 dofile is yieldable) (${engine})`, async () => {
    const r = await runLua(
      {
        'main.lua': `io.writeFile("/step.lua", "sys.wait(20)\\nreturn 'waited', ...")
sys.taskInit(function()
  log.info("D", dofile("/step.lua"))
  log.info("E", pcall(dofile))
  log.info("F", pcall(dofile, "/none.lua"))
end)
sys.run()`,
      },
      { engine, until: 'I/user.F' },
    );
    assert.ok(r.user.includes('I/user.D waited'), r.lines.join('\n'));
    assert.ok(r.user.some((u) => u.startsWith("I/user.E false ") && u.includes("bad argument #1 to 'dofile' (string expected, got no value)")), r.user.join('\n'));
    assert.ok(r.user.includes('I/user.F false cannot open /none.lua: No such file or directory'), r.user.join('\n'));
    cleanup(r);
  });

  test(`a module that ends with sys.run() runs the scheduler when required from main.lua (${engine})`, async () => {
    const r = await runLua(
      {
        'main.lua': `sys.taskInit(function() sys.wait(20) log.info("TICK") sys.wait(20) log.info("DONE") end)
require("app")
log.info("AFTER_REQUIRE")
sys.run()`,
        'app.lua': 'log.info("app loaded")\nsys.run()\n',
      },
      { engine, until: 'I/user.DONE' },
    );
    assert.ok(r.user.includes('I/user.app loaded'), r.lines.join('\n'));
    assert.ok(r.user.includes('I/user.TICK') && r.user.includes('I/user.DONE'), r.lines.join('\n'));
    assert.ok(!r.user.includes('I/user.AFTER_REQUIRE'), 'sys.run() never returns, as on the device');
    assert.ok(!r.lines.some((l) => l.includes('C-call boundary')), r.lines.join('\n'));
    cleanup(r);
  });

  test(`an error raised by require points at the caller's line (${engine})`, async () => {
    const r = await runLua({ 'main.lua': 'local ok, e = pcall(function()\n  require("nope")\nend)\nlog.info("E", e)\nlog.info("T", select(2, pcall(require)))' }, { engine, until: 'I/user.T' });
    assert.ok(r.user.includes("I/user.E main.lua:2: module 'nope' not found"), r.user.join('\n'));
    assert.ok(r.user.some((u) => u.startsWith("I/user.T ") && u.includes("bad argument #1 to 'require' (string expected, got no value)")), r.user.join('\n'));
    cleanup(r);
  });
}
