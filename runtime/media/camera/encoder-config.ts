/**
 * The simulated Air8101 camera's H.264 encoder settings, as a LuatOS script sets them with
 * `camera.config(id, key, value)` and `camera.init{sensor_width=…, sensor_height=…}`, and their
 * mapping to ffmpeg/libx264 arguments.
 *
 * Keys (values from components/camera/luat_camera.h, see docs/luatos-api.md §12.1):
 *
 * | key                      | value | field        | default | meaning here                           |
 * |--------------------------|-------|--------------|---------|----------------------------------------|
 * | CONF_H264_QP_INIT        | 0x201 | qpInit       | 40      | x264 `crf` (rate-control target)       |
 * | CONF_H264_QP_I_MAX       | 0x202 | qpIMax       | 40      | x264 `qpmax` = max(qpIMax, qpPMax)     |
 * | CONF_H264_QP_P_MAX       | 0x203 | qpPMax       | 25      | (see qpmax)                            |
 * | CONF_H264_IMB_BITS       | 0x204 | imbBits      | 8       | bitrate estimate only (see below)      |
 * | CONF_H264_PMB_BITS       | 0x205 | pmbBits      | 4       | bitrate estimate only (see below)      |
 * | CONF_H264_PFRAME_NUMS    | 0x206 | pframeNums   | 29      | GOP = pframeNums + 1 (`keyint`)        |
 * | CONF_H264_APPLY          | 0x207 | –            | –       | accepted, no-op (settings apply at the next start) |
 * | CONF_PREVIEW_ENABLE/ROTATE | 0x211/0x212 | –   | –       | accepted and stored, no effect         |
 * | CONF_UVC_FPS             | 0x220 | fps          | 15      | `-r` and the source's frame rate       |
 * | CONF_LOG_LEVEL           | 0x230 | logLevel     | 2 (WARN)| stored                                 |
 *
 * Defaults are the reference demo's values (FPS 15, QP 40/40/25, IMB 8, PMB 4, PFRAME_NUMS 29) and
 * 1280×720, so an unconfigured camera behaves like the demo's AirCAMERA_1030.
 *
 * QP mapping (the BK7258 encoder's rate control is closed source, so this is an approximation):
 *  - `crf = qpInit`: x264's constant-rate-factor mode is the closest thing to "encode around this
 *    QP and let the rate controller move from there".
 *  - `qpmax = max(qpIMax, qpPMax)`: x264 has a single QP ceiling for all frame types; taking the
 *    larger keeps neither of the device's ceilings from being exceeded by more than the I/P split
 *    x264 chooses itself (default ipratio 1.4). No `qpmin` is set.
 *  - IMB_BITS / PMB_BITS are read as "bits per 16×16 macroblock" budgets for I and P frames. They do
 *    not constrain x264 (a hard VBV cap would force QP up to qpmax on busy pictures and still not
 *    be met, and x264's ultrafast preset cannot honour a per-macroblock budget); they only feed
 *    {@link estimateBitrateKbps}, the number the RTMP layer puts in onMetaData's videodatarate.
 *
 * Structure: baseline profile, no B-frames, one slice per frame (`threads=1`, like a hardware
 * encoder), IDR every GOP frames exactly (`keyint=GOP`, `scenecut=0`, closed GOP). x264 clamps
 * `min-keyint` to keyint/2+1, which is harmless with scene-cut off: with no scene-cut decisions
 * the only I frames are the periodic IDRs. `-tune zerolatency` removes lookahead and frame
 * threading delay, `-preset ultrafast` keeps the CPU cost of a 720p15 stream to a few % of a core.
 */
import type { VideoStreamInfo } from '../types';

/** camera.config keys (numeric values as the LuatOS `camera` module exposes them). */
export const CAMERA_CONF = {
  H264_QP_INIT: 0x201,
  H264_QP_I_MAX: 0x202,
  H264_QP_P_MAX: 0x203,
  H264_IMB_BITS: 0x204,
  H264_PMB_BITS: 0x205,
  H264_PFRAME_NUMS: 0x206,
  H264_APPLY: 0x207,
  PREVIEW_ENABLE: 0x211,
  PREVIEW_ROTATE: 0x212,
  UVC_FPS: 0x220,
  LOG_LEVEL: 0x230,
} as const;

export interface EncoderConfig {
  /** picture width in pixels (camera.init sensor_width) */
  width: number;
  /** picture height in pixels (camera.init sensor_height) */
  height: number;
  /** frames per second (CONF_UVC_FPS) */
  fps: number;
  /** CONF_H264_QP_INIT (0..51) */
  qpInit: number;
  /** CONF_H264_QP_I_MAX (0..51) */
  qpIMax: number;
  /** CONF_H264_QP_P_MAX (0..51) */
  qpPMax: number;
  /** CONF_H264_IMB_BITS */
  imbBits: number;
  /** CONF_H264_PMB_BITS */
  pmbBits: number;
  /** CONF_H264_PFRAME_NUMS: P frames between two IDRs (GOP = pframeNums + 1) */
  pframeNums: number;
  /** CONF_PREVIEW_ENABLE (stored only) */
  previewEnable: number;
  /** CONF_PREVIEW_ROTATE (stored only) */
  previewRotate: number;
  /** CONF_LOG_LEVEL (stored only) */
  logLevel: number;
}

/** The reference demo's settings (docs/luatos-api.md §1, rtmp_app.lua step 6–7). */
export const DEFAULT_ENCODER_CONFIG: Readonly<EncoderConfig> = Object.freeze({
  width: 1280,
  height: 720,
  fps: 15,
  qpInit: 40,
  qpIMax: 40,
  qpPMax: 25,
  imbBits: 8,
  pmbBits: 4,
  pframeNums: 29,
  previewEnable: 0,
  previewRotate: 0,
  logLevel: 2,
});

export function defaultEncoderConfig(overrides: Partial<EncoderConfig> = {}): EncoderConfig {
  const c = { ...DEFAULT_ENCODER_CONFIG, ...overrides };
  validateEncoderConfig(c);
  return c;
}

/** Throws a RangeError when a field is out of range (sizes must be even for yuv420p). */
export function validateEncoderConfig(c: EncoderConfig): void {
  const int = (name: string, v: number, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`camera ${name} must be an integer in ${lo}..${hi}, got ${v}`);
  };
  int('width', c.width, 16, 8192);
  int('height', c.height, 16, 8192);
  if (c.width % 2 || c.height % 2) throw new RangeError(`camera size must be even, got ${c.width}x${c.height}`);
  if (!(c.fps > 0 && c.fps <= 120)) throw new RangeError(`camera fps must be in (0, 120], got ${c.fps}`);
  int('qpInit', c.qpInit, 0, 51);
  int('qpIMax', c.qpIMax, 0, 51);
  int('qpPMax', c.qpPMax, 0, 51);
  int('imbBits', c.imbBits, 0, 1 << 20);
  int('pmbBits', c.pmbBits, 0, 1 << 20);
  int('pframeNums', c.pframeNums, 0, 10000);
}

/**
 * `camera.config(id, key, value)` semantics on a config object (mutated in place).
 * Returns the driver's integer result: 0 when the key is known and the value valid, -1 otherwise
 * (unknown key, or a value out of range; the config is then unchanged).
 */
export function applyCameraConfig(c: EncoderConfig, key: number, value: number): number {
  const set = (field: keyof EncoderConfig, v: number): number => {
    const next = { ...c, [field]: v };
    try {
      validateEncoderConfig(next);
    } catch {
      return -1;
    }
    (c as unknown as Record<string, number>)[field] = v;
    return 0;
  };
  if (typeof value !== 'number' || !Number.isFinite(value)) return -1;
  switch (key) {
    case CAMERA_CONF.H264_QP_INIT: return set('qpInit', value);
    case CAMERA_CONF.H264_QP_I_MAX: return set('qpIMax', value);
    case CAMERA_CONF.H264_QP_P_MAX: return set('qpPMax', value);
    case CAMERA_CONF.H264_IMB_BITS: return set('imbBits', value);
    case CAMERA_CONF.H264_PMB_BITS: return set('pmbBits', value);
    case CAMERA_CONF.H264_PFRAME_NUMS: return set('pframeNums', value);
    case CAMERA_CONF.UVC_FPS: return set('fps', value);
    case CAMERA_CONF.H264_APPLY: return 0;
    case CAMERA_CONF.PREVIEW_ENABLE: c.previewEnable = value; return 0;
    case CAMERA_CONF.PREVIEW_ROTATE: c.previewRotate = value; return 0;
    case CAMERA_CONF.LOG_LEVEL: c.logLevel = value; return 0;
    default: return -1;
  }
}

/** IDR interval in frames: PFRAME_NUMS + 1. */
export function gopSize(c: EncoderConfig): number {
  return c.pframeNums + 1;
}

/** Number of 16×16 macroblocks in one picture. */
export function macroblocks(c: EncoderConfig): number {
  return Math.ceil(c.width / 16) * Math.ceil(c.height / 16);
}

/**
 * Expected bitrate in kbit/s, for onMetaData's videodatarate.
 *
 * Estimate: IMB_BITS / PMB_BITS are bits per macroblock for I and P frames, so one GOP costs
 * `MBs × (IMB_BITS + PFRAME_NUMS × PMB_BITS)` bits and lasts `GOP / fps` seconds:
 *
 *     kbit/s = MBs × (IMB + PFRAME_NUMS × PMB) × fps / GOP / 1000
 *
 * Demo (1280×720 = 3600 MBs, IMB 8, PMB 4, 29 P frames, 15 fps, GOP 30): 223 kbit/s, the same order
 * as the ~165 kbit/s of the device-like 720p15 streams measured in rtmp-notes §4.1. When both bit
 * parameters are 0 it falls back to 0.1 bit per pixel per frame. The actual x264 rate depends on the
 * picture content (the noisy synthetic test picture runs at ~1 Mbit/s at crf 40).
 * Rounded to an integer, never below 1.
 */
export function estimateBitrateKbps(c: EncoderConfig): number {
  const mbs = macroblocks(c);
  const gop = gopSize(c);
  let bitsPerGop = mbs * (c.imbBits + c.pframeNums * c.pmbBits);
  if (bitsPerGop <= 0) bitsPerGop = 0.1 * c.width * c.height * gop;
  return Math.max(1, Math.round((bitsPerGop * c.fps) / gop / 1000));
}

/** The numbers the RTMP publisher puts into onMetaData. */
export function streamInfo(c: EncoderConfig): VideoStreamInfo {
  return {
    width: c.width,
    height: c.height,
    framerate: c.fps,
    videodatarate: estimateBitrateKbps(c),
    videocodecid: 7,
    encoder: 'luatos-pc camera (libx264)',
  };
}

/** Frame rate as an ffmpeg rational string ("15", "30000/1001", "12.5" → "25/2"). */
export function ffmpegRate(fps: number): string {
  if (Number.isInteger(fps)) return String(fps);
  const den = 1000;
  const num = Math.round(fps * den);
  const g = (a: number, b: number): number => (b ? g(b, a % b) : a);
  const d = g(num, den);
  return `${num / d}/${den / d}`;
}

export interface X264ArgsOptions {
  /** x264 preset (default 'ultrafast'; 'veryfast' gives better pictures for ~2× the CPU) */
  preset?: 'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium';
  /** encoder threads (default 1: one slice per picture, like the device's hardware encoder) */
  threads?: number;
}

/**
 * ffmpeg output-side video encoding arguments (everything between the input/filters and the
 * muxer), e.g. for the demo:
 *
 *   -an -c:v libx264 -preset ultrafast -tune zerolatency -profile:v baseline -pix_fmt yuv420p
 *   -s 1280x720 -r 15 -g 30 -keyint_min 30 -sc_threshold 0 -bf 0 -threads 1
 *   -x264-params keyint=30:min-keyint=30:scenecut=0:bframes=0:open-gop=0:crf=40:qpmax=40:threads=1:sliced-threads=0
 *
 * (With a global-header muxer such as FLV, x264 puts SPS/PPS only into the sequence header; the
 * FLV demuxer re-inserts them in front of every IDR. With `-f h264` they are in-band.)
 */
export function x264Args(c: EncoderConfig, opts: X264ArgsOptions = {}): string[] {
  validateEncoderConfig(c);
  const gop = gopSize(c);
  const threads = opts.threads ?? 1;
  const qpmax = Math.max(c.qpIMax, c.qpPMax);
  const params = [
    `keyint=${gop}`,
    `min-keyint=${gop}`,
    'scenecut=0',
    'bframes=0',
    'open-gop=0',
    `crf=${c.qpInit}`,
    `qpmax=${qpmax}`,
    `threads=${threads}`,
    'sliced-threads=0',
  ];
  return [
    '-an',
    '-c:v', 'libx264',
    '-preset', opts.preset ?? 'ultrafast',
    '-tune', 'zerolatency',
    '-profile:v', 'baseline',
    '-pix_fmt', 'yuv420p',
    '-s', `${c.width}x${c.height}`,
    '-r', ffmpegRate(c.fps),
    '-g', String(gop),
    '-keyint_min', String(gop),
    '-sc_threshold', '0',
    '-bf', '0',
    '-threads', String(threads),
    '-x264-params', params.join(':'),
  ];
}
