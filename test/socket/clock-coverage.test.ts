/**
 * Two cross-cutting parts of the socket work:
 *  - the virtual clock holds (runs at wall speed) while a UDP socket or a listening socket is
 *    open, so a script's timeout does not expire before real traffic can arrive;
 *  - --coverage honesty: the socket functions count as implemented only now that they work,
 *    stubs count as missing, and modules of the firmware catalogue we lack are warned about
 *    once, by name.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { once } from 'node:events';
import { VirtualClock } from '../../runtime/core/clock';
import { WifiNetwork } from '../../runtime/net/model';
import { ENGINES, FAST, REF_NET } from '../net/net-helpers';
import { runSock } from './helpers';

for (const engine of ENGINES) {
  test(`virtual clock: a UDP answer 200 ms later (real time) beats a 5 s script timeout (${engine})`, async () => {
    const u = dgram.createSocket('udp4');
    u.on('message', (msg, rinfo) => setTimeout(() => u.send('late answer', rinfo.port, rinfo.address), 200));
    u.bind(0, '127.0.0.1');
    await once(u, 'listening');
    const src = `
      sysplus.taskInitEx(function()
        wlan.connect("lab", "pw")
        sys.waitUntil("IP_READY", 5000)
        local netc = socket.create(nil, "u")
        socket.config(netc, 0, true)
        socket.connect(netc, "127.0.0.1", ${u.address().port})
        sysplus.waitMsg("u", socket.ON_LINE, 2000)
        socket.tx(netc, "q")
        local t0 = mcu.ticks()
        socket.wait(netc)
        local m = sysplus.waitMsg("u", socket.EVENT, 5000)
        log.info("answer", type(m) == "table" and m[2], select(2, socket.read(netc)), mcu.ticks() - t0 < 4000)
        socket.close(netc)
        log.info("DONE")
      end, "u")
      sys.run()
    `;
    const r = await runSock({ 'main.lua': src }, new WifiNetwork({ ...REF_NET, timing: FAST }), { engine, until: 'I/user.DONE', timeoutMs: 8000, device: { clock: new VirtualClock() } });
    u.close();
    assert.deepEqual(r.user, ['I/user.answer 0 late answer true', 'I/user.DONE'], r.lines.join('\n'));
  });

  test(`virtual clock: a listening socket waits for a PC client connecting 300 ms later (${engine})`, async () => {
    let jsDone: Promise<void> = Promise.resolve();
    const src = `
      sysplus.taskInitEx(function()
        wlan.connect("lab", "pw")
        sys.waitUntil("IP_READY", 5000)
        local netc = socket.create(nil, "s")
        socket.config(netc, 8081)
        socket.listen(netc)
        local m = sysplus.waitMsg("s", socket.ON_LINE, 5000)
        log.info("client", type(m) == "table" and m[2])
        socket.close(netc)
        log.info("DONE")
      end, "s")
      sys.run()
    `;
    const r = await runSock({ 'main.lua': src }, new WifiNetwork({ ...REF_NET, timing: FAST, listen: { '*': 0 } }), {
      engine,
      until: 'I/user.DONE',
      timeoutMs: 8000,
      device: { clock: new VirtualClock() },
      onDevice: (d) =>
        d.logSink.on((_r, text) => {
          const m = /reachable from the PC at 127\.0\.0\.1:(\d+)/.exec(text);
          if (!m) return;
          jsDone = new Promise((resolve) =>
            setTimeout(() => {
              const c = net.connect(Number(m[1]), '127.0.0.1');
              c.on('error', () => undefined);
              c.on('close', () => resolve());
              c.on('connect', () => setTimeout(() => c.destroy(), 200));
            }, 300),
          );
        }),
    });
    await jsDone;
    assert.deepEqual(r.user, ['I/user.client 0', 'I/user.DONE'], r.lines.join('\n'));
  });

  test(`--coverage: socket functions implemented, stubs missing, absent firmware modules warned once by name (${engine})`, async () => {
    const src = `
      local netc = socket.create(socket.LWIP_STA, "t")
      socket.config(netc)
      socket.connect(netc, "127.0.0.1", 1)
      socket.tx(netc, "x")
      socket.close(netc)
      wlan.smartconfig()
      log.info("absent", iotauth, iotauth, ws2812, type(httpsrv))
      log.info("DONE")
    `;
    const r = await runSock({ 'main.lua': src }, new WifiNetwork({ ...REF_NET, timing: FAST }), { engine, until: 'I/user.DONE', device: { coverage: true } });
    const cov = r.device.coverage;
    assert.ok(cov);
    for (const f of ['socket.create', 'socket.config', 'socket.connect', 'socket.tx', 'socket.close']) assert.equal(cov.status(f), 'implemented', f);
    assert.equal(cov.status('wlan.smartconfig'), 'missing');
    assert.equal(cov.status('iotauth'), 'missing');
    assert.equal(cov.status('ws2812'), 'missing');
    assert.deepEqual(r.user, ['I/user.absent nil nil nil table', 'I/user.DONE']);
    const warns = r.lines.filter((l) => /is not implemented by this runtime/.test(l)).map((l) => l.slice(l.indexOf('luatos:')));
    assert.deepEqual(warns, ['luatos:iotauth is not implemented by this runtime', 'luatos:ws2812 is not implemented by this runtime']);
    assert.ok(!r.lines.some((l) => l.includes('not implemented yet')), 'no socket stub lines left');
  });
}
