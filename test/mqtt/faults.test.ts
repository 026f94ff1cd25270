/**
 * mqtt failures, both engines, against servers on 127.0.0.1 that misbehave on purpose (raw TCP
 * servers speaking MQTT bytes made with mqtt-packet) and aedes with auth: the firmware's event
 * order, error codes, return values and log lines; never a Node stack trace.
 */
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import * as mqttPacket from 'mqtt-packet';
import { runLua } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { DirectNetwork } from '../../runtime/net/direct';
import { startAedes, freePort, type Broker, mqttScript, userPayloads as u } from './brokers';

type Engine = (typeof ENGINE_NAMES)[number];

async function run(engine: Engine, body: string, timeoutMs = 10000, profile?: Record<string, unknown>) {
  const src = mqttScript(
    `local done = false
local function cb(c, ev, a, b)
  L("ev", ev, tostring(a), tostring(b))
  if ev == "close" then done = true end
  sys.publish("mq_" .. ev, a, b)
end
local function waitDone(ms) for i = 1, (ms or 8000) // 20 do if done then return true end sys.wait(20) end return false end
`,
    body,
  );
  return runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', cleanup: true, timeoutMs, device: { network: new DirectNetwork() }, profile });
}
const evs = (r: { user: string[] }) => u(r).filter((l) => l.startsWith('ev '));
const noStack = (r: { lines: string[] }) => assert.ok(!r.lines.some((l) => /\n\s+at .*\.js:\d+|TypeError|ReferenceError/.test(l)), r.lines.join('\n'));

/** A raw MQTT "server": `onPacket(packet, sock)` for every packet the device sends. */
async function rawServer(onPacket: (p: mqttPacket.Packet, s: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  const got: mqttPacket.Packet[] = [];
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p: mqttPacket.Packet) => {
      got.push(p);
      onPacket(p, s);
    });
    parser.on('error', () => s.destroy());
    s.on('data', (d) => parser.parse(d));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as net.AddressInfo).port,
    got,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}
const gen = (p: object) => mqttPacket.generate(p as mqttPacket.Packet);
const CONNACK_OK = gen({ cmd: 'connack', returnCode: 0, sessionPresent: false });

const connectAndWait = (port: number, opts = '') => `
  local c = mqtt.create(nil, "127.0.0.1", ${port}, nil${opts ? ', ' + opts : ''})
  c:auth("dev")
  c:on(cb)
  L("connect", c:connect())
  L("waited", waitDone())
  L("state", c:state(), c:ready())
  c:close()
`;

let authBroker: Broker;
before(async () => {
  authBroker = await startAedes({ auth: { user: 'luat', pass: 'right' } });
});
after(async () => {
  await authBroker.close();
});

for (const engine of ENGINE_NAMES) {
  test(`a broker that refuses auth: disconnect(4), close, then error("conack", 4); W CONACK 0x04 (${engine})`, async () => {
    const r = await run(
      engine,
      `
  local c = mqtt.create(nil, "127.0.0.1", ${authBroker.port})
  c:auth("dev", "luat", "wrong")
  c:on(cb)
  c:connect()
  waitDone()
  sys.wait(50)
  L("state", c:state())
  local ok = mqtt.create(nil, "127.0.0.1", ${authBroker.port})
  ok:auth("dev2", "luat", "right")
  ok:on(function(c, ev) L("ok", ev) sys.publish("ok_" .. ev) end)
  ok:connect()
  L("good", (sys.waitUntil("ok_conack", 3000)))
  ok:close()
`,
    );
    assert.deepEqual(evs(r), ['ev disconnect 4 nil', 'ev close nil nil', 'ev error conack 4'], u(r).join('\n'));
    assert.ok(u(r).includes('state 0'));
    assert.ok(u(r).includes('good true'));
    assert.ok(r.lines.some((l) => l.includes('mqtt:CONACK 0x04')));
    noStack(r);
  });

  test(`connection refused: error("connect", 0), disconnect(0), close; E line (${engine})`, async () => {
    const port = await freePort();
    const r = await run(engine, connectAndWait(port));
    assert.deepEqual(evs(r), ['ev error connect 0', 'ev disconnect 0 nil', 'ev close nil nil'], u(r).join('\n'));
    assert.ok(u(r).includes('connect true'));
    assert.ok(u(r).includes('state 0 false'));
    assert.ok(r.lines.some((l) => l.includes('mqtt:mqtt_callback param1 -1, closing socket')));
    noStack(r);
  });

  test(`a server that resets on CONNECT: error("connect", 0), disconnect(0), close (${engine})`, async () => {
    const srv = await rawServer((p, s) => {
      if (p.cmd === 'connect') s.resetAndDestroy();
    });
    try {
      const r = await run(engine, connectAndWait(srv.port));
      assert.deepEqual(evs(r), ['ev error connect 0', 'ev disconnect 0 nil', 'ev close nil nil'], u(r).join('\n'));
      assert.equal(srv.got[0]?.cmd, 'connect');
      noStack(r);
    } finally {
      await srv.close();
    }
  });

  test(`server DISCONNECT after CONNACK: error("other", 0), disconnect(-2), close (${engine})`, async () => {
    const srv = await rawServer((p, s) => {
      if (p.cmd === 'connect') s.end(Buffer.concat([CONNACK_OK, gen({ cmd: 'disconnect' })]));
    });
    try {
      const r = await run(engine, connectAndWait(srv.port));
      assert.deepEqual(evs(r), ['ev conack nil nil', 'ev error other 0', 'ev disconnect -2 nil', 'ev close nil nil'], u(r).join('\n'));
    } finally {
      await srv.close();
    }
  });

  test(`protocol errors: 96 packet before CONNACK, 95 second CONNACK, 98 QoS 3, 100 malformed (${engine})`, async () => {
    const replies: Buffer[] = [
      gen({ cmd: 'pingresp' }),
      Buffer.concat([CONNACK_OK, CONNACK_OK]),
      Buffer.concat([CONNACK_OK, Buffer.from([0x36, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01])]),
      Buffer.concat([CONNACK_OK, Buffer.from([0x90, 0x00])]),
    ];
    let i = 0;
    const srv = await rawServer((p, s) => {
      if (p.cmd === 'connect') s.write(replies[i++]);
    });
    try {
      const codes: string[] = [];
      for (let k = 0; k < replies.length; k++) {
        const r = await run(engine, connectAndWait(srv.port));
        const e = evs(r).filter((l) => l.startsWith('ev error') || l.startsWith('ev disconnect') || l.startsWith('ev close'));
        assert.equal(e.length, 3, u(r).join('\n'));
        assert.equal(e[1], 'ev disconnect 0 nil');
        assert.equal(e[2], 'ev close nil nil');
        codes.push(e[0]);
        noStack(r);
      }
      assert.deepEqual(codes, ['ev error connect 96', 'ev error connect 95', 'ev error connect 98', 'ev error connect 100']);
    } finally {
      await srv.close();
    }
  });

  test(`receive buffer bounded (Air8101: 4 KiB+4): a larger PUBLISH closes without error; rxSize 8192 takes it (${engine})`, async () => {
    const big = gen({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(5000, 0x41), qos: 0, retain: false, dup: false });
    const srv = await rawServer((p, s) => {
      if (p.cmd === 'connect') s.write(CONNACK_OK);
      if (p.cmd === 'subscribe') {
        s.write(gen({ cmd: 'suback', messageId: p.messageId, granted: [0] }));
        s.write(big);
      }
    });
    const body = (opts: string) => `
  local c = mqtt.create(nil, "127.0.0.1", ${srv.port}, nil${opts})
  c:auth("dev")
  c:on(function(c, ev, a, b)
    if ev == "recv" then L("ev", ev, a, #b) else L("ev", ev, tostring(a), tostring(b)) end
    if ev == "close" then done = true end
    sys.publish("mq_" .. ev)
  end)
  c:connect()
  sys.waitUntil("mq_conack", 3000)
  c:subscribe("big")
  sys.waitUntil("mq_recv", 1500)
  waitDone(500)
  c:close()
`;
    try {
      const small = await run(engine, body(''));
      assert.deepEqual(evs(small), ['ev conack nil nil', 'ev suback true 0', 'ev disconnect 0 nil', 'ev close nil nil'], u(small).join('\n'));
      assert.ok(small.lines.some((l) => /mqtt:too many data wait for recv \d+/.test(l)), small.lines.join('\n'));
      const large = await run(engine, body(', {rxSize = 8192}'));
      assert.deepEqual(evs(large), ['ev conack nil nil', 'ev suback true 0', 'ev recv big 5000'], u(large).join('\n'));
    } finally {
      await srv.close();
    }
  });

  test(`bad input: unknown adapter → nothing + log; wrong types → Lua argument errors; calls before connect → nothing (${engine})`, async () => {
    const r = await run(
      engine,
      `
  L("adapter99", select("#", mqtt.create(99, "127.0.0.1", 1883)))
  L("adapter-1", select("#", mqtt.create(-1, "127.0.0.1", 1883)))
  L("longhost", select("#", mqtt.create(nil, string.rep("a", 192), 1883)))
  L("host191", select("#", mqtt.create(nil, string.rep("a", 191), 1883)))
  L("nohost", pcall(mqtt.create, nil, nil, 1883))
  L("badport", pcall(mqtt.create, nil, "127.0.0.1", "x"))
  L("badadapter", pcall(mqtt.create, "eth", "127.0.0.1", 1883))
  local c = mqtt.create(nil, "127.0.0.1", 1)
  L("type", type(c), tostring(c):match("^mqtt_ctrl%*") ~= nil)
  L("longid", select("#", c:auth(string.rep("i", 192))))
  L("longpass", select("#", c:auth("a", "b", string.rep("p", 512))))
  L("pass511", c:auth("a", "b", string.rep("p", 511)))
  L("pub", select("#", c:publish("t", "x", 1)))
  L("sub", select("#", c:subscribe("t")))
  L("unsub", select("#", c:unsubscribe("t")))
  L("pubnil", pcall(c.publish, c, nil, "x"))
  L("notclient", pcall(c.publish, {}, "t", "x"))
  L("will", c:will("w", "x", 7, 0), c:will("", "x"))
  L("ka", select("#", c:keepalive(5)), select("#", c:debug(true)), select("#", c:autoreconn(true, 10)))
  L("disc", c:disconnect())
  L("badca", select("#", mqtt.create(nil, "127.0.0.1", 8883, {server_cert = "not a pem"})))
  L("badclient", select("#", mqtt.create(nil, "127.0.0.1", 8883, {client_cert = "junk", client_key = "junk"})))
  L("consts", mqtt.STATE_DISCONNECT, mqtt.STATE_SCONNECT, mqtt.STATE_MQTT, mqtt.STATE_READY, mqtt.VERIFY_NONE, mqtt.VERIFY_OPTION, mqtt.VERIFY_REQUIRED)
  c:close()
  L("afterclose", c:state(), c:ready(), c:connect(), select("#", c:publish("t", "x")))
`,
    );
    const out = u(r);
    const has = (s: string | RegExp) => assert.ok(out.some((l) => (typeof s === 'string' ? l === s : s.test(l))), `${s}\n${out.join('\n')}`);
    has('adapter99 0');
    has('adapter-1 0');
    has('longhost 0');
    has('host191 1');
    has(/^nohost false .*bad argument #2 to 'create' \(string expected, got nil\)$/);
    has(/^badport false .*bad argument #3 to 'create' \(number expected, got string\)$/);
    has(/^badadapter false .*bad argument #1 to 'create' \(number expected, got string\)$/);
    has('type userdata true');
    has('longid 0');
    has('longpass 0');
    has('pass511 true');
    has('pub 0');
    has('sub 0');
    has('unsub 0');
    has(/^pubnil false .*bad argument #2 to 'publish' \(string expected, got nil\)$/);
    has(/^notclient false .*bad argument #1 to 'publish' \(mqtt_ctrl\* expected, got table\)$/);
    has('will true false');
    has('ka 0 0 0');
    has('disc true');
    has('consts 0 1 2 3 0 1 2');
    has('badca 0');
    has('badclient 0');
    assert.ok(r.lines.some((l) => l.includes('mqtt:network_set_server_cert error')));
    assert.ok(r.lines.some((l) => l.includes('mqtt:network_set_client_cert error')));
    has('afterclose 0 false false 0');
    assert.ok(r.lines.some((l) => l.includes('mqtt:network_alloc_ctrl fail')));
    noStack(r);
  });
}

test('CONNACK timeout (conn_timeout 5 s, server silent): error("timeout", 0), disconnect(0), close', async () => {
  const srv = await rawServer(() => undefined);
  try {
    const r = await run('wasmoon', connectAndWait(srv.port, '{conn_timeout = 1}'), 12000);
    assert.deepEqual(evs(r), ['ev error timeout 0', 'ev disconnect 0 nil', 'ev close nil nil'], u(r).join('\n'));
    // the clamp: 1 → 5 s
    const t = r.records.find((x) => x.kind === 'U' && x.payload.toString().includes('ev error timeout'));
    const t0 = r.records.find((x) => x.kind === 'U' && x.payload.toString().includes('connect true'));
    assert.ok(t && t0 && t.ms - t0.ms >= 4990, `${t?.ms} ${t0?.ms}`);
  } finally {
    await srv.close();
  }
});
