/**
 * Turns H.264 access units (Annex-B, as the camera/encoder hands them over) into FLV video tag
 * bodies for RTMP:
 *   - one access unit → one tag (`0x17`/`0x27`, AVCPacketType 1, composition time = pts − dts),
 *     all NAL units in AVCC form (4-byte lengths); AUD dropped, SEI kept;
 *   - SPS/PPS are taken out of the access unit and sent in the AVC sequence header
 *     (`0x17 00 000000 + avcC`), once after reset() (= once per publish) and again only when they change.
 */
import type { EncodedVideoFrame } from '../types';
import { NAL, buildAvcDecoderConfig, nalType, splitAnnexB, toAvcc } from '../codec/h264';
import { avcFrameTag, avcSequenceHeaderTag } from '../codec/flv';

export interface VideoPacket {
  /** sequence header tag to send before `tag` (first key frame, or SPS/PPS changed) */
  sequenceHeader?: Buffer;
  /** the access unit's tag; undefined when the AU held only parameter sets / AUDs */
  tag?: Buffer;
  keyframe: boolean;
  /** NAL units in the tag */
  nalCount: number;
}

function sameList(a: Buffer[], b: Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!a[i].equals(b[i])) return false;
  return true;
}

export class AvcPacketizer {
  private sps: Buffer[] = [];
  private pps: Buffer[] = [];
  /** sequence header for the current sps/pps already emitted since reset() */
  private sent = false;

  /** SPS and PPS known */
  get hasConfig(): boolean {
    return this.sps.length > 0 && this.pps.length > 0;
  }

  /** New publish: the sequence header goes out again with the next key frame. */
  reset(): void {
    this.sent = false;
  }

  packetize(frame: EncodedVideoFrame): VideoPacket {
    const nals = splitAnnexB(frame.data);
    const body: Buffer[] = [];
    const sps: Buffer[] = [];
    const pps: Buffer[] = [];
    let idr = false;
    for (const nal of nals) {
      const t = nalType(nal);
      if (t === NAL.AUD) continue;
      if (t === NAL.SPS) {
        if (!sps.some((x) => x.equals(nal))) sps.push(Buffer.from(nal));
        continue;
      }
      if (t === NAL.PPS) {
        if (!pps.some((x) => x.equals(nal))) pps.push(Buffer.from(nal));
        continue;
      }
      if (t === NAL.IDR) idr = true;
      body.push(nal);
    }
    if (sps.length > 0 && !sameList(sps, this.sps)) {
      this.sps = sps;
      this.sent = false;
    }
    if (pps.length > 0 && !sameList(pps, this.pps)) {
      this.pps = pps;
      this.sent = false;
    }
    const keyframe = idr || (frame.keyframe && body.length > 0);
    const out: VideoPacket = { keyframe, nalCount: body.length };
    if (!this.sent && this.hasConfig && (keyframe || body.length === 0)) {
      out.sequenceHeader = avcSequenceHeaderTag(buildAvcDecoderConfig(this.sps, this.pps));
      this.sent = true;
    }
    if (body.length > 0) out.tag = avcFrameTag(keyframe, toAvcc(body), Math.round(frame.pts - frame.dts));
    return out;
  }
}
