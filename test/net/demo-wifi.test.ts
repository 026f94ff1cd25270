/**
 * The project's demo/netdrv_wifi.lua (with a tiny main.lua) joins Wi-Fi through exnetif and
 * prints the same user lines as the reference device log, with the firmware's wlan/net lines
 * before them and realistic timing (association ≈1 s + DHCP ≈0.5 s).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { WifiNetwork } from '../../runtime/net/model';
import { demoScript, ENGINES, findRec, REF_NET, runNet } from './net-helpers';

const MAIN = `
PROJECT = "nettest"
VERSION = "001.000.000"
sys.taskInit(function()
  while not socket.adapter(socket.dft()) do
    log.warn("wait IP_READY", socket.dft())
    sys.waitUntil("IP_READY", 1000)
  end
  log.info("ready", wlan.ready(), type(dnsproxy), type(dhcpsrv), type(httpdns), netdrv.mac(socket.LWIP_STA))
  sys.wait(50)
  log.info("DONE")
end)
require "netdrv_wifi"
log.info("after", socket.dft())
sys.run()
`;

for (const engine of ENGINES) {
  test(`demo netdrv_wifi reaches IP_READY with the reference user lines (${engine})`, async () => {
    const model = new WifiNetwork(REF_NET);
    const r = await runNet({ 'main.lua': MAIN, 'netdrv_wifi.lua': demoScript('netdrv_wifi.lua') }, model, { engine, until: 'I/user.DONE', timeoutMs: 8000 });
    assert.equal(r.timedOut, false, r.lines.join('\n'));
    const u = r.user.filter((x) => !x.startsWith('W/user.wait IP_READY'));
    assert.deepEqual(u.slice(0, 6), [
      'I/user.WiFi名称: 茶室-降功耗,找合宙!',
      'I/user.密码     : HZ88888888',
      'I/user.ping_ip  : nil',
      'I/user.WiFi STA初始化完成',
      'I/user.netdrv 订阅socket连接状态变化事件 WiFi',
      'I/user.after 2 3',
    ]);
    // the three IP_READY subscribers run in sys.lua's subscriber-table (hash) order, which is
    // not fixed (the device log shows netdrv_wifi, dnsproxy, then the waiting task)
    assert.deepEqual([...u.slice(6, 9)].sort(), [
      'I/user.dnsproxy 开始监听',
      'I/user.netdrv_wifi.ip_ready_func IP_READY 192.168.31.234 255.255.255.0 192.168.31.1 nil',
      'I/user.ready true table table table C8C2C68C5DEA',
    ]);
    assert.deepEqual(u.slice(9), ['I/user.DONE']);
    // the task started before netdrv_wifi was loaded waited for the network
    assert.ok(r.user.includes('W/user.wait IP_READY 2 3'), r.user.join('\n'));

    // firmware lines in the device's order, before the script's handler output
    const rec = r.records;
    const seq = [
      'wlan:event_module 1 event_id 2',
      'wlan:STA connected 茶室-降功耗,找合宙! ',
      'wlan:event_module 2 event_id 0',
      'wlan:ipv4 got!! 192.168.31.234',
      'net:network ready 2, setup dns server',
      'wlan:sta ip 192.168.31.234',
      'net:设置DNS服务器 id 2 index 0 ip 223.5.5.5',
      'net:设置DNS服务器 id 2 index 1 ip 114.114.114.114',
      'I/user.netdrv_wifi.ip_ready_func IP_READY 192.168.31.234 255.255.255.0 192.168.31.1 nil',
    ];
    let at = 0;
    for (const s of seq) {
      const i = findRec(rec, s, at);
      assert.ok(i >= at, `missing or out of order: ${s}\n${r.lines.join('\n')}`);
      at = i + 1;
    }
    assert.ok(findRec(rec, 'I/user.dnsproxy 开始监听') > findRec(rec, 'wlan:sta ip 192.168.31.234'));
    assert.equal(rec[findRec(rec, 'wlan:STA connected 茶室-降功耗,找合宙! ')].kind, 'D');
    assert.equal(rec[findRec(rec, 'net:设置DNS服务器 id 2 index 0 ip 223.5.5.5')].kind, 'D');

    // timing: association ≈1 s, then DHCP ≈0.5 s
    const t0 = rec[findRec(rec, 'I/user.WiFi STA初始化完成')].ms;
    const tConn = rec[findRec(rec, 'wlan:STA connected 茶室-降功耗,找合宙! ')].ms;
    const tIp = rec[findRec(rec, 'wlan:ipv4 got!! 192.168.31.234')].ms;
    assert.ok(tConn - t0 >= 950 && tConn - t0 < 2500, `association took ${tConn - t0} ms`);
    assert.ok(tIp - tConn >= 450 && tIp - tConn < 1500, `DHCP took ${tIp - tConn} ms`);
  });

  test(`dnsproxy logs 开始监听 on every IP_READY, also when published by a script (${engine})`, async () => {
    const model = new WifiNetwork({ ...REF_NET, timing: { assocMs: 50, dhcpMs: 20 } });
    const src = `
      require "exnetif"
      log.info("globals", type(dnsproxy), type(dhcpsrv), type(httpdns), type(udpsrv))
      sys.taskInit(function()
        sys.publish("IP_READY", "1.2.3.4", socket.LWIP_AP)
        sys.wait(20)
        log.info("DONE")
      end)
      sys.run()
    `;
    const r = await runNet({ 'main.lua': src }, model, { engine, until: 'I/user.DONE' });
    assert.deepEqual(r.user, ['I/user.globals table table table nil', 'I/user.dnsproxy 开始监听', 'I/user.DONE']);
  });
}
