/**
 * The mqtt binding against a real broker in-process (aedes, the broker of the MQTT.js family) on
 * 127.0.0.1, both engines: QoS 0/1/2 round trips, retained messages, will on an abrupt
 * disconnect, broker restart → autoreconnect, refused auth, TLS, a server that resets.
 */
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { runLua } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/engine';
import { DirectNetwork } from '../../runtime/net/direct';
import { startAedes, haveOpenssl, selfSigned, freePort, type Broker } from './brokers';

type Engine = (typeof ENGINE_NAMES)[number];

async function run(engine: Engine, body: string, timeoutMs = 8000) {
  const src = `
local function L(...) log.info(...) end
sys.taskInit(function()
${body}
  log.info("DONE")
end)
sys.run()
`;
  return runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', timeoutMs, device: { network: new DirectNetwork() } });
}

/** payloads after "I/user." */
const u = (r: { user: string[] }) => r.user.map((l) => l.replace(/^I\/user\./, ''));

let broker: Broker;
before(async () => {
  broker = await startAedes();
});
after(async () => {
  await broker.close();
});

const cbLogger = `
local events = {}
local function cb(c, ev, a, b, m)
  if ev == "recv" then
    L("ev", ev, a, b, m.qos, m.retain, m.dup, m.message_id > 0 or m.qos == 0)
  else
    L("ev", ev, tostring(a), tostring(b))
  end
  sys.publish("mq_" .. ev, a, b)
end
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
  sys.waitUntil("mq_suback", 3000)
  sys.waitUntil("mq_suback", 3000)
  L("pub0", c:publish("t/${engine}/a", "zero", 0))
  sys.waitUntil("mq_recv", 3000)
  local id1 = c:publish("t/${engine}/a", "one", 1)
  L("pub1", math.type(id1), id1 > 0)
  local _, sid = sys.waitUntil("mq_sent", 3000)
  sys.waitUntil("mq_recv", 3000)
  local id2 = c:publish("t/${engine}/b", zbuff.create(8, "two") and "two", 2)
  L("pub2", id2 == id1 + 1)
  sys.waitUntil("mq_sent", 3000)
  sys.waitUntil("mq_recv", 3000)
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
    assert.equal(sent.length, 3, out.join('\n'));
    assert.ok(Number(sent[1]) > 0 && Number(sent[2]) === Number(sent[1]) + 1, sent.join(','));
    assert.ok(out.includes('closed 0'));
    // no events after close()
    const iClosed = out.indexOf('closed 0');
    assert.ok(!out.slice(iClosed).some((l) => l.startsWith('ev ')));
    const seen = broker.published.filter((p) => p.topic.startsWith(`t/${engine}/`) && p.clientId === `dev-${engine}`);
    assert.deepEqual(seen.map((p) => `${p.topic} ${p.payload} ${p.qos}`), [`t/${engine}/a zero 0`, `t/${engine}/a one 1`, `t/${engine}/b two 2`]);
  });
}
