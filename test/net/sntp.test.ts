/**
 * socket.sntp in both modes: `host` (the host clock after a short delay) and `real` (NTP over
 * UDP, here against a tiny NTP server on 127.0.0.1 reached through host mapping), plus the
 * NTP_ERROR path when no server answers and the `sntp is running` guard.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { WifiNetwork } from '../../runtime/net/model';
import { parseMapRule } from '../../runtime/net/direct';
import { NTP_UNIX_OFFSET } from '../../runtime/net/ntp';
import { ENGINES, FAST, findRec, REF_NET, runNet } from './net-helpers';

const T2030 = 1893456000; // 2030-01-01T00:00:00Z

async function ntpServer(answer: boolean): Promise<{ port: number; hits: () => number; close: () => void }> {
  const s = dgram.createSocket('udp4');
  let hits = 0;
  s.on('message', (msg, rinfo) => {
    hits++;
    if (!answer || msg.length < 48 || msg[0] !== 0x1b) return;
    const r = Buffer.alloc(48);
    r[0] = 0x24; // LI 0, VN 4, mode 4 (server)
    r[1] = 1; // stratum
    msg.copy(r, 24, 40, 48); // originate = the client's transmit
    r.writeUInt32BE(T2030 + NTP_UNIX_OFFSET, 32); // receive
    r.writeUInt32BE(T2030 + NTP_UNIX_OFFSET, 40); // transmit
    s.send(r, rinfo.port, rinfo.address);
  });
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return { port: s.address().port, hits: () => hits, close: () => s.close() };
}

const SCRIPT = (after: string) => `
sys.subscribe("NTP_UPDATE", function(...) log.info("NTP_UPDATE", select("#", ...), ...) end)
sys.subscribe("NTP_ERROR", function(...) log.info("NTP_ERROR", select("#", ...)) end)
sys.taskInit(function()
  log.info("before", socket.ntptm().vaild)
  sys.waitUntil("IP_READY", 5000)
  socket.sntp()
  socket.sntp()
  ${after}
end)
wlan.connect("lab", "pw")
sys.run()
`;

for (const engine of ENGINES) {
  test(`sntp host mode: sntp lines, NTP_UPDATE(0), ntptm synced (${engine})`, async () => {
    const model = new WifiNetwork({ ...REF_NET, timing: { ...FAST, sntpHostMs: 200 } });
    const src = SCRIPT(`
      local ok = sys.waitUntil("NTP_UPDATE", 3000)
      local t = socket.ntptm()
      log.info("tm", ok, t.vaild, math.type(t.tsec), t.tms >= 0 and t.tms < 1000, t.ndelay >= 0, t.ssec > 0, t.lsec >= 0)
      log.info("tsec", t.tsec)
      log.info("DONE")`);
    const before = Math.floor(Date.now() / 1000);
    const r = await runNet({ 'main.lua': src }, model, { engine, until: 'I/user.DONE' });
    assert.equal(r.timedOut, false, r.lines.join('\n'));
    // NTP_UPDATE reaches a subscriber and a waiting task: their order is sys's choice
    assert.equal(r.user[0], 'I/user.before false');
    assert.ok(r.user.includes('I/user.NTP_UPDATE 1 0'), r.user.join('\n'));
    assert.ok(r.user.includes('I/user.tm true true integer true true true true'), r.user.join('\n'));
    const tsec = Number((r.user.find((u) => u.startsWith('I/user.tsec ')) as string).split(' ')[1]);
    assert.ok(Math.abs(tsec - before) <= 3, `tsec ${tsec} vs ${before}`);
    const q = findRec(r.records, 'sntp:query ntp.aliyun.com');
    const u = findRec(r.records, /^sntp:Unix timestamp: \d+$/);
    assert.ok(q >= 0 && u > q, r.lines.join('\n'));
    assert.ok(findRec(r.records, 'sntp:sntp is running') > q);
    const ts = Number(r.records[u].payload.toString().split(': ')[1]);
    assert.ok(Math.abs(ts - before) <= 3);
    const dt = r.records[u].ms - r.records[q].ms;
    assert.ok(dt >= 180 && dt < 1000, `query → timestamp took ${dt} ms`);
  });

  test(`sntp real mode: NTP over UDP to a mapped local server sets the clock (${engine})`, async () => {
    const srv = await ntpServer(true);
    const model = new WifiNetwork({ ...REF_NET, sntp: 'real', timing: FAST, rules: [parseMapRule(`ntp.aliyun.com=127.0.0.1:${srv.port}`)] });
    const src = SCRIPT(`
      local ok = sys.waitUntil("NTP_UPDATE", 3000)
      local t = socket.ntptm()
      log.info("tm", ok, t.vaild, t.tsec)
      log.info("DONE")`);
    const r = await runNet({ 'main.lua': src }, model, { engine, until: 'I/user.DONE' });
    srv.close();
    assert.equal(r.timedOut, false, r.lines.join('\n'));
    assert.ok(r.user.includes('I/user.NTP_UPDATE 1 0'), r.user.join('\n'));
    const tmLine = r.user.find((u) => u.startsWith('I/user.tm ')) ?? '';
    const m = /^I\/user\.tm true true (\d+)$/.exec(tmLine);
    assert.ok(m && Math.abs(Number(m[1]) - T2030) <= 1, tmLine);
    assert.ok(findRec(r.records, `sntp:Unix timestamp: ${T2030}`) >= 0, r.lines.join('\n'));
    assert.ok(findRec(r.records, 'DNS:ntp.aliyun.com state 0 id 1 ipv6 0 use dns server0, try 0') >= 0);
    assert.ok(findRec(r.records, `net:adapter 2 connect 127.0.0.1:${srv.port} UDP`) >= 0);
    assert.equal(srv.hits(), 1);
    // the device clock took the server's time
    assert.ok(Math.abs(r.device.clock.wallNow() / 1000 - T2030) < 5);
  });

  test(`sntp real mode: no server answers → NTP_ERROR after trying all three (${engine})`, async () => {
    const srv = await ntpServer(false);
    const rules = ['ntp.aliyun.com', 'ntp.ntsc.ac.cn', 'time1.cloud.tencent.com'].map((h) => parseMapRule(`${h}=127.0.0.1:${srv.port}`));
    const model = new WifiNetwork({ ...REF_NET, sntp: 'real', timing: { ...FAST, ntpTimeoutMs: 150 }, rules });
    const src = SCRIPT(`
      local ok = sys.waitUntil("NTP_ERROR", 3000)
      log.info("err", ok, socket.ntptm().vaild)
      log.info("DONE")`);
    const r = await runNet({ 'main.lua': src }, model, { engine, until: 'I/user.DONE' });
    srv.close();
    assert.equal(r.user[0], 'I/user.before false');
    assert.deepEqual([...r.user].sort(), ['I/user.DONE', 'I/user.NTP_ERROR 0', 'I/user.before false', 'I/user.err true false']);
    for (const h of ['ntp.aliyun.com', 'ntp.ntsc.ac.cn', 'time1.cloud.tencent.com']) assert.ok(findRec(r.records, `sntp:query ${h}`) >= 0, h);
    assert.equal(srv.hits(), 3);
  });
}
