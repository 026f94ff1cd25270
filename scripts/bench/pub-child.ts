/**
 * Child-process entry that runs OUR publisher (runtime/media/rtmp) for the benchmark, so that
 * process.cpuUsage() covers the publisher and nothing else of the benchmark (the tap, the sink,
 * the ffmpeg feeder and the bookkeeping all live in the parent). Driven over IPC:
 *   {cmd:'sync', t1}            → {ev:'sync', t1, t2}   (clock offset estimation by the parent)
 *   {cmd:'job', job:AbJob}      → {ev:'ab', ...}         one real-time publish of the clip
 *   {cmd:'job', job:IdleJob}    → {ev:'idle', ...}       the same paced loop without a publisher
 *   {cmd:'job', job:MultiJob}   → {ev:'multi', ...}      N concurrent real-time publishes
 *   {cmd:'job', job:ConnectJob} → {ev:'connect', ...}    sequential connect()→PUBLISHING timings
 * Every time it reports is nowMs() of this process; the parent converts with the measured offset.
 * Exits when the parent goes away.
 */
import { RtmpPublisher, RtmpState } from '../../runtime/media/rtmp';
import type { EncodedVideoFrame, VideoStreamInfo } from '../../runtime/media/types';
import { loadClip, type Clip, type ClipSpec } from './clip';
import { delay, nowMs, procSched, procSchedSeconds, waitState } from './util';

export const PUB_CHILD_ENTRY = __filename;

export interface AbJob {
  kind: 'ab';
  url: string;
  clipFile: string;
  spec: ClipSpec;
  /** frames to feed (≤ clip length) */
  frames: number;
  /** index of the first frame of the CPU window */
  warmFrames: number;
  /** idle time after the last frame before the CPU window closes */
  tailMs: number;
  /** before the measured publish: push this many frames as fast as possible to `prewarmUrl` (JIT warm-up) */
  prewarmFrames: number;
  prewarmUrl: string;
}

export interface AbResult {
  ev: 'ab';
  ok: boolean;
  error?: string;
  connectMs: number;
  /** feed time of every frame (just before pushVideo) */
  feed: number[];
  cpuWindowS: number;
  /** the same window from /proc/self/task/<tid>/schedstat, summed (ns accounting, all threads) */
  schedWindowS: number;
  windowMs: number;
  cpuTotalS: number;
  rssMB: number;
  bytesSent: number;
  droppedFrames: number;
  prewarmMs: number;
  /** CPU µs per pushVideo while hot (second half of the pre-warm burst, to the sink) */
  hotUsPerFrame?: number;
}

/** The same real-time loop as AbJob without a publisher: the CPU cost of a paced Node process. */
export interface IdleJob {
  kind: 'idle';
  frames: number;
  fps: number;
  warmFrames: number;
  tailMs: number;
}

export interface IdleResult {
  ev: 'idle';
  cpuWindowS: number;
  schedWindowS: number;
  windowMs: number;
}

export interface MultiJob {
  kind: 'multi';
  port: number;
  streams: number;
  clipFile: string;
  spec: ClipSpec;
  frames: number;
  connectTimeoutMs: number;
  tailMs: number;
}

export interface MultiResult {
  ev: 'multi';
  ok: boolean;
  error?: string;
  streams: number;
  publishing: number;
  connectAllMs: number;
  /** per stream: the scheduled feed time of frame 0 (phase-staggered); frame i is due at base + dts(i) */
  base: number[];
  frames: number;
  /** feeding window (first due → last frame pushed + tail) */
  wallMs: number;
  cpuS: number;
  /** run-queue wait of all threads in the feeding window (runnable, no CPU given), s */
  waitS: number;
  droppedFrames: number;
  /** largest lateness of a push behind its schedule (event-loop lag), ms */
  maxLateMs: number;
  rssMB: number;
}

export interface ConnectJob {
  kind: 'connect';
  /** base URLs (rtmp://host:port/app); a unique stream name is appended per connect */
  targets: { label: string; base: string }[];
  count: number;
}

export interface ConnectResult {
  ev: 'connect';
  results: { label: string; ms: number[]; connectedMs: number[]; failures: string[]; winAckToPeerBwMs: number[] }[];
}

function streamInfo(clip: Clip): VideoStreamInfo {
  return { width: clip.spec.width, height: clip.spec.height, framerate: clip.spec.fps, videodatarate: Math.round(clip.kbps), videocodecid: 7 };
}

/** Frame i of an endless loop of the clip (the clip length is a multiple of the GOP). */
function frameAt(clip: Clip, i: number): EncodedVideoFrame {
  const L = clip.frames.length;
  const f = clip.frames[i % L];
  const loops = Math.floor(i / L);
  if (loops === 0) return f;
  const span = Math.round((L * 1000) / clip.spec.fps);
  return { data: f.data, dts: f.dts + loops * span, pts: f.pts + loops * span, keyframe: f.keyframe };
}

export function dtsAt(clipDts: number[], fps: number, i: number): number {
  const L = clipDts.length;
  return clipDts[i % L] - clipDts[0] + Math.floor(i / L) * Math.round((L * 1000) / fps);
}

/**
 * JIT warm-up: a throwaway publisher pushes `frames` frames of the clip as fast as the socket
 * takes them (no drops) to `url`, then disconnects. V8 needs a few thousand pushVideo calls before
 * the packetizer and chunk writer run optimised code; a camera process that streams for hours
 * spends almost all its time in that state, and the real-time A/B run has only ~15 frames/s.
 */
async function prewarm(clip: Clip, url: string, frames: number): Promise<{ err?: string; hotUsPerFrame: number }> {
  const pub = new RtmpPublisher(url, { statsIntervalMs: 0 });
  pub.connect();
  pub.start();
  const err = await waitState(pub, RtmpState.PUBLISHING, 10_000);
  if (err) {
    pub.destroy();
    return { err, hotUsPerFrame: NaN };
  }
  // CPU per frame over the second half, when the code is optimised and the process stays hot
  const half = Math.floor(frames / 2);
  let c0 = process.cpuUsage();
  for (let i = 0; i < frames; i++) {
    if (i === half) c0 = process.cpuUsage();
    pub.pushVideo(frameAt(clip, i));
    // stay far below the 700 ms (media time) drop threshold: write callbacks need a loop turn
    if (i % 4 === 3) {
      await new Promise((r) => setImmediate(r));
      while (pub.getStats().queueMs > 300) await delay(1);
    }
  }
  const c1 = process.cpuUsage(c0);
  const hotUsPerFrame = (c1.user + c1.system) / Math.max(1, frames - half);
  const dropped = pub.getStats().droppedFrames;
  pub.disconnect();
  await waitState(pub, RtmpState.IDLE, 2000);
  pub.destroy();
  return { err: dropped > 0 ? `${dropped} frames dropped` : undefined, hotUsPerFrame };
}

async function runAb(job: AbJob): Promise<AbResult> {
  const clip = loadClip(job.clipFile, job.spec);
  const frames = clip.frames.slice(0, job.frames);
  const pub = new RtmpPublisher(job.url, { streamInfo: streamInfo(clip) });
  const res: AbResult = { ev: 'ab', ok: false, connectMs: NaN, feed: [], cpuWindowS: NaN, schedWindowS: NaN, windowMs: NaN, cpuTotalS: NaN, rssMB: NaN, bytesSent: 0, droppedFrames: 0, prewarmMs: 0 };
  if (job.prewarmFrames > 0) {
    const tw = nowMs();
    const w = await prewarm(clip, job.prewarmUrl, job.prewarmFrames);
    if (w.err) return { ...res, error: `pre-warm: ${w.err}` };
    res.prewarmMs = nowMs() - tw;
    res.hotUsPerFrame = w.hotUsPerFrame;
  }
  const tc = nowMs();
  pub.connect();
  pub.start();
  const err = await waitState(pub, RtmpState.PUBLISHING, 10_000);
  if (err) {
    pub.destroy();
    return { ...res, error: err };
  }
  res.connectMs = nowMs() - tc;
  const t0 = nowMs() + 20;
  const d0 = frames[0].dts;
  let c0 = process.cpuUsage();
  let s0 = procSchedSeconds('self') ?? NaN;
  let w0 = nowMs();
  for (let i = 0; i < frames.length; i++) {
    const wait = t0 + (frames[i].dts - d0) - nowMs();
    if (wait > 0) await delay(wait);
    if (i === job.warmFrames) {
      c0 = process.cpuUsage();
      s0 = procSchedSeconds('self') ?? NaN;
      w0 = nowMs();
    }
    res.feed.push(nowMs());
    pub.pushVideo(frames[i]);
  }
  await delay(job.tailMs);
  const c1 = process.cpuUsage(c0);
  res.schedWindowS = (procSchedSeconds('self') ?? NaN) - s0;
  res.windowMs = nowMs() - w0;
  res.cpuWindowS = (c1.user + c1.system) / 1e6;
  const tot = process.cpuUsage();
  res.cpuTotalS = (tot.user + tot.system) / 1e6;
  res.rssMB = process.memoryUsage().rss / 1048576;
  const st = pub.getStats();
  res.bytesSent = st.bytesSent;
  res.droppedFrames = st.droppedFrames;
  pub.disconnect();
  await waitState(pub, RtmpState.IDLE, 2000);
  pub.destroy();
  res.ok = true;
  return res;
}

async function runIdle(job: IdleJob): Promise<IdleResult> {
  const t0 = nowMs() + 20;
  let c0 = process.cpuUsage();
  let s0 = procSchedSeconds('self') ?? NaN;
  let w0 = nowMs();
  const feed: number[] = [];
  for (let i = 0; i < job.frames; i++) {
    const wait = t0 + Math.round((i * 1000) / job.fps) - nowMs();
    if (wait > 0) await delay(wait);
    if (i === job.warmFrames) {
      c0 = process.cpuUsage();
      s0 = procSchedSeconds('self') ?? NaN;
      w0 = nowMs();
    }
    feed.push(nowMs());
  }
  await delay(job.tailMs);
  const c1 = process.cpuUsage(c0);
  return { ev: 'idle', schedWindowS: (procSchedSeconds('self') ?? NaN) - s0, windowMs: nowMs() - w0, cpuWindowS: (c1.user + c1.system) / 1e6 };
}

async function runMulti(job: MultiJob): Promise<MultiResult> {
  const clip = loadClip(job.clipFile, job.spec);
  const info = streamInfo(clip);
  const n = job.streams;
  const res: MultiResult = { ev: 'multi', ok: false, streams: n, publishing: 0, connectAllMs: NaN, base: [], frames: job.frames, wallMs: NaN, cpuS: NaN, waitS: NaN, droppedFrames: 0, maxLateMs: 0, rssMB: NaN };
  const pubs: RtmpPublisher[] = [];
  const tc = nowMs();
  const waits: Promise<string | undefined>[] = [];
  for (let k = 0; k < n; k++) {
    const p = new RtmpPublisher(`rtmp://127.0.0.1:${job.port}/live/s${k}`, { streamInfo: info });
    pubs.push(p);
    p.connect();
    p.start();
    waits.push(waitState(p, RtmpState.PUBLISHING, job.connectTimeoutMs));
  }
  const errs = (await Promise.all(waits)).filter((e) => e !== undefined);
  res.connectAllMs = nowMs() - tc;
  res.publishing = pubs.filter((p) => p.state === RtmpState.PUBLISHING).length;
  if (errs.length > 0) {
    res.error = `${errs.length} publishers failed: ${errs[0]}`;
    for (const p of pubs) p.destroy();
    return res;
  }
  const interval = 1000 / clip.spec.fps;
  const clipDts = clip.frames.map((f) => f.dts);
  const start = nowMs() + 50;
  for (let k = 0; k < n; k++) res.base.push(start + (k * interval) / n);
  const F = job.frames;
  const frames: EncodedVideoFrame[] = [];
  for (let i = 0; i < Math.min(F, clip.frames.length * 2); i++) frames.push(frameAt(clip, i));
  const frame = (i: number) => (i < frames.length ? frames[i] : frameAt(clip, i));
  const c0 = process.cpuUsage();
  const q0 = procSched('self');
  let i = 0;
  let k = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowMs();
      while (i < F) {
        const due = res.base[k] + dtsAt(clipDts, clip.spec.fps, i);
        if (due > now) {
          setTimeout(tick, Math.max(0, due - nowMs()));
          return;
        }
        const late = now - due;
        if (late > res.maxLateMs) res.maxLateMs = late;
        pubs[k].pushVideo(frame(i));
        if (++k === n) {
          k = 0;
          i++;
        }
      }
      resolve();
    };
    setTimeout(tick, Math.max(0, start - nowMs()));
  });
  await delay(job.tailMs);
  const c1 = process.cpuUsage(c0);
  res.wallMs = nowMs() - start;
  res.cpuS = (c1.user + c1.system) / 1e6;
  const q1 = procSched('self');
  if (q0 && q1) res.waitS = q1.wait - q0.wait;
  res.rssMB = process.memoryUsage().rss / 1048576;
  for (const p of pubs) res.droppedFrames += p.getStats().droppedFrames;
  for (const p of pubs) p.destroy();
  res.ok = true;
  return res;
}

async function runConnect(job: ConnectJob): Promise<ConnectResult> {
  const out: ConnectResult = { ev: 'connect', results: [] };
  const tag = Math.random().toString(36).slice(2, 8);
  for (const target of job.targets) {
    const r = { label: target.label, ms: [] as number[], connectedMs: [] as number[], failures: [] as string[], winAckToPeerBwMs: [] as number[] };
    for (let j = 0; j < job.count; j++) {
      const pub = new RtmpPublisher(`${target.base}/c${tag}_${j}`, { statsIntervalMs: 0 });
      let tConnected = NaN;
      pub.on('state', (s: RtmpState) => {
        if (s === RtmpState.CONNECTED) tConnected = nowMs();
      });
      // NMS writes Window Ack Size and Set Peer Bandwidth separately on a Nagle socket: the gap
      // between their arrivals shows the delayed-ACK stall
      let tWinAck = NaN;
      pub.on('log', ({ text: msg }: { text: string }) => {
        if (msg.includes('Received Window Acknowledgement Size')) tWinAck = nowMs();
        else if (msg.includes('Received Set Peer Bandwidth') && Number.isFinite(tWinAck)) r.winAckToPeerBwMs.push(nowMs() - tWinAck);
      });
      const t0 = nowMs();
      pub.connect();
      pub.start();
      const err = await waitState(pub, RtmpState.PUBLISHING, 5000);
      const t1 = nowMs();
      if (err) r.failures.push(err);
      else {
        r.ms.push(t1 - t0);
        r.connectedMs.push(tConnected - t0);
      }
      pub.disconnect();
      await waitState(pub, RtmpState.IDLE, 1500);
      pub.destroy();
      await delay(20);
    }
    out.results.push(r);
  }
  return out;
}

function main(): void {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: any) => {
    if (m?.cmd === 'sync') {
      process.send?.({ ev: 'sync', t1: m.t1, t2: nowMs() });
      return;
    }
    if (m?.cmd !== 'job') return;
    const job = m.job as AbJob | IdleJob | MultiJob | ConnectJob;
    const run: Promise<unknown> =
      job.kind === 'ab' ? runAb(job) : job.kind === 'idle' ? runIdle(job) : job.kind === 'multi' ? runMulti(job) : runConnect(job);
    run.then(
      (r) => process.send?.(r, () => setTimeout(() => process.exit(0), 50)),
      (e) => process.send?.({ ev: 'fail', error: String((e as Error)?.stack ?? e) }, () => process.exit(1)),
    );
  });
  process.send?.({ ev: 'hello' });
}

if (require.main === module) main();
