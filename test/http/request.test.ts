/**
 * http.request against real local servers (reached through host mapping), both engines:
 * the reference demo's JSON POST, the wire format, chunked bodies, statuses, redirects,
 * zbuff bodies, the progress callback, `.cb()`, immediate −4, and the firmware log lines.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { runLua } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { mappedNetwork, response, startRawServer } from './servers';

const RES = (u: string[]) => u.find((l) => l.startsWith('I/user.res')) ?? '(no result line)';

for (const engine of ENGINE_NAMES) {
  test(`POST JSON like the reference demo: wire format and results (${engine})`, async () => {
    const reply = '{"msg":"操作成功","code":200,"data":{"urlList":["rtmp://180.152.6.34:1935/live/x"]}}';
    const srv = await startRawServer((req, sock) => sock.end(response('200 OK', { 'Content-Type': 'application/json', 'X-Test': 'yes' }, reply)));
    try {
      const src = `
sys.taskInit(function()
  local url = "http://video.luatos.com:10030/api-system/deviceVideo/get/C8C2C68C5DEA"
  local code, headers, body = http.request("POST", url, {["Accept-Encoding"]="identity", ["Host"]="video.luatos.com:10030", ["Content-Type"]="application/json"}, json.encode({deviceId="C8C2C68C5DEA"})).wait()
  log.info("res", code, type(headers), headers["Content-Type"], headers["X-Test"], headers["Content-Length"])
  log.info("body", body)
  local t = json.decode(body)
  log.info("rtmp", t.data.urlList[1])
  log.info("DONE")
end)
sys.run()
`;
      const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', timeoutMs: 8000, device: { network: mappedNetwork(srv.port) } });
      assert.equal(srv.requests.length, 1);
      const req = srv.requests[0];
      assert.equal(req.lines[0], 'POST /api-system/deviceVideo/get/C8C2C68C5DEA HTTP/1.1');
      assert.equal(req.lines[1], 'Connection: Close');
      // user headers as Name:value in table order, then the length; the user Host replaces ours
      const rest = req.lines.slice(2);
      assert.deepEqual([...rest].sort(), ['Accept-Encoding:identity', 'Content-Length:27', 'Content-Type:application/json', 'Host:video.luatos.com:10030'].sort());
      assert.equal(rest[rest.length - 1], 'Content-Length:27');
      assert.equal(req.body.toString(), '{"deviceId":"C8C2C68C5DEA"}');
      assert.ok(RES(r.user).startsWith('I/user.res 200 table application/json yes'), RES(r.user));
      assert.ok(r.user.includes(`I/user.body ${reply}`), r.user.join('\n'));
      assert.ok(r.user.includes('I/user.rtmp rtmp://180.152.6.34:1935/live/x'));
      // firmware lines, in order, with the real (mapped) address
      const idx = (re: RegExp) => r.lines.findIndex((l) => re.test(l));
      const order = [
        idx(/luat:I\(\d+\):http:http idp:1$/),
        idx(/luat:D\(\d+\):DNS:video\.luatos\.com state 0 id 1 ipv6 0 use dns server0, try 0$/),
        idx(/luat:D\(\d+\):net:adatper 2 dns server 223\.5\.5\.5$/),
        idx(/luat:D\(\d+\):net:dns udp sendto 223\.5\.5\.5:53 from \d+\.\d+\.\d+\.\d+$/),
        idx(/luat:I\(\d+\):DNS:dns all done ,now stop$/),
        idx(new RegExp(`luat:D\\(\\d+\\):net:adapter 2 connect 127\\.0\\.0\\.1:${srv.port} TCP$`)),
        idx(/luat:I\(\d+\):http:http close 0x[0-9a-f]{8}$/),
        idx(/I\/user\.res 200/),
      ];
      assert.ok(order.every((i) => i >= 0), `missing line: ${order}\n${r.lines.join('\n')}`);
      assert.deepEqual([...order].sort((a, b) => a - b), order, r.lines.join('\n'));
    } finally {
      await srv.close();
    }
  });

  test(`GET: automatic Host with the port, Connection: Close first, nothing else (${engine})`, async () => {
    const srv = await startRawServer((req, sock) => sock.end(response('200 OK', {}, 'hello')));
    try {
      const src = `
sys.taskInit(function()
  local c1, h1, b1 = http.request("GET", "http://video.luatos.com/a/b?x=1&y=2").wait()
  local c2, h2, b2 = http.request(nil, "http://video.luatos.com:10030").wait()
  local c3, h3, b3 = http.request("GET", "http://user:pw@video.luatos.com:10030/p", {["Connection"]="keep-alive", ["Content-Length"]="999", ["X-Num"]=12}, "").wait()
  log.info("res", c1, b1, c2, b2, c3, b3)
  log.info("DONE")
end)
sys.run()
`;
      const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', timeoutMs: 8000, device: { network: mappedNetwork(srv.port) } });
      assert.equal(RES(r.user), 'I/user.res 200 hello 200 hello 200 hello');
      assert.deepEqual(srv.requests[0].lines, ['GET /a/b?x=1&y=2 HTTP/1.1', 'Connection: Close', 'Host: video.luatos.com:80']);
      assert.deepEqual(srv.requests[1].lines, ['GET / HTTP/1.1', 'Connection: Close', 'Host: video.luatos.com:10030']);
      const l3 = srv.requests[2].lines;
      assert.equal(l3[0], 'GET /p HTTP/1.1');
      assert.equal(l3[1], 'Host: video.luatos.com:10030');
      assert.equal(l3[2], `Authorization: Basic ${Buffer.from('user:pw').toString('base64')}`);
      assert.deepEqual(l3.slice(3, 5).sort(), ['Connection:keep-alive', 'X-Num:12']);
      assert.equal(l3[5], 'Content-Length:0');
      assert.equal(l3.length, 6);
    } finally {
      await srv.close();
    }
  });

  test(`any status comes back as code, headers, body; redirects are not followed; chunked is decoded (${engine})`, async () => {
    const srv = http.createServer((req, res) => {
      if (req.url === '/missing') {
        res.writeHead(404, { 'X-Why': 'gone' });
        res.end('not here');
      } else if (req.url === '/moved') {
        res.writeHead(302, { Location: 'http://video.luatos.com:10030/missing' });
        res.end();
      } else if (req.url === '/chunked') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('part one, ');
        setTimeout(() => {
          res.write('part two, ');
          setTimeout(() => res.end('end'), 20);
        }, 20);
      } else if (req.url === '/binary') {
        res.writeHead(200);
        res.end(Buffer.from([0, 1, 2, 255, 0, 10, 13]));
      } else {
        res.writeHead(500);
        res.end('?');
      }
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const src = `
sys.taskInit(function()
  local base = "http://video.luatos.com:10030"
  local c, h, b = http.request("GET", base .. "/missing").wait()
  log.info("r404", c, h["X-Why"], b)
  c, h, b = http.request("GET", base .. "/moved").wait()
  log.info("r302", c, h["Location"], #b)
  c, h, b = http.request("GET", base .. "/chunked").wait()
  log.info("rchunk", c, h["Transfer-Encoding"], b)
  c, h, b = http.request("GET", base .. "/binary").wait()
  log.info("rbin", c, #b, b:byte(1), b:byte(4), b:byte(7))
  log.info("DONE")
end)
sys.run()
`;
      const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', timeoutMs: 8000, device: { network: mappedNetwork(port) } });
      assert.ok(r.user.includes('I/user.r404 404 gone not here'), r.user.join('\n'));
      assert.ok(r.user.includes('I/user.r302 302 http://video.luatos.com:10030/missing 0'), r.user.join('\n'));
      assert.ok(r.user.includes('I/user.rchunk 200 chunked part one, part two, end'), r.user.join('\n'));
      assert.ok(r.user.includes('I/user.rbin 200 7 0 255 13'), r.user.join('\n'));
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  test(`.cb() form, and a bad URL / method fails with -4 at once (${engine})`, async () => {
    const srv = await startRawServer((req, sock) => sock.end(response('201 Created', {}, 'made')));
    try {
      const src = `
-- immediate failures: .wait() returns at once, outside a task too
log.info("bad1", http.request("GET", "ftp://video.luatos.com/x").wait())
log.info("bad2", http.request("GET", "http://a.b").wait())
log.info("bad3", http.request("GETTTTTTTTTTT", "http://video.luatos.com/x").wait())
log.info("bad4", http.request("GET", "http://video.luatos.com/x", nil, nil, {adapter=99}).wait())
log.info("bad5", http.request("GET", "http://video.luatos.com/x", nil, nil, {dst="/a.bin", fota=true}).wait())
log.info("perr", pcall(http.request, "GET"))
http.request("POST", "http://video.luatos.com:10030/cb", nil, "x=1").cb(function(code, headers, body)
  log.info("cb", code, body)
  log.info("DONE")
end)
sys.run()
`;
      const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', timeoutMs: 8000, device: { network: mappedNetwork(srv.port) } });
      for (const n of [1, 2, 3, 4, 5]) assert.ok(r.user.includes(`I/user.bad${n} -4`), r.user.join('\n'));
      assert.ok(r.user.some((l) => l.startsWith("I/user.perr false bad argument #2 to 'request' (string expected, got no value)")), r.user.join('\n'));
      assert.ok(r.user.includes('I/user.cb 201 made'), r.user.join('\n'));
      assert.ok(r.lines.some((l) => l.endsWith('http:only http/https supported ftp://video.luatos.com/x')));
      assert.ok(r.lines.some((l) => l.endsWith('http:method is too long GETTTTTTTTTTT')));
      assert.ok(r.lines.some((l) => l.endsWith('http:bad network adapter index 99')));
      assert.equal(srv.requests.length, 1);
      assert.equal(srv.requests[0].body.toString(), 'x=1');
    } finally {
      await srv.close();
    }
  });

  test(`the VM ending (rtos.reboot) closes an in-flight request's connection (${engine})`, async () => {
    let closed = 0;
    const srv = await startRawServer(() => {}, (sock) => sock.on('close', () => closed++));
    try {
      const src = `
sys.taskInit(function()
  log.info("start")
  http.request("GET", "http://video.luatos.com:10030/hang", nil, nil, {timeout=20000}).wait()
  log.info("never")
end)
sys.timerStart(rtos.reboot, 300)
sys.run()
`;
      const r = await runLua({ 'main.lua': src }, { engine, timeoutMs: 5000, device: { network: mappedNetwork(srv.port) } });
      assert.equal(r.stop?.exit?.kind, 'reboot', r.lines.join('\n'));
      assert.ok(!r.user.includes('I/user.never'));
      await new Promise((res) => setTimeout(res, 100));
      assert.equal(srv.connections, 1);
      assert.equal(closed, 1, 'the connection was not closed when the VM ended');
    } finally {
      await srv.close();
    }
  });

  test(`zbuff as POST body and as response sink; progress callback with userdata (${engine})`, async () => {
    const big = Buffer.alloc(3000, 'z');
    const srv = await startRawServer((req, sock) => {
      if (req.lines[0].startsWith('POST')) sock.end(response('200 OK', {}, 'got ' + req.body.length));
      else {
        // the body in three pieces
        const all = response('200 OK', {}, big);
        const head = all.length - big.length;
        sock.write(all.subarray(0, head + 1000));
        setTimeout(() => sock.write(all.subarray(head + 1000, head + 2000)), 30);
        setTimeout(() => sock.end(all.subarray(head + 2000)), 60);
      }
    });
    try {
      const src = `
sys.taskInit(function()
  local zb = zbuff.create(16)
  zb:write("hello zbuff")
  local c, h, b = http.request("POST", "http://video.luatos.com:10030/up", nil, zb).wait()
  log.info("post", c, b)
  local sink = zbuff.create(8)
  sink:write("AB")
  local calls = {}
  c, h, b = http.request("GET", "http://video.luatos.com:10030/down", nil, sink, {callback=function(total, got, ud)
    table.insert(calls, total .. "/" .. got .. "/" .. tostring(ud))
  end, userdata="UD"}).wait()
  log.info("sink", c, b, sink:used(), sink:toStr(0, 4), sink:toStr(sink:used() - 1, 1))
  sys.wait(50)
  log.info("calls", #calls, calls[1], calls[#calls])
  log.info("DONE")
end)
sys.run()
`;
      const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', timeoutMs: 8000, device: { network: mappedNetwork(srv.port) } });
      assert.equal(srv.requests[0].body.toString(), 'hello zbuff');
      assert.ok(srv.requests[0].lines.includes('Content-Length:11'));
      assert.ok(r.user.includes('I/user.post 200 got 11'), r.user.join('\n'));
      assert.ok(r.user.includes('I/user.sink 200 3000 3002 ABzz z'), r.user.join('\n'));
      const calls = r.user.find((l) => l.startsWith('I/user.calls')) ?? '';
      const m = /^I\/user\.calls (\d+) 3000\/0\/UD 3000\/3000\/UD$/.exec(calls);
      assert.ok(m && Number(m[1]) >= 2, calls);
    } finally {
      await srv.close();
    }
  });
}
