/**
 * The Wi-Fi station model through the Lua API on both engines: wrong password, unknown SSID,
 * link drop mid-run (IP_LOSE, an open TCP connection is closed, new ones fail), reconnection,
 * scan, reboot, and the socket/netdrv/wlan surface.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { WifiNetwork } from '../../runtime/net/model';
import { parseMapRule } from '../../runtime/net/direct';
import { NetError } from '../../runtime/net/types';
import { ENGINES, FAST, findRec, REF_NET, runNet } from './net-helpers';

const STA_LOG = `
sys.subscribe("WLAN_STA_INC", function(evt, a, b)
  if evt == "CONNECTED" then log.info("sta", evt, a, #b) else log.info("sta", evt, a) end
end)
`;

for (const engine of ENGINES) {
  test(`wrong password: DISCONNECTED 258, retried, never IP_READY (${engine})`, async () => {
    const model = new WifiNetwork({ ...REF_NET, timing: FAST, aps: [{ ssid: 'lab', password: 'secret' }] });
    const src = `${STA_LOG}
      local n = 0
      sys.subscribe("IP_READY", function() log.info("UNEXPECTED IP_READY") end)
      sys.subscribe("WLAN_STA_INC", function(evt)
        if evt == "DISCONNECTED" then
          n = n + 1
          if n == 2 then wlan.disconnect(); sys.timerStart(function() log.info("DONE", wlan.ready(), socket.adapter(socket.LWIP_STA)) end, 300) end
        end
      end)
      log.info("connect", wlan.connect("lab", "wrong"))
      sys.run()
    `;
    const r = await runNet({ 'main.lua': src }, model, { engine, until: 'I/user.DONE', timeoutMs: 5000 });
    assert.deepEqual(r.user, ['I/user.connect true', 'I/user.sta DISCONNECTED 258', 'I/user.sta DISCONNECTED 258', 'I/user.DONE false false 2']);
    assert.ok(findRec(r.records, 'wlan:STA disconnected, reason 258') >= 0);
    assert.equal(findRec(r.records, /ipv4 got/), -1);
  });

  test(`unknown SSID: DISCONNECTED 257, no retry without auto-reconnect (${engine})`, async () => {
    const model = new WifiNetwork({ ...REF_NET, timing: FAST, aps: [{ ssid: 'lab', password: 'secret' }] });
    const src = `${STA_LOG}
      wlan.connect("elsewhere", "secret", 0)
      sys.timerStart(function() log.info("DONE", wlan.ready()) end, 600)
      sys.run()
    `;
    const r = await runNet({ 'main.lua': src }, model, { engine, until: 'I/user.DONE', timeoutMs: 5000 });
    assert.deepEqual(r.user, ['I/user.sta DISCONNECTED 257', 'I/user.DONE false']);
  });

  test(`link drop mid-run: IP_LOSE, open TCP closed, new ones refused, then reconnect (${engine})`, async () => {
    const server = net.createServer((s) => {
      s.on('data', (d) => s.write(d));
      s.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const serverClosed = new Promise<void>((resolve) => server.on('connection', (s) => s.on('close', () => resolve())));
    const model = new WifiNetwork({
      ...REF_NET,
      timing: FAST,
      aps: [{ ssid: 'lab', password: 'secret' }],
      rules: [parseMapRule(`video.luatos.com:10030=127.0.0.1:${port}`)],
    });
    let echoed = '';
    let clientClosed = false;
    let afterDrop: unknown = null;
    let jsDone: Promise<void> = Promise.resolve();
    const src = `${STA_LOG}
      netdrv.on(socket.LWIP_STA, netdrv.EVT_SOCKET, function(id, ev, p)
        log.info("sockev", id, ev, p.remote_ip, p.remote_port, p.proto)
      end)
      local n = 0
      sys.subscribe("IP_READY", function(ip, a)
        n = n + 1
        log.info("ready", n, ip, a)
        if n == 2 then sys.timerStart(function() log.info("DONE") end, 50) end
      end)
      sys.subscribe("IP_LOSE", function(a) log.info("lose", a, socket.adapter(a), wlan.ready()) end)
      wlan.init()
      wlan.connect("lab", "secret")
      sys.run()
    `;
    const r = await runNet({ 'main.lua': src }, model, {
      engine,
      until: 'I/user.DONE',
      timeoutMs: 6000,
      onDevice: (d) => {
        let first = true;
        d.logSink.on((_rec, text) => {
          if (!first || !text.includes('I/user.ready 1')) return;
          first = false;
          jsDone = (async () => {
            const s = await model.connectTcp({ host: 'video.luatos.com', port: 10030, owner: 'http' });
            s.on('error', () => undefined);
            s.write('ping');
            const [d1] = (await once(s, 'data')) as [Buffer];
            echoed = d1.toString();
            const closed = once(s, 'close');
            model.linkDown();
            await closed;
            clientClosed = true;
            try {
              await model.connectTcp({ host: 'video.luatos.com', port: 10030 });
            } catch (e) {
              afterDrop = e;
            }
            setTimeout(() => model.linkUp(), 100);
          })();
        });
      },
    });
    await jsDone;
    await serverClosed;
    server.close();
    assert.equal(r.timedOut, false, r.lines.join('\n'));
    assert.equal(echoed, 'ping');
    assert.equal(clientClosed, true);
    assert.ok(afterDrop instanceof NetError && afterDrop.kind === 'link-down', String(afterDrop));
    const u = r.user;
    const i = (s: string) => {
      const k = u.indexOf(s);
      assert.ok(k >= 0, `missing ${s}\n${u.join('\n')}`);
      return k;
    };
    const a = i('I/user.sta CONNECTED lab 6');
    const b = i('I/user.ready 1 192.168.31.234 2');
    const c = i(`I/user.sockev 2 connected 127.0.0.1 ${port} http`);
    const dd = i('I/user.sta DISCONNECTED 256');
    const e = i('I/user.lose 2 false false');
    const f = i('I/user.ready 2 192.168.31.234 2');
    assert.ok(a < b && b < c && c < dd && dd < e && e < f, u.join('\n'));
    assert.ok(u.includes(`I/user.sockev 2 connecting 127.0.0.1 ${port} http`));
    assert.ok(u.includes(`I/user.sockev 2 closed 127.0.0.1 ${port} http`));
    // the device's DNS and connect lines, with the address really used
    assert.ok(findRec(r.records, 'DNS:video.luatos.com state 0 id 1 ipv6 0 use dns server0, try 0') >= 0, r.lines.join('\n'));
    assert.ok(findRec(r.records, 'DNS:dns all done ,now stop') >= 0);
    assert.ok(findRec(r.records, `net:adapter 2 connect 127.0.0.1:${port} TCP`) >= 0);
  });

  test(`scan lists the virtual APs after WLAN_SCAN_DONE (${engine})`, async () => {
    const model = new WifiNetwork({
      ...REF_NET,
      timing: FAST,
      aps: [
        { ssid: 'cafe', password: '', rssi: -71, channel: 11 },
        { ssid: 'lab', password: 'secret', rssi: -40, channel: 6, bssid: 'AABBCCDDEE01' },
      ],
    });
    const src = `
      log.info("before", #wlan.scanResult())
      wlan.scan()
      sys.subscribe("WLAN_SCAN_DONE", function(...)
        log.info("done", select("#", ...))
        for _, ap in ipairs(wlan.scanResult()) do
          log.info("ap", ap.ssid, ap.bssid:toHex(), ap.channel, ap.rssi)
        end
        log.info("DONE")
      end)
      sys.run()
    `;
    const r = await runNet({ 'main.lua': src }, model, { engine, until: 'I/user.DONE' });
    assert.equal(r.user[0], 'I/user.before 0');
    assert.equal(r.user[1], 'I/user.done 0');
    assert.equal(r.user[2], 'I/user.ap lab AABBCCDDEE01 6 -40');
    assert.match(r.user[3], /^I\/user\.ap cafe [0-9A-F]{12} 11 -71$/);
  });

  test(`a reboot restarts the station: not connected until wlan.connect again (${engine})`, async () => {
    const model = new WifiNetwork({ ...REF_NET, timing: FAST });
    const src = `
      local boot = io and 0
      sys.subscribe("IP_READY", function(ip, a)
        log.info("ready", ip, a)
        if _G.SECOND then log.info("DONE") else rtos.reboot() end
      end)
      if fskv == nil then end
      local f = io.open("/booted", "r")
      if f then
        f:close()
        _G.SECOND = true
        log.info("boot2", wlan.ready(), socket.adapter(socket.LWIP_STA), socket.dft(), select("#", socket.localIP()))
        socket.dft(socket.LWIP_AP)
        log.info("dft", socket.dft())
      else
        local w = io.open("/booted", "w") w:write("1") w:close()
        socket.dft(socket.LWIP_AP)
      end
      wlan.connect("any", "thing")
      sys.run()
    `;
    const r = await runNet({ 'main.lua': src }, model, { engine, until: 'I/user.DONE', reboot: 'restart', maxBoots: 3, timeoutMs: 5000 });
    assert.equal(r.timedOut, false, r.lines.join('\n'));
    assert.deepEqual(r.user, [
      'I/user.ready 192.168.31.234 2',
      'I/user.boot2 false false 2 4',
      'I/user.dft 3 3',
      'I/user.ready 192.168.31.234 2',
      'I/user.DONE',
    ]);
  });

  test(`socket / netdrv / wlan surface before and after the link (${engine})`, async () => {
    const model = new WifiNetwork({ ...REF_NET, timing: FAST });
    const src = `
      local function n(...) return select("#", ...) end
      log.info("consts", socket.LWIP_GP, socket.LWIP_STA, socket.LWIP_AP, socket.LWIP_ETH, socket.LWIP_SPI,
        socket.LWIP_USER0, socket.LWIP_USER1, socket.LWIP_USER7, socket.LWIP_GP_GW, socket.ETH0, socket.LWIP_USB)
      log.info("events", socket.LINK, socket.ON_LINE, socket.TX_OK, socket.CLOSED, socket.EVENT)
      log.info("adapter", socket.adapter())
      log.info("adapter2", socket.adapter(socket.LWIP_STA))
      log.info("adapter99", socket.adapter(99))
      log.info("dft", socket.dft())
      log.info("localIP", socket.localIP(socket.LWIP_STA))
      log.info("localIP4", n(socket.localIP(socket.LWIP_ETH)))
      log.info("setDNS", socket.setDNS(socket.LWIP_ETH, 1, "1.1.1.1"), socket.setDNS(nil, 2, 0x0101A8C0))
      log.info("close_all", socket.close_all(socket.LWIP_STA), socket.close_all(99))
      log.info("create", type(socket.create(socket.LWIP_STA, function() end)), select("#", socket.connect({}, "1.2.3.4", 80)), select("#", socket.close(nil)))
      log.info("sntp_port", socket.sntp_port(), socket.sntp_port(1123), socket.sntp_port())
      log.info("ntptm", socket.ntptm().vaild)
      log.info("mac", netdrv.mac(socket.LWIP_STA), netdrv.mac(socket.LWIP_AP), netdrv.mac(socket.LWIP_ETH), n(netdrv.mac(socket.LWIP_STA, "abc")), #netdrv.mac(socket.LWIP_STA, nil, false))
      log.info("wlanmac", wlan.getMac(), wlan.getMac(1), #wlan.getMac(0, false), wlan.hostname())
      log.info("ipv4", netdrv.ipv4(socket.LWIP_STA))
      log.info("ready", netdrv.ready(socket.LWIP_STA), netdrv.link(socket.LWIP_STA), netdrv.ready(-1))
      log.info("wlan", wlan.init(), wlan.setMode(wlan.STATION), wlan.ready(), wlan.getIP(), n(wlan.connect()))
      log.info("wconst", wlan.NONE, wlan.STATION, wlan.AP, wlan.STATIONAP, wlan.PS_NONE, wlan.PS_MAX_MODEM, netdrv.EVT_SOCKET, netdrv.CTRL_UPDOWN, netdrv.RESET_SOFT)
      sys.subscribe("IP_READY", function(ip, a)
        log.info("after", wlan.ready(), wlan.getIP(), netdrv.link(socket.LWIP_STA), socket.adapter(socket.LWIP_STA))
        log.info("after2", socket.adapter())
        log.info("after3", netdrv.ready(-1))
        log.info("info", wlan.getInfo().gw, #wlan.getInfo().bssid)
        log.info("DONE")
      end)
      wlan.connect("any", "thing")
      sys.run()
    `;
    const r = await runNet({ 'main.lua': src }, model, { engine, until: 'I/user.DONE' });
    assert.deepEqual(r.user, [
      'I/user.consts 1 2 3 4 5 7 8 14 15 16 nil',
      `I/user.events ${0x2000010} ${0x2000011} ${0x2000012} ${0x2000013} ${0x2000014}`,
      'I/user.adapter false 20',
      'I/user.adapter2 false 2',
      'I/user.adapter99 false 20',
      'I/user.dft 2 3',
      'I/user.localIP 0.0.0.0 0.0.0.0 0.0.0.0 nil',
      'I/user.localIP4 0',
      'I/user.setDNS false true',
      'I/user.close_all true false',
      'I/user.create userdata 0 0',
      'I/user.sntp_port 123 1123 1123',
      'I/user.ntptm false',
      'I/user.mac C8C2C68C5DEA C8C2C68C5DEB 000000000000 0 6',
      'I/user.wlanmac C8C2C68C5DEA C8C2C68C5DEB 6 LUATOS_C8C2C68C5DEA',
      'I/user.ipv4 0.0.0.0 0.0.0.0 0.0.0.0',
      'I/user.ready false false false 0',
      'I/user.wlan true true false 0.0.0.0 0',
      'I/user.wconst 0 1 2 3 0 2 1 1 258',
      'I/user.after true 192.168.31.234 true true 2',
      'I/user.after2 true 2',
      'I/user.after3 true 4',
      'I/user.info 192.168.31.1 12',
      'I/user.DONE',
    ]);
    assert.ok(findRec(r.records, 'net:设置DNS服务器 id 2 index 1 ip 192.168.1.1') >= 0);
    assert.ok(findRec(r.records, 'socket:socket.connect: argument #1 is a table, not a socket ctrl') >= 0);
    assert.ok(findRec(r.records, 'wlan:ssid is emtry!!!') >= 0);
  });
}

for (const engine of ENGINES) {
  test(`AP password change drops the STA (256, IP_LOSE) and its retries fail with 258 (${engine})`, async () => {
    const model = new WifiNetwork({ ...REF_NET, timing: FAST, aps: [{ ssid: 'lab', password: 'old' }] });
    const src = `${STA_LOG}
      local fails = 0
      sys.subscribe("IP_READY", function(ip, a) log.info("ready", a) end)
      sys.subscribe("IP_LOSE", function(a) log.info("lose", a) end)
      sys.subscribe("WLAN_STA_INC", function(evt, r)
        if evt == "DISCONNECTED" and r == 258 then
          fails = fails + 1
          if fails == 1 then wlan.connect("lab", "new") end
        end
      end)
      sys.subscribe("IP_READY", function() if fails == 1 then log.info("DONE") end end)
      wlan.connect("lab", "old")
      sys.run()
    `;
    const r = await runNet({ 'main.lua': src }, model, {
      engine,
      until: 'I/user.DONE',
      timeoutMs: 5000,
      onDevice: (d) => {
        let done = false;
        d.logSink.on((_r, text) => {
          if (!done && text.includes('I/user.ready 2')) {
            done = true;
            setTimeout(() => model.setApPassword('lab', 'new'), 20);
          }
        });
      },
    });
    // the last IP_READY reaches a subscriber and a waiting task: their order is sys's choice
    assert.deepEqual(r.user.slice(0, 6), [
      'I/user.sta CONNECTED lab 6',
      'I/user.ready 2',
      'I/user.sta DISCONNECTED 256',
      'I/user.lose 2',
      'I/user.sta DISCONNECTED 258',
      'I/user.sta CONNECTED lab 6',
    ]);
    assert.deepEqual([...r.user.slice(6)].sort(), ['I/user.DONE', 'I/user.ready 2']);
  });

  test(`exnetif: empty list, multi-network mode logs what is unsupported (${engine})`, async () => {
    const model = new WifiNetwork({ ...REF_NET, timing: FAST });
    const src = `
      local exnetif = require "exnetif"
      log.info("empty", exnetif.set_priority_order({}))
      exnetif.notify_status(function(t, a) log.info("status", t, a) end)
      sys.taskInit(function()
        log.info("multi", exnetif.set_priority_order({
          { WIFI = { ssid = "lab", password = "pw", need_ping = false } },
          { ETHERNET = { pwrpin = 140 } },
          { LWIP_GP = true },
        }))
        log.info("proxy", exnetif.setproxy(socket.LWIP_AP, socket.LWIP_STA, {}))
        sys.waitUntil("IP_READY", 3000)
        sys.wait(1500)
        log.info("dft", socket.dft())
        log.info("DONE")
      end)
      sys.run()
    `;
    const r = await runNet({ 'main.lua': src }, model, { engine, until: 'I/user.DONE', timeoutMs: 6000 });
    const u = r.user;
    assert.ok(u.includes('E/user.网络配置为空'), u.join('\n'));
    assert.ok(u.includes('I/user.empty false'));
    assert.ok(u.some((x) => x.startsWith('W/user.exnetif luatos-pc: 多网络优先级模式仅部分支持')));
    assert.ok(u.includes('W/user.exnetif luatos-pc: ETHERNET (以太网) 不支持, 已跳过'));
    assert.ok(u.includes('W/user.exnetif luatos-pc: LWIP_GP (4G) 不支持, 已跳过'));
    assert.ok(u.includes('I/user.multi true'));
    assert.ok(u.some((x) => x.startsWith('W/user.exnetif luatos-pc: setproxy')));
    assert.ok(u.includes('I/user.WiFi配置了不需要ping，直接切换为CONNECTED状态'), u.join('\n'));
    assert.ok(u.includes('I/user.status WiFi 2'), u.join('\n'));
    assert.ok(u.includes('I/user.dft 2 3'));
  });
}
