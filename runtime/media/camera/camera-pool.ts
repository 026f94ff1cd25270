/**
 * Shared camera encoders for a fleet (`luatos fleet`): devices whose camera source and encoder
 * settings are equal take their frames from ONE ffmpeg encoder instead of one each.
 *
 *   const pool = new CameraPool();
 *   const lease = pool.subscribe(key, () => new FfmpegCamera({...}), { frame, log, error });
 *   await lease.ready;          // the encoder streams (started by the first subscriber)
 *   lease.release();            // the last release stops the encoder (the ffmpeg child ends)
 *
 * Frames fan out to every subscriber in subscription order, the same frame object to each (the
 * publisher only reads it). Each device keeps its own publisher: its own send queue, drop policy
 * and stats. A device that joins a running encoder gets frames from the next one on; its
 * publisher drops them until the next IDR (at most one GOP: 2 s at the demo's 15 fps / GOP 30)
 * as it does after any reconnect.
 *
 * When the shared encoder fails (ffmpeg exits while streaming, the source is gone) every
 * subscriber hears `error` and the encoder leaves the pool; the next subscribe starts a new one.
 *
 * This is process-level shared state by design (several devices share it); it is passed to the
 * devices explicitly (`DeviceOptions.shared`), never a module-level singleton.
 */
import type { EncodedVideoFrame } from '../types';
import type { LogLevel } from '../types';
import type { FfmpegCamera } from './ffmpeg-camera';

export const CAMERA_POOL_KEY = 'camera-pool';

export interface EncoderSubscriber {
  frame(f: EncodedVideoFrame): void;
  /** the encoder's I/W/E lines (ffmpeg's own stderr, level D, is not fanned out) */
  log?(level: LogLevel, msg: string): void;
  /** the shared encoder failed; the lease is void */
  error?(message: string): void;
}

export interface EncoderLease {
  readonly key: string;
  /** settles when the encoder streams (rejects when it cannot start) */
  readonly ready: Promise<void>;
  readonly pid: number | undefined;
  /** true: the encoder was already running (started for another device) */
  readonly joined: boolean;
  release(): void;
}

interface SharedEncoder {
  key: string;
  cam: FfmpegCamera;
  subs: Set<EncoderSubscriber>;
  ready: Promise<void>;
  dead: boolean;
}

export class CameraPool {
  private readonly encoders = new Map<string, SharedEncoder>();
  /** encoders started since the pool was made (a figure for tests and benches) */
  started = 0;

  /** Encoders running now. */
  get size(): number {
    return this.encoders.size;
  }

  /** Subscribers per encoder key. */
  counts(): Array<{ key: string; subscribers: number; pid: number | undefined }> {
    return [...this.encoders.values()].map((e) => ({ key: e.key, subscribers: e.subs.size, pid: e.cam.pid }));
  }

  subscribe(key: string, make: () => FfmpegCamera, sub: EncoderSubscriber): EncoderLease {
    let enc = this.encoders.get(key);
    const joined = !!enc && !enc.dead;
    if (!enc || enc.dead) {
      const cam = make();
      const e: SharedEncoder = { key, cam, subs: new Set(), ready: Promise.resolve(), dead: false };
      cam.on('frame', (f: EncodedVideoFrame) => {
        for (const s of e.subs) {
          try {
            s.frame(f);
          } catch {
            /* one device must not break the others */
          }
        }
      });
      cam.on('log', (level: LogLevel, msg: string) => {
        if (level === 'D') return;
        for (const s of e.subs) s.log?.(level, msg);
      });
      cam.on('error', (err: Error) => this.fail(e, err.message));
      e.ready = cam.start();
      e.ready.catch((err: Error) => this.fail(e, err.message));
      this.encoders.set(key, e);
      this.started++;
      enc = e;
    }
    const e = enc;
    e.subs.add(sub);
    let released = false;
    return {
      key,
      joined,
      ready: e.ready,
      get pid() {
        return e.cam.pid;
      },
      release: () => {
        if (released) return;
        released = true;
        e.subs.delete(sub);
        if (e.subs.size === 0) this.retire(e);
      },
    };
  }

  private fail(e: SharedEncoder, message: string): void {
    if (e.dead) return;
    const subs = [...e.subs];
    this.retire(e);
    for (const s of subs) s.error?.(message);
  }

  private retire(e: SharedEncoder): void {
    if (e.dead) return;
    e.dead = true;
    e.subs.clear();
    if (this.encoders.get(e.key) === e) this.encoders.delete(e.key);
    e.cam.removeAllListeners('frame');
    void e.cam.close().catch(() => undefined);
  }

  /** Stop every encoder (the fleet ends). */
  async closeAll(): Promise<void> {
    const all = [...this.encoders.values()];
    for (const e of all) {
      e.dead = true;
      e.subs.clear();
      e.cam.removeAllListeners('frame');
    }
    this.encoders.clear();
    await Promise.all(all.map((e) => e.cam.close().catch(() => undefined)));
  }
}
