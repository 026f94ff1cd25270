/**
 * The mqtt binding against mosquitto (a C broker, independent of our codec and of aedes), started
 * by the test with its own config on a free 127.0.0.1 port; skipped with the reason when the
 * binary is missing (CI installs it with apt). QoS 1 and 2 round trips, retained message, will
 * on an abrupt disconnect (the device's link drops), broker restart → autoreconnect.
 */
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { runLua } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { DirectNetwork } from '../../runtime/net/direct';
import { mosquittoSkip, startMosquitto, type Broker, mqttScript, userPayloads as u } from './brokers';
import { RefClient } from '../../scripts/bench/mqtt-ref-client';

type Engine = (typeof ENGINE_NAMES)[number];

/** `hooks`: run when a Lua output line contains the key (fault injection from the test side) */
async function run(engine: Engine, body: string, hooks: Record<string, (net: DirectNetwork) => void> = {}, timeoutMs = 15000) {
  const src = mqttScript(
    `local n = {}
local function counter(tag)
  return function(c, ev, a, b, m)
    if ev == "recv" then L(tag, ev, a, b, m.qos, m.retain) else L(tag, ev, tostring(a), tostring(b)) end
    n[tag .. ev] = (n[tag .. ev] or 0) + 1
  end
end
local function waitCount(key, k, ms) for i = 1, (ms or 8000) // 20 do if (n[key] or 0) >= k then return true end sys.wait(20) end return false end
`,
    body,
  );
  const network = new DirectNetwork();
  return runLua(
    { 'main.lua': src },
    {
      engine,
      until: 'I/user.DONE', cleanup: true,
      timeoutMs,
      device: { network },
      onDevice: (d) => {
        d.logSink.on((rec) => {
          if (rec.kind !== 'U') return;
          const text = rec.payload.toString();
          for (const [k, fn] of Object.entries(hooks)) if (text.includes(k)) fn(network);
        });
      },
    },
  );
}

let broker: Broker;
before(async () => {
  if (mosquittoSkip) {
    console.log(`# skipping mosquitto tests: ${mosquittoSkip}`);
    return;
  }
  broker = await startMosquitto();
});
after(async () => {
  await broker?.close();
});

for (const engine of ENGINE_NAMES) {
  test(`mosquitto: QoS 1 and 2 round trips, retained message to a later subscriber (${engine})`, { skip: mosquittoSkip }, async () => {
    const t = `m/${engine}/${Date.now()}`;
    const r = await run(
      engine,
      `
  local c = mqtt.create(nil, "127.0.0.1", ${broker?.port ?? 0})
  c:auth("mq-${engine}")
  c:on(counter("a"))
  c:connect()
  L("up", waitCount("aconack", 1))
  c:subscribe({["${t}/q"] = 2})
  waitCount("asuback", 1)
  local i1 = c:publish("${t}/q", "one", 1)
  local i2 = c:publish("${t}/q", "two", 2)
  L("ids", i2 == i1 + 1)
  L("sent", waitCount("asent", 2), waitCount("arecv", 2))
  c:publish("${t}/r", "kept", 1, 1)
  waitCount("asent", 3)
  local d = mqtt.create(nil, "127.0.0.1", ${broker?.port ?? 0})
  d:auth("mq2-${engine}")
  d:on(counter("b"))
  d:connect()
  waitCount("bconack", 1)
  d:subscribe("${t}/r", 1)
  L("retained", waitCount("brecv", 1))
  d:publish("${t}/r", "", 1, 1)
  waitCount("bsent", 1)
  c:close()
  d:close()
`,
    );
    const out = u(r);
    assert.ok(out.includes('up true') && out.includes('ids true') && out.includes('sent true true') && out.includes('retained true'), out.join('\n'));
    assert.ok(out.includes(`a recv ${t}/q one 1 0`), out.join('\n'));
    assert.ok(out.includes(`a recv ${t}/q two 2 0`), out.join('\n'));
    assert.ok(out.includes(`b recv ${t}/r kept 1 1`), out.join('\n'));
    assert.equal(out.filter((l) => l.startsWith('a sent ')).length, 3);
    assert.ok(out.includes('a suback true 2'));
  });

  test(`mosquitto: will on abrupt disconnect (device link loss), restart → autoreconnect (${engine})`, { skip: mosquittoSkip }, async () => {
    const t = `w/${engine}/${Date.now()}`;
    // an independent subscriber (plain Node client, not on the device) watches for the will
    const watcher = await RefClient.connect(broker.port, `watch-${engine}`);
    await watcher.subscribe(t, 1);
    try {
      const r = await run(
        engine,
        `
  local c = mqtt.create(nil, "127.0.0.1", ${broker?.port ?? 0})
  c:auth("dying-${engine}")
  L("will", c:will("${t}", "lost", 1, 0))
  c:autoreconn(true, 1000)
  c:on(counter("c"))
  c:connect()
  waitCount("cconack", 1)
  L("FAULT_LINK")
  L("c down", waitCount("cdisconnect", 1))
  L("c back", waitCount("cconack", 2))
  L("FAULT_RESTART")
  L("c down again", waitCount("cdisconnect", 2))
  L("c back again", waitCount("cconack", 3, 10000))
  c:close()
`,
        {
          // the device's link drops: its sockets die without DISCONNECT
          FAULT_LINK: (n) => n.closeAll(),
          FAULT_RESTART: () => void broker.stop().then(() => setTimeout(() => void broker.start(), 200)),
        },
        25000,
      );
      const out = u(r);
      for (const m of ['will true', 'c down true', 'c back true', 'c down again true', 'c back again true']) assert.ok(out.includes(m), `${m}\n${out.join('\n')}`);
      const cev = out.filter((l) => /^c [a-z]+ /.test(l) && !/^c (down|back)/.test(l));
      assert.deepEqual(cev, ['c conack nil nil', 'c error other 0', 'c disconnect 0 nil', 'c conack nil nil', 'c error other 0', 'c disconnect 0 nil', 'c conack nil nil'], out.join('\n'));
      // the will arrived at the independent subscriber once (the link loss), not for the restart
      // (the broker itself went away) nor for close() (DISCONNECT sent)
      await watcher.waitMessages(1, 3000);
      assert.deepEqual(watcher.messages.filter((m) => m.topic === t).map((m) => `${m.payload} ${m.qos}`), ['lost 1']);
    } finally {
      watcher.close();
    }
  });
}
