/**
 * The device's media hub: one per VM (boot), connecting the `camera` binding (an ffmpeg child
 * that plays the Air8101's USB camera + hardware H.264 encoder) to the `rtmp` binding (our
 * TypeScript publisher), as the firmware's camera core and RTMP component are wired together.
 *
 * How frames flow (luatos-api.md §12.2 "How RTMP gets frames"):
 *
 *   camera.config(...)   → stored encoder settings (work before camera.init)
 *   camera.init{...}     → locate ffmpeg, check the source; no process yet
 *   camera.start(id)     → only marks the camera started (the device's camera.start does not stream)
 *   rtmp object → PUBLISHING   → the hub becomes that publisher's frame source: it logs the camera
 *                                core's lines (`拍照/录像到文件录 rtmp`, `选定的捕捉模式 6`,
 *                                `RTMP传输模式`) and starts the encoder; every access unit goes to
 *                                `publisher.pushVideo` (the first one is an IDR with SPS/PPS)
 *   publisher leaves PUBLISHING → the encoder is stopped (the ffmpeg child ends)
 *
 * Other sources: `feed(frame)` pushes any encoded access unit (Annex-B H.264, see
 * runtime/media/types.ts) into the publisher that is currently PUBLISHING — the documented TS
 * entry point for frames that do not come from the camera:
 *
 *   import { deviceMedia } from './luatos-api/shared/media-hub';
 *   const hub = deviceMedia(device.vm!);
 *   hub.setStreamInfo({ width: 640, height: 480, framerate: 25, videodatarate: 800, videocodecid: 7 });
 *   hub.feed({ data, dts, pts: dts, keyframe });    // → 0 accepted, -1 nothing is publishing
 *
 * Sockets: `deviceSocketFactory(vm, adapter)` is the publisher's `connect` option. It opens the
 * TCP connection through the device network (`vm.device.net.connectTcp`: host mapping, adapter
 * and link state, link loss) and hands the publisher a socket object synchronously: a thin
 * forwarder that reports `connecting` until the device network's promise settles.
 *
 * Clean-up: everything (the ffmpeg child, a pending capture) ends with the VM (`vm.onClose`);
 * the child registry (runtime/media/ffmpeg/child-registry.ts) also kills the children when Node exits.
 *
 * Camera settings in the device profile (`profile.camera`), all optional:
 *   source        camera source spec (testsrc | v4l2:/dev/videoN | avfoundation:N | dshow:NAME |
 *                 file:PATH); default $LUATOS_CAMERA_SOURCE, then testsrc
 *   ffmpeg        path of the ffmpeg binary (second in the search order after $LUATOS_FFMPEG)
 *   initMs        how long camera.init blocks a task (default 400 ms, the device takes ≈0.3–0.5 s)
 *   tag           marker put on every ffmpeg command line (tests find their processes with it)
 *   locate        options for locateFfmpeg (tests: `{ skipPackages: true, env: { PATH: '' } }`
 *                 simulates a host without ffmpeg)
 *   startTimeoutMs  max time from encoder start to the first frame (default 20000)
 */
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import type { Vm } from '../../runtime/core/vm/vm';
import { FfmpegCamera, type CaptureOptions } from '../../runtime/media/camera/ffmpeg-camera';
import { applyCameraConfig, defaultEncoderConfig, validateEncoderConfig, type EncoderConfig } from '../../runtime/media/camera/encoder-config';
import { parseSource, validateSource, type SourceSpec } from '../../runtime/media/camera/sources';
import { CAMERA_POOL_KEY, CameraPool, type EncoderLease } from '../../runtime/media/camera/camera-pool';
import { locateFfmpeg, type LocateOptions } from '../../runtime/media/ffmpeg/locate';
import type { EncodedVideoFrame, VideoStreamInfo } from '../../runtime/media/types';
import { LINK_DOWN, NetError } from '../../runtime/net/types';
import { RtmpErrorCode, RtmpState, type RtmpPublisher, type RtmpSocket, type RtmpStats, type SocketFactory } from '../../runtime/media/rtmp';
import { openFile } from '../../runtime/core/fs/sandbox';
import type { LogLevel } from '../../runtime/core/log';

export interface CameraProfile {
  source?: string;
  ffmpeg?: string;
  initMs?: number;
  tag?: string;
  locate?: LocateOptions;
  startTimeoutMs?: number;
}

export const DEFAULT_CAMERA_INIT_MS = 400;

/**
 * camera.init's outcome. `opening` (first init only) settles when the camera has been opened: a
 * real device is probed then, so a busy or absent USB camera turns the result into a failure.
 */
export type CameraInitResult = { ok: true; opening?: Promise<CameraInitResult> } | { ok: false; reason: string };

/** The device panel's RTMP figures: the most recent rtmp object of the running VM. */
export interface RtmpStatusSection {
  state: RtmpState;
  /** the URL the script pushes to */
  url: string;
  stats: RtmpStats;
  /** the shared encoder this device's camera uses in a fleet (undefined: its own ffmpeg) */
  encoderKey?: string;
}

// the hub contributes the `rtmp` status section (runtime/core/vm/vm.ts StatusSections)
declare module '../../runtime/core/vm/vm' {
  interface StatusSections {
    rtmp: RtmpStatusSection;
  }
}

const HUB = Symbol('luatos.deviceMedia');
type WithHub = Vm & { [HUB]?: DeviceMedia };

/** The media hub of this VM (created on first use, closed with the VM). */
export function deviceMedia(vm: Vm): DeviceMedia {
  const v = vm as WithHub;
  let hub = v[HUB];
  if (!hub) {
    hub = new DeviceMedia(vm);
    Object.defineProperty(v, HUB, { value: hub, enumerable: false, writable: true });
  }
  return hub;
}

/**
 * Events: 'camera-error' (message) when the encoder fails while it should stream (the camera
 * binding turns it into a `"scanned"` callback with false).
 */
export class DeviceMedia extends EventEmitter {
  /** encoder settings (camera.config / camera.init sizes), applied at the next encoder start */
  readonly config: EncoderConfig = defaultEncoderConfig();
  private camera: FfmpegCamera | undefined;
  private opening: Promise<CameraInitResult> | undefined;
  private inited = false;
  private started = false;
  private closed = false;
  /** the most recently created rtmp object and its URL (the `rtmp` status section) */
  lastPublisher: { pub: RtmpPublisher; url: string } | undefined;
  trackPublisher(pub: RtmpPublisher, url: string): void {
    this.lastPublisher = { pub, url };
  }
  /** the publisher in PUBLISHING that receives frames */
  private sink: RtmpPublisher | undefined;
  private wantStream = false;
  private reconciling = false;
  private again = false;
  private streamInfoOverride: VideoStreamInfo | undefined;
  /** frames from a fleet's shared encoder (device.shared 'camera-pool') instead of our own */
  private lease: EncoderLease | undefined;

  constructor(readonly vm: Vm) {
    super();
    const withdraw = vm.device.addStatusSection('rtmp', () => this.rtmpStatus());
    vm.onClose(() => {
      withdraw();
      return this.dispose();
    });
  }

  /** The `rtmp` status section: the last rtmp object's state, URL and figures (nothing once the VM ended). */
  rtmpStatus(): RtmpStatusSection | undefined {
    const t = this.lastPublisher;
    if (!t || this.vm.isDead) return undefined;
    return { state: t.pub.getState(), url: t.url, stats: t.pub.getStats(), encoderKey: this.sharedEncoderKey };
  }

  get profile(): CameraProfile {
    const c = this.vm.device.profile.camera;
    return c && typeof c === 'object' ? (c as CameraProfile) : {};
  }

  /** camera.init succeeded (and camera.close was not called since) */
  get isInited(): boolean {
    return this.inited;
  }
  /** the encoder is running (a ffmpeg child exists) */
  get isStreaming(): boolean {
    if (this.lease) return true;
    return this.camera?.state === 'streaming' || this.camera?.state === 'starting';
  }
  /** pid of the running encoder (a shared one's under a fleet) */
  get encoderPid(): number | undefined {
    return this.lease ? this.lease.pid : this.camera?.pid;
  }
  /** the key of the shared encoder this device takes frames from (fleet), undefined: none */
  get sharedEncoderKey(): string | undefined {
    return this.lease?.key;
  }

  private get pool(): CameraPool | undefined {
    const p = this.vm.device.shared.get(CAMERA_POOL_KEY);
    return p instanceof CameraPool ? p : undefined;
  }

  /** Stop taking frames from the shared encoder (the last one out stops it). */
  private dropLease(): void {
    const l = this.lease;
    this.lease = undefined;
    l?.release();
  }

  /**
   * Join (or start) the fleet's shared encoder for this camera's source and settings. Two
   * devices share an encoder when source, ffmpeg binary, encoder settings and tag are equal.
   */
  private async joinShared(pool: CameraPool, cam: FfmpegCamera): Promise<void> {
    const spec = cam.source;
    const prof = this.profile;
    const ffmpegPath = cam.ffmpegPath;
    const config = { ...cam.config };
    const key = JSON.stringify({ source: spec ?? null, ffmpeg: ffmpegPath ?? null, config, tag: prof.tag ?? null });
    const lease = pool.subscribe(
      key,
      () => new FfmpegCamera({ source: spec, ffmpegPath, config, tag: prof.tag, startTimeoutMs: prof.startTimeoutMs }),
      {
        frame: (f) => this.onCameraFrame(f),
        log: (level, msg) => this.vm.log(level, 'camera', msg),
        error: (msg) => {
          if (this.lease !== lease) return;
          this.lease = undefined;
          if (!this.closed) this.emit('camera-error', msg);
        },
      },
    );
    this.lease = lease;
    try {
      await lease.ready;
      if (lease.joined && this.lease === lease) this.vm.log('I', 'camera', `camera: streaming (shared encoder, ffmpeg pid ${lease.pid ?? '?'})`);
    } catch (e) {
      if (this.lease === lease) this.dropLease();
      throw e;
    }
  }
  get currentSink(): RtmpPublisher | undefined {
    return this.sink;
  }

  // ------------------------------------------------------------------ camera side

  /** camera.config(id, key, value): 0 accepted, -1 unknown key / bad value. */
  configure(key: number, value: number): number {
    const r = applyCameraConfig(this.config, key, value);
    if (r === 0) this.camera?.configure(key, value);
    return r;
  }

  /**
   * The synchronous part of camera.init: size, source and ffmpeg are checked and the camera object
   * is created; `opened()` then waits for the rest (the drawtext probe of testsrc, one frame from
   * a real device) and tells whether it worked. Never throws.
   */
  initCamera(size: { width?: number; height?: number } = {}): CameraInitResult {
    if (this.closed) return { ok: false, reason: 'the VM has ended' };
    const width = size.width && size.width > 0 ? size.width : this.config.width;
    const height = size.height && size.height > 0 ? size.height : this.config.height;
    try {
      validateEncoderConfig({ ...this.config, width, height });
    } catch (e) {
      return { ok: false, reason: `bad sensor size ${width}x${height}: ${(e as Error).message}` };
    }
    if (this.inited && this.camera) {
      // a second init: keeps the camera, takes the new size (applies at the next encoder start)
      this.config.width = width;
      this.config.height = height;
      this.camera.setSize(width, height);
      return { ok: true };
    }
    if (this.vm.device.cameraUnplugged) return { ok: false, reason: 'USB camera not found: it is unplugged' };
    const prof = this.profile;
    let spec: SourceSpec;
    let ffmpegPath: string;
    try {
      spec = parseSource(prof.source ?? process.env.LUATOS_CAMERA_SOURCE ?? 'testsrc');
      validateSource(spec);
      ffmpegPath = locateFfmpeg({ ...(prof.locate ?? {}), profilePath: prof.ffmpeg ?? prof.locate?.profilePath }).path;
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
    this.config.width = width;
    this.config.height = height;
    const cam = new FfmpegCamera({
      source: spec,
      ffmpegPath,
      config: { ...this.config },
      tag: prof.tag,
      startTimeoutMs: prof.startTimeoutMs,
    });
    cam.on('log', (level: LogLevel, msg: string) => this.vm.log(level, 'camera', msg));
    cam.on('error', (err: Error) => this.emit('camera-error', err.message));
    cam.on('frame', (f: EncodedVideoFrame) => this.onCameraFrame(f));
    this.camera = cam;
    this.inited = true;
    // opening probes ffmpeg and, for a real device, grabs one frame (real I/O): a virtual clock
    // runs at wall speed meanwhile. A failure (busy or absent device, see FfmpegCamera.open)
    // un-initialises the camera; camera.init reports it when it returns (in a task or async).
    const release = this.vm.clock.hold('camera open');
    const opening: Promise<CameraInitResult> = cam
      .open()
      .then(
        () => ({ ok: true as const }),
        (e: Error) => {
          if (this.camera === cam) {
            this.inited = false;
            this.started = false;
            this.camera = undefined;
            this.opening = undefined;
            cam.removeAllListeners('frame');
          }
          return { ok: false as const, reason: e.message };
        },
      )
      .finally(release);
    this.opening = opening;
    return { ok: true, opening };
  }

  /** Resolves when the camera opened by initCamera is ready (at once when there is none). */
  opened(): Promise<CameraInitResult> {
    return this.opening ?? Promise.resolve({ ok: true });
  }

  /** camera.start: the device's camera.start powers the camera; frames only flow for RTMP. */
  startCamera(): boolean {
    if (!this.inited) return false;
    this.started = true;
    return true;
  }

  /** camera.stop: stops the encoder if RTMP started it. */
  stopCamera(): boolean {
    if (!this.inited) return false;
    this.started = false;
    this.wantStream = false;
    void this.reconcile();
    return true;
  }

  /** camera.close: stops the encoder and forgets the camera (camera.init is needed again). */
  closeCamera(): boolean {
    if (!this.inited) return false;
    this.inited = false;
    this.started = false;
    this.wantStream = false;
    const cam = this.camera;
    this.camera = undefined;
    this.opening = undefined;
    this.dropLease();
    if (cam) {
      cam.removeAllListeners('frame');
      cam.close().catch(() => undefined);
    }
    return true;
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** camera.capture: one JPEG (quality 1/2/3 = 90/95/99 %, or 4..100 %). */
  async capture(quality: number, opts: CaptureOptions = {}): Promise<Buffer> {
    const cam = this.camera;
    if (!this.inited || !cam) throw new Error('camera not initialised (camera.init first)');
    // real I/O (a short ffmpeg run): a virtual clock must run at wall speed meanwhile
    const release = this.vm.clock.hold('camera capture');
    try {
      const o = await this.opened();
      if (!o.ok) throw new Error(o.reason);
      return await cam.capture(quality, opts);
    } finally {
      release();
    }
  }

  /** Write a JPEG into the device file system (a virtual path such as "/capture.jpg"). */
  /** Write a whole file on the device file system (flash limits and in-memory mounts apply). */
  writeDeviceFile(vpath: string, data: Buffer): void {
    const f = openFile(this.vm.vfs, vpath, 'wb');
    try {
      f.write(data);
    } finally {
      f.close();
    }
  }

  // ------------------------------------------------------------------ RTMP side

  /** onMetaData parameters: setStreamInfo's, else the camera configuration once init succeeded. */
  streamInfo(): VideoStreamInfo | undefined {
    if (this.streamInfoOverride) return this.streamInfoOverride;
    if (this.inited && this.camera) return this.camera.info();
    return undefined;
  }

  /** Stream parameters for frames fed with `feed()` (undefined: back to the camera's). */
  setStreamInfo(info: VideoStreamInfo | undefined): void {
    this.streamInfoOverride = info;
  }

  /**
   * Push one encoded access unit into the publisher that is PUBLISHING (any source). Returns the
   * publisher's code: 0 accepted, -1 nothing is publishing, -2 bad frame.
   */
  feed(frame: EncodedVideoFrame): RtmpErrorCode {
    const s = this.sink;
    if (!s) return RtmpErrorCode.FAILED;
    return s.pushVideo(frame);
  }

  /** Called by the rtmp binding on every state change of one of its publishers. */
  publisherState(pub: RtmpPublisher, state: RtmpState, old: RtmpState): void {
    if (state === RtmpState.PUBLISHING) {
      this.sink = pub;
      // the Air8101 camera core's lines when RTMP asks for frames (capture to the path "rtmp")
      this.vm.log('W', 'CAM', '拍照/录像到文件录 rtmp');
      this.vm.log('W', 'CAM', '选定的捕捉模式 6');
      this.vm.log('W', 'CAM', 'RTMP传输模式');
      if (!this.inited) {
        this.vm.log('W', 'CAM', 'camera not initialised (camera.init): no camera frames for RTMP');
        return;
      }
      this.wantStream = true;
      void this.reconcile();
      return;
    }
    if (old === RtmpState.PUBLISHING && this.sink === pub) this.detachPublisher(pub);
  }

  /** A publisher is gone (destroy): stop feeding it. */
  detachPublisher(pub: RtmpPublisher): void {
    if (this.sink !== pub) return;
    this.sink = undefined;
    if (this.wantStream) {
      this.wantStream = false;
      void this.reconcile();
    }
  }

  private onCameraFrame(f: EncodedVideoFrame): void {
    const s = this.sink;
    if (s && this.wantStream) s.pushVideo(f);
  }

  /** Bring the encoder to the wanted state, one operation at a time. */
  private async reconcile(): Promise<void> {
    if (this.reconciling) {
      this.again = true;
      return;
    }
    this.reconciling = true;
    try {
      do {
        this.again = false;
        const cam = this.camera;
        if (!cam || this.closed) break;
        const pool = this.pool;
        const running = this.lease !== undefined || cam.state === 'streaming' || cam.state === 'starting';
        if (this.wantStream && !running && this.vm.device.cameraUnplugged) {
          break; // nothing to capture until the camera is plugged in again
        }
        if (this.wantStream && !running) {
          try {
            await this.opened();
            if (this.camera !== cam || !this.wantStream) continue;
            if (pool) await this.joinShared(pool, cam);
            else await cam.start();
          } catch (e) {
            const msg = (e as Error).message;
            if (this.wantStream && this.camera === cam && !this.closed) {
              this.vm.log('E', 'camera', `camera start failed: ${msg}`);
              this.wantStream = false;
              this.emit('camera-error', msg);
            }
          }
        } else if (!this.wantStream && running) {
          if (this.lease) this.dropLease();
          else await cam.stop().catch(() => undefined);
        }
      } while (this.again);
    } finally {
      this.reconciling = false;
    }
  }

  /**
   * Fault injection: the USB camera is pulled out. A running encoder stops (an E line and a
   * camera error, as the device's USB_DISCONNECT), RTMP keeps its state with no frames, and
   * camera.init fails until `plug()`.
   */
  unplug(): void {
    if (this.lease) {
      this.vm.log('E', 'camera', 'USB camera disconnected');
      this.emit('camera-error', 'USB camera disconnected');
      this.dropLease();
      return;
    }
    const cam = this.camera;
    if (cam && (cam.state === 'streaming' || cam.state === 'starting')) {
      this.vm.log('E', 'camera', 'USB camera disconnected');
      this.emit('camera-error', 'USB camera disconnected');
      void cam.stop().catch(() => undefined);
    }
  }

  /** Fault injection: the camera is back; streaming resumes if RTMP wants frames. */
  plug(): void {
    this.vm.log('I', 'camera', 'USB camera connected');
    void this.reconcile();
  }

  /** VM end: kill the encoder and any capture, forget the publishers. Settles when the encoder is gone. */
  dispose(): Promise<void> | void {
    if (this.closed) return;
    this.closed = true;
    this.sink = undefined;
    this.wantStream = false;
    this.dropLease();
    const cam = this.camera;
    this.camera = undefined;
    this.inited = false;
    this.removeAllListeners();
    if (cam) {
      cam.removeAllListeners('frame');
      return cam.close().catch(() => undefined);
    }
  }
}

// ------------------------------------------------------------------ sockets through the device network

/**
 * What `deviceSocketFactory` returns: looks like a connecting net.Socket to the publisher
 * (`connecting`, 'connect', 'data', 'drain', 'error', 'close', write/end/destroy) and forwards
 * to the socket the device network hands over once connected. Writes before that return false.
 */
export class DeviceSocket extends EventEmitter {
  connecting = true;
  private s: net.Socket | undefined;
  private gone = false;

  get destroyed(): boolean {
    return this.gone || (this.s?.destroyed ?? false);
  }
  get writable(): boolean {
    return !!this.s && !this.gone && this.s.writable;
  }
  get writableLength(): number {
    return this.s ? this.s.writableLength : 0;
  }
  /** the real socket (undefined before it connected) */
  get socket(): net.Socket | undefined {
    return this.s;
  }

  write(chunk: Uint8Array, cb?: (err?: Error | null) => void): boolean {
    if (!this.s || this.gone) return false;
    return cb ? this.s.write(chunk, cb) : this.s.write(chunk);
  }
  end(): this {
    if (this.s) this.s.end();
    else this.destroy();
    return this;
  }
  destroy(): this {
    if (this.gone) return this;
    this.gone = true;
    if (this.s) this.s.destroy();
    else process.nextTick(() => this.emit('close'));
    return this;
  }
  setNoDelay(noDelay = true): this {
    this.s?.setNoDelay(noDelay);
    return this;
  }

  /** the device network connected */
  attach(s: net.Socket): void {
    if (this.gone) {
      s.destroy();
      return;
    }
    this.s = s;
    this.connecting = false;
    s.on('data', (d: Buffer) => this.emit('data', d));
    s.on('drain', () => this.emit('drain'));
    s.on('end', () => this.emit('end'));
    s.on('error', (e: Error) => this.emitError(e));
    s.on('close', () => {
      // the device network dropped it (Wi-Fi lost): say so, not "closed by the server"
      const down = (s as net.Socket & { [LINK_DOWN]?: string })[LINK_DOWN];
      if (down) this.emitError(new NetError(down, 'link-down'));
      this.emit('close');
    });
    this.emit('connect');
  }

  /** the device network refused (adapter down, DNS, refused, timeout) */
  fail(e: Error): void {
    if (this.gone) return;
    this.gone = true;
    this.connecting = false;
    this.emitError(e);
    this.emit('close');
  }

  private emitError(e: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }
}

/** The publisher's `connect` option for this VM: TCP through `vm.device.net` (owner "rtmp"). */
export function deviceSocketFactory(vm: Vm, adapter?: number, timeoutMs = 5000): SocketFactory {
  return (host: string, port: number): RtmpSocket => {
    const h = new DeviceSocket();
    let p: Promise<net.Socket>;
    try {
      p = vm.device.net.connectTcp({ host, port, adapter, owner: 'rtmp', timeoutMs });
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (s) => h.attach(s),
      (e: unknown) => h.fail(e instanceof Error ? e : new Error(String(e))),
    );
    return h as unknown as RtmpSocket;
  };
}
