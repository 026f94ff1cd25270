/**
 * A minimal, independent parser of the client→server half of an RTMP connection, for the
 * benchmark's observers (the TCP tap and the sink). It skips the simple handshake (C0+C1, C2),
 * then follows the chunk stream (all four header formats, 1–3-byte basic headers, extended
 * timestamps, the client's Set Chunk Size) and reports every complete message together with the
 * time of the `push()` whose bytes completed it, i.e. when the message's last byte was read.
 *
 * It does not assemble media payloads (only the first 2 bytes of audio/video messages are kept,
 * enough for frame type and AVCPacketType); other messages (commands, metadata, control) are
 * collected whole. Deliberately not the library's ChunkReader: the observer must not depend on the
 * code under test, and it must be cheap at hundreds of streams.
 */

export interface InMessage {
  csid: number;
  type: number;
  streamId: number;
  timestamp: number;
  length: number;
  /** whole payload (non-media) or its first 2 bytes (types 8 and 9) */
  head: Buffer;
}

interface St {
  csid: number;
  ts: number;
  delta: number;
  length: number;
  type: number;
  streamId: number;
  ext: boolean;
  /** bytes of the current message still to come (0 = between messages) */
  left: number;
  parts: Buffer[];
  kept: number;
  keepAll: boolean;
}

const MAX_KEEP = 1 << 20;

export class RtmpInbound {
  /** every byte pushed, handshake included */
  bytes = 0;
  chunkSize = 128;
  private phase = 0; // 0: C0+C1, 1: C2, 2: chunks
  private hsLeft = 1537;
  private hsParts: Buffer[] = [];
  private streams = new Map<number, St>();
  private pending: Buffer | undefined;
  private cur: St | undefined;
  private curLeft = 0;
  failed: string | undefined;

  constructor(
    private readonly onMessage: (m: InMessage, t: number) => void,
    private readonly onC0C1?: (c0c1: Buffer) => void,
  ) {}

  push(data: Buffer, t: number): void {
    this.bytes += data.length;
    if (this.failed) return;
    if (this.pending) {
      data = Buffer.concat([this.pending, data]);
      this.pending = undefined;
    }
    let o = 0;
    const n = data.length;
    while (o < n) {
      if (this.phase < 2) {
        const k = Math.min(this.hsLeft, n - o);
        if (this.phase === 0 && this.onC0C1) this.hsParts.push(data.subarray(o, o + k));
        o += k;
        this.hsLeft -= k;
        if (this.hsLeft === 0) {
          if (this.phase === 0) {
            this.onC0C1?.(Buffer.concat(this.hsParts));
            this.hsParts = [];
            this.phase = 1;
            this.hsLeft = 1536;
          } else this.phase = 2;
        }
        continue;
      }
      if (this.curLeft > 0) {
        const st = this.cur!;
        const k = Math.min(this.curLeft, n - o);
        this.keep(st, data, o, k);
        o += k;
        this.curLeft -= k;
        st.left -= k;
        if (st.left === 0) this.complete(st, t);
        continue;
      }
      // chunk header
      const b0 = data[o];
      const fmt = b0 >> 6;
      let csid = b0 & 0x3f;
      let bh = 1;
      if (csid === 0) bh = 2;
      else if (csid === 1) bh = 3;
      const mh = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
      if (n - o < bh + mh) {
        this.pending = Buffer.from(data.subarray(o));
        return;
      }
      if (bh === 2) csid = 64 + data[o + 1];
      else if (bh === 3) csid = 64 + data[o + 1] + data[o + 2] * 256;
      let st = this.streams.get(csid);
      if (!st) {
        if (fmt !== 0 && fmt !== 1) {
          this.failed = `chunk stream ${csid} starts with fmt ${fmt}`;
          return;
        }
        st = { csid, ts: 0, delta: 0, length: 0, type: 0, streamId: 0, ext: false, left: 0, parts: [], kept: 0, keepAll: false };
        this.streams.set(csid, st);
      }
      const h = o + bh;
      let field = 0;
      let ext: boolean;
      if (fmt < 3) {
        field = data.readUIntBE(h, 3);
        ext = field === 0xffffff;
      } else ext = st.ext;
      const need = bh + mh + (ext ? 4 : 0);
      if (n - o < need) {
        this.pending = Buffer.from(data.subarray(o));
        return;
      }
      if (ext) field = data.readUInt32BE(o + bh + mh);
      const newMsg = st.left === 0;
      if (fmt === 0) {
        st.ts = field;
        st.delta = field;
        st.length = data.readUIntBE(h + 3, 3);
        st.type = data[h + 6];
        st.streamId = data.readUInt32LE(h + 7);
      } else if (fmt === 1) {
        st.delta = field;
        st.ts += field;
        st.length = data.readUIntBE(h + 3, 3);
        st.type = data[h + 6];
      } else if (fmt === 2) {
        st.delta = field;
        st.ts += field;
      } else if (newMsg) st.ts += st.delta;
      if (fmt < 3) st.ext = ext;
      o += need;
      if (newMsg) {
        st.left = st.length;
        st.parts = [];
        st.kept = 0;
        st.keepAll = st.type !== 8 && st.type !== 9;
        if (st.length === 0) {
          this.complete(st, t);
          continue;
        }
      }
      this.cur = st;
      this.curLeft = Math.min(this.chunkSize, st.left);
    }
  }

  private keep(st: St, data: Buffer, o: number, k: number): void {
    const limit = st.keepAll ? MAX_KEEP : 2;
    if (st.kept >= limit) return;
    const m = Math.min(k, limit - st.kept);
    st.parts.push(Buffer.from(data.subarray(o, o + m)));
    st.kept += m;
  }

  private complete(st: St, t: number): void {
    const head = st.parts.length === 1 ? st.parts[0] : Buffer.concat(st.parts);
    st.parts = [];
    if (st.type === 1 && head.length >= 4) this.chunkSize = head.readUInt32BE(0) & 0x7fffffff;
    this.onMessage({ csid: st.csid, type: st.type, streamId: st.streamId, timestamp: st.ts >>> 0, length: st.length, head }, t);
  }
}
