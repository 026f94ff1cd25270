/**
 * WebSocket echo round trips (one message in flight) against a `ws` echo server on 127.0.0.1:
 * a Lua script on the device (websocket binding; the default engine DEFAULT_ENGINE and wasmoon,
 * or `--engine <name>`, repeatable) next to a plain Node `ws` client doing the same, medians of 5
 * runs and the ratio. Run: `npx tsc -p . && node dist/scripts/bench-websocket.js`.
 */
import * as fs from 'node:fs';
import { WebSocket } from 'ws';
import { runLua } from '../test/helpers/run-lua';
import { HOST, startWsServer, wsNetwork } from '../test/websocket/ws-helpers';
import type { EngineName } from '../runtime/core/engine';
import { DEFAULT_ENGINE, engineArgs } from './bench/engines';


const RUNS = 5;
const SIZES = [16, 1024, 32768];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function count(size: number): number {
  return size >= 32768 ? 300 : 2000;
}

/** round trips per second of the device script */
async function device(engine: EngineName, size: number): Promise<number> {
  const srv = await startWsServer({ onConn: (ws) => ws.on('message', (d: Buffer, b) => ws.send(d, { binary: b })) });
  const n = count(size);
  const src = `
local n, t0 = 0, 0
local msg = string.rep("a", ${size})
local wsc = websocket.create(nil, "ws://${HOST}/")
wsc:on(function(c, ev, data)
  if ev == "conack" then t0 = mcu.ticks() c:send(msg)
  elseif ev == "recv" then n = n + 1
    if n == ${n} then log.info("RESULT", mcu.ticks() - t0) else c:send(msg) end
  end
end)
wsc:connect()
sys.run()`;
  try {
    const r = await runLua({ 'main.lua': src }, { engine, until: 'RESULT', timeoutMs: 120000, device: { network: wsNetwork(srv.port) } });
    fs.rmSync(r.dir, { recursive: true, force: true });
    fs.rmSync(r.device.vfs.writablePath('/'), { recursive: true, force: true });
    const line = r.user.find((u) => u.includes('RESULT'));
    if (!line) throw new Error(`no result (${engine}, ${size} B)`);
    return n / (Number(line.split(' ').pop()) / 1000);
  } finally {
    await srv.close();
  }
}

/** the same with a Node `ws` client */
async function plain(size: number): Promise<number> {
  const srv = await startWsServer({ onConn: (ws) => ws.on('message', (d: Buffer, b) => ws.send(d, { binary: b })) });
  const n = count(size);
  const msg = 'a'.repeat(size);
  try {
    return await new Promise<number>((resolve, reject) => {
      const c = new WebSocket(`ws://127.0.0.1:${srv.port}/`);
      let k = 0;
      let t0 = 0;
      c.on('error', reject);
      c.on('open', () => {
        t0 = performance.now();
        c.send(msg);
      });
      c.on('message', () => {
        if (++k === n) {
          const ms = performance.now() - t0;
          c.close();
          resolve(n / (ms / 1000));
        } else c.send(msg);
      });
    });
  } finally {
    await srv.close();
  }
}

async function main(): Promise<void> {
  const engines = engineArgs(process.argv, [DEFAULT_ENGINE, 'wasmoon']);
  console.log('websocket echo round trips per second (one in flight), median of', RUNS);
  for (const size of SIZES) {
    const base: number[] = [];
    for (let i = 0; i < RUNS; i++) base.push(await plain(size));
    const b = median(base);
    console.log(`${String(size).padStart(6)} B  node ws client ${b.toFixed(0).padStart(7)}/s`);
    for (const engine of engines) {
      const xs: number[] = [];
      for (let i = 0; i < RUNS; i++) xs.push(await device(engine, size));
      const m = median(xs);
      console.log(`${String(size).padStart(6)} B  ${engine.padEnd(14)} ${m.toFixed(0).padStart(7)}/s  ratio to node ws ${(m / b).toFixed(2)}x`);
    }
  }
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
