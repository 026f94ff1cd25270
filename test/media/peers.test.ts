/**
 * The acceptance line on every server: "a Lua script that creates an rtmp object, connects,
 * starts and feeds frames from a test source reaches PUBLISHING". A Lua script (wasmoon) configures
 * the camera with the reference demo's calls (demo/rtmp_app.lua), runs camera.init/camera.start,
 * rtmp.create(url) with a host name mapped by a DirectNetwork rule (as `--map` does) to
 *   (a) ffmpeg's RTMP listener (`-listen 1`, recording with `-c copy` to an FLV file) and
 *   (b) nginx-rtmp (`record all`; skipped when nginx or libnginx-mod-rtmp is not installed),
 * waits for state 4 (PUBLISHING) via its callback, publishes for 3 s, disconnects; then the
 * recording is parsed (FLV tags) and decoded by ffmpeg: configured size, IDR every
 * PFRAME_NUMS + 1 frames, no decoder errors.
 *
 * Deviations from rtmp_app.lua, to keep it short: 320x240 instead of 1280x720, a 3 s run, no
 * platform HTTP request (the URL is given), and for nginx PFRAME_NUMS 14 instead of 29 (so that a
 * value other than the demo's is also checked: IDR every 15 frames; ffmpeg keeps the demo's 29).
 * Engine: wasmoon only (real-time camera tests run on the default engine, as in demo-publish).
 */
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { runLua, type RunLuaResult } from '../helpers/run-lua';
import { DirectNetwork, parseMapRule } from '../../runtime/net/direct';
import { FfmpegListener, NginxRtmp } from '../rtmp/helpers/servers';
import { decodeWithFfmpeg } from '../rtmp/helpers/ffmpeg-decode';
import { delay, waitFor } from '../rtmp/helpers/net-util';
import { trackProcessFaults } from '../rtmp/helpers/publish-util';
import { DEMO_CAMERA_CONFIG, assertNoProcesses, assertOrder, readRecording } from './helpers';

const TAG = `luatos-media-peers-${process.pid}`;
const stops: (() => Promise<void>)[] = [];
const faults = trackProcessFaults();
after(async () => {
  for (const s of stops) {
    try {
      await s();
    } catch {
      /* keep stopping the others */
    }
  }
  faults.dispose();
});

const WIDTH = 320;
const HEIGHT = 240;
const PUBLISH_MS = 3000;

function cameraConfig(pframeNums: number): string {
  const cfg = DEMO_CAMERA_CONFIG.replace('CONF_H264_PFRAME_NUMS, 29)', `CONF_H264_PFRAME_NUMS, ${pframeNums})`);
  assert.ok(cfg.includes(`CONF_H264_PFRAME_NUMS, ${pframeNums})`), 'PFRAME_NUMS set in the demo config');
  return cfg;
}

function script(url: string, pframeNums: number): string {
  return `
PROJECT = "rtmp_peers"
VERSION = "001.000.000"
local rtmpc
local function state_changed(state, ...)
    log.info("rtmp状态变化", state, ...)
    if state == rtmp.STATE_PUBLISHING then
        log.info("rtmp状态变化", "已开始推流")
        sys.publish("RTMP_PUBLISHING")
    end
end
sys.taskInit(function()
    ${cameraConfig(pframeNums)}
    local result = camera.init({id = camera.USB, sensor_width = ${WIDTH}, sensor_height = ${HEIGHT}, usb_port = 1})
    log.info("摄像头初始化", result)
    if result ~= 0 then log.info("DONE") return end
    camera.start(camera.USB)
    rtmpc = rtmp.create("${url}")
    log.info("created", rtmpc ~= nil)
    rtmpc:setCallback(state_changed)
    log.info("connect", rtmpc:connect())
    log.info("start", rtmpc:start())
    local ok = sys.waitUntil("RTMP_PUBLISHING", 10000)
    log.info("publishing", ok, rtmpc:getState())
    if ok then sys.wait(${PUBLISH_MS}) end
    local s = rtmpc:getStats()
    log.info("stats", s.video_frames_sent, rtmpc:getState())
    log.info("disconnect", rtmpc:disconnect())
    sys.wait(500)
    log.info("final", rtmpc:getState())
    log.info("DONE")
end)
sys.run()
`;
}

async function runPublisher(url: string, rule: string, pframeNums: number): Promise<RunLuaResult> {
  return await runLua(
    { 'main.lua': script(url, pframeNums) },
    {
      engine: 'wasmoon',
      until: 'I/user.DONE',
      timeoutMs: 25_000,
      profile: { camera: { tag: TAG } },
      device: { network: new DirectNetwork([parseMapRule(rule)]) },
    },
  );
}

/** Checks shared by every peer: the script's view (PUBLISHING via the callback, frames sent). */
function checkScript(r: RunLuaResult): number {
  const dump = r.lines.slice(-60).join('\n');
  assert.equal(r.timedOut, false, `script finished:\n${dump}`);
  assert.ok(r.user.includes('I/user.摄像头初始化 0'), `camera.init returned 0:\n${dump}`);
  assert.ok(r.user.includes('I/user.created true'), dump);
  assert.ok(r.user.includes('I/user.connect true'), dump);
  assert.ok(r.user.includes('I/user.start true'), dump);
  assert.ok(r.user.includes('I/user.publishing true 4'), `reached PUBLISHING (4) via the callback:\n${dump}`);
  assertOrder(r.lines, ['I/user.rtmp状态变化 1', 'I/user.rtmp状态变化 2', 'I/user.rtmp状态变化 3', 'I/user.rtmp状态变化 4', 'I/user.rtmp状态变化 已开始推流', 'I/user.publishing true 4']);
  assertOrder(r.lines, ['RTMP: State changed from 3 to 4', /RTMP: Sending IDR frame, len=\d+/]);
  const m = /^I\/user\.stats (\d+) 4$/.exec(r.user.find((u) => u.startsWith('I/user.stats ')) ?? '');
  assert.ok(m, `stats line while publishing:\n${r.user.join('\n')}`);
  const sent = Number(m[1]);
  // 15 fps for 3 s (the first frames may come a little after PUBLISHING)
  assert.ok(sent >= 35 && sent <= 55, `video frames sent in ${PUBLISH_MS} ms at 15 fps (${sent})`);
  assert.ok(r.user.includes('I/user.disconnect true'), r.user.join('\n'));
  assert.ok(r.user.includes('I/user.final 0'), `back to IDLE after disconnect:\n${r.user.join('\n')}`);
  return sent;
}

/** The recording: configured size, every frame decodes, IDR every pframeNums+1 frames from frame 0. */
async function checkRecordingFile(file: string, pframeNums: number, sent: number, opts: { meta: boolean }): Promise<void> {
  const rec = readRecording(file);
  assert.equal(rec.seqHeaders, 1, 'one AVC sequence header');
  assert.ok(rec.frames.length >= sent - 2 && rec.frames.length <= sent, `frames recorded (${rec.frames.length}) ≈ sent (${sent})`);
  const gop = pframeNums + 1;
  assert.ok(rec.frames.length > gop, `at least two IDRs recorded (${rec.frames.length} frames, gop ${gop})`);
  const want: number[] = [];
  for (let i = 0; i < rec.frames.length; i += gop) want.push(i);
  assert.deepEqual(rec.keyIndexes, want, `IDR every ${gop} frames (PFRAME_NUMS ${pframeNums} + 1)`);
  for (let i = 1; i < rec.frames.length; i++) assert.ok(rec.frames[i].timestamp > rec.frames[i - 1].timestamp, `timestamps increase at ${i}`);
  const span = rec.frames[rec.frames.length - 1].timestamp - rec.frames[0].timestamp;
  const fps = ((rec.frames.length - 1) * 1000) / span;
  assert.ok(Math.abs(fps - 15) < 0.5, `15 fps by timestamps (${fps.toFixed(2)})`);
  if (opts.meta) {
    assert.equal(rec.meta?.width, WIDTH);
    assert.equal(rec.meta?.height, HEIGHT);
    assert.equal(rec.meta?.framerate, 15);
    assert.equal(rec.meta?.videocodecid, 7);
  }
  const dec = await decodeWithFfmpeg(file, 30_000);
  assert.equal(dec.exitCode, 0, dec.stderr.slice(-2000));
  assert.equal(dec.width, WIDTH, dec.stderr.slice(-2000));
  assert.equal(dec.height, HEIGHT);
  assert.equal(dec.frames, rec.frames.length, `every frame decodes (${dec.frames}/${rec.frames.length})\n${dec.stderr.slice(-2000)}`);
  assert.deepEqual(dec.errors, [], 'no decoder errors');
  assert.equal(dec.keyframes, rec.keyIndexes.length, 'decoder sees the same key frames');
}

test('ffmpeg -listen: Lua script (demo camera config, 320x240) reaches PUBLISHING, recording decodes, IDR every PFRAME_NUMS+1 = 30 frames', { timeout: 90_000 }, async () => {
  const l = await FfmpegListener.start('live', 'luapeer', 30);
  stops.push(() => l.stop());
  const r = await runPublisher('rtmp://ffmpeg.test:1935/live/luapeer', `ffmpeg.test:1935=127.0.0.1:${l.port}`, 29);
  const sent = checkScript(r);
  // the device closed the connection: ffmpeg finishes the file and exits cleanly
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([l.exited, new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), 15_000)))]);
  clearTimeout(timer);
  assert.equal(code, 0, `ffmpeg exit (${String(code)}):\n${l.stderr.slice(-3000)}`);
  assert.match(l.stderr, new RegExp(`Video: h264.*, ${WIDTH}x${HEIGHT}`), l.stderr.slice(-3000));
  await checkRecordingFile(l.out, 29, sent, { meta: true });
  await assertNoProcesses(TAG);
  faults.check();
});

const nginxBin = NginxRtmp.findBinary();

test('nginx-rtmp: Lua script (demo camera config, PFRAME_NUMS 14, 320x240) reaches PUBLISHING, recording decodes, IDR every 15 frames', { timeout: 90_000 }, async (t) => {
  if (!nginxBin) {
    t.skip('nginx with the rtmp module not found');
    return;
  }
  const n = await NginxRtmp.start();
  stops.push(() => n.stop());
  const r = await runPublisher('rtmp://nginx.test/live/luapeer', `nginx.test:1935=127.0.0.1:${n.port}`, 14);
  const sent = checkScript(r);
  const file = n.recording('luapeer');
  // nginx closes the recording when the publisher goes away
  await waitFor(() => fs.existsSync(file) && fs.statSync(file).size > 0, 5000, `nginx recording ${file}`);
  await delay(500);
  await checkRecordingFile(file, 14, sent, { meta: false });
  await assertNoProcesses(TAG);
  faults.check();
});
