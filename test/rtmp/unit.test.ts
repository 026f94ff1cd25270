import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseRtmpUrl } from '../../runtime/media/rtmp/url';
import { Amf0EcmaArray, decodeAmf0, encodeAmf0, type Amf0Value } from '../../runtime/media/rtmp/amf0';
import { Amf0DecodeError, RtmpProtocolError, RtmpUrlError } from '../../runtime/media/rtmp/errors';
import { ChunkWriter } from '../../runtime/media/rtmp/chunk-writer';
import { ChunkReader } from '../../runtime/media/rtmp/chunk-reader';
import { setChunkSizeMessage, type RtmpMessage } from '../../runtime/media/rtmp/messages';
import { buildAvcDecoderConfig, splitAnnexB, splitAvcc, toAvcc } from '../../runtime/media/codec/h264';
import { AvcPacketizer } from '../../runtime/media/rtmp/video-packetizer';
import { SendQueue, type QueuedMedia } from '../../runtime/media/rtmp/send-queue';
import { RateWindow, formatStatsLine, type RtmpStats } from '../../runtime/media/rtmp/stats';
import { ClientHandshake } from '../../runtime/media/rtmp/handshake';
import { avcVideoTagHeader } from '../../runtime/media/codec/flv';

test('url: parses host, port, app, stream, query and tcUrl', () => {
  const u = parseRtmpUrl('rtmp://example.com/live/cam1');
  assert.deepEqual([u.host, u.port, u.app, u.stream, u.tcUrl], ['example.com', 1935, 'live', 'cam1', 'rtmp://example.com:1935/live']);
  const q = parseRtmpUrl('rtmp://127.0.0.1:19350/app/key?sign=123-abc&x=1');
  assert.deepEqual([q.host, q.port, q.app, q.stream, q.tcUrl], ['127.0.0.1', 19350, 'app', 'key?sign=123-abc&x=1', 'rtmp://127.0.0.1:19350/app']);
  const deep = parseRtmpUrl('RTMP://h:1/a/b/c');
  assert.equal(deep.stream, 'b/c');
  const v6 = parseRtmpUrl('rtmp://[::1]:1936/live/x');
  assert.deepEqual([v6.host, v6.port, v6.tcUrl], ['::1', 1936, 'rtmp://[::1]:1936/live']);
  for (const bad of ['', 'http://h/a/b', 'rtmp://', 'rtmp://h', 'rtmp://h/app', 'rtmp://h/app/', 'rtmp://h:0/a/b', 'rtmp://h:70000/a/b', 'rtmp://h:x/a/b', 'rtmp:///a/b', 'rtmp://bad host/a/b', 'rtmp://u:p@h/a/b', 'rtmp://h//b', 'rtmp://h/a/?q=1']) {
    assert.throws(() => parseRtmpUrl(bad), RtmpUrlError, bad);
  }
  assert.throws(() => parseRtmpUrl('rtmp://h/app'), /no stream name/);
  assert.throws(() => parseRtmpUrl('rtmps://h/a/b'), /unsupported URL scheme/);
});

test('amf0: round trips every type', () => {
  const long = 'x'.repeat(70000);
  const values: Amf0Value[] = [
    0, -1.5, 1e300, NaN, true, false, '', 'héllo', long, null, undefined,
    { a: 1, b: 'two', c: { d: [1, 2, { e: null }] } },
    new Amf0EcmaArray({ width: 320, height: 240, encoder: 'x' }),
    [1, 'a', false, null],
    new Date(1700000000000),
  ];
  const buf = encodeAmf0(...values);
  const back = decodeAmf0(buf);
  assert.equal(back.length, values.length);
  assert.ok(Number.isNaN(back[3] as number));
  back[3] = values[3] = 0;
  // decoded objects have no prototype (server data); compare their contents with the literals
  const plain = (v: unknown): unknown => {
    if (v instanceof Amf0EcmaArray) return new Amf0EcmaArray(plain(v.props) as Record<string, Amf0Value>);
    if (Array.isArray(v)) return v.map(plain);
    if (v && typeof v === 'object' && !(v instanceof Date)) {
      assert.equal(Object.getPrototypeOf(v), null);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    }
    return v;
  };
  assert.deepEqual(plain(back), values);
  assert.equal(buf[encodeAmf0(0, -1.5, 1e300, NaN, true, false, '', 'héllo').length], 0x0c, 'long string marker');
  // known bytes: connect-like command
  assert.equal(encodeAmf0('a', 1).toString('hex'), '02000161' + '003ff0000000000000');
  assert.equal(encodeAmf0({}).toString('hex'), '03000009');
  // __proto__ key must not pollute
  const evil = Buffer.concat([Buffer.from([3, 0, 9]), Buffer.from('__proto__'), Buffer.from([3, 0, 1, 0x78, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 9])]);
  const o = decodeAmf0(evil)[0] as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(o), null);
  assert.ok(Object.prototype.hasOwnProperty.call(o, '__proto__'));
  assert.equal(({} as Record<string, unknown>).x, undefined);
});

test('amf0: hostile input throws Amf0DecodeError', () => {
  const cases = [
    Buffer.from([0x00, 1, 2]), // truncated number
    Buffer.from([0x02, 0x00, 0x05, 0x61]), // truncated string
    Buffer.from([0x0c, 0xff, 0xff, 0xff, 0xff]), // long string past end
    Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x05]), // strict array count absurd
    Buffer.from([0x03, 0x00, 0x01, 0x61]), // object truncated
    Buffer.from([0x07, 0x00, 0x01]), // reference
    Buffer.from([0x11]), // AVM+
    Buffer.from([0x42]), // unknown marker
    Buffer.from([0x09]), // stray object end
  ];
  for (const c of cases) assert.throws(() => decodeAmf0(c), Amf0DecodeError, c.toString('hex'));
  // nesting bomb: 1000 nested strict arrays of one element each
  const bomb = Buffer.concat([...Array.from({ length: 1000 }, () => Buffer.from([0x0a, 0, 0, 0, 1])), Buffer.from([0x05])]);
  assert.throws(() => decodeAmf0(bomb), /nesting deeper than 32/);
  const ok = Buffer.concat([...Array.from({ length: 30 }, () => Buffer.from([0x0a, 0, 0, 0, 1])), Buffer.from([0x05])]);
  assert.equal(decodeAmf0(ok).length, 1);
  // declared 16 MiB message with 1 byte per push: held bytes bounded by the reader's limits
  const r = new ChunkReader({ maxMessageSize: 1 << 20, maxPendingBytes: 1 << 16 });
  r.push(Buffer.from('020000000000040100000000' + '00ffffff' + '060000000fffff0901000000', 'hex'));
  assert.throws(() => { for (let i = 0; i < 100; i++) r.push(Buffer.alloc(1000)); }, /partial messages|exceeds/);
});

function roundTrip(msgs: RtmpMessage[], writer: ChunkWriter, reader: ChunkReader, splitEvery = 0): RtmpMessage[] {
  const bytes = Buffer.concat(
    msgs.map((m) => {
      const b = writer.encode(m);
      if (m.type === 1) writer.setChunkSize(m.payload.readUInt32BE(0));
      return b;
    }),
  );
  if (!splitEvery) return reader.push(bytes);
  const out: RtmpMessage[] = [];
  for (let i = 0; i < bytes.length; i += splitEvery) out.push(...reader.push(bytes.subarray(i, i + splitEvery)));
  return out;
}

test('chunks: writer/reader round trip with all header formats, chunk-size changes, split input', () => {
  for (const compress of [true, false]) {
    for (const split of [0, 1, 7, 1000]) {
      const w = new ChunkWriter({ compressHeaders: compress });
      const r = new ChunkReader();
      const msgs: RtmpMessage[] = [
        { csid: 3, type: 20, streamId: 0, timestamp: 0, payload: Buffer.alloc(300, 1) },
        { csid: 3, type: 20, streamId: 0, timestamp: 0, payload: Buffer.alloc(300, 2) }, // fmt2
        { csid: 3, type: 20, streamId: 0, timestamp: 10, payload: Buffer.alloc(5, 3) }, // fmt1
        setChunkSizeMessage(4096),
        { csid: 6, type: 9, streamId: 1, timestamp: 100, payload: Buffer.alloc(10000, 4) },
        { csid: 6, type: 9, streamId: 1, timestamp: 167, payload: Buffer.alloc(0) },
        { csid: 6, type: 9, streamId: 1, timestamp: 233, payload: Buffer.alloc(4097, 5) },
        { csid: 6, type: 9, streamId: 1, timestamp: 233, payload: Buffer.alloc(4097, 6) },
        { csid: 70, type: 8, streamId: 1, timestamp: 5, payload: Buffer.alloc(100, 7) }, // 2-byte basic header
        { csid: 1000, type: 8, streamId: 1, timestamp: 5, payload: Buffer.alloc(100, 8) }, // 3-byte basic header
        setChunkSizeMessage(128),
        { csid: 6, type: 9, streamId: 1, timestamp: 300, payload: Buffer.alloc(1000, 9) },
      ];
      const got = roundTrip(msgs, w, r, split);
      assert.equal(got.length, msgs.length);
      got.forEach((g, i) => {
        assert.equal(g.csid, msgs[i].csid);
        assert.equal(g.type, msgs[i].type);
        assert.equal(g.streamId, msgs[i].streamId);
        assert.equal(g.timestamp, msgs[i].timestamp, `ts of #${i}`);
        assert.ok(g.payload.equals(msgs[i].payload), `payload of #${i}`);
      });
    }
  }
});

test('chunks: header bytes are as specified (fmt 0/1/2/3, extended timestamp repeated on fmt 3)', () => {
  const w = new ChunkWriter();
  const a = w.encode({ csid: 6, type: 9, streamId: 1, timestamp: 0x01020304, payload: Buffer.alloc(200, 0xaa) });
  // fmt0 csid 6, ts 0xffffff, len 200, type 9, stream 1 LE, ext ts, 128 bytes, 0xc6, ext ts again, 72 bytes
  assert.equal(a.subarray(0, 16).toString('hex'), '06ffffff0000c809010000000' + '1020304');
  assert.equal(a[16 + 128], 0xc6);
  assert.equal(a.readUInt32BE(16 + 128 + 1), 0x01020304);
  assert.equal(a.length, 16 + 128 + 5 + 72);
  const b = w.encode({ csid: 6, type: 9, streamId: 1, timestamp: 0x01020304 + 40, payload: Buffer.alloc(10) });
  assert.equal(b.subarray(0, 8).toString('hex'), '46000028' + '00000a09'); // fmt1: delta 40, len 10
  const c = w.encode({ csid: 6, type: 9, streamId: 1, timestamp: 0x01020304 + 80, payload: Buffer.alloc(10) });
  assert.equal(c.subarray(0, 4).toString('hex'), '86000028'); // fmt2
  const d = w.encode({ csid: 6, type: 9, streamId: 1, timestamp: 5, payload: Buffer.alloc(10) });
  assert.equal(d[0], 0x06, 'timestamp going backwards → fmt 0');
});

test('chunks: extended timestamps across 2^24 and 2^32 round trip (delta and absolute)', () => {
  for (const compress of [true, false]) {
    const w = new ChunkWriter({ compressHeaders: compress });
    const r = new ChunkReader();
    const ts = [0, 16777000, 16777214, 16777215, 16777216, 16777300, 0x7fffffff, 0xfffffff0, 0xfffffff0 + 0x1000000 + 5];
    const msgs = ts.map((t) => ({ csid: 6, type: 9, streamId: 1, timestamp: t >>> 0, payload: Buffer.alloc(300, t & 0xff) }));
    const got = roundTrip(msgs, w, r, 3);
    assert.deepEqual(got.map((g) => g.timestamp), ts.map((t) => t >>> 0));
  }
  // a big delta (>= 0xffffff) in a fmt-1 header
  const w = new ChunkWriter();
  const r = new ChunkReader();
  const got = roundTrip(
    [
      { csid: 6, type: 9, streamId: 1, timestamp: 10, payload: Buffer.alloc(10) },
      { csid: 6, type: 9, streamId: 1, timestamp: 10 + 0x1000000, payload: Buffer.alloc(300) },
    ],
    w,
    r,
  );
  assert.deepEqual(got.map((g) => g.timestamp), [10, 10 + 0x1000000]);
});

test('chunks: reader tolerates a peer that omits the extended field on fmt-3 continuations', () => {
  const r = new ChunkReader();
  const payload = Buffer.alloc(200, 1);
  const head = Buffer.from('06ffffff0000c80901000000' + '01000000', 'hex');
  const bytes = Buffer.concat([head, payload.subarray(0, 128), Buffer.from([0xc6]), payload.subarray(128)]);
  const got = r.push(bytes);
  assert.equal(got.length, 1);
  assert.equal(got[0].timestamp, 0x01000000);
  assert.ok(got[0].payload.equals(payload));
});

test('chunks: reader rejects malformed streams with RtmpProtocolError', () => {
  const mk = () => new ChunkReader({ maxMessageSize: 1 << 20 });
  assert.throws(() => mk().push(Buffer.from('46000000000010090000', 'hex')), RtmpProtocolError); // fmt1 first
  assert.throws(() => mk().push(Buffer.from('c6', 'hex')), RtmpProtocolError); // fmt3 first
  assert.throws(() => mk().push(Buffer.from('06000000ffffff0901000000', 'hex')), /exceeds/); // 16 MiB > 1 MiB
  const r = mk();
  assert.throws(() => r.push(Buffer.from('020000000000040100000000' + '00000000', 'hex')), /invalid chunk size 0/);
  assert.throws(() => r.push(Buffer.from('00', 'hex')), RtmpProtocolError, 'stays failed');
  // fmt0 in the middle of a message on the same chunk stream
  assert.throws(() => mk().push(Buffer.concat([Buffer.from('060000000001000901000000', 'hex'), Buffer.alloc(128), Buffer.from('060000000000010901000000', 'hex')])), /middle of a message/);
  // incomplete input just waits
  assert.deepEqual(mk().push(Buffer.from('0600', 'hex')), []);
});

test('avc: Annex-B split with 3- and 4-byte start codes, trailing zeros, AVCC round trip', () => {
  const es = Buffer.from('00000001 6742 000001 68ce 0000000001 0605ff 000001 6588 0000 00000001 0988'.replace(/ /g, ''), 'hex');
  const nals = splitAnnexB(es);
  assert.deepEqual(nals.map((n) => n.toString('hex')), ['6742', '68ce', '0605ff', '6588', '0988']);
  assert.deepEqual(splitAnnexB(Buffer.from('6588aa', 'hex')).map((n) => n.toString('hex')), ['6588aa']);
  assert.deepEqual(splitAnnexB(Buffer.alloc(0)), []);
  const avcc = toAvcc(nals);
  assert.equal(avcc.subarray(0, 6).toString('hex'), '000000026742');
  assert.deepEqual(splitAvcc(avcc).map((n) => n.toString('hex')), nals.map((n) => n.toString('hex')));
});

test('avc: avcC bytes from SPS/PPS', () => {
  const sps = Buffer.from('6742c01fda', 'hex');
  const pps = Buffer.from('68ce3c80', 'hex');
  assert.equal(buildAvcDecoderConfig([sps], [pps]).toString('hex'), '0142c01fffe1' + '0005' + '6742c01fda' + '01' + '0004' + '68ce3c80');
  assert.equal(avcVideoTagHeader(true, 1, 0).toString('hex'), '1701000000');
  assert.equal(avcVideoTagHeader(false, 1, -33).toString('hex'), '2701ffffdf');
});

test('packetizer: AUD stripped, SEI kept, SPS/PPS → sequence header once and on change', () => {
  const p = new AvcPacketizer();
  const key = (spsTail: string) => Buffer.from(`00000001 0910 00000001 6742c01f${spsTail} 00000001 68ce3c80 000001 0605aa 000001 65888888`.replace(/ /g, ''), 'hex');
  const inter = Buffer.from('00000001 0930 00000001 41999999'.replace(/ /g, ''), 'hex');
  const a = p.packetize({ data: key('da'), dts: 0, pts: 0, keyframe: true });
  assert.ok(a.sequenceHeader);
  assert.equal(a.sequenceHeader!.subarray(0, 5).toString('hex'), '1700000000');
  assert.equal(a.keyframe, true);
  assert.equal(a.tag!.toString('hex'), '1701000000' + '000000030605aa' + '0000000465888888');
  const b = p.packetize({ data: inter, dts: 66, pts: 66, keyframe: false });
  assert.equal(b.sequenceHeader, undefined);
  assert.equal(b.tag!.toString('hex'), '2701000000' + '0000000441999999');
  const c = p.packetize({ data: key('da'), dts: 2000, pts: 2000, keyframe: true });
  assert.equal(c.sequenceHeader, undefined, 'same SPS/PPS: no new header');
  const d = p.packetize({ data: key('db'), dts: 4000, pts: 4000, keyframe: true });
  assert.ok(d.sequenceHeader, 'SPS changed');
  p.reset();
  const e = p.packetize({ data: key('db'), dts: 6000, pts: 6033, keyframe: true });
  assert.ok(e.sequenceHeader, 'after reset (new publish)');
  assert.equal(e.tag!.subarray(2, 5).readIntBE(0, 3), 33, 'composition time');
});

function qm(kind: QueuedMedia['kind'], key: boolean, dts: number, size = 100): QueuedMedia {
  return { kind, key, dts, queuedAt: 0, msg: { csid: 6, type: 9, streamId: 1, timestamp: dts, payload: Buffer.alloc(size) } };
}

test('send queue: drops non-key frames over the threshold and until the next IDR; keys never dropped', () => {
  const q = new SendQueue({ dropThresholdMs: 700 });
  q.enqueue(qm('video-config', true, 0));
  q.enqueue(qm('video', true, 0));
  for (let t = 66; t <= 660; t += 66) assert.deepEqual(q.enqueue(qm('video', false, t)), []);
  assert.equal(q.durationMs(), 660);
  // 726 ms > 700: every queued P frame + this one dropped
  const d = q.enqueue(qm('video', false, 726));
  assert.equal(d.length, 11);
  assert.ok(d.every((x) => !x.item.key && x.reason === 'congestion'));
  assert.equal(q.length, 2, 'config + IDR stay');
  assert.ok(q.waitingForKey);
  q.shift();
  q.shift(); // socket drained them
  assert.equal(q.enqueue(qm('video', false, 792))[0].reason, 'wait-key', 'still waiting for IDR even with an empty queue');
  assert.deepEqual(q.enqueue(qm('video', true, 2000)), []);
  assert.deepEqual(q.enqueue(qm('video', false, 2066)), []);
  assert.equal(q.length, 2);
  // audio and metadata are never dropped
  const q2 = new SendQueue({ dropThresholdMs: 100 });
  q2.enqueue(qm('audio', false, 0));
  assert.deepEqual(q2.enqueue(qm('audio', false, 1000)), []);
  // byte cap
  const q3 = new SendQueue({ dropThresholdMs: 100000, maxQueueBytes: 250 });
  q3.enqueue(qm('video', true, 0));
  q3.enqueue(qm('video', false, 1));
  assert.equal(q3.enqueue(qm('video', false, 2))[0].reason, 'overflow');
  assert.deepEqual(q3.enqueue(qm('video', true, 3)), [], 'key frames pass the cap');
});

test('stats: sliding window rate and the firmware stats line layout', () => {
  const w = new RateWindow(5000, 100);
  for (let t = 0; t < 10000; t += 100) w.add(t, 1000); // 10 kB/s = 80 kbps
  assert.equal(w.kbps(9999, 0), 80);
  assert.equal(w.kbps(20000, 0), 0, 'window slides');
  const w2 = new RateWindow(5000, 100);
  w2.add(0, 1000);
  w2.add(500, 1000);
  assert.equal(w2.kbps(1000, 0), 16, 'shorter than the window since connect');
  const s: RtmpStats = {
    bytesSent: 2 * 1024 * 1024 + 5, packets: 150, videoFrames: 150, audioFrames: 0, iFrames: 5, iBytes: 102400, pFrames: 145, pBytes: 300 * 1024 + 1023,
    droppedFrames: 3, droppedBytes: 4096, queueBytes: 1234, queueMs: 0, queueLength: 0, avgKbps: 1700, windowKbps: 1650, connectionTimeMs: 10000, acksSent: 0, bytesReceived: 0,
  };
  assert.equal(formatStatsLine(s), 'RTMP stats: total=2048 kB packets=150 I=5 (100kB) P=145 (300kB) dropped=3 (4kB) queue=1234 avg=1700 kbps win=1650 kbps');
});

test('handshake: C0+C1 layout, C2 echoes S1, done after S2, bad version rejected', () => {
  const h = new ClientHandshake();
  const c0c1 = h.start();
  assert.equal(c0c1.length, 1537);
  assert.equal(c0c1[0], 3);
  assert.equal(c0c1.readUInt32BE(5), 0);
  const s1 = Buffer.alloc(1536, 9);
  const steps = h.feed(Buffer.concat([Buffer.from([3]), s1.subarray(0, 1000)]));
  assert.deepEqual(steps.map((s) => s.kind), ['need-more']);
  const s2 = h.feed(Buffer.concat([s1.subarray(1000), Buffer.alloc(1536, 1), Buffer.from([0xaa])]));
  assert.deepEqual(s2.map((s) => s.kind), ['send-c2', 'done']);
  assert.ok((s2[0] as { c2: Buffer }).c2.equals(s1));
  assert.equal((s2[1] as { rest: Buffer }).rest.toString('hex'), 'aa');
  const bad = new ClientHandshake();
  bad.start();
  assert.throws(() => bad.feed(Buffer.from([6])), /version/);
});
