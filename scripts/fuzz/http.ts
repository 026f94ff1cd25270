/**
 * HTTP fuzz (part of `npm run soak`): a loopback TCP server (127.0.0.1, ephemeral port) answers
 * every connection with generated hostile bytes, and the device's HTTP client requests them.
 *
 * Two layers are driven (stated in the summary):
 * - most requests run the device's HTTP client layer directly from TypeScript
 *   (runtime/http/client.ts `startHttpRequest` on a DirectNetwork, the same code the binding
 *   calls), 48 in flight, so ≥ 100,000 responses fit in a few minutes;
 * - a smaller share goes through Lua: `http.request(...).wait()` inside `pcall` in 16 tasks on
 *   a real Device, both engines, checking the results a script sees (code, header table, body)
 *   and that hostile header names (`__proto__`, `constructor`, ...) arrive as ordinary keys.
 *
 * The request path carries the case index (`/c/<i>`); the server derives the response from
 * (seed, i) only, so a case replays alone:
 *   node dist/scripts/fuzz/http.js --seed S --from I --count 1 --describe
 *
 * Response kinds: random bytes; mutated valid responses (bit flips, inserted/deleted/duplicated
 * ranges, truncation); huge, negative, non-numeric, duplicated and conflicting Content-Length;
 * broken chunking (negative, overflowing, non-hex sizes, missing CRLFs, endless trailers, no
 * last chunk); endless header blocks; `__proto__`/`constructor`/`prototype` headers; many
 * `100 Continue`; early close and reset at every stage; slowloris (a byte every 40 ms); bodies
 * larger than the device's whole memory.
 *
 * Invariants (a break is a failure with seed + index): the request settles within its timeout
 * plus 5 s; an error is one of the firmware's codes −1 … −9; a body never exceeds the device's
 * memory (profile lua + sys + psram); no exception escapes to Node; a Lua VM never dies.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { RealClock } from '../../runtime/core/clock';
import { Device } from '../../runtime/core/device';
import { EngineName } from '../../runtime/core/engine';
import { startHttpRequest } from '../../runtime/http/client';
import { MemorySink } from '../../runtime/http/sinks';
import type { HttpEnv, HttpOutcome } from '../../runtime/http/types';
import { parseFirmwareUrl } from '../../runtime/http/url';
import { LogSink } from '../../runtime/core/log';
import { DirectNetwork } from '../../runtime/net/direct';
import { AIR8101_PROFILE, makeProfile } from '../../runtime/core/profile';
import type { VmExit } from '../../runtime/core/vm/vm';
import { argFlag, argNum, argStr, bump, caseSeed, Failure, fmtCounts, fmtMB, printResult, Progress, Rng, rssMB } from '../soak/common';

const SEED = argNum('--seed', 1) >>> 0;
const FROM = argNum('--from', 0);
const COUNT = argNum('--count', 100_000);
const LUA_COUNT = argNum('--lua-count', 3000);
const CONCURRENCY = argNum('--concurrency', 48);
const MAX_SEC = argNum('--max-sec', 600);
const DESCRIBE = argFlag('--describe');
const TIMEOUT_MS = 400;
const HUGE_TIMEOUT_MS = 20_000;
const progress = new Progress(argStr('--progress'));

const M = AIR8101_PROFILE.memory;
/** no body can be larger than everything the device has */
const DEVICE_BYTES = M.lua + M.sys + M.psram;
/** the Lua share uses indices from here, so its cases differ from the TS share's */
const LUA_BASE = 1_000_000_000;
const LUA_FROM = argStr('--lua-from') === undefined ? undefined : argNum('--lua-from', 0);

// ------------------------------------------------------------------ the hostile server

/** What the server does on one connection: write these pieces with these pauses, then end so. */
interface Plan {
  kind: string;
  pieces: Array<{ data: Buffer; pauseMs?: number }>;
  end: 'close' | 'reset' | 'keep' | 'destroy';
  /** answer before reading the request */
  early?: boolean;
}

const CRLF = '\r\n';
function b(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

function validResponse(r: Rng, opts: { chunked?: boolean; bodyLen?: number } = {}): Buffer {
  const status = r.pick([200, 200, 200, 201, 204, 301, 304, 400, 404, 500, 503]);
  const body = r.bytes(opts.bodyLen ?? r.int(300));
  const hs = [`HTTP/1.${r.int(2)} ${status} ${r.pick(['OK', 'Whatever', '', '状态'])}`];
  hs.push(`Server: fuzz`);
  if (r.chance(0.5)) hs.push(`Content-Type: ${r.pick(['application/json', 'text/plain', 'x/y'])}`);
  let bodyBytes: Buffer = body;
  if (opts.chunked ?? r.chance(0.3)) {
    hs.push('Transfer-Encoding: chunked');
    const parts: Buffer[] = [];
    let at = 0;
    while (at < body.length) {
      const n = Math.min(body.length - at, 1 + r.int(120));
      parts.push(b(n.toString(16) + CRLF), body.subarray(at, at + n), b(CRLF));
      at += n;
    }
    parts.push(b('0' + CRLF + CRLF));
    bodyBytes = Buffer.concat(parts);
  } else if (r.chance(0.85)) {
    hs.push(`Content-Length: ${body.length}`);
  }
  return Buffer.concat([b(hs.join(CRLF) + CRLF + CRLF), bodyBytes]);
}

function mutate(r: Rng, buf: Buffer): Buffer {
  let out = Buffer.from(buf);
  const n = 1 + r.int(6);
  for (let k = 0; k < n && out.length > 0; k++) {
    const at = r.int(out.length);
    switch (r.int(6)) {
      case 0:
        out[at] ^= 1 << r.int(8);
        break;
      case 1:
        out[at] = r.pick([0, 0x0a, 0x0d, 0x3a, 0x20, 0xff, 0x2d, 0x30]);
        break;
      case 2:
        out = Buffer.concat([out.subarray(0, at), r.bytes(r.int(20)), out.subarray(at)]);
        break;
      case 3:
        out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + r.int(20)))]);
        break;
      case 4: {
        const len = 1 + r.int(40);
        out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + len), out.subarray(at)]);
        break;
      }
      default:
        out = out.subarray(0, at);
    }
  }
  return out;
}

const HOSTILE_NAMES = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '__defineGetter__', 'valueOf'];

export function planFor(seed: number, index: number): Plan {
  const r = new Rng(caseSeed(seed, index));
  const end = (): Plan['end'] => r.pick(['close', 'close', 'close', 'reset', 'destroy']);
  // rare, expensive kinds first, by index so their share is fixed
  if (index % 20000 === 7) {
    // a body larger than the device's whole memory: 16 MB announced and sent
    const len = 16 * 1024 * 1024;
    const chunked = r.chance(0.5);
    const head = b(`HTTP/1.1 200 OK${CRLF}${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${len}`}${CRLF}${CRLF}`);
    const pieces: Plan['pieces'] = [{ data: head }];
    const block = Buffer.alloc(256 * 1024, 0x61);
    for (let at = 0; at < len; at += block.length) pieces.push({ data: chunked ? Buffer.concat([b(block.length.toString(16) + CRLF), block, b(CRLF)]) : block });
    if (chunked) pieces.push({ data: b('0' + CRLF + CRLF) });
    return { kind: 'huge-body', pieces, end: 'close' };
  }
  if (index % 250 === 3) {
    // slowloris: a valid response, one byte every 40 ms (the client must time out)
    const v = validResponse(r);
    return { kind: 'slowloris', pieces: [...v.subarray(0, 30)].map((c) => ({ data: Buffer.from([c]), pauseMs: 40 })), end: 'close' };
  }
  const k = r.int(13);
  switch (k) {
    case 0:
      return { kind: 'random-bytes', pieces: [{ data: r.bytes(r.int(2000)) }], end: end(), early: r.chance(0.3) };
    case 1:
    case 2:
      return { kind: 'mutated', pieces: [{ data: mutate(r, validResponse(r)) }], end: end() };
    case 3: {
      const cl = r.pick(['99999999999999999999', '18446744073709551616', '9007199254740993', '4294967296', '2147483648', '-1', '-5', '+5', '5, 6', '1e3', '0x10', ' ', '', '5 5', '１', 'NaN', 'Infinity']);
      const dup = r.chance(0.3) ? `Content-Length: ${r.pick(['5', '6', cl])}${CRLF}` : '';
      return { kind: 'content-length', pieces: [{ data: b(`HTTP/1.1 200 OK${CRLF}Content-Length: ${cl}${CRLF}${dup}${CRLF}hello world`) }], end: end() };
    }
    case 4: {
      const size = r.pick(['-1', 'ffffffffffffffffffff', '7fffffffffffffff', 'zz', '', ' 5', '5;ext=1', '5 ; x', '0x5', '100000000', 'FFFFFFFF', '1'.repeat(2000)]);
      const tail = r.pick([`hello${CRLF}0${CRLF}${CRLF}`, 'hel', `hello0${CRLF}${CRLF}`, `hello${CRLF}`, `hello${CRLF}0${CRLF}X-Trailer: ${'t'.repeat(3000)}${CRLF}`, `hello${CRLF}0${CRLF}${'Trailer: x\r\n'.repeat(500)}`]);
      return { kind: 'bad-chunking', pieces: [{ data: b(`HTTP/1.1 200 OK${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}${size}${CRLF}${tail}`) }], end: end() };
    }
    case 5: {
      // endless header block: far over the device's 4096 bytes
      const pieces: Plan['pieces'] = [{ data: b(`HTTP/1.1 200 OK${CRLF}`) }];
      const n = 4 + r.int(60);
      for (let j = 0; j < n; j++) pieces.push({ data: b(`X-Filler-${j}: ${'v'.repeat(1000 + r.int(2000))}${CRLF}`) });
      if (r.chance(0.2)) pieces.push({ data: b('y'.repeat(200_000)) }); // one header line without end
      return { kind: 'endless-headers', pieces, end: end() };
    }
    case 6: {
      const names = [...HOSTILE_NAMES].sort(() => r.next() - 0.5).slice(0, 1 + r.int(HOSTILE_NAMES.length));
      const hs = names.map((n, j) => `${n}: v${j}${CRLF}`).join('');
      return { kind: 'proto-headers', pieces: [{ data: b(`HTTP/1.1 200 OK${CRLF}${hs}Content-Length: 2${CRLF}${CRLF}ok`) }], end: 'close' };
    }
    case 7: {
      const n = r.pick([1, 2, 10, 100, 500, 2000]);
      const cont = b(`HTTP/1.1 100 Continue${CRLF}${CRLF}`.repeat(n));
      return { kind: 'many-100-continue', pieces: [{ data: cont }, { data: r.chance(0.7) ? validResponse(r) : Buffer.alloc(0) }], end: end() };
    }
    case 8: {
      // early close / reset at a random point of a valid response
      const v = validResponse(r);
      return { kind: 'early-close', pieces: [{ data: v.subarray(0, r.int(v.length)) }], end: r.pick(['close', 'reset', 'destroy']), early: r.chance(0.3) };
    }
    case 9: {
      const line = r.pick([
        'HTTP/1.1 999999999999 X',
        'HTTP/1.1 -1 X',
        'HTTP/1.1 20 OK',
        'HTTP/1.1 2000 OK',
        'HTTP/1.1  200 OK',
        'HTTP/1.0 200',
        'HTTP/1.1 200 OK\nContent-Length: 2\n\nok',
        'ICY 200 OK',
        'HTTP/2 200',
        'HTTP/1.1 200 OK\r\nNo-Colon-Header\r\n',
        'HTTP/1.1 200 OK\r\n: empty-name\r\n',
        'HTTP/1.1 200 OK\r\nX: a\r\n  folded\r\n',
        'HTTP/1.1 200 OK\r\nX\0Y: nul\r\n',
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n',
        `HTTP/1.1 200 ${'r'.repeat(5000)}`,
      ]);
      return { kind: 'status-line', pieces: [{ data: b(`${line}${CRLF}${CRLF}${r.chance(0.5) ? 'body' : ''}`) }], end: end() };
    }
    case 10:
      return { kind: 'valid', pieces: [{ data: validResponse(r) }], end: r.pick(['close', 'keep']) };
    case 11: {
      // a valid response split into many small writes
      const v = validResponse(r);
      const pieces: Plan['pieces'] = [];
      for (let at = 0; at < v.length; ) {
        const n = 1 + r.int(40);
        pieces.push({ data: v.subarray(at, at + n) });
        at += n;
      }
      return { kind: 'fragmented', pieces, end: 'close' };
    }
    default: {
      // body longer or shorter than announced, or delimited by close
      const body = r.bytes(r.int(500));
      const cl = r.pick([body.length + 1 + r.int(100), Math.max(0, body.length - 1 - r.int(100)), -1]);
      const head = cl >= 0 ? `Content-Length: ${cl}${CRLF}` : '';
      return { kind: 'length-mismatch', pieces: [{ data: Buffer.concat([b(`HTTP/1.1 200 OK${CRLF}${head}${CRLF}`), body]) }], end: end() };
    }
  }
}

function startServer(seed: number): Promise<{ server: net.Server; port: number; kinds: Map<string, number> }> {
  const kinds = new Map<string, number>();
  const server = net.createServer({ allowHalfOpen: false }, (sock) => {
    sock.on('error', () => {});
    let got = Buffer.alloc(0);
    let planned = false;
    const run = (plan: Plan) => {
      bump(kinds, plan.kind);
      let k = 0;
      const step = () => {
        if (sock.destroyed) return;
        while (k < plan.pieces.length) {
          const p = plan.pieces[k++];
          if (p.pauseMs) {
            setTimeout(() => {
              if (!sock.destroyed) sock.write(p.data);
              step();
            }, p.pauseMs);
            return;
          }
          if (!sock.write(p.data)) {
            sock.once('drain', step);
            return;
          }
        }
        if (plan.end === 'close') sock.end();
        else if (plan.end === 'reset') sock.resetAndDestroy();
        else if (plan.end === 'destroy') sock.destroy();
        else setTimeout(() => sock.destroy(), 3000).unref(); // keep: the client must finish on its own
      };
      step();
    };
    sock.on('data', (d: Buffer) => {
      if (planned) return;
      got = Buffer.concat([got, d]);
      const eol = got.indexOf('\r\n');
      if (eol < 0) {
        if (got.length > 8192) sock.destroy();
        return;
      }
      planned = true;
      const m = /^[A-Z]+ \/(c|proto)\/(\d+) /.exec(got.subarray(0, eol).toString('latin1'));
      if (!m) {
        sock.destroy();
        return;
      }
      const i = Number(m[2]);
      if (m[1] === 'proto') {
        const hs = HOSTILE_NAMES.map((n) => `${n}: ${n}-value${CRLF}`).join('');
        run({ kind: 'proto-check', pieces: [{ data: b(`HTTP/1.1 200 OK${CRLF}${hs}Content-Length: 2${CRLF}${CRLF}ok`) }], end: 'close' });
        return;
      }
      run(planFor(seed, i));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as net.AddressInfo).port, kinds }));
  });
}

// ------------------------------------------------------------------ TS share: the client layer

function outcomeKey(o: HttpOutcome): string {
  if (o.kind === 'error') return String(o.code);
  return o.status >= 100 && o.status <= 599 ? `${Math.floor(o.status / 100)}xx` : `status ${o.status > 999 ? '>999' : o.status}`;
}

async function tsShare(port: number, failures: Failure[], deadline: number): Promise<{ done: number; codes: Map<string, number>; maxBody: number; sec: number; peakRss: number }> {
  const clock = new RealClock();
  const netw = new DirectNetwork();
  const env: HttpEnv = { net: netw, setTimer: (ms, fn) => clock.setTimer(ms, fn), clearTimer: (h) => clock.clearTimer(h), log: () => {} };
  const codes = new Map<string, number>();
  const inFlight = new Set<number>();
  let next = FROM;
  let done = 0;
  let maxBody = 0;
  let peakRss = 0;
  const t0 = Date.now();
  process.on('uncaughtException', (e) => {
    failures.push({ kind: 'node-exception', seed: SEED, detail: `uncaught ${(e as Error)?.stack?.split('\n').slice(0, 3).join(' | ') ?? e} with cases ${[...inFlight].join(',')} in flight` });
  });
  const one = async (i: number): Promise<void> => {
    const r = new Rng(caseSeed(SEED ^ 0x5a5a, i));
    const method = r.pick(['GET', 'GET', 'GET', 'POST', 'HEAD', 'PUT']);
    const body = method === 'POST' || method === 'PUT' ? r.bytes(r.int(200)) : null;
    let outcome: HttpOutcome | undefined;
    let hang: NodeJS.Timeout | undefined;
    // a body larger than the device gets time to arrive in full: the cap must not depend on a timeout
    const timeoutMs = planFor(SEED, i).kind === 'huge-body' ? HUGE_TIMEOUT_MS : TIMEOUT_MS;
    try {
      const x = startHttpRequest({ method, url: parseFirmwareUrl(`http://127.0.0.1:${port}/c/${i}`), headers: [], body, timeoutMs, sink: new MemorySink() }, env);
      outcome = await Promise.race([
        x.done,
        new Promise<undefined>((res) => {
          hang = setTimeout(() => {
            x.cancel();
            res(undefined);
          }, timeoutMs + 5000);
        }),
      ]);
    } catch (e) {
      failures.push({ kind: 'exception', seed: SEED, index: i, detail: `startHttpRequest threw: ${(e as Error)?.message}`, repro: repro(i) });
      return;
    } finally {
      clearTimeout(hang);
    }
    if (!outcome) {
      failures.push({ kind: 'hang', seed: SEED, index: i, detail: `request not settled ${timeoutMs + 5000} ms after start (timeout ${timeoutMs} ms); server plan ${planFor(SEED, i).kind}`, repro: repro(i) });
      bump(codes, 'hang');
      return;
    }
    bump(codes, outcomeKey(outcome));
    if (DESCRIBE) process.stdout.write(`case ${i}: ${method} plan=${planFor(SEED, i).kind} -> ${JSON.stringify(outcome, (_k, v) => (v && v.type === 'Buffer' ? `<${v.data.length} bytes>` : v))}\n`);
    if (outcome.kind === 'error' && !(outcome.code >= -9 && outcome.code <= -1 && Number.isInteger(outcome.code))) {
      failures.push({ kind: 'invariant', seed: SEED, index: i, detail: `error code ${outcome.code} is not one of the firmware's -1..-9`, repro: repro(i) });
    }
    if (outcome.kind === 'response') {
      const len = typeof outcome.body === 'number' ? outcome.body : outcome.body.length;
      maxBody = Math.max(maxBody, len);
      if (len > DEVICE_BYTES) {
        failures.push({ kind: 'invariant', seed: SEED, index: i, detail: `a ${(len / 1048576).toFixed(1)} MB body was accepted into memory; the device has ${(DEVICE_BYTES / 1048576).toFixed(1)} MB in all (plan ${planFor(SEED, i).kind})`, repro: repro(i) });
      }
    }
  };
  await new Promise<void>((resolve) => {
    const end = FROM + COUNT;
    const pump = () => {
      while (inFlight.size < CONCURRENCY && next < end && Date.now() < deadline) {
        const i = next++;
        inFlight.add(i);
        void one(i).finally(() => {
          inFlight.delete(i);
          done++;
          if (done % 1000 === 0) {
            const lo = inFlight.size ? Math.min(...inFlight) : next;
            progress.set(`http seed=${SEED} done=${done} oldest-in-flight=${lo}`);
            peakRss = Math.max(peakRss, rssMB() ?? 0);
          }
          if (inFlight.size === 0 && (next >= end || Date.now() >= deadline)) resolve();
          else pump();
        });
      }
      if (inFlight.size === 0) resolve();
    };
    pump();
  });
  netw.closeAll();
  peakRss = Math.max(peakRss, rssMB() ?? 0);
  return { done, codes, maxBody, sec: (Date.now() - t0) / 1000, peakRss };
}

function repro(i: number): string {
  return `node dist/scripts/fuzz/http.js --seed ${SEED} --from ${i} --count 1 --lua-count 0 --describe`;
}

// ------------------------------------------------------------------ Lua share

function luaProgram(port: number, from: number, count: number): string {
  return `
local PORT, FROM, COUNT, TASKS = ${port}, ${from}, ${count}, 16
local codes, bad, done, proto_bad = {}, {}, 0, {}
local next_i = FROM
local finished = 0
local NAMES = { ${HOSTILE_NAMES.map((n) => `"${n}"`).join(', ')} }
local function worker()
  while next_i < FROM + COUNT do
    local i = next_i
    next_i = next_i + 1
    __soak_case(i, "c")
    local ok, code, headers, body = pcall(function()
      return http.request("GET", "http://127.0.0.1:" .. PORT .. "/c/" .. i, nil, nil, { timeout = 1000 }).wait()
    end)
    local key
    if not ok then key = "pcall error"
    elseif type(code) ~= "number" then key = "code " .. type(code); bad[#bad + 1] = i
    elseif code < 0 then key = tostring(code)
    else
      key = (code >= 100 and code <= 599) and (math.floor(code / 100) .. "xx") or "odd status"
      if type(headers) ~= "table" or (type(body) ~= "string" and type(body) ~= "number") then bad[#bad + 1] = i end
    end
    __soak_end(i, "c", key)
    done = done + 1
    if i % 50 == 0 then
      -- hostile header names must arrive as ordinary keys of the header table
      __soak_case(i, "proto")
      local okp, c, h = pcall(function() return http.request("GET", "http://127.0.0.1:" .. PORT .. "/proto/" .. i, nil, nil, { timeout = 2000 }).wait() end)
      __soak_end(i, "proto")
      if not okp or c ~= 200 or type(h) ~= "table" then proto_bad[#proto_bad + 1] = "request " .. tostring(c)
      else
        for _, n in ipairs(NAMES) do
          if rawget(h, n) ~= n .. "-value" then proto_bad[#proto_bad + 1] = n end
        end
      end
    end
  end
  finished = finished + 1
  if finished == TASKS then
    local rows = {}
    for k, v in pairs(codes) do rows[#rows + 1] = k .. "=" .. v end
    table.sort(rows)
    local seen, pb = {}, {}
    for _, n in ipairs(proto_bad) do if not seen[n] then seen[n] = true; pb[#pb + 1] = n end end
    __soak_done(done, table.concat(rows, " "), table.concat(bad, ","), table.concat(pb, ","), #proto_bad)
  end
end
for _ = 1, TASKS do sys.taskInit(worker) end
sys.run()
`;
}

interface LuaBatch {
  result: { done: number; codes: string; bad: string; protoBad: string } | null;
  exit?: VmExit;
  /** highest case index started */
  last: number;
  /** cases in flight when the VM ended: "c:<i>" or "proto:<i>" */
  inFlight: string[];
  /** requests that completed (their codes are counted) */
  completed: number;
}

async function luaBatch(engine: EngineName, port: number, from: number, count: number, deadline: number, codes: Map<string, number>): Promise<LuaBatch> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-soak-http-'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-soak-data-'));
  fs.writeFileSync(path.join(dir, 'main.lua'), luaProgram(port, from, count));
  const sink = new LogSink({ stream: null });
  const netw = new DirectNetwork();
  const device = new Device({ scripts: dir, engine, profile: makeProfile({ exitRebootDelayMs: 0 }, {}), log: sink, dataDir, reboot: 'exit', network: netw });
  const out: LuaBatch = { result: null, last: from - 1, inFlight: [], completed: 0 };
  const inFlight = new Set<string>();
  device.on('boot', () => {
    const vm = device.vm!;
    vm.setGlobalFunction('__soak_case', (a) => {
      const i = a.e.tointeger(a.L, 1) ?? -1;
      const k = a.e.tostring(a.L, 2) ?? 'c';
      inFlight.add(`${k}:${i}`);
      out.last = Math.max(out.last, i);
      progress.set(`http-lua ${engine} seed=${SEED} case=${i}`);
      if (Date.now() > deadline) throw new Error('soak: time budget used up');
    });
    vm.setGlobalFunction('__soak_end', (a) => {
      inFlight.delete(`${a.e.tostring(a.L, 2) ?? 'c'}:${a.e.tointeger(a.L, 1) ?? -1}`);
      const key = a.e.tostring(a.L, 3);
      if (key) {
        bump(codes, key);
        out.completed++;
      }
    });
    vm.setGlobalFunction('__soak_done', (a) => {
      out.result = { done: a.e.tointeger(a.L, 1) ?? 0, codes: a.e.tostring(a.L, 2) ?? '', bad: a.e.tostring(a.L, 3) ?? '', protoBad: a.e.tostring(a.L, 4) ?? '' };
      setImmediate(() => device.stop());
    });
  });
  await new Promise<void>((resolve, reject) => {
    device.on('vmexit', (x: VmExit) => {
      if (!out.result) {
        out.exit = x;
        out.inFlight = [...inFlight];
      }
    });
    device.on('stopped', () => resolve());
    device.start().catch(reject);
  });
  device.dispose();
  netw.closeAll();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
  return out;
}

const MAX_LUA_DEATHS = argNum('--max-deaths', 10);

/** The Lua share on one engine: batches until `count` cases ran; a VM death is recorded and the run goes on after it. */
async function luaShare(engine: EngineName, port: number, from: number, count: number, failures: Failure[], deadline: number): Promise<{ done: number; codes: Map<string, number>; protoBad: Set<string>; deaths: number }> {
  const codes = new Map<string, number>();
  const protoBad = new Set<string>();
  let done = 0;
  let deaths = 0;
  let at = from;
  const end = from + count;
  while (at < end) {
    const r = await luaBatch(engine, port, at, end - at, deadline, codes);
    done += r.completed;
    if (r.result) {
      for (const n of r.result.protoBad.split(',')) if (n) protoBad.add(n);
      if (r.result.bad) failures.push({ kind: 'invariant', seed: SEED, detail: `${engine}: http.request(...).wait() gave a non-number code or a response without a header table/body for cases ${r.result.bad.slice(0, 200)}` });
      break;
    }
    const msg = r.exit ? `${r.exit.kind}: ${(r.exit.message ?? '').split('\n')[0]}` : 'device stopped';
    if (/time budget used up/.test(msg)) {
      failures.push({ kind: 'incomplete', seed: SEED, detail: `http-lua ${engine}: time budget used up at case ${r.last}` });
      break;
    }
    deaths++;
    // the requests in flight, the likely culprits (hostile header names, huge bodies) first
    const SUSPECT = ['proto-check', 'proto-headers', 'huge-body'];
    const rank = (plan: string) => (SUSPECT.includes(plan) ? SUSPECT.indexOf(plan) : SUSPECT.length);
    const culprits = r.inFlight
      .map((k) => {
        const [kind, i] = k.split(':');
        return { k, plan: kind === 'proto' ? 'proto-check' : planFor(SEED, Number(i)).kind };
      })
      .sort((a, b) => rank(a.plan) - rank(b.plan))
      .map((c) => `${c.k} (${c.plan})`);
    const firstC = culprits.find((k) => k.startsWith('c:'));
    const first = firstC ? firstC.split(' ')[0] : undefined;
    failures.push({
      kind: 'vm-death',
      seed: SEED,
      index: first ? Number(first.slice(2)) : r.last,
      detail: `http-lua ${engine}: ${msg.slice(0, 200)}; requests in flight (likely culprits first): ${culprits.slice(0, 4).join(', ')}${culprits.length > 4 ? ` and ${culprits.length - 4} more` : ''}`,
      repro: `node dist/scripts/fuzz/http.js --seed ${SEED} --count 0 --lua-count 16 --lua-from ${Math.max(0, r.last - 15)} (or replay one in-flight case through the client layer: ${repro(first ? Number(first.slice(2)) : r.last)})`,
    });
    if (deaths >= MAX_LUA_DEATHS) {
      failures.push({ kind: 'vm-death', seed: SEED, detail: `http-lua ${engine}: stopped after ${deaths} VM deaths (${done} of ${count} requests done)` });
      break;
    }
    at = r.last + 1;
  }
  return { done, codes, protoBad, deaths };
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const deadline = t0 + MAX_SEC * 1000;
  const failures: Failure[] = [];
  const { server, port, kinds } = await startServer(SEED);
  const rss0 = rssMB();
  const ts = await tsShare(port, failures, deadline - (LUA_COUNT > 0 ? Math.min(60_000, (MAX_SEC * 1000) / 4) : 0));
  if (ts.done < COUNT) failures.push({ kind: 'incomplete', seed: SEED, detail: `client layer: ${ts.done} of ${COUNT} requests within the time budget` });
  const rows: Array<[string, string | number]> = [
    ['responses, client layer from TS', `${ts.done} in ${ts.sec.toFixed(1)} s, ${CONCURRENCY} in flight, timeout ${TIMEOUT_MS} ms`],
    ['  results by code', fmtCounts(ts.codes)],
    ['  server plans', fmtCounts(kinds)],
    ['  largest body accepted', `${(ts.maxBody / 1024).toFixed(0)} KB (device memory ${(DEVICE_BYTES / 1048576).toFixed(1)} MB)`],
    ['  RSS before / peak', `${fmtMB(rss0)} / ${fmtMB(ts.peakRss)}`],
  ];
  if (LUA_COUNT > 0) {
    for (const engine of ['wasmoon', 'fengari'] as EngineName[]) {
      const n = engine === 'wasmoon' ? LUA_COUNT : Math.ceil(LUA_COUNT / 3);
      const from = LUA_FROM ?? LUA_BASE + (engine === 'wasmoon' ? 0 : 100_000_000) + FROM;
      const t1 = Date.now();
      const r = await luaShare(engine, port, from, n, failures, deadline);
      rows.push([`responses through Lua (${engine})`, `${r.done} in ${((Date.now() - t1) / 1000).toFixed(1)} s, 16 tasks, pcall(http.request(...).wait()), ${r.deaths} VM deaths`]);
      rows.push(['  results by code', fmtCounts(r.codes) || '—']);
      if (r.protoBad.size) {
        failures.push({ kind: 'invariant', seed: SEED, detail: `${engine}: response headers named ${[...r.protoBad].join(', ')} are missing from the header table or have the wrong value` });
      }
      rows.push(['  hostile header names (__proto__, ...)', r.protoBad.size ? `LOST: ${[...r.protoBad].join(', ')}` : r.deaths ? 'checked only where the VM survived' : 'all arrive as ordinary keys']);
    }
  }
  rows.push(['VM deaths', failures.filter((f) => f.kind === 'vm-death').length]);
  rows.push(['seed', SEED]);
  server.close();
  printResult({ part: 'http', rows, failures });
  progress.close();
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`http fuzz: ${(e as Error)?.stack ?? e}\n`);
      process.exit(3);
    },
  );
}
