/**
 * Network benchmarks: `npm run bench:net` (= `npx tsc -p . && node dist/scripts/bench-net.js`).
 *
 * A table of named rows; each row measures the device side (a Lua script on the runtime) and a
 * plain Node baseline doing the same exchange, 3 runs each, and prints the medians and the
 * ratio baseline-time / device-time (1.0 = as fast as plain Node; higher is better). Add rows to
 * ROWS (other modules: MQTT, ...). Options: `--runs N` (3), `--engine <name>` (repeatable; one of
 * ENGINE_NAMES; default: the default engine DEFAULT_ENGINE and wasmoon, so one run shows both and
 * their ratio), `--mb N` (256: a 64 MB run lasts ~100 ms, within the scheduling noise of a
 * loaded machine; 256 MB runs last about half a second). A quarter-size warm-up run of each row comes first and is not
 * counted. Engines are interleaved run by run, so load changes on the machine hit them alike.
 *
 * Rows:
 *  - MQTT (scripts/bench/net-mqtt.ts, its own table before the socket rows): QoS 0 publish
 *    throughput from a Lua loop vs the same loop on MQTT.js (the reference; rows marked
 *    "vs mqtt-packet" compare with a plain mqtt-packet client, information only), and the
 *    QoS 1 round trip p50/p95, against a mosquitto started on 127.0.0.1 (skipped with a reason
 *    when mosquitto is absent). `--skip-mqtt` / `--skip-socket` run one part; `--messages N`
 *    (10000 QoS 0 publishes), `--round-trips N` (1000 QoS 1 round trips per run: a run of a few
 *    tens of ms would let one descheduling of a loaded machine move its p50).
 *  - socket TCP echo, 64 KB writes: the script sends 64 KB with socket.tx, reads the echo back
 *    with socket.rx into a zbuff until all 64 KB came back, repeated for N MB; the baseline is
 *    a Node net.Socket doing the same write-then-read-back rounds. Target ≥ 0.5x.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { once } from 'node:events';
import { runLua } from '../test/helpers/run-lua';
import { WifiNetwork } from '../runtime/net/model';
import { type EngineName } from '../runtime/core/engine';
import { DEFAULT_ENGINE, engineArgs } from './bench/engines';
import { mqttRows, type NetBenchRow } from './bench/net-mqtt';

export interface BenchResult {
  /** ms of the device side */
  device: number;
  /** ms of the plain Node baseline */
  baseline: number;
  /** ms of process CPU time (user + system) of each side, when measured: the cost, less sensitive to other load on the machine than wall time */
  deviceCpu?: number;
  baselineCpu?: number;
  /** shown next to the figures (bytes moved, ...) */
  note?: string;
}

export interface BenchRow {
  name: string;
  /** printed next to the medians: label and check of the ratio baseline/device */
  target?: { label: string; met: (ratio: number) => boolean };
  run(opts: BenchOptions): Promise<BenchResult>;
}

export interface BenchOptions {
  engine: EngineName;
  mb: number;
}

const CHUNK = 64 * 1024;

async function echoServer(): Promise<{ port: number; close: () => void }> {
  const socks = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    socks.add(s);
    s.setNoDelay(true);
    s.on('error', () => undefined);
    s.on('close', () => socks.delete(s));
    s.pipe(s);
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () => {
      for (const s of socks) s.destroy();
      srv.close();
    },
  };
}

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

/** plain Node: write 64 KB, wait until 64 KB came back, repeat */
async function nodeEcho(port: number, total: number): Promise<{ ms: number; cpu: number }> {
  const c = net.connect(port, '127.0.0.1');
  c.setNoDelay(true);
  await once(c, 'connect');
  const chunk = Buffer.alloc(CHUNK, 0x61);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let got = 0;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const next = () => {
      if (sent >= total) return resolve();
      sent += chunk.length;
      c.write(chunk);
    };
    c.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= sent) next();
    });
    next();
  });
  const ms = performance.now() - t0;
  const cpu = cpuMs(process.cpuUsage(c0));
  c.destroy();
  return { ms, cpu };
}

const LUA_ECHO = (port: number, total: number) => `
sys.taskInit(function()
  wlan.connect("bench", "bench")
  sys.waitUntil("IP_READY", 5000)
  local chunk = string.rep("a", ${CHUNK})
  local buf = zbuff.create(${CHUNK})
  local netc = socket.create(nil, function(c, ev, p)
    if ev == socket.EVENT then sys.publish("SEV") elseif ev == socket.ON_LINE then sys.publish("ONLINE", p) end
  end)
  socket.connect(netc, "127.0.0.1", ${port})
  sys.waitUntil("ONLINE", 5000)
  log.info("BENCH", "START")
  local sent, got = 0, 0
  while sent < ${total} do
    local ok = socket.tx(netc, chunk)
    if not ok then log.info("BENCH", "TXFAIL") break end
    sent = sent + #chunk
    while got < sent do
      local ok2, n = socket.rx(netc, buf)
      if not ok2 then log.info("BENCH", "RXFAIL") break end
      if n == 0 then sys.waitUntil("SEV", 2000) else got = got + n; buf:seek(0) end
    end
  end
  log.info("BENCH", "END", got)
  socket.close(netc)
end)
sys.run()
`;

export const ROWS: BenchRow[] = [
  {
    name: 'socket TCP echo, 64 KB writes (socket.tx/rx vs net.Socket)',
    target: { label: '>= 0.5x', met: (r) => r >= 0.5 },
    run: async (o) => {
      const srv = await echoServer();
      const total = o.mb * 1024 * 1024;
      try {
        const base = await nodeEcho(srv.port, total);
        let t0 = 0;
        let t1 = 0;
        let c0: NodeJS.CpuUsage | null = null;
        let cpu = 0;
        let got = '';
        const model = new WifiNetwork({ timing: { assocMs: 10, dhcpMs: 10 } });
        const r = await runLua(
          { 'main.lua': LUA_ECHO(srv.port, total) },
          {
            engine: o.engine,
            until: 'I/user.BENCH END',
            timeoutMs: 120000,
            device: { network: model },
            onDevice: (d) =>
              d.logSink.on((_r, text) => {
                if (text.includes('I/user.BENCH START')) {
                  t0 = performance.now();
                  c0 = process.cpuUsage();
                }
                const m = /I\/user\.BENCH END (\d+)/.exec(text);
                if (m) {
                  t1 = performance.now();
                  cpu = c0 ? cpuMs(process.cpuUsage(c0)) : 0;
                  got = m[1];
                }
              }),
          },
        );
        fs.rmSync(r.dir, { recursive: true, force: true });
        fs.rmSync(r.device.vfs.dataDir, { recursive: true, force: true });
        if (!t0 || !t1) throw new Error(`the script did not finish:\n${r.lines.slice(-10).join('\n')}`);
        return { device: t1 - t0, baseline: base.ms, deviceCpu: cpu, baselineCpu: base.cpu, note: `${got} bytes echoed` };
      } finally {
        srv.close();
      }
    },
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

function printMqtt(rows: NetBenchRow[]): void {
  const w = Math.max(...rows.map((r) => r.metric.length), 6);
  console.log(`${'metric'.padEnd(w)}  ${'luatos-pc'.padStart(10)}  ${'reference'.padStart(10)}  unit   ${'ratio'.padStart(6)}  target    met`);
  for (const r of rows) {
    console.log(`${r.metric.padEnd(w)}  ${fmt(r.ours).padStart(10)}  ${fmt(r.reference).padStart(10)}  ${r.unit.padEnd(5)}  ${(r.ratio.toFixed(2) + 'x').padStart(6)}  ${r.target.padEnd(8)}  ${r.target === 'info' ? '-' : r.met ? 'yes' : 'NO'}`);
  }
  for (const n of new Set(rows.map((r) => r.note))) console.log(`note: ${n}`);
}

async function main(): Promise<void> {
  const runs = Math.max(1, Number(arg('runs', '3')) || 3);
  const list = engineArgs(process.argv, [DEFAULT_ENGINE, 'wasmoon']);
  const mb = Math.max(1, Number(arg('mb', '256')) || 256);
  if (!process.argv.includes('--skip-mqtt')) {
    console.log(`bench:net — MQTT (engines ${list.join(', ')}; default engine ${DEFAULT_ENGINE})`);
    printMqtt(
      await mqttRows({
        runs,
        messages: Number(arg('messages', '10000')) || 10000,
        roundTrips: Number(arg('round-trips', '1000')) || 1000,
        engines: list,
        log: (t) => console.log(t),
      }),
    );
  }
  if (process.argv.includes('--skip-socket')) return;
  console.log(`bench:net — ${runs} runs per row and engine (interleaved), engines ${list.join(', ')}, ${mb} MB per socket run; ratio = baseline / device (higher is better)`);
  console.log(`${'row'.padEnd(72)} ${'device ms'.padStart(10)} ${'node ms'.padStart(10)} ${'ratio'.padStart(7)}  MB/s device`);
  for (const row of ROWS) {
    const dev = new Map<EngineName, number[]>(list.map((e) => [e, []]));
    const base = new Map<EngineName, number[]>(list.map((e) => [e, []]));
    const paired = new Map<EngineName, number[]>(list.map((e) => [e, []]));
    const cpuRatio = new Map<EngineName, number[]>(list.map((e) => [e, []]));
    let note = '';
    // one discarded warm-up run per engine (JIT, module loading), a quarter of the size
    for (const engine of list) await row.run({ engine, mb: Math.max(1, Math.floor(mb / 4)) });
    for (let i = 0; i < runs; i++) {
      for (const engine of list) {
        const r = await row.run({ engine, mb });
        dev.get(engine)!.push(r.device);
        base.get(engine)!.push(r.baseline);
        paired.get(engine)!.push(r.baseline / r.device);
        const cr = r.deviceCpu && r.baselineCpu ? r.baselineCpu / r.deviceCpu : NaN;
        if (!Number.isNaN(cr)) cpuRatio.get(engine)!.push(cr);
        note = r.note ?? '';
        const cpuText = Number.isNaN(cr) ? '' : `; CPU device ${r.deviceCpu!.toFixed(0)} ms, node ${r.baselineCpu!.toFixed(0)} ms, ratio ${cr.toFixed(2)}x`;
        console.log(`  ${engine} run ${i + 1}: device ${r.device.toFixed(0)} ms, node ${r.baseline.toFixed(0)} ms, ratio ${(r.baseline / r.device).toFixed(2)}x${cpuText}`);
      }
    }
    const medians = new Map<EngineName, number>();
    for (const engine of list) {
      const d = median(dev.get(engine)!);
      const b = median(base.get(engine)!);
      medians.set(engine, d);
      const mbps = ((mb * 2) / (d / 1000)).toFixed(1);
      const name = `${row.name} [${engine}]`;
      const met = row.target ? `  target ${row.target.label}: ${row.target.met(b / d) ? 'yes' : 'NO'}` : '';
      console.log(`${name.padEnd(72)} ${d.toFixed(0).padStart(10)} ${b.toFixed(0).padStart(10)} ${(b / d).toFixed(2).padStart(6)}x  ${mbps} (${note})${met}`);
      const cr = cpuRatio.get(engine)!;
      console.log(`  ${engine}: median of the per-run ratios (each run's device and baseline back to back) ${median(paired.get(engine)!).toFixed(2)}x${cr.length ? `; CPU-time ratio node/device, median ${median(cr).toFixed(2)}x` : ''}`);
    }
    const first = list[0];
    for (const other of list.slice(1)) {
      console.log(`  device time ${first}/${other}: ${(medians.get(first)! / medians.get(other)!).toFixed(2)}x (lower is faster)`);
    }
  }
}

if (require.main === module || process.env.BENCH_NET_MAIN) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
