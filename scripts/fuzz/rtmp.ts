/**
 * RTMP fuzz (part of `npm run soak`): hostile RTMP server byte streams against the device's
 * publisher (runtime/media/rtmp), with the generators of test/rtmp/fuzz-gen.ts (shared with
 * test/rtmp/fuzz.test.ts, imported, not copied):
 * - most sessions run over an in-memory socket (`memorySocket`: a server that answers the
 *   handshake, then sends the hostile pieces), like the unit test but ≥ 100,000 of them;
 * - a smaller share runs over real TCP on 127.0.0.1: a server that sends hostile bytes in
 *   place of the handshake, or completes the handshake and then sends them.
 *
 * Stream kinds: random pieces; hostile chunk streams (huge sizes, unknown types, chunk size
 * changes, extended timestamps) in random pieces; AMF0 commands (`_result`, `onStatus`,
 * `_error`, `onBWDone`, random names) with random AMF0 values; each optionally after a valid
 * connect `_result`.
 *
 * Case `i` of seed `s` is `fc.sample(arbitrary, { seed: caseSeed(s, i), numRuns: 1 })`: it
 * replays alone with `node dist/scripts/fuzz/rtmp.js --seed S --from I --count 1 --tcp-count 0`.
 *
 * Invariants (a break is a failure with seed + index): connect/getStats/statsLine/pushVideo/
 * destroy never throw; the state is one of the publisher's; over TCP every session reaches
 * ERROR, IDLE or PUBLISHING within its step timeout plus 3 s (no hang); no exception reaches
 * Node.
 */
import * as fc from 'fast-check';
import * as net from 'node:net';
import { encodeAmf0, type Amf0Value } from '../../runtime/media/rtmp/amf0';
import { ChunkWriter } from '../../runtime/media/rtmp/chunk-writer';
import { RtmpPublisher, RtmpState } from '../../runtime/media/rtmp';
import { amfValue, connectOkBytes, hostileChunkStream, memorySocket, randomServerPieces } from '../../test/rtmp/fuzz-gen';
import { argNum, argStr, bump, caseSeed, delay, Failure, fmtCounts, fmtMB, printResult, Progress, rssMB } from '../soak/common';

const SEED = argNum('--seed', 1) >>> 0;
const FROM = argNum('--from', 0);
const COUNT = argNum('--count', 100_000);
const TCP_COUNT = argNum('--tcp-count', 1000);
const MAX_SEC = argNum('--max-sec', 600);
const progress = new Progress(argStr('--progress'));
const TCP_TIMEOUT_MS = 300;
/** the TCP share uses indices from here, so its cases differ from the in-memory share's */
const TCP_BASE = 1_000_000_000;

const commandStream: fc.Arbitrary<Buffer[]> = fc
  .tuple(
    fc.array(
      fc.tuple(
        fc.oneof(fc.constantFrom('_result', 'onStatus', '_error', 'onBWDone', 'close', '_checkbw', 'onFCPublish'), fc.string({ maxLength: 12 })),
        fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, -1, NaN, 1e308), fc.double()),
        fc.array(amfValue, { maxLength: 3 }),
        fc.constantFrom(3, 4, 5, 8),
        fc.constantFrom(0, 1, 2),
      ),
      { minLength: 1, maxLength: 5 },
    ),
    fc.integer({ min: 1, max: 400 }),
  )
  .map(([cmds, split]) => {
    const w = new ChunkWriter();
    const all = Buffer.concat(
      cmds.map(([name, tx, vals, csid, sid]) => w.encode({ csid, type: 20, streamId: sid, timestamp: 0, payload: encodeAmf0(name, tx, ...(vals as Amf0Value[])) })),
    );
    const parts: Buffer[] = [];
    for (let i = 0; i < all.length; i += split) parts.push(all.subarray(i, i + split));
    return parts;
  });

interface Case {
  kind: string;
  pieces: Buffer[];
}

const caseArb: fc.Arbitrary<Case> = fc
  .tuple(
    fc.oneof(
      randomServerPieces.map((pieces) => ({ kind: 'random', pieces })),
      hostileChunkStream.map((pieces) => ({ kind: 'chunks', pieces })),
      commandStream.map((pieces) => ({ kind: 'commands', pieces })),
    ),
    fc.boolean(),
  )
  .map(([c, prefix]) => (prefix ? { kind: `connect-ok+${c.kind}`, pieces: [connectOkBytes(), ...c.pieces] } : c));

export function caseFor(seed: number, index: number): Case {
  return fc.sample(caseArb, { seed: caseSeed(seed, index) | 0, numRuns: 1 })[0];
}

const ALLOWED = new Set<number>([RtmpState.IDLE, RtmpState.CONNECTING, RtmpState.HANDSHAKING, RtmpState.CONNECTED, RtmpState.PUBLISHING, RtmpState.DISCONNECTING, RtmpState.ERROR]);

function repro(i: number, tcp: boolean): string {
  return tcp ? `node dist/scripts/fuzz/rtmp.js --seed ${SEED} --count 0 --tcp-count 1 --tcp-from ${i}` : `node dist/scripts/fuzz/rtmp.js --seed ${SEED} --from ${i} --count 1 --tcp-count 0`;
}

const FRAME = { data: Buffer.from([0, 0, 0, 1, 0x65, 1, 2, 3]), dts: 0, pts: 0, keyframe: true };

async function memoryShare(failures: Failure[], deadline: number): Promise<{ done: number; outcomes: Map<string, number>; kinds: Map<string, number>; sec: number }> {
  const outcomes = new Map<string, number>();
  const kinds = new Map<string, number>();
  const t0 = Date.now();
  let done = 0;
  for (let i = FROM; i < FROM + COUNT && Date.now() < deadline; i++) {
    progress.set(`rtmp seed=${SEED} case=${i}`);
    const c = caseFor(SEED, i);
    bump(kinds, c.kind.replace(/^connect-ok\+/, ''));
    let lastCode: number | undefined;
    let pub: RtmpPublisher | undefined;
    try {
      pub = new RtmpPublisher('rtmp://127.0.0.1/live/x', { statsIntervalMs: 0, timeoutMs: 50, connect: () => memorySocket(c.pieces), autoPublish: true });
      pub.on('state', (_s: number, _o: number, code?: number) => {
        if (code !== undefined) lastCode = code;
      });
      pub.on('error', () => {});
      pub.connect();
      for (let k = 0; k < 6; k++) await new Promise((r) => setImmediate(r));
      pub.getStats();
      pub.statsLine();
      pub.pushVideo(FRAME);
      if (!ALLOWED.has(pub.state)) failures.push({ kind: 'invariant', seed: SEED, index: i, detail: `state ${pub.state} is not a publisher state (${c.kind})`, repro: repro(i, false) });
      bump(outcomes, `${RtmpState[pub.state] ?? pub.state}${lastCode !== undefined ? `(${lastCode})` : ''}`);
    } catch (e) {
      failures.push({ kind: 'exception', seed: SEED, index: i, detail: `${c.kind}: ${(e as Error)?.stack?.split('\n').slice(0, 2).join(' | ') ?? e}`, repro: repro(i, false) });
      bump(outcomes, 'threw');
    } finally {
      try {
        pub?.destroy();
      } catch (e) {
        failures.push({ kind: 'exception', seed: SEED, index: i, detail: `destroy() threw: ${(e as Error)?.message}`, repro: repro(i, false) });
      }
    }
    done++;
    if (failures.length > 200) break;
  }
  return { done, outcomes, kinds, sec: (Date.now() - t0) / 1000 };
}

/** A loopback server: each connection gets case `index`'s bytes (told by the client side through a map keyed by port). */
async function tcpShare(failures: Failure[], deadline: number): Promise<{ done: number; outcomes: Map<string, number>; sec: number }> {
  const outcomes = new Map<string, number>();
  const t0 = Date.now();
  let current: { c: Case; handshake: boolean } | null = null;
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    const plan = current;
    if (!plan) {
      sock.destroy();
      return;
    }
    if (!plan.handshake) {
      // hostile bytes instead of S0 S1 S2
      for (const p of plan.c.pieces) sock.write(p);
      sock.end();
      return;
    }
    let got = 0;
    let stage = 0;
    sock.on('data', (d: Buffer) => {
      got += d.length;
      if (stage === 0 && got >= 1537) {
        stage = 1;
        sock.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536 * 2, 1)]));
      }
      if (stage === 1 && got >= 1537 + 1536) {
        stage = 2;
        for (const p of plan.c.pieces) sock.write(p);
        if (plan.c.pieces.length % 2 === 0) sock.end(); // else keep it open: the publisher's timeout must end it
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const from = argNum('--tcp-from', TCP_BASE + FROM);
  let done = 0;
  for (let i = from; i < from + TCP_COUNT && Date.now() < deadline; i++) {
    progress.set(`rtmp-tcp seed=${SEED} case=${i}`);
    const c = caseFor(SEED, i);
    current = { c, handshake: caseSeed(SEED, i) % 5 !== 0 };
    const pub = new RtmpPublisher(`rtmp://127.0.0.1:${port}/live/x`, { statsIntervalMs: 0, timeoutMs: TCP_TIMEOUT_MS, autoPublish: true });
    let lastCode: number | undefined;
    const settled = new Promise<void>((resolve) => {
      pub.on('state', (s: number, _o: number, code?: number) => {
        if (code !== undefined) lastCode = code;
        if (s === RtmpState.ERROR || s === RtmpState.IDLE || s === RtmpState.PUBLISHING) resolve();
      });
    });
    pub.on('error', () => {});
    try {
      pub.connect();
      const ok = await Promise.race([settled.then(() => true), delay(TCP_TIMEOUT_MS * 6 + 3000).then(() => false)]);
      pub.getStats();
      pub.pushVideo(FRAME);
      if (!ok) {
        failures.push({ kind: 'hang', seed: SEED, index: i, detail: `over TCP: still ${RtmpState[pub.state]} ${TCP_TIMEOUT_MS * 6 + 3000} ms after connect (step timeout ${TCP_TIMEOUT_MS} ms; ${c.kind}, handshake ${current.handshake ? 'done' : 'replaced'})`, repro: repro(i, true) });
        bump(outcomes, 'hang');
      } else {
        bump(outcomes, `${RtmpState[pub.state]}${lastCode !== undefined ? `(${lastCode})` : ''}`);
      }
    } catch (e) {
      failures.push({ kind: 'exception', seed: SEED, index: i, detail: `over TCP: ${(e as Error)?.message}`, repro: repro(i, true) });
    } finally {
      pub.destroy();
    }
    done++;
  }
  server.close();
  return { done, outcomes, sec: (Date.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  const deadline = Date.now() + MAX_SEC * 1000;
  const failures: Failure[] = [];
  process.on('uncaughtException', (e) => {
    failures.push({ kind: 'node-exception', seed: SEED, detail: `uncaught: ${(e as Error)?.stack?.split('\n').slice(0, 3).join(' | ') ?? e} (during ${progress.last})` });
  });
  const rss0 = rssMB();
  const mem = await memoryShare(failures, deadline - (TCP_COUNT > 0 ? 30_000 : 0));
  const rss1 = rssMB();
  const tcp = TCP_COUNT > 0 ? await tcpShare(failures, deadline) : null;
  if (mem.done < COUNT) failures.push({ kind: 'incomplete', seed: SEED, detail: `in-memory sessions: ${mem.done} of ${COUNT} within the time budget` });
  const rows: Array<[string, string | number]> = [
    ['hostile server streams, in-memory socket', `${mem.done} sessions in ${mem.sec.toFixed(1)} s`],
    ['  stream kinds', fmtCounts(mem.kinds)],
    ['  final state (last error code)', fmtCounts(mem.outcomes)],
    ['  RSS before / after', `${fmtMB(rss0)} / ${fmtMB(rss1)}`],
  ];
  if (tcp) {
    rows.push(['hostile server streams over TCP (127.0.0.1)', `${tcp.done} sessions in ${tcp.sec.toFixed(1)} s, step timeout ${TCP_TIMEOUT_MS} ms`]);
    rows.push(['  final state (last error code)', fmtCounts(tcp.outcomes)]);
  }
  rows.push(['seed', SEED]);
  printResult({ part: 'rtmp', rows, failures });
  progress.close();
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`rtmp fuzz: ${(e as Error)?.stack ?? e}\n`);
      process.exit(3);
    },
  );
}
