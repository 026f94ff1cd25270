import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { AnnexBSplitter, FlvDemuxer } from '../../runtime/media/codec/flv-demux';
import { parseAvcC, splitAvcc, toAnnexB } from '../../runtime/media/codec/h264';
import type { EncodedVideoFrame } from '../../runtime/media/types';

const SPS = Buffer.from([0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40]);
const PPS = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
const SEI = Buffer.from([0x06, 0x05, 0x01, 0x00, 0x80]);
const IDR = Buffer.from([0x65, 0x88, 0x84, 0x00, 0x33, 0xff, 0x00, 0x00, 0x03, 0x01]);
const P1 = Buffer.from([0x41, 0x9a, 0x21, 0x6c, 0x00]);
const P2 = Buffer.from([0x41, 0x9a, 0x42, 0x3c, 0x21, 0x7f]);

function avcC(lengthSize = 4): Buffer {
  return Buffer.concat([
    Buffer.from([1, SPS[1], SPS[2], SPS[3], 0xfc | (lengthSize - 1), 0xe1]),
    Buffer.from([0, SPS.length]), SPS,
    Buffer.from([1, 0, PPS.length]), PPS,
  ]);
}

function tag(type: number, ts: number, data: Buffer): Buffer {
  const h = Buffer.alloc(11);
  h[0] = type;
  h.writeUIntBE(data.length, 1, 3);
  h.writeUIntBE(ts & 0xffffff, 4, 3);
  h[7] = (ts >>> 24) & 0xff;
  const prev = Buffer.alloc(4);
  prev.writeUInt32BE(11 + data.length);
  return Buffer.concat([h, data, prev]);
}

function videoTag(ts: number, key: boolean, pkt: number, cts: number, body: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h[0] = ((key ? 1 : 2) << 4) | 7;
  h[1] = pkt;
  h.writeIntBE(cts, 2, 3);
  return tag(9, ts, Buffer.concat([h, body]));
}

function lp(nals: Buffer[], size = 4): Buffer {
  return Buffer.concat(nals.flatMap((n) => { const l = Buffer.alloc(size); l.writeUIntBE(n.length, 0, size); return [l, n]; }));
}

function flvStream(lengthSize = 4): Buffer {
  const header = Buffer.from([0x46, 0x4c, 0x56, 1, 1, 0, 0, 0, 9, 0, 0, 0, 0]);
  return Buffer.concat([
    header,
    tag(18, 0, Buffer.from([2, 0, 10, ...Buffer.from('onMetaData'), 8, 0, 0, 0, 0, 0, 0, 9])),
    videoTag(0, true, 0, 0, avcC(lengthSize)),
    videoTag(0, true, 1, 0, lp([SEI, IDR], lengthSize)),
    videoTag(67, false, 1, 0, lp([P1], lengthSize)),
    videoTag(133, false, 1, 0, lp([P2], lengthSize)),
    videoTag(0x01000005, false, 1, 0, lp([P1], lengthSize)), // extended timestamp byte
    videoTag(0x01000072, true, 1, 0, lp([SPS, PPS, IDR], lengthSize)), // in-band SPS/PPS: no duplicates
    videoTag(0x01000073, false, 2, 0, Buffer.alloc(0)), // end of sequence: ignored
  ]);
}

const SC = Buffer.from([0, 0, 0, 1]);
const ab = (...n: Buffer[]) => Buffer.concat(n.flatMap((x) => [SC, x]));

function expected(): EncodedVideoFrame[] {
  return [
    { data: ab(SPS, PPS, SEI, IDR), dts: 0, pts: 0, keyframe: true },
    { data: ab(P1), dts: 67, pts: 67, keyframe: false },
    { data: ab(P2), dts: 133, pts: 133, keyframe: false },
    { data: ab(P1), dts: 0x01000005, pts: 0x01000005, keyframe: false },
    { data: ab(SPS, PPS, IDR), dts: 0x01000072, pts: 0x01000072, keyframe: true },
  ];
}

test('FLV demuxer: whole buffer', () => {
  const frames: EncodedVideoFrame[] = [];
  let scripts = 0;
  const d = new FlvDemuxer({ onFrame: (f) => frames.push(f), onScript: () => scripts++ });
  d.push(flvStream());
  assert.deepEqual(frames, expected());
  assert.equal(scripts, 1);
  assert.equal(d.avcConfig?.lengthSize, 4);
  assert.equal(d.frames, 5);
});

test('FLV demuxer: byte-by-byte and random chunking give the same frames, each as soon as complete', () => {
  const s = flvStream(2);
  const frames: EncodedVideoFrame[] = [];
  const d = new FlvDemuxer({ onFrame: (f) => frames.push(f) });
  // emitted exactly when the tag's last byte (incl. PreviousTagSize) arrives
  let firstAt = -1;
  for (let i = 0; i < s.length; i++) {
    d.push(s.subarray(i, i + 1));
    if (firstAt < 0 && frames.length === 1) firstAt = i;
  }
  assert.deepEqual(frames, expected());
  const header = 13;
  const scriptLen = 11 + 21 + 4;
  const seqLen = 11 + 5 + avcC().length + 4;
  const idrLen = 11 + 5 + 2 + SEI.length + 2 + IDR.length + 4;
  assert.equal(firstAt, header + scriptLen + seqLen + idrLen - 1);
  for (let seed = 1; seed < 20; seed++) {
    const out: EncodedVideoFrame[] = [];
    const dd = new FlvDemuxer({ onFrame: (f) => out.push(f) });
    let o = 0;
    let x = seed;
    while (o < s.length) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      const n = 1 + (x % 40);
      dd.push(s.subarray(o, o + n));
      o += n;
    }
    assert.deepEqual(out, expected());
  }
});

test('FLV demuxer rejects non-FLV input and frames before the sequence header', () => {
  const d = new FlvDemuxer({ onFrame: () => {} });
  assert.throws(() => d.push(Buffer.from('\x00\x00\x00\x01gB...not flv')), /not FLV/);
  assert.throws(() => d.push(Buffer.alloc(1)), /not FLV/, 'stays failed');
  const header = Buffer.from([0x46, 0x4c, 0x56, 1, 1, 0, 0, 0, 9, 0, 0, 0, 0]);
  const d2 = new FlvDemuxer({ onFrame: () => {} });
  assert.throws(() => d2.push(Buffer.concat([header, videoTag(0, true, 1, 0, lp([IDR]))])), /before the AVC sequence header/);
});

test('avcC and length-prefixed helpers', () => {
  const c = parseAvcC(avcC(4));
  assert.equal(c.lengthSize, 4);
  assert.deepEqual(c.sps, [SPS]);
  assert.deepEqual(c.pps, [PPS]);
  assert.equal(c.profile, 0x42);
  assert.throws(() => parseAvcC(Buffer.from([0, 1, 2])), /bad avcC/);
  assert.deepEqual(splitAvcc(lp([P1, P2], 2), 2), [P1, P2]);
  assert.throws(() => splitAvcc(Buffer.from([0, 9, 1]), 2), /overruns/);
  // the one splitter for both directions: zero-length entries carry no NAL unit and are skipped,
  // trailing bytes too short for a length field are refused, a bad length size is refused
  assert.deepEqual(splitAvcc(Buffer.concat([lp([P1]), Buffer.alloc(4), lp([P2])])), [P1, P2]);
  assert.throws(() => splitAvcc(Buffer.concat([lp([P1]), Buffer.from([0, 0])])), /truncated AVCC length/);
  assert.throws(() => splitAvcc(lp([P1]), 5), /bad AVCC length size/);
  assert.deepEqual(toAnnexB([P1]), Buffer.concat([SC, P1]));
});

test('Annex-B splitter closes an access unit only when the next one starts', () => {
  const aus = [ab(SPS, PPS, SEI, IDR), ab(P1), ab(P2), Buffer.concat([Buffer.from([0, 0, 1]), P1]), ab(SPS, PPS, IDR)];
  const stream = Buffer.concat(aus);
  for (const chunk of [1, 3, 7, stream.length]) {
    const got: { au: Buffer; key: boolean }[] = [];
    const s = new AnnexBSplitter((au, key) => got.push({ au, key }));
    const afterFirst: number[] = [];
    for (let o = 0; o < stream.length; o += chunk) {
      s.push(stream.subarray(o, o + chunk));
      afterFirst.push(got.length);
    }
    // nothing is emitted before the second AU's first slice has been seen
    assert.ok(got.length <= aus.length - 1);
    s.end();
    assert.deepEqual(got.map((g) => g.au), aus, `chunk ${chunk}`);
    assert.deepEqual(got.map((g) => g.key), [true, false, false, false, true]);
    if (chunk === 1) {
      // AU k comes out exactly when the NAL header + 1 byte of AU k+1's first NAL have arrived
      let start = 0;
      for (let k = 0; k + 1 < aus.length; k++) {
        start += aus[k].length;
        const sc = aus[k + 1][2] === 1 ? 3 : 4;
        const byteIndex = start + sc + 1;
        assert.equal(afterFirst[byteIndex - 1], k, `AU ${k} not before byte ${byteIndex}`);
        assert.equal(afterFirst[byteIndex], k + 1, `AU ${k} at byte ${byteIndex}`);
      }
    }
  }
});
