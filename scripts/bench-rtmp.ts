/**
 * RTMP publisher benchmark (issue 4): OUR publisher (runtime/media/rtmp) against `ffmpeg -c copy -f flv`.
 * A script, not a test: it prints medians, ratios and PASS/MISS against the issue's targets and
 * asserts nothing.
 *
 *   npx tsc -p . && node dist/scripts/bench-rtmp.js [--rounds 3] [--seconds 30] [--warmup 6]
 *       [--ramp 25,50,100,200,300] [--max-streams 1000] [--step-seconds 8] [--ramp-budget 100]
 *       [--connects 20] [--prewarm 9000] [--ffmpeg-re] [--regen] [--skip-ab] [--skip-ramp] [--skip-connect]
 *       [--skip-lua-publish | --lua-publish-only]
 *
 * Last row (scripts/bench/lua-publish.ts): the demo's Lua-driven publish with the device in a
 * worker thread (as `luatos run` runs it) vs in-process, CPU per stream-minute and the ratio.
 *
 * What runs (everything on 127.0.0.1, every child killed at the end and on Ctrl-C):
 *  - Stream: scripts/bench/clip.ts encodes ONE H.264 stream with ffmpeg/libx264 into a temp dir
 *    (720p15, GOP 30, baseline, ~1 Mbit/s, `--seconds` long) as FLV, a framed container, so both
 *    publishers get identical access units with identical timestamps.
 *  - Server: node-media-server 4 in a child process (scripts/bench/nms-child.ts), reached through
 *    a TCP tap (scripts/bench/tap.ts) in this process that counts bytes and timestamps, per access
 *    unit, the moment its last byte is read from the publisher's connection ("server arrival").
 *  - A/B, alternating, `--rounds` rounds (even rounds ours first, odd rounds ffmpeg first), one
 *    publisher at a time, each pushing the whole clip in real time (frame i at t0 + dts_i):
 *      ours:   a fresh child Node process (scripts/bench/pub-child.ts) runs RtmpPublisher and
 *              calls pushVideo(frame i) at its due time; the feed time is taken just before
 *              pushVideo. CPU = process.cpuUsage() of that child.
 *      ffmpeg: `ffmpeg -f flv -i pipe:0 -c copy -f flv -flvflags no_duration_filesize rtmp://…`
 *              (rtmp-notes §4.3: framed input, so ffmpeg's raw-H.264 parser never has to wait for
 *              the next frame); this process writes the FLV header, metadata and sequence header
 *              at once and then tag i at its due time (feed time = just before the write). `-re` is
 *              left out by default: the feed is already real time, and `-re` starts its clock after
 *              the ~5 s input probe, which then delays every frame by ~5 s (`--ffmpeg-re` shows it).
 *              CPU = utime + stime from /proc/<pid>/stat.
 *    Before its measured publish, our child is JIT-warmed (`--prewarm` frames pushed as fast as
 *    the socket takes them to the sink; V8 needs several thousand pushVideo calls to reach fully
 *    optimised code: measured 163 / 110 / 38 µs CPU per frame over frames 0–3000 / 3000–6000 /
 *    6000–9000; a 30 s real-time run has 450); `--prewarm 0` measures a cold process. The CPU per
 *    frame over the second half of that burst is printed as "hot" (the publisher's own cost when
 *    the process stays busy).
 *    During each ffmpeg run, a second Node child runs the same paced loop without any publisher:
 *    its CPU is the runtime floor of a Node process waking 15×/s (printed as info).
 *    Metrics, over the steady part (frames fed at least `--warmup` seconds after the first; ffmpeg
 *    probes its input for ~5 s before it connects):
 *      CPU s per stream-minute = CPU in [feed of the first steady frame, last feed + 300 ms]
 *                                ÷ that wall time in minutes; cross-checked for both with the
 *                                ns scheduler accounting in /proc/<pid>/task/<tid>/schedstat;
 *      latency = tap arrival − feed time, per access unit (p50/p95/max); the child's clock is
 *                mapped to ours with an IPC round-trip offset (error < rtt/2, printed);
 *      wire bytes = all client→server bytes of the connection at the tap (handshake, commands,
 *                   metadata, sequence header, frames, end-of-stream commands).
 *  - Capacity ramp: one child Node process runs N publishers (N = 25, 50, 100, 200, 300, then
 *    +100 up to `--max-streams`, bounded by `--ramp-budget` seconds) of the same ~1 Mbit/s stream,
 *    phase-staggered, against a minimal in-process sink (scripts/bench/sink.ts: handshake,
 *    connect/createStream/publish answers, byte counting and arrival timestamps; no relay), for
 *    `--step-seconds` each. Latency = sink arrival − scheduled feed time (so event-loop lag of the
 *    publishing process counts); frames lost or dropped count as infinitely late. A step passes
 *    when all N publish, nothing is lost or dropped and p95 < 200 ms.
 *  - connect()→PUBLISHING: `--connects` sequential fresh publishers in a child process, directly
 *    to node-media-server (the target) and to the sink (server cost ≈ 0), median.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { locateFfmpeg } from '../runtime/media/ffmpeg/locate';
import { spawnTracked, killAllChildren, killTree } from '../runtime/media/ffmpeg/child-registry';
import { makeClip, type Clip, type ClipSpec } from './bench/clip';
import { RtmpTap, type TapConn } from './bench/tap';
import { RtmpSink } from './bench/sink';
import { IpcChild } from './bench/procs';
import { NMS_CHILD_ENTRY } from './bench/nms-child';
import { PUB_CHILD_ENTRY, dtsAt, type AbJob, type AbResult, type IdleJob, type IdleResult, type MultiJob, type MultiResult, type ConnectJob, type ConnectResult } from './bench/pub-child';
import { busyCores, delay, fmt, loadAvg, machineCpu, median, nowMs, pct, procCpuSeconds, procRssMB, procSchedSeconds, sortNum } from './bench/util';
import { luaPublishRows } from './bench/lua-publish';

// ------------------------------------------------------------------------------------ options

interface Options {
  rounds: number;
  seconds: number;
  warmup: number;
  ramp: number[];
  maxStreams: number;
  stepSeconds: number;
  rampBudget: number;
  connects: number;
  prewarm: number;
  ffmpegRe: boolean;
  regen: boolean;
  skipAb: boolean;
  skipRamp: boolean;
  skipConnect: boolean;
  /** only the Lua-driven publish rows (device in a worker vs in-process) */
  luaPublishOnly: boolean;
  skipLuaPublish: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    rounds: 3,
    seconds: 30,
    warmup: 6,
    ramp: [25, 50, 100, 200, 300],
    maxStreams: 1000,
    stepSeconds: 8,
    rampBudget: 100,
    connects: 20,
    prewarm: 9000,
    ffmpegRe: false,
    regen: false,
    skipAb: false,
    skipRamp: false,
    skipConnect: false,
    luaPublishOnly: false,
    skipLuaPublish: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const num = () => {
      const n = Number(val());
      if (!Number.isFinite(n) || n < 0) throw new Error(`${a}: not a number`);
      return n;
    };
    const name = a.split('=')[0];
    switch (name) {
      case '--rounds': o.rounds = Math.max(1, Math.round(num())); break;
      case '--seconds': o.seconds = num(); break;
      case '--warmup': o.warmup = num(); break;
      case '--ramp': o.ramp = val().split(',').map(Number).filter((n) => n > 0); break;
      case '--max-streams': o.maxStreams = Math.round(num()); break;
      case '--step-seconds': o.stepSeconds = num(); break;
      case '--ramp-budget': o.rampBudget = num(); break;
      case '--connects': o.connects = Math.max(1, Math.round(num())); break;
      case '--prewarm': o.prewarm = Math.round(num()); break;
      case '--ffmpeg-re': o.ffmpegRe = true; break;
      case '--regen': o.regen = true; break;
      case '--skip-ab': o.skipAb = true; break;
      case '--skip-ramp': o.skipRamp = true; break;
      case '--skip-connect': o.skipConnect = true; break;
      case '--lua-publish-only': o.luaPublishOnly = true; break;
      case '--skip-lua-publish': o.skipLuaPublish = true; break;
      case '-h':
      case '--help':
        console.log(/\/\*\*[\s\S]*?\*\//.exec(fs.readFileSync(__filename, 'utf8'))?.[0] ?? 'see scripts/bench-rtmp.ts');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  return o;
}

// ------------------------------------------------------------------------------------ helpers

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

const cleanups: (() => Promise<void> | void)[] = [];
let cleaning = false;

async function cleanup(): Promise<void> {
  if (cleaning) return;
  cleaning = true;
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {
      /* best effort */
    }
  }
  killAllChildren('SIGKILL');
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    console.log(`\n${sig}: stopping every child and exiting`);
    killAllChildren('SIGKILL');
    void cleanup().finally(() => process.exit(130));
    setTimeout(() => process.exit(130), 3000).unref();
  });
}

async function startNms(dir: string): Promise<{ port: number; child: IpcChild }> {
  const port = await freePort();
  const child = new IpcChild(NMS_CHILD_ENTRY, [String(port), dir], 'bench-nms');
  const m = await child.wait('ready', 15_000);
  if (m.ev !== 'ready') throw new Error(`node-media-server did not start: ${m.error ?? ''}`);
  return { port, child };
}

interface RunMetrics {
  who: 'ours' | 'ffmpeg';
  round: number;
  ok: boolean;
  error?: string;
  fed: number;
  delivered: number;
  tsMismatch: number;
  cpuWindowS: number;
  windowMs: number;
  cpuPerStreamMin: number;
  /** same window from schedstat (ns, all threads) */
  schedPerStreamMin: number;
  /** ffmpeg runs: a Node child running the same paced loop without a publisher, at the same time */
  idlePerStreamMin: number;
  cpuTotalS: number;
  rssMB: number;
  lat: number[];
  p50: number;
  p95: number;
  max: number;
  wireBytes: number;
  mediaBytes: number;
  startupMs: number;
  clockErr: number;
  dropped: number;
  /** tap: TCP accept → publish command */
  openToPublishMs: number;
  /** machine-wide busy cores during the run (everything, other users included) */
  machineBusy: number;
  prewarmMs: number;
  hotUsPerFrame: number;
  /** video messages node-media-server itself broadcast for the stream (sequence headers included) */
  nmsVideo: number;
  stream: string;
}

function analyse(who: 'ours' | 'ffmpeg', round: number, clip: Clip, frames: number, warm: number, feed: number[], conn: TapConn | undefined): RunMetrics {
  const m: RunMetrics = {
    who, round, ok: !!conn, fed: feed.length, delivered: conn?.arrivals.length ?? 0, tsMismatch: 0,
    cpuWindowS: NaN, windowMs: NaN, cpuPerStreamMin: NaN, schedPerStreamMin: NaN, idlePerStreamMin: NaN, cpuTotalS: NaN, rssMB: NaN,
    lat: [], p50: NaN, p95: NaN, max: NaN, wireBytes: conn?.bytesUp ?? NaN, mediaBytes: conn?.mediaPayloadBytes ?? NaN,
    startupMs: NaN, clockErr: 0, dropped: 0, openToPublishMs: NaN, machineBusy: NaN, prewarmMs: 0, hotUsPerFrame: NaN, nmsVideo: NaN, stream: conn?.stream ?? '',
  };
  if (!conn) {
    m.error = 'no connection with that stream name at the tap';
    return m;
  }
  const d0 = clip.frames[0].dts;
  const t0 = conn.timestamps[0] ?? 0;
  for (let i = 0; i < Math.min(conn.timestamps.length, frames); i++) {
    if (conn.timestamps[i] - t0 !== clip.frames[i].dts - d0) m.tsMismatch++;
  }
  if (conn.arrivals.length > 0 && feed.length > 0) m.startupMs = conn.arrivals[0] - feed[0];
  if (conn.publishAt !== undefined) m.openToPublishMs = conn.publishAt - conn.openedAt;
  for (let i = warm; i < frames; i++) {
    const a = conn.arrivals[i];
    m.lat.push(a === undefined ? Infinity : a - feed[i]);
  }
  const s = sortNum(m.lat);
  m.p50 = pct(s, 50);
  m.p95 = pct(s, 95);
  m.max = s[s.length - 1];
  return m;
}

async function waitClosed(tap: RtmpTap, stream: string, ms: number): Promise<TapConn | undefined> {
  const t0 = Date.now();
  for (;;) {
    const c = tap.byStream(stream);
    if ((c && c.closedAt !== undefined) || Date.now() - t0 > ms) return c;
    await delay(20);
  }
}

// ------------------------------------------------------------------------------------ A/B runs

async function runOurs(round: number, clip: Clip, tap: RtmpTap, frames: number, warm: number, prewarmFrames: number, prewarmUrl: string): Promise<RunMetrics> {
  const stream = `ours_r${round}_${process.pid}`;
  const child = new IpcChild(PUB_CHILD_ENTRY, [], 'bench-ours');
  try {
    const hello = await child.wait('hello', 10_000);
    if (hello.ev !== 'hello') throw new Error(hello.error);
    const clock = await child.syncClock();
    const job: AbJob = { kind: 'ab', url: tap.url('live', stream), clipFile: clip.file, spec: clip.spec, frames, warmFrames: warm, tailMs: 300, prewarmFrames, prewarmUrl };
    child.send({ cmd: 'job', job });
    const r = (await child.wait('ab', (frames / clip.spec.fps) * 1000 + 30_000)) as AbResult & { error?: string };
    if (r.ev !== 'ab' || !r.ok) {
      const bad = analyse('ours', round, clip, frames, warm, [], undefined);
      bad.ok = false;
      bad.error = r.error ?? 'publisher child failed';
      return bad;
    }
    const feed = r.feed.map((t) => t - clock.offset);
    const conn = await waitClosed(tap, stream, 3000);
    const m = analyse('ours', round, clip, frames, warm, feed, conn);
    m.cpuWindowS = r.cpuWindowS;
    m.windowMs = r.windowMs;
    m.cpuPerStreamMin = r.cpuWindowS / (r.windowMs / 60000);
    m.schedPerStreamMin = r.schedWindowS / (r.windowMs / 60000);
    m.cpuTotalS = r.cpuTotalS;
    m.rssMB = r.rssMB;
    m.clockErr = clock.rtt / 2;
    m.dropped = r.droppedFrames;
    m.prewarmMs = r.prewarmMs;
    m.hotUsPerFrame = r.hotUsPerFrame ?? NaN;
    return m;
  } finally {
    await child.stop();
  }
}

async function runFfmpeg(round: number, clip: Clip, tap: RtmpTap, frames: number, warm: number, ffmpeg: string, useRe: boolean): Promise<RunMetrics> {
  const stream = `ff_r${round}_${process.pid}`;
  const args = [
    '-hide_banner', '-loglevel', 'error',
    ...(useRe ? ['-re'] : []),
    '-f', 'flv', '-i', 'pipe:0',
    '-c', 'copy', '-f', 'flv', '-flvflags', 'no_duration_filesize',
    tap.url('live', stream),
  ];
  const proc: ChildProcess = spawnTracked(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'], name: 'bench-ffmpeg' });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-10_000);
  });
  proc.stdin!.on('error', () => undefined);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  // the Node pacing baseline runs at the same time in its own child (same loop, no publisher)
  const idle = new IpcChild(PUB_CHILD_ENTRY, [], 'bench-idle');
  const idleHello = await idle.wait('hello', 10_000);
  if (idleHello.ev === 'hello') {
    const ij: IdleJob = { kind: 'idle', frames, fps: clip.spec.fps, warmFrames: warm, tailMs: 300 };
    idle.send({ cmd: 'job', job: ij });
  }
  const feed: number[] = [];
  let sch0 = NaN;
  let sch1: number;
  let cpu0 = NaN;
  let w0 = NaN;
  let cpu1: number;
  let w1: number;
  let rss: number;
  try {
    proc.stdin!.write(clip.flvPrefix);
    const t0 = nowMs() + 20;
    const d0 = clip.frames[0].dts;
    for (let i = 0; i < frames; i++) {
      const f = clip.frames[i];
      const wait = t0 + (f.dts - d0) - nowMs();
      if (wait > 0) await delay(wait);
      if (i === warm) {
        cpu0 = procCpuSeconds(proc.pid) ?? NaN;
        sch0 = procSchedSeconds(proc.pid) ?? NaN;
        w0 = nowMs();
      }
      feed.push(nowMs());
      proc.stdin!.write(f.flvTag);
    }
    await delay(300);
    cpu1 = procCpuSeconds(proc.pid) ?? NaN;
    sch1 = procSchedSeconds(proc.pid) ?? NaN;
    w1 = nowMs();
    rss = procRssMB(proc.pid) ?? NaN;
    proc.stdin!.end();
    await Promise.race([exited, delay(5000)]);
  } finally {
    await killTree(proc, 'SIGKILL');
  }
  const ir = (idleHello.ev === 'hello' ? await idle.wait('idle', 10_000) : idleHello) as IdleResult & { error?: string };
  await idle.stop();
  const conn = await waitClosed(tap, stream, 3000);
  const m = analyse('ffmpeg', round, clip, frames, warm, feed, conn);
  if (!conn && stderr) m.error = `ffmpeg: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
  m.cpuWindowS = cpu1 - cpu0;
  m.windowMs = w1 - w0;
  m.cpuPerStreamMin = m.cpuWindowS / (m.windowMs / 60000);
  m.schedPerStreamMin = (sch1 - sch0) / (m.windowMs / 60000);
  if (ir.ev === 'idle') m.idlePerStreamMin = ir.cpuWindowS / (ir.windowMs / 60000);
  m.cpuTotalS = cpu1;
  m.rssMB = rss;
  return m;
}

function runLine(m: RunMetrics): string {
  if (!m.ok) return `  round ${m.round} ${m.who.padEnd(6)} FAILED: ${m.error}`;
  return (
    `  round ${m.round} ${m.who.padEnd(6)} frames ${m.delivered}/${m.fed}` +
    (m.tsMismatch ? ` (ts mismatch ${m.tsMismatch})` : '') +
    (m.dropped ? ` dropped ${m.dropped}` : '') +
    `  CPU ${fmt(m.cpuWindowS, 3)} s in ${fmt(m.windowMs / 1000, 1)} s = ${fmt(m.cpuPerStreamMin, 3)} s/stream-min (schedstat ${fmt(m.schedPerStreamMin, 3)}${m.who === 'ffmpeg' ? `; Node paced loop without publisher ${fmt(m.idlePerStreamMin, 3)}` : ''}; process total ${fmt(m.cpuTotalS, 2)} s, RSS ${fmt(m.rssMB, 0)} MB)` +
    `  latency p50 ${fmt(m.p50, 2)} p95 ${fmt(m.p95, 2)} max ${fmt(m.max, 1)} ms` +
    `  NMS broadcast ${m.nmsVideo} video msgs` +
    `  wire ${m.wireBytes} B (AU payload ${m.mediaBytes} B)  first frame ${fmt(m.startupMs, 0)} ms after feed start` +
    `  TCP accept→publish cmd ${fmt(m.openToPublishMs, 1)} ms` +
    (m.clockErr ? `  clock ±${fmt(m.clockErr, 3)} ms` : '') +
    (m.prewarmMs ? `  (pre-warm ${fmt(m.prewarmMs, 0)} ms, hot ${fmt(m.hotUsPerFrame, 1)} µs CPU/frame)` : '') +
    `  machine busy ${fmt(m.machineBusy, 2)} cores`
  );
}

// ------------------------------------------------------------------------------------ ramp

interface StepResult {
  n: number;
  pass: boolean;
  why: string;
  p50: number;
  p95: number;
  max: number;
  lost: number;
  dropped: number;
  pubCpuPct: number;
  /** run-queue wait of the publishing process, % of wall */
  pubWaitPct: number;
  sinkCpuPct: number;
  connectAllMs: number;
  maxLateMs: number;
  rssMB: number;
  mbps: number;
  machineBusy: number;
}

async function rampStep(n: number, clip: Clip, sink: RtmpSink, stepSeconds: number): Promise<StepResult> {
  sink.reset();
  const fps = clip.spec.fps;
  const frames = Math.round(stepSeconds * fps);
  const warm = Math.min(frames - 1, Math.round(2 * fps));
  const child = new IpcChild(PUB_CHILD_ENTRY, [], `bench-multi-${n}`);
  const res: StepResult = { n, pass: false, why: '', p50: NaN, p95: NaN, max: NaN, lost: 0, dropped: 0, pubCpuPct: NaN, pubWaitPct: NaN, sinkCpuPct: NaN, connectAllMs: NaN, maxLateMs: NaN, rssMB: NaN, mbps: NaN, machineBusy: NaN };
  try {
    const hello = await child.wait('hello', 10_000);
    if (hello.ev !== 'hello') throw new Error(hello.error);
    const clock = await child.syncClock();
    const job: MultiJob = { kind: 'multi', port: sink.port, streams: n, clipFile: clip.file, spec: clip.spec, frames, connectTimeoutMs: 20_000, tailMs: 500 };
    const c0 = process.cpuUsage();
    const mc0 = machineCpu();
    const bytes0 = sink.conns.reduce((a, c) => a + c.bytes, 0);
    child.send({ cmd: 'job', job });
    const r = (await child.wait('multi', stepSeconds * 1000 + 60_000)) as MultiResult & { error?: string };
    res.connectAllMs = r.connectAllMs;
    if (r.ev !== 'multi' || !r.ok) {
      res.why = r.error ?? 'child failed';
      return res;
    }
    const c1 = process.cpuUsage(c0);
    res.machineBusy = busyCores(mc0, machineCpu(), os.cpus().length);
    res.sinkCpuPct = (100 * (c1.user + c1.system)) / 1000 / (r.wallMs + r.connectAllMs);
    res.pubCpuPct = (100 * r.cpuS * 1000) / r.wallMs;
    res.pubWaitPct = (100 * r.waitS * 1000) / r.wallMs;
    res.dropped = r.droppedFrames;
    res.maxLateMs = r.maxLateMs;
    res.rssMB = r.rssMB;
    const conns = sink.byStream();
    const clipDts = clip.frames.map((f) => f.dts);
    const lat: number[] = [];
    let bytes = 0;
    for (let k = 0; k < n; k++) {
      const c = conns.get(`s${k}`);
      if (c) bytes += c.bytes;
      const base = r.base[k] - clock.offset;
      for (let i = warm; i < frames; i++) {
        const a = c?.arrivals[i];
        if (a === undefined) {
          res.lost++;
          lat.push(Infinity);
        } else lat.push(a - (base + dtsAt(clipDts, fps, i)));
      }
    }
    res.mbps = ((bytes - bytes0) * 8) / (r.wallMs / 1000) / 1e6;
    const s = sortNum(lat);
    res.p50 = pct(s, 50);
    res.p95 = pct(s, 95);
    res.max = s[s.length - 1];
    const whys: string[] = [];
    if (r.publishing < n) whys.push(`${n - r.publishing} not publishing`);
    if (res.lost) whys.push(`${res.lost} frames lost`);
    if (res.dropped) whys.push(`${res.dropped} frames dropped by the publisher`);
    if (!(res.p95 < 200)) whys.push('p95 ≥ 200 ms');
    res.pass = whys.length === 0;
    res.why = whys.join(', ');
    return res;
  } finally {
    await child.stop();
    sink.reset();
  }
}

function stepLine(s: StepResult): string {
  return (
    `  N=${String(s.n).padStart(4)}  ${s.pass ? 'ok  ' : 'FAIL'}  latency p50 ${fmt(s.p50, 1)} p95 ${fmt(s.p95, 1)} max ${fmt(s.max, 0)} ms` +
    `  lost ${s.lost} dropped ${s.dropped}  publisher CPU ${fmt(s.pubCpuPct, 0)} % of a core, run-queue wait ${fmt(s.pubWaitPct, 0)} % (RSS ${fmt(s.rssMB, 0)} MB, max push lag ${fmt(s.maxLateMs, 0)} ms)` +
    `  sink CPU ${fmt(s.sinkCpuPct, 0)} %  ${fmt(s.mbps, 0)} Mbit/s  connect-all ${fmt(s.connectAllMs, 0)} ms  machine busy ${fmt(s.machineBusy, 2)} cores` +
    (s.sinkCpuPct > 80 ? '  (sink near saturation: result bounded by the sink)' : '') +
    (s.why ? `  [${s.why}]` : '')
  );
}

// ------------------------------------------------------------------------------------ main

function verdict(ok: boolean | undefined): string {
  return ok === undefined ? 'n/a' : ok ? 'PASS' : 'MISS';
}

async function main(): Promise<void> {
  const opt = parseArgs(process.argv.slice(2));
  if (opt.luaPublishOnly) return luaPublishRows();
  const tStart = Date.now();
  const ff = locateFfmpeg();
  const ffVersion = spawnSync(ff.path, ['-version'], { timeout: 10_000 }).stdout?.toString().split('\n')[0] ?? '?';
  const cpuModel = os.cpus()[0]?.model ?? '?';
  console.log('RTMP publisher benchmark (issue 4): ours (runtime/media/rtmp) vs ffmpeg -c copy -f flv');
  console.log(`machine: ${os.cpus().length} × ${cpuModel}, Node ${process.version}, load average at start ${loadAvg()}`);
  console.log(`ffmpeg: ${ff.path} (${ff.source}; ${ffVersion})`);

  const clipSeconds = Math.max(2, Math.ceil(opt.seconds / 2) * 2); // whole GOPs
  const spec: ClipSpec = { width: 1280, height: 720, fps: 15, gop: 30, kbps: 1000, seconds: clipSeconds };
  const clip = makeClip(ff.path, spec, opt.regen);
  const keyCount = clip.frames.filter((f) => f.keyframe).length;
  console.log(
    `stream: ${clip.frames.length} access units, ${spec.width}x${spec.height}@${spec.fps}, GOP ${spec.gop} (${keyCount} IDR), ` +
      `${clip.kbps.toFixed(0)} kbit/s, ${clip.file} (${clip.cached ? 'cached' : `encoded in ${clip.encodeSeconds.toFixed(1)} s`})`,
  );

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-rtmp-'));
  cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const nms = await startNms(tmp);
  cleanups.push(() => nms.child.stop());
  const tap = await RtmpTap.start(nms.port);
  cleanups.push(() => tap.stop());
  const sink = await RtmpSink.start();
  cleanups.push(() => sink.stop());
  console.log(`server: node-media-server (child pid ${nms.child.pid}) on 127.0.0.1:${nms.port}, tap on :${tap.port}; sink on :${sink.port}`);

  // ---- A/B
  const frames = clip.frames.length;
  const warm = Math.min(frames - 1, Math.round(opt.warmup * spec.fps));
  const runs: RunMetrics[] = [];
  if (!opt.skipAb) {
    console.log(
      `\n== A/B: ${opt.rounds} rounds × (ours, ffmpeg${opt.ffmpegRe ? ' -re' : ''}), ${frames} frames (${(frames / spec.fps).toFixed(0)} s) each in real time, ` +
        `steady part = frames ${warm}..${frames - 1} (first ${opt.warmup} s discarded); ` +
        (opt.prewarm > 0 ? `our child process is JIT-warmed first with ${opt.prewarm} frames pushed to the sink (--prewarm 0: cold)` : 'our child process is cold (no pre-warm)'),
    );
    for (let r = 0; r < opt.rounds; r++) {
      const order: ('ours' | 'ffmpeg')[] = r % 2 === 0 ? ['ours', 'ffmpeg'] : ['ffmpeg', 'ours'];
      for (const who of order) {
        const mc0 = machineCpu();
        const m =
          who === 'ours'
            ? await runOurs(r, clip, tap, frames, warm, opt.prewarm, sink.url(`warm_r${r}`))
            : await runFfmpeg(r, clip, tap, frames, warm, ff.path, opt.ffmpegRe);
        m.machineBusy = busyCores(mc0, machineCpu(), os.cpus().length);
        sink.reset();
        nms.child.send({ cmd: 'counts' });
        const counts = await nms.child.wait('counts', 3000);
        if (counts.ev === 'counts') {
          if (m.stream) m.nmsVideo = counts.video[`/live/${m.stream}`] ?? 0;
        }
        runs.push(m);
        console.log(runLine(m));
        if (m.ok && !(m.startupMs < opt.warmup * 1000 - 500)) {
          console.log(`    WARNING: first frame arrived ${fmt(m.startupMs, 0)} ms after the feed started: the scored part (from ${opt.warmup} s) may include start-up backlog; raise --warmup`);
        }
        await delay(300);
      }
    }
  }

  // ---- connect → PUBLISHING
  let connect: ConnectResult | undefined;
  if (!opt.skipConnect) {
    const child = new IpcChild(PUB_CHILD_ENTRY, [], 'bench-connect');
    try {
      const hello = await child.wait('hello', 10_000);
      if (hello.ev === 'hello') {
        const job: ConnectJob = {
          kind: 'connect',
          targets: [
            { label: 'node-media-server', base: `rtmp://127.0.0.1:${nms.port}/live` },
            { label: 'sink', base: `rtmp://127.0.0.1:${sink.port}/live` },
          ],
          count: opt.connects,
        };
        child.send({ cmd: 'job', job });
        const r = await child.wait('connect', 120_000);
        if (r.ev === 'connect') connect = r as ConnectResult;
        else console.log(`connect test failed: ${r.error}`);
      }
    } finally {
      await child.stop();
      sink.reset();
    }
    if (connect) {
      console.log(`\n== connect()→PUBLISHING, ${opt.connects} sequential fresh publishers in one child process (connect()+start() at t0)`);
      for (const t of connect.results) {
        const s = sortNum(t.ms);
        console.log(
          `  ${t.label.padEnd(18)} median ${fmt(median(t.ms), 2)} ms  p95 ${fmt(pct(s, 95), 2)}  min ${fmt(s[0], 2)}  max ${fmt(s[s.length - 1], 2)} ms  first (cold) ${fmt(t.ms[0], 2)} ms` +
            `  (→CONNECTED median ${fmt(median(t.connectedMs), 2)} ms${t.winAckToPeerBwMs.length ? `; WinAckSize→SetPeerBandwidth gap median ${fmt(median(t.winAckToPeerBwMs), 1)} ms` : ''})${t.failures.length ? `  failures: ${t.failures.length} (${t.failures[0]})` : ''}`,
        );
      }
    }
  }

  // ---- ramp
  const steps: StepResult[] = [];
  let rampNote = '';
  if (!opt.skipRamp) {
    const list = [...opt.ramp];
    let next = list.length ? list[list.length - 1] + 100 : 100;
    while (next <= opt.maxStreams) {
      list.push(next);
      next += 100;
    }
    console.log(
      `\n== capacity: N concurrent ~${clip.kbps.toFixed(0)} kbit/s streams from ONE child Node process to the in-process sink, ` +
        `${opt.stepSeconds} s per step (first 2 s not scored), budget ${opt.rampBudget} s`,
    );
    const t0 = Date.now();
    let prevDur = 0;
    for (const n of list.filter((x) => x <= opt.maxStreams)) {
      const elapsed = (Date.now() - t0) / 1000;
      if (steps.length > 0 && elapsed + prevDur * 1.3 > opt.rampBudget) {
        rampNote = `time budget (${opt.rampBudget} s) reached before N=${n}`;
        console.log(`  (${rampNote})`);
        break;
      }
      const ts = Date.now();
      const s = await rampStep(n, clip, sink, opt.stepSeconds);
      prevDur = (Date.now() - ts) / 1000;
      steps.push(s);
      console.log(stepLine(s));
      if (!s.pass) break;
      await delay(300);
    }
  }

  // ---- summary
  const ours = runs.filter((r) => r.who === 'ours' && r.ok);
  const ffm = runs.filter((r) => r.who === 'ffmpeg' && r.ok);
  const med = (xs: RunMetrics[], f: (r: RunMetrics) => number) => median(xs.map(f));
  console.log(`\n== Summary${opt.skipAb ? '' : ` (A/B: medians over ${opt.rounds} rounds; ratio = ours / ffmpeg)`}`);
  const row = (name: string, a: string, b: string, ratio: string, target: string, v: string) =>
    console.log(`  ${name.padEnd(34)} ${a.padStart(12)} ${b.padStart(12)} ${ratio.padStart(8)}   ${target.padEnd(22)} ${v}`);
  row('metric', 'ours', 'ffmpeg', 'ratio', 'target', '');
  if (ours.length && ffm.length) {
    const cpuO = med(ours, (r) => r.cpuPerStreamMin);
    const cpuF = med(ffm, (r) => r.cpuPerStreamMin);
    const p50O = med(ours, (r) => r.p50);
    const p50F = med(ffm, (r) => r.p50);
    const p95O = med(ours, (r) => r.p95);
    const p95F = med(ffm, (r) => r.p95);
    const wO = med(ours, (r) => r.wireBytes);
    const wF = med(ffm, (r) => r.wireBytes);
    row('CPU s per stream-minute (*)', fmt(cpuO, 4), fmt(cpuF, 4), fmt(cpuO / cpuF, 2), 'ratio ≤ 1.0', verdict(cpuO / cpuF <= 1.0));
    const schO = med(ours, (r) => r.schedPerStreamMin);
    const schF = med(ffm, (r) => r.schedPerStreamMin);
    const idl = med(ffm, (r) => r.idlePerStreamMin);
    row('  same, from schedstat (ns, threads)', fmt(schO, 4), fmt(schF, 4), fmt(schO / schF, 2), '(cross-check)', '');
    row('  Node paced loop, no publisher', fmt(idl, 4), '', '', '(info: runtime floor)', '');
    row('  ours minus that floor', fmt(cpuO - idl, 4), fmt(cpuF, 4), fmt((cpuO - idl) / cpuF, 2), '(info)', '');
    // the publisher's own work with a hot process: CPU per frame × frames per minute
    const hot = med(ours, (r) => r.hotUsPerFrame);
    if (Number.isFinite(hot)) row('  ours hot (burst, µs/frame × fps·60)', fmt((hot / 1e6) * clip.spec.fps * 60, 4), fmt(cpuF, 4), fmt(((hot / 1e6) * clip.spec.fps * 60) / cpuF, 2), '(info)', '');
    row('latency p50, ms (feed → tap)', fmt(p50O, 2), fmt(p50F, 2), fmt(p50O / p50F, 2), '(info)', '');
    row('latency p95, ms (feed → tap)', fmt(p95O, 2), fmt(p95F, 2), fmt(p95O / p95F, 2), `≤ ffmpeg + 5 = ${fmt(p95F + 5, 1)}`, verdict(p95O <= p95F + 5));
    row('latency max, ms (info)', fmt(med(ours, (r) => r.max), 1), fmt(med(ffm, (r) => r.max), 1), '', '(info)', '');
    row('TCP accept→publish cmd, ms (tap)', fmt(med(ours, (r) => r.openToPublishMs), 1), fmt(med(ffm, (r) => r.openToPublishMs), 1), '', '(info)', '');
    row('wire bytes client→server', String(Math.round(wO)), String(Math.round(wF)), fmt(wO / wF, 4), 'ratio ≤ 1.01', verdict(wO / wF <= 1.01));
    row('frames delivered (min over rounds)', `${Math.min(...ours.map((r) => r.delivered))}/${frames}`, `${Math.min(...ffm.map((r) => r.delivered))}/${frames}`, '', '(info)', '');
    row('RSS MB (info)', fmt(med(ours, (r) => r.rssMB), 0), fmt(med(ffm, (r) => r.rssMB), 0), '', '(info)', '');
  } else if (!opt.skipAb) {
    console.log('  A/B: no complete run of both publishers, no ratios');
  }
  if (connect) {
    const nm = connect.results.find((t) => t.label === 'node-media-server');
    const sk = connect.results.find((t) => t.label === 'sink');
    if (nm) row(`connect()→PUBLISHING, NMS, median`, `${fmt(median(nm.ms), 2)} ms`, '', '', '≤ 20 ms', verdict(median(nm.ms) <= 20));
    if (sk) row(`connect()→PUBLISHING, sink, median`, `${fmt(median(sk.ms), 2)} ms`, '', '', '(info)', '');
  }
  if (steps.length) {
    const passed = steps.filter((s) => s.pass);
    const best = passed.length ? passed[passed.length - 1].n : 0;
    const failed = steps.find((s) => !s.pass);
    const bound = failed ? `(N=${failed.n} failed: ${failed.why})` : `(every step passed; ${rampNote || `max-streams ${opt.maxStreams} reached`})`;
    row('concurrent 1 Mbit/s streams, p95<200', failed ? String(best) : `≥ ${best}`, '', '', '≥ 200', verdict(best >= 200));
    console.log(`  ${''.padEnd(34)} ${bound}`);
    // CPU per stream of the publishing process from the largest passing step → N at 90 % of a core
    const ref = passed.length ? passed[passed.length - 1] : undefined;
    if (ref && ref.pubCpuPct > 0) {
      const per = ref.pubCpuPct / ref.n;
      row('  publisher CPU per stream (info)', `${fmt(per, 3)} %`, '', '', `at N=${ref.n}`, '');
      row('  N at 90 % of one core (extrapol.)', fmt(90 / per, 0), '', '', '(info, not measured)', '');
      // The same CPU as s per stream-minute, next to ffmpeg's single-stream figure (ffmpeg needs a
      // process per stream): at N streams the process stays hot and Node's per-wakeup cost, which
      // dominates the single-stream A/B, is shared.
      const perMin = (per / 100) * 60;
      const cpuF = ffm.length ? med(ffm, (r) => r.cpuPerStreamMin) : NaN;
      row(`  CPU s per stream-minute at N=${ref.n}`, fmt(perMin, 4), fmt(cpuF, 4), fmt(perMin / cpuF, 2), '(info: amortised)', '');
    }
  }
  if (ours.length && ffm.length) {
    console.log(
      '  (*) ours: process.cpuUsage() of the publishing child; ffmpeg: utime+stime of /proc/<pid>/stat (10 ms ticks);' +
        ` steady window only. Machine-wide busy cores during the A/B runs (all users): median ${fmt(median(runs.map((r) => r.machineBusy)), 2)} of ${os.cpus().length}.`,
    );
  }
  // the device in a worker thread (as `luatos run` runs it) vs in-process: scripts/bench/lua-publish.ts
  if (!opt.skipLuaPublish) await luaPublishRows();
  console.log(`\nload average at end ${loadAvg()}; total ${((Date.now() - tStart) / 1000).toFixed(0)} s`);
}

main()
  .catch((e) => {
    console.error(e instanceof Error && /^(unknown option|.* needs a value|.*: not a number)/.test(e.message) ? e.message : e);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    process.exit(process.exitCode ?? 0);
  });
