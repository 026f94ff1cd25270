/**
 * The `rtmp` binding's Lua surface on both engines: constants (Jan 2026 numbering), create/nil/
 * raise, methods, getStats fields, callback order and arguments through the event loop, callback
 * errors ending the VM, a refused connection (real closed port), the device network (a Wi-Fi
 * model whose link is down; a mapped host name).
 */
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { runLua } from '../helpers/run-lua';
import { freePort } from '../rtmp/helpers/net-util';
import { NmsServer } from '../rtmp/helpers/servers';
import { WifiNetwork } from '../../runtime/net/model';
import { DirectNetwork } from '../../runtime/net/direct';
import { assertOrder, mappedNetwork, readRecording } from './helpers';
import { deviceMedia } from '../../luatos-api/shared/media-hub';
import { makeH264 } from '../rtmp/helpers/h264-source';
import { waitFor } from '../rtmp/helpers/net-util';
import type { Device } from '../../runtime/core/device';

const engines = ['wasmoon', 'fengari'] as const;
let nms: NmsServer | undefined;
after(async () => {
  await nms?.stop();
});

for (const engine of engines) {
  test(`[${engine}] constants, create, methods, getStats fields, destroy`, async () => {
    const r = await runLua(
      {
        'main.lua': `
log.info("consts", rtmp.STATE_IDLE, rtmp.STATE_CONNECTING, rtmp.STATE_HANDSHAKING, rtmp.STATE_CONNECTED,
    rtmp.STATE_PUBLISHING, rtmp.STATE_DISCONNECTING, rtmp.STATE_ERROR, rtmp.STATE_DISCONNECTED)
log.info("bad", rtmp.create("http://x/a/b"), rtmp.create("rtmp://host/onlyapp"))
log.info("nil", pcall(rtmp.create))
local c = rtmp.create("rtmp://127.0.0.1:1/live/x?k=v", socket.LWIP_STA)
log.info("type", type(c), tostring(c):match("^rtmp_ctx") ~= nil)
local s = c:getStats()
local keys = {}
for k, v in pairs(s) do keys[#keys + 1] = k .. "=" .. tostring(v) end
table.sort(keys)
log.info("stats", table.concat(keys, ","))
log.info("state", c:getState(), c:setCallback(123), c:setCallback(nil), c:setCallback(function() end), c:disconnect(), c:stop())
log.info("self", pcall(c.getState, 5))
c:destroy()
log.info("after", c:getState(), c:connect(), c:start(), c:disconnect())
c = nil
collectgarbage()
log.info("DONE")
`,
      },
      { engine, until: 'I/user.DONE' },
    );
    const u = r.user;
    assert.ok(u.includes('I/user.consts 0 1 2 3 4 5 6 nil'), u.join('\n'));
    assert.ok(u.includes('I/user.bad nil nil'), u.join('\n'));
    assert.ok(u.some((l) => l.startsWith("I/user.nil false bad argument #1 to 'create' (string expected, got no value)")), u.join('\n'));
    assert.ok(u.includes('I/user.type userdata true'), u.join('\n'));
    assert.ok(u.includes('I/user.stats audio_frames_sent=0,bytes_sent=0,connection_time=0,video_frames_sent=0'), u.join('\n'));
    assert.ok(u.includes('I/user.state 0 false true true false false'), u.join('\n'));
    assert.ok(u.some((l) => /^I\/user\.self false bad argument #1 to 'getState' \(rtmp_ctx expected, got number\)/.test(l)), u.join('\n'));
    assert.ok(u.includes('I/user.after 0 false false false'), u.join('\n'));
    assert.ok(r.lines.some((l) => l.includes(':rtmp:RTMP上下文创建成功: rtmp://127.0.0.1:1/live/x?k=v')));
    assert.ok(r.lines.some((l) => /luat:E\(\d+\):rtmp:RTMP URL解析失败: http:\/\/x\/a\/b/.test(l)));
    assertOrder(r.lines, [':rtmp:RTMP回调函数已清除', ':rtmp:RTMP回调函数已设置']);
  });

  test(`[${engine}] refused connection: callback after the task yields, 1 → 0 → 6 with code -4 and reason`, async () => {
    const port = await freePort();
    const r = await runLua(
      {
        'main.lua': `
sys.taskInit(function()
    local c = rtmp.create("rtmp://127.0.0.1:${port}/live/x")
    c:setCallback(function(state, code, reason)
        log.info("cb", state, code, type(reason), reason and reason:find("ECONNREFUSED") ~= nil)
    end)
    log.info("connect", c:connect())
    log.info("rtmp", "开始推流...")
    c:start()
    sys.wait(1500)
    log.info("final", c:getState(), c:connect())
    sys.wait(1000)
    log.info("DONE")
end)
sys.run()
`,
      },
      { engine, until: 'I/user.DONE', device: { network: new DirectNetwork() } },
    );
    assertOrder(r.lines, [
      'RTMP: State changed from 0 to 1',
      'RTMP状态(1)回调消息入队',
      'RTMP发起连接请求: 成功',
      'I/user.connect true',
      'I/user.rtmp 开始推流...',
      'I/user.cb 1 nil nil nil',
      'I/user.cb 0 -4 string true',
      'I/user.cb 6 -4 string true',
      'I/user.final 6 true',
      'I/user.cb 1 nil nil nil',
      'I/user.cb 0 -4 string true',
      'I/user.cb 6 -4 string true',
    ]);
    assert.ok(r.lines.some((l) => /luat:E\(\d+\):rtmp_push:RTMP: TCP connect to 127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/.test(l)));
    assert.equal(r.user.filter((l) => l.startsWith('I/user.cb')).length, 6, 'no extra callbacks (no 5: no TCP connection existed)');
  });

  test(`[${engine}] an error in the state callback ends the VM (unprotected, as on the device)`, async () => {
    const port = await freePort();
    const r = await runLua(
      {
        'main.lua': `
local c = rtmp.create("rtmp://127.0.0.1:${port}/live/x")
c:setCallback(function(state) if state == 1 then error("callback boom") end end)
c:connect()
sys.run()
`,
      },
      { engine, timeoutMs: 5000, device: { network: new DirectNetwork() } },
    );
    assert.equal(r.timedOut, false);
    assert.equal(r.stop?.exit?.kind, 'error');
    assert.match(r.stop?.exit?.message ?? '', /callback boom/);
    assert.ok(r.lines.some((l) => l.includes('Lua VM exit!!')));
  });

  test(`[${engine}] connect goes through the device network: link down → ERROR -4 with the model's reason`, async () => {
    const r = await runLua(
      {
        'main.lua': `
sys.taskInit(function()
    local c = rtmp.create("rtmp://video.example.com/live/x")
    c:setCallback(function(state, code, reason) log.info("cb", state, code, reason) end)
    c:connect()
    sys.wait(800)
    log.info("DONE", c:getState())
end)
sys.run()
`,
      },
      { engine, until: 'I/user.DONE', device: { network: new WifiNetwork() } },
    );
    assert.ok(r.user.includes('I/user.DONE 6'), r.user.join('\n'));
    const cb6 = r.user.find((l) => l.startsWith('I/user.cb 6 -4 '));
    assert.ok(cb6 && /not ready|link|down/i.test(cb6), r.user.join('\n'));
  });
}

test('[fengari] publishes to NMS through a mapped host name (fast path on the second engine)', { timeout: 30_000 }, async () => {
  nms = await NmsServer.start();
  const r = await runLua(
    {
      'main.lua': `
sys.taskInit(function()
    local c = rtmp.create("rtmp://media.test:1935/app/fengari")
    c:setCallback(function(state) log.info("cb", state) end)
    c:connect()
    c:start()
    sys.waitUntil("NEVER", 3000)
    log.info("stats", c:getState(), c:getStats().bytes_sent > 3000)
    log.info("stop", c:stop(), c:getState())
    sys.wait(300)
    log.info("disc", c:disconnect())
    sys.wait(300)
    log.info("DONE", c:getState())
end)
sys.run()
`,
    },
    { engine: 'fengari', until: 'I/user.DONE', timeoutMs: 15_000, device: { network: mappedNetwork('media.test', nms.port) } },
  );
  assertOrder(r.user, ['I/user.cb 1', 'I/user.cb 2', 'I/user.cb 3', 'I/user.cb 4', 'I/user.stats 4 true', 'I/user.stop true 3', 'I/user.cb 3', 'I/user.disc true', 'I/user.cb 5', 'I/user.cb 0', 'I/user.DONE 0']);
  assert.ok(nms.events.some((e) => e.ev === 'publish' && e.path === '/app/fengari'));
  // no camera initialised: the CAM lines appear and the hub says why no camera frames flow
  assert.ok(r.lines.some((l) => l.includes('CAM:RTMP传输模式')));
  assert.ok(r.lines.some((l) => l.includes('camera not initialised')));
});

test('[wasmoon] frames from any source: deviceMedia(vm).feed() into the Lua-created publisher, metadata from setStreamInfo', { timeout: 30_000 }, async () => {
  const server = await NmsServer.start();
  try {
    const clip = makeH264({ width: 320, height: 240, fps: 25, seconds: 2, gop: 25 });
    let dev: Device | undefined;
    let earlyFeed: number | undefined;
    const lines: string[] = [];
    const run = runLua(
      {
        'main.lua': `
sys.taskInit(function()
    local c = rtmp.create("rtmp://feed.test/live/fed")
    c:setCallback(function(state) log.info("cb", state) end)
    c:connect()
    c:start()
    sys.waitUntil("FED")
    sys.wait(300)
    log.info("DONE", c:getStats().video_frames_sent)
end)
sys.run()
`,
      },
      {
        engine: 'wasmoon',
        until: 'I/user.DONE',
        timeoutMs: 20_000,
        device: { network: mappedNetwork('feed.test', server.port) },
        onDevice: (d) => {
          dev = d;
          d.logSink.on((_r, t) => lines.push(t));
          d.on('boot', () => {
            const hub = deviceMedia(d.vm!);
            hub.setStreamInfo({ width: 320, height: 240, framerate: 25, videodatarate: 300, videocodecid: 7 });
            // checked at boot: later the publisher may already be up (connect takes ~5 ms)
            earlyFeed = hub.feed(clip.frames[0]);
          });
        },
      },
    );
    await waitFor(() => !!dev?.vm, 5000, 'vm');
    const hub = deviceMedia(dev!.vm!);
    assert.equal(earlyFeed, -1, 'nothing publishing yet → -1');
    await waitFor(() => lines.some((l) => l.includes('I/user.cb 4')), 10_000, 'PUBLISHING');
    // in real time (by dts), as an encoder would deliver them
    const t0 = Date.now();
    for (const f of clip.frames) {
      const wait = t0 + f.dts - Date.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      assert.equal(hub.feed(f), 0);
    }
    dev!.vm!.publish('FED');
    const r = await run;
    assert.ok(r.user.includes(`I/user.DONE ${clip.frames.length}`), r.user.join('\n'));
    await new Promise((res) => setTimeout(res, 300));
    const rec = readRecording(server.flvFile('live', 'fed'));
    assert.equal(rec.frames.length, clip.frames.length, 'every fed frame recorded');
    assert.equal(rec.meta?.width, 320);
    assert.equal(rec.meta?.framerate, 25);
  } finally {
    await server.stop();
  }
});
