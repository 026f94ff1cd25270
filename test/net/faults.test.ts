import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { once } from 'node:events';
import { WifiNetwork } from '../../runtime/net/model';
import { parseMapRule } from '../../runtime/net/direct';
import { FAST, REF_NET, runNet } from './net-helpers';

test('faults through the registry: wifi down/up and dns fail reach the script as on a device', async () => {
  const srv = http.createServer((_q, r) => r.end('ok'));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  const model = new WifiNetwork({ ...REF_NET, timing: FAST, rules: [parseMapRule(`api.test:80=127.0.0.1:${port}`)] });
  const src = `
    sys.subscribe("IP_LOSE", function(a) log.info("lose", a) end)
    sys.taskInit(function()
      sys.waitUntil("IP_READY", 3000)
      log.info("first", http.request("GET", "http://api.test/").wait())
      sys.waitUntil("DNS_BROKEN", 3000)
      log.info("dns", http.request("GET", "http://api.test/").wait())
      sys.waitUntil("WIFI_DOWN", 3000)
      sys.waitUntil("IP_READY", 3000)
      log.info("back", wlan.ready())
      log.info("DONE")
    end)
    wlan.connect("lab", "pw")
    sys.run()`;
  const r = await runNet({ 'main.lua': src }, model, {
    until: 'I/user.DONE',
    timeoutMs: 8000,
    onDevice: (d) => {
      let step = 0;
      d.logSink.on((_rec, text) => {
        if (step === 0 && text.includes('I/user.first')) {
          step = 1;
          void d.faults.run('dns', ['fail', 'api.test']).then(() => d.vm?.publish('DNS_BROKEN'));
        } else if (step === 1 && text.includes('I/user.dns')) {
          step = 2;
          void d.faults.run('wifi', ['down']).then(() => {
            d.vm?.publish('WIFI_DOWN');
            setTimeout(() => void d.faults.run('wifi', ['up']), 200);
          });
        }
      });
    },
  });
  srv.close();
  assert.ok(r.user.some((u) => u.startsWith('I/user.first 200')), r.user.join('\n'));
  assert.ok(r.user.includes('I/user.dns -4'), r.user.join('\n'));
  assert.ok(r.user.includes('I/user.lose 2'), r.user.join('\n'));
  assert.ok(r.user.includes('I/user.back true'), r.user.join('\n'));
  assert.ok(r.lines.some((l) => l.includes('DNS:api.test dns fail')));
  await assert.rejects(() => r.device.faults.run('wifi', ['sideways']), /wifi: expected/);
});
