/**
 * The client core (runtime/net/mqtt-client.ts) without Lua, and the CONNECT packet the binding
 * builds, checked on the wire by a raw server decoding with mqtt-packet: keepalive clamp and
 * PINGREQ cadence (keepalive*3/4; the timers here run 100x faster than device time, nothing
 * else is faked), pong events, no pong timeout, clean-session / user / password / will flags.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import * as mqttPacket from 'mqtt-packet';
import { MqttClientCore, type MqttEvent } from '../../runtime/net/mqtt-client';
import { runLua } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { DirectNetwork } from '../../runtime/net/direct';

async function rawServer(onPacket: (p: mqttPacket.Packet, s: net.Socket, at: number) => void) {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p: mqttPacket.Packet) => onPacket(p, s, Date.now()));
    s.on('data', (d) => parser.parse(d));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

const SCALE = 100;
const fastTimers = { setTimer: (ms: number, fn: () => void) => setTimeout(fn, ms / SCALE), clearTimer: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };

test('core: PINGREQ every keepalive*3/4 after CONNACK, pong event per PINGRESP; unanswered pings do not close', async () => {
  const pings: number[] = [];
  let answer = true;
  const srv = await rawServer((p, s, at) => {
    if (p.cmd === 'connect') s.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
    if (p.cmd === 'pingreq') {
      pings.push(at);
      if (answer) s.write(mqttPacket.generate({ cmd: 'pingresp' }));
    }
  });
  const core = new MqttClientCore({
    host: '127.0.0.1',
    port: srv.port,
    timers: fastTimers,
    rxMax: 4100,
    connTimeoutMs: 30000,
    openTcp: () => new Promise((r, j) => {
      const s = net.connect(srv.port, '127.0.0.1');
      s.once('connect', () => r(s));
      s.once('error', j);
    }),
  });
  core.keepalive = 20; // → every 15 s device time, 150 ms here
  const events: MqttEvent['type'][] = [];
  core.on('event', (e) => events.push(e.type));
  try {
    assert.equal(core.connect(), true);
    assert.equal(core.connect(), false, 'a second connect while connecting');
    await new Promise((r) => setTimeout(r, 700));
    answer = false;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(events[0], 'conack');
    const pongs = events.filter((e) => e === 'pong').length;
    assert.ok(pings.length >= 5, `pings ${pings.length}`);
    assert.ok(pongs >= 3 && pongs < pings.length, `pongs ${pongs} of ${pings.length}`);
    // still up: no pong timeout in the firmware
    assert.equal(core.state, 3);
    assert.ok(!events.includes('disconnect'));
    // cadence: the median gap is the configured interval (order of magnitude check, not speed)
    const gaps = pings.slice(1).map((t, i) => t - pings[i]).sort((a, b) => a - b);
    const med = gaps[Math.floor(gaps.length / 2)];
    assert.ok(med >= 140, `median gap ${med} ms (expected 150)`);
  } finally {
    core.destroy();
    await srv.close();
  }
});

for (const engine of ENGINE_NAMES) {
  test(`CONNECT on the wire: keepalive clamp 15..600 (default 240), clean session, user/pass flags, will (${engine})`, async () => {
    const connects: mqttPacket.IConnectPacket[] = [];
    const srv = await rawServer((p, s) => {
      if (p.cmd === 'connect') {
        connects.push(p);
        s.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
      }
    });
    const src = `
sys.taskInit(function()
  local cases = {
    function(c) end,
    function(c) c:auth("id1", "", "", false) c:keepalive(5) end,
    function(c) c:auth("id2", "user", "pw") c:keepalive(1000) c:will("w/t", "bye", 2, 1) end,
    function(c) c:auth("id3", "user", "", nil) c:keepalive(60) end,
  }
  for i, setup in ipairs(cases) do
    local c = mqtt.create(nil, "127.0.0.1", ${srv.port})
    setup(c)
    local up = false
    c:on(function(c, ev) if ev == "conack" then up = true end end)
    c:connect()
    for k = 1, 150 do if up then break end sys.wait(20) end
    log.info("case", i, up)
    c:close()
  end
  log.info("DONE")
end)
sys.run()
`;
    try {
      const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', cleanup: true, timeoutMs: 10000, device: { network: new DirectNetwork() } });
      assert.equal(r.user.filter((l) => / true$/.test(l)).length, 4, r.user.join('\n'));
      const view = connects.map((c) => ({
        id: c.clientId,
        ka: c.keepalive,
        clean: c.clean,
        user: c.username ?? null,
        pass: c.password ? c.password.toString() : null,
        will: c.will ? `${c.will.topic} ${Buffer.from(c.will.payload).toString()} ${c.will.qos} ${c.will.retain}` : null,
        v: c.protocolVersion,
      }));
      assert.deepEqual(view, [
        { id: '', ka: 240, clean: false, user: null, pass: null, will: null, v: 4 },
        { id: 'id1', ka: 15, clean: false, user: null, pass: null, will: null, v: 4 },
        { id: 'id2', ka: 600, clean: true, user: 'user', pass: 'pw', will: 'w/t bye 2 true', v: 4 },
        { id: 'id3', ka: 60, clean: true, user: 'user', pass: null, will: null, v: 4 },
      ]);
    } finally {
      await srv.close();
    }
  });
}

test('binding: PINGREQ after keepalive*3/4 (15 s → 11.25 s), pong event and sys_pub("MQTT_PONG", client) (wasmoon)', async () => {
  const pings: number[] = [];
  const srv = await rawServer((p, s, at) => {
    if (p.cmd === 'connect') s.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
    if (p.cmd === 'pingreq') {
      pings.push(at);
      s.write(mqttPacket.generate({ cmd: 'pingresp' }));
    }
  });
  const src = `
sys.subscribe("MQTT_PONG", function(c) log.info("MQTT_PONG", c == _G.client) end)
sys.taskInit(function()
  client = mqtt.create(nil, "127.0.0.1", ${srv.port})
  client:auth("pinger")
  client:keepalive(1)
  client:on(function(c, ev) log.info("ev", ev) end)
  client:connect()
  sys.wait(11000)
  log.info("before 11.25 s")
  sys.wait(1500)
  client:close()
  log.info("DONE")
end)
sys.run()
`;
  try {
    const r = await runLua({ 'main.lua': src }, { engine: 'wasmoon', until: 'I/user.DONE', cleanup: true, timeoutMs: 20000, device: { network: new DirectNetwork() } });
    const out = r.user.join('\n');
    assert.match(out, /I\/user\.ev conack\nI\/user\.before 11\.25 s\nI\/user\.ev pong\nI\/user\.MQTT_PONG true\nI\/user\.DONE/, out);
    assert.equal(pings.length, 1);
  } finally {
    await srv.close();
  }
});

function coreFor(port: number, extra: Partial<ConstructorParameters<typeof MqttClientCore>[0]> = {}) {
  return new MqttClientCore({
    host: '127.0.0.1',
    port,
    timers: fastTimers,
    rxMax: 64 * 1024,
    connTimeoutMs: 30000,
    openTcp: () => new Promise((r, j) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => r(s));
      s.once('error', j);
    }),
    ...extra,
  });
}

async function eventsUntil(core: MqttClientCore, last: MqttEvent['type'], ms = 3000): Promise<string[]> {
  const out: string[] = [];
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(out), ms);
    core.on('event', (e) => {
      out.push(e.type === 'error' ? `error ${e.kind} ${e.code}` : e.type === 'disconnect' ? `disconnect ${e.errorState}` : e.type);
      if (e.type === last) {
        clearTimeout(t);
        resolve(out);
      }
    });
  });
}

test('core: a publish beyond the bounded send buffer fails like a short network_tx: nothing returned, error tx, disconnect, close', async () => {
  const srv = await rawServer((p, s) => {
    if (p.cmd === 'connect') s.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
  });
  const core = coreFor(srv.port, { txMax: 1024 });
  const logs: string[] = [];
  core.on('log', (l, m) => logs.push(`${l} ${m}`));
  try {
    const ev = eventsUntil(core, 'close');
    core.connect();
    await new Promise<void>((r) => core.on('event', (e) => e.type === 'conack' && r()));
    assert.equal(core.publish('t', Buffer.alloc(100), 1, false), 1);
    assert.equal(core.publish('t', Buffer.alloc(2000), 1, false), null);
    assert.deepEqual(await ev, ['conack', 'error tx 0', 'disconnect 0', 'close']);
    assert.ok(logs.some((l) => /^W network_tx expect \d+ but \d+$/.test(l)), logs.join('\n'));
    assert.equal(core.publish('t', Buffer.alloc(1), 0, false), null, 'nothing while disconnected');
  } finally {
    core.destroy();
    await srv.close();
  }
});

test('core: an incoming topic over 4096 bytes or a payload over 256 KiB → error("connect", 99)', async () => {
  for (const [topic, size] of [['t'.repeat(4097), 1], ['ok', 256 * 1024 + 1]] as const) {
    const srv = await rawServer((p, s) => {
      if (p.cmd === 'connect') {
        s.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
        s.write(mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.alloc(size), qos: 0, retain: false, dup: false }));
      }
    });
    const core = coreFor(srv.port, { rxMax: 1024 * 1024 });
    try {
      const ev = eventsUntil(core, 'close');
      core.connect();
      assert.deepEqual(await ev, ['conack', 'error connect 99', 'disconnect 0', 'close'], `topic ${topic.length} payload ${size}`);
    } finally {
      core.destroy();
      await srv.close();
    }
  }
});
