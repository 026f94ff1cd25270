/**
 * The firmware's own libnet.lua and httpplus.lua (script/libs/ of the LuatOS repository) run on
 * our socket API unchanged. The project does not ship LuatOS's code, so that test runs only
 * when LUATOS_FIRMWARE_LIBS points at a folder holding libnet.lua and httpplus.lua (and, when
 * LUATOS_CORELIB_DIR is set too, with the firmware's sys.lua / sysplus.lua as well).
 *
 * The same calls also run always, through our own blocking wrappers written from the facts of
 * luatos-api-2.md §3 (libnet: waitMsg on LINK / ON_LINE / TX_OK / EVENT / CLOSED, success only
 * when the param is 0) and §4 (httpplus's pattern: a callback ctrl, `tostring(netc)` as a sys
 * topic, rx on EVENT, close then release).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { once } from 'node:events';
import { WifiNetwork } from '../../runtime/net/model';
import { parseMapRule } from '../../runtime/net/direct';
import { ENGINES, FAST, REF_NET } from '../net/net-helpers';
import { runSock } from './helpers';

/** our wrappers, from the facts (not the firmware's code) */
const OUR_LIBNET = `
local M = {}
local function ok(m) return type(m) == "table" and m[2] == 0 end
function M.waitLink(task, to, ctrl)
  local s, up = socket.linkup(ctrl)
  if not s then return false end
  if up then return true end
  return ok(sysplus.waitMsg(task, socket.LINK, to))
end
function M.connect(task, to, ctrl, host, port)
  local s, now = socket.connect(ctrl, host, port)
  if not s then return false end
  if now then return true end
  return ok(sysplus.waitMsg(task, socket.ON_LINE, to))
end
function M.tx(task, to, ctrl, data)
  local s, full, now = socket.tx(ctrl, data)
  if not s then return false, full end
  if full then return true, true end
  if now then return true, false end
  if ok(sysplus.waitMsg(task, socket.TX_OK, to)) then return true, false end
  return false, full
end
function M.wait(task, to, ctrl)
  local s, now = socket.wait(ctrl)
  if not s then return false, false end
  if now then return true, true end
  local m = sysplus.waitMsg(task, socket.EVENT, to)
  if type(m) ~= "table" then return true, false end
  if m[2] == 0 then return true, true end
  return false, false
end
function M.close(task, to, ctrl)
  local s, now = socket.discon(ctrl)
  if s and not now then sysplus.waitMsg(task, socket.CLOSED, to) end
  socket.close(ctrl)
end
return M
`;

/** the same calls as the firmware's libnet/httpplus users make */
const MAIN = (withHttpplus: boolean) => `
local libnet = require "${withHttpplus ? 'libnet' : 'ourlibnet'}"
${withHttpplus ? 'local httpplus = require "httpplus"' : ''}
sysplus.taskInitEx(function()
  local netc = socket.create(nil, "cli")
  log.info("link before wifi", libnet.waitLink("cli", 200, netc))
  wlan.connect("lab", "pw")
  log.info("link", libnet.waitLink("cli", 3000, netc))
  socket.config(netc)
  log.info("connect", libnet.connect("cli", 3000, netc, "echo.test", 7000))
  log.info("tx", libnet.tx("cli", 3000, netc, "hello libnet"))
  local buf = zbuff.create(8)
  local text = ""
  while #text < 12 do
    local ok, ev = libnet.wait("cli", 3000, netc)
    if not ok or not ev then break end
    local s, n = socket.rx(netc, buf)
    text = buf:toStr(0, buf:used())
  end
  log.info("echo", text)
  log.info("wait timeout", libnet.wait("cli", 100, netc))
  libnet.close("cli", 3000, netc)
  log.info("state", socket.state(netc))
  log.info("connect refused", libnet.connect("cli", 3000, netc, "127.0.0.1", DEAD_PORT))
  socket.close(netc)
  socket.release(netc)
  ${withHttpplus ? `
  local code, resp = httpplus.request({url = "http://api.test/path?q=1", method = "POST", body = "abc", headers = {["X-A"] = "b"}})
  log.info("httpplus", code, resp.body:query(), resp.headers["Content-Type"])
  local code2, resp2 = httpplus.request({url = "http://api.test/reset"})
  log.info("httpplus reset", code2, resp2 ~= nil)` : ''}
  log.info("DONE")
end, "cli")
sys.run()
`;

async function servers(): Promise<{ echo: number; web: number; dead: number; close: () => void }> {
  const socks = new Set<net.Socket>();
  const echo = net.createServer((s) => {
    socks.add(s);
    s.on('error', () => undefined);
    s.on('data', (d) => s.write(d.toString().toUpperCase()));
    s.on('end', () => s.end());
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  const web = http.createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => {
      if (req.url === '/reset') return req.socket.resetAndDestroy();
      res.setHeader('Content-Type', 'text/plain');
      res.end(`got ${req.method} ${req.url} ${req.headers['x-a']} ${b}`);
    });
  });
  web.listen(0, '127.0.0.1');
  await once(web, 'listening');
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const dead = (probe.address() as net.AddressInfo).port;
  probe.close();
  return {
    echo: (echo.address() as net.AddressInfo).port,
    web: (web.address() as net.AddressInfo).port,
    dead,
    close: () => {
      for (const s of socks) s.destroy();
      echo.close();
      web.closeAllConnections();
      web.close();
    },
  };
}

const LIBNET_LINES = [
  'I/user.link before wifi false',
  'I/user.link true',
  'I/user.connect true',
  'I/user.tx true false',
  'I/user.echo HELLO LIBNET',
  'I/user.wait timeout true false',
  'I/user.state 1 离线',
  'I/user.connect refused false',
];

async function run(engine: (typeof ENGINES)[number], files: Record<string, string | Buffer>) {
  const srv = await servers();
  try {
    const m = new WifiNetwork({ ...REF_NET, timing: FAST, rules: [parseMapRule(`echo.test:7000=127.0.0.1:${srv.echo}`), parseMapRule(`api.test:80=127.0.0.1:${srv.web}`)] });
    const main = String(files['main.lua']).replace('DEAD_PORT', String(srv.dead));
    return await runSock({ ...files, 'main.lua': main }, m, { engine, until: 'I/user.DONE', timeoutMs: 20000 });
  } finally {
    srv.close();
  }
}

for (const engine of ENGINES) {
  test(`libnet-style blocking calls over socket, task delivery (our wrappers from the facts) (${engine})`, async () => {
    const r = await run(engine, { 'main.lua': MAIN(false), 'ourlibnet.lua': OUR_LIBNET });
    assert.equal(r.timedOut, false, r.lines.join('\n'));
    assert.deepEqual(r.user, [...LIBNET_LINES, 'I/user.DONE']);
  });
}

test('the firmware libnet.lua and httpplus.lua run unchanged (needs LUATOS_FIRMWARE_LIBS)', async (t) => {
  const src = process.env.LUATOS_FIRMWARE_LIBS;
  const need = ['libnet.lua', 'httpplus.lua'];
  if (!src || !need.every((f) => fs.existsSync(path.join(src, f)))) {
    const why = `LUATOS_FIRMWARE_LIBS not set or without ${need.join(' and ')} (the firmware libraries are not redistributed with this project)`;
    console.log(`# skip: ${why}`);
    t.skip(why);
    return;
  }
  const files: Record<string, string | Buffer> = { 'main.lua': MAIN(true) };
  for (const f of need) files[f] = fs.readFileSync(path.join(src, f));
  const core = process.env.LUATOS_CORELIB_DIR;
  if (core) for (const f of ['sys.lua', 'sysplus.lua']) if (fs.existsSync(path.join(core, f))) files[f] = fs.readFileSync(path.join(core, f));
  for (const engine of ENGINES) {
    const r = await run(engine, files);
    assert.equal(r.timedOut, false, `${engine}:\n${r.lines.join('\n')}`);
    const user = r.user.filter((l) => !/^D\/user\.(libnet|httpplus) version/.test(l) && !/^I\/user\.httpplus 服务器/.test(l));
    assert.deepEqual(user, [
      ...LIBNET_LINES,
      'I/user.httpplus 200 got POST /path?q=1 b abc text/plain',
      // a reset before any response: the request fails (a negative code or, per the facts'
      // pcall quirk, nil) and no response object is given
      user.find((l) => l.startsWith('I/user.httpplus reset')) ?? 'missing',
      'I/user.DONE',
    ]);
    const reset = user.find((l) => l.startsWith('I/user.httpplus reset')) ?? '';
    assert.match(reset, /^I\/user\.httpplus reset (nil|-\d+) (false|true)$/);
    assert.ok(r.user.some((l) => /^D\/user\.libnet version/.test(l)), 'the firmware libnet was loaded');
    assert.ok(!r.lines.some((l) => /is not implemented by this runtime/.test(l)), r.lines.join('\n'));
  }
});
