/** Minimal FLV file parser (tests analyse recordings with it; there is no ffprobe here). */
export interface FlvTag {
  type: number; // 8 audio, 9 video, 18 script
  timestamp: number;
  data: Buffer;
}

export function parseFlv(buf: Buffer): { hasAudio: boolean; hasVideo: boolean; tags: FlvTag[] } {
  if (buf.length < 9 || buf.toString('latin1', 0, 3) !== 'FLV') throw new Error('not an FLV file');
  const flags = buf[4];
  let o = buf.readUInt32BE(5) + 4; // header + PreviousTagSize0
  const tags: FlvTag[] = [];
  while (o + 11 <= buf.length) {
    const type = buf[o] & 0x1f;
    const size = buf.readUIntBE(o + 1, 3);
    const ts = buf.readUIntBE(o + 4, 3) | (buf[o + 7] << 24);
    if (o + 11 + size > buf.length) break; // truncated last tag
    tags.push({ type, timestamp: ts >>> 0, data: buf.subarray(o + 11, o + 11 + size) });
    o += 11 + size + 4;
  }
  return { hasAudio: (flags & 4) !== 0, hasVideo: (flags & 1) !== 0, tags };
}

export interface VideoTagInfo {
  timestamp: number;
  keyframe: boolean;
  /** 0 sequence header, 1 NALU, 2 end of sequence */
  avcPacketType: number;
  cts: number;
  data: Buffer;
}

export function videoTags(tags: FlvTag[]): VideoTagInfo[] {
  return tags
    .filter((t) => t.type === 9 && t.data.length >= 5 && (t.data[0] & 0x0f) === 7)
    .map((t) => ({
      timestamp: t.timestamp,
      keyframe: t.data[0] >> 4 === 1,
      avcPacketType: t.data[1],
      cts: t.data.readIntBE(2, 3),
      data: t.data.subarray(5),
    }));
}

/** Build an FLV file from captured video/script messages (NMS-side capture). */
export function buildFlv(tags: FlvTag[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x46, 0x4c, 0x56, 1, 0x01, 0, 0, 0, 9, 0, 0, 0, 0])];
  for (const t of tags) {
    const h = Buffer.alloc(11);
    h[0] = t.type;
    h.writeUIntBE(t.data.length, 1, 3);
    h.writeUIntBE(t.timestamp & 0xffffff, 4, 3);
    h[7] = (t.timestamp >>> 24) & 0xff;
    const p = Buffer.alloc(4);
    p.writeUInt32BE(11 + t.data.length, 0);
    parts.push(h, t.data, p);
  }
  return Buffer.concat(parts);
}
