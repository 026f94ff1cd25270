/**
 * mqtt over the device's Wi-Fi model (runtime/net/model.ts): the broker's host is mapped by the
 * profile, the access point is switched off and on with the device's fault registry (`wifi
 * down|up`): the open session dies with the link (error other, disconnect 0), reconnect
 * attempts fail while the adapter has no IP (error connect, disconnect), and the client is back
 * once the link is. Also: `c:on(non-function)` clears the callback; `c:debug(true)` logs packets.
 */
import { test, after, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { runLua } from '../helpers/run-lua';
import { startAedes, type Broker } from './brokers';
import { DirectNetwork } from '../../runtime/net/direct';

let broker: Broker;
before(async () => {
  broker = await startAedes();
});
after(async () => {
  await broker.close();
});

test('Wi-Fi down → session lost, reconnects fail while down, back after Wi-Fi up (wasmoon)', async () => {
  const src = `
local n = {}
sys.taskInit(function()
  wlan.init()
  wlan.connect("lab", "secret")
  sys.waitUntil("IP_READY", 10000)
  log.info("unregistered adapter", select("#", mqtt.create(socket.LWIP_ETH, "broker.example", 1883)), select("#", mqtt.create(socket.LWIP_STA, "broker.example", 1883)))
  local c = mqtt.create(nil, "broker.example", 1883)
  c:auth("linky")
  c:autoreconn(true, 1000)
  c:on(function(c, ev, a, b) log.info("ev", ev, tostring(a), tostring(b)) n[ev] = (n[ev] or 0) + 1 end)
  c:connect()
  local function waitN(ev, k) for i = 1, 500 do if (n[ev] or 0) >= k then return true end sys.wait(20) end return false end
  waitN("conack", 1)
  log.info("FAULT_DOWN")
  waitN("disconnect", 3)
  log.info("while down", c:state(), c:ready())
  log.info("FAULT_UP")
  log.info("back", waitN("conack", 2), c:ready())
  c:close()
  log.info("DONE")
end)
sys.run()
`;
  const r = await runLua(
    { 'main.lua': src },
    {
      engine: 'wasmoon',
      until: 'I/user.DONE', cleanup: true,
      timeoutMs: 25000,
      profile: { network: { hosts: { 'broker.example:1883': `127.0.0.1:${broker.port}` } } },
      onDevice: (d) => {
        d.logSink.on((rec) => {
          if (rec.kind !== 'U') return;
          const t = rec.payload.toString();
          if (t.includes('FAULT_DOWN')) void d.faults.run('wifi', ['down']);
          if (t.includes('FAULT_UP')) void d.faults.run('wifi', ['up']);
        });
      },
    },
  );
  const out = r.user.map((l) => l.replace(/^I\/user\./, ''));
  assert.ok(out.includes('back true true'), out.join('\n'));
  assert.ok(out.includes('unregistered adapter 0 1'), out.join('\n'));
  assert.ok(out.includes('while down 0 false'), out.join('\n'));
  const evs = out.filter((l) => l.startsWith('ev '));
  assert.deepEqual(evs.slice(0, 7), ['ev conack nil nil', 'ev error other 0', 'ev disconnect 0 nil', 'ev error connect 0', 'ev disconnect 0 nil', 'ev error connect 0', 'ev disconnect 0 nil'], out.join('\n'));
  assert.equal(evs[evs.length - 1], 'ev conack nil nil');
  assert.ok(!evs.includes('ev close nil nil'));
  assert.ok(r.lines.some((l) => /mqtt:network: adapter 2 is not ready/.test(l)), r.lines.join('\n'));
});

test('c:on(non-function) clears the callback; c:debug(true) logs the packets it handles (fengari)', async () => {
  const src = `
sys.taskInit(function()
  local c = mqtt.create(nil, "127.0.0.1", ${broker.port})
  c:auth("dbg")
  local up = false
  c:on(function(c, ev) log.info("ev", ev) if ev == "conack" then up = true end end)
  c:debug(true)
  c:connect()
  for i = 1, 150 do if up then break end sys.wait(20) end
  c:on(42)
  c:publish("dbg/t", "x", 1)
  sys.wait(300)
  c:debug(false)
  c:publish("dbg/t", "y", 1)
  sys.wait(300)
  c:close()
  log.info("DONE")
end)
sys.run()
`;
  const r = await runLua({ 'main.lua': src }, { engine: 'fengari', until: 'I/user.DONE', cleanup: true, timeoutMs: 8000, device: { network: new DirectNetwork() } });
  const out = r.user.join('\n');
  assert.equal(r.user.filter((l) => l.startsWith('I/user.ev ')).length, 1, out);
  assert.ok(r.lines.some((l) => l.includes('mqtt:MQTT_MSG_CONNACK')), r.lines.join('\n'));
  assert.equal(r.lines.filter((l) => l.includes('mqtt:MQTT_MSG_PUBACK')).length, 1, r.lines.join('\n'));
});
