/**
 * Congestion: a throttled uplink (helpers/throttle.ts, in front of a real loopback TCP connection to
 * node-media-server) capped at 0.7× the stream bitrate for 30 s, uncapped before and after.
 * Latency = server arrival time − time the frame was pushed (same clock).
 */
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { RtmpState } from '../../runtime/media/rtmp';
import { NmsServer } from './helpers/servers';
import { makeH264 } from './helpers/h264-source';
import { decodeWithFfmpeg } from './helpers/ffmpeg-decode';
import { connectAndPublish, feed, trackProcessFaults, waitState } from './helpers/publish-util';
import { ThrottleControl } from './helpers/throttle';
import { delay } from './helpers/net-util';
import { parseFlv, videoTags } from './helpers/flv-file';
import * as fs from 'node:fs';

const faults = trackProcessFaults();
let nms: NmsServer | undefined;
let link: ThrottleControl | undefined;
after(async () => {
  link?.destroyAll();
  await nms?.stop();
  faults.dispose();
});

test('0.7× bandwidth cap for 30 s: latency bounded (< 1.5 s), drops only P frames until the next IDR, output decodable, recovers', { timeout: 120_000 }, async (t) => {
  const fps = 15;
  const clip = makeH264({ seconds: 40, gop: 15, fps, kbps: 800, source: 'mandelbrot' });
  const byteRate = (clip.kbps * 1000) / 8;
  nms = await NmsServer.start();
  link = new ThrottleControl({ rate: Infinity, bufferBytes: 8 * 1024 });
  const { pub } = await connectAndPublish(nms.url('live', 'cong'), {
    connect: link.factory,
    streamInfo: { width: 320, height: 240, framerate: fps, videodatarate: clip.kbps, videocodecid: 7 },
  });
  const capStart = 4 * fps;
  const capEnd = 34 * fps;
  let maxQueueMs = 0;
  const queueSamples: number[] = [];
  const pushTimes = await feed(pub, clip.frames, 1, (i) => {
    if (i === capStart) link!.rate = 0.7 * byteRate;
    if (i === capEnd) link!.rate = Infinity;
    const q = pub.getStats().queueMs;
    queueSamples.push(q);
    maxQueueMs = Math.max(maxQueueMs, q);
  });
  await delay(1000);
  const stats = pub.getStats();
  pub.disconnect();
  await waitState(pub, RtmpState.IDLE, 3000);

  // map server arrivals to frame indexes by dts
  const byDts = new Map<number, number>();
  clip.frames.forEach((f, i) => byDts.set(Math.round(f.dts), i));
  const arrivals = new Map<number, number>();
  for (const p of nms.videoPackets('/live/cong')) if (p.flags !== 2) arrivals.set(byDts.get(p.dts)!, p.t);
  const got = [...arrivals.keys()].sort((a, b) => a - b);
  const lat = (i: number) => arrivals.get(i)! - pushTimes[i];
  const phase = (a: number, b: number) => got.filter((i) => i >= a && i < b).map(lat);
  const before = phase(0, capStart);
  const during = phase(capStart, capEnd);
  const afterCap = phase(capEnd + 3 * fps, clip.frames.length);
  const max = (xs: number[]) => Math.max(...xs);
  t.diagnostic(`stream ${clip.kbps} kbit/s, cap ${Math.round((0.7 * byteRate * 8) / 1000)} kbit/s; frames ${got.length}/${clip.frames.length}, dropped ${stats.droppedFrames}`);
  t.diagnostic(`latency ms: before cap max ${max(before)}, during cap max ${max(during)}, 3 s after cap max ${max(afterCap)}; max queueMs ${maxQueueMs}`);
  t.diagnostic(pub.statsLine());

  assert.equal(before.length, capStart, 'nothing dropped before the cap');
  assert.ok(max(before) < 200, `uncapped latency ${max(before)} ms`);
  assert.ok(stats.droppedFrames > 0, 'the cap forced drops');
  assert.ok(max(during) < 1500, `latency under the cap ${max(during)} ms`);
  assert.ok(maxQueueMs < 1500, `queue duration ${maxQueueMs} ms`);
  assert.equal(afterCap.length, clip.frames.length - capEnd - 3 * fps, 'no drops once recovered');
  assert.ok(max(afterCap) < 200, `latency after the cap ${max(afterCap)} ms`);
  // every IDR arrives, and a P frame only arrives when the frame before it arrived (decodable chain)
  for (let i = 0; i < clip.frames.length; i++) {
    if (clip.frames[i].keyframe) assert.ok(arrivals.has(i), `IDR ${i} delivered`);
    else if (arrivals.has(i)) assert.ok(arrivals.has(i - 1), `P frame ${i} sent without frame ${i - 1}`);
  }
  // the recording decodes without errors, one picture per delivered frame
  const file = nms.flvFile('live', 'cong');
  const frames = videoTags(parseFlv(fs.readFileSync(file)).tags).filter((v) => v.avcPacketType === 1);
  assert.equal(frames.length, got.length);
  const dec = await decodeWithFfmpeg(file);
  assert.deepEqual(dec.errors, []);
  assert.equal(dec.frames, got.length);
  pub.destroy();
  faults.check();
});
