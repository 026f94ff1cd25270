/**
 * Camera benchmark.
 *
 *   node dist/scripts/bench-camera.js [seconds=20] [width=1280] [height=720] [fps=15]
 *
 * 1. Pipe-format delay. Node generates raw yuv420p pictures (a moving gradient) at `fps` and writes
 *    each one, at the same instant, to two ffmpeg/libx264 encoders with identical settings
 *    (encoder-config.ts): one writes FLV (demuxed by FlvDemuxer, as FfmpegCamera does), the other raw
 *    H.264 (`-f h264`, split on start codes by AnnexBSplitter, which can only close an access unit
 *    when the next one begins). Delay = arrival of access unit i in Node − write time of picture i.
 *    Reports p50/p95/max over the steady part (first 2 s dropped) and the difference.
 * 2. Encoder CPU per stream, from /proc/<pid>/stat (utime+stime of the ffmpeg child, not Node's
 *    process.cpuUsage): for the two encoders above (encode only) and for a full FfmpegCamera
 *    testsrc camera (pattern generation + clock overlay + encode), plus its RSS and bitrate.
 * 3. Capture-to-server latency for testsrc: the camera's own ffmpeg command line
 *    (FfmpegCamera.encoderArgs(): testsrc2 + burnt-in clock + libx264 → FLV pipe), with ffmpeg's
 *    `showinfo` filter put first in the filter chain. It prints one line per picture as the
 *    picture enters the filters, right after it was generated: the time Node reads line n is the
 *    machine-readable twin of the clock burnt into picture n (the picture itself carries the same
 *    wall time for a human to read off the video). The frames go through FlvDemuxer and our
 *    RtmpPublisher to an RTMP server on loopback (scripts/bench/sink.ts, in this process, which
 *    timestamps the arrival of the last byte of every access unit). Latency of picture n =
 *    arrival − capture, p50/p95/max over the steady part (first 2 s dropped). The stderr read
 *    happens a little after ffmpeg writes the line, so the figure errs on the low side by that
 *    (well under 1 ms on an idle machine).
 */
import * as fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { locateFfmpeg } from '../runtime/media/ffmpeg/locate';
import { defaultEncoderConfig, x264Args, type EncoderConfig } from '../runtime/media/camera/encoder-config';
import { AnnexBSplitter, FlvDemuxer } from '../runtime/media/codec/flv-demux';
import { FfmpegCamera } from '../runtime/media/camera/ffmpeg-camera';
import { spawnTracked, killTree } from '../runtime/media/ffmpeg/child-registry';
import { RtmpPublisher, RtmpState } from '../runtime/media/rtmp';
import { RtmpSink } from './bench/sink';
import { nowMs, waitState } from './bench/util';

const seconds = Number(process.argv[2] ?? 20);
const width = Number(process.argv[3] ?? 1280);
const height = Number(process.argv[4] ?? 720);
const fps = Number(process.argv[5] ?? 15);
const CLK_TCK = 100; // Linux USER_HZ

function cpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // fields 14 and 15 (utime, stime)
  } catch {
    return undefined;
  }
}

function rssMB(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${pct(s, 50).toFixed(1)} ms  p95 ${pct(s, 95).toFixed(1)} ms  max ${s[s.length - 1].toFixed(1)} ms  (n=${s.length})`;
}

function encoder(ffmpeg: string, cfg: EncoderConfig, format: 'flv' | 'h264'): ChildProcess {
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostats',
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${cfg.width}x${cfg.height}`, '-r', String(cfg.fps), '-i', 'pipe:0',
    ...x264Args(cfg),
    '-flush_packets', '1',
    ...(format === 'flv' ? ['-f', 'flv', '-flvflags', 'no_duration_filesize'] : ['-f', 'h264']),
    'pipe:1',
  ];
  const c = spawnTracked(ffmpeg, args, { stdio: ['pipe', 'pipe', 'pipe'], name: `bench-${format}` });
  c.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${format}] ${d}`));
  c.stdin!.on('error', () => {});
  return c;
}

function picture(cfg: EncoderConfig, i: number): Buffer {
  const { width: w, height: h } = cfg;
  const b = Buffer.alloc((w * h * 3) / 2);
  const shift = i * 4;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) b[row + x] = (x + y + shift) & 0xff;
  }
  // a moving white box so consecutive frames differ in more than a shift
  const bx = (i * 13) % (w - 64);
  for (let y = 100; y < 164 && y < h; y++) b.fill(235, y * w + bx, y * w + bx + 64);
  b.fill(128, w * h);
  return b;
}

async function pipeDelay(ffmpeg: string): Promise<void> {
  const cfg = defaultEncoderConfig({ width, height, fps });
  const flv = encoder(ffmpeg, cfg, 'flv');
  const raw = encoder(ffmpeg, cfg, 'h264');
  const written: number[] = [];
  const flvArr: number[] = [];
  const rawArr: number[] = [];
  const demux = new FlvDemuxer({ onFrame: () => flvArr.push(performance.now()) });
  const split = new AnnexBSplitter(() => rawArr.push(performance.now()));
  flv.stdout!.on('data', (d: Buffer) => demux.push(d));
  raw.stdout!.on('data', (d: Buffer) => split.push(d));
  const total = Math.round(seconds * fps);
  const pics = Array.from({ length: Math.min(total, 2 * fps) }, (_, i) => picture(cfg, i));
  const cpu0 = { flv: cpuSeconds(flv.pid) ?? 0, raw: cpuSeconds(raw.pid) ?? 0 };
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / fps;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const p = pics[i % pics.length];
    written.push(performance.now());
    flv.stdin!.write(p);
    raw.stdin!.write(p);
  }
  // let the last frames come out (the raw one only at EOF)
  await new Promise((r) => setTimeout(r, 1000));
  const wall = (performance.now() - t0) / 1000;
  const cpu = { flv: (cpuSeconds(flv.pid) ?? 0) - cpu0.flv, raw: (cpuSeconds(raw.pid) ?? 0) - cpu0.raw };
  flv.stdin!.end();
  raw.stdin!.end();
  await Promise.all([new Promise((r) => flv.once('exit', r)), new Promise((r) => raw.once('exit', r))]);
  split.end();
  const skip = 2 * fps;
  const dFlv: number[] = [];
  const dRaw: number[] = [];
  const diff: number[] = [];
  for (let i = skip; i < total - 1; i++) {
    if (flvArr[i] !== undefined) dFlv.push(flvArr[i] - written[i]);
    if (rawArr[i] !== undefined) dRaw.push(rawArr[i] - written[i]);
    if (flvArr[i] !== undefined && rawArr[i] !== undefined) diff.push(rawArr[i] - flvArr[i]);
  }
  console.log(`\n== pipe-format delay: ${width}x${height}@${fps}, ${seconds} s, ${total} pictures written, flv ${flvArr.length} AUs, raw ${rawArr.length} AUs`);
  console.log(`FLV  (FlvDemuxer):           ${summary(dFlv)}`);
  console.log(`raw  (-f h264, start codes): ${summary(dRaw)}`);
  console.log(`raw − FLV per frame:         ${summary(diff)}   (one frame interval = ${(1000 / fps).toFixed(1)} ms)`);
  console.log(`encoder CPU (encode only, raw input): flv ${((100 * cpu.flv) / wall).toFixed(1)} %  h264 ${((100 * cpu.raw) / wall).toFixed(1)} % of one core`);
}

async function cameraCpu(): Promise<void> {
  const cam = new FfmpegCamera({ source: 'testsrc', config: { width, height, fps } });
  let frames = 0;
  let bytes = 0;
  cam.on('frame', (f) => {
    frames++;
    bytes += f.data.length;
  });
  await cam.start();
  const pid = cam.pid;
  await new Promise((r) => setTimeout(r, 2000)); // warm-up
  const c0 = cpuSeconds(pid) ?? 0;
  const f0 = frames;
  const b0 = bytes;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const wall = (performance.now() - t0) / 1000;
  const cpu = (cpuSeconds(pid) ?? 0) - c0;
  const rss = rssMB(pid);
  const nf = frames - f0;
  await cam.close();
  console.log(`\n== FfmpegCamera testsrc (testsrc2 + clock overlay + libx264 ultrafast), ${width}x${height}@${fps}, ${wall.toFixed(1)} s`);
  console.log(`ffmpeg CPU ${cpu.toFixed(2)} s = ${((100 * cpu) / wall).toFixed(1)} % of one core (${((1000 * cpu) / nf).toFixed(2)} ms per frame), RSS ${rss?.toFixed(0)} MB`);
  console.log(`${nf} frames = ${(nf / wall).toFixed(2)} fps, ${((bytes - b0) * 8 / wall / 1000).toFixed(0)} kbit/s (estimate in onMetaData: ${cam.info().videodatarate} kbit/s)`);
}

/** Insert `showinfo` at the head of the -vf chain (or add `-vf showinfo`). */
function withShowinfo(args: string[]): string[] {
  const out = [...args];
  const i = out.indexOf('-vf');
  if (i >= 0) out[i + 1] = `showinfo,${out[i + 1]}`;
  else out.splice(out.indexOf('-c:v'), 0, '-vf', 'showinfo');
  return out;
}

async function captureToServer(ffmpeg: string): Promise<void> {
  const sink = await RtmpSink.start();
  const cam = new FfmpegCamera({ source: 'testsrc', ffmpegPath: ffmpeg, config: { width, height, fps } });
  await cam.open(); // finds the font for the burnt-in clock, builds the same arguments as the camera
  const args = withShowinfo(cam.encoderArgs());
  const pub = new RtmpPublisher(sink.url('cam'), { streamInfo: cam.info(), statsIntervalMs: 0 });
  pub.connect();
  pub.start();
  const notPublishing = await waitState(pub, RtmpState.PUBLISHING, 10_000);
  if (notPublishing) throw new Error(`publisher: ${notPublishing}`);
  const capture: number[] = []; // wall ms (epoch, sub-ms) when showinfo line n was read
  let firstDts: number | undefined;
  const demux = new FlvDemuxer({
    onFrame: (f) => {
      if (firstDts === undefined) firstDts = f.dts;
      pub.pushVideo(f);
    },
  });
  const child = spawnTracked(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'], name: 'bench-camera-latency' });
  child.stdout!.on('data', (d: Buffer) => demux.push(d));
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    const t = nowMs();
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      const m = /Parsed_showinfo.*\bn:\s*(\d+)\s+pts:/.exec(l);
      if (m) capture[Number(m[1])] = t;
    }
  });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await killTree(child, 'SIGTERM', 1500);
  await new Promise((r) => setTimeout(r, 200));
  const conn = sink.conns.find((c) => c.stream === 'cam');
  const lat: number[] = [];
  const frameMs = 1000 / fps;
  let unmatched = 0;
  if (conn && firstDts !== undefined) {
    for (let k = 0; k < conn.arrivals.length; k++) {
      const n = Math.round((conn.timestamps[k] + firstDts) / frameMs);
      if (n < 2 * fps) continue;
      if (capture[n] === undefined) {
        unmatched++;
        continue;
      }
      lat.push(conn.arrivals[k] - capture[n]);
    }
  }
  const st = pub.getStats();
  pub.destroy();
  await cam.close();
  sink.reset();
  await new Promise<void>((r) => sink.server.close(() => r()));
  console.log(`\n== capture-to-server latency: FfmpegCamera testsrc ${width}x${height}@${fps} → FlvDemuxer → RtmpPublisher → RTMP server on loopback, ${seconds} s`);
  console.log(`pictures captured ${capture.filter((x) => x !== undefined).length}, access units at the server ${conn?.arrivals.length ?? 0}, dropped by the publisher ${st.droppedFrames}${unmatched ? `, ${unmatched} without a capture time` : ''}`);
  if (lat.length) console.log(`capture → server arrival:    ${summary(lat)}   (encode + FLV pipe + publish; one frame interval = ${frameMs.toFixed(1)} ms)`);
  else console.log('no latency samples (no access unit matched a captured picture)');
}

async function main(): Promise<void> {
  const ffmpeg = locateFfmpeg().path;
  console.log(`ffmpeg: ${ffmpeg}; CPU readings need Linux /proc`);
  await captureToServer(ffmpeg);
  await pipeDelay(ffmpeg);
  await cameraCpu();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
