import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  CAMERA_CONF,
  applyCameraConfig,
  defaultEncoderConfig,
  estimateBitrateKbps,
  ffmpegRate,
  gopSize,
  streamInfo,
  x264Args,
} from '../../runtime/media/camera/encoder-config';

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
function x264Params(args: string[]): Record<string, string> {
  const p = argValue(args, '-x264-params') ?? '';
  return Object.fromEntries(p.split(':').map((kv) => kv.split('=') as [string, string]));
}

test('config keys have the LuatOS values', () => {
  assert.equal(CAMERA_CONF.H264_QP_INIT, 0x201);
  assert.equal(CAMERA_CONF.H264_QP_I_MAX, 0x202);
  assert.equal(CAMERA_CONF.H264_QP_P_MAX, 0x203);
  assert.equal(CAMERA_CONF.H264_IMB_BITS, 0x204);
  assert.equal(CAMERA_CONF.H264_PMB_BITS, 0x205);
  assert.equal(CAMERA_CONF.H264_PFRAME_NUMS, 0x206);
  assert.equal(CAMERA_CONF.UVC_FPS, 0x220);
});

test('the demo settings map to baseline, no B-frames, GOP 30, 15 fps, 1280x720', () => {
  const c = defaultEncoderConfig({ width: 640, height: 480 });
  // The demo's seven camera.config calls, in order.
  assert.equal(applyCameraConfig(c, 0x220, 15), 0);
  assert.equal(applyCameraConfig(c, 0x201, 40), 0);
  assert.equal(applyCameraConfig(c, 0x202, 40), 0);
  assert.equal(applyCameraConfig(c, 0x203, 25), 0);
  assert.equal(applyCameraConfig(c, 0x204, 8), 0);
  assert.equal(applyCameraConfig(c, 0x205, 4), 0);
  assert.equal(applyCameraConfig(c, 0x206, 29), 0);
  c.width = 1280;
  c.height = 720;
  assert.equal(gopSize(c), 30);
  const a = x264Args(c);
  assert.equal(argValue(a, '-c:v'), 'libx264');
  assert.equal(argValue(a, '-profile:v'), 'baseline');
  assert.equal(argValue(a, '-bf'), '0');
  assert.equal(argValue(a, '-g'), '30');
  assert.equal(argValue(a, '-keyint_min'), '30');
  assert.equal(argValue(a, '-sc_threshold'), '0');
  assert.equal(argValue(a, '-r'), '15');
  assert.equal(argValue(a, '-s'), '1280x720');
  assert.equal(argValue(a, '-tune'), 'zerolatency');
  assert.equal(argValue(a, '-preset'), 'ultrafast');
  assert.equal(argValue(a, '-pix_fmt'), 'yuv420p');
  const p = x264Params(a);
  assert.equal(p.keyint, '30');
  assert.equal(p['min-keyint'], '30');
  assert.equal(p.scenecut, '0');
  assert.equal(p.bframes, '0');
  assert.equal(p.crf, '40');
  assert.equal(p.qpmax, '40');
  assert.equal(p.threads, '1');
});

test('GOP = PFRAME_NUMS + 1, fps and QP changes reach the arguments', () => {
  const c = defaultEncoderConfig();
  applyCameraConfig(c, CAMERA_CONF.H264_PFRAME_NUMS, 14);
  applyCameraConfig(c, CAMERA_CONF.UVC_FPS, 25);
  applyCameraConfig(c, CAMERA_CONF.H264_QP_INIT, 30);
  applyCameraConfig(c, CAMERA_CONF.H264_QP_P_MAX, 45);
  const a = x264Args(c, { preset: 'veryfast' });
  assert.equal(argValue(a, '-g'), '15');
  assert.equal(argValue(a, '-r'), '25');
  assert.equal(argValue(a, '-preset'), 'veryfast');
  const p = x264Params(a);
  assert.equal(p.keyint, '15');
  assert.equal(p.crf, '30');
  assert.equal(p.qpmax, '45', 'qpmax is the larger of QP_I_MAX and QP_P_MAX');
  applyCameraConfig(c, CAMERA_CONF.H264_PFRAME_NUMS, 0);
  assert.equal(gopSize(c), 1, 'PFRAME_NUMS 0 = all-intra');
});

test('camera.config return values: unknown key or bad value → -1 and no change', () => {
  const c = defaultEncoderConfig();
  assert.equal(applyCameraConfig(c, 0x999, 1), -1);
  assert.equal(applyCameraConfig(c, CAMERA_CONF.H264_QP_INIT, 60), -1);
  assert.equal(c.qpInit, 40);
  assert.equal(applyCameraConfig(c, CAMERA_CONF.UVC_FPS, 0), -1);
  assert.equal(c.fps, 15);
  assert.equal(applyCameraConfig(c, CAMERA_CONF.H264_PFRAME_NUMS, 2.5), -1);
  assert.equal(applyCameraConfig(c, CAMERA_CONF.H264_APPLY, 1), 0);
  assert.equal(applyCameraConfig(c, CAMERA_CONF.LOG_LEVEL, 1), 0);
  assert.equal(c.logLevel, 1);
  assert.throws(() => defaultEncoderConfig({ width: 641 }), /even/);
});

test('bitrate estimate and stream info', () => {
  const c = defaultEncoderConfig();
  // 3600 MBs × (8 + 29×4) bits per GOP × 15 fps / 30 frames = 223.2 kbit/s
  assert.equal(estimateBitrateKbps(c), 223);
  const info = streamInfo(c);
  assert.deepEqual(
    { w: info.width, h: info.height, fps: info.framerate, rate: info.videodatarate, codec: info.videocodecid },
    { w: 1280, h: 720, fps: 15, rate: 223, codec: 7 },
  );
  const z = defaultEncoderConfig({ imbBits: 0, pmbBits: 0 });
  assert.equal(estimateBitrateKbps(z), Math.round(0.1 * 1280 * 720 * 15 / 1000));
});

test('fractional frame rates become ffmpeg rationals', () => {
  assert.equal(ffmpegRate(15), '15');
  assert.equal(ffmpegRate(12.5), '25/2');
  assert.equal(ffmpegRate(29.97), '2997/100');
});
