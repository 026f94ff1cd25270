/**
 * Test H.264: encoded by ffmpeg/libx264 (raw Annex-B, x264's own mix of 3- and 4-byte start codes),
 * split into access units here, with synthetic encoder timestamps (frame index / fps).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { locateFfmpeg } from '../../../runtime/media/ffmpeg/locate';
import type { EncodedVideoFrame } from '../../../runtime/media/types';

export interface H264Options {
  width?: number;
  height?: number;
  fps?: number;
  seconds?: number;
  gop?: number;
  /** emit access unit delimiters (x264 aud=1) */
  aud?: boolean;
  /** target bitrate in kbit/s (CBR-ish); default: x264 CRF 23 */
  kbps?: number;
  /** lavfi source (default testsrc) */
  source?: string;
}

export interface H264Clip {
  es: Buffer;
  frames: EncodedVideoFrame[];
  fps: number;
  width: number;
  height: number;
  gop: number;
  /** average bitrate of the elementary stream, kbit/s */
  kbps: number;
}

export function ffmpegPath(): string {
  return locateFfmpeg().path;
}

const cacheDir = path.join(os.tmpdir(), 'luatos-rtmp-test-h264');

export function makeH264(o: H264Options = {}): H264Clip {
  const width = o.width ?? 320;
  const height = o.height ?? 240;
  const fps = o.fps ?? 15;
  const seconds = o.seconds ?? 4;
  const gop = o.gop ?? 30;
  const source = o.source ?? 'testsrc';
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-f', 'lavfi', '-i', `${source}=size=${width}x${height}:rate=${fps}`,
    '-t', String(seconds), '-pix_fmt', 'yuv420p',
    '-c:v', 'libx264', '-profile:v', 'baseline', '-bf', '0', '-g', String(gop), '-keyint_min', String(gop),
    '-sc_threshold', '0', '-preset', 'veryfast',
  ];
  const x264: string[] = [];
  if (o.aud) x264.push('aud=1');
  if (o.kbps) {
    args.push('-b:v', `${o.kbps}k`, '-maxrate', `${o.kbps}k`, '-bufsize', `${Math.round(o.kbps / 2)}k`);
    x264.push('nal-hrd=cbr', 'filler=0');
  }
  if (x264.length) args.push('-x264-params', x264.join(':'));
  args.push('-f', 'h264', '-');
  const key = createHash('sha1').update(args.join(' ')).digest('hex').slice(0, 16);
  fs.mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, `${key}.h264`);
  let es: Buffer;
  if (fs.existsSync(file)) es = fs.readFileSync(file);
  else {
    const r = spawnSync(ffmpegPath(), args, { maxBuffer: 512 * 1024 * 1024, timeout: 120_000 });
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr?.toString()}`);
    es = r.stdout;
    fs.writeFileSync(file + '.tmp', es);
    fs.renameSync(file + '.tmp', file);
  }
  const aus = splitAccessUnits(es);
  const frames = aus.map((data, i) => {
    const dts = (i * 1000) / fps;
    return { data, dts, pts: dts, keyframe: hasIdr(data) };
  });
  return { es, frames, fps, width, height, gop, kbps: Math.round((es.length * 8) / (frames.length / fps) / 1000) };
}

interface NalPos {
  sc: number; // start code start
  start: number; // NAL header
  type: number;
}

function scan(es: Buffer): NalPos[] {
  const out: NalPos[] = [];
  for (let i = 0; i + 2 < es.length; i++) {
    if (es[i] === 0 && es[i + 1] === 0 && es[i + 2] === 1) {
      const sc = i > 0 && es[i - 1] === 0 ? i - 1 : i;
      out.push({ sc, start: i + 3, type: es[i + 3] & 0x1f });
      i += 2;
    }
  }
  return out;
}

function hasIdr(au: Buffer): boolean {
  return scan(au).some((n) => n.type === 5);
}

/** Split an Annex-B elementary stream into access units (keeping the original start codes). */
export function splitAccessUnits(es: Buffer): Buffer[] {
  const nals = scan(es);
  const aus: Buffer[] = [];
  let auStart = -1;
  let haveVcl = false;
  for (const n of nals) {
    const vcl = n.type === 1 || n.type === 5;
    const firstMb0 = vcl && (es[n.start + 1] & 0x80) !== 0; // first_mb_in_slice == 0 (ue(v) '1')
    const startsNew = haveVcl && ((vcl && firstMb0) || n.type === 9 || n.type === 7 || n.type === 8 || n.type === 6);
    if (auStart < 0) auStart = n.sc;
    else if (startsNew) {
      aus.push(es.subarray(auStart, n.sc));
      auStart = n.sc;
      haveVcl = false;
    }
    if (vcl) haveVcl = true;
  }
  if (auStart >= 0) aus.push(es.subarray(auStart));
  return aus;
}
