/**
 * Chunk stream encoder: turns RTMP messages into chunks.
 *
 * - Header compression per chunk stream: fmt 0 for the first message on a chunk stream (or when the
 *   message stream id changes or the timestamp goes backwards), fmt 1 when length or type changed,
 *   fmt 2 when only the timestamp delta is needed; continuation chunks use fmt 3.
 *   (fmt 3 is never used to start a new message: some servers get the implied delta wrong.)
 * - Extended timestamps: a timestamp (fmt 0) or delta (fmt 1/2) >= 0xFFFFFF is written as 0xFFFFFF
 *   plus a 4-byte extended field, which is repeated after every fmt-3 continuation header of the
 *   same message (RTMP spec 5.3.1.3; ffmpeg, nginx-rtmp and node-media-server all expect it).
 * - `encode()` returns one Buffer for the whole chunked message so it can go out in one write.
 */
import type { RtmpMessage } from './messages';

export const DEFAULT_CHUNK_SIZE = 128;
export const MAX_CHUNK_SIZE = 0xffffff; // protocol allows 0x7FFFFFFF; messages are capped at 24-bit lengths anyway

interface CsState {
  streamId: number;
  type: number;
  length: number;
  timestamp: number;
}

export interface ChunkWriterOptions {
  /** use fmt 1/2 headers when possible (default true); false = fmt 0 on every message */
  compressHeaders?: boolean;
}

export function basicHeader(fmt: number, csid: number): Buffer {
  if (csid >= 2 && csid <= 63) return Buffer.from([(fmt << 6) | csid]);
  if (csid >= 64 && csid <= 319) return Buffer.from([fmt << 6, csid - 64]);
  if (csid >= 320 && csid <= 65599) {
    const v = csid - 64;
    return Buffer.from([(fmt << 6) | 1, v & 0xff, v >> 8]);
  }
  throw new RangeError(`chunk stream id out of range: ${csid}`);
}

export class ChunkWriter {
  private _chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly state = new Map<number, CsState>();
  private readonly compress: boolean;

  constructor(opts: ChunkWriterOptions = {}) {
    this.compress = opts.compressHeaders ?? true;
  }

  get chunkSize(): number {
    return this._chunkSize;
  }

  /** Change the outgoing chunk size. Call it right after encoding the Set Chunk Size message. */
  setChunkSize(size: number): void {
    if (!Number.isInteger(size) || size < 1 || size > MAX_CHUNK_SIZE) throw new RangeError(`bad chunk size ${size}`);
    this._chunkSize = size;
  }

  /** Forget per-chunk-stream header state (new connection). */
  reset(): void {
    this.state.clear();
    this._chunkSize = DEFAULT_CHUNK_SIZE;
  }

  encode(msg: RtmpMessage): Buffer {
    const len = msg.payload.length;
    if (len > 0xffffff) throw new RangeError(`RTMP message too long: ${len} bytes (max 16777215)`);
    const ts = msg.timestamp >>> 0;
    const prev = this.state.get(msg.csid);
    let fmt = 0;
    let tsField = ts;
    if (this.compress && prev && prev.streamId === msg.streamId && ts >= prev.timestamp) {
      tsField = ts - prev.timestamp;
      fmt = prev.length === len && prev.type === msg.type ? 2 : 1;
    }
    this.state.set(msg.csid, { streamId: msg.streamId, type: msg.type, length: len, timestamp: ts });

    const extended = tsField >= 0xffffff;
    const bh = basicHeader(fmt, msg.csid);
    const mhLen = fmt === 0 ? 11 : fmt === 1 ? 7 : 3;
    const contHeader = basicHeader(3, msg.csid);
    const extLen = extended ? 4 : 0;
    const chunks = len === 0 ? 1 : Math.ceil(len / this._chunkSize);
    const total = bh.length + mhLen + extLen + len + (chunks - 1) * (contHeader.length + extLen);
    const out = Buffer.allocUnsafe(total);
    let o = bh.copy(out, 0);
    out.writeUIntBE(extended ? 0xffffff : tsField, o, 3);
    o += 3;
    if (fmt <= 1) {
      out.writeUIntBE(len, o, 3);
      out[o + 3] = msg.type;
      o += 4;
    }
    if (fmt === 0) {
      out.writeUInt32LE(msg.streamId >>> 0, o);
      o += 4;
    }
    if (extended) {
      out.writeUInt32BE(tsField, o);
      o += 4;
    }
    let p = 0;
    for (let i = 0; i < chunks; i++) {
      if (i > 0) {
        o += contHeader.copy(out, o);
        if (extended) {
          out.writeUInt32BE(tsField, o);
          o += 4;
        }
      }
      const n = Math.min(this._chunkSize, len - p);
      msg.payload.copy(out, o, p, p + n);
      o += n;
      p += n;
    }
    return out;
  }
}
