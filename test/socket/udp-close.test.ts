/**
 * A UDP `socket.tx` followed at once by `socket.close` still sends the datagram, as a device's
 * sendto does (Node's dgram drops a send still queued when its socket closes).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { WifiNetwork } from '../../runtime/net/model';
import { parseMapRule } from '../../runtime/net/direct';
import { ENGINES, FAST, REF_NET } from '../net/net-helpers';
import { runSock } from './helpers';

for (const engine of ENGINES) {
  test(`UDP: tx then close at once still sends every datagram (${engine})`, async () => {
    const got: string[] = [];
    const u = dgram.createSocket('udp4');
    u.on('message', (msg) => got.push(msg.toString()));
    u.bind(0, '127.0.0.1');
    await once(u, 'listening');
    const port = u.address().port;
    try {
      const src = `
        sys.taskInit(function()
          wlan.connect("lab", "pw")
          sys.waitUntil("IP_READY", 5000)
          local netc = socket.create(nil, function(c, ev, p) if ev == socket.ON_LINE then sys.publish("ONLINE") end end)
          socket.config(netc, 0, true)
          socket.connect(netc, "udp.test", ${port})
          sys.waitUntil("ONLINE", 3000)
          log.info("tx", socket.tx(netc, "one"), socket.tx(netc, "two"))
          socket.close(netc)
          socket.release(netc)
          sys.wait(300)
          log.info("DONE")
        end)
        sys.run()
      `;
      const model = new WifiNetwork({ ...REF_NET, timing: FAST, rules: [parseMapRule(`udp.test=127.0.0.1:${port}`)], listen: { '*': 0 } });
      const r = await runSock({ 'main.lua': src }, model, { engine, until: 'I/user.DONE', timeoutMs: 8000 });
      assert.ok(r.user.some((l) => l.startsWith('I/user.tx true')), r.user.join('\n'));
      assert.deepEqual(got.sort(), ['one', 'two']);
    } finally {
      u.close();
    }
  });
}
