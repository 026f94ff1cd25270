/**
 * Hostile HTTP servers against the device's http client: time to the result and peak RSS
 * growth of this process (medians of 3 runs, on the default engine DEFAULT_ENGINE, or
 * `--engine <name>`). Run: `npx tsc -p . && node dist/scripts/bench-http.js [--engine wasmoon]`.
 *
 * Cases: endless 1-byte chunks; a 500 MB Content-Length body; a body until close that never
 * ends; 20 000 interim `100 Continue` heads in one read. Every case prints the result code
 * the script got (the firmware's −6 / 200) next to the figures.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { runLua } from '../test/helpers/run-lua';
import { mappedNetwork } from '../test/http/servers';
import { DEFAULT_ENGINE, engineArgs } from './bench/engines';

let ENGINE = DEFAULT_ENGINE;

interface Case {
  name: string;
  serve(sock: net.Socket): void;
}

function flood(sock: net.Socket, piece: Buffer): void {
  const batch = Buffer.concat(Array(Math.max(1, Math.floor(65536 / piece.length))).fill(piece));
  let open = true;
  sock.on('close', () => (open = false));
  const pump = () => {
    while (open && !sock.destroyed) if (!sock.write(batch)) return void sock.once('drain', pump);
  };
  pump();
}

const CASES: Case[] = [
  {
    name: 'endless 1-byte chunks',
    serve: (s) => {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
      flood(s, Buffer.from('1\r\na\r\n'));
    },
  },
  {
    name: '500 MB Content-Length body',
    serve: (s) => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${500 * 1024 * 1024}\r\n\r\n`);
      flood(s, Buffer.alloc(65536, 0x61));
    },
  },
  {
    name: 'body until close, never ends',
    serve: (s) => {
      s.write('HTTP/1.1 200 OK\r\n\r\n');
      flood(s, Buffer.alloc(65536, 0x62));
    },
  },
  {
    name: '20 000 x 100 Continue in one read',
    serve: (s) => s.end(Buffer.concat([Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'.repeat(20000)), Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')])),
  },
];

async function runOnce(c: Case): Promise<{ ms: number; rssMb: number; res: string }> {
  const srv = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.once('data', () => c.serve(sock));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const iv = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const t0 = performance.now();
  const src = `
sys.taskInit(function()
  local c, h, b = http.request("GET", "http://video.luatos.com:10030/", nil, nil, {timeout=60000}).wait()
  log.info("res", c, b and #b)
  log.info("DONE")
end)
sys.run()
`;
  const r = await runLua({ 'main.lua': src }, { engine: ENGINE, until: 'I/user.DONE', timeoutMs: 90000, device: { network: mappedNetwork(port) } });
  const ms = performance.now() - t0;
  fs.rmSync(r.dir, { recursive: true, force: true });
  fs.rmSync(r.device.vfs.dataDir, { recursive: true, force: true });
  clearInterval(iv);
  peak = Math.max(peak, process.memoryUsage().rss);
  srv.close();
  const res = (r.user.find((l) => l.startsWith('I/user.res ')) ?? 'I/user.res (none)').slice('I/user.res '.length);
  return { ms, rssMb: (peak - base) / 1048576, res };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  ENGINE = engineArgs(process.argv)[0];
  console.log(`engine ${ENGINE}`);
  console.log('case                                 result           median ms   median peak RSS growth (MB)');
  for (const c of CASES) {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await runOnce(c));
    console.log(`${c.name.padEnd(36)} ${runs[0].res.padEnd(16)} ${median(runs.map((r) => r.ms)).toFixed(0).padStart(9)}   ${median(runs.map((r) => r.rssMb)).toFixed(1).padStart(8)}`);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
