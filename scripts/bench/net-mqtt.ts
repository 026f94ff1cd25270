/**
 * The MQTT rows of `npm run bench:net` (issue "network modules", benchmarks):
 *  - QoS 0 publish throughput from a Lua loop (64-byte payloads, a `sys.wait(0)` every 200
 *    publishes, and every 1000 a QoS 1 publish whose PUBACK is awaited: flow control, so the
 *    device's bounded send buffer never overflows when the broker falls behind, as a device
 *    script must do) vs the same loop in Node; counted end to end: until an independent
 *    subscriber got every QoS 0 message. Target ≥ 0.5x.
 *  - QoS 1 round trip (publish → `sent` event) p50/p95 from Lua vs the same in Node. Target
 *    ≤ 1.5x.
 * The reference is MQTT.js (the `mqtt` npm package, v5: `connectAsync`, `publish`,
 * `publishAsync`) running the same loop against the same broker. A second reference row set
 * ("vs mqtt-packet") runs the loop on the thinnest client possible, mqtt-packet + net
 * (scripts/bench/mqtt-ref-client.ts): it shows the floor of the wire exchange itself, so the
 * gap that is our VM (resume, queue, sys dispatch) can be told from MQTT.js's own per-packet
 * cost (its message store and callbacks). Those rows are information, not targets.
 * The broker is mosquitto (a separate process) when installed, else aedes in this process.
 * Engines: the default engine and wasmoon unless given. The sides (MQTT.js, mqtt-packet, each
 * engine) run interleaved round by round after one warm-up each; figures are medians.
 */
import { createDevice } from '../../runtime/boards/device';
import { DEFAULT_ENGINE, EngineName } from '../../runtime/core/engine';
import { LogSink } from '../../runtime/core/log';
import { makeProfile } from '../../runtime/core/profile';
import { DirectNetwork } from '../../runtime/net/direct';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RefClient } from './mqtt-ref-client';
import * as mqttjs from 'mqtt';
import { MOSQUITTO, startAedes, startMosquitto, type Broker } from '../../test/mqtt/brokers';

export interface NetBenchRow {
  /** "mqtt" (the socket rows use their own group) */
  group: string;
  metric: string;
  /** our figure (Lua on luatos-pc) */
  ours: number;
  /** the reference figure (plain Node) */
  reference: number;
  unit: string;
  /** ours / reference */
  ratio: number;
  /** e.g. ">= 0.5x" */
  target: string;
  met: boolean;
  note: string;
}

export interface MqttBenchOptions {
  runs?: number;
  messages?: number;
  roundTrips?: number;
  engines?: EngineName[];
  log?: (s: string) => void;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const PAYLOAD = 'x'.repeat(64);

function luaScript(port: number, n: number, m: number): string {
  return `
sys.taskInit(function()
  local c = mqtt.create(nil, "127.0.0.1", ${port})
  c:auth("bench-lua-" .. mcu.ticks())
  c:on(function(c, ev, a)
    if ev == "conack" then sys.publish("B_UP")
    elseif ev == "sent" and a ~= 0 then sys.publish("B_SENT", a) end
  end)
  c:connect()
  if not sys.waitUntil("B_UP", 5000) then log.info("BENCH_FAIL", "no conack") return end
  local payload = string.rep("x", 64)
  log.info("BENCH_START")
  for i = 1, ${n} do
    if not c:publish("bench/q0", payload, 0) then log.info("BENCH_FAIL", "publish", i) return end
    if i % 1000 == 0 then
      c:publish("bench/sync", payload, 1)
      sys.waitUntil("B_SENT", 10000)
    elseif i % 200 == 0 then sys.wait(0) end
  end
  log.info("BENCH_PUBLISHED")
  sys.waitUntil("BENCH_GO", 30000)
  local ts = {}
  for i = 1, ${m} do
    local s1, u1 = mcu.ticks2()
    c:publish("bench/q1", payload, 1)
    sys.waitUntil("B_SENT", 5000)
    local s2, u2 = mcu.ticks2()
    ts[#ts + 1] = (s2 - s1) * 1000000 + (u2 - u1)
  end
  log.info("BENCH_RTT", table.concat(ts, ","))
  c:close()
end)
sys.run()
`;
}

/** One Lua run: QoS 0 msgs/s (end to end) and the QoS 1 round trips (µs). */
async function luaRun(broker: Broker, engine: EngineName, n: number, m: number): Promise<{ rate: number; rtt: number[] }> {
  const sub = await RefClient.connect(broker.port, `bench-sub-${Date.now()}`);
  await sub.subscribe('bench/q0', 0);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-bench-mqtt-'));
  fs.writeFileSync(path.join(dir, 'main.lua'), luaScript(broker.port, n, m));
  const sink = new LogSink({ stream: null });
  const device = createDevice({
    scripts: dir,
    engine,
    profile: makeProfile({ exitRebootDelayMs: 50, runawayMs: 60000 }, {}),
    log: sink,
    dataDir: dir,
    reboot: 'exit',
    network: new DirectNetwork(),
  });
  try {
    return await new Promise((resolve, reject) => {
      let t0 = 0;
      let rate = 0;
      const timer = setTimeout(() => reject(new Error('lua bench timed out')), 120000);
      sink.on((r) => {
        if (r.kind !== 'U') return;
        const text = r.payload.toString();
        if (text.includes('BENCH_FAIL')) {
          clearTimeout(timer);
          reject(new Error(text));
        } else if (text.includes('BENCH_START')) {
          t0 = performance.now();
          void sub.waitMessages(n, 60000).then((ok) => {
            const dt = performance.now() - t0;
            if (!ok) return reject(new Error(`subscriber got ${sub.messages.length} of ${n}`));
            device.vm?.publish('BENCH_GO');
            rate = (n / dt) * 1000;
          });
        } else if (text.includes('BENCH_RTT')) {
          clearTimeout(timer);
          const rtt = text.split(' ').pop()!.split(',').map(Number);
          resolve({ rate, rtt });
        }
      });
      device.start().catch(reject);
    });
  } finally {
    device.dispose();
    sub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The same loops on MQTT.js (the reference). */
async function mqttJsRun(broker: Broker, n: number, m: number): Promise<{ rate: number; rtt: number[] }> {
  const sub = await RefClient.connect(broker.port, `bench-sub-${Date.now()}`);
  await sub.subscribe('bench/q0', 0);
  const c = await mqttjs.connectAsync({
    host: '127.0.0.1',
    port: broker.port,
    protocolVersion: 4,
    clientId: `bench-mqttjs-${Date.now()}`,
    clean: true,
    keepalive: 60,
    reconnectPeriod: 0,
  });
  try {
    const t0 = performance.now();
    for (let i = 1; i <= n; i++) {
      c.publish('bench/q0', PAYLOAD, { qos: 0 });
      if (i % 1000 === 0) await c.publishAsync('bench/sync', PAYLOAD, { qos: 1 });
      else if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    if (!(await sub.waitMessages(n, 60000))) throw new Error(`subscriber got ${sub.messages.length} of ${n} from MQTT.js`);
    const rate = (n / (performance.now() - t0)) * 1000;
    const rtt: number[] = [];
    for (let i = 0; i < m; i++) {
      const s = performance.now();
      await c.publishAsync('bench/q1', PAYLOAD, { qos: 1 });
      rtt.push((performance.now() - s) * 1000);
    }
    return { rate, rtt };
  } finally {
    await c.endAsync(true).catch(() => undefined);
    sub.close();
  }
}

/** The same loops on the plain mqtt-packet client (second reference: the wire floor). */
async function nodeRun(broker: Broker, n: number, m: number): Promise<{ rate: number; rtt: number[] }> {
  const sub = await RefClient.connect(broker.port, `bench-sub-${Date.now()}`);
  await sub.subscribe('bench/q0', 0);
  const c = await RefClient.connect(broker.port, `bench-node-${Date.now()}`);
  try {
    const t0 = performance.now();
    for (let i = 1; i <= n; i++) {
      c.publish('bench/q0', PAYLOAD, 0);
      if (i % 1000 === 0) await c.publish('bench/sync', PAYLOAD, 1);
      else if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    if (!(await sub.waitMessages(n, 60000))) throw new Error(`subscriber got ${sub.messages.length} of ${n}`);
    const rate = (n / (performance.now() - t0)) * 1000;
    const rtt: number[] = [];
    for (let i = 0; i < m; i++) {
      const s = performance.now();
      await c.publish('bench/q1', PAYLOAD, 1);
      rtt.push((performance.now() - s) * 1000);
    }
    return { rate, rtt };
  } finally {
    c.close();
    sub.close();
  }
}

function mqttJsVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('mqtt/package.json') as { version: string }).version;
  } catch {
    return '5';
  }
}

export async function mqttRows(opts: MqttBenchOptions = {}): Promise<NetBenchRow[]> {
  const runs = opts.runs ?? 3;
  const n = opts.messages ?? 10000;
  const m = opts.roundTrips ?? 300;
  const engines = opts.engines ?? [...new Set<EngineName>([DEFAULT_ENGINE, 'wasmoon'])];
  const log = opts.log ?? (() => undefined);
  const nw = Math.max(1000, Math.floor(n / 10));
  const mw = Math.max(10, Math.floor(m / 10));
  const broker = MOSQUITTO ? await startMosquitto() : await startAedes();
  const brokerName = MOSQUITTO ? 'mosquitto' : 'aedes (in-process)';
  const note = `reference: MQTT.js ${mqttJsVersion()} (rows "vs mqtt-packet": a plain mqtt-packet+net client, information only); broker ${brokerName}`;
  const rows: NetBenchRow[] = [];
  try {
    type Figures = { rate: number[]; p50: number[]; p95: number[] };
    type Side = { name: string; f: (warm: boolean) => Promise<{ rate: number; rtt: number[] }>; x: Figures };
    const sides: Side[] = [
      { name: 'MQTT.js', f: (w) => (w ? mqttJsRun(broker, nw, mw) : mqttJsRun(broker, n, m)), x: { rate: [], p50: [], p95: [] } },
      { name: 'mqtt-packet', f: (w) => (w ? nodeRun(broker, nw, mw) : nodeRun(broker, n, m)), x: { rate: [], p50: [], p95: [] } },
      ...engines.map((engine): Side => ({ name: engine, f: (w) => (w ? luaRun(broker, engine, nw, mw) : luaRun(broker, engine, n, m)), x: { rate: [], p50: [], p95: [] } })),
    ];
    // one discarded warm-up run of each side (JIT, module loading), a tenth of the size; then
    // the sides interleaved round by round, so load changes on the machine hit them alike
    for (const side of sides) await side.f(true);
    for (let r = 0; r < runs; r++) {
      for (const side of sides) {
        const y = await side.f(false);
        side.x.rate.push(y.rate);
        side.x.p50.push(pct(y.rtt, 50));
        side.x.p95.push(pct(y.rtt, 95));
        log(`  ${side.name} run ${r + 1}: ${y.rate.toFixed(0)} msg/s, rtt p50 ${pct(y.rtt, 50).toFixed(0)} µs, p95 ${pct(y.rtt, 95).toFixed(0)} µs`);
      }
    }
    const ref = sides[0].x;
    const plain = sides[1].x;
    const add = (metric: string, ours: Figures, against: Figures, target: boolean) => {
      const suffix = target ? '' : ' vs mqtt-packet';
      const rate = median(ours.rate);
      const refRate = median(against.rate);
      rows.push({ group: 'mqtt', metric: `QoS 0 publish throughput${metric}${suffix}`, ours: rate, reference: refRate, unit: 'msg/s', ratio: rate / refRate, target: target ? '>= 0.5x' : 'info', met: rate / refRate >= 0.5, note });
      for (const [k, name] of [['p50', 'QoS 1 round trip p50'], ['p95', 'QoS 1 round trip p95']] as const) {
        const o = median(ours[k]);
        const f = median(against[k]);
        rows.push({ group: 'mqtt', metric: `${name}${metric}${suffix}`, ours: o, reference: f, unit: 'µs', ratio: o / f, target: target ? '<= 1.5x' : 'info', met: o / f <= 1.5, note });
      }
    };
    for (const [i, engine] of engines.entries()) {
      const ours = sides[2 + i].x;
      add(` (${engine})`, ours, ref, true);
      // each round ran MQTT.js and this engine close together: the median of the per-round
      // ratios is less sensitive to load that changes between rounds (information)
      const per = ours.p50.map((o, r) => o / ref.p50[r]);
      const pr = median(per);
      rows.push({ group: 'mqtt', metric: `QoS 1 round trip p50 (${engine}), median of per-round ratios`, ours: median(ours.p50), reference: median(ref.p50), unit: 'µs', ratio: pr, target: 'info', met: pr <= 1.5, note });
      add(` (${engine})`, ours, plain, false);
    }
  } finally {
    await broker.close();
  }
  return rows;
}
