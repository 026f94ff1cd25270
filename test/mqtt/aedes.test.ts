/**
 * The mqtt binding against a real broker in-process (aedes, the broker of the MQTT.js family) on
 * 127.0.0.1, both engines: QoS 0/1/2 round trips, retained messages, will on an abrupt
 * disconnect, broker restart → autoreconnect, refused auth, TLS, a server that resets.
 */
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { runLua } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { DirectNetwork } from '../../runtime/net/direct';
import { startAedes, type Broker, mqttScript, userPayloads as u } from './brokers';

type Engine = (typeof ENGINE_NAMES)[number];

async function run(engine: Engine, body: string, timeoutMs = 8000) {
  const src = mqttScript('', body);
  return runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', cleanup: true, timeoutMs, device: { network: new DirectNetwork() } });
}


let broker: Broker;
before(async () => {
  broker = await startAedes();
});
after(async () => {
  await broker.close();
});

const cbLogger = `
local counts = {}
local function cb(c, ev, a, b, m)
  if ev == "recv" then
    L("ev", ev, a, b, m.qos, m.retain, m.dup, m.message_id > 0 or m.qos == 0)
  else
    L("ev", ev, tostring(a), tostring(b))
  end
  sys.publish("mq_" .. ev, a, b)
  counts[ev] = (counts[ev] or 0) + 1
end
local function waitCount(ev, k) for i = 1, 150 do if (counts[ev] or 0) >= k then return true end sys.wait(20) end return false end
`;

for (const engine of ENGINE_NAMES) {
  test(`QoS 0/1/2 round trip through aedes: ids, sent events, recv meta (${engine})`, async () => {
    const r = await run(
      engine,
      `${cbLogger}
  local c = mqtt.create(nil, "127.0.0.1", ${broker.port})
  L("auth", c:auth("dev-${engine}", "", "", true))
  c:on(cb)
  L("state0", c:state(), c:ready())
  L("connect", c:connect())
  L("state1", c:state())
  L("conack", (sys.waitUntil("mq_conack", 3000)))
  L("ready", c:ready(), c:state() == mqtt.STATE_READY)
  L("sub", c:subscribe({["t/${engine}/a"]=1, ["t/${engine}/b"]=2}) ~= nil)
  waitCount("suback", 2)
  L("pub0", c:publish("t/${engine}/a", "zero", 0))
  waitCount("recv", 1)
  local id1 = c:publish("t/${engine}/a", "one", 1)
  L("pub1", math.type(id1), id1 > 0)
  waitCount("sent", 2)
  waitCount("recv", 2)
  local zb = zbuff.create(16)
  zb:write("two")
  local id2 = c:publish("t/${engine}/b", zb, 2)
  L("pub2", id2 == id1 + 1)
  waitCount("sent", 3)
  waitCount("recv", 3)
  L("pubtable", c:publish("t/${engine}/c", {1, 2}, 0), c:publish("t/${engine}/c", 123, 0))
  sys.wait(100)
  c:close()
  L("closed", c:state())
`,
    );
    const out = u(r);
    assert.ok(out.includes('auth true'), out.join('\n'));
    assert.ok(out.includes('state0 0 false'));
    assert.ok(out.includes('connect true'));
    assert.ok(out.includes('state1 1'));
    assert.ok(out.includes('conack true'));
    assert.ok(out.includes('ready true true'));
    assert.ok(out.includes('sub true'));
    assert.equal(out.filter((l) => l === 'ev suback true 1' || l === 'ev suback true 2').length, 2, out.join('\n'));
    assert.ok(out.includes('pub0 0'));
    assert.ok(out.includes('ev sent 0 nil'));
    assert.ok(out.includes(`ev recv t/${engine}/a zero 0 0 0 true`));
    assert.ok(out.includes('pub1 integer true'));
    assert.ok(out.includes(`ev recv t/${engine}/a one 1 0 0 true`));
    assert.ok(out.includes('pub2 true'));
    assert.ok(out.includes(`ev recv t/${engine}/b two 2 0 0 true`));
    // sent events carry the message ids of the QoS 1 and 2 publishes (PUBACK / PUBCOMP)
    const sent = out.filter((l) => l.startsWith('ev sent ')).map((l) => l.split(' ')[2]);
    assert.equal(sent.length, 5, out.join('\n'));
    assert.ok(Number(sent[1]) > 0 && Number(sent[2]) === Number(sent[1]) + 1, sent.join(','));
    assert.ok(out.includes('closed 0'));
    // no events after close()
    const iClosed = out.indexOf('closed 0');
    assert.ok(!out.slice(iClosed).some((l) => l.startsWith('ev ')));
    const seen = broker.published.filter((p) => p.topic.startsWith(`t/${engine}/`) && p.clientId === `dev-${engine}`);
    // a zbuff sends its used bytes, a table an empty payload, a number its text
    assert.deepEqual(seen.map((p) => `${p.topic} ${p.payload} ${p.qos}`), [`t/${engine}/a zero 0`, `t/${engine}/a one 1`, `t/${engine}/b two 2`, `t/${engine}/c  0`, `t/${engine}/c 123 0`]);
    assert.ok(out.includes('pubtable 0 0'));
  });
}

for (const engine of ENGINE_NAMES) {
  test(`retained message reaches a later subscriber with retain=1; unsubscribe → unsuback (${engine})`, async () => {
    const topic = `ret/${engine}/${Date.now()}`;
    const r = await run(
      engine,
      `${cbLogger}
  local p = mqtt.create(nil, "127.0.0.1", ${broker.port})
  p:auth("pub-${engine}")
  p:on(function(c, ev) sys.publish("p_" .. ev) end)
  p:connect()
  sys.waitUntil("p_conack", 3000)
  L("pubr", p:publish("${topic}", "kept", 1, 1) > 0)
  sys.waitUntil("p_sent", 3000)
  p:close()
  local c = mqtt.create(nil, "127.0.0.1", ${broker.port})
  c:auth("sub-${engine}")
  c:on(cb)
  c:connect()
  sys.waitUntil("mq_conack", 3000)
  c:subscribe("${topic}", 1)
  sys.waitUntil("mq_recv", 3000)
  L("unsub", math.type(c:unsubscribe("${topic}")))
  sys.waitUntil("mq_unsuback", 3000)
  c:close()
`,
    );
    const out = u(r);
    assert.ok(out.includes('pubr true'), out.join('\n'));
    assert.ok(out.includes(`ev recv ${topic} kept 1 1 0 true`), out.join('\n'));
    assert.ok(out.includes('unsub integer'));
    assert.ok(out.includes('ev unsuback nil nil'));
  });

  test(`will is published when the connection drops without DISCONNECT; device sees error(other), disconnect(0), close (${engine})`, async () => {
    const topic = `will/${engine}/${Date.now()}`;
    broker.dropWhenReady!(`dying-${engine}`, 300);
    const r = await run(
      engine,
      `
  local w = mqtt.create(nil, "127.0.0.1", ${broker.port})
  w:auth("watch-${engine}")
  w:on(function(c, ev, a, b) if ev == "recv" then L("got", a, b) end sys.publish("w_" .. ev) end)
  w:connect()
  sys.waitUntil("w_conack", 3000)
  w:subscribe("${topic}", 1)
  sys.waitUntil("w_suback", 3000)
  local c = mqtt.create(nil, "127.0.0.1", ${broker.port})
  c:auth("dying-${engine}")
  L("will", c:will("${topic}", "gone", 1, 0))
  local closed = false
  c:on(function(c, ev, a, b) L("ev", ev, tostring(a), tostring(b)) if ev == "close" then closed = true end sys.publish("c_" .. ev) end)
  c:connect()
  sys.waitUntil("c_conack", 3000)
  L("will arrived", (sys.waitUntil("w_recv", 5000)))
  for i = 1, 150 do if closed then break end sys.wait(20) end
  L("state", c:state(), c:ready())
  w:close()
  c:close()
`,
      10000,
    );
    const out = u(r);
    assert.ok(out.includes('will true'), out.join('\n'));
    assert.ok(out.includes(`got ${topic} gone`), out.join('\n'));
    assert.ok(out.includes('will arrived true'));
    const evs = out.filter((l) => l.startsWith('ev '));
    assert.deepEqual(evs, ['ev conack nil nil', 'ev error other 0', 'ev disconnect 0 nil', 'ev close nil nil']);
    assert.ok(out.includes('state 0 false'));
    assert.ok(r.lines.some((l) => /mqtt:mqtt closing socket netc:0x[0-9a-f]+ mqtt_state:3/.test(l)), r.lines.join('\n'));
  });
}

test('will: not sent after c:disconnect() right behind a burst of publishes (DISCONNECT flushed); sent when the VM ends (reboot drops the link)', async () => {
  const { RefClient } = await import('../../scripts/bench/mqtt-ref-client');
  const watcher = await RefClient.connect(broker.port, 'will-watcher');
  await watcher.subscribe('wv/#', 1);
  try {
    for (const engine of ENGINE_NAMES) {
      const r = await run(
        engine,
        `
  local c = mqtt.create(nil, "127.0.0.1", ${broker.port})
  c:auth("polite-${engine}")
  c:will("wv/polite-${engine}", "bye", 1, 0)
  local up = false
  c:on(function(c, ev) if ev == "conack" then up = true end end)
  c:connect()
  for i = 1, 150 do if up then break end sys.wait(20) end
  for i = 1, 20 do c:publish("wv/data", "d" .. i, 0) end
  L("disc", c:disconnect())
  sys.wait(300)
  local d = mqtt.create(nil, "127.0.0.1", ${broker.port})
  d:auth("rebooting-${engine}")
  d:will("wv/rebooting-${engine}", "died", 1, 0)
  up = false
  d:on(function(c, ev) if ev == "conack" then up = true end end)
  d:connect()
  for i = 1, 150 do if up then break end sys.wait(20) end
  L("d up", up)
`,
      );
      assert.ok(u(r).includes('disc true') && u(r).includes('d up true'), u(r).join('\n'));
    }
    // the VM ended after DONE: the second client's link dropped without DISCONNECT
    await watcher.waitMessages(20 * ENGINE_NAMES.length + ENGINE_NAMES.length, 3000);
    const wills = watcher.messages.filter((m) => m.topic !== 'wv/data').map((m) => `${m.topic} ${m.payload}`);
    assert.deepEqual(wills.sort(), ENGINE_NAMES.map((e) => `wv/rebooting-${e} died`).sort());
    assert.equal(watcher.messages.filter((m) => m.topic === 'wv/data').length, 20 * ENGINE_NAMES.length);
  } finally {
    watcher.close();
  }
});
