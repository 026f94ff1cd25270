/**
 * RTMP simple handshake, client side (no digest, as the firmware, OBS's librtmp fallback and
 * ffmpeg against servers that accept it):
 *   C0 (version 3) + C1 (4-byte time, 4 zero bytes, 1528 random bytes)  →
 *   ← S0 + S1                        C2 = an exact copy of S1  →
 *   ← S2 (1536 bytes, not validated: many servers send an echo of C1, others random bytes)
 * Pure state machine: feed it received bytes, it says what to send and when it is done.
 */
import { randomBytes } from 'node:crypto';
import { RtmpError, RtmpErrorCode } from './errors';

export const RTMP_VERSION = 3;
export const HANDSHAKE_SIZE = 1536;

export type HandshakeStep =
  | { kind: 'need-more' }
  /** S0+S1 complete: send `c2` now */
  | { kind: 'send-c2'; c2: Buffer }
  /** S2 complete; `rest` = bytes that followed S2 (the first chunks) */
  | { kind: 'done'; rest: Buffer };

export class ClientHandshake {
  private buf: Buffer = Buffer.alloc(0);
  private stage: 'init' | 'wait-s0s1' | 'wait-s2' | 'done' = 'init';
  /** epoch of the 4-byte time field */
  private readonly t0: number;

  constructor(private readonly now: () => number = Date.now) {
    this.t0 = now();
  }

  /** C0 + C1, 1537 bytes. */
  start(): Buffer {
    if (this.stage !== 'init') throw new Error('handshake already started');
    const out = Buffer.alloc(1 + HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    out.writeUInt32BE((this.now() - this.t0) >>> 0, 1);
    out.writeUInt32BE(0, 5);
    randomBytes(HANDSHAKE_SIZE - 8).copy(out, 9);
    this.stage = 'wait-s0s1';
    return out;
  }

  get done(): boolean {
    return this.stage === 'done';
  }

  /** Feed received bytes. Throws RtmpError(HANDSHAKE_FAILED) on a bad S0. */
  feed(data: Buffer): HandshakeStep[] {
    if (this.stage === 'init') throw new Error('handshake not started');
    if (this.stage === 'done') return [{ kind: 'done', rest: data }];
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
    const steps: HandshakeStep[] = [];
    if (this.stage === 'wait-s0s1') {
      if (this.buf.length >= 1 && this.buf[0] !== RTMP_VERSION) {
        throw new RtmpError(
          RtmpErrorCode.HANDSHAKE_FAILED,
          `RTMP handshake failed: server version byte S0 = ${this.buf[0]} (expected ${RTMP_VERSION})`,
        );
      }
      if (this.buf.length < 1 + HANDSHAKE_SIZE) return [{ kind: 'need-more' }];
      const c2 = Buffer.from(this.buf.subarray(1, 1 + HANDSHAKE_SIZE));
      this.buf = this.buf.subarray(1 + HANDSHAKE_SIZE);
      this.stage = 'wait-s2';
      steps.push({ kind: 'send-c2', c2 });
    }
    if (this.stage === 'wait-s2') {
      if (this.buf.length < HANDSHAKE_SIZE) {
        if (steps.length === 0) steps.push({ kind: 'need-more' });
        return steps;
      }
      const rest = Buffer.from(this.buf.subarray(HANDSHAKE_SIZE));
      this.buf = Buffer.alloc(0);
      this.stage = 'done';
      steps.push({ kind: 'done', rest });
    }
    return steps;
  }
}
