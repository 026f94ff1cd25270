/**
 * The reference demo's camera + RTMP flow, end to end on real parts: a Lua script configures the
 * camera exactly as rtmp_app.lua does, initialises it in a task, creates/connects/starts an rtmp
 * object to node-media-server (reached through a mapped host name, as `--map` does), and the
 * recording decodes as 1280×720, 15 fps, IDR every 30 frames. Engine: wasmoon (the slow,
 * real-time tests run on the default engine; the binding-level checks also run on fengari in
 * rtmp-binding.test.ts / camera-binding.test.ts).
 */
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { runLua } from '../helpers/run-lua';
import { NmsServer } from '../rtmp/helpers/servers';
import { decodeWithFfmpeg } from '../rtmp/helpers/ffmpeg-decode';
import { DEMO_CAMERA_CONFIG, assertNoProcesses, assertOrder, lineIndex, lineMs, mappedNetwork, readRecording } from './helpers';

const TAG = `luatos-media-demo-${process.pid}`;
let nms: NmsServer | undefined;
after(async () => {
  await nms?.stop();
});

const script = `
PROJECT = "rtmp_demo"
VERSION = "001.000.000"
local rtmpc
local function state_changed(state, ...)
    log.info("rtmp状态变化", state, ...)
    if state == rtmp.STATE_CONNECTED then
        log.info("rtmp状态变化", "已连接到推流服务器")
    elseif state == rtmp.STATE_PUBLISHING then
        log.info("rtmp状态变化", "已开始推流")
    end
end
sys.taskInit(function()
    ${DEMO_CAMERA_CONFIG}
    local t0 = mcu.ticks()
    local result = camera.init({id = camera.USB, sensor_width = 1280, sensor_height = 720, usb_port = 1})
    log.info("摄像头初始化", result)
    log.info("init_ms", mcu.ticks() - t0)
    if result ~= 0 then return end
    camera.start(camera.USB)
    rtmpc = rtmp.create("rtmp://video.test:1935/live/demo")
    rtmpc:setCallback(state_changed)
    log.info("开始连接到推流服务器...")
    sys.wait(500)
    rtmpc:connect()
    log.info("rtmp", "开始推流...")
    rtmpc:start()
    sys.wait(6000)
    local s = rtmpc:getStats()
    log.info("stats", math.type(s.bytes_sent), s.bytes_sent > 100000, s.video_frames_sent > 60,
        s.audio_frames_sent, s.connection_time > 5000, rtmpc:getState())
    sys.wait(4500)
    log.info("DONE")
end)
sys.run()
`;

test('reference demo: camera configured like rtmp_app.lua → NMS gets 1280x720 15 fps, IDR every 30 frames', { timeout: 60_000 }, async () => {
  nms = await NmsServer.start();
  const r = await runLua(
    { 'main.lua': script },
    {
      engine: 'wasmoon',
      until: 'I/user.DONE',
      timeoutMs: 30_000,
      profile: { camera: { tag: TAG } },
      device: { network: mappedNetwork('video.test', nms.port) },
    },
  );
  const L = r.lines;
  assert.equal(r.timedOut, false, `script finished:\n${L.slice(-30).join('\n')}`);
  assert.ok(r.user.includes('I/user.摄像头初始化 0'), r.user.join('\n'));
  const initMs = Number(/I\/user\.init_ms (\d+)/.exec(r.user.join('\n'))?.[1]);
  assert.ok(initMs >= 300 && initMs <= 1500, `camera.init blocks the task like the device (${initMs} ms)`);

  // the device log's lines, in the device's order
  assertOrder(L, [
    'luat:I(', // anything
    'usb_driv:USB_DRV_USB_OPEN!',
    'uvc_stre:uvc_camera_device_power_on, port:1, device:0',
    'I/user.摄像头初始化 0',
    ':rtmp:RTMP上下文创建成功: rtmp://video.test:1935/live/demo',
    ':rtmp:RTMP回调函数已设置',
    'I/user.开始连接到推流服务器...',
    'luat:I(',
  ]);
  // binding + library lines around connect(), and the callback only after the task yielded
  assertOrder(L, [
    /luat:I\(\d+\):rtmp_push:RTMP: State changed from 0 to 1$/,
    /luat:D\(\d+\):rtmp:RTMP状态\(1\)回调消息入队 0x[0-9a-f]+ 0x[0-9a-f]+$/,
    ':rtmp:RTMP发起连接请求: 成功',
    'I/user.rtmp 开始推流...',
    'I/user.rtmp状态变化 1',
  ]);
  // the library's protocol lines (module rtmp_push, level I as on the device)
  assertOrder(L, [
    /luat:I\(\d+\):rtmp_push:RTMP: Sending handshake \(C0\+C1\)\.\.\./,
    /luat:I\(\d+\):rtmp_push:RTMP: State changed from 1 to 2$/,
    'RTMP状态(2)回调消息入队',
    /luat:I\(\d+\):rtmp_push:RTMP: Received complete S0\+S1 \(1537 bytes\), sending C2\.\.\./,
    /luat:I\(\d+\):rtmp_push:RTMP: C2 sent successfully \(exactly 1536 bytes, S1 echo\)$/,
    /luat:I\(\d+\):rtmp_push:RTMP: Received 1536 bytes after C2, handshake confirmed$/,
    /luat:I\(\d+\):rtmp_push:RTMP: command sent successfully: connect \(tx_id=1, payload_size=\d+ bytes\)/,
    'RTMP: Connect command sent successfully',
    /luat:I\(\d+\):rtmp_push:RTMP: Received Set Chunk Size from server: \d+$/,
    'RTMP: State changed from 2 to 3',
    'RTMP状态(3)回调消息入队',
    /luat:I\(\d+\):rtmp_push:RTMP: command sent successfully: releaseStream \(tx_id=2/,
    /luat:I\(\d+\):rtmp_push:RTMP: command sent successfully: FCPublish \(tx_id=3/,
    /luat:I\(\d+\):rtmp_push:RTMP: command sent successfully: createStream \(tx_id=4/,
    /luat:I\(\d+\):rtmp_push:RTMP: command sent successfully: publish \(tx_id=5/,
    /luat:I\(\d+\):rtmp_push:RTMP: Metadata payload size: \d+ bytes/,
    /luat:I\(\d+\):rtmp_push:RTMP: Metadata @setDataFrame sent successfully/,
    'RTMP: Metadata sent, ready to send video data',
    'RTMP: State changed from 3 to 4',
    'RTMP状态(4)回调消息入队',
    /luat:W\(\d+\):CAM:拍照\/录像到文件录 rtmp/,
    'CAM:选定的捕捉模式 6',
    'CAM:RTMP传输模式',
    'I/user.rtmp状态变化 4',
    /luat:I\(\d+\):rtmp_push:RTMP: Sending IDR frame, len=\d+/,
  ]);
  // the script's callback lines
  assertOrder(L, ['I/user.rtmp状态变化 1', 'I/user.rtmp状态变化 2', 'I/user.rtmp状态变化 3', 'I/user.rtmp状态变化 已连接到推流服务器', 'I/user.rtmp状态变化 4', 'I/user.rtmp状态变化 已开始推流']);
  // every log line exactly once where the device has it once
  assert.equal(L.filter((l) => l.includes('RTMP发起连接请求')).length, 1);
  assert.equal(L.filter((l) => l.includes('State changed from 3 to 4')).length, 1);
  // IDR lines every ≈2 s
  const idr = L.filter((l) => l.includes('Sending IDR frame'));
  assert.ok(idr.length >= 4, `IDR lines (${idr.length})`);
  const gaps = idr.slice(1).map((l, i) => lineMs(l) - lineMs(idr[i]));
  for (const g of gaps) assert.ok(g > 1500 && g < 2600, `IDR every ≈2 s (gap ${g} ms)`);
  // stats line ≈10 s after create, in the device layout
  const createMs = lineMs(L[lineIndex(L, 'RTMP上下文创建成功')]);
  const statsLine = L[lineIndex(L, 'RTMP stats:')];
  assert.ok(statsLine, 'a stats line');
  assert.match(statsLine, /luat:I\(\d+\):rtmp_push:RTMP stats: total=\d+ kB packets=\d+ I=\d+ \(\d+kB\) P=\d+ \(\d+kB\) dropped=\d+ \(\d+kB\) queue=\d+ avg=\d+ kbps win=\d+ kbps$/);
  const dt = lineMs(statsLine) - createMs;
  assert.ok(dt >= 9800 && dt <= 10600, `first stats line ≈10 s after create (${dt} ms)`);
  assert.equal(L.filter((l) => l.includes('RTMP stats:')).length, 1, 'stats printed once per period (no duplicate from the library)');
  // getStats
  assert.ok(r.user.includes('I/user.stats integer true true 0 true 4'), r.user.filter((u) => u.includes('stats')).join('\n'));

  // the recording
  await new Promise((res) => setTimeout(res, 300));
  const rec = readRecording(nms.flvFile('live', 'demo'));
  assert.ok(rec.frames.length >= 120, `frames recorded (${rec.frames.length})`);
  assert.equal(rec.seqHeaders, 1, 'one AVC sequence header');
  assert.deepEqual(rec.keyIndexes.slice(0, 5), [0, 30, 60, 90, 120], 'IDR every 30 frames');
  for (let i = 1; i < rec.frames.length; i++) assert.ok(rec.frames[i].timestamp > rec.frames[i - 1].timestamp, `timestamps increase at ${i}`);
  const span = rec.frames[rec.frames.length - 1].timestamp - rec.frames[0].timestamp;
  const fps = ((rec.frames.length - 1) * 1000) / span;
  assert.ok(Math.abs(fps - 15) < 0.3, `15 fps by timestamps (${fps.toFixed(2)})`);
  assert.equal(rec.meta?.width, 1280);
  assert.equal(rec.meta?.height, 720);
  assert.equal(rec.meta?.framerate, 15);
  assert.equal(rec.meta?.videocodecid, 7);
  const dec = await decodeWithFfmpeg(nms.flvFile('live', 'demo'));
  assert.equal(dec.width, 1280);
  assert.equal(dec.height, 720);
  assert.ok(dec.frames >= rec.frames.length - 1, `every frame decodes (${dec.frames}/${rec.frames.length})`);
  assert.deepEqual(dec.errors, [], 'no decoder errors');
  assert.equal(dec.keyframes, rec.keyIndexes.length);

  // the VM ended (runLua disposed the device): no encoder left
  await assertNoProcesses(TAG);
});
