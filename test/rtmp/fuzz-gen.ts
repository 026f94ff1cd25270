/**
 * fast-check generators of hostile RTMP server input, shared by the fuzz tests
 * (test/rtmp/fuzz.test.ts) and the soak's RTMP fuzz (scripts/fuzz/rtmp.ts, `npm run soak`).
 */
import * as fc from 'fast-check';
import { Duplex } from 'node:stream';
import { Amf0EcmaArray, encodeAmf0, type Amf0Value } from '../../runtime/media/rtmp/amf0';
import { ChunkWriter, basicHeader } from '../../runtime/media/rtmp/chunk-writer';

export const amfValue = fc.letrec<{ v: Amf0Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.double(),
    fc.boolean(),
    fc.string({ maxLength: 20 }),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 4 }).map((o) => new Amf0EcmaArray(o as Record<string, Amf0Value>)),
  ),
})).v;

/**
 * Hostile but well-formed-looking chunk streams (huge sizes, unknown types, chunk size changes,
 * extended timestamps), cut into pieces of a random size: the pieces a server would send.
 */
export const hostileChunkStream: fc.Arbitrary<Buffer[]> = fc
  .tuple(
    fc.array(
      fc.record({
        fmt: fc.integer({ min: 0, max: 3 }),
        csid: fc.oneof(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 2, max: 65599 })),
        ts: fc.oneof(fc.integer({ min: 0, max: 0xffffff }), fc.constant(0xffffff)),
        ext: fc.integer({ min: 0, max: 0xffffffff }),
        len: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffffff })),
        type: fc.oneof(fc.constantFrom(1, 2, 3, 4, 5, 6, 8, 9, 17, 18, 20, 22), fc.integer({ min: 0, max: 255 })),
        sid: fc.integer({ min: 0, max: 0xffffffff }),
        body: fc.uint8Array({ maxLength: 300 }),
      }),
      { maxLength: 8 },
    ),
    fc.integer({ min: 1, max: 50 }),
  )
  .map(([cs, split]) => {
    const bytes: Buffer[] = [];
    for (const c of cs) {
      const h: Buffer[] = [basicHeader(c.fmt, c.csid)];
      const mh = Buffer.alloc(c.fmt === 0 ? 11 : c.fmt === 1 ? 7 : c.fmt === 2 ? 3 : 0);
      if (c.fmt <= 2) mh.writeUIntBE(c.ts, 0, 3);
      if (c.fmt <= 1) {
        mh.writeUIntBE(c.len, 3, 3);
        mh[6] = c.type;
      }
      if (c.fmt === 0) mh.writeUInt32LE(c.sid, 7);
      h.push(mh);
      if (c.ts === 0xffffff) {
        const e = Buffer.alloc(4);
        e.writeUInt32BE(c.ext, 0);
        h.push(e);
      }
      // Set Chunk Size bodies are the interesting ones: make some of them valid-ish numbers
      h.push(Buffer.from(c.body));
      bytes.push(Buffer.concat(h));
    }
    const all = Buffer.concat(bytes);
    const parts: Buffer[] = [];
    for (let i = 0; i < all.length; i += split) parts.push(all.subarray(i, i + split));
    return parts;
  });

/** Random server byte streams: up to 4 random pieces. */
export const randomServerPieces: fc.Arbitrary<Buffer[]> = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 }).map((ps) => ps.map((p) => Buffer.from(p)));

/** The server's `_result` of a successful connect (a valid message to start hostile sessions with). */
export function connectOkBytes() {
  return Buffer.concat([new ChunkWriter().encode({ csid: 3, type: 20, streamId: 0, timestamp: 0, payload: encodeAmf0('_result', 1, null, { code: 'NetConnection.Connect.Success' }) })]);
}

/** An in-memory "server": answers the handshake, then sends the given bytes. */
export function memorySocket(script: Buffer[]): Duplex {
  let got = 0;
  let sentScript = false;
  const d: Duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _e, cb) {
      got += chunk.length;
      if (got >= 1537 && !sentScript) {
        sentScript = true;
        d.push(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536 * 2, 1)]));
        setImmediate(() => {
          for (const s of script) if (!d.destroyed) d.push(s);
        });
      }
      cb();
    },
  });
  return d;
}

