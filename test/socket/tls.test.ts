/**
 * socket TLS (luatos-api-2.md §2.3 config notes): verification is required only when
 * server_cert is given; without it a self-signed server passes; a wrong CA fails the handshake
 * (ON_LINE -1 and a log line); a client certificate is presented for mutual TLS; a certificate
 * that does not parse makes config return false. Real node:tls servers on 127.0.0.1;
 * certificates are made at test time with `openssl` (skipped when it is missing).
 */
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { once } from 'node:events';
import { WifiNetwork } from '../../runtime/net/model';
import { parseMapRule } from '../../runtime/net/direct';
import { ENGINES, FAST, findRec, REF_NET } from '../net/net-helpers';
import { runSock } from './helpers';
import { haveOpenssl, Pem, selfSigned } from '../helpers/certs';

const skip = haveOpenssl() ? false : 'openssl is not installed';
let dir = '';
let serverPem: Pem;
let otherPem: Pem;
let clientPem: Pem;
let srv: tls.Server;
let port = 0;
const peers: string[] = [];

before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-socktls-'));
  serverPem = selfSigned(dir, 'server', 'tls.test', 'DNS:tls.test');
  otherPem = selfSigned(dir, 'other', 'Other CA', 'DNS:other.example');
  clientPem = selfSigned(dir, 'client', 'device-C8C2C68C5DEA', 'DNS:device');
  srv = tls.createServer({ key: serverPem.key, cert: serverPem.cert, requestCert: true, rejectUnauthorized: false, ca: [clientPem.cert] }, (s) => {
    const cert = s.getPeerCertificate();
    peers.push(s.authorized ? `authorized ${cert.subject?.CN}` : 'anonymous');
    s.on('data', (d) => s.write(`tls:${d}`));
    s.on('error', () => undefined);
  });
  srv.on('tlsClientError', () => undefined);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  port = (srv.address() as { port: number }).port;
});

after(() => {
  srv?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function luaStr(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`;
}

const SCRIPT = (cfg: string) => `
  sys.taskInit(function()
    wlan.connect("lab", "pw")
    sys.waitUntil("IP_READY", 5000)
    local netc = socket.create(nil, function(c, ev, p)
      if ev == socket.ON_LINE then sys.publish("ONLINE", p)
      elseif ev == socket.EVENT and p == 0 then
        local ok, d = socket.read(c)
        if #d > 0 then log.info("read", ok, d); sys.publish("DATA") end
      end
    end)
    log.info("config", ${cfg})
    socket.connect(netc, "tls.test", 443)
    local _, p = sys.waitUntil("ONLINE", 4000)
    log.info("online", p)
    if p == 0 then
      socket.tx(netc, "hello")
      sys.waitUntil("DATA", 4000)
    end
    socket.close(netc)
    log.info("DONE")
  end)
  sys.run()
`;

for (const engine of ENGINES) {
  const run = (cfg: string) =>
    runSock({ 'main.lua': SCRIPT(cfg) }, new WifiNetwork({ ...REF_NET, timing: FAST, rules: [parseMapRule(`tls.test:443=127.0.0.1:${port}`)] }), {
      engine,
      until: 'I/user.DONE',
      timeoutMs: 8000,
    });

  test(`TLS without server_cert: a self-signed server is accepted (no verification) (${engine})`, { skip }, async () => {
    const r = await run('socket.config(netc, nil, false, true)');
    assert.deepEqual(r.user, ['I/user.config true', 'I/user.online 0', 'I/user.read true tls:hello', 'I/user.DONE'], r.lines.join('\n'));
  });

  test(`TLS with the right server_cert verifies and connects; a wrong one fails the handshake (${engine})`, { skip }, async () => {
    const good = await run(`socket.config(netc, nil, false, true, nil, nil, nil, ${luaStr(serverPem.cert)})`);
    assert.deepEqual(good.user, ['I/user.config true', 'I/user.online 0', 'I/user.read true tls:hello', 'I/user.DONE'], good.lines.join('\n'));
    const bad = await run(`socket.config(netc, nil, false, true, nil, nil, nil, ${luaStr(otherPem.cert)})`);
    assert.deepEqual(bad.user, ['I/user.config true', 'I/user.online -1', 'I/user.DONE'], bad.lines.join('\n'));
    assert.ok(findRec(bad.records, /^socket:TLS handshake failed: /) >= 0, bad.lines.join('\n'));
  });

  test(`TLS client certificate: the server sees the device's certificate (${engine})`, { skip }, async () => {
    peers.length = 0;
    const r = await run(`socket.config(netc, nil, false, true, nil, nil, nil, nil, ${luaStr(clientPem.cert)}, ${luaStr(clientPem.key)})`);
    assert.deepEqual(r.user, ['I/user.config true', 'I/user.online 0', 'I/user.read true tls:hello', 'I/user.DONE'], r.lines.join('\n'));
    assert.deepEqual(peers, ['authorized device-C8C2C68C5DEA']);
  });

  test(`TLS config with a certificate that does not parse returns false with a log line; DTLS is refused (${engine})`, { skip }, async () => {
    const src = `
      local netc = socket.create(socket.LWIP_STA, "t")
      log.info("cfg", socket.config(netc, nil, false, true, nil, nil, nil, "not a certificate"))
      log.info("cfg2", socket.config(netc, nil, false, true, nil, nil, nil, nil, "junk", "junk"))
      log.info("dtls", socket.config(netc, nil, true, true))
      log.info("plain", socket.config(netc, 1234, true, false, 0))
      log.info("DONE")
    `;
    const r = await runSock({ 'main.lua': src }, new WifiNetwork({ ...REF_NET, timing: FAST }), { engine, until: 'I/user.DONE' });
    assert.deepEqual(r.user, ['I/user.cfg false', 'I/user.cfg2 false', 'I/user.dtls false', 'I/user.plain true', 'I/user.DONE']);
    assert.ok(findRec(r.records, /^socket:network_set_server_cert failed/) >= 0, r.lines.join('\n'));
    assert.ok(findRec(r.records, /^socket:network_set_client_cert failed/) >= 0, r.lines.join('\n'));
  });
}
