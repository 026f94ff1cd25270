/**
 * Hostile HTTP servers (the "Hardening" issue, items 3, 4 and 12): real loopback TCP servers
 * that send the bytes a broken or malicious server sends. Every request must end with the
 * firmware's code within its timeout, buffer no more than the device can hold, and never kill
 * the VM. Lua-level cases run on both engines.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as net from 'node:net';
import { runLua, RunLuaOptions } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { deviceBodyLimit } from '../../runtime/http/sinks';
import { AIR8101_PROFILE } from '../../runtime/core/profile';
import { mappedNetwork, startRawServer, WireRequest } from './servers';

/** The Air8101's body limit, computed from the profile's memory figures (2 097 144). */
const LIMIT = deviceBodyLimit(AIR8101_PROFILE.memory);

/** Remove the script and data folders runLua made. */
function cleanup(r: { dir: string; device: { vfs: { dataDir: string } } }): void {
  fs.rmSync(r.dir, { recursive: true, force: true });
  fs.rmSync(r.device.vfs.dataDir, { recursive: true, force: true });
}

/** Run one request script; `inspect` sees the device's data folder before it is removed. */
async function one(engine: (typeof ENGINE_NAMES)[number], port: number, req: string, extra: Partial<RunLuaOptions> = {}, show = 'tostring(r[3])', inspect?: (dataDir: string) => void) {
  const src = `
sys.taskInit(function()
  local r = table.pack(${req}.wait())
  log.info("res", r.n, r[1], ${show})
  log.info("DONE")
end)
sys.run()
`;
  const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', timeoutMs: 30000, device: { network: mappedNetwork(port) }, ...extra });
  const res = r.user.find((l) => l.startsWith('I/user.res ')) ?? `(none) ${r.lines.slice(-20).join('\n')}`;
  try {
    inspect?.(r.device.vfs.dataDir);
  } finally {
    cleanup(r);
  }
  return { res, r };
}

const GET = (p: string, opts = '') => `http.request("GET", "http://video.luatos.com:10030${p}", nil, nil${opts ? ', ' + opts : ''})`;

/** Write `piece` to the socket again and again (respecting back-pressure) until it closes. */
function flood(sock: net.Socket, piece: Buffer): { sent: () => number } {
  let sent = 0;
  let open = true;
  sock.on('close', () => (open = false));
  const batch = Buffer.concat(Array(Math.max(1, Math.floor(65536 / piece.length))).fill(piece));
  const pump = () => {
    while (open && !sock.destroyed) {
      sent += batch.length;
      if (!sock.write(batch)) {
        sock.once('drain', pump);
        return;
      }
    }
  };
  pump();
  return { sent: () => sent };
}

for (const engine of ENGINE_NAMES) {
  test(`item 3: response headers named __proto__, constructor, toString are plain keys; the VM lives (${engine})`, async () => {
    const srv = await startRawServer((req: WireRequest, sock) =>
      sock.end('HTTP/1.1 200 OK\r\n__proto__: evil\r\nconstructor: c\r\ntoString: t\r\nhasOwnProperty: h\r\nContent-Length: 2\r\n\r\nok'),
    );
    try {
      const { res, r } = await one(engine, srv.port, GET('/'), {}, 'type(r[2]), r[2] and r[2]["__proto__"], r[2] and r[2].constructor, r[2] and r[2].toString, r[2] and r[2].hasOwnProperty, r[3]');
      assert.equal(res, 'I/user.res 3 200 table evil c t h ok', r.lines.slice(-15).join('\n'));
    } finally {
      await srv.close();
    }
  });

  test(`item 12: 20 000 interim 100 Continue responses in one read, then the final response (${engine})`, async () => {
    const interim = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'.repeat(20000));
    const srv = await startRawServer((req, sock) => sock.end(Buffer.concat([interim, Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal')])));
    try {
      const { res } = await one(engine, srv.port, GET('/'));
      assert.equal(res, 'I/user.res 3 200 final');
    } finally {
      await srv.close();
    }
  });

  test(`item 4: a Content-Length body over the device's memory fails with -6 and the firmware's line; at the limit it is returned (${engine})`, async () => {
    const big = Buffer.alloc(LIMIT + 1, 0x61);
    const srv = await startRawServer((req, sock) => {
      const n = req.head.startsWith('GET /fits') ? LIMIT : LIMIT + 1;
      sock.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${n}\r\n\r\n`), big.subarray(0, n)]));
    });
    try {
      const over = await one(engine, srv.port, GET('/big'));
      assert.equal(over.res, 'I/user.res 1 -6 nil');
      assert.ok(over.r.lines.some((l) => /luat:E\(\d+\):http:out of memory when recv http body$/.test(l)), over.r.lines.slice(-10).join('\n'));
      const fits = await one(engine, srv.port, GET('/fits'), {}, '#r[3]');
      assert.equal(fits.res, `I/user.res 3 200 ${LIMIT}`);
    } finally {
      await srv.close();
    }
  });

  test(`item 4: endless 1-byte chunks end with -6 at the device's limit, long before the timeout (${engine})`, async () => {
    let f: { sent: () => number } | null = null;
    const srv = await startRawServer((req, sock) => {
      sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
      f = flood(sock, Buffer.from('1\r\na\r\n'));
    });
    try {
      const { res } = await one(engine, srv.port, GET('/', '{timeout=60000}'));
      assert.equal(res, 'I/user.res 1 -6 nil');
      // the server got to send at least the limit's worth of chunks (6 wire bytes per body byte)
      assert.ok(f !== null && (f as { sent: () => number }).sent() >= LIMIT * 6);
    } finally {
      await srv.close();
    }
  });

  test(`item 4: a body until close that never ends (and an absurd chunk size) end with -6 (${engine})`, async () => {
    const srv = await startRawServer((req, sock) => {
      if (req.head.startsWith('GET /chunk')) sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffff\r\n');
      else sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n');
      flood(sock, Buffer.alloc(4096, 0x62));
    });
    try {
      assert.equal((await one(engine, srv.port, GET('/close', '{timeout=60000}'))).res, 'I/user.res 1 -6 nil');
      assert.equal((await one(engine, srv.port, GET('/chunk', '{timeout=60000}'))).res, 'I/user.res 1 -6 nil');
    } finally {
      await srv.close();
    }
  });

  test(`progress callback: 200 000 one-byte chunks queue a bounded number of callback messages; the last one has the final count (${engine})`, async () => {
    const n = 200_000;
    const body = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), Buffer.from('1\r\nq\r\n'.repeat(n)), Buffer.from('0\r\n\r\n')]);
    const srv = await startRawServer((req, sock) => sock.end(body));
    try {
      const src = `
sys.taskInit(function()
  local calls, last = 0, nil
  local c, h, b = http.request("GET", "http://video.luatos.com:10030/", nil, nil, {callback=function(total, got)
    calls = calls + 1
    last = total .. "/" .. got
  end}).wait()
  sys.wait(100)
  log.info("res", c, #b, calls, last)
  log.info("DONE")
end)
sys.run()
`;
      const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', timeoutMs: 60000, device: { network: mappedNetwork(srv.port) } });
      cleanup(r);
      const m = /^I\/user\.res 200 (\d+) (\d+) (\S+)$/.exec(r.user.find((l) => l.startsWith('I/user.res ')) ?? '');
      assert.ok(m, r.user.join('\n'));
      assert.equal(Number(m[1]), n);
      assert.equal(m[3], `0/${n}`);
      // one message per piece would be n + 1 calls
      assert.ok(Number(m[2]) >= 2 && Number(m[2]) < n / 2, `calls: ${m[2]}`);
    } finally {
      await srv.close();
    }
  });

  test(`item 4: the limit follows the profile's memory (a smaller device fails on a body the Air8101 takes) (${engine})`, async () => {
    const body = Buffer.alloc(200 * 1024, 0x63);
    const srv = await startRawServer((req, sock) => sock.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body])));
    try {
      const small = await one(engine, srv.port, GET('/'), { profile: { memory: { lua: 150 * 1024, sys: 238200, sysUsed: 46160, psram: 0, psramUsed: 0 } } }, '#tostring(r[3])');
      assert.equal(small.res, 'I/user.res 1 -6 3');
      const air = await one(engine, srv.port, GET('/'), {}, '#r[3]');
      assert.equal(air.res, `I/user.res 3 200 ${body.length}`);
    } finally {
      await srv.close();
    }
  });

  test(`header block without end, header line without end, too many headers: -2; chunk size line without end or absurd: -3 (${engine})`, async () => {
    const srv = await startRawServer((req, sock) => {
      const p = req.lines[0].split(' ')[1];
      if (p === '/endless-head') {
        sock.write('HTTP/1.1 200 OK\r\n');
        flood(sock, Buffer.from('X-A: b\r\n'));
      } else if (p === '/endless-line') {
        sock.write('HTTP/1.1 200 OK\r\nX-Long: ');
        flood(sock, Buffer.alloc(1024, 0x61));
      } else if (p === '/many') {
        let h = 'HTTP/1.1 200 OK\r\n';
        for (let i = 0; i < 150; i++) h += `h${i}:${i}\r\n`;
        sock.end(h + 'Content-Length: 0\r\n\r\n');
      } else if (p === '/chunkline') {
        sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;');
        flood(sock, Buffer.alloc(1024, 0x78));
      } else {
        sock.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000000\r\nabc');
      }
    });
    try {
      for (const p of ['/endless-head', '/endless-line', '/many']) assert.equal((await one(engine, srv.port, GET(p, '{timeout=60000}'))).res, 'I/user.res 1 -2 nil', p);
      for (const p of ['/chunkline', '/hugesize']) assert.equal((await one(engine, srv.port, GET(p, '{timeout=60000}'))).res, 'I/user.res 1 -3 nil', p);
    } finally {
      await srv.close();
    }
  });

  test(`a server that accepts and never answers or never closes ends with -8 at the request's timeout (${engine})`, async () => {
    const srv = await startRawServer((req, sock) => {
      if (req.head.startsWith('GET /slow')) {
        // a trickle of body that would never end: one byte every 100 ms
        sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n');
        const iv = setInterval(() => (sock.destroyed ? clearInterval(iv) : sock.write('x')), 100);
        sock.on('close', () => clearInterval(iv));
      }
      /* else: silence */
    });
    try {
      assert.equal((await one(engine, srv.port, GET('/silent', '{timeout=1500}'))).res, 'I/user.res 1 -8 nil');
      assert.equal((await one(engine, srv.port, GET('/slow', '{timeout=1500}'))).res, 'I/user.res 1 -8 nil');
    } finally {
      await srv.close();
    }
  });

  test(`item 4: a download (dst) past the device's free flash fails with -7 and leaves no file; one that fits is written (flash accounting stubbed on the Vfs until the file-system limit lands) (${engine})`, async () => {
    const body = Buffer.alloc(10000, 0x64);
    const srv = await startRawServer((req, sock) => sock.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body])));
    // the two shapes the binding reads: freeBytes(), or the root volume's block accounting
    const shapes: Array<[string, (free: number) => Record<string, unknown>]> = [
      ['freeBytes', (free) => ({ freeBytes: () => free })],
      ['root volume', (free) => ({ root: { blockSize: 4096, totalBlocks: 100, usedBlocks: () => 100 - Math.floor(free / 4096), invalidate: () => undefined } })],
    ];
    try {
      for (const [what, shape] of shapes) {
        for (const free of [8192, 12288]) {
          let written: number | null = null;
          const { res, r } = await one(engine, srv.port, GET('/', '{dst="/dl.bin"}'), { onDevice: (d) => Object.assign(d.vfs, shape(free)) }, undefined, (dataDir) => {
            const file = path.join(dataDir, 'dl.bin');
            written = fs.existsSync(file) ? fs.statSync(file).size : null;
          });
          if (free < body.length) {
            assert.equal(res, 'I/user.res 1 -7 nil', what);
            assert.ok(r.lines.some((l) => /luat:E\(\d+\):http:err when fwrite \/dl\.bin$/.test(l)), r.lines.slice(-10).join('\n'));
            assert.equal(written, null, what);
          } else {
            assert.equal(written, body.length, what);
            assert.equal(res, `I/user.res 3 200 ${body.length}`, what);
          }
        }
      }
    } finally {
      await srv.close();
    }
  });
}
