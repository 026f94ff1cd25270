/**
 * The `camera` binding and the bundled `excamera` library on both engines, with the real ffmpeg
 * (testsrc): constants, config before init, init blocking a task ≈0.4 s (0 / false), main-chunk
 * and async forms, missing ffmpeg and missing device (with the demo's reboot-and-retry path),
 * capture to a file and to a zbuff firing "scanned", excamera, and no ffmpeg left behind.
 */
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runLua } from '../helpers/run-lua';
import { isJpeg } from '../../runtime/media/camera/ffmpeg-camera';
import { jpegSize, writeBusyFfmpeg } from '../camera/helpers';
import { assertNoProcesses } from './helpers';
import { readVfsFile } from '../../runtime/core/fs/sandbox';
import { tempDir } from '../helpers/tmp';

const engines = ['wasmoon', 'fengari'] as const;
/** the reference demo's camera.init with its reboot-and-retry error path (body of a task) */
const DEMO_INIT_OR_REBOOT = `    local result = camera.init({id = camera.USB, sensor_width = 1280, sensor_height = 720, usb_port = 1})
    log.info("摄像头初始化", result)
    if result ~= 0 then
        log.info("摄像头初始化失败, 5秒后重启设备, 进行重试")
        sys.wait(100)
        rtos.reboot()
    end
`;
const TAG = `luatos-media-camera-${process.pid}`;
const camProfile = (extra: Record<string, unknown> = {}) => ({ camera: { tag: TAG, ...extra } });

after(async () => {
  await assertNoProcesses(TAG);
});

for (const engine of engines) {
  test(`[${engine}] constants of luatos-api.md §12.1`, async () => {
    const r = await runLua(
      {
        'main.lua': `
local names = {"DVP","USB","AUTO","SCAN","ROTATE_0","ROTATE_90","ROTATE_180","ROTATE_270","CONF_H264_QP_INIT",
  "CONF_H264_QP_I_MAX","CONF_H264_QP_P_MAX","CONF_H264_IMB_BITS","CONF_H264_PMB_BITS","CONF_H264_PFRAME_NUMS",
  "CONF_H264_APPLY","CONF_PREVIEW_ENABLE","CONF_PREVIEW_ROTATE","CONF_UVC_FPS","CONF_LOG_LEVEL","CONF_UVC_FORMAT",
  "CONF_UVC_RESOLUTION","FORMAT_RAW","FORMAT_MJPG","FORMAT_H264"}
local out = {}
for _, n in ipairs(names) do out[#out + 1] = tostring(camera[n]) end
log.info("c", table.concat(out, " "))
log.info("DONE")
`,
      },
      { engine, until: 'I/user.DONE' },
    );
    assert.ok(r.user.includes('I/user.c 0 32 0 1 0 1 2 3 513 514 515 516 517 518 519 529 530 544 560 768 769 0 1 2'), r.user.join('\n'));
  });

  test(`[${engine}] config before init; init blocks the task ≈0.4 s and returns 0; start/stop/close`, async () => {
    const r = await runLua(
      {
        'main.lua': `
log.info("cfg", camera.config(0, camera.CONF_UVC_FPS, 15), camera.config(0, camera.CONF_H264_PFRAME_NUMS, 29),
    camera.config(0, 0x999, 1), camera.config(0, camera.CONF_UVC_FPS, 0))
log.info("before", camera.start(camera.USB), camera.capture(camera.USB, "/x.jpg"))
sys.taskInit(function()
    local t0 = mcu.ticks()
    local r = camera.init({id = camera.USB, sensor_width = 640, sensor_height = 360, usb_port = 1})
    log.info("init", r, math.type(r), mcu.ticks() - t0)
    log.info("ops", camera.start(camera.USB), camera.stop(camera.USB), camera.close(camera.USB), camera.close(camera.USB))
    local f = camera.init({id = camera.USB, sensor_width = 640, sensor_height = 360, async = 1})
    log.info("async", f.wait())
    log.info("bad size", camera.init({id = camera.USB, sensor_width = 641, sensor_height = 360}))
    log.info("DONE")
end)
log.info("main continues")
sys.run()
`,
      },
      { engine, until: 'I/user.DONE', profile: camProfile(), timeoutMs: 8000 },
    );
    const u = r.user;
    assert.ok(u.includes('I/user.cfg 0 0 -1 -1'), u.join('\n'));
    assert.ok(u.includes('I/user.before false false'), u.join('\n'));
    // the task was suspended: main.lua went on while init waited
    const initLine = u.find((l) => l.startsWith('I/user.init '));
    assert.ok(initLine, u.join('\n'));
    assert.ok(u.indexOf('I/user.main continues') < u.indexOf(initLine));
    const m = /^I\/user\.init 0 integer (\d+)$/.exec(initLine);
    assert.ok(m, initLine);
    assert.ok(Number(m[1]) >= 350 && Number(m[1]) < 2000, `init took ${m[1]} ms`);
    assert.ok(u.includes('I/user.ops true true true false'), u.join('\n'));
    assert.ok(u.includes('I/user.async 0'), u.join('\n'));
    assert.ok(u.includes('I/user.bad size false'), u.join('\n'));
    assert.ok(r.lines.some((l) => /luat:E\(\d+\):camera:camera init failed: bad sensor size 641x360/.test(l)));
  });

  test(`[${engine}] init from the main chunk returns at once; capture to a file and a zbuff fires "scanned"`, { timeout: 30_000 }, async () => {
    const r = await runLua(
      {
        'main.lua': `
local t0 = mcu.ticks()
local r = camera.init({id = camera.USB, sensor_width = 320, sensor_height = 240, usb_port = 1})
log.info("init", r, mcu.ticks() - t0 < 300)
local buff = zbuff.create(1024)
camera.on(camera.USB, "scanned", function(id, ev)
    log.info("scanned", id, ev)
    if type(ev) == "number" then
        log.info("zbuff", buff:used() == ev, buff[0] == 0xFF, buff[1] == 0xD8)
        log.info("DONE")
    else
        log.info("zbuff start", camera.capture(camera.USB, buff, 80))
    end
end)
log.info("capture", camera.capture(camera.USB, "/ram/photo.jpg", 1))
log.info("readonly", camera.capture(camera.USB, "/luadb/x.jpg", 1))
sys.run()
`,
      },
      { engine, until: 'I/user.DONE', profile: camProfile(), timeoutMs: 20_000 },
    );
    const u = r.user;
    assert.ok(u.includes('I/user.init 0 true'), u.join('\n'));
    assert.ok(u.includes('I/user.capture true'), u.join('\n'));
    assert.ok(u.includes('I/user.readonly false'), u.join('\n'));
    assert.ok(u.includes('I/user.scanned 2 true'), u.join('\n'));
    assert.ok(u.includes('I/user.zbuff start true'), u.join('\n'));
    assert.ok(u.some((l) => /^I\/user\.scanned 2 \d+$/.test(l)), u.join('\n'));
    assert.ok(u.includes('I/user.zbuff true true true'), u.join('\n'));
    const jpeg = readVfsFile(r.device.vfs, '/ram/photo.jpg') as Buffer;
    assert.ok(jpeg, '/ram/photo.jpg exists on the in-memory mount');
    assert.ok(isJpeg(jpeg), 'a valid JPEG (SOI … EOI)');
    assert.deepEqual(jpegSize(jpeg), { width: 320, height: 240 });
  });

  test(`[${engine}] missing ffmpeg → init false with a log line naming every place searched`, async () => {
    const r = await runLua(
      {
        'main.lua': `
sys.taskInit(function()
    local r = camera.init({id = camera.USB, sensor_width = 1280, sensor_height = 720, usb_port = 1})
    log.info("摄像头初始化", r)
    log.info("DONE")
end)
sys.run()
`,
      },
      { engine, until: 'I/user.DONE', profile: camProfile({ locate: { skipPackages: true, env: { PATH: '' } } }) },
    );
    assert.ok(r.user.includes('I/user.摄像头初始化 false'), r.user.join('\n'));
    const e = r.lines.find((l) => /luat:E\(\d+\):camera:camera init failed: ffmpeg not found/.test(l));
    assert.ok(e, r.lines.join('\n'));
    for (const w of ['LUATOS_FFMPEG', 'ffmpeg-static', '@ffmpeg-installer/ffmpeg', 'PATH']) assert.ok(e.includes(w), `${w} named in: ${e}`);
  });

  test(`[${engine}] missing device v4l2:/dev/video99 → false, and the demo's reboot-and-retry path runs`, async () => {
    const r = await runLua(
      {
        'main.lua': `
sys.taskInit(function()
${DEMO_INIT_OR_REBOOT}end)
sys.run()
`,
      },
      { engine, reboot: 'restart', maxBoots: 2, timeoutMs: 8000, profile: camProfile({ source: 'v4l2:/dev/video99' }) },
    );
    assert.equal(r.stop?.kind, 'max-boots', `stopped after the retry: ${JSON.stringify(r.stop)}`);
    assert.equal(r.user.filter((l) => l === 'I/user.摄像头初始化 false').length, 2, r.user.join('\n'));
    assert.ok(r.lines.some((l) => /camera:camera init failed: camera device \/dev\/video99 does not exist/.test(l)), r.lines.join('\n'));
  });

  test(`[${engine}] busy USB camera (stand-in ffmpeg script answering "Device or resource busy": no camera on this machine) → init false after the probe; async form too; demo's retry path runs`, { skip: process.platform !== 'linux' && 'needs Linux (v4l2 source, sh script)' }, async () => {
    const dir = tempDir('luatos-busy-');
    const fake = writeBusyFfmpeg(path.join(dir, 'ffmpeg'));
    try {
      const r = await runLua(
        {
          'main.lua': `
sys.taskInit(function()
    local f = camera.init({id = camera.USB, sensor_width = 1280, sensor_height = 720, usb_port = 1, async = 1})
    log.info("async", f.wait())
    log.info("start after failed init", camera.start(camera.USB))
${DEMO_INIT_OR_REBOOT}end)
sys.run()
`,
        },
        // /dev/null passes the character-device check; the stand-in ffmpeg then reports "busy"
        { engine, reboot: 'restart', maxBoots: 2, timeoutMs: 10_000, profile: camProfile({ source: 'v4l2:/dev/null', ffmpeg: fake }) },
      );
      assert.equal(r.stop?.kind, 'max-boots', `stopped after the retry: ${JSON.stringify(r.stop)}`);
      assert.equal(r.user.filter((l) => l === 'I/user.async false').length, 2, r.user.join('\n'));
      assert.equal(r.user.filter((l) => l === 'I/user.start after failed init false').length, 2, r.user.join('\n'));
      assert.equal(r.user.filter((l) => l === 'I/user.摄像头初始化 false').length, 2, r.user.join('\n'));
      const busy = r.lines.filter((l) => /luat:E\(\d+\):camera:camera init failed: camera v4l2:\/dev\/null is busy \(Device or resource busy\): another program is using it/.test(l));
      assert.equal(busy.length, 4, r.lines.join('\n'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`[${engine}] a device that cannot capture (v4l2:/dev/null with the real ffmpeg) → init false naming the reason`, { skip: process.platform !== 'linux' && 'needs Linux (v4l2)' }, async () => {
    const r = await runLua(
      {
        'main.lua': `
sys.taskInit(function()
    log.info("init", camera.init({id = camera.USB, sensor_width = 640, sensor_height = 360, usb_port = 1}))
    log.info("DONE")
end)
sys.run()
`,
      },
      { engine, until: 'I/user.DONE', timeoutMs: 15_000, profile: camProfile({ source: 'v4l2:/dev/null' }) },
    );
    assert.ok(r.user.includes('I/user.init false'), r.user.join('\n'));
    assert.ok(r.lines.some((l) => /camera:camera init failed: camera v4l2:\/dev\/null is not a video capture device: .*Inappropriate ioctl/.test(l)), r.lines.join('\n'));
  });

  test(`[${engine}] excamera: open, photo, rtmp, close`, { timeout: 30_000 }, async () => {
    const r = await runLua(
      {
        'main.lua': `
local excamera = require "excamera"
sys.taskInit(function()
    log.info("open", excamera.open({id = camera.USB, sensor_width = 320, sensor_height = 240, usb_port = 1,
        fps = 10, h264_pframe_nums = 9, save_path = "/ex.jpg"}))
    log.info("again", excamera.open({id = camera.USB}))
    log.info("photo", excamera.photo())
    log.info("rtmp", excamera.rtmp())
    excamera.close()
    log.info("closed photo", excamera.photo())
    log.info("bad", excamera.open({id = camera.USB, sensor_width = 3, sensor_height = 2}))
    log.info("DONE")
end)
sys.run()
`,
      },
      { engine, until: 'I/user.DONE', profile: camProfile(), timeoutMs: 20_000 },
    );
    const u = r.user;
    assert.ok(u.includes('I/user.open true'), u.join('\n'));
    assert.ok(u.includes('I/user.again true'), u.join('\n'));
    assert.ok(u.includes('I/user.photo true /ex.jpg'), u.join('\n'));
    assert.ok(u.includes('I/user.excamera.rtmp 摄像头启动成功'), u.join('\n'));
    assert.ok(u.includes('I/user.rtmp true'), u.join('\n'));
    assert.ok(u.includes('I/user.closed photo false'), u.join('\n'));
    assert.ok(u.includes('E/user.excamera.open USB摄像头初始化失败，请确认软硬件配置'), u.join('\n'));
    assert.ok(u.includes('I/user.bad false'), u.join('\n'));
    assert.ok(isJpeg(fs.readFileSync(r.device.vfs.resolve('/ex.jpg').host as string)));
  });
}
