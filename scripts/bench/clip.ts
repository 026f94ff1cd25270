/**
 * The benchmark's pre-encoded stream: ffmpeg/libx264 encodes a synthetic 720p15 picture (testsrc2
 * plus temporal noise, so that the encoder really spends its bitrate) once into an FLV file in a
 * temp dir, GOP 30 (fixed: keyint_min 30, no scene cut), baseline, no B-frames, ~1 Mbit/s
 * (-b:v/-maxrate 1000k). FLV is a framed container: every access unit is one tag with its DTS, so
 * both contestants get exactly the same access units with the same timestamps:
 *   - ffmpeg gets the FLV tags themselves (header + metadata + sequence header first, then one tag
 *     per frame at its due time) on stdin;
 *   - our publisher gets the same access units converted to Annex-B (4-byte start codes, SPS/PPS
 *     from the avcC in front of every IDR as an encoder with repeat-headers would emit them; the
 *     publisher takes them out again into its sequence header), with dts/pts from the tag.
 * The file is cached by its ffmpeg arguments (`--regen` forces a new encode).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EncodedVideoFrame } from '../../runtime/media/types';
import { parseAvcC, splitAvcc, toAnnexB } from '../../runtime/media/codec/h264';

export interface ClipSpec {
  width: number;
  height: number;
  fps: number;
  gop: number;
  kbps: number;
  seconds: number;
}

export interface ClipFrame extends EncodedVideoFrame {
  /** the whole FLV tag (11-byte header + body + 4-byte PreviousTagSize) as in the file */
  flvTag: Buffer;
  /** AVCC payload size (NAL units with 4-byte lengths) */
  avccBytes: number;
}

export interface Clip {
  file: string;
  spec: ClipSpec;
  /** FLV header + PreviousTagSize0 + the script tag(s) + the AVC sequence header tag */
  flvPrefix: Buffer;
  frames: ClipFrame[];
  sps: Buffer[];
  pps: Buffer[];
  /** average bitrate of the access units, kbit/s */
  kbps: number;
  cached: boolean;
  encodeSeconds: number;
}

export function clipArgs(s: ClipSpec, out: string): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${s.width}x${s.height}:rate=${s.fps}`,
    '-t', String(s.seconds),
    '-vf', 'noise=alls=12:allf=t',
    '-pix_fmt', 'yuv420p',
    '-c:v', 'libx264', '-profile:v', 'baseline', '-bf', '0',
    '-g', String(s.gop), '-keyint_min', String(s.gop), '-sc_threshold', '0',
    '-preset', 'veryfast',
    '-b:v', `${s.kbps}k`, '-maxrate', `${s.kbps}k`, '-bufsize', `${s.kbps}k`,
    '-f', 'flv', out,
  ];
}

/** Encode (or reuse) the clip and load it. */
export function makeClip(ffmpeg: string, spec: ClipSpec, regen = false): Clip {
  const dir = path.join(os.tmpdir(), 'luatos-bench-rtmp');
  fs.mkdirSync(dir, { recursive: true });
  const key = createHash('sha1').update(ffmpeg + '\n' + clipArgs(spec, 'OUT').join(' ')).digest('hex').slice(0, 16);
  const file = path.join(dir, `clip-${spec.width}x${spec.height}p${spec.fps}-g${spec.gop}-${spec.kbps}k-${spec.seconds}s-${key}.flv`);
  const cached = fs.existsSync(file) && !regen;
  let encodeSeconds = 0;
  if (!cached) {
    const tmp = file + '.tmp.flv';
    const t0 = Date.now();
    const r = spawnSync(ffmpeg, clipArgs(spec, tmp), { timeout: 300_000, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`ffmpeg could not encode the clip (${r.status ?? r.signal}): ${r.stderr?.toString()}`);
    fs.renameSync(tmp, file);
    encodeSeconds = (Date.now() - t0) / 1000;
  }
  const clip = loadClip(file, spec);
  clip.cached = cached;
  clip.encodeSeconds = encodeSeconds;
  return clip;
}

/** Parse the FLV file into the prefix and one ClipFrame per video NALU tag. */
export function loadClip(file: string, spec: ClipSpec): Clip {
  const buf = fs.readFileSync(file);
  if (buf.length < 13 || buf.toString('latin1', 0, 3) !== 'FLV') throw new Error(`${file}: not an FLV file`);
  let o = buf.readUInt32BE(5) + 4;
  let prefixEnd = o;
  const frames: ClipFrame[] = [];
  let sps: Buffer[] = [];
  let pps: Buffer[] = [];
  while (o + 11 <= buf.length) {
    const type = buf[o] & 0x1f;
    const size = buf.readUIntBE(o + 1, 3);
    const ts = (buf.readUIntBE(o + 4, 3) | (buf[o + 7] << 24)) >>> 0;
    const end = o + 11 + size + 4;
    if (end > buf.length) break;
    const body = buf.subarray(o + 11, o + 11 + size);
    const tag = buf.subarray(o, end);
    if (type === 9 && body.length >= 5 && (body[0] & 0x0f) === 7) {
      const pt = body[1];
      if (pt === 0) {
        ({ sps, pps } = parseAvcC(body.subarray(5)));
        if (frames.length === 0) prefixEnd = end;
      } else if (pt === 1) {
        const key = body[0] >> 4 === 1;
        const cts = body.readIntBE(2, 3);
        const nals = splitAvcc(body.subarray(5));
        const annexB = toAnnexB([...(key ? [...sps, ...pps] : []), ...nals]);
        frames.push({ data: annexB, dts: ts, pts: ts + cts, keyframe: key, flvTag: tag, avccBytes: body.length - 5 });
      }
    } else if (frames.length === 0) prefixEnd = end; // script tags before the first frame
    o = end;
  }
  if (frames.length === 0 || sps.length === 0) throw new Error(`${file}: no H.264 frames / sequence header`);
  const durS = (frames[frames.length - 1].dts - frames[0].dts) / 1000 + 1 / spec.fps;
  const bytes = frames.reduce((a, f) => a + f.avccBytes, 0);
  return {
    file,
    spec,
    flvPrefix: buf.subarray(0, prefixEnd),
    frames,
    sps,
    pps,
    kbps: (bytes * 8) / durS / 1000,
    cached: true,
    encodeSeconds: 0,
  };
}
