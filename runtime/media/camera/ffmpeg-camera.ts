/**
 * FfmpegCamera: the simulated Air8101 "camera + hardware H.264 encoder", backed by an ffmpeg child
 * process that captures (or synthesises) pictures, encodes them with libx264 and writes FLV to its
 * stdout, which {@link FlvDemuxer} turns into Annex-B access units.
 *
 * Life cycle (mirrors camera.init / start / stop / close):
 *
 *   const cam = new FfmpegCamera({ source: 'testsrc' });
 *   cam.configure(0x220, 15) ...        // camera.config(id, key, value) → 0 / -1
 *   await cam.open();                   // camera.init: validates ffmpeg + source; a real device is
 *                                       // probed for one frame (busy/absent → CameraSourceError)
 *   cam.on('frame', f => ...);          // EncodedVideoFrame
 *   await cam.start();                  // spawns ffmpeg, resolves at the first frame
 *   await cam.capture(1);               // JPEG Buffer
 *   await cam.stop();                   // kills ffmpeg (can start again)
 *   await cam.close();                  // stop + back to 'closed'
 *
 * Events:
 *   'frame'  (f: EncodedVideoFrame)              one access unit; first is a keyframe with SPS+PPS+IDR
 *   'log'    (level: 'D'|'I'|'W'|'E', message)   ffmpeg stderr lines are 'D'
 *   'error'  (err: Error)                        ffmpeg died or its output broke while streaming
 *                                                (only emitted when someone listens; always logged as E)
 *   'started'()                                  first frame of a start() arrived
 *   'stopped'(reason: 'stop' | 'exit')           the encoder process is gone
 */
import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import type { EncodedVideoFrame, VideoStreamInfo } from '../types';
import { locateFfmpeg, type LocateOptions } from '../ffmpeg/locate';
import { spawnTracked, killTree } from '../ffmpeg/child-registry';
import {
  applyCameraConfig,
  defaultEncoderConfig,
  gopSize,
  streamInfo,
  validateEncoderConfig,
  x264Args,
  type EncoderConfig,
  type X264ArgsOptions,
} from './encoder-config';
import {
  CameraSourceError,
  findFont,
  formatSource,
  parseSource,
  sourceFilter,
  sourceInputArgs,
  validateSource,
  clockOverlayFilter,
  type SourceSpec,
} from './sources';
import { FlvDemuxer } from '../codec/flv-demux';

import type { LogLevel } from '../types';
export type { LogLevel };
export type CameraState = 'closed' | 'open' | 'starting' | 'streaming';

export interface FfmpegCameraOptions {
  /** source spec (see sources.ts); default $LUATOS_CAMERA_SOURCE or 'testsrc' */
  source?: string | SourceSpec;
  /** initial encoder settings (defaults: the demo's 1280×720, 15 fps, GOP 30, QP 40/40/25) */
  config?: Partial<EncoderConfig>;
  /** ffmpeg binary; default {@link locateFfmpeg}(locate) at open() */
  ffmpegPath?: string;
  /** options for locateFfmpeg (tests inject `{ skipPackages: true, env: { PATH: '' } }`) */
  locate?: LocateOptions;
  /** x264 preset/threads */
  encoder?: X264ArgsOptions;
  /**
   * A marker added to every ffmpeg command line of this camera (as `-metadata luatos_tag=<tag>`),
   * so tests and tools can find its processes with `ps`.
   */
  tag?: string;
  /** max time from start() to the first frame (default 20000 ms) */
  startTimeoutMs?: number;
  /** max time for capture() (default 20000 ms) */
  captureTimeoutMs?: number;
  /**
   * Open a real capture device (v4l2/avfoundation/dshow) once in open(): ffmpeg grabs one frame
   * to nowhere, so a busy, unplugged or non-capture device fails camera.init instead of the later
   * encoder start. Default true; the probe is skipped for testsrc and files.
   */
  probeDevice?: boolean;
  /** max time for that probe (default 8000 ms; a UVC camera needs ~0.5–2 s to deliver a frame) */
  probeTimeoutMs?: number;
  /**
   * Keep dts increasing across stop()/start() of this camera: frames of a later run get the
   * wall-clock time since the first frame of the first run added (default true). The first run
   * starts at the encoder's first dts (0).
   */
  continuousTimestamps?: boolean;
}

const DEFAULT_SOURCE = 'testsrc';
const drawtextProbeCache = new Map<string, boolean>();

/** Map camera.capture quality to a JPEG percentage: 1/2/3 → 90/95/99, 4..100 as is, else 90. */
export function captureQualityPercent(q: number | undefined): number {
  if (q === undefined || !Number.isFinite(q)) return 90;
  if (q === 1) return 90;
  if (q === 2) return 95;
  if (q === 3) return 99;
  if (q >= 4 && q <= 100) return Math.round(q);
  return 90;
}

/** JPEG percentage → ffmpeg mjpeg `-q:v` (2 = best … 31 = worst): 99→2, 95→3, 90→5, 50→17. */
export function jpegQscale(percent: number): number {
  const p = Math.min(100, Math.max(1, percent));
  return Math.min(31, Math.max(2, Math.round(2 + ((100 - p) / 100) * 29)));
}

export function isJpeg(b: Buffer): boolean {
  return b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;
}

export interface CaptureOptions {
  /** crop rectangle in pixels of the configured picture (camera.capture x, y, w, h) */
  crop?: { x: number; y: number; w: number; h: number };
}

export class FfmpegCamera extends EventEmitter {
  readonly config: EncoderConfig;
  private readonly opts: FfmpegCameraOptions;
  private spec: SourceSpec | undefined;
  private ffmpeg: string | undefined;
  private font: string | undefined;
  private _state: CameraState = 'closed';
  private child: ChildProcess | undefined;
  private stopping = false;
  private gop: EncodedVideoFrame[] = [];
  private firstWall: number | undefined;
  private runOffset = 0;
  private needOffset = false;
  private lastDts = -Infinity;
  private _frames = 0;
  private startPromise: Promise<void> | undefined;

  constructor(opts: FfmpegCameraOptions = {}) {
    super();
    this.opts = opts;
    this.config = defaultEncoderConfig(opts.config);
  }

  get state(): CameraState {
    return this._state;
  }
  /** pid of the running encoder ffmpeg */
  get pid(): number | undefined {
    return this.child?.pid;
  }
  /** frames emitted since construction */
  get frameCount(): number {
    return this._frames;
  }
  /** the parsed source (after open()) */
  get source(): SourceSpec | undefined {
    return this.spec;
  }
  get ffmpegPath(): string | undefined {
    return this.ffmpeg;
  }

  private log(level: LogLevel, msg: string): void {
    this.emit('log', level, msg);
  }

  private fail(err: Error): void {
    this.log('E', err.message);
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /**
   * camera.config(id, key, value): returns 0 (accepted) or -1 (unknown key / bad value).
   * Takes effect at the next start().
   */
  configure(key: number, value: number): number {
    return applyCameraConfig(this.config, key, value);
  }

  /** camera.init's sensor_width / sensor_height. Throws RangeError on bad sizes. */
  setSize(width: number, height: number): void {
    const next = { ...this.config, width, height };
    validateEncoderConfig(next);
    this.config.width = width;
    this.config.height = height;
  }

  info(): VideoStreamInfo {
    return streamInfo(this.config);
  }

  /**
   * camera.init: locate ffmpeg, parse and validate the source (missing device/file → error), and for
   * testsrc check that drawtext works with the font found (else fall back to the plain pattern, W
   * log). Idempotent while open. Throws FfmpegNotFoundError / CameraSourceError.
   */
  async open(): Promise<void> {
    if (this._state !== 'closed') return;
    const spec = typeof this.opts.source === 'object' ? this.opts.source : parseSource(this.opts.source ?? process.env.LUATOS_CAMERA_SOURCE ?? DEFAULT_SOURCE);
    validateSource(spec);
    const ffmpeg = this.opts.ffmpegPath ?? locateFfmpeg(this.opts.locate).path;
    this.spec = spec;
    this.ffmpeg = ffmpeg;
    this.font = undefined;
    if (spec.kind === 'testsrc' && !spec.plain) {
      const font = findFont();
      if (!font) {
        this.log('W', 'camera: no TrueType font found for the clock overlay (set LUATOS_CAMERA_FONT); using the plain testsrc2 picture');
      } else if (await probeDrawtext(ffmpeg, font)) {
        this.font = font;
      } else {
        this.log('W', `camera: ffmpeg drawtext does not work with ${font}; using the plain testsrc2 picture`);
      }
    }
    if ((spec.kind === 'v4l2' || spec.kind === 'avfoundation' || spec.kind === 'dshow') && this.opts.probeDevice !== false) {
      await this.probeDevice(spec, ffmpeg);
    }
    this._state = 'open';
    this.log('I', `camera: open source=${formatSource(spec)} ${this.config.width}x${this.config.height}@${this.config.fps} gop=${gopSize(this.config)} ffmpeg=${ffmpeg}`);
  }

  /**
   * One frame from the device into ffmpeg's null muxer. Throws CameraSourceError: EBUSY ("Device
   * or resource busy": another program holds the camera), ENODEV (no such device, or not a capture
   * device), EFFMPEG (no frame within probeTimeoutMs, or any other ffmpeg failure).
   */
  private async probeDevice(spec: SourceSpec, ffmpeg: string): Promise<void> {
    const timeoutMs = this.opts.probeTimeoutMs ?? 8000;
    const src = formatSource(spec);
    const args = [
      '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error',
      ...sourceInputArgs(spec, this.config),
      '-frames:v', '1',
      ...this.tagArgs(),
      '-f', 'null', '-',
    ];
    const lines: string[] = [];
    const t0 = Date.now();
    this.log('D', `camera: probing ${src}: ${ffmpeg} ${args.join(' ')}`);
    try {
      await runOnce(ffmpeg, args, undefined, timeoutMs, (l) => {
        lines.push(l);
        this.log('D', l);
      });
    } catch (e) {
      const msg = (e as Error).message;
      if (/timed out/.test(msg)) throw new CameraSourceError(`camera ${src} delivered no frame within ${timeoutMs} ms`, 'EFFMPEG');
      if (/cannot run ffmpeg/.test(msg)) throw new CameraSourceError(msg, 'EFFMPEG');
      throw probeError(src, lines);
    }
    this.log('D', `camera: ${src} delivered a frame in ${Date.now() - t0} ms`);
  }

  private tagArgs(): string[] {
    return this.opts.tag ? ['-metadata', `luatos_tag=${this.opts.tag}`] : [];
  }

  /** The full ffmpeg argument list of the encoder process (exposed for tools and tests). */
  encoderArgs(): string[] {
    if (!this.spec) throw new Error('camera not open');
    const vf = sourceFilter(this.spec, this.config, { fontFile: this.font });
    return [
      '-hide_banner',
      '-nostdin',
      '-nostats',
      '-loglevel', 'info',
      ...sourceInputArgs(this.spec, this.config),
      ...(vf ? ['-vf', vf] : []),
      ...x264Args(this.config, this.opts.encoder),
      ...this.tagArgs(),
      '-flush_packets', '1',
      '-f', 'flv',
      '-flvflags', 'no_duration_filesize',
      'pipe:1',
    ];
  }

  /**
   * camera.start: spawn the encoder; resolves when the first frame has been emitted. Rejects
   * (and leaves the camera 'open') if ffmpeg fails at start-up (busy device → CameraSourceError
   * EBUSY), cannot be spawned, or no frame arrives within startTimeoutMs. Calls open() first when
   * the camera is closed. Calling it while streaming resolves at once.
   */
  start(): Promise<void> {
    if (this._state === 'streaming') return Promise.resolve();
    if (this.startPromise) return this.startPromise;
    this.startPromise = (async () => {
      await this.open();
      await this.spawnEncoder();
    })().finally(() => {
      this.startPromise = undefined;
    });
    return this.startPromise;
  }

  private spawnEncoder(): Promise<void> {
    const args = this.encoderArgs();
    const ffmpeg = this.ffmpeg!;
    this._state = 'starting';
    this.stopping = false;
    this.gop = [];
    const recent: string[] = [];
    let started = false; // first frame seen
    let settled = false; // start promise resolved or rejected
    if (this._frames > 0) this.needOffset = true;
    this.log('D', `camera: spawn ${ffmpeg} ${args.join(' ')}`);

    return new Promise<void>((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawnTracked(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'], name: 'camera-ffmpeg' });
      } catch (e) {
        this._state = 'open';
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      this.child = child;
      const timeoutMs = this.opts.startTimeoutMs ?? 20000;
      const timer = setTimeout(() => {
        if (settled) return;
        failStart(new CameraSourceError(`camera: no frame from ffmpeg within ${timeoutMs} ms${tail()}`, 'EFFMPEG'));
        void killTree(child, 'SIGKILL');
      }, timeoutMs);

      const tail = () => (recent.length ? ': ' + recent.slice(-6).join(' | ') : '');
      const failStart = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this._state = 'open';
        if (this.child === child) this.child = undefined;
        reject(err);
      };

      const demux = new FlvDemuxer({
        onFrame: (f) => this.onFrame(f, child, () => {
          if (!started && !settled) {
            started = true;
            settled = true;
            clearTimeout(timer);
            this._state = 'streaming';
            this.log('I', `camera: streaming (ffmpeg pid ${child.pid})`);
            this.emit('started');
            resolve();
          }
        }),
      });

      child.stdout!.on('data', (chunk: Buffer) => {
        if (this.child !== child || this.stopping) return;
        try {
          demux.push(chunk);
        } catch (e) {
          const err = new Error(`camera: bad encoder output: ${(e as Error).message}`);
          if (!settled) failStart(err);
          else this.fail(err);
          void killTree(child, 'SIGKILL');
        }
      });
      child.stdout!.on('error', () => {});

      let partial = '';
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (d: string) => {
        partial += d;
        const lines = partial.split(/\r\n|\r|\n/);
        partial = lines.pop() ?? '';
        if (partial.length > 8192) {
          lines.push(partial);
          partial = '';
        }
        for (const l of lines) {
          if (!l.trim()) continue;
          recent.push(l.trim());
          if (recent.length > 30) recent.shift();
          this.log('D', l);
        }
      });
      child.stderr!.on('error', () => {});

      child.on('error', (e: NodeJS.ErrnoException) => {
        const err = new CameraSourceError(`camera: cannot run ffmpeg ${ffmpeg}: ${e.message}`, 'EFFMPEG');
        if (!settled) failStart(err);
        else if (started) this.fail(err);
      });

      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const expected = this.stopping;
        if (this.child === child) this.child = undefined;
        if (!settled) {
          failStart(expected ? new Error('camera: stopped before the first frame') : startupError(this.spec!, code, signal, recent));
          return;
        }
        if (expected || !started) return;
        // Unexpected exit while streaming.
        if (this._state === 'streaming') this._state = 'open';
        const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
        this.fail(new CameraSourceError(`camera: ffmpeg (pid ${child.pid}) ${how} while streaming${recent.length ? ': ' + recent.slice(-3).join(' | ') : ''}`, 'EFFMPEG'));
        this.emit('stopped', 'exit');
      });
    });
  }

  private onFrame(f: EncodedVideoFrame, child: ChildProcess, onFirst: () => void): void {
    if (this.child !== child || this.stopping) return;
    const now = Date.now();
    if (this.firstWall === undefined) {
      this.firstWall = now - f.dts;
      this.runOffset = 0;
    } else if (this.needOffset) {
      // first frame of a later run
      this.needOffset = false;
      const cont = this.opts.continuousTimestamps !== false;
      this.runOffset = cont ? Math.max(Math.round(now - this.firstWall) - f.dts, this.lastDts + 1 - f.dts) : 0;
    }
    const out: EncodedVideoFrame = { data: f.data, dts: f.dts + this.runOffset, pts: f.pts + this.runOffset, keyframe: f.keyframe };
    this.lastDts = out.dts;
    this._frames++;
    if (out.keyframe) this.gop = [out];
    else if (this.gop.length && this.gop.length < 600) this.gop.push(out);
    onFirst();
    this.emit('frame', out);
  }

  /** camera.stop: kill the encoder (SIGTERM, SIGKILL after 1.5 s). The camera stays open. */
  async stop(): Promise<void> {
    const pending = this.startPromise;
    const child = this.child;
    if (!child) {
      if (pending) await pending.catch(() => {}); // still opening: let it settle, then stop what it started
      if (pending && this.child) return this.stop();
      if (this._state !== 'closed') this._state = 'open';
      return;
    }
    this.stopping = true;
    // A start() still waiting for its first frame rejects with "stopped before the first frame".
    await killTree(child, 'SIGTERM', 1500);
    // its last stderr lines ("Exiting normally") come after 'exit': read them before "stopped"
    await stdioClosed(child, 500);
    if (pending) await pending.catch(() => {});
    if (this.child === child) this.child = undefined;
    this.gop = [];
    this._state = 'open';
    this.log('I', 'camera: stopped');
    this.emit('stopped', 'stop');
  }

  /** camera.close: stop and release; open() / start() may be called again later. */
  async close(): Promise<void> {
    await this.stop();
    this._state = 'closed';
  }

  /**
   * camera.capture: one JPEG picture (starts FF D8, ends FF D9).
   * quality: 1/2/3 = 90/95/99 %, or a percentage 4..100. While streaming the picture is decoded
   * from the encoder's current GOP (the device cannot be opened twice); otherwise a short-lived
   * ffmpeg grabs one frame from the source. Opens the camera if needed.
   */
  async capture(quality: number = 1, opts: CaptureOptions = {}): Promise<Buffer> {
    await this.open();
    const q = jpegQscale(captureQualityPercent(quality));
    const filters: string[] = [];
    let input: string[];
    let stdinData: Buffer | undefined;
    if (this._state === 'streaming' && this.gop.length && this.gop[0].keyframe) {
      stdinData = Buffer.concat(this.gop.map((f) => f.data));
      // Keep only the last decoded picture of the GOP.
      filters.push(`select='eq(n\\,${this.gop.length - 1})'`);
      input = ['-f', 'h264', '-i', 'pipe:0'];
    } else {
      input = sourceInputArgs(this.spec!, this.config).filter((a) => a !== '-re');
      const vf = sourceFilter(this.spec!, this.config, { fontFile: this.font });
      if (vf) filters.push(vf);
    }
    if (opts.crop) {
      const { x, y, w, h } = opts.crop;
      filters.push(`crop=${Math.round(w)}:${Math.round(h)}:${Math.round(x)}:${Math.round(y)}`);
    }
    const args = [
      '-hide_banner',
      '-nostats',
      '-loglevel', 'error',
      ...(stdinData ? [] : ['-nostdin']),
      ...input,
      ...(filters.length ? ['-vf', filters.join(',')] : []),
      '-frames:v', '1',
      '-vsync', 'passthrough',
      '-c:v', 'mjpeg',
      '-pix_fmt', 'yuvj420p',
      '-q:v', String(q),
      ...this.tagArgs(),
      '-f', 'mjpeg',
      'pipe:1',
    ];
    const jpeg = await runOnce(this.ffmpeg!, args, stdinData, this.opts.captureTimeoutMs ?? 20000, (l) => this.log('D', l));
    if (!isJpeg(jpeg)) throw new Error(`camera: capture produced no valid JPEG (${jpeg.length} bytes)`);
    return jpeg;
  }
}

/** Resolves when the child's stdio streams have closed (its output read to the end), or after `capMs`. */
function stdioClosed(child: ChildProcess, capMs: number): Promise<void> {
  const streams = [child.stdout, child.stderr].filter((x): x is NonNullable<typeof x> => !!x && !x.destroyed && !x.readableEnded);
  if (streams.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, capMs);
    child.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/**
 * What ffmpeg's stderr says about the source, for a device probe and an encoder start alike:
 * busy (EBUSY), absent (ENODEV), not a capture device (ENODEV); undefined when none of these.
 */
function sourceError(src: string, lines: string[]): CameraSourceError | undefined {
  const text = lines.join('\n');
  const detail = lines.length ? ': ' + lines.slice(-4).join(' | ') : '';
  if (/Device or resource busy/i.test(text)) return new CameraSourceError(`camera ${src} is busy (Device or resource busy): another program is using it`, 'EBUSY');
  // DirectShow: "Could not run graph (sometimes caused by a device already in use by other application)"
  if (/already in use|in use by (an)?other application|Could not run graph/i.test(text)) {
    return new CameraSourceError(`camera ${src} is busy (already in use): another program is using it${detail}`, 'EBUSY');
  }
  if (/No such file or directory|No such device/i.test(text)) {
    return new CameraSourceError(`camera ${src} cannot be opened (no such ${src.startsWith('file:') ? 'file' : 'device'})${detail}`, 'ENODEV');
  }
  if (/Inappropriate ioctl|Not a video capture device|QUERYCAP|Could not find video device|Could not enumerate video devices/i.test(text)) {
    return new CameraSourceError(`camera ${src} is not a video capture device${detail}`, 'ENODEV');
  }
  return undefined;
}

function startupError(spec: SourceSpec, code: number | null, signal: NodeJS.Signals | null, recent: string[]): Error {
  const src = formatSource(spec);
  const known = sourceError(src, recent);
  if (known) return known;
  const detail = recent.length ? ': ' + recent.slice(-4).join(' | ') : '';
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  return new CameraSourceError(`camera: ffmpeg ${how} before the first frame${detail}`, 'EFFMPEG');
}

/** Classify a failed device probe from ffmpeg's stderr lines. */
export function probeError(src: string, lines: string[]): CameraSourceError {
  const detail = lines.length ? ': ' + lines.slice(-4).join(' | ') : '';
  return sourceError(src, lines) ?? new CameraSourceError(`camera ${src}: ffmpeg could not capture from it${detail}`, 'EFFMPEG');
}

/** Run a short-lived ffmpeg, collect stdout; rejects on non-zero exit or timeout. */
function runOnce(ffmpeg: string, args: string[], stdin: Buffer | undefined, timeoutMs: number, onLine: (l: string) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(ffmpeg, args, { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], name: 'camera-capture' });
    const out: Buffer[] = [];
    let err = '';
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      void killTree(child, 'SIGKILL');
      reject(new Error(`camera: capture timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stdout!.on('error', () => {});
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      if (err.length < 65536) err += d;
    });
    child.stderr!.on('error', () => {});
    child.on('error', (e) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`camera: cannot run ffmpeg ${ffmpeg}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      for (const l of err.split(/\r?\n/)) if (l.trim()) onLine(l);
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`camera: capture ffmpeg ${signal ? 'killed by ' + signal : 'exited with code ' + code}${err.trim() ? ': ' + err.trim().split(/\r?\n/).slice(-3).join(' | ') : ''}`));
    });
    if (stdin && child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(stdin);
    }
  });
}

/** Does drawtext work with this ffmpeg and font? (cached; ~100 ms the first time) */
export async function probeDrawtext(ffmpeg: string, font: string): Promise<boolean> {
  const key = ffmpeg + '\0' + font;
  const hit = drawtextProbeCache.get(key);
  if (hit !== undefined) return hit;
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=1', '-vf', clockOverlayFilter(font, 120), '-frames:v', '1', '-f', 'null', '-'];
  let ok: boolean;
  try {
    await runOnce(ffmpeg, args, undefined, 10000, () => {});
    ok = true;
  } catch {
    ok = false;
  }
  drawtextProbeCache.set(key, ok);
  return ok;
}
