/**
 * Every http failure code against local servers that misbehave on purpose, both engines.
 * Each result must be ONE negative value (`select("#", ...)` is checked).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as net from 'node:net';
import { runLua, RunLuaOptions } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { DirectNetwork } from '../../runtime/net/direct';
import { VirtualClock } from '../../runtime/core/clock';
import { NetError, TcpConnectOptions } from '../../runtime/net/types';
import { closedPort, mappedNetwork, response, startRawServer, WireRequest } from './servers';

/** Run one request script; returns the `res` line (`n code`). */
async function one(engine: (typeof ENGINE_NAMES)[number], port: number, req: string, opts: { timeoutMs?: number; network?: DirectNetwork; onDevice?: RunLuaOptions['onDevice']; clock?: VirtualClock } = {}) {
  const src = `
sys.taskInit(function()
  local t0 = mcu.ticks()
  local r = table.pack(${req}.wait())
  log.info("res", r.n, r[1], r[2] ~= nil and type(r[2]) or "-", tostring(r[3]))
  log.info("elapsed", mcu.ticks() - t0)
  log.info("DONE")
end)
sys.run()
`;
  const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', timeoutMs: opts.timeoutMs ?? 8000, device: { network: opts.network ?? mappedNetwork(port), ...(opts.clock ? { clock: opts.clock } : {}) }, onDevice: opts.onDevice });
  const res = r.user.find((l) => l.startsWith('I/user.res ')) ?? `(none) ${r.lines.join('\n')}`;
  const elapsed = Number((r.user.find((l) => l.startsWith('I/user.elapsed ')) ?? 'x -1').split(' ')[1]);
  return { res, elapsed, r };
}

const GET = (p: string, opts = '') => `http.request("GET", "http://video.luatos.com:10030${p}", nil, nil${opts ? ', ' + opts : ''})`;

async function misbehaving(handler: (req: WireRequest, sock: net.Socket) => void) {
  return startRawServer(handler);
}

for (const engine of ENGINE_NAMES) {
  test(`-1: the reply is not HTTP at all (${engine})`, async () => {
    const srv = await misbehaving((req, sock) => sock.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
    try {
      const { res, r } = await one(engine, srv.port, GET('/'));
      assert.equal(res, 'I/user.res 1 -1 - nil');
      assert.ok(r.lines.some((l) => l.includes('http:http close 0x')));
    } finally {
      await srv.close();
    }
  });

  test(`-2: garbage status line, header line without a colon, bad Content-Length, header block too big (${engine})`, async () => {
    const replies = [
      'HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nThis is not a header\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\nhello',
      'HTTP/1.1 200 OK\r\n' + 'X-Fill: ' + 'a'.repeat(5000) + '\r\n\r\n',
    ];
    let i = 0;
    const srv = await misbehaving((req, sock) => sock.end(replies[i++]));
    try {
      for (let k = 0; k < replies.length; k++) {
        const { res } = await one(engine, srv.port, GET('/'));
        assert.equal(res, 'I/user.res 1 -2 - nil', `reply ${k}`);
      }
    } finally {
      await srv.close();
    }
  });

  test(`-3: broken chunked encoding (${engine})`, async () => {
    const replies = [
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n',
    ];
    let i = 0;
    const srv = await misbehaving((req, sock) => sock.end(replies[i++]));
    try {
      for (let k = 0; k < replies.length; k++) {
        const { res } = await one(engine, srv.port, GET('/'));
        assert.equal(res, 'I/user.res 1 -3 - nil', `reply ${k}`);
      }
    } finally {
      await srv.close();
    }
  });

  test(`-4: connection refused, unresolvable host, link down (${engine})`, async () => {
    const port = await closedPort();
    const a = await one(engine, port, GET('/'));
    assert.equal(a.res, 'I/user.res 1 -4 - nil');
    assert.ok(a.elapsed < 3000, `refused should fail fast, took ${a.elapsed}`);
    const b = await one(engine, port, `http.request("GET", "http://no-such-host.invalid/x")`);
    assert.equal(b.res, 'I/user.res 1 -4 - nil');
    // a network whose adapter is down (a stub DeviceNetwork, not a mock of the client)
    class DownNetwork extends DirectNetwork {
      override connectTcp(o: TcpConnectOptions): Promise<net.Socket> {
        return Promise.reject(new NetError(`adapter ${o.adapter ?? 2} is not ready`, 'link-down'));
      }
    }
    const c = await one(engine, port, GET('/'), { network: new DownNetwork() });
    assert.equal(c.res, 'I/user.res 1 -4 - nil');
  });

  test(`-5: the server closes before the headers / mid-body, or the link drops mid-request (${engine})`, async () => {
    let n = 0;
    const srv = await misbehaving((req, sock) => {
      n++;
      if (req.lines[0].includes('/nohead')) sock.end();
      else if (req.lines[0].includes('/half')) sock.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'), Buffer.alloc(10, 'x')]));
      else if (req.lines[0].includes('/reset')) {
        sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
        setTimeout(() => sock.resetAndDestroy(), 30);
      }
      /* /hang: never answers */
    });
    try {
      assert.equal((await one(engine, srv.port, GET('/nohead'))).res, 'I/user.res 1 -5 - nil');
      assert.equal((await one(engine, srv.port, GET('/half'))).res, 'I/user.res 1 -5 - nil');
      assert.equal((await one(engine, srv.port, GET('/reset'))).res, 'I/user.res 1 -5 - nil');
      // link loss: the network closes every connection of the adapter while the request waits
      const netw = mappedNetwork(srv.port);
      const before = n;
      const poll = setInterval(() => {
        if (n > before) {
          clearInterval(poll);
          netw.closeAll();
        }
      }, 10);
      const d = await one(engine, srv.port, GET('/hang', '{timeout=5000}'), { network: netw });
      clearInterval(poll);
      assert.equal(d.res, 'I/user.res 1 -5 - nil');
      assert.ok(d.elapsed < 3000, `link drop should end the request at once, took ${d.elapsed}`);
    } finally {
      await srv.close();
    }
  });

  test(`-7: download into a read-only path (${engine})`, async () => {
    const srv = await misbehaving((req, sock) => sock.end(response('200 OK', {}, 'data')));
    try {
      const { res, r } = await one(engine, srv.port, GET('/f', '{dst="/luadb/x.bin"}'));
      assert.equal(res, 'I/user.res 1 -7 - nil');
      assert.ok(r.lines.some((l) => l.endsWith('http:open download file fail /luadb/x.bin')), r.lines.join('\n'));
    } finally {
      await srv.close();
    }
  });

  test(`-8: the server hangs past the timeout; timeout < 1000 means 60 s (${engine})`, async () => {
    const srv = await misbehaving((req, sock) => {
      if (req.lines[0].includes('/slow')) setTimeout(() => sock.end(response('200 OK', {}, 'late')), 1300);
      /* otherwise: never answer */
    });
    try {
      const a = await one(engine, srv.port, GET('/hang', '{timeout=1000}'));
      assert.equal(a.res, 'I/user.res 1 -8 - nil');
      assert.ok(a.elapsed >= 950 && a.elapsed < 2500, `timeout after ${a.elapsed} ms`);
      // timeout=500 is below 1000: it becomes 60 s, so a reply after 1.3 s still arrives
      const b = await one(engine, srv.port, GET('/slow', '{timeout=500}'));
      assert.equal(b.res, 'I/user.res 3 200 table late');
      const c = await one(engine, srv.port, GET('/slow', '{timeout=0}'));
      assert.equal(c.res, 'I/user.res 3 200 table late');
      // a virtual clock runs at wall speed while a request is in flight (Clock.hold): the reply
      // after 1.3 s beats a 2 s timeout instead of the clock jumping to the timeout
      const t0 = Date.now();
      const d = await one(engine, srv.port, GET('/slow', '{timeout=2000}'), { clock: new VirtualClock() });
      assert.equal(d.res, 'I/user.res 3 200 table late');
      assert.ok(Date.now() - t0 >= 1200);
    } finally {
      await srv.close();
    }
  });

  test(`-9: FOTA with a non-200 status; a 200 FOTA download reports its length (${engine})`, async () => {
    const srv = await misbehaving((req, sock) => {
      if (req.lines[0].includes('/nofw')) sock.end(response('404 Not Found', {}, 'none'));
      else sock.end(response('200 OK', {}, Buffer.alloc(1234, 1)));
    });
    try {
      assert.equal((await one(engine, srv.port, GET('/nofw', '{fota=true}'))).res, 'I/user.res 1 -9 - nil');
      assert.equal((await one(engine, srv.port, GET('/fw', '{fota=true}'))).res, 'I/user.res 3 200 table 1234');
    } finally {
      await srv.close();
    }
  });

  test(`downloads: size result, 404 removes the file, an interrupted download gives -1 and no file (${engine})`, async () => {
    const payload = Buffer.alloc(5000);
    for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
    const srv = await misbehaving((req, sock) => {
      if (req.lines[0].includes('/ok')) sock.end(response('200 OK', {}, payload));
      else if (req.lines[0].includes('/404')) sock.end(response('404 Not Found', {}, 'nope'));
      else sock.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n'), payload.subarray(0, 100)]));
    });
    try {
      let dataDir = '';
      const grab: { onDevice: RunLuaOptions['onDevice'] } = { onDevice: (d) => void (dataDir = d.vfs.dataDir) };
      const a = await one(engine, srv.port, GET('/ok', '{dst="/dl.bin"}'), grab);
      assert.equal(a.res, 'I/user.res 3 200 table 5000');
      assert.deepEqual(fs.readFileSync(path.join(dataDir, 'dl.bin')), payload);
      const b = await one(engine, srv.port, GET('/404', '{dst="/dl.bin"}'), grab);
      assert.equal(b.res, 'I/user.res 3 404 table 4');
      assert.ok(!fs.existsSync(path.join(dataDir, 'dl.bin')));
      assert.ok(b.r.lines.some((l) => /luat:W\(\d+\):http:download fail, remove file \/dl\.bin$/.test(l)));
      const c = await one(engine, srv.port, GET('/cut', '{dst="/dl.bin"}'), grab);
      assert.equal(c.res, 'I/user.res 3 200 table -1');
      assert.ok(!fs.existsSync(path.join(dataDir, 'dl.bin')));
    } finally {
      await srv.close();
    }
  });
}
