/**
 * mqtt autoreconnect after a broker restart (aedes in-process, same port) and after
 * c:disconnect(), and TLS (aedes behind tls.createServer with an openssl self-signed
 * certificate: verify 0, verify 2 with the right CA, verify 2 with a wrong CA). Both engines.
 */
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { runLua } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { DirectNetwork } from '../../runtime/net/direct';
import { startAedes, haveOpenssl, selfSigned, type Broker, mqttScript, userPayloads as u } from './brokers';

type Engine = (typeof ENGINE_NAMES)[number];

async function run(engine: Engine, body: string, timeoutMs = 12000) {
  const src = mqttScript(
    `local n = {}
local function cb(c, ev, a, b)
  L("ev", ev, tostring(a), tostring(b))
  n[ev] = (n[ev] or 0) + 1
  sys.publish("mq_" .. ev, a, b)
end
local function waitCount(ev, k, ms) for i = 1, (ms or 8000) // 20 do if (n[ev] or 0) >= k then return true end sys.wait(20) end return false end
`,
    body,
  );
  return runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', cleanup: true, timeoutMs, device: { network: new DirectNetwork() } });
}
const evs = (r: { user: string[] }) => u(r).filter((l) => l.startsWith('ev '));

let broker: Broker;
before(async () => {
  broker = await startAedes();
});
after(async () => {
  await broker.close();
});

for (const engine of ENGINE_NAMES) {
  test(`broker restart → one reconnect after autoreconn ms, conack again, no close event (${engine})`, async () => {
    let first = true;
    broker.onClientReady!((id) => {
      if (id !== `rc-${engine}` || !first) return;
      first = false;
      setTimeout(async () => {
        await broker.stop();
        setTimeout(() => void broker.start(), 300);
      }, 200);
    });
    const r = await run(
      engine,
      `
  local c = mqtt.create(nil, "127.0.0.1", ${broker.port})
  c:auth("rc-${engine}")
  c:autoreconn(true, 1500)
  c:on(cb)
  c:connect()
  L("up1", waitCount("conack", 1))
  L("down", waitCount("disconnect", 1))
  L("state", c:state())
  L("up2", waitCount("conack", 2))
  L("ready", c:ready())
  L("sub", c:subscribe("again/${engine}", 1) > 0)
  L("suback", waitCount("suback", 1))
  c:close()
`,
    );
    const out = u(r);
    assert.ok(out.includes('up1 true') && out.includes('down true') && out.includes('up2 true') && out.includes('ready true'), out.join('\n'));
    assert.deepEqual(evs(r).slice(0, 4), ['ev conack nil nil', 'ev error other 0', 'ev disconnect 0 nil', 'ev conack nil nil'], out.join('\n'));
    assert.ok(!evs(r).includes('ev close nil nil'));
    // the reconnect waited the configured delay (device time)
    const recs = r.records.filter((x) => x.kind === 'U' && x.payload.toString().includes('.ev '));
    const tDown = recs.find((x) => x.payload.toString().includes('ev disconnect'))!.ms;
    const tUp = recs.filter((x) => x.payload.toString().includes('ev conack'))[1].ms;
    assert.ok(tUp - tDown >= 1490, `${tDown} → ${tUp}`);
    assert.ok(r.lines.some((l) => l.includes('mqtt:mqtt reconnect')));
  });

  test(`c:disconnect() with autoreconn on: DISCONNECT sent, disconnect(0), then it reconnects (${engine})`, async () => {
    const r = await run(
      engine,
      `
  local c = mqtt.create(nil, "127.0.0.1", ${broker.port})
  c:auth("dc-${engine}")
  c:autoreconn(true, 200)
  c:on(cb)
  c:connect()
  waitCount("conack", 1)
  L("disc", c:disconnect())
  L("again", waitCount("conack", 2))
  c:autoreconn(false)
  c:disconnect()
  L("closed", waitCount("close", 1))
  c:close()
`,
    );
    const out = u(r);
    assert.ok(out.includes('disc true') && out.includes('again true') && out.includes('closed true'), out.join('\n'));
    assert.deepEqual(evs(r), ['ev conack nil nil', 'ev disconnect 0 nil', 'ev conack nil nil', 'ev disconnect 0 nil', 'ev close nil nil']);
  });
}

const tlsSkip = haveOpenssl() ? false : 'openssl is not installed (needed to make the test certificate)';
test('TLS: ssl=true (verify 0), verify 2 with the right server_cert, verify 2 with a wrong one → error connect', { skip: tlsSkip }, async () => {
  const good = selfSigned();
  const other = selfSigned();
  const tb = await startAedes({ tls: good });
  try {
    for (const engine of ENGINE_NAMES) {
      const r = await run(
        engine,
        `
  local CA = [[${good.cert}]]
  local BAD = [[${other.cert}]]
  for i, ssl in ipairs({true, {server_cert = CA}, {server_cert = BAD}}) do
    n = {}
    local c = mqtt.create(nil, "127.0.0.1", ${tb.port}, ssl)
    c:auth("tls-" .. i)
    c:on(cb)
    c:connect()
    for k = 1, 200 do if n.conack or n.close then break end sys.wait(20) end
    if n.conack then
      L("pub", c:publish("tls/t", "secret", 1) > 0)
      waitCount("sent", 1)
    end
    L("case", i, c:ready())
    c:close()
  end
`,
      );
      const out = u(r);
      assert.ok(out.includes('case 1 true') && out.includes('case 2 true') && out.includes('case 3 false'), out.join('\n'));
      const e = evs(r);
      assert.deepEqual(e.slice(-3), ['ev error connect 0', 'ev disconnect 0 nil', 'ev close nil nil'], out.join('\n'));
      assert.equal(tb.published.filter((p) => p.topic === 'tls/t' && p.payload === 'secret').length, 2 * (ENGINE_NAMES.indexOf(engine) + 1));
    }
  } finally {
    await tb.close();
  }
});
