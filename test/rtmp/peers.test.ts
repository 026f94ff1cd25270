/** Against ffmpeg's own RTMP listener and nginx-rtmp (when installed). */
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { RtmpState } from '../../runtime/media/rtmp';
import { FfmpegListener, NginxRtmp } from './helpers/servers';
import { makeH264 } from './helpers/h264-source';
import { decodeWithFfmpeg } from './helpers/ffmpeg-decode';
import { checkRecording, connectAndPublish, feed, trackProcessFaults, waitState } from './helpers/publish-util';
import { delay, waitFor } from './helpers/net-util';
import * as fs from 'node:fs';

const faults = trackProcessFaults();
const stops: (() => Promise<void>)[] = [];
after(async () => {
  for (const s of stops) await s();
  faults.dispose();
});

const info = { width: 320, height: 240, framerate: 15, videodatarate: 100, videocodecid: 7 };

test('ffmpeg -listen: real-time publish, recording has every frame, decodable, 15 fps, IDR interval', { timeout: 60_000 }, async () => {
  const clip = makeH264({ seconds: 4, gop: 15 });
  const l = await FfmpegListener.start('live', 'ff1');
  stops.push(() => l.stop());
  const { pub, rec } = await connectAndPublish(l.url('live', 'ff1'), { streamInfo: info });
  await feed(pub, clip.frames, 1);
  await delay(200);
  pub.disconnect();
  await waitState(pub, RtmpState.IDLE, 3000);
  const code = await Promise.race([l.exited, delay(20_000).then(() => 'timeout')]);
  assert.equal(code, 0, l.stderr.slice(-3000));
  assert.deepEqual(rec.states.map((s) => s.s), [1, 2, 3, 4, 5, 0]);
  // ffmpeg answers releaseStream/publish with _result: a publish must be sent exactly once
  assert.equal(rec.logs.filter((x) => /command sent successfully: publish /.test(x.msg)).length, 1);
  const chk = checkRecording(l.out, clip.frames, { exactTs: false });
  const ts = chk.frames.map((f) => f.timestamp);
  const mean = (ts[ts.length - 1] - ts[0]) / (ts.length - 1);
  assert.ok(Math.abs(mean - 1000 / 15) < 1, `interval ${mean}`);
  assert.deepEqual(chk.frames.map((f, i) => (f.keyframe ? i : -1)).filter((i) => i >= 0), [0, 15, 30, 45]);
  const dec = await decodeWithFfmpeg(l.out);
  assert.equal(dec.frames, clip.frames.length, dec.stderr.slice(-2000));
  assert.equal(dec.width, 320);
  assert.equal(dec.height, 240);
  assert.deepEqual(dec.errors, []);
  pub.destroy();
  faults.check();
});

const nginxBin = NginxRtmp.findBinary();

test('nginx-rtmp: publish, record, decode; stop()/start() republishes on the same connection', { timeout: 60_000 }, async (t) => {
  if (!nginxBin) {
    t.skip('nginx with libnginx-mod-rtmp is not installed (apt-get install nginx-light libnginx-mod-rtmp)');
    return;
  }
  const n = await NginxRtmp.start();
  stops.push(() => n.stop());
  const clip = makeH264({ seconds: 3, gop: 15 });
  const { pub, rec } = await connectAndPublish(n.url('ng1'), { streamInfo: info });
  await feed(pub, clip.frames, 2);
  await delay(300);
  assert.equal(pub.stop(), true);
  await delay(500); // nginx closes the recording on deleteStream
  const first = n.recording('ng1');
  await waitFor(() => fs.existsSync(first), 3000, 'recording');
  const chk = checkRecording(first, clip.frames);
  void chk; // (nginx's recorder does not keep onMetaData)
  const dec = await decodeWithFfmpeg(first);
  assert.equal(dec.frames, clip.frames.length, dec.stderr.slice(-2000));
  assert.deepEqual(dec.errors, []);
  // republish on the same connection: timestamps rebased to 0, sequence header again
  pub.start();
  await waitState(pub, RtmpState.PUBLISHING, 5000);
  await feed(pub, clip.frames.slice(0, 30), 0);
  await delay(300);
  pub.disconnect();
  await waitState(pub, RtmpState.IDLE, 3000);
  await delay(300);
  assert.deepEqual(rec.states.map((s) => s.s), [1, 2, 3, 4, 3, 4, 5, 0]);
  const chk2 = checkRecording(first, clip.frames.slice(0, 30));
  assert.equal(chk2.frames[0].timestamp, 0);
  pub.destroy();
  faults.check();
});
