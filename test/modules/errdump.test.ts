import { test } from 'node:test';
import * as dgram from 'node:dgram';
import * as assert from 'node:assert/strict';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { runLua } from '../helpers/run-lua';
import { runSuite } from '../base/suite';
import { removeRunDirs } from './mods2-util';

// Facts (luat_lib_errdump.c): off until config(true); the user log "/\xAAuerr" keeps the newest
// 4096 bytes; dump() says whether there were writes since the last read, fills the zbuff and
// sets used; config(false) deletes the logs; TYPE_SYS 0, TYPE_USR 1; type >= 2 → true.
const BODY = String.raw`
local USR = "/\xAAuerr"
eq("constants", errDump.TYPE_SYS * 10 + errDump.TYPE_USR, 1)
local zb = zbuff.create(16)
errDump.record("before config")
eq("disabled: nothing on the file system", io.exists(USR), false)
eq("disabled: the write is still counted", errDump.dump(zb, errDump.TYPE_USR), true)
eq("disabled: zbuff empty", zb:used(), 0)
eqv("config returns nothing", {}, errDump.config(true, 0))
errDump.record("socket long time no connect")
eq("record lands in the user log", io.readFile(USR), "socket long time no connect")
eq("dump: new data", errDump.dump(zb, errDump.TYPE_USR, false), true)
eq("dump: used", zb:used(), 27)
eq("dump: zbuff grown", zb:len() >= 27, true)
eq("dump: content", zb:toStr(0, zb:used()), "socket long time no connect")
eq("dump again: nothing new", errDump.dump(zb, errDump.TYPE_USR), false)
eq("dump without zbuff does not mark read", (function() errDump.record("x"); errDump.dump(nil); return errDump.dump(nil) end)(), true)
errDump.record(string.rep("a", 3000))
errDump.record(string.rep("b", 3000))
local s = io.readFile(USR)
eq("cap 4096", #s, 4096)
eq("newest kept", s:sub(-3000), string.rep("b", 3000))
eq("older trimmed from the front", s:sub(1, 1096), string.rep("a", 1096))
errDump.record(string.rep("c", 5000))
eq("big record keeps its last 4096", io.readFile(USR), string.rep("c", 4096))
errDump.record(123)
eq("non-string ignored", #io.readFile(USR), 4096)
eq("type >= 2", errDump.dump(nil, 2), true)
errDump.dump(nil, errDump.TYPE_USR, true)
eq("delete", io.exists(USR), false)
errDump.record("again")
errDump.config(false)
eq("config(false) deletes", io.exists(USR), false)
`;

for (const engine of ENGINE_NAMES) {
  test(`errDump records and dumps like the firmware (${engine})`, async () => {
    const r = await runSuite(engine, BODY);
    removeRunDirs(r.run);
    assert.ok(r.checks >= 20, `only ${r.checks} checks`);
  });
}

test('errDump keeps the error that ended the VM in the system log, across a reboot', async () => {
  const main = `
if io.exists("/boot2") then
  errDump.config(true, 0)
  local zb = zbuff.create(8)
  local fresh = errDump.dump(zb, errDump.TYPE_SYS)
  log.info("SYS", tostring(fresh), zb:toStr(0, zb:used()))
  log.info("DONE")
else
  io.writeFile("/boot2", "1")
  errDump.config(true, 600)
  sys.timerStart(function() error("boom in timer") end, 10)
end
sys.run()
`;
  const r = await runLua({ 'main.lua': main }, { reboot: 'restart', maxBoots: 3, until: 'I/user.DONE', timeoutMs: 10000 });
  removeRunDirs(r);
  const line = r.user.find((u) => u.startsWith('I/user.SYS '));
  assert.ok(line, r.lines.join('\n'));
  assert.match(line, /boom in timer/);
  // after a reboot the RAM counters start again: nothing counts as new
  assert.ok(line.startsWith('I/user.SYS false '));
});

test('errDump uploads the report over UDP to a configured host (real UDP server on 127.0.0.1)', async () => {
  const server = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  server.on('message', (m, rinfo) => {
    got.push(m);
    server.send('{"r": 1}', rinfo.port, rinfo.address);
  });
  await new Promise<void>((res) => server.bind(0, '127.0.0.1', () => res()));
  const port = (server.address() as { port: number }).port;
  try {
    const main = `
PROJECT = "edtest"
VERSION = "1.2.3"
sys.taskInit(function()
  wlan.init()
  wlan.connect("lab", "12345678")
  sys.waitUntil("IP_READY", 10000)
  errDump.config(true, 600, "flag", nil, "127.0.0.1", ${port})
  errDump.record("hello errdump")
end)
sys.run()
`;
    const r = await runLua({ 'main.lua': main }, { until: 'errdump ok!', timeoutMs: 10000 });
    removeRunDirs(r);
    assert.ok(!r.timedOut, r.lines.join('\n'));
    assert.equal(got.length, 1);
    assert.match(got[0].toString(), /^edtest_LuatOS-SoC_V2002_Air8101,1\.2\.3,\d{15},flag,\r\npoweron reason:0\r\nhello errdump\r\n$/);
  } finally {
    server.close();
  }
});

test('errDump never contacts the firmware server unless configured', async () => {
  const main = `errDump.config(true, 600)\nerrDump.record("x")\nsys.run()`;
  const r = await runLua({ 'main.lua': main }, { until: 'not configured', timeoutMs: 8000 });
  removeRunDirs(r);
  assert.ok(r.lines.some((l) => l.includes('errDump:upload to dev_msg1.openluat.com:12425 not done: not configured')), r.lines.join('\n'));
});
