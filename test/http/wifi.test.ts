/**
 * http over the Wi-Fi device model (runtime/net/model.ts), both engines: join, IP_READY, POST
 * JSON to a mapped local server with the device's log lines exactly once each; a link drop
 * while a request is in flight fails it with −5, and a request while the link is down fails
 * with −4.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { runLua } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { createNetworkFromOptions } from '../../runtime/net/options';
import { makeProfile } from '../../runtime/core/profile';
import { response, startRawServer } from './servers';

function wifi(port: number) {
  const profile = makeProfile({ network: { ip: '192.168.31.234', dns: ['223.5.5.5'], timing: { assocMs: 100, dhcpMs: 50 } } });
  return createNetworkFromOptions(profile, { wifi: ['lab:secret'], map: [`video.luatos.com:10030=127.0.0.1:${port}`] });
}

for (const engine of ENGINE_NAMES) {
  test(`join Wi-Fi, wait for IP_READY, POST JSON to a mapped server; link loss fails requests (${engine})`, async () => {
    const srv = await startRawServer((req, sock) => {
      if (req.lines[0].includes('/hang')) return; // never answers
      sock.end(response('200 OK', { 'Content-Type': 'application/json' }, '{"code":200}'));
    });
    const netw = wifi(srv.port);
    try {
      const src = `
sys.taskInit(function()
  wlan.init()
  wlan.connect("lab", "secret")
  local ok = sys.waitUntil("IP_READY", 5000)
  log.info("ready", ok)
  local code, headers, body = http.request("POST", "http://video.luatos.com:10030/api-system/x", {["Accept-Encoding"]="identity", ["Host"]="video.luatos.com:10030", ["Content-Type"]="application/json"}, json.encode({id="C8"})).wait()
  log.info("post", code, body)
  log.info("inflight", http.request("GET", "http://video.luatos.com:10030/hang", nil, nil, {timeout=5000}).wait())
  sys.waitUntil("IP_LOSE", 100)
  log.info("down", http.request("GET", "http://video.luatos.com:10030/x").wait())
  log.info("DONE")
end)
sys.run()
`;
      let n = 0;
      const poll = setInterval(() => {
        if (srv.requests.length >= 2 && n++ === 0) netw.linkDown();
      }, 10);
      const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', timeoutMs: 10000, device: { network: netw } });
      clearInterval(poll);
      assert.ok(r.user.includes('I/user.ready true'), r.lines.join('\n'));
      assert.ok(r.user.includes('I/user.post 200 {"code":200}'), r.lines.join('\n'));
      assert.ok(r.user.includes('I/user.inflight -5'), r.lines.join('\n'));
      assert.ok(r.user.includes('I/user.down -4'), r.lines.join('\n'));
      const count = (re: RegExp) => r.lines.filter((l) => re.test(l)).length;
      // the first request: each network line once (the model logs them, the binding does not)
      assert.equal(count(/DNS:video\.luatos\.com state 0 id 1 ipv6 0 use dns server0, try 0$/), 1, r.lines.join('\n'));
      assert.equal(count(/net:dns udp sendto 223\.5\.5\.5:53 from 192\.168\.31\.234$/), 2);
      assert.equal(count(new RegExp(`net:adapter 2 connect 127\\.0\\.0\\.1:${srv.port} TCP$`)), 2);
      assert.equal(count(/http:http idp:\d+$/), 3);
      assert.equal(count(/http:http close 0x[0-9a-f]{8}$/), 3);
    } finally {
      await srv.close();
    }
  });
}
