/**
 * HTTPS like the device: a self-signed server certificate passes when no `server_ca` is given
 * (nothing is verified), fails with a wrong CA or a host name the certificate does not cover,
 * and passes with the right CA. Also −6: TLS records that cannot be decrypted after the
 * handshake. Certificates are made at test time with `openssl` (skipped when it is missing).
 */
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { runLua } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { mappedNetwork } from './servers';
import { tempDir } from '../helpers/tmp';
import { haveOpenssl, Pem, selfSigned } from '../helpers/certs';

const skip = haveOpenssl() ? false : 'openssl is not installed';
let dir = '';
let server: Pem;
let other: Pem;
let httpsSrv: https.Server;
let port = 0;
let received: string[] = [];

before(async () => {
  if (skip) return;
  dir = tempDir('luatos-tls-');
  server = selfSigned(dir, 'server', 'video.luatos.com', 'DNS:video.luatos.com,IP:127.0.0.1');
  other = selfSigned(dir, 'other', 'Some Other CA', 'DNS:other.example');
  httpsSrv = https.createServer({ key: server.key, cert: server.cert }, (req, res) => {
    received.push(`${req.method} ${req.url} host=${req.headers.host} conn=${req.headers.connection}`);
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`secure ${req.method} ${body}`);
    });
  });
  await new Promise<void>((r) => httpsSrv.listen(0, '127.0.0.1', () => r()));
  port = (httpsSrv.address() as net.AddressInfo).port;
});

after(async () => {
  if (skip) return;
  await new Promise<void>((r) => httpsSrv.close(() => r()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const luaLong = (s: string) => `[==[${s}]==]`;

for (const engine of ENGINE_NAMES) {
  test(`https: self-signed passes without server_ca, fails with a wrong CA or host, passes with the right CA (${engine})`, { skip }, async () => {
    received = [];
    const src = `
sys.taskInit(function()
  local url = "https://video.luatos.com/api"
  local c, h, b = http.request("POST", url, {["Content-Type"]="text/plain"}, "no-ca").wait()
  log.info("noca", c, b)
  log.info("wrong", http.request("GET", url, nil, nil, nil, ${luaLong(other.cert)}).wait())
  c, h, b = http.request("GET", url, nil, nil, nil, ${luaLong(server.cert)}).wait()
  log.info("right", c, b)
  log.info("badname", http.request("GET", "https://alias.example:443/api", nil, nil, nil, ${luaLong(server.cert)}).wait())
  c, h, b = http.request("GET", "https://alias.example:443/api").wait()
  log.info("badname-noca", c, b)
  log.info("DONE")
end)
sys.run()
`;
    const netw = mappedNetwork(port, [`alias.example:443=127.0.0.1:${port}`]);
    const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', timeoutMs: 10000, device: { network: netw } });
    assert.ok(r.user.includes('I/user.noca 200 secure POST no-ca'), r.user.join('\n'));
    assert.ok(r.user.includes('I/user.wrong -4'), r.user.join('\n'));
    assert.ok(r.user.includes('I/user.right 200 secure GET '), r.user.join('\n'));
    assert.ok(r.user.includes('I/user.badname -4'), r.user.join('\n'));
    assert.ok(r.user.includes('I/user.badname-noca 200 secure GET '), r.user.join('\n'));
    assert.equal(received[0], 'POST /api host=video.luatos.com:443 conn=Close');
    assert.ok(r.lines.some((l) => new RegExp(`net:adapter 2 connect 127\\.0\\.0\\.1:${port} TCP$`).test(l)));
  });

  test(`-6: TLS records that cannot be decrypted after the handshake (${engine})`, { skip }, async () => {
    const sockets = new Set<net.Socket>();
    const raw = net.createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => {});
      const t = new tls.TLSSocket(sock, { isServer: true, key: server.key, cert: server.cert });
      t.on('error', () => {});
      t.once('data', () => {
        // a valid record header (application data, TLS 1.2) with a body that is not a valid record
        sock.write(Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x40]), Buffer.alloc(64, 0xab)]));
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()));
    const rport = (raw.address() as net.AddressInfo).port;
    try {
      const src = `
sys.taskInit(function()
  log.info("res", select("#", http.request("GET", "https://video.luatos.com/x", nil, nil, {timeout=5000}).wait()), http.request("GET", "https://video.luatos.com/x", nil, nil, {timeout=5000}).wait())
  log.info("DONE")
end)
sys.run()
`;
      const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', timeoutMs: 10000, device: { network: mappedNetwork(rport) } });
      assert.ok(r.user.includes('I/user.res 1 -6'), r.user.join('\n'));
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => raw.close(() => r()));
    }
  });
}
