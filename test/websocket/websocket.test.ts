/**
 * websocket (luatos-api-2.md §6) against real servers on 127.0.0.1: a `ws` WebSocketServer (an
 * independent implementation) for echo, size limits, server close and restart, wss://; a raw
 * TCP server for the exact handshake bytes and frame bytes. Both engines.
 */
import { test, after, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as https from 'node:https';
import { runLua, RunLuaResult } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { HOST, pattern, startRawServer, startWsServer, wsNetwork, inOrder, wsTrace } from './ws-helpers';
import * as fs from 'node:fs';

/** the script's lines and the websocket module's lines, in log order (`W websocket_parse ret -1`) */
const trace = (r: RunLuaResult): string[] => wsTrace(r, /^I\/user\./);

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
async function run(src: string, port: number, engine: string, until = 'I/user.DONE', timeoutMs = 15000): Promise<RunLuaResult> {
  const r = await runLua({ 'main.lua': src }, { engine: engine as 'wasmoon', until, timeoutMs, device: { network: wsNetwork(port) } });
  dirs.push(r.dir, r.device.vfs.writablePath('/'));
  return r;
}

/** a script that logs every event (data as its length and sha1) and runs `onConack` once */
function script(opts: { url?: string; pre?: string; onConack?: string; onRecv?: string; onDisc?: string } = {}): string {
  return `
local n = 0
local wsc = websocket.create(nil, ${JSON.stringify(opts.url ?? `ws://${HOST}/ws/echo`)})
${opts.pre ?? ''}
wsc:on(function(c, ev, data, fin, op)
  if ev == "recv" then
    log.info("ev", ev, #data, fin, op, data:sub(1, 24):toHex():sub(1, 16))
    ${opts.onRecv ?? ''}
  else
    log.info("ev", ev, data, fin, op, c == wsc, c:ready())
  end
  if ev == "conack" then
    n = n + 1
    ${opts.onConack ?? ''}
  elseif ev == "disconnect" then
    ${opts.onDisc ?? ''}
  end
end)
sys.subscribe("WEBSOCKET_CONNACK", function(c) log.info("pub WEBSOCKET_CONNACK", c == wsc) end)
log.info("connect", wsc:connect(), wsc:ready())
sys.run()
`;
}

for (const engine of ENGINE_NAMES) {
  test(`websocket: the handshake and frames byte for byte as the firmware sends them (raw server, ${engine})`, async () => {
    let step = 0;
    const raw = await startRawServer((sock, all) => {
      if (step === 0 && all.includes('\r\n\r\n')) {
        step = 1;
        // 101 with a Sec-WebSocket-Accept that does not match: the firmware does not check it
        sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bogus\r\n\r\n');
        setTimeout(() => sock.write(Buffer.from([0x81, 0x05, ...Buffer.from('hello')])), 50);
      }
    });
    try {
      const src = script({
        url: `ws://${HOST}:8080/path/x?q=1`,
        pre: `log.info("headers", wsc:headers({["X-Token"]="a b*c-d.e_f"}))`,
        onConack: `log.info("send", c:send("hi"), c:send("bin", 1), c:send("t0", 0), c:send(12))
          local z = zbuff.create(10) z:write("zb") log.info("sendz", c:send(z, 1))`,
        onRecv: `if data == "hello" then log.info("DONE") end`,
      });
      const r = await run(src, raw.port, engine);
      const t = trace(r);
      inOrder(t, ['headers true', 'I connect host wstest.luatos.com port 8080', 'connect true false', 'I ready!!', 'ev conack nil nil nil true true', 'send true true true true', 'sendz true', 'pub WEBSOCKET_CONNACK true', 'ev recv 5 1 1 68656C6C6F', 'DONE']);
      await new Promise((res) => setTimeout(res, 100));
      const all = raw.received[0];
      const end = all.indexOf('\r\n\r\n') + 4;
      assert.equal(
        all.subarray(0, end).toString('latin1'),
        'GET /path/x?q=1 HTTP/1.1\r\nHost: wstest.luatos.com:8080\r\nX-Token:a%20b%2Ac%2Dd%2Ee%5Ff\r\n' +
          'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: w4v7O6xFTi36lq3RNcgctw==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      // frames: FIN + opcode, MASK + length, the fixed key 00 01 02 03, payload XOR key (computed here)
      const frame = (op: number, payload: string) => {
        const p = Buffer.from(payload, 'latin1');
        const mask = [0, 1, 2, 3];
        return Buffer.from([0x80 | op, 0x80 | p.length, ...mask, ...p.map((b, i) => b ^ mask[i % 4])]);
      };
      const want = Buffer.concat([frame(1, 'hi'), frame(2, 'bin'), frame(1, 't0'), frame(1, '12'), frame(2, 'zb')]);
      assert.equal(all.subarray(end, end + want.length).toString('hex'), want.toString('hex'));
    } finally {
      await raw.close();
    }
  });

  test(`websocket: echo through a ws server, sent events, sizes at the firmware's limits (${engine})`, async () => {
    const srv = await startWsServer();
    try {
      const src = script({
        onConack: `
          log.info("s1", c:send("hello"))
          log.info("s2", c:send(string.rep("a", 65534), 1))
          log.info("s3", c:send(string.rep("b", 65535)))
          log.info("s4", c:send(string.rep("c", 4 * 65536))) -- 256 KiB: a 1 MiB string does not fit next to the rest in the Air8101's 2 MB Lua heap (lua53 enforces it)
          log.info("s5", c:send("big 32768"))
          log.info("s6", c:send(string.rep("d", 70000)))`,
        onRecv: `if #data == 32768 then log.info("hash", crypto.sha1(data)) c:send("big 1048576") end`,
        onDisc: `log.info("DONE")`,
      });
      const r = await run(src, srv.port, engine);
      const t = trace(r);
      const sha = crypto.createHash('sha1').update(pattern(32768)).digest('hex').toUpperCase();
      inOrder(t, [
        'I ready!!',
        'ev conack nil nil nil true true',
        's1 true',
        's2 true',
        'E pkg too large 65535',
        's3 false',
        /^W send: 262144 bytes do not fit the firmware's 16-bit frame length; the device sends only the first 0 \(luatos-pc\)$/,
        's4 true',
        's5 true',
        /^W send: 70000 bytes do not fit the firmware's 16-bit frame length; the device sends only the first 4464 \(luatos-pc\)$/,
        's6 true',
      ]);
      // the server's answers, in order
      inOrder(t, ['ev recv 5 1 1 68656C6C6F', 'ev recv 13 1 1 676F742062696E20', 'ev recv 0 1 1 ', 'ev recv 32768 1 2 00070E151C232A31', `hash ${sha}`]);
      assert.ok(t.includes('ev recv 4464 1 1 6464646464646464'), t.join('\n'));
      // a message over 32768 bytes (1 MB: a 64-bit length) ends the connection
      inOrder(t, [
        `hash ${sha}`,
        'E websocket payload is too large!!!',
        'I payload too large!!!',
        'W websocket_parse ret -1',
        'I websocket closing socket',
        'ev error rx 0 nil true false',
        'ev disconnect nil nil nil true false',
        'DONE',
      ]);
      // one "sent" per user frame that was handed over (s1, s2, s4, s5, s6, then "big 1048576")
      assert.equal(t.filter((l) => l.startsWith('ev sent')).length, 6, t.join('\n'));
      // what the independent server received
      assert.deepEqual(
        srv.messages.map(([bin, d]) => `${bin ? 'bin' : 'text'} ${d.length}`),
        ['text 5', 'bin 65534', 'text 0', 'text 9', 'text 4464', 'text 11'],
      );
      assert.ok(srv.messages[1][1].equals(Buffer.alloc(65534, 'a')));
    } finally {
      await srv.close();
    }
  });

  test(`websocket: a server close frame gives error rx and disconnect; a server reset gives error connect (${engine})`, async () => {
    let mode = 'close';
    const srv = await startWsServer({
      onConn: (ws) => {
        setTimeout(() => (mode === 'close' ? ws.close(1000, 'bye') : ws.terminate()), 100);
      },
    });
    try {
      const src = script({
        onDisc: `
          if n == 1 then sys.timerStart(function() log.info("again", wsc:connect()) end, 100)
          else log.info("DONE") end`,
        onConack: `if n == 2 then log.info("second") end`,
      }).replace('sys.run()', 'sys.subscribe("X", function() end)\nsys.run()');
      const p = run(src, srv.port, engine);
      // the second connection is reset instead of closed
      setTimeout(() => (mode = 'reset'), 300);
      const r = await p;
      inOrder(trace(r), [
        'ev conack nil nil nil true true',
        'W websocket_parse ret -1',
        'I websocket closing socket',
        'ev error rx 0 nil true false',
        'ev disconnect nil nil nil true false',
        'I connect host wstest.luatos.com port 80',
        'again true',
        'ev conack nil nil nil true true',
        'second',
        'W websocket_callback param1 -1, closing socket',
        'I websocket closing socket',
        'ev error connect 0 nil true false',
        'ev disconnect nil nil nil true false',
        'DONE',
      ]);
      assert.ok(!trace(r).some((l) => l.startsWith('I reconnect after')), 'no auto-reconnect unless enabled');
    } finally {
      await srv.close();
    }
  });

  test(`websocket: autoreconn brings the connection back after the server restarts (${engine})`, async () => {
    let srv = await startWsServer();
    const port = srv.port;
    try {
      const src = script({
        pre: 'wsc:autoreconn(true, 500) -- below the minimum: 1000 ms',
        onConack: `log.info("conack#", n) c:send("n" .. n) if n == 2 then log.info("DONE") end`,
      });
      const p = run(src, port, engine, 'I/user.DONE', 20000);
      // wait for the first connection, then stop the server and start a new one on the port
      const t0 = Date.now();
      while (srv.messages.length === 0 && Date.now() - t0 < 10000) await new Promise((res) => setTimeout(res, 20));
      await srv.close();
      await new Promise((res) => setTimeout(res, 1200));
      srv = await startWsServer({ port });
      const r = await p;
      const t = trace(r);
      inOrder(t, [
        'conack# 1',
        'ev recv 2 1 1 6E31',
        'W websocket_callback param1 -1, closing socket',
        'I websocket closing socket',
        'I reconnect after 1000ms',
        'ev error connect 0 nil true false',
        'ev disconnect nil nil nil true false',
        'I connect host wstest.luatos.com port 80',
        'conack# 2',
        'DONE',
      ]);
      // while the server was down: refused connects, each followed by another reconnect
      assert.ok(t.filter((l) => l === 'I reconnect after 1000ms').length >= 2, t.join('\n'));
      assert.equal(srv.messages.at(-1)?.[1].toString(), 'n2');
    } finally {
      await srv.close();
    }
  });
}

let tlsOpts: { key: string; cert: string } | null = null;
before(async () => {
  const selfsigned = (await import('selfsigned')) as unknown as { generate: (a: unknown, o: unknown) => Promise<{ private: string; cert: string }> };
  const pems = await selfsigned.generate([{ name: 'commonName', value: HOST }], { keySize: 2048, days: 2 });
  tlsOpts = { key: pems.private, cert: pems.cert };
});

for (const engine of ENGINE_NAMES) {
  test(`websocket: wss:// against a loopback TLS server with a self-signed certificate (not verified, as on the device) (${engine})`, async () => {
    assert.ok(tlsOpts);
    const srv = await startWsServer({ server: https.createServer(tlsOpts) });
    try {
      const src = script({ url: `wss://${HOST}/ws/echo`, onConack: 'c:send("secure")', onRecv: 'log.info("DONE", data)' });
      const r = await run(src, srv.port, engine);
      const t = trace(r);
      inOrder(t, ['I connect host wstest.luatos.com port 443', 'I ready!!', 'ev conack nil nil nil true true', 'ev recv 6 1 1 736563757265', 'DONE secure']);
      assert.equal(srv.upgrades[0][srv.upgrades[0].findIndex((h) => h.toLowerCase() === 'host') + 1], `${HOST}:443`);
    } finally {
      await srv.close();
    }
  });
}

for (const engine of ENGINE_NAMES) {
  test(`websocket: a flood of server messages is delivered whole and in order, reading pauses while the script is behind; the VM end closes the connection (${engine})`, async () => {
    const N = 5000;
    const srv = await startWsServer({
      onConn: (ws) => {
        for (let i = 1; i <= N; i++) ws.send(`m${i}`);
      },
    });
    const netw = wsNetwork(srv.port);
    let pauses = 0;
    const connectTcp = netw.connectTcp.bind(netw);
    netw.connectTcp = async (o) => {
      const s = await connectTcp(o);
      const pause = s.pause.bind(s);
      s.pause = () => {
        pauses++;
        return pause();
      };
      return s;
    };
    try {
      const src = `
local count, bad = 0, 0
local wsc = websocket.create(nil, "ws://${HOST}/")
wsc:on(function(c, ev, data)
  if ev == "recv" then
    count = count + 1
    if data ~= "m" .. count then bad = bad + 1 end
    if count == ${N} then log.info("DONE", count, bad) end
  end
end)
wsc:connect()
sys.run()
`;
      const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', timeoutMs: 60000, device: { network: netw } });
      dirs.push(r.dir, r.device.vfs.writablePath('/'));
      assert.ok(r.user.includes(`I/user.DONE ${N} 0`), r.user.slice(-5).join('\n'));
      assert.ok(pauses > 0, 'the client never stopped reading');
      // the device was disposed by runLua: its connection is gone
      const t0 = Date.now();
      while (srv.clients().length > 0 && Date.now() - t0 < 10000) await new Promise((res) => setTimeout(res, 20));
      assert.equal(srv.clients().length, 0);
    } finally {
      await srv.close();
    }
  });
}

for (const engine of ENGINE_NAMES) {
  test(`websocket: frames in the same write as the 101 reply are kept, also past 32 KiB (deviation: the firmware drops them) (${engine})`, async () => {
    const N = 6000;
    const frames: Buffer[] = [];
    for (let i = 1; i <= N; i++) {
      const p = Buffer.from(`m${i}`);
      frames.push(Buffer.from([0x81, p.length]), p);
    }
    const raw = await startRawServer((sock, all) => {
      if (all.includes('\r\n\r\n') && !(sock as unknown as { sent?: boolean }).sent) {
        (sock as unknown as { sent?: boolean }).sent = true;
        sock.write(Buffer.concat([Buffer.from('HTTP/1.1 101 Switching Protocols\r\n\r\n'), ...frames]));
      }
    });
    try {
      const src = `
local count, bad = 0, 0
local wsc = websocket.create(nil, "ws://${HOST}/")
wsc:on(function(c, ev, data)
  if ev == "recv" then
    count = count + 1
    if data ~= "m" .. count then bad = bad + 1 end
    if count == ${N} then log.info("DONE", count, bad) end
  elseif ev ~= "conack" then log.info("ev", ev, data) end
end)
wsc:connect()
sys.run()
`;
      const r = await run(src, raw.port, engine, 'I/user.DONE', 30000);
      assert.ok(r.user.includes(`I/user.DONE ${N} 0`), trace(r).slice(-8).join('\n'));
    } finally {
      await raw.close();
    }
  });
}

for (const engine of ENGINE_NAMES) {
  test(`websocket: headers() string form is sent verbatim; a new headers() call replaces the old for the next connect (${engine})`, async () => {
    const raw = await startRawServer((sock, all) => {
      if (all.includes('\r\n\r\n')) sock.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    });
    try {
      const src = `
local k = 0
local wsc = websocket.create(nil, "ws://${HOST}:81")
log.info("h1", wsc:headers("Authorization: Basic QUJD\\r\\nX-Raw:keep-this.as is\\r\\n"))
wsc:on(function(c, ev)
  if ev == "disconnect" then
    k = k + 1
    if k == 1 then log.info("h2", c:headers({[1]=2.5})) c:connect() else log.info("DONE") end
  end
end)
wsc:connect()
sys.run()
`;
      const r = await run(src, raw.port, engine);
      inOrder(trace(r), ['h1 true', /^E server not support websocket\? resp code HTTP\/1.1 403 Forbidden/, 'h2 true', 'DONE']);
      const head = (b: Buffer) => b.subarray(0, b.indexOf('\r\n\r\n') + 4).toString('latin1');
      const tail = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: w4v7O6xFTi36lq3RNcgctw==\r\nSec-WebSocket-Version: 13\r\n\r\n';
      assert.equal(head(raw.received[0]), `GET / HTTP/1.1\r\nHost: ${HOST}:81\r\nAuthorization: Basic QUJD\r\nX-Raw:keep-this.as is\r\n${tail}`);
      // numbers as lua_tolstring writes them; "." escaped in the value
      assert.equal(head(raw.received[1]), `GET / HTTP/1.1\r\nHost: ${HOST}:81\r\n1:2%2E5\r\n${tail}`);
    } finally {
      await raw.close();
    }
  });
}

for (const engine of ENGINE_NAMES) {
  test(`websocket: keepalive PING bytes, a fragmented server message (one recv here, see the header), a masked server frame ends it (raw server, ${engine})`, async () => {
    let step = 0;
    const raw = await startRawServer((sock, all) => {
      if (step === 0 && all.includes('\r\n\r\n')) {
        step = 1;
        sock.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
        // "ab" + continuation "cd" (FIN)
        setTimeout(() => sock.write(Buffer.from([0x01, 0x02, 0x61, 0x62, 0x80, 0x02, 0x63, 0x64])), 30);
      } else if (step === 1 && all.subarray(all.indexOf('\r\n\r\n') + 4).includes(Buffer.from([0x89, 0x80, 0, 1, 2, 3]))) {
        step = 2;
        // a masked text frame: servers must not mask
        sock.write(Buffer.from([0x81, 0x82, 1, 1, 1, 1, 0x60, 0x63]));
      }
    });
    try {
      const src = `
local wsc = websocket.create(nil, "ws://${HOST}/", 1)
wsc:on(function(c, ev, data, fin, op)
  log.info("ev", ev, data, fin, op)
  if ev == "disconnect" then log.info("DONE") end
end)
wsc:connect()
sys.run()
`;
      const r = await run(src, raw.port, engine);
      inOrder(trace(r), [
        'I ready!!',
        'ev recv abcd 1 1',
        /^W bad frame from server: .*MASK must be clear \(luatos-pc\)$/,
        'W websocket_parse ret -1',
        'I websocket closing socket',
        'ev error rx 0 nil',
        'ev disconnect nil nil nil',
        'DONE',
      ]);
      assert.equal(step, 2);
    } finally {
      await raw.close();
    }
  });
}

for (const engine of ENGINE_NAMES) {
  test(`websocket: close() inside the conack callback: WEBSOCKET_CONNACK is still published, then nothing more (${engine})`, async () => {
    const srv = await startWsServer({ onConn: (ws) => ws.send('late') });
    try {
      const src = `
local wsc = websocket.create(nil, "ws://${HOST}/")
wsc:on(function(c, ev, data) log.info("ev", ev, data) if ev == "conack" then c:close() end end)
sys.subscribe("WEBSOCKET_CONNACK", function(c) log.info("pub", c == wsc, c:ready()) sys.timerStart(log.info, 300, "DONE") end)
wsc:connect()
sys.run()
`;
      const r = await run(src, srv.port, engine);
      const t = trace(r);
      inOrder(t, ['ev conack nil', 'I websocket closing socket', 'pub true false', 'DONE']);
      assert.ok(!t.some((l) => l === 'ev recv late' || l.startsWith('ev disconnect')), t.join('\n'));
    } finally {
      await srv.close();
    }
  });
}
