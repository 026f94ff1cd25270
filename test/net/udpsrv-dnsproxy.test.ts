/**
 * udpsrv and dnsproxy (runtime/lua/, luatos-api.md §11) on the real socket module: the device
 * port is a UDP socket on 127.0.0.1 (the socket module logs the host port), datagrams from the
 * PC reach the script, answers come back. The DNS check uses Node's own resolver as the client
 * and a small DNS server on 127.0.0.1 as the upstream (mapped with a --map style rule).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import { once } from 'node:events';
import { WifiNetwork } from '../../runtime/net/model';
import { parseMapRule } from '../../runtime/net/direct';
import { ENGINES, FAST, findRec, REF_NET } from './net-helpers';
import { runSockWithPeer } from '../socket/helpers';

function model(rules: string[] = []): WifiNetwork {
  return new WifiNetwork({ ...REF_NET, timing: FAST, rules: rules.map(parseMapRule), listen: { '*': 0 } });
}

const PORT_LINE = (dev: number) => new RegExp(`device UDP port ${dev} on adapter \\d+, reachable from the PC at 127\\.0\\.0\\.1:(\\d+)`);

for (const engine of ENGINES) {
  test(`udpsrv: a datagram from the PC reaches the topic with the sender's dotted address; srv:send answers (${engine})`, async () => {
    let answer = '';
    let clientPort = 0;
    const src = `
      local udpsrv = require("udpsrv")
      sys.taskInit(function()
        wlan.connect("lab", "pw")
        sys.waitUntil("IP_READY", 5000)
        local srv = udpsrv.create(5690, "UDP_IN")
        log.info("created", type(srv))
        local _, data, ip, port = sys.waitUntil("UDP_IN", 5000)
        log.info("got", data, ip, type(port))
        log.info("send", srv:send("pong " .. tostring(data), ip, port))
        sys.wait(100)
        srv:close()
        log.info("DONE")
      end)
      sys.run()
    `;
    const r = await runSockWithPeer({ 'main.lua': src }, model(), {
      engine,
      until: 'I/user.DONE',
      timeoutMs: 8000,
      portOf: (text) => {
        const m = PORT_LINE(5690).exec(text);
        return m ? Number(m[1]) : null;
      },
      peer: async (port) => {
        const c = dgram.createSocket('udp4');
        c.bind(0, '127.0.0.1');
        await once(c, 'listening');
        clientPort = c.address().port;
        const got = once(c, 'message');
        c.send('ping', port, '127.0.0.1');
        const timer = setTimeout(() => c.close(), 5000);
        try {
          const [msg] = (await got) as [Buffer];
          answer = msg.toString();
        } catch {
          // closed by the timer: no answer
        }
        clearTimeout(timer);
        try { c.close(); } catch { /* already closed */ }
      },
    });
    assert.ok(clientPort > 0, `the device port line was not logged:\n${r.lines.join('\n')}`);
    assert.deepEqual(r.user, ['I/user.created table', 'I/user.got ping 127.0.0.1 number', 'I/user.send true false false', 'I/user.DONE'], r.lines.join('\n'));
    assert.equal(answer, 'pong ping');
  });
}

/** a DNS server answering every A question with 10.1.2.3 (written from RFC 1035 §4.1) */
async function upstreamDns(): Promise<{ port: number; ids: number[]; close: () => void }> {
  const s = dgram.createSocket('udp4');
  const ids: number[] = [];
  s.on('message', (q, rinfo) => {
    if (q.length < 12) return;
    ids.push(q.readUInt16BE(0));
    // question section: name labels, then type and class
    let off = 12;
    while (off < q.length && q[off] !== 0) off += q[off] + 1;
    const qEnd = off + 5;
    const head = Buffer.alloc(12);
    q.copy(head, 0, 0, 2);
    head.writeUInt16BE(0x8180, 2); // response, recursion desired + available, no error
    head.writeUInt16BE(1, 4); // QDCOUNT
    head.writeUInt16BE(1, 6); // ANCOUNT
    const rr = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3]);
    s.send(Buffer.concat([head, q.subarray(12, qEnd), rr]), rinfo.port, rinfo.address);
  });
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return { port: s.address().port, ids, close: () => s.close() };
}

for (const engine of ENGINES) {
  test(`dnsproxy.setup: Node's resolver asks the device's port 53, the answer comes from the upstream with the client's id (${engine})`, async () => {
    const up = await upstreamDns();
    let addrs: string[] | Error = [];
    const src = `
      local dnsproxy = require("dnsproxy")
      sys.taskInit(function()
        wlan.connect("lab", "pw")
        sys.waitUntil("IP_READY", 5000)
        log.info("setup", dnsproxy.setup(socket.LWIP_STA, socket.LWIP_STA))
        sys.waitUntil("STOP", 6000)
        dnsproxy.close()
        log.info("DONE")
      end)
      sys.run()
    `;
    const r = await runSockWithPeer({ 'main.lua': src }, model([`119.29.29.29:53=127.0.0.1:${up.port}`]), {
      engine,
      until: 'I/user.DONE',
      timeoutMs: 10000,
      portOf: (text) => {
        const m = PORT_LINE(53).exec(text);
        return m ? Number(m[1]) : null;
      },
      peer: async (port, d) => {
        const res = new dns.promises.Resolver({ timeout: 2000, tries: 1 });
        res.setServers([`127.0.0.1:${port}`]);
        try {
          addrs = await res.resolve4('device.luatos.test');
        } catch (err) {
          addrs = err as Error;
        }
        d.vm?.publish('STOP');
      },
    });
    up.close();
    assert.ok(findRec(r.records, /dnsproxy 开始监听/) >= 0, r.lines.join('\n'));
    assert.ok(findRec(r.records, /setup true/) >= 0, r.lines.join('\n'));
    assert.deepEqual(addrs, ['10.1.2.3'], `${String(addrs)}\n${r.lines.join('\n')}`);
    assert.equal(up.ids.length, 1, 'one query relayed upstream');
  });
}
