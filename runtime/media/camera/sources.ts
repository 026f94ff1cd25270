/**
 * Camera sources: what the simulated camera films, as a spec string, and the ffmpeg input
 * arguments for it.
 *
 * Syntax (`parseSource`):
 *   testsrc                 synthetic moving picture (default). ffmpeg's `testsrc2` pattern with a
 *                           burnt-in wall-clock time with milliseconds and the frame number
 *                           (drawtext, needs a TrueType font: $LUATOS_CAMERA_FONT or a known system
 *                           font such as DejaVu Sans Mono). Without a usable font it falls back to
 *                           plain `testsrc2`, whose own small top-left overlay still shows the
 *                           stream time (hh:mm:ss.mmm) and the frame number.
 *   testsrc:plain           plain testsrc2 (no drawtext).
 *   v4l2:/dev/videoN        Linux V4L2 device (also accepted: a bare /dev/videoN)
 *   avfoundation:<index>    macOS camera by index (or name), e.g. avfoundation:0
 *   dshow:<name>            Windows DirectShow camera by friendly name, e.g. dshow:Integrated Camera
 *   file:<path>             a video file, looped forever at its native rate (-stream_loop -1 -re)
 *
 * Every source is scaled/retimed to the configured size and frame rate by the output filter
 * ({@link sourceFilter}), so a webcam that cannot do 1280×720@15 still produces it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { ffmpegRate, type EncoderConfig } from './encoder-config';

export type SourceSpec =
  | { kind: 'testsrc'; plain: boolean }
  | { kind: 'v4l2'; device: string }
  | { kind: 'avfoundation'; device: string }
  | { kind: 'dshow'; device: string }
  | { kind: 'file'; path: string };

export class CameraSourceError extends Error {
  constructor(message: string, readonly code: 'EBADSPEC' | 'ENODEV' | 'ENOENT' | 'EBUSY' | 'EUNSUPPORTED' | 'EFFMPEG') {
    super(message);
    this.name = 'CameraSourceError';
  }
}

/** Parse a source spec string (see the module comment). Throws CameraSourceError(EBADSPEC). */
export function parseSource(spec: string | undefined): SourceSpec {
  const s = (spec ?? '').trim();
  if (s === '' || s === 'testsrc') return { kind: 'testsrc', plain: false };
  if (s === 'testsrc:plain') return { kind: 'testsrc', plain: true };
  if (s.startsWith('/dev/video')) return { kind: 'v4l2', device: s };
  const i = s.indexOf(':');
  if (i <= 0) throw new CameraSourceError(`bad camera source "${s}": expected testsrc, v4l2:/dev/videoN, avfoundation:<index>, dshow:<name> or file:<path>`, 'EBADSPEC');
  const kind = s.slice(0, i).toLowerCase();
  const rest = s.slice(i + 1);
  if (!rest) throw new CameraSourceError(`bad camera source "${s}": nothing after "${kind}:"`, 'EBADSPEC');
  switch (kind) {
    case 'v4l2':
      return { kind: 'v4l2', device: rest };
    case 'avfoundation':
      return { kind: 'avfoundation', device: rest };
    case 'dshow':
      return { kind: 'dshow', device: rest.startsWith('video=') ? rest.slice(6) : rest };
    case 'file':
      return { kind: 'file', path: rest };
    default:
      throw new CameraSourceError(`bad camera source "${s}": unknown kind "${kind}" (testsrc, v4l2, avfoundation, dshow, file)`, 'EBADSPEC');
  }
}

export function formatSource(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'testsrc': return spec.plain ? 'testsrc:plain' : 'testsrc';
    case 'v4l2': return `v4l2:${spec.device}`;
    case 'avfoundation': return `avfoundation:${spec.device}`;
    case 'dshow': return `dshow:${spec.device}`;
    case 'file': return `file:${spec.path}`;
  }
}

/**
 * Check what can be checked without ffmpeg: the device node or file exists and is readable, the
 * platform matches. Throws CameraSourceError.
 */
export function validateSource(spec: SourceSpec, platform: NodeJS.Platform = process.platform): void {
  switch (spec.kind) {
    case 'testsrc':
      return;
    case 'v4l2': {
      if (platform !== 'linux') throw new CameraSourceError(`camera source v4l2:${spec.device} needs Linux (this is ${platform})`, 'EUNSUPPORTED');
      let st: fs.Stats;
      try {
        st = fs.statSync(spec.device);
      } catch {
        throw new CameraSourceError(`camera device ${spec.device} does not exist (no such V4L2 device; \`luatos cameras\` lists the ones present)`, 'ENODEV');
      }
      if (!st.isCharacterDevice()) throw new CameraSourceError(`camera device ${spec.device} is not a character device`, 'ENODEV');
      try {
        fs.accessSync(spec.device, fs.constants.R_OK | fs.constants.W_OK);
      } catch {
        throw new CameraSourceError(`no permission to open camera device ${spec.device} (add yourself to the "video" group)`, 'ENODEV');
      }
      return;
    }
    case 'avfoundation':
      if (platform !== 'darwin') throw new CameraSourceError(`camera source avfoundation:${spec.device} needs macOS (this is ${platform})`, 'EUNSUPPORTED');
      return;
    case 'dshow':
      if (platform !== 'win32') throw new CameraSourceError(`camera source dshow:${spec.device} needs Windows (this is ${platform})`, 'EUNSUPPORTED');
      return;
    case 'file': {
      let st: fs.Stats;
      try {
        st = fs.statSync(spec.path);
      } catch {
        throw new CameraSourceError(`camera source file ${spec.path} does not exist`, 'ENOENT');
      }
      if (!st.isFile()) throw new CameraSourceError(`camera source file ${spec.path} is not a regular file`, 'ENOENT');
      try {
        fs.accessSync(spec.path, fs.constants.R_OK);
      } catch {
        throw new CameraSourceError(`camera source file ${spec.path} is not readable`, 'ENOENT');
      }
      return;
    }
  }
}

/** Escape a value for use inside an ffmpeg filtergraph option (after `key=`), unquoted. */
export function escapeFilterValue(v: string): string {
  return v.replace(/[\\:'[\],;=]/g, (c) => '\\' + c);
}

const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf',
  '/usr/share/fonts/dejavu/DejaVuSansMono.ttf',
  '/usr/share/fonts/TTF/DejaVuSansMono.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf',
  '/usr/share/fonts/truetype/freefont/FreeMono.ttf',
  '/usr/share/fonts/noto/NotoSansMono-Regular.ttf',
  '/System/Library/Fonts/Menlo.ttc',
  '/System/Library/Fonts/Monaco.ttf',
  '/Library/Fonts/Arial.ttf',
  'C:\\Windows\\Fonts\\consola.ttf',
  'C:\\Windows\\Fonts\\arial.ttf',
];

/** A TrueType font file for drawtext: $LUATOS_CAMERA_FONT, then well-known system fonts. */
export function findFont(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const cands = env.LUATOS_CAMERA_FONT ? [env.LUATOS_CAMERA_FONT, ...FONT_CANDIDATES] : FONT_CANDIDATES;
  for (const f of cands) {
    try {
      if (fs.statSync(f).isFile()) return f;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/**
 * drawtext filter showing local wall-clock time with ms and the frame number, e.g.
 * "14:03:07.512  #123". The ms part is `time(0)` (wall clock at filtering time) mod 1000.
 */
export function clockOverlayFilter(fontFile: string, height: number): string {
  const size = Math.max(12, Math.round(height / 15));
  // The text is an ffmpeg expansion string; ':' separating expansion arguments must be escaped
  // once for drawtext and the whole value escaped again for the filtergraph (so: in quotes).
  const text = "%{localtime\\:%H\\\\\\:%M\\\\\\:%S}.%{eif\\:mod(floor(time(0)*1000)\\,1000)\\:d\\:3}  #%{n}";
  const font = fontFile.replace(/\\/g, '/').replace(/:/g, '\\:');
  return (
    `drawtext=fontfile='${font}':fontsize=${size}:fontcolor=white:box=1:boxcolor=black@0.6:` +
    `x=(w-tw)/2:y=h-th-${Math.round(size / 2)}:text='${text}'`
  );
}

export interface InputArgsOptions {
  /** testsrc only: drawtext font file, or undefined for the plain pattern */
  fontFile?: string;
}

/** ffmpeg input arguments for a source (everything up to and including `-i …`). */
export function sourceInputArgs(spec: SourceSpec, c: Pick<EncoderConfig, 'width' | 'height' | 'fps'>): string[] {
  const rate = ffmpegRate(c.fps);
  const size = `${c.width}x${c.height}`;
  switch (spec.kind) {
    case 'testsrc':
      return ['-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}`];
    case 'v4l2':
      return ['-f', 'v4l2', '-framerate', rate, '-video_size', size, '-i', spec.device];
    case 'avfoundation':
      return ['-f', 'avfoundation', '-framerate', rate, '-video_size', size, '-i', `${spec.device}:none`];
    case 'dshow':
      return ['-f', 'dshow', '-framerate', rate, '-video_size', size, '-i', `video=${spec.device}`];
    case 'file':
      return ['-stream_loop', '-1', '-re', '-i', spec.path];
  }
}

/**
 * The video filter chain between source and encoder: for testsrc the clock overlay (when a font
 * is given); for the others scale to the configured size (keeping nothing of the aspect ratio:
 * a sensor_width × sensor_height picture, like the device's scaler) and fps to the configured
 * rate (duplicates/drops frames). Returns undefined when no filter is needed.
 */
export function sourceFilter(spec: SourceSpec, c: Pick<EncoderConfig, 'width' | 'height' | 'fps'>, opts: InputArgsOptions = {}): string | undefined {
  if (spec.kind === 'testsrc') {
    return !spec.plain && opts.fontFile ? clockOverlayFilter(opts.fontFile, c.height) : undefined;
  }
  return `scale=${c.width}:${c.height},fps=${ffmpegRate(c.fps)},format=yuv420p`;
}

export interface CameraDevice {
  /** source spec to pass to FfmpegCamera, e.g. "v4l2:/dev/video0" */
  source: string;
  /** human-readable name */
  name: string;
  /** platform detail: V4L2 node index (0 = capture node, 1 = metadata node), avfoundation index */
  index?: number;
}

/** Linux: /dev/video* with names from /sys/class/video4linux/<dev>/name, sorted by number. */
export function listV4l2Devices(devDir = '/dev', sysDir = '/sys/class/video4linux'): CameraDevice[] {
  let names: string[];
  try {
    names = fs.readdirSync(devDir).filter((n) => /^video\d+$/.test(n));
  } catch {
    return [];
  }
  names.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  return names.map((n) => {
    const read = (f: string): string | undefined => {
      try {
        return fs.readFileSync(path.join(sysDir, n, f), 'utf8').trim();
      } catch {
        return undefined;
      }
    };
    const idx = read('index');
    const dev: CameraDevice = { source: `v4l2:${path.join(devDir, n)}`, name: read('name') ?? n };
    if (idx !== undefined && /^\d+$/.test(idx)) dev.index = Number(idx);
    return dev;
  });
}

/** Parse `ffmpeg -f avfoundation -list_devices true -i ""` stderr: video devices only. */
export function parseAvfoundationList(stderr: string): CameraDevice[] {
  const out: CameraDevice[] = [];
  let inVideo = false;
  for (const line of stderr.split(/\r?\n/)) {
    if (/AVFoundation video devices/i.test(line)) {
      inVideo = true;
      continue;
    }
    if (/AVFoundation audio devices/i.test(line)) {
      inVideo = false;
      continue;
    }
    const m = inVideo ? /\]\s*\[(\d+)\]\s*(.+?)\s*$/.exec(line) : null;
    if (m) out.push({ source: `avfoundation:${m[1]}`, name: m[2], index: Number(m[1]) });
  }
  return out;
}

/**
 * Parse `ffmpeg -list_devices true -f dshow -i dummy` stderr: video devices only. Handles both
 * the old layout (a "DirectShow video devices" header, then `"Name"` lines, each followed by an
 * `Alternative name` line) and the ffmpeg ≥ 5 layout (`"Name" (video)`).
 */
export function parseDshowList(stderr: string): CameraDevice[] {
  const out: CameraDevice[] = [];
  let section: 'video' | 'audio' | undefined;
  for (const line of stderr.split(/\r?\n/)) {
    if (/DirectShow video devices/i.test(line)) {
      section = 'video';
      continue;
    }
    if (/DirectShow audio devices/i.test(line)) {
      section = 'audio';
      continue;
    }
    if (/Alternative name/i.test(line)) continue;
    const m = /\]\s*"([^"]+)"\s*(\((video|audio|none)\))?/.exec(line);
    if (!m) continue;
    const isVideo = m[3] ? m[3] === 'video' : section === 'video';
    if (isVideo) out.push({ source: `dshow:${m[1]}`, name: m[1] });
  }
  return out;
}

function runFfmpegForStderr(ffmpegPath: string, args: string[], timeoutMs = 10000): Promise<string> {
  return new Promise((resolve) => {
    let err = '';
    let child;
    try {
      child = spawn(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch {
      resolve('');
      return;
    }
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      if (err.length < 1 << 20) err += d;
    });
    child.on('error', () => {
      clearTimeout(t);
      resolve(err);
    });
    child.on('close', () => {
      clearTimeout(t);
      resolve(err);
    });
  });
}

/**
 * Cameras present on this host. Linux: the /dev/video* nodes (no ffmpeg needed; metadata nodes
 * have index 1). macOS/Windows: ffmpeg's device listing (ffmpegPath required there). The built-in
 * `testsrc` is not listed.
 */
export async function listCameras(opts: { ffmpegPath?: string; platform?: NodeJS.Platform } = {}): Promise<CameraDevice[]> {
  const platform = opts.platform ?? process.platform;
  if (platform === 'linux') return listV4l2Devices();
  if (!opts.ffmpegPath) return [];
  if (platform === 'darwin') {
    return parseAvfoundationList(await runFfmpegForStderr(opts.ffmpegPath, ['-hide_banner', '-f', 'avfoundation', '-list_devices', 'true', '-i', '']));
  }
  if (platform === 'win32') {
    return parseDshowList(await runFfmpegForStderr(opts.ffmpegPath, ['-hide_banner', '-list_devices', 'true', '-f', 'dshow', '-i', 'dummy']));
  }
  return [];
}
