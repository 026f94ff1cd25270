/**
 * Chunk stream decoder: reassembles RTMP messages from the peer's chunks.
 *
 * Handles all four header formats, 1/2/3-byte basic headers, extended timestamps (including the
 * repeated field on fmt-3 continuation chunks, tolerated when a peer leaves it out), Set Chunk
 * Size and Abort (applied inside the reader because they change how the following bytes parse).
 *
 * Hostile input: every size is bounded (message length, chunk size, total bytes held in partial
 * messages, bytes buffered while waiting for a header). Any violation throws RtmpProtocolError and
 * the reader stays failed. `push()` only loops while it consumes bytes, so it cannot hang.
 */
import { RtmpProtocolError } from './errors';
import { MSG, type RtmpMessage } from './messages';
import { DEFAULT_CHUNK_SIZE } from './chunk-writer';

export interface ChunkReaderOptions {
  /** largest message accepted (default 16 MiB) */
  maxMessageSize?: number;
  /** largest chunk size the peer may set (default 16 MiB) */
  maxChunkSize?: number;
  /** bound on the bytes held in all partial messages together (default 2 × maxMessageSize) */
  maxPendingBytes?: number;
  /** bound on the number of chunk streams with state (default 1024) */
  maxChunkStreams?: number;
}

interface InStream {
  timestamp: number;
  /** last timestamp field or delta (used by a fmt-3 chunk that starts a new message) */
  delta: number;
  length: number;
  type: number;
  streamId: number;
  /** header timestamp field was 0xFFFFFF: continuation chunks carry an extended field */
  extended: boolean;
  extendedValue: number;
  /** partial message */
  parts: Buffer[];
  received: number;
}

export class ChunkReader {
  private buf: Buffer = Buffer.alloc(0);
  private _chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly streams = new Map<number, InStream>();
  private pendingBytes = 0;
  /** chunk whose header is parsed but whose payload has not fully arrived */
  private cur: { st: InStream; csid: number; left: number } | undefined;
  private failed: RtmpProtocolError | undefined;
  readonly maxMessageSize: number;
  readonly maxChunkSize: number;
  readonly maxPendingBytes: number;
  readonly maxChunkStreams: number;
  /** total bytes pushed in (for Acknowledgements) */
  bytesIn = 0;

  constructor(opts: ChunkReaderOptions = {}) {
    this.maxMessageSize = opts.maxMessageSize ?? 16 * 1024 * 1024;
    this.maxChunkSize = opts.maxChunkSize ?? 16 * 1024 * 1024;
    this.maxPendingBytes = opts.maxPendingBytes ?? 2 * this.maxMessageSize;
    this.maxChunkStreams = opts.maxChunkStreams ?? 1024;
  }

  get chunkSize(): number {
    return this._chunkSize;
  }

  private fail(message: string): never {
    this.failed = new RtmpProtocolError(message);
    this.buf = Buffer.alloc(0);
    this.streams.clear();
    throw this.failed;
  }

  /** Feed received bytes; returns the messages completed by them (Set Chunk Size / Abort included). */
  push(data: Buffer): RtmpMessage[] {
    if (this.failed) throw this.failed;
    this.bytesIn += data.length;
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
    const out: RtmpMessage[] = [];
    let pos = 0;
    const buf = this.buf;
    for (;;) {
      const used = this.cur ? this.consume(buf, pos, out) : this.parseChunk(buf, pos, out);
      if (used === 0) break;
      pos += used;
    }
    this.buf = pos >= buf.length ? Buffer.alloc(0) : buf.subarray(pos);
    // only an incomplete chunk header (at most 18 bytes) can be left over
    if (this.buf.length > 32) this.fail('internal: unconsumed input exceeds a chunk header');
    return out;
  }

  /** Parses one chunk at `pos`; returns bytes consumed, or 0 when more input is needed. */
  private parseChunk(buf: Buffer, pos: number, out: RtmpMessage[]): number {
    const avail = buf.length - pos;
    if (avail < 1) return 0;
    const b0 = buf[pos];
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    let o = pos + 1;
    if (csid === 0) {
      if (avail < 2) return 0;
      csid = 64 + buf[o];
      o += 1;
    } else if (csid === 1) {
      if (avail < 3) return 0;
      csid = 64 + buf[o] + buf[o + 1] * 256;
      o += 2;
    }
    const mhLen = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (buf.length - o < mhLen) return 0;

    let st = this.streams.get(csid);
    if (!st) {
      if (fmt !== 0) this.fail(`chunk stream ${csid} starts with a fmt-${fmt} header (needs fmt 0)`);
      if (this.streams.size >= this.maxChunkStreams) this.fail(`too many chunk streams (> ${this.maxChunkStreams})`);
      st = { timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0, extended: false, extendedValue: 0, parts: [], received: 0 };
    }
    const inProgress = st.received > 0 && st.received < st.length;
    if (inProgress && fmt !== 3) this.fail(`fmt-${fmt} header on chunk stream ${csid} in the middle of a message`);

    let tsField = 0;
    let length = st.length;
    let type = st.type;
    let streamId = st.streamId;
    if (fmt <= 2) {
      tsField = buf.readUIntBE(o, 3);
      o += 3;
    }
    if (fmt <= 1) {
      length = buf.readUIntBE(o, 3);
      type = buf[o + 3];
      o += 4;
    }
    if (fmt === 0) {
      streamId = buf.readUInt32LE(o);
      o += 4;
    }
    let extended = st.extended;
    let extValue = st.extendedValue;
    if (fmt <= 2) {
      extended = tsField === 0xffffff;
      if (extended) {
        if (buf.length - o < 4) return 0;
        extValue = buf.readUInt32BE(o);
        o += 4;
        tsField = extValue;
      }
    } else if (extended) {
      // fmt 3: the extended field repeats; tolerate peers that leave it out on continuations
      if (buf.length - o < 4) return 0;
      const v = buf.readUInt32BE(o);
      if (!inProgress || v === extValue) {
        o += 4;
        if (!inProgress) tsField = v;
      }
    }

    if (length > this.maxMessageSize) this.fail(`message length ${length} on chunk stream ${csid} exceeds the ${this.maxMessageSize}-byte limit`);
    const remaining = inProgress ? st.length - st.received : length;
    const n = Math.min(remaining, this._chunkSize);

    // commit the header
    if (!this.streams.has(csid)) this.streams.set(csid, st);
    if (!inProgress) {
      if (fmt === 0) {
        st.timestamp = tsField >>> 0;
        st.delta = tsField >>> 0;
      } else if (fmt === 1 || fmt === 2) {
        st.delta = tsField >>> 0;
        st.timestamp = (st.timestamp + st.delta) >>> 0;
      } else {
        if (extended) st.delta = tsField >>> 0;
        st.timestamp = (st.timestamp + st.delta) >>> 0;
      }
      st.length = length;
      st.type = type;
      st.streamId = streamId;
      st.extended = extended;
      st.extendedValue = extValue;
      st.parts = [];
      st.received = 0;
    }
    this.cur = { st, csid, left: n };
    if (n === 0) this.consume(buf, o, out);
    return o - pos;
  }

  /** Copies payload bytes of the current chunk; returns bytes consumed. */
  private consume(buf: Buffer, pos: number, out: RtmpMessage[]): number {
    const cur = this.cur!;
    const st = cur.st;
    const n = Math.min(cur.left, buf.length - pos);
    if (n > 0) {
      if (this.pendingBytes + n > this.maxPendingBytes) this.fail(`more than ${this.maxPendingBytes} bytes held in partial messages`);
      st.parts.push(Buffer.from(buf.subarray(pos, pos + n)));
      st.received += n;
      this.pendingBytes += n;
      cur.left -= n;
    }
    if (cur.left === 0) {
      this.cur = undefined;
      if (st.received >= st.length) {
        const payload = st.parts.length === 1 ? st.parts[0] : Buffer.concat(st.parts, st.received);
        this.pendingBytes -= st.received;
        st.parts = [];
        st.received = 0;
        const msg: RtmpMessage = { csid: cur.csid, type: st.type, streamId: st.streamId, timestamp: st.timestamp, payload };
        this.handleControl(msg);
        out.push(msg);
      }
    }
    return n;
  }

  private handleControl(msg: RtmpMessage): void {
    if (msg.streamId !== 0 && (msg.type === MSG.SET_CHUNK_SIZE || msg.type === MSG.ABORT)) return;
    if (msg.type === MSG.SET_CHUNK_SIZE) {
      if (msg.payload.length < 4) this.fail('Set Chunk Size message shorter than 4 bytes');
      const size = msg.payload.readUInt32BE(0) & 0x7fffffff;
      if (size < 1 || size > this.maxChunkSize) this.fail(`peer set an invalid chunk size ${size} (allowed 1..${this.maxChunkSize})`);
      this._chunkSize = size;
    } else if (msg.type === MSG.ABORT) {
      if (msg.payload.length < 4) this.fail('Abort message shorter than 4 bytes');
      const csid = msg.payload.readUInt32BE(0);
      const st = this.streams.get(csid);
      if (st && st.received > 0) {
        this.pendingBytes -= st.received;
        st.parts = [];
        st.received = 0;
      }
    }
  }
}
