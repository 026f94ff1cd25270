/**
 * `npm run bench:net` (minimal version from the mqtt branch; the socket rows come from another
 * branch and are to be joined here): runs every row provider and prints the rows in one table
 * with ratios to the reference. Figures are medians of --runs (default 3); targets are printed,
 * not asserted.
 *
 *   node dist/scripts/bench-net.js [--runs N] [--messages N] [--round-trips N] [--engine NAME]
 */
import { mqttRows, type NetBenchRow } from './bench/net-mqtt';
import type { EngineName } from '../runtime/engine';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const num = (name: string, def: number) => (arg(name) !== undefined ? Number(arg(name)) : def);

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

function print(rows: NetBenchRow[]): void {
  const w = Math.max(...rows.map((r) => r.metric.length), 6);
  console.log(`${'metric'.padEnd(w)}  ${'luatos-pc'.padStart(10)}  ${'reference'.padStart(10)}  unit   ${'ratio'.padStart(6)}  target    met`);
  for (const r of rows) {
    console.log(`${r.metric.padEnd(w)}  ${fmt(r.ours).padStart(10)}  ${fmt(r.reference).padStart(10)}  ${r.unit.padEnd(5)}  ${(r.ratio.toFixed(2) + 'x').padStart(6)}  ${r.target.padEnd(8)}  ${r.met ? 'yes' : 'NO'}`);
  }
  const notes = [...new Set(rows.map((r) => r.note))];
  for (const n of notes) console.log(`note: ${n}`);
}

async function main(): Promise<void> {
  const engine = arg('--engine') as EngineName | undefined;
  const rows: NetBenchRow[] = [];
  console.log('bench:net — MQTT');
  rows.push(
    ...(await mqttRows({
      runs: num('--runs', 3),
      messages: num('--messages', 10000),
      roundTrips: num('--round-trips', 300),
      engines: engine ? [engine] : undefined,
      log: (s) => console.log(s),
    })),
  );
  print(rows);
}

main().catch((e) => {
  console.error(`bench:net failed: ${(e as Error).message}`);
  process.exitCode = 1;
});
