/** Against node-media-server 4 (child process on a free loopback port). */
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { RtmpPublisher, RtmpState, RtmpErrorCode } from '../../runtime/media/rtmp';
import { NmsServer } from './helpers/servers';
import { makeH264 } from './helpers/h264-source';
import { decodeWithFfmpeg } from './helpers/ffmpeg-decode';
import { checkRecording, connectAndPublish, feed, record, trackProcessFaults, waitState } from './helpers/publish-util';
import { delay, waitFor } from './helpers/net-util';

let nms: NmsServer;
const faults = trackProcessFaults();
before(async () => {
  nms = await NmsServer.start();
});
after(async () => {
  await nms?.stop();
  faults.dispose();
});

const info = { width: 320, height: 240, framerate: 15, videodatarate: 100, videocodecid: 7, encoder: 'luatos-pc test' };

test('NMS: real-time publish of 6 s H.264 (GOP 15): every frame, decodable, right size/rate, IDR interval', { timeout: 40_000 }, async () => {
  const clip = makeH264({ seconds: 6, gop: 15 });
  assert.equal(clip.frames.length, 90);
  const { pub, rec } = await connectAndPublish(nms.url('live', 'rt1'), { streamInfo: info });
  await feed(pub, clip.frames, 1);
  await waitFor(() => nms.videoPackets('/live/rt1').length >= 91, 5000, 'all frames at the server');
  const stats = pub.getStats();
  assert.equal(pub.disconnect(), true);
  await waitState(pub, RtmpState.IDLE, 3000);
  assert.deepEqual(rec.states.map((s) => s.s), [1, 2, 3, 4, 5, 0]);
  // wire stats
  assert.equal(stats.iFrames, 6);
  assert.equal(stats.pFrames, 84);
  assert.equal(stats.packets, 90);
  assert.equal(stats.droppedFrames, 0);
  assert.ok(stats.bytesSent > clip.es.length, 'bytes on the wire include every header');
  assert.ok(stats.avgKbps > 0 && stats.windowKbps > 0);
  assert.match(pub.statsLine(), /^RTMP stats: total=\d+ kB packets=90 I=6 \(\d+kB\) P=84 \(\d+kB\) dropped=0 \(0kB\) queue=\d+ avg=\d+ kbps win=\d+ kbps$/);
  // log texts of the firmware
  const texts = rec.logs.map((l) => l.msg);
  for (const t of ['RTMP: State changed from 0 to 1', 'RTMP: Sending handshake (C0+C1)...', 'RTMP: Received complete S0+S1 (1537 bytes), sending C2...', 'RTMP: Received Set Chunk Size from server: 65535', 'RTMP: Metadata sent, ready to send video data']) {
    assert.ok(texts.includes(t), t);
  }
  assert.ok(texts.some((t) => /^RTMP: command sent successfully: connect \(tx_id=1, payload_size=\d+ bytes\)$/.test(t)));
  assert.equal(texts.filter((t) => /^RTMP: Sending IDR frame, len=\d+$/.test(t)).length, 6);
  // structured log events: module and level as the device prints them, straight from the publisher
  assert.ok(rec.logs.every((l) => l.module === 'rtmp_push'), 'every publisher line is module rtmp_push');
  const levelOf = (re: RegExp) => [...new Set(rec.logs.filter((l) => re.test(l.msg)).map((l) => l.level))];
  for (const re of [/^RTMP: C2 sent successfully/, /^RTMP: Received 1536 bytes after C2/, /^RTMP: command sent successfully: /, /^RTMP: Received Set Chunk Size from server/, /^RTMP: Sent setChunkSize/, /^RTMP: Metadata payload size/, /^RTMP: Metadata @setDataFrame sent successfully/]) {
    assert.deepEqual(levelOf(re), ['I'], `${re} is an I line on the device`);
  }
  assert.deepEqual(levelOf(/^RTMP: TCP connected to /), ['D']);
  // what the server received
  const file = nms.flvFile('live', 'rt1');
  const chk = checkRecording(file, clip.frames);
  assert.equal(chk.seqHeaders.length, 1, 'sequence header once per publish');
  assert.deepEqual(chk.frames.map((f, i) => (f.keyframe ? i : -1)).filter((i) => i >= 0), [0, 15, 30, 45, 60, 75], 'IDR interval as encoded');
  assert.equal(chk.meta?.width, 320);
  assert.equal(chk.meta?.height, 240);
  assert.equal(chk.meta?.framerate, 15);
  assert.equal(chk.meta?.videocodecid, 7);
  assert.equal(chk.meta?.encoder, 'luatos-pc test');
  const dec = await decodeWithFfmpeg(file);
  assert.equal(dec.frames, 90, dec.stderr.slice(-2000));
  assert.equal(dec.width, 320);
  assert.equal(dec.height, 240);
  assert.equal(dec.keyframes, 6);
  assert.deepEqual(dec.errors, []);
  const dts = chk.frames.map((f) => f.timestamp);
  const meanInterval = (dts[dts.length - 1] - dts[0]) / (dts.length - 1);
  assert.ok(Math.abs(meanInterval - 1000 / 15) < 0.5, `frame interval ${meanInterval} ms = 15 fps`);
  // real-time pacing: the server clock agrees with the media clock (no drift, < 1 frame)
  const arr = nms.videoPackets('/live/rt1').filter((p) => p.flags !== 2 && p.size > 5);
  const span = arr[arr.length - 1].t - arr[0].t;
  assert.ok(Math.abs(span - dts[dts.length - 1]) < 100, `arrival span ${span} ms vs media ${dts[dts.length - 1]} ms`);
  pub.destroy();
  faults.check();
});

test('NMS: AUD-delimited stream fed fast, stream key with ?query, AUDs stripped', { timeout: 30_000 }, async () => {
  const clip = makeH264({ seconds: 3, gop: 30, aud: true });
  assert.ok(clip.frames.every((f) => (f.data[4] & 0x1f) === 9 || (f.data[3] & 0x1f) === 9), 'input has AUDs');
  const { pub } = await connectAndPublish(nms.url('live', 'aud1?token=abc&x=1'), { streamInfo: info });
  await feed(pub, clip.frames, 0);
  await waitFor(() => nms.videoPackets('/live/aud1').length >= clip.frames.length + 1, 5000, 'frames at the server');
  pub.disconnect();
  const chk = checkRecording(nms.flvFile('live', 'aud1'), clip.frames);
  for (const f of chk.frames) assert.ok(!f.data.includes(Buffer.from([0, 0, 0, 2, 0x09])), 'no AUD NAL');
  const dec = await decodeWithFfmpeg(nms.flvFile('live', 'aud1'));
  assert.equal(dec.frames, clip.frames.length);
  assert.deepEqual(dec.errors, []);
  pub.destroy();
});

for (const compress of [true, false]) {
  test(`NMS: timestamps cross 2^24 ms with extended timestamps (compressHeaders=${compress})`, { timeout: 30_000 }, async () => {
    const clip = makeH264({ seconds: 3, gop: 15 });
    const base = 0xffffff - 1000;
    const name = `ext${compress ? 'c' : 'u'}`;
    const { pub } = await connectAndPublish(nms.url('live', name), { streamInfo: info, timestampBase: base, compressHeaders: compress });
    await feed(pub, clip.frames, 0);
    await waitFor(() => nms.videoPackets(`/live/${name}`).length >= clip.frames.length + 1, 5000, 'frames at the server');
    pub.disconnect();
    const pk = nms.videoPackets(`/live/${name}`).filter((p) => p.flags !== 2);
    const want = clip.frames.map((f) => base + Math.round(f.dts));
    assert.deepEqual(pk.map((p) => p.dts), want, 'server-side dts');
    assert.ok(want[want.length - 1] > 0xffffff);
    checkRecording(nms.flvFile('live', name), clip.frames, { tsBase: base });
    pub.destroy();
  });
}

test('NMS: second publisher on the same path fails with an error state; the first keeps going', { timeout: 30_000 }, async () => {
  const clip = makeH264({ seconds: 2, gop: 15 });
  const { pub: a } = await connectAndPublish(nms.url('live', 'dup'), { streamInfo: info });
  await feed(a, clip.frames.slice(0, 5), 0);
  const b = new RtmpPublisher(nms.url('live', 'dup'), { statsIntervalMs: 0, timeoutMs: 3000 });
  const rb = record(b);
  b.connect();
  b.start();
  await waitState(b, RtmpState.ERROR, 8000);
  const last = rb.states[rb.states.length - 1];
  assert.equal(last.s, RtmpState.ERROR);
  assert.ok(last.code === RtmpErrorCode.NETWORK || last.code === RtmpErrorCode.TIMEOUT || last.code === RtmpErrorCode.FAILED, String(last.code));
  assert.deepEqual(rb.states.slice(-3).map((s) => s.s), [5, 0, 6]);
  assert.equal(a.state, RtmpState.PUBLISHING);
  a.destroy();
  b.destroy();
});

test('NMS: stop() unpublishes; NMS refuses a republish on the same connection (its limitation), a new connection republishes', { timeout: 30_000 }, async () => {
  const clip = makeH264({ seconds: 2, gop: 15 });
  const { pub, rec } = await connectAndPublish(nms.url('live', 'restart1'), { streamInfo: info });
  await feed(pub, clip.frames, 0);
  assert.equal(pub.stop(), true);
  assert.equal(pub.state, RtmpState.CONNECTED);
  assert.equal(pub.pushVideo(clip.frames[0]), RtmpErrorCode.FAILED, 'no frames when not publishing');
  await delay(300);
  pub.start();
  // NMS keeps the path's publisher until the socket closes, so it ends the connection
  await waitState(pub, RtmpState.ERROR, 8000);
  // (NMS answers Publish.Start before it checks the path, so a brief 4 may show up first)
  assert.deepEqual(rec.states.map((s) => s.s).slice(0, 5), [1, 2, 3, 4, 3]);
  assert.deepEqual(rec.states.map((s) => s.s).slice(-3), [5, 0, 6]);
  assert.equal(rec.states[rec.states.length - 1].code, RtmpErrorCode.NETWORK);
  await delay(300); // NMS publish grace (set to 100 ms by the harness)
  assert.equal(pub.connect(), true);
  pub.start();
  await waitState(pub, RtmpState.PUBLISHING, 8000);
  await feed(pub, clip.frames, 0);
  await delay(300);
  assert.equal(pub.getStats().packets, clip.frames.length * 2);
  pub.destroy();
});
