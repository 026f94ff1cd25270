/**
 * websocket keepalive (an empty client PING after `keepalive` s without traffic; a server PING
 * answered with a PONG carrying its payload) and the device network: a connect made while the
 * Wi-Fi is down waits for the link (as network_connect does), a link loss ends the connection
 * (error connect, disconnect) and autoreconn joins again once the link is back. Real `ws`
 * server on 127.0.0.1, the Wi-Fi model of the device (wlan.connect, host mapping from the
 * profile).
 */
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { runLua, RunLuaResult } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { WifiNetwork } from '../../runtime/net/model';
import { HOST, startWsServer, wsNetwork, inOrder, wsTrace } from './ws-helpers';

const trace = (r: RunLuaResult): string[] => wsTrace(r, /^[IWE]\/user\./);
const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

for (const engine of ENGINE_NAMES) {
  test(`websocket: keepalive pings and the pong to a server ping (${engine})`, async () => {
    const pings: Buffer[] = [];
    const pongs: Buffer[] = [];
    const srv = await startWsServer({
      onConn: (ws) => {
        ws.on('ping', (d: Buffer) => {
          pings.push(d);
          if (pings.length === 2) ws.ping(Buffer.from('abc'));
        });
        ws.on('pong', (d: Buffer) => {
          pongs.push(d);
          ws.send('done');
        });
      },
    });
    try {
      const src = `
local wsc = websocket.create(nil, "ws://${HOST}/", 1)
wsc:on(function(c, ev, data) log.info("ev", ev, data) if data == "done" then log.info("DONE") end end)
wsc:connect()
sys.run()
`;
      const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', timeoutMs: 15000, device: { network: wsNetwork(srv.port) } });
      dirs.push(r.dir, r.device.vfs.writablePath('/'));
      inOrder(trace(r), ['ev conack nil', 'ev recv done', 'DONE']);
      assert.ok(pings.length >= 2, `pings ${pings.length}`);
      assert.ok(pings.every((p) => p.length === 0));
      assert.equal(pongs[0]?.toString(), 'abc');
      // pings and pongs are not delivered to the script
      assert.ok(!trace(r).some((l) => l.startsWith('ev recv') && l !== 'ev recv done'), trace(r).join('\n'));
    } finally {
      await srv.close();
    }
  });

  test(`websocket: connect waits for the Wi-Fi link; a link loss ends the connection; autoreconn rejoins (${engine})`, async () => {
    const srv = await startWsServer();
    let model: WifiNetwork | null = null;
    let dropped = false;
    // the link drops once the device has the echo of n1 (its log line), not when the server has n1:
    // the echo would otherwise race the link loss on a loaded machine
    let echoed = false;
    const watch = setInterval(() => {
      if (!dropped && model && echoed) {
        dropped = true;
        model.linkDown();
        setTimeout(() => model?.linkUp(), 1500);
      }
    }, 20);
    try {
      const src = `
local n = 0
local wsc = websocket.create(nil, "ws://${HOST}/ws")
wsc:autoreconn(true, 1000)
wsc:on(function(c, ev, data)
  log.info("ev", ev, data)
  if ev == "conack" then n = n + 1 c:send("n" .. n) if n == 2 then log.info("DONE") end end
end)
log.info("connect", wsc:connect(), wsc:ready())
sys.taskInit(function()
  sys.wait(1200)
  log.info("still waiting", wsc:ready())
  wlan.init()
  wlan.connect("lab", "secret")
end)
sys.subscribe("IP_READY", function(ip) log.info("IP_READY") end)
sys.subscribe("IP_LOSE", function() log.info("IP_LOSE") end)
sys.run()
`;
      const r = await runLua(
        { 'main.lua': src },
        {
          engine,
          until: 'I/user.DONE',
          timeoutMs: 20000,
          profile: { network: { hosts: { [HOST]: `127.0.0.1:${srv.port}` } } },
          onDevice: (d) => {
            model = d.net as WifiNetwork;
            d.logSink.on((rec) => {
              if (rec.payload.toString('latin1').endsWith('ev recv n1')) echoed = true;
            });
          },
        },
      );
      dirs.push(r.dir, r.device.vfs.writablePath('/'));
      const t = trace(r);
      inOrder(t, [
        'I connect host wstest.luatos.com port 80',
        'connect true false',
        'still waiting false',
        'IP_READY',
        'I ready!!',
        'ev conack nil',
        'ev recv n1',
        'W websocket_callback param1 -1, closing socket',
        'I websocket closing socket',
        'I reconnect after 1000ms',
        'ev error connect',
        'ev disconnect nil',
        'I connect host wstest.luatos.com port 80',
        'IP_READY',
        'I ready!!',
        'ev conack nil',
        'DONE',
      ]);
      inOrder(t, ['ev recv n1', 'IP_LOSE', 'I connect host wstest.luatos.com port 80', 'IP_READY', 'I ready!!']);
      assert.ok(r.lines.some((l) => new RegExp(`net:adapter 2 connect 127\\.0\\.0\\.1:${srv.port} TCP$`).test(l)), r.lines.join('\n'));
      assert.deepEqual(
        srv.messages.map(([, d]) => d.toString()),
        ['n1', 'n2'],
      );
    } finally {
      clearInterval(watch);
      await srv.close();
    }
  });
}
