/**
 * socket (luatos-api-2.md §2): the ctrl API against real servers on 127.0.0.1, through the Wi-Fi
 * model (host mapping, DNS lines, link loss), on both engines. Event values and orders are the
 * firmware's (§2.2); the expectations are written from the facts, not from our output.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { once } from 'node:events';
import { WifiNetwork } from '../../runtime/net/model';
import { parseMapRule } from '../../runtime/net/direct';
import { ENGINES, FAST, findRec, REF_NET } from '../net/net-helpers';
import { runSock, runSockWithPeer } from './helpers';

/** Lua: event names, and a task that brings the STA up before `body` runs */
const PRELUDE = `
local EVN = {}
EVN[socket.LINK] = "LINK"; EVN[socket.ON_LINE] = "ON_LINE"; EVN[socket.TX_OK] = "TX_OK"
EVN[socket.CLOSED] = "CLOSED"; EVN[socket.EVENT] = "EVENT"
function evname(e) return EVN[e] or tostring(e) end
function up()
  wlan.connect("lab", "pw")
  sys.waitUntil("IP_READY", 5000)
end
`;

async function tcpServer(onConn: (s: net.Socket) => void): Promise<{ port: number; close: () => void }> {
  const conns = new Set<net.Socket>();
  const server = net.createServer((s) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
    s.on('error', () => undefined);
    onConn(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const c of conns) c.destroy();
      server.close();
    },
  };
}

/** runLua's onDevice: the Wi-Fi link drops 20 ms after the script logs `LINKDOWN` */
function linkDownOnCue(m: WifiNetwork): (d: { logSink: { on(fn: (r: unknown, text: string) => void): unknown } }) => void {
  return (d) => {
    d.logSink.on((_r, text) => {
      if (text.includes('I/user.LINKDOWN')) setTimeout(() => m.linkDown(), 20);
    });
  };
}

function model(rules: string[] = []): WifiNetwork {
  return new WifiNetwork({ ...REF_NET, timing: FAST, rules: rules.map(parseMapRule), listen: { '*': 0 } });
}

for (const engine of ENGINES) {
  test(`TCP client, callback delivery: ON_LINE, TX_OK, EVENT, rx into a zbuff, discon → CLOSED (${engine})`, async () => {
    const srv = await tcpServer((s) => {
      s.on('data', (d) => s.write(d.toString().toUpperCase()));
      s.on('end', () => s.end());
    });
    const src = `${PRELUDE}
      sys.taskInit(function()
        up()
        local buf = zbuff.create(4)
        local netc
        netc = socket.create(socket.LWIP_STA, function(c, ev, p)
          log.info("ev", evname(ev), p, type(c), c ~= netc)
          if ev == socket.EVENT and p == 0 then
            local ok, n, ip, port = socket.rx(c, buf)
            log.info("rx", ok, n, ip, port, buf:used(), buf:toStr(0, buf:used()))
            log.info("rx again", socket.rx(c, buf))
            sys.publish("GOT")
          elseif ev == socket.ON_LINE then sys.publish("ONLINE", p)
          elseif ev == socket.CLOSED then sys.publish("CLOSED", p) end
        end)
        log.info("state0", socket.state(netc))
        log.info("config", socket.config(netc))
        log.info("connect", socket.connect(netc, "echo.test", 7000))
        log.info("state1", socket.state(netc))
        sys.waitUntil("ONLINE", 3000)
        log.info("state2", socket.state(netc))
        log.info("remoteIP", socket.remoteIP(netc))
        log.info("tx", socket.tx(netc, "hello device"))
        sys.waitUntil("GOT", 3000)
        log.info("discon", socket.discon(netc))
        sys.waitUntil("CLOSED", 3000)
        log.info("state3", socket.state(netc))
        log.info("tx closed", socket.tx(netc, "x"))
        log.info("rx closed", socket.rx(netc, buf))
        socket.close(netc)
        socket.release(netc)
        log.info("released", select("#", socket.state(netc)), select("#", socket.tx(netc, "x")))
        log.info("DONE")
      end)
      sys.run()
    `;
    const r = await runSock({ 'main.lua': src }, model([`echo.test:7000=127.0.0.1:${srv.port}`]), { engine, until: 'I/user.DONE', timeoutMs: 8000 });
    srv.close();
    assert.equal(r.timedOut, false, r.lines.join('\n'));
    assert.deepEqual(r.user, [
      'I/user.state0 1 离线',
      'I/user.config true',
      'I/user.connect true false',
      'I/user.state1 2 等待DNS',
      'I/user.ev ON_LINE 0 userdata true',
      'I/user.state2 5 在线',
      'I/user.remoteIP 127.0.0.1 nil nil nil',
      'I/user.tx true false false',
      'I/user.ev TX_OK 0 userdata true',
      'I/user.ev EVENT 0 userdata true',
      'I/user.rx true 12 nil nil 12 HELLO DEVICE',
      'I/user.rx again true 0',
      'I/user.discon true false',
      'I/user.ev CLOSED 0 userdata true',
      'I/user.state3 1 离线',
      'I/user.tx closed false true false',
      'I/user.rx closed false 0',
      'I/user.released 0 0',
      'I/user.DONE',
    ]);
    // the device's DNS and connect lines, with the mapped address
    assert.ok(findRec(r.records, 'DNS:echo.test state 0 id 1 ipv6 0 use dns server0, try 0') >= 0, r.lines.join('\n'));
    assert.ok(findRec(r.records, `net:adapter 2 connect 127.0.0.1:${srv.port} TCP`) >= 0, r.lines.join('\n'));
  });

  test(`TCP client, task-name delivery through sysplus.waitMsg; a server reset gives EVENT -1, no CLOSED (${engine})`, async () => {
    const srv = await tcpServer((s) => {
      s.once('data', () => {
        s.write('bye');
        setTimeout(() => s.resetAndDestroy(), 50);
      });
    });
    const src = `${PRELUDE}
      local function waitev(ev, ms)
        local m = sysplus.waitMsg("sockt", ev, ms)
        if type(m) == "table" then return evname(m[1]), m[2] end
        return m
      end
      sysplus.taskInitEx(function()
        up()
        local netc = socket.create(nil, "sockt")
        socket.config(netc, nil, false, false, 60, 10, 3)
        log.info("connect", socket.connect(netc, "127.0.0.1", ${srv.port}))
        log.info("online", waitev(socket.ON_LINE, 3000))
        log.info("tx", socket.tx(netc, "hi"))
        log.info("txok", waitev(socket.TX_OK, 3000))
        log.info("wait", socket.wait(netc))
        log.info("event", waitev(socket.EVENT, 3000))
        log.info("read", socket.read(netc))
        log.info("wait2", socket.wait(netc))
        log.info("event2", waitev(socket.EVENT, 3000))
        log.info("read2", socket.read(netc))
        log.info("closed?", waitev(socket.CLOSED, 300))
        socket.close(netc)
        log.info("DONE")
      end, "sockt")
      sys.run()
    `;
    const r = await runSock({ 'main.lua': src }, model(), { engine, until: 'I/user.DONE', timeoutMs: 8000 });
    srv.close();
    assert.equal(r.timedOut, false, r.lines.join('\n'));
    assert.deepEqual(r.user, [
      'I/user.connect true false',
      'I/user.online ON_LINE 0',
      'I/user.tx true false false',
      'I/user.txok TX_OK 0',
      'I/user.wait true false',
      'I/user.event EVENT 0',
      'I/user.read true bye',
      'I/user.wait2 true false',
      'I/user.event2 EVENT -1',
      'I/user.read2 false',
      'I/user.closed? nil',
      'I/user.DONE',
    ]);
  });

  test(`connect failures: refused port and unknown name give ON_LINE -1 and a log line (${engine})`, async () => {
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const dead = (probe.address() as net.AddressInfo).port;
    probe.close();
    const m = model();
    const src = `${PRELUDE}
      sys.taskInit(function()
        up()
        local netc = socket.create(nil, function(c, ev, p) log.info("ev", evname(ev), p); sys.publish("EV") end)
        log.info("connect", socket.connect(netc, "127.0.0.1", ${dead}))
        sys.waitUntil("EV", 3000)
        log.info("state", socket.state(netc))
        log.info("connect2", socket.connect(netc, "nowhere.invalid", 80))
        sys.waitUntil("EV", 3000)
        log.info("bad adapter", socket.create(99, "x"), socket.create(socket.LWIP_ETH, "x"))
        log.info("not a ctrl", select("#", socket.tx("abc", "data")), select("#", socket.rx(nil)))
        log.info("bad tx", pcall(socket.tx, netc, nil))
        log.info("bad rx", pcall(socket.rx, netc, "notazbuff"))
        log.info("DONE")
      end)
      sys.run()
    `;
    const r = await runSock({ 'main.lua': src }, m, {
      engine,
      until: 'I/user.DONE',
      timeoutMs: 8000,
      onDevice: () => m.failDns('nowhere.invalid'),
    });
    assert.equal(r.timedOut, false, r.lines.join('\n'));
    assert.deepEqual(r.user, [
      'I/user.connect true false',
      'I/user.ev ON_LINE -1',
      'I/user.state 1 离线',
      'I/user.connect2 true false',
      'I/user.ev ON_LINE -1',
      'I/user.bad adapter nil nil',
      'I/user.not a ctrl 0 0',
      "I/user.bad tx false bad argument #2 to 'tx' (ZBUFF* expected, got nil)",
      "I/user.bad rx false bad argument #2 to 'rx' (ZBUFF* expected, got string)",
      'I/user.DONE',
    ]);
    assert.ok(findRec(r.records, new RegExp(`^socket:connect 127\\.0\\.0\\.1:${dead} fail: `)) >= 0, r.lines.join('\n'));
    assert.ok(findRec(r.records, /^socket:connect nowhere\.invalid:80 fail: DNS lookup/) >= 0, r.lines.join('\n'));
    assert.ok(findRec(r.records, 'socket:socket.tx: argument #1 is a string, not a socket ctrl') >= 0);
    assert.ok(!r.lines.some((l) => /at .*\.js:\d+/.test(l)), 'no Node stack trace in the log');
  });

  test(`UDP client: tx to the connected peer, rx gives the binary address and port, limit truncates (${engine})`, async () => {
    const u = dgram.createSocket('udp4');
    u.on('message', (msg, rinfo) => {
      u.send(Buffer.concat([Buffer.from('echo:'), msg]), rinfo.port, rinfo.address);
      u.send(Buffer.from('0123456789'), rinfo.port, rinfo.address);
    });
    u.bind(0, '127.0.0.1');
    await once(u, 'listening');
    const port = u.address().port;
    const src = `${PRELUDE}
      sys.taskInit(function()
        up()
        local buf = zbuff.create(64)
        local n = 0
        local netc = socket.create(nil, function(c, ev, p)
          if ev == socket.EVENT then sys.publish("DATA") else log.info("ev", evname(ev), p) end
          if ev == socket.ON_LINE then sys.publish("ONLINE") end
        end)
        log.info("config", socket.config(netc, 0, true))
        log.info("connect", socket.connect(netc, "udp.test", 5683))
        sys.waitUntil("ONLINE", 3000)
        log.info("tx", socket.tx(netc, "ping"))
        local got = 0
        while got < 2 do
          sys.waitUntil("DATA", 3000)
          while true do
            local ok, len, ip, port = socket.rx(netc, buf, 0, got == 1 and 4 or nil)
            if not ok or len == 0 then break end
            got = got + 1
            log.info("rx", ok, len, ip and ip:toHex(), port == ${port}, buf:toStr(0, buf:used()))
            buf:seek(0)
            buf:del()
          end
        end
        socket.close(netc)
        log.info("DONE")
      end)
      sys.run()
    `;
    const r = await runSock({ 'main.lua': src }, model([`udp.test=127.0.0.1:${port}`]), { engine, until: 'I/user.DONE', timeoutMs: 8000 });
    u.close();
    assert.equal(r.timedOut, false, r.lines.join('\n'));
    assert.deepEqual(r.user, [
      'I/user.config true',
      'I/user.connect true false',
      'I/user.ev ON_LINE 0',
      'I/user.tx true false false',
      'I/user.ev TX_OK 0',
      'I/user.rx true 9 007F000001 true echo:ping',
      'I/user.rx true 4 007F000001 true 0123',
      'I/user.DONE',
    ]);
    assert.ok(findRec(r.records, `net:adapter 2 connect 127.0.0.1:${port} UDP`) >= 0, r.lines.join('\n'));
  });

  test(`link loss: an online TCP socket gets EVENT -1 when Wi-Fi drops (${engine})`, async () => {
    const srv = await tcpServer(() => undefined);
    const m = model();
    const src = `${PRELUDE}
      sys.taskInit(function()
        up()
        local netc = socket.create(nil, function(c, ev, p) log.info("ev", evname(ev), p); sys.publish("EV", ev) end)
        socket.connect(netc, "127.0.0.1", ${srv.port})
        sys.waitUntil("EV", 3000)
        log.info("wait", socket.wait(netc))
        log.info("LINKDOWN")
        sys.waitUntil("EV", 3000)
        log.info("state", socket.state(netc), socket.adapter(socket.LWIP_STA))
        log.info("connect down", socket.connect(netc, "127.0.0.1", ${srv.port}))
        log.info("state2", socket.state(netc))
        socket.close(netc)
        log.info("DONE")
      end)
      sys.run()
    `;
    const r = await runSock({ 'main.lua': src }, m, {
      engine,
      until: 'I/user.DONE',
      timeoutMs: 8000,
      onDevice: linkDownOnCue(m),
    });
    srv.close();
    assert.equal(r.timedOut, false, r.lines.join('\n'));
    assert.deepEqual(r.user, [
      'I/user.ev ON_LINE 0',
      'I/user.wait true false',
      'I/user.LINKDOWN',
      'I/user.ev EVENT -1',
      'I/user.state 1 false 2',
      'I/user.connect down true false',
      'I/user.state2 0 硬件离线',
      'I/user.DONE',
    ]);
  });
}

/** the host port from the listen log line */
function portFromLog(text: string): number | null {
  const m = /reachable from the PC at 127\.0\.0\.1:(\d+)/.exec(text);
  return m ? Number(m[1]) : null;
}

for (const engine of ENGINES) {
  test(`TCP server (single client): listen prints the PC port, a PC client talks to it, its close gives EVENT -1 (${engine})`, async () => {
    let reply = '';
    const src = `${PRELUDE}
      sysplus.taskInitEx(function()
        up()
        local netc = socket.create(nil, "srv")
        log.info("config", socket.config(netc, 8080))
        log.info("listen", socket.listen(netc))
        log.info("state", socket.state(netc))
        local m = sysplus.waitMsg("srv", socket.ON_LINE, 5000)
        log.info("online", evname(m[1]), m[2])
        local ok, none, ip, port = socket.accept(netc)
        log.info("accept", ok, none, ip, type(port))
        log.info("state2", socket.state(netc))
        socket.wait(netc)
        sysplus.waitMsg("srv", socket.EVENT, 5000)
        local ok2, data = socket.read(netc)
        log.info("got", ok2, data)
        socket.tx(netc, "pong:" .. data)
        log.info("txok", evname(sysplus.waitMsg("srv", socket.TX_OK, 5000)[1]))
        socket.wait(netc)
        local m2 = sysplus.waitMsg("srv", socket.EVENT, 5000)
        log.info("peer closed", evname(m2[1]), m2[2])
        socket.close(netc)
        log.info("DONE")
      end, "srv")
      sys.run()
    `;
    const r = await runSockWithPeer({ 'main.lua': src }, model(), {
      engine,
      until: 'I/user.DONE',
      timeoutMs: 8000,
      portOf: portFromLog,
      peer: async (port) => {
        const c = net.connect(port, '127.0.0.1');
        await once(c, 'connect');
        c.write('ping');
        const [data] = (await once(c, 'data')) as [Buffer];
        reply = data.toString();
        c.end();
      },
    });
    assert.equal(r.timedOut, false, r.lines.join('\n'));
    assert.equal(reply, 'pong:ping');
    assert.deepEqual(r.user, [
      'I/user.config true',
      'I/user.listen true false',
      'I/user.state 6 在监听',
      'I/user.online ON_LINE 0',
      'I/user.accept true nil 127.0.0.1 number',
      'I/user.state2 5 在线',
      'I/user.got true ping',
      'I/user.txok TX_OK',
      'I/user.peer closed EVENT -1',
      'I/user.DONE',
    ]);
    assert.ok(findRec(r.records, /^socket:device port 8080 listening on adapter 2, reachable from the PC at 127\.0\.0\.1:\d+ \(luatos-pc\)$/) >= 0, r.lines.join('\n'));
  });

  test(`TCP server (multi client): each PC client is an ON_LINE on the listener, accept gives a new ctrl with its own callback (${engine})`, async () => {
    const replies: string[] = [];
    const src = `${PRELUDE}
      sys.taskInit(function()
        up()
        local n = 0
        local srv = socket.create(nil, function(c, ev, p)
          if ev ~= socket.ON_LINE then return end
          local ok, cl, ip, port = socket.accept(c, function(cc, ev2, p2)
            if ev2 == socket.EVENT and p2 == 0 then
              local ok3, d = socket.read(cc)
              if ok3 and #d > 0 then socket.tx(cc, "hi " .. d) end
            elseif ev2 == socket.EVENT then
              n = n + 1
              log.info("client gone", n)
              socket.release(cc)
              if n == 2 then sys.publish("BOTH") end
            end
          end)
          log.info("accept", ok, type(cl), ip)
        end)
        socket.config(srv, 9090)
        log.info("listen", socket.listen(srv, 2))
        log.info("bad multi", socket.listen(srv, 9))
        sys.waitUntil("BOTH", 6000)
        socket.close(srv)
        log.info("DONE")
      end)
      sys.run()
    `;
    const r = await runSockWithPeer({ 'main.lua': src }, model(), {
      engine,
      until: 'I/user.DONE',
      timeoutMs: 10000,
      portOf: portFromLog,
      peer: async (port) => {
        for (const who of ['a', 'b']) {
          const c = net.connect(port, '127.0.0.1');
          await once(c, 'connect');
          c.write(who);
          const [data] = (await once(c, 'data')) as [Buffer];
          replies.push(data.toString());
          c.end();
          await once(c, 'close');
        }
      },
    });
    assert.equal(r.timedOut, false, r.lines.join('\n'));
    assert.deepEqual(replies, ['hi a', 'hi b']);
    assert.deepEqual(r.user, [
      'I/user.listen true false',
      'I/user.bad multi false false',
      'I/user.accept true userdata 127.0.0.1',
      'I/user.client gone 1',
      'I/user.accept true userdata 127.0.0.1',
      'I/user.client gone 2',
      'I/user.DONE',
    ]);
  });
}

for (const engine of ENGINES) {
  test(`UDP server (config local port + connect 255.255.255.255:0): reachable from the PC, answers with tx(ip, port) (${engine})`, async () => {
    let answer = '';
    const src = `${PRELUDE}
      sys.taskInit(function()
        up()
        local buf = zbuff.create(64)
        local netc = socket.create(nil, function(c, ev, p)
          if ev ~= socket.EVENT then return end
          local ok, n, ip, port = socket.rx(c, buf)
          if ok and n > 0 then
            local from = string.format("%d.%d.%d.%d", ip:byte(2), ip:byte(3), ip:byte(4), ip:byte(5))
            log.info("udp rx", buf:toStr(0, n), from)
            log.info("udp tx", socket.tx(c, "ack " .. buf:toStr(0, n), from, port))
            buf:seek(0)
            sys.publish("ANSWERED")
          end
        end)
        socket.config(netc, 5684, true)
        log.info("start", socket.connect(netc, "255.255.255.255", 0))
        sys.waitUntil("ANSWERED", 5000)
        sys.wait(50)
        socket.close(netc)
        log.info("DONE")
      end)
      sys.run()
    `;
    const r = await runSockWithPeer({ 'main.lua': src }, model(), {
      engine,
      until: 'I/user.DONE',
      timeoutMs: 8000,
      portOf: (text) => {
        const m = /device UDP port 5684 on adapter 2, reachable from the PC at 127\.0\.0\.1:(\d+)/.exec(text);
        return m ? Number(m[1]) : null;
      },
      peer: async (port) => {
        const c = dgram.createSocket('udp4');
        c.bind(0, '127.0.0.1');
        await once(c, 'listening');
        c.send('hello', port, '127.0.0.1');
        const [msg] = (await once(c, 'message')) as [Buffer];
        answer = msg.toString();
        c.close();
      },
    });
    assert.equal(answer, 'ack hello', r.lines.join('\n'));
    assert.deepEqual(r.user, ['I/user.start true false', 'I/user.udp rx hello 127.0.0.1', 'I/user.udp tx true false false', 'I/user.DONE']);
  });
}

for (const engine of ENGINES) {
  test(`no callback and no task: events go to sys_pub("NWCTRL*", adapter, socket_id, event, param) (${engine})`, async () => {
    const srv = await tcpServer(() => undefined);
    const src = `${PRELUDE}
      sys.subscribe("NWCTRL*", function(adapter, sid, ev, p)
        log.info("nwctrl", adapter, type(sid), evname(ev), p)
        sys.publish("EV")
      end)
      sys.taskInit(function()
        up()
        local netc = socket.create()
        socket.connect(netc, "127.0.0.1", ${srv.port})
        sys.waitUntil("EV", 3000)
        socket.close(netc)
        log.info("DONE")
      end)
      sys.run()
    `;
    const r = await runSock({ 'main.lua': src }, model(), { engine, until: 'I/user.DONE', timeoutMs: 8000 });
    srv.close();
    assert.deepEqual(r.user, ['I/user.nwctrl 2 number ON_LINE 0', 'I/user.DONE'], r.lines.join('\n'));
  });
}

for (const engine of ENGINES) {
  test(`bounds: a flooding server is paused at the rx window; a peer that never reads makes tx report full (${engine})`, async () => {
    const flood = await tcpServer((s) => {
      const chunk = Buffer.alloc(65536, 0x61);
      const pump = () => {
        while (!s.destroyed && s.write(chunk));
        if (!s.destroyed) s.once('drain', pump);
      };
      pump();
    });
    const sink = await tcpServer((s) => s.pause());
    const src = `${PRELUDE}
      sys.taskInit(function()
        up()
        local a = socket.create(nil, function(c, ev, p) if ev == socket.ON_LINE then sys.publish("A") end end)
        socket.connect(a, "127.0.0.1", ${flood.port})
        sys.waitUntil("A", 3000)
        sys.wait(500)
        local ok, pending = socket.rx(a)
        log.info("pending", ok, pending >= 262144, pending <= 262144 + 65536 * 4)
        socket.close(a)
        local b = socket.create(nil, function(c, ev, p) if ev == socket.ON_LINE then sys.publish("B") end end)
        socket.connect(b, "127.0.0.1", ${sink.port})
        sys.waitUntil("B", 3000)
        local chunk = string.rep("b", 65536)
        local n, full, done = 0, false, false
        while n < 400 do
          local ok2
          ok2, full, done = socket.tx(b, chunk)
          if not ok2 or full then break end
          n = n + 1
          if n % 16 == 0 then sys.wait(20) end
        end
        log.info("full", full, done, n < 400)
        socket.close(b)
        log.info("DONE")
      end)
      sys.run()
    `;
    const r = await runSock({ 'main.lua': src }, model(), { engine, until: 'I/user.DONE', timeoutMs: 15000 });
    flood.close();
    sink.close();
    assert.deepEqual(r.user, ['I/user.pending true true true', 'I/user.full true true true', 'I/user.DONE'], r.lines.join('\n'));
  });
}

for (const engine of ENGINES) {
  test(`link loss: UDP and listening sockets get EVENT -1 / ON_LINE -1 when Wi-Fi drops (${engine})`, async () => {
    const m = model();
    const src = `${PRELUDE}
      sys.taskInit(function()
        up()
        local u = socket.create(nil, function(c, ev, p) log.info("udp", evname(ev), p); sys.publish("U", ev) end)
        socket.config(u, 0, true)
        socket.connect(u, "127.0.0.1", 9)
        sys.waitUntil("U", 3000)
        local l = socket.create(nil, function(c, ev, p) log.info("listener", evname(ev), p); sys.publish("L") end)
        socket.config(l, 8082)
        socket.listen(l)
        log.info("LINKDOWN")
        sys.waitUntil("L", 3000)
        sys.wait(50)
        log.info("states", (socket.state(u)), (socket.state(l)))
        log.info("DONE")
      end)
      sys.run()
    `;
    const r = await runSock({ 'main.lua': src }, m, {
      engine,
      until: 'I/user.DONE',
      timeoutMs: 8000,
      onDevice: linkDownOnCue(m),
    });
    assert.deepEqual(r.user.slice(0, 2), ['I/user.udp ON_LINE 0', 'I/user.LINKDOWN'], r.lines.join('\n'));
    assert.deepEqual(new Set(r.user.slice(2, 4)), new Set(['I/user.udp EVENT -1', 'I/user.listener ON_LINE -1']), r.lines.join('\n'));
    assert.deepEqual(r.user.slice(4), ['I/user.states 1 1', 'I/user.DONE']);
  });
}
