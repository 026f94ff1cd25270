/**
 * Codec benchmark for the software modules (run `node dist/scripts/bench-codecs.js` after
 * `npx tsc -p .`; a `bench:codecs` npm script is left to the package.json owner). Prints
 * medians (of --runs, default 9) in ms and MiB/s over 1 MiB of JSON log lines, and the ratio to
 * Node's zlib (deflate level 1 / inflate) as a reference point. Printed, not asserted.
 */
import * as zlib from 'node:zlib';
import { fastlzCompress, fastlzDecompress } from '../luatos-api/shared/fastlz';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const RUNS = arg('--runs', 9);

function median(fn: () => unknown): number {
  const t: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const a = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - a) / 1e6);
  }
  t.sort((x, y) => x - y);
  const m = t.length >> 1;
  return t.length % 2 ? t[m] : (t[m - 1] + t[m]) / 2;
}

let text = '';
for (let i = 0; text.length < 1 << 20; i++) text += JSON.stringify({ id: i, t: 20 + (i % 7), ok: i % 3 !== 0, msg: `sensor reading ${(i * 7919) % 1000}` }) + '\n';
const input = Buffer.from(text.slice(0, 1 << 20));
const mib = input.length / (1 << 20);

const zc = median(() => zlib.deflateSync(input, { level: 1 }));
const zd0 = zlib.deflateSync(input, { level: 1 });
const zd = median(() => zlib.inflateSync(zd0));
const row = (name: string, ms: number, ref: number, extra = '') =>
  console.log(`${name.padEnd(28)} ${ms.toFixed(2).padStart(8)} ms ${(mib / (ms / 1000)).toFixed(0).padStart(6)} MiB/s  x${(ms / ref).toFixed(2)} zlib ${extra}`);
console.log(`input ${input.length} bytes, median of ${RUNS} runs`);
row('zlib deflate level 1', zc, zc, `ratio ${(zd0.length / input.length).toFixed(3)}`);
row('zlib inflate', zd, zd);
for (const level of [1, 2]) {
  const c = fastlzCompress(input, level)!;
  row(`fastlz level ${level} compress`, median(() => fastlzCompress(input, level)), zc, `ratio ${(c.length / input.length).toFixed(3)}`);
  row(`fastlz level ${level} decompress`, median(() => fastlzDecompress(c, input.length)), zd);
}
