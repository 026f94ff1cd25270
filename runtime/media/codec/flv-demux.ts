/**
 * Incremental FLV demuxer for the encoder child's stdout: turns arbitrary stdout chunks into
 * {@link EncodedVideoFrame}s as soon as each complete FLV video tag has arrived.
 *
 * Why FLV: every access unit is one tag with an explicit length, so a frame can be emitted the
 * moment its tag is complete. A raw `-f h264` pipe has no framing, and a start-code parser can only
 * close an access unit when the next one begins — one frame interval (66.7 ms at 15 fps) of extra
 * delay (rtmp-notes §4.1).
 *
 * Output form (what the Air8101 encoder hands to the RTMP component, luatos-api §12.2):
 *  - Annex-B with 4-byte start codes (00 00 00 01) before every NAL unit;
 *  - key frames start with SPS and PPS (taken from the AVCDecoderConfigurationRecord in the
 *    sequence-header tag, i.e. the most recent one), followed by the frame's own NAL units;
 *    SPS/PPS NAL units already inside the frame are not duplicated;
 *  - dts = FLV tag timestamp (ms, 32-bit), pts = dts + composition time;
 *  - keyframe = FLV frame type 1 or an IDR slice (NAL type 5) present.
 * Script tags (onMetaData) and audio tags are skipped; an end-of-sequence packet is ignored.
 */
import type { EncodedVideoFrame } from '../types';
import { parseAvcC, splitAvcc, toAnnexB, type AvcConfig } from './h264';

export type { AvcConfig };

export interface FlvDemuxerEvents {
  /** called for every complete video access unit */
  onFrame: (f: EncodedVideoFrame) => void;
  /** called when a sequence header (avcC) arrives */
  onConfig?: (c: AvcConfig) => void;
  /** called for the onMetaData script tag (raw AMF0 bytes, not decoded) */
  onScript?: (data: Buffer) => void;
}

/**
 * Push-style demuxer: `push(chunk)` as stdout delivers, callbacks fire synchronously. Errors
 * (not an FLV stream, malformed tag) are thrown from `push`; the demuxer is unusable afterwards.
 */
export class FlvDemuxer {
  private buf: Buffer = Buffer.alloc(0);
  private headerDone = false;
  private config: AvcConfig | undefined;
  private failed: Error | undefined;
  /** number of video access units emitted */
  frames = 0;
  /** total bytes consumed */
  bytes = 0;

  constructor(private readonly ev: FlvDemuxerEvents) {}

  get avcConfig(): AvcConfig | undefined {
    return this.config;
  }

  push(chunk: Buffer): void {
    if (this.failed) throw this.failed;
    this.bytes += chunk.length;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    try {
      this.drain();
    } catch (e) {
      this.failed = e instanceof Error ? e : new Error(String(e));
      throw this.failed;
    }
  }

  private drain(): void {
    let o = 0;
    const b = this.buf;
    if (!this.headerDone) {
      if (b.length < 9) return;
      if (b[0] !== 0x46 || b[1] !== 0x4c || b[2] !== 0x56) throw new Error('encoder output is not FLV (no "FLV" signature)');
      const hdr = b.readUInt32BE(5);
      if (hdr < 9) throw new Error('bad FLV header size');
      if (b.length < hdr + 4) return;
      o = hdr + 4; // header + PreviousTagSize0
      this.headerDone = true;
    }
    for (;;) {
      if (b.length - o < 11) break;
      const type = b[o] & 0x1f;
      const size = b.readUIntBE(o + 1, 3);
      if (b.length - o < 11 + size + 4) break;
      const ts = (b.readUIntBE(o + 4, 3) | (b[o + 7] << 24)) >>> 0;
      const data = b.subarray(o + 11, o + 11 + size);
      o += 11 + size + 4;
      if (type === 9) this.videoTag(data, ts);
      else if (type === 18) this.ev.onScript?.(Buffer.from(data));
      else if (type !== 8) throw new Error(`unexpected FLV tag type ${type}`);
    }
    // Keep only the unconsumed tail (copy so the big chunk can be freed).
    this.buf = o === b.length ? Buffer.alloc(0) : o === 0 ? b : Buffer.from(b.subarray(o));
  }

  private videoTag(d: Buffer, ts: number): void {
    if (d.length < 1) return;
    const frameType = d[0] >> 4;
    const codec = d[0] & 0x0f;
    if (codec !== 7) throw new Error(`FLV video codec ${codec} is not AVC`);
    if (frameType === 5) return; // video info/command frame
    if (d.length < 5) return;
    const pktType = d[1];
    let cts = d.readUIntBE(2, 3);
    if (cts & 0x800000) cts -= 0x1000000;
    const body = d.subarray(5);
    if (pktType === 0) {
      this.config = parseAvcC(body);
      this.ev.onConfig?.(this.config);
      return;
    }
    if (pktType !== 1) return; // 2 = end of sequence
    if (!this.config) throw new Error('FLV video NAL units before the AVC sequence header');
    const nals = splitAvcc(body, this.config.lengthSize);
    if (nals.length === 0) return;
    let idr = false;
    let hasSps = false;
    let hasPps = false;
    for (const n of nals) {
      const t = n[0] & 0x1f;
      if (t === 5) idr = true;
      else if (t === 7) hasSps = true;
      else if (t === 8) hasPps = true;
    }
    const keyframe = idr || frameType === 1;
    const out: Buffer[] = [];
    if (keyframe && !hasSps) out.push(...this.config.sps);
    if (keyframe && !hasPps) out.push(...this.config.pps);
    out.push(...nals);
    this.frames++;
    this.ev.onFrame({ data: toAnnexB(out), dts: ts, pts: ts + cts, keyframe });
  }
}

/**
 * Start-code splitter for a raw Annex-B H.264 byte stream (`-f h264` pipe), used by the benchmark
 * to compare against FLV. An access unit is closed only when the first VCL NAL of the *next* one
 * (or an AUD/SPS/PPS/SEI after a VCL NAL) arrives, which is the one-frame delay FLV avoids.
 * Emits Annex-B buffers exactly as received (start codes as the encoder wrote them).
 */
export class AnnexBSplitter {
  /** unconsumed bytes: from the start code of the NAL in progress (lastStart = 0), or a short tail */
  private buf: Buffer = Buffer.alloc(0);
  private scanFrom = 0;
  private lastStart = -1;
  private cur: Buffer[] = [];
  private curHasVcl = false;
  private curKey = false;

  constructor(private readonly onAccessUnit: (au: Buffer, keyframe: boolean) => void) {}

  push(chunk: Buffer): void {
    const b = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let i = this.scanFrom;
    while (i + 3 <= b.length) {
      if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1) {
        const hdr = i + 3;
        if (hdr + 1 >= b.length) break; // need the NAL header and the next byte: wait for more
        const sc = i > 0 && b[i - 1] === 0 && i - 1 > this.lastStart ? i - 1 : i;
        if (this.lastStart >= 0) this.cur.push(Buffer.from(b.subarray(this.lastStart, sc)));
        this.beginNal(b[hdr], b[hdr + 1]);
        this.lastStart = sc;
        i = hdr;
        continue;
      }
      i++;
    }
    if (this.lastStart >= 0) {
      this.buf = Buffer.from(b.subarray(this.lastStart));
      this.scanFrom = i - this.lastStart;
      this.lastStart = 0;
    } else {
      // no start code yet: keep a tail that may hold the first bytes of one
      const keep = Math.min(5, b.length);
      this.buf = Buffer.from(b.subarray(b.length - keep));
      this.scanFrom = 0;
    }
  }

  /** A new NAL unit starts (its header is known): close the access unit first if it begins a new one. */
  private beginNal(header: byte, next: byte): void {
    const type = header & 0x1f;
    const vcl = type >= 1 && type <= 5;
    const firstSliceOfPicture = vcl && (next & 0x80) !== 0; // first_mb_in_slice == 0 (ue(v) "1")
    if (this.curHasVcl && (firstSliceOfPicture || type === 9 || type === 7 || type === 8 || type === 6)) this.flush();
    if (vcl) this.curHasVcl = true;
    if (type === 5) this.curKey = true;
  }

  private flush(): void {
    if (this.cur.length) this.onAccessUnit(Buffer.concat(this.cur), this.curKey);
    this.cur = [];
    this.curHasVcl = false;
    this.curKey = false;
  }

  /** End of stream: emit the pending NAL and access unit. */
  end(): void {
    if (this.lastStart >= 0 && this.buf.length) this.cur.push(Buffer.from(this.buf.subarray(this.lastStart)));
    this.buf = Buffer.alloc(0);
    this.lastStart = -1;
    this.scanFrom = 0;
    this.flush();
  }
}

type byte = number;
