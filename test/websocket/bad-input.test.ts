/**
 * websocket with bad input: the firmware's return values and log lines (luatos-api-2.md §6,
 * `luat_lib_websocket.c`), never a Node stack trace. Servers are real (127.0.0.1): a refused
 * port, a plain HTTP server, a raw server sending an unknown opcode, a server that resets.
 */
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { runLua, RunLuaResult } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { parseWsUrl } from '../../runtime/net/websocket-client';
import { HOST, startRawServer, wsNetwork, inOrder, wsTrace } from './ws-helpers';

const trace = (r: RunLuaResult): string[] => wsTrace(r, /^[IWE]\/user\./);
function noStack(r: RunLuaResult): void {
  const text = r.lines.join('\n');
  assert.ok(!/\n\s+at .+\(.*\.js:\d+:\d+\)/.test(text) && !text.includes('node:internal'), text);
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
async function run(src: string, port: number, engine: string): Promise<RunLuaResult> {
  const r = await runLua({ 'main.lua': src }, { engine: engine as 'wasmoon', until: 'I/user.DONE', timeoutMs: 15000, device: { network: wsNetwork(port) } });
  dirs.push(r.dir, r.device.vfs.writablePath('/'));
  return r;
}

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

test('parseWsUrl follows the firmware: schemes, default ports and path, the port cut, C-string end', () => {
  const p = (u: string) => {
    const x = parseWsUrl(u);
    return `${x.tls ? 'tls' : 'tcp'} ${x.host} ${x.port} ${x.path}`;
  };
  assert.equal(p('ws://wstest.luatos.com/ws/echo'), 'tcp wstest.luatos.com 80 /ws/echo');
  assert.equal(p('wss://wstest.luatos.com'), 'tls wstest.luatos.com 443 /');
  assert.equal(p('wstest.luatos.com:8080/a?b=1'), 'tcp wstest.luatos.com 8080 /a?b=1');
  assert.equal(p('WSS://h/x'), 'tcp WSS 80 //h/x'); // the scheme is case-sensitive; "WSS" is the host
  assert.equal(p('ws://h:99999/'), 'tcp h 34463 /'); // atoi then uint16
  assert.equal(p('ws://h:1234567/'), 'tcp h 12345 /'); // at most 5 port characters
  assert.equal(p('ws://h:0/'), 'tcp h 80 /');
  assert.equal(p('ws://a/b'), 'tcp a/b 80 /'); // a "/" before index 2 does not start a path
  assert.equal(p('ws://host\0evil/x'), 'tcp host 80 /');
  assert.equal(p(`ws://${'h'.repeat(300)}/${'p'.repeat(300)}`), `tcp ${'h'.repeat(191)} 80 /${'p'.repeat(254)}`);
});

for (const engine of ENGINE_NAMES) {
  test(`websocket: bad arguments give the firmware's values and lines (${engine})`, async () => {
    const src = `
log.info("badadapter", select("#", websocket.create(99, "ws://${HOST}/")), select("#", websocket.create(-1, "ws://${HOST}/")))
log.info("unregistered", select("#", websocket.create(socket.LWIP_ETH, "ws://${HOST}/")))
log.info("noturl", pcall(websocket.create, nil, {}))
log.info("badadaptertype", pcall(websocket.create, "x", "ws://${HOST}/"))
local wsc = websocket.create(nil, "ws://${HOST}/")
log.info("created", type(wsc), wsc.state == nil, wsc.send == websocket.send)
log.info("notready", wsc:send("x"), wsc:ready())
log.info("badtype", select("#", wsc:send({})), select("#", wsc:send(nil)))
log.info("hdr empty", select("#", wsc:headers({X=""})))
log.info("hdr long", select("#", wsc:headers({X=string.rep("v", 300)})))
log.info("hdr type", select("#", wsc:headers({X=true})), select("#", wsc:headers(5 > 1)))
log.info("hdr str", select("#", wsc:headers(string.rep("h", 1024))), wsc:headers("A: b\\r\\n"))
log.info("notself", pcall(websocket.send, nil, "x"))
log.info("on", select("#", wsc:on(function() end)), select("#", wsc:autoreconn(false)), select("#", wsc:debug(true)))
log.info("close", select("#", wsc:close()), select("#", wsc:close()))
log.info("after", wsc:connect(), wsc:send("x"), wsc:ready())
log.info("DONE")
sys.run()
`;
    const r = await run(src, 1, engine);
    noStack(r);
    const t = trace(r);
    inOrder(t, [
      'W create: adapter 99 does not exist (0..20) (luatos-pc)',
      'W create: adapter -1 does not exist (0..20) (luatos-pc)',
      'badadapter 0 0',
      'W network_alloc_ctrl fail',
      'E websocket init FAID ret -1',
      'unregistered 0',
      /^noturl false .*bad argument #2 to 'create' \(string expected, got table\)$/,
      /^badadaptertype false .*bad argument #1 to 'create' \(number expected, got string\)$/,
      'created userdata true true',
      'I not ready yet',
      'notready false false',
      'D only support string or zbuff',
      'D only support string or zbuff',
      'badtype 0 0',
      'W bad header X ',
      'hdr empty 0',
      /^W bad header X v{300}$/,
      'hdr long 0',
      'W bad header X (null)',
      'hdr type 0 0',
      'W headers too large size 1024',
      'hdr str 0 true',
      /^notself false .*bad argument #1 to 'send' \(WS\* expected, got nil\)$/,
      'on 0 0 0',
      'I websocket closing socket',
      'W websocket already closed',
      'close 0 0',
      'E socket connect ret=-1\n',
      'I not ready yet',
      'after false false false',
      'DONE',
    ]);
  });

  test(`websocket: refused port, a plain HTTP server, an unknown opcode, a reset during the handshake (${engine})`, async () => {
    const refused = await closedPort();
    const raw = await startRawServer((sock, all, i) => {
      if (!all.includes('\r\n\r\n')) return;
      if (i === 0) sock.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      else if (i === 1) sock.write(Buffer.concat([Buffer.from('HTTP/1.1 101 OK\r\n\r\n'), Buffer.from([0x83, 0x00])]));
      else sock.resetAndDestroy();
    });
    try {
      const src = `
local step = 0
local urls = {"ws://127.0.0.1:${refused}/", "ws://${HOST}/a", "ws://${HOST}/b", "ws://${HOST}/c"}
local function next()
  step = step + 1
  if step > #urls then log.info("DONE") return end
  local wsc = websocket.create(nil, urls[step])
  wsc:on(function(c, ev, data, fin) log.info("ev", step, ev, data, fin) if ev == "disconnect" then c:close() sys.timerStart(next, 10) end end)
  log.info("connect", step, wsc:connect())
end
next()
sys.run()
`;
      const r = await run(src, raw.port, engine);
      noStack(r);
      inOrder(trace(r), [
        `I connect host 127.0.0.1 port ${refused}`,
        'connect 1 true',
        'W websocket_callback param1 -1, closing socket',
        'I websocket closing socket',
        'ev 1 error connect 0',
        'ev 1 disconnect nil nil',
        'connect 2 true',
        'E server not support websocket? resp code HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n',
        'W websocket_parse ret -1',
        'ev 2 error rx 0',
        'ev 2 disconnect nil nil',
        'connect 3 true',
        'E unkown optcode 0x03',
        'W websocket_parse ret -1',
        'ev 3 error rx 0',
        'ev 3 disconnect nil nil',
        'connect 4 true',
        'W websocket_callback param1 -1, closing socket',
        'ev 4 error connect 0',
        'ev 4 disconnect nil nil',
        'DONE',
      ]);
    } finally {
      await raw.close();
    }
  });
}

for (const engine of ENGINE_NAMES) {
  test(`websocket: a server that stops reading: send refuses once 1 MiB waits to be written (our bound), the connection stays (${engine})`, async () => {
    const raw = await startRawServer((sock, all) => {
      if (all.includes('\r\n\r\n') && !sock.isPaused()) {
        sock.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
        sock.pause(); // read nothing more
      }
    });
    try {
      const src = `
local s = string.rep("z", 65534)
local wsc = websocket.create(nil, "ws://${HOST}/")
wsc:on(function(c, ev)
  if ev == "conack" then
    for i = 1, 2000 do
      if not c:send(s) then log.info("refused", i > 16, c:ready()) break end
    end
    log.info("DONE")
  end
end)
wsc:connect()
sys.run()
`;
      const r = await run(src, raw.port, engine);
      inOrder(trace(r), [/^W send: \d+ bytes are still waiting to be sent, frame refused \(luatos-pc\)$/, 'refused true true', 'DONE']);
    } finally {
      await raw.close();
    }
  });
}

for (const engine of ENGINE_NAMES) {
  test(`websocket: a 101 reply head that never ends within 32784 bytes ends the connection (choice: the device would hang) (${engine})`, async () => {
    const raw = await startRawServer((sock, all) => {
      if (all.includes('\r\n\r\n') && !sock.isPaused()) {
        sock.pause();
        sock.write(`HTTP/1.1 101 Switching Protocols\r\nX-Long: ${'a'.repeat(40000)}`);
      }
    });
    try {
      const src = `
local wsc = websocket.create(nil, "ws://${HOST}/")
wsc:on(function(c, ev, data) log.info("ev", ev, data) if ev == "disconnect" then log.info("DONE") end end)
wsc:connect()
sys.run()
`;
      const r = await run(src, raw.port, engine);
      inOrder(trace(r), ['W the handshake reply head is longer than the receive buffer (32784 bytes) (luatos-pc)', 'W websocket_parse ret -1', 'ev error rx', 'ev disconnect nil', 'DONE']);
      assert.ok(!trace(r).includes('ev conack nil'));
    } finally {
      await raw.close();
    }
  });
}
