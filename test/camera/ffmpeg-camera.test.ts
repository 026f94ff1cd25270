/**
 * Integration tests: a real ffmpeg (located like the runtime does) encoding testsrc / a file.
 * Every ffmpeg command line carries the marker TAG; the `after` hook asserts none is left.
 */
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FfmpegCamera, captureQualityPercent, jpegQscale, isJpeg, probeError } from '../../runtime/media/camera/ffmpeg-camera';
import { CameraSourceError } from '../../runtime/media/camera/sources';
import { FfmpegNotFoundError, locateFfmpeg } from '../../runtime/media/ffmpeg/locate';
import { trackedChildren } from '../../runtime/media/ffmpeg/child-registry';
import type { EncodedVideoFrame } from '../../runtime/media/types';
import { childrenNamed, isLinux, jpegSize, nalTypes, pidsWithMarker, run, sleep, waitFor, writeBusyFfmpeg } from './helpers';
import { tempDir } from '../helpers/tmp';

const TAG = `camtest-${process.pid}-${Date.now()}`;
const tmp = tempDir('luatos-camtest-');
let ffmpeg: string | undefined;
try {
  ffmpeg = locateFfmpeg().path;
} catch {
  ffmpeg = undefined;
}
const needFfmpeg = ffmpeg ? {} : { skip: 'no ffmpeg on this machine' };
const cameras: FfmpegCamera[] = [];

function camera(opts: ConstructorParameters<typeof FfmpegCamera>[0] = {}): { cam: FfmpegCamera; logs: [string, string][] } {
  const cam = new FfmpegCamera({ tag: TAG, ...opts });
  const logs: [string, string][] = [];
  cam.on('log', (l: string, m: string) => logs.push([l, m]));
  cameras.push(cam);
  return { cam, logs };
}

after(async () => {
  for (const c of cameras) await c.close().catch(() => {});
  const clean = await waitFor(() => pidsWithMarker(TAG).length === 0 && childrenNamed(process.pid, 'ffmpeg').length === 0, 3000);
  fs.rmSync(tmp, { recursive: true, force: true });
  assert.ok(clean, `ffmpeg processes left behind: ${pidsWithMarker(TAG).join(',')} children: ${childrenNamed(process.pid, 'ffmpeg').join(',')}`);
  assert.deepEqual(trackedChildren(), []);
});

test('testsrc at the demo settings: 15 fps, IDR every 30 frames, SPS+PPS+IDR, 66.7 ms dts, decodable 1280x720', { ...needFfmpeg, timeout: 60000 }, async () => {
  const { cam, logs } = camera({ source: 'testsrc' });
  // the demo's camera.config calls
  for (const [k, v] of [[0x220, 15], [0x201, 40], [0x202, 40], [0x203, 25], [0x204, 8], [0x205, 4], [0x206, 29]]) {
    assert.equal(cam.configure(k, v), 0);
  }
  cam.setSize(1280, 720);
  const frames: EncodedVideoFrame[] = [];
  const arrivals: number[] = [];
  cam.on('frame', (f: EncodedVideoFrame) => {
    frames.push(f);
    arrivals.push(performance.now());
  });
  await cam.open();
  assert.equal(cam.state, 'open');
  const t0 = performance.now();
  await cam.start();
  const startup = performance.now() - t0;
  assert.equal(cam.state, 'streaming');
  assert.ok(cam.pid && cam.pid > 0);
  if (isLinux) assert.deepEqual(pidsWithMarker(TAG), [cam.pid]);
  await sleep(4200);
  await cam.stop();
  assert.equal(cam.state, 'open');
  assert.equal(cam.pid, undefined);
  const n = frames.length;
  // ~15 fps over the run
  const fps = ((n - 1) * 1000) / (arrivals[n - 1] - arrivals[0]);
  assert.ok(n >= 55 && n <= 75, `frames ${n}`);
  assert.ok(fps > 12.5 && fps < 17.5, `arrival rate ${fps.toFixed(2)} fps`);
  // first frame: SPS + PPS (+ SEI) + IDR, 4-byte start codes everywhere
  const first = nalTypes(frames[0].data);
  assert.equal(frames[0].keyframe, true);
  assert.deepEqual(first.types.slice(0, 2), [7, 8]);
  assert.ok(first.types.includes(5));
  for (const f of frames) {
    const t = nalTypes(f.data);
    assert.ok(t.all4, 'only 4-byte start codes');
    assert.equal(f.keyframe, t.types.includes(5));
    if (f.keyframe) assert.deepEqual(t.types.slice(0, 2), [7, 8]);
    assert.equal(f.pts, f.dts);
  }
  // keyframes exactly every 30 frames
  const keys = frames.map((f, i) => (f.keyframe ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual(keys, Array.from({ length: Math.ceil(n / 30) }, (_, i) => i * 30));
  // dts strictly increasing, 66/67 ms steps, starting at 0
  assert.equal(frames[0].dts, 0);
  for (let i = 1; i < n; i++) {
    const d = frames[i].dts - frames[i - 1].dts;
    assert.ok(d >= 66 && d <= 67, `dts step ${d} at ${i}`);
  }
  assert.ok(Math.abs(frames[n - 1].dts - ((n - 1) * 1000) / 15) <= 1);
  // decodable, right size
  const file = path.join(tmp, 'out.h264');
  fs.writeFileSync(file, Buffer.concat(frames.map((f) => f.data)));
  const r = await run(ffmpeg!, ['-hide_banner', '-f', 'h264', '-i', file, '-vf', 'showinfo', '-f', 'null', '-']);
  assert.equal(r.code, 0, r.stderr.slice(-500));
  const sizes = [...r.stderr.matchAll(/ s:(\d+x\d+) /g)].map((m) => m[1]);
  assert.equal(sizes.length, n, 'every frame decodes');
  assert.ok(sizes.every((s) => s === '1280x720'));
  assert.ok(!/error|corrupt|concealing/i.test(r.stderr.replace(/-err_detect|error_recognition/g, '')), r.stderr.slice(-800));
  // logs: ffmpeg stderr became D lines, and open/streaming are I lines
  assert.ok(logs.some(([l]) => l === 'D'));
  assert.ok(logs.some(([l, m]) => l === 'I' && /streaming/.test(m)));
  assert.deepEqual(cam.info(), { width: 1280, height: 720, framerate: 15, videodatarate: 223, videocodecid: 7, encoder: 'luatos-pc camera (libx264)' });
  console.log(`# startup ${startup.toFixed(0)} ms, ${n} frames, ${fps.toFixed(2)} fps, ${(frames.reduce((a, f) => a + f.data.length, 0) * 8 / (n / 15) / 1000).toFixed(0)} kbit/s`);
});

test('capture: valid JPEG from the source when stopped and from the stream while streaming', { ...needFfmpeg, timeout: 60000 }, async () => {
  assert.equal(captureQualityPercent(1), 90);
  assert.equal(captureQualityPercent(2), 95);
  assert.equal(captureQualityPercent(3), 99);
  assert.equal(captureQualityPercent(80), 80);
  assert.equal(jpegQscale(99), 2);
  assert.equal(jpegQscale(90), 5);
  const { cam } = camera({ config: { width: 640, height: 480 } });
  const still = await cam.capture(1);
  assert.ok(isJpeg(still), 'FF D8 … FF D9');
  assert.deepEqual(jpegSize(still), { width: 640, height: 480 });
  fs.writeFileSync(path.join(tmp, 'still.jpg'), still);
  await cam.start();
  await sleep(700);
  const live = await cam.capture(3);
  assert.ok(isJpeg(live));
  assert.deepEqual(jpegSize(live), { width: 640, height: 480 });
  const cropped = await cam.capture(80, { crop: { x: 10, y: 20, w: 320, h: 240 } });
  assert.ok(isJpeg(cropped));
  assert.deepEqual(jpegSize(cropped), { width: 320, height: 240 });
  assert.equal(cam.state, 'streaming');
  await cam.close();
  assert.equal(cam.state, 'closed');
});

test('missing device, missing file, missing ffmpeg: clear errors', { timeout: 20000 }, async () => {
  if (isLinux) {
    const { cam } = camera({ source: 'v4l2:/dev/video99' });
    await assert.rejects(cam.open(), (e: CameraSourceError) => e.code === 'ENODEV' && /\/dev\/video99 does not exist/.test(e.message));
    assert.equal(cam.state, 'closed');
    await assert.rejects(cam.start(), /\/dev\/video99/);
  }
  const { cam: c2 } = camera({ source: `file:${path.join(tmp, 'nope.mp4')}` });
  await assert.rejects(c2.open(), (e: CameraSourceError) => e.code === 'ENOENT' && /nope\.mp4 does not exist/.test(e.message));
  const { cam: c3 } = camera({ locate: { skipPackages: true, env: { PATH: '' } } });
  await assert.rejects(c3.open(), (e: Error) => {
    assert.ok(e instanceof FfmpegNotFoundError);
    for (const place of ['LUATOS_FFMPEG', 'ffmpeg-static', '@ffmpeg-installer/ffmpeg', 'PATH']) assert.ok(e.message.includes(place), place);
    return true;
  });
  const { cam: c4 } = camera({ source: 'testsrc:plain', ffmpegPath: path.join(tmp, 'no-such-ffmpeg') });
  await assert.rejects(c4.start(), /cannot run ffmpeg|ENOENT/);
  assert.equal(c4.state, 'open');
});

test('busy device: ffmpeg failing at start-up with "Device or resource busy" is reported as EBUSY', { skip: process.platform === 'win32', timeout: 20000 }, async () => {
  const fake = writeBusyFfmpeg(path.join(tmp, 'fake-ffmpeg-busy.sh'));
  const { cam, logs } = camera({ source: 'testsrc:plain', ffmpegPath: fake });
  await cam.open();
  await assert.rejects(cam.start(), (e: CameraSourceError) => e.code === 'EBUSY' && /busy/.test(e.message));
  assert.equal(cam.state, 'open');
  assert.ok(logs.some(([l, m]) => l === 'D' && /resource busy/.test(m)), 'stderr lines are D logs');
});

test('probeError: ffmpeg device errors of Linux, Windows and macOS classified (busy / absent / not a camera / other)', () => {
  const cases: [string, string[], string, RegExp][] = [
    ['v4l2:/dev/video0', ['[video4linux2,v4l2 @ 0x1] ioctl(VIDIOC_STREAMON): Device or resource busy'], 'EBUSY', /is busy \(Device or resource busy\)/],
    ['dshow:USB Camera', ['[dshow @ 0x1] Could not run graph (sometimes caused by a device already in use by other application)', 'video=USB Camera: I/O error'], 'EBUSY', /is busy \(already in use\)/],
    ['v4l2:/dev/video3', ['[video4linux2,v4l2 @ 0x1] Cannot open video device /dev/video3: No such file or directory'], 'ENODEV', /cannot be opened \(no such device\)/],
    ['v4l2:/dev/null', ['[video4linux2,v4l2 @ 0x1] ioctl(VIDIOC_QUERYCAP): Inappropriate ioctl for device'], 'ENODEV', /is not a video capture device/],
    ['dshow:Nope', ['[dshow @ 0x1] Could not find video device with name [Nope] among source devices of type video.'], 'ENODEV', /is not a video capture device/],
    ['avfoundation:7', ['[avfoundation @ 0x1] Invalid device index'], 'EFFMPEG', /ffmpeg could not capture from it: .*Invalid device index/],
  ];
  for (const [src, lines, code, re] of cases) {
    const e = probeError(src, lines);
    assert.ok(e instanceof CameraSourceError);
    assert.equal(e.code, code, `${src}: ${e.message}`);
    assert.match(e.message, re);
    assert.ok(e.message.startsWith(`camera ${src}`), e.message);
  }
});

test('open() probes a real device for one frame: busy (stand-in ffmpeg script: no camera here) → EBUSY, not a capture device (real ffmpeg) → ENODEV, silent → EFFMPEG after probeTimeoutMs', { skip: !isLinux && 'needs Linux (v4l2)', timeout: 30000 }, async () => {
  // /dev/null passes the character-device check, so ffmpeg itself is asked
  const busy = writeBusyFfmpeg(path.join(tmp, 'fake-ffmpeg-probe-busy.sh'));
  const { cam, logs } = camera({ source: 'v4l2:/dev/null', ffmpegPath: busy });
  await assert.rejects(cam.open(), (e: CameraSourceError) => e.code === 'EBUSY' && e.message === 'camera v4l2:/dev/null is busy (Device or resource busy): another program is using it');
  assert.equal(cam.state, 'closed');
  assert.ok(logs.some(([l, m]) => l === 'D' && /VIDIOC_STREAMON\): Device or resource busy/.test(m)), 'probe stderr as D lines');
  // without the probe the same camera opens (and would fail later, at start)
  const { cam: unprobed } = camera({ source: 'v4l2:/dev/null', ffmpegPath: busy, probeDevice: false });
  await unprobed.open();
  assert.equal(unprobed.state, 'open');
  await assert.rejects(unprobed.start(), (e: CameraSourceError) => e.code === 'EBUSY');

  const silent = path.join(tmp, 'fake-ffmpeg-probe-silent.sh');
  fs.writeFileSync(silent, `#!/bin/sh\n# ${TAG}\nexec sleep 30\n`, { mode: 0o755 });
  const { cam: c3 } = camera({ source: 'v4l2:/dev/null', ffmpegPath: silent, probeTimeoutMs: 500 });
  const t0 = Date.now();
  await assert.rejects(c3.open(), (e: CameraSourceError) => e.code === 'EFFMPEG' && /delivered no frame within 500 ms/.test(e.message));
  assert.ok(Date.now() - t0 < 5000);
  assert.ok(await waitFor(() => trackedChildren().length === 0, 3000), 'the probe process is killed');

  if (ffmpeg) {
    const { cam: real } = camera({ source: 'v4l2:/dev/null' });
    await assert.rejects(real.open(), (e: CameraSourceError) => e.code === 'ENODEV' && /is not a video capture device: .*Inappropriate ioctl/.test(e.message));
  } else {
    console.log('# skipped the real-ffmpeg half: no ffmpeg on this machine');
  }
});

test('ffmpeg killed mid-stream → error event + E log, no crash; a restart continues the timestamps', { ...needFfmpeg, timeout: 60000 }, async () => {
  const { cam, logs } = camera({ source: 'testsrc:plain', config: { width: 320, height: 240, fps: 15 } });
  const frames: EncodedVideoFrame[] = [];
  cam.on('frame', (f: EncodedVideoFrame) => frames.push(f));
  const errors: Error[] = [];
  cam.on('error', (e: Error) => errors.push(e));
  await cam.start();
  await sleep(500);
  const pid = cam.pid!;
  process.kill(pid, 'SIGKILL');
  assert.ok(await waitFor(() => errors.length > 0, 5000), 'error event');
  assert.match(errors[0].message, /killed by SIGKILL while streaming/);
  assert.ok(logs.some(([l, m]) => l === 'E' && /SIGKILL/.test(m)));
  assert.equal(cam.state, 'open');
  assert.equal(cam.pid, undefined);
  const before = frames.length;
  const lastDts = frames[before - 1].dts;
  await sleep(300);
  await cam.start();
  await sleep(500);
  await cam.stop();
  assert.ok(frames.length > before + 3);
  assert.equal(frames[before].keyframe, true);
  assert.ok(frames[before].dts > lastDts + 250, `dts continues across restarts: ${lastDts} → ${frames[before].dts}`);
  for (let i = 1; i < frames.length; i++) assert.ok(frames[i].dts > frames[i - 1].dts);
  // no error listener: an unexpected exit must not throw
  const { cam: c2, logs: l2 } = camera({ source: 'testsrc:plain', config: { width: 160, height: 120 } });
  await c2.start();
  process.kill(c2.pid!, 'SIGKILL');
  assert.ok(await waitFor(() => l2.some(([l]) => l === 'E'), 5000));
  await c2.close();
});

test('stop() during start-up kills the encoder and rejects the pending start()', { ...needFfmpeg, timeout: 30000 }, async () => {
  const { cam } = camera({ source: 'testsrc:plain', config: { width: 320, height: 240 } });
  await cam.open();
  const p = cam.start();
  await sleep(10); // spawned, no frame yet
  assert.equal(cam.state, 'starting');
  await cam.stop();
  await assert.rejects(p, /stopped before the first frame/);
  assert.equal(cam.state, 'open');
  assert.equal(cam.pid, undefined);
  await cam.start(); // and it can start again
  assert.equal(cam.state, 'streaming');
  await cam.close();
});

test('file source loops forever at native rate', { ...needFfmpeg, timeout: 60000 }, async () => {
  const file = path.join(tmp, 'clip.mp4');
  const r = await run(ffmpeg!, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-y', file]);
  assert.equal(r.code, 0, r.stderr);
  const { cam } = camera({ source: `file:${file}`, config: { width: 320, height: 240, fps: 10, pframeNums: 9 } });
  const frames: EncodedVideoFrame[] = [];
  cam.on('frame', (f: EncodedVideoFrame) => frames.push(f));
  await cam.start();
  await sleep(2300);
  await cam.stop();
  assert.ok(frames.length >= 18 && frames.length <= 28, `frames ${frames.length} (a 1 s clip looped for ~2.3 s at 10 fps)`);
  const keys = frames.map((f, i) => (f.keyframe ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual(keys, Array.from({ length: Math.ceil(frames.length / 10) }, (_, i) => i * 10));
  for (let i = 1; i < frames.length; i++) assert.ok(frames[i].dts > frames[i - 1].dts);
});
