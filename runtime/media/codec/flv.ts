/**
 * FLV tag bodies as RTMP audio/video messages carry them (the RTMP message payload is the FLV tag
 * body, without the 11-byte FLV tag header).
 *
 * Video tag body (AVC): byte 0 = frameType << 4 | codecId (0x17 key/AVC, 0x27 inter/AVC),
 * byte 1 = AVCPacketType (0 sequence header, 1 NALUs, 2 end of sequence),
 * bytes 2..4 = composition time offset (signed 24-bit, pts - dts in ms), then data.
 */

export const FLV_CODEC_AVC = 7;
export const AVC_PACKET = { SEQUENCE_HEADER: 0, NALU: 1, END_OF_SEQUENCE: 2 } as const;

export function avcVideoTagHeader(keyframe: boolean, packetType: number, compositionTimeMs = 0): Buffer {
  const h = Buffer.alloc(5);
  h[0] = ((keyframe ? 1 : 2) << 4) | FLV_CODEC_AVC;
  h[1] = packetType;
  const cts = Math.max(-0x800000, Math.min(0x7fffff, Math.round(compositionTimeMs)));
  h.writeIntBE(cts, 2, 3);
  return h;
}

/** `0x17 00 000000 + avcC` */
export function avcSequenceHeaderTag(avcC: Buffer): Buffer {
  return Buffer.concat([avcVideoTagHeader(true, AVC_PACKET.SEQUENCE_HEADER, 0), avcC]);
}

/** `0x17|0x27 01 <cts> + AVCC access unit` */
export function avcFrameTag(keyframe: boolean, avcc: Buffer, compositionTimeMs = 0): Buffer {
  return Buffer.concat([avcVideoTagHeader(keyframe, AVC_PACKET.NALU, compositionTimeMs), avcc]);
}

/** `0x17 02 000000`: end of sequence */
export function avcEndOfSequenceTag(): Buffer {
  return avcVideoTagHeader(true, AVC_PACKET.END_OF_SEQUENCE, 0);
}
