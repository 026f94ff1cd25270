/**
 * Fuzzing (fast-check) of everything that parses server bytes: AMF0 decoder, chunk reader,
 * command parsing, handshake, and (fewer cases) a whole publisher session over an in-memory socket.
 * Invariant: either a result or the module's typed error — never another exception, never a hang,
 * never memory beyond the configured bounds. Total > 100 000 cases. The generators of server
 * input are in ./fuzz-gen.ts (shared with the soak's RTMP fuzz, scripts/fuzz/rtmp.ts).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { decodeAmf0, encodeAmf0 } from '../../runtime/media/rtmp/amf0';
import { Amf0DecodeError, RtmpError, RtmpProtocolError } from '../../runtime/media/rtmp/errors';
import { ChunkReader } from '../../runtime/media/rtmp/chunk-reader';
import { ChunkWriter } from '../../runtime/media/rtmp/chunk-writer';
import { parseCommand } from '../../runtime/media/rtmp/commands';
import { ClientHandshake } from '../../runtime/media/rtmp/handshake';
import { RtmpPublisher, RtmpState } from '../../runtime/media/rtmp';
import { MSG } from '../../runtime/media/rtmp/messages';
import { amfValue, connectOkBytes, hostileChunkStream, memorySocket } from './fuzz-gen';

let total = 0;
const runs = (n: number) => {
  total += n;
  return { numRuns: n };
};

function amfOk(buf: Buffer): void {
  try {
    decodeAmf0(buf);
  } catch (e) {
    if (!(e instanceof Amf0DecodeError)) throw e;
  }
}

test('fuzz: AMF0 decoder on random bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (a) => amfOk(Buffer.from(a))), runs(25_000));
  // biased towards markers
  const marker = fc.constantFrom(0, 1, 2, 3, 5, 6, 8, 9, 10, 11, 12, 13, 15, 16, 0xff, 0);
  fc.assert(fc.property(fc.array(fc.oneof(marker, fc.integer({ min: 0, max: 255 })), { maxLength: 300 }), (a) => amfOk(Buffer.from(a))), runs(15_000));
});

test('fuzz: AMF0 round trip and mutated/truncated encodings', () => {
  fc.assert(
    fc.property(fc.array(amfValue, { maxLength: 4 }), fc.nat(), fc.nat(255), (vals, at, byte) => {
      const buf = encodeAmf0(...vals);
      assert.equal(decodeAmf0(buf).length, vals.length);
      amfOk(buf.subarray(0, at % (buf.length + 1)));
      if (buf.length > 0) {
        const m = Buffer.from(buf);
        m[at % m.length] = byte;
        amfOk(m);
      }
    }),
    runs(15_000),
  );
});

function readerOk(chunks: Buffer[], maxMessageSize = 64 * 1024): void {
  const r = new ChunkReader({ maxMessageSize, maxChunkStreams: 64 });
  let inBytes = 0;
  let outBytes = 0;
  try {
    for (const c of chunks) {
      inBytes += c.length;
      for (const m of r.push(c)) outBytes += m.payload.length;
      // a message's payload bytes were all received
      assert.ok(outBytes <= inBytes);
    }
  } catch (e) {
    if (!(e instanceof RtmpProtocolError)) throw e;
  }
}

test('fuzz: chunk reader on random byte streams in random pieces', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }), (parts) => readerOk(parts.map((p) => Buffer.from(p)))), runs(25_000));
});

test('fuzz: chunk reader on hostile but well-formed-looking headers (huge sizes, unknown types, chunk size changes)', () => {
  fc.assert(
    fc.property(hostileChunkStream, (parts) => {
      readerOk(parts);
    }),
    runs(20_000),
  );
});

test('fuzz: valid chunk streams with random chunk sizes and split points always round trip', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ csid: fc.integer({ min: 2, max: 400 }), type: fc.constantFrom(8, 9, 18, 20), ts: fc.integer({ min: 0, max: 0xffffffff }), len: fc.integer({ min: 0, max: 3000 }) }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 1, max: 5000 }),
      fc.integer({ min: 1, max: 700 }),
      fc.boolean(),
      (msgs, chunkSize, split, compress) => {
        const w = new ChunkWriter({ compressHeaders: compress });
        const r = new ChunkReader();
        const parts: Buffer[] = [];
        const sc = Buffer.alloc(4);
        sc.writeUInt32BE(chunkSize, 0);
        parts.push(w.encode({ csid: 2, type: MSG.SET_CHUNK_SIZE, streamId: 0, timestamp: 0, payload: sc }));
        w.setChunkSize(chunkSize);
        const sent = msgs.map((m, i) => ({ csid: m.csid, type: m.type, streamId: 1, timestamp: m.ts >>> 0, payload: Buffer.alloc(m.len, i + 1) }));
        for (const m of sent) parts.push(w.encode(m));
        const all = Buffer.concat(parts);
        const got = [];
        for (let i = 0; i < all.length; i += split) got.push(...r.push(all.subarray(i, i + split)));
        assert.equal(got.length, sent.length + 1);
        got.slice(1).forEach((g, i) => {
          assert.equal(g.timestamp, sent[i].timestamp);
          assert.equal(g.csid, sent[i].csid);
          assert.ok(g.payload.equals(sent[i].payload));
        });
      },
    ),
    runs(10_000),
  );
});

test('fuzz: command parsing and handshake on random input', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (a, amf3) => {
      try {
        parseCommand({ csid: 3, type: amf3 ? 17 : 20, streamId: 0, timestamp: 0, payload: Buffer.from(a) });
      } catch (e) {
        if (!(e instanceof Amf0DecodeError) && !(e instanceof Error && /without a name/.test(e.message))) throw e;
      }
    }),
    runs(5_000),
  );
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 2000 }), { maxLength: 4 }), (parts) => {
      const h = new ClientHandshake();
      h.start();
      try {
        for (const p of parts) h.feed(Buffer.from(p));
      } catch (e) {
        if (!(e instanceof RtmpError)) throw e;
      }
    }),
    runs(3_000),
  );
});

test('fuzz: a publisher session fed hostile server bytes ends cleanly (no throw, no hang)', async () => {
  const connectOk = connectOkBytes();
  await fc.assert(
    fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 }), fc.boolean(), async (parts, prefix) => {
      const script = parts.map((p) => Buffer.from(p));
      if (prefix) script.unshift(connectOk);
      const pub = new RtmpPublisher('rtmp://127.0.0.1/live/x', { statsIntervalMs: 0, timeoutMs: 50, connect: () => memorySocket(script), autoPublish: true });
      const errors: unknown[] = [];
      pub.on('state', () => undefined);
      try {
        pub.connect();
        for (let i = 0; i < 6; i++) await new Promise((r) => setImmediate(r));
        // whatever happened, these must not throw
        pub.getStats();
        pub.statsLine();
        pub.pushVideo({ data: Buffer.from([0, 0, 0, 1, 0x65, 1]), dts: 0, pts: 0, keyframe: true });
      } catch (e) {
        errors.push(e);
      } finally {
        pub.destroy();
      }
      assert.deepEqual(errors, []);
      assert.ok([RtmpState.IDLE, RtmpState.ERROR, RtmpState.HANDSHAKING, RtmpState.CONNECTED, RtmpState.PUBLISHING, RtmpState.DISCONNECTING].includes(pub.state));
    }),
    runs(2_000),
  );
});

test('fuzz: total number of cases', () => {
  assert.ok(total >= 100_000, `ran ${total} cases`);
});
