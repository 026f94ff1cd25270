/**
 * H.264 helpers, one copy of each for the whole media layer: Annex-B splitting and joining, AVCC
 * (length-prefixed) splitting and joining, and the AVC decoder configuration record (avcC) in both
 * directions. Used by the RTMP publisher (Annex-B → AVCC + avcC), the FLV demuxer of the camera
 * (AVCC + avcC → Annex-B) and the benchmarks.
 *
 * - start codes: both `00 00 01` and `00 00 00 01` (x264 puts 3-byte codes before IDR slices and
 *   SEI; the firmware only found 4-byte codes and lost every key frame);
 * - trailing zero bytes before a start code belong to the start code (trailing_zero_8bits);
 * - AUD (type 9) is dropped (FLV/RTMP carries no AUDs), SEI and everything else are kept;
 * - AVCC = each NAL prefixed with its 4-byte big-endian length.
 */

export const NAL = {
  SLICE: 1,
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  AUD: 9,
  END_OF_SEQUENCE: 10,
  END_OF_STREAM: 11,
  FILLER: 12,
} as const;

export function nalType(nal: Buffer): number {
  return nal.length > 0 ? nal[0] & 0x1f : -1;
}

/**
 * Split Annex-B bytes into NAL units (without start codes). Bytes before the first start code are
 * ignored unless the buffer has no start code at all, in which case it is one NAL unit.
 */
export function splitAnnexB(data: Buffer): Buffer[] {
  const nals: Buffer[] = [];
  const n = data.length;
  let start = -1; // payload start of the current NAL
  let i = 0;
  while (i + 2 < n) {
    // fast skip: a start code needs data[i+2] <= 1
    if (data[i + 2] > 1) {
      i += 3;
      continue;
    }
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) {
        let end = i;
        while (end > start && data[end - 1] === 0) end--; // 4-byte code / trailing zeros
        if (end > start) nals.push(data.subarray(start, end));
      }
      start = i + 3;
      i += 3;
      continue;
    }
    i++;
  }
  if (start < 0) return n > 0 ? [data] : [];
  let end = n;
  while (end > start && data[end - 1] === 0) end--;
  if (end > start) nals.push(data.subarray(start, end));
  return nals;
}

/** NAL units → AVCC (4-byte length prefixes), in one buffer. */
export function toAvcc(nals: Buffer[]): Buffer {
  let total = 0;
  for (const nal of nals) total += 4 + nal.length;
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (const nal of nals) {
    out.writeUInt32BE(nal.length, o);
    o += 4;
    o += nal.copy(out, o);
  }
  return out;
}

/**
 * Split AVCC (`lengthSize`-byte big-endian lengths, 1..4) into NAL units (views, no copy).
 * Throws on a length that overruns the buffer and on trailing bytes too short for a length field
 * (hostile input is refused, not guessed at). Zero-length entries are skipped: they carry no NAL
 * unit, and turned into Annex-B they would become a bare start code.
 */
export function splitAvcc(data: Buffer, lengthSize = 4): Buffer[] {
  if (!Number.isInteger(lengthSize) || lengthSize < 1 || lengthSize > 4) throw new Error(`bad AVCC length size ${lengthSize}`);
  const nals: Buffer[] = [];
  let o = 0;
  while (o < data.length) {
    if (o + lengthSize > data.length) throw new Error('truncated AVCC length');
    const len = data.readUIntBE(o, lengthSize);
    o += lengthSize;
    if (o + len > data.length) throw new Error(`AVCC NAL length ${len} overruns the buffer (${data.length - o} bytes left)`);
    if (len > 0) nals.push(data.subarray(o, o + len));
    o += len;
  }
  return nals;
}

const START_CODE = Buffer.from([0, 0, 0, 1]);

/** Join NAL units into Annex-B with 4-byte start codes. */
export function toAnnexB(nals: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const n of nals) parts.push(START_CODE, n);
  return Buffer.concat(parts);
}

/** AVCDecoderConfigurationRecord (ISO 14496-15 5.2.4.1) from SPS and PPS NAL units. */
export function buildAvcDecoderConfig(spsList: Buffer[], ppsList: Buffer[]): Buffer {
  if (spsList.length === 0 || ppsList.length === 0) throw new Error('avcC needs at least one SPS and one PPS');
  if (spsList.length > 31) throw new Error('too many SPS');
  if (ppsList.length > 255) throw new Error('too many PPS');
  const sps0 = spsList[0];
  if (sps0.length < 4) throw new Error('SPS too short');
  const parts: Buffer[] = [
    Buffer.from([
      1, // configurationVersion
      sps0[1], // AVCProfileIndication
      sps0[2], // profile_compatibility
      sps0[3], // AVCLevelIndication
      0xff, // 6 bits reserved + lengthSizeMinusOne = 3
      0xe0 | spsList.length, // 3 bits reserved + numOfSequenceParameterSets
    ]),
  ];
  for (const sps of spsList) {
    const h = Buffer.alloc(2);
    h.writeUInt16BE(sps.length, 0);
    parts.push(h, sps);
  }
  parts.push(Buffer.from([ppsList.length]));
  for (const pps of ppsList) {
    const h = Buffer.alloc(2);
    h.writeUInt16BE(pps.length, 0);
    parts.push(h, pps);
  }
  return Buffer.concat(parts);
}

/** An AVCDecoderConfigurationRecord, parsed. */
export interface AvcConfig {
  /** NAL length field size in bytes (1, 2 or 4) */
  lengthSize: number;
  sps: Buffer[];
  pps: Buffer[];
  profile: number;
  level: number;
}

/** Parse an AVCDecoderConfigurationRecord (ISO 14496-15 §5.2.4.1). Throws on malformed input. */
export function parseAvcC(b: Buffer): AvcConfig {
  if (b.length < 7 || b[0] !== 1) throw new Error('bad avcC: version is not 1 or record too short');
  const lengthSize = (b[4] & 3) + 1;
  let o = 5;
  const nsps = b[o++] & 0x1f;
  const sps: Buffer[] = [];
  for (let i = 0; i < nsps; i++) {
    if (o + 2 > b.length) throw new Error('bad avcC: truncated SPS');
    const n = b.readUInt16BE(o);
    o += 2;
    if (o + n > b.length) throw new Error('bad avcC: truncated SPS');
    sps.push(Buffer.from(b.subarray(o, o + n)));
    o += n;
  }
  if (o >= b.length) throw new Error('bad avcC: missing PPS count');
  const npps = b[o++];
  const pps: Buffer[] = [];
  for (let i = 0; i < npps; i++) {
    if (o + 2 > b.length) throw new Error('bad avcC: truncated PPS');
    const n = b.readUInt16BE(o);
    o += 2;
    if (o + n > b.length) throw new Error('bad avcC: truncated PPS');
    pps.push(Buffer.from(b.subarray(o, o + n)));
    o += n;
  }
  return { lengthSize, sps, pps, profile: b[1], level: b[3] };
}
