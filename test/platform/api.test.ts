/**
 * The local platform's device API over real HTTP and HTTPS servers on 127.0.0.1: the demo's
 * request, the error answers, the config, the `http fail` faults, and the host mapping (a Lua
 * script on both engines reaches it as `video.luatos.com`).
 */
import { test, before, after, beforeEach } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { startLocalPlatform, type LocalPlatform, type ApiRequestInfo, PlatformConfigError, answerDeviceApi, makeSelfSignedCert } from '../../runtime/host/platform';
import { FaultRegistry, FaultError } from '../../runtime/core/faults';
import { DirectNetwork } from '../../runtime/net/direct';
import { runLua } from '../helpers/run-lua';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { tempDir } from '../helpers/tmp';

const DEMO_BODY = JSON.stringify({ deviceAccess: '8', deviceUser: 'admin', devicePsd: 'Air123456' });
const DEMO_HEADERS = { 'Accept-Encoding': 'identity', Host: 'video.luatos.com:10030', 'Content-Type': 'application/json' };
/** the body in the reference device log (README-AirCAMERA_1030-rtmp.md) */
const REFERENCE_BODY = '{"msg":"操作成功","code":200,"data":{"urlList":["rtmp://180.152.6.34:1935/stream1live/93ecc063_8d75_4356_82ea_6a78914b649d_0001"],"deviceId":"93ecc063_8d75_4356_82ea_6a78914b649d","deviceChannels":1}}';

interface Reply {
  status?: number;
  body?: string;
  headers?: http.IncomingHttpHeaders;
  error?: NodeJS.ErrnoException;
  ms: number;
}

function request(url: string, o: { method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number; ca?: string; servername?: string } = {}): Promise<Reply> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: o.method ?? 'POST',
        headers: o.headers ?? DEMO_HEADERS,
        agent: false,
        rejectUnauthorized: o.ca ? true : false,
        ca: o.ca,
        servername: o.servername,
      } as https.RequestOptions,
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers, ms: Date.now() - t0 }));
        res.on('error', (error) => resolve({ error, ms: Date.now() - t0 }));
      },
    );
    req.setTimeout(o.timeoutMs ?? 5000, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error, ms: Date.now() - t0 }));
    req.end(o.body ?? DEMO_BODY);
  });
}

/** the same structure, key order and value types */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object') return Object.entries(v).map(([k, x]) => [k, shape(x)]);
  return typeof v;
}

let p: LocalPlatform;
const requests: ApiRequestInfo[] = [];
before(async () => {
  p = await startLocalPlatform();
  p.on('request', (i: ApiRequestInfo) => requests.push(i));
});
after(async () => {
  await p?.stop();
});
beforeEach(() => {
  p.httpFaults.clear();
  requests.length = 0;
});

test('demo POST over plain HTTP: 200 and the reference body shape with a URL of the local ingest', async () => {
  const r = await request(p.apiUrl('C8C2C68C5DEA'));
  assert.equal(r.status, 200, String(r.error));
  assert.match(String(r.headers?.['content-type']), /^application\/json/);
  const want = `{"msg":"操作成功","code":200,"data":{"urlList":["rtmp://127.0.0.1:${p.rtmpPort}/live/C8C2C68C5DEA"],"deviceId":"C8C2C68C5DEA","deviceChannels":1}}`;
  assert.equal(r.body, want);
  assert.deepEqual(shape(JSON.parse(r.body!)), shape(JSON.parse(REFERENCE_BODY)), 'same keys in the same order as the real platform');
  assert.equal(p.publishUrl('C8C2C68C5DEA'), `rtmp://127.0.0.1:${p.rtmpPort}/live/C8C2C68C5DEA`);
  assert.equal(requests.length, 1);
  assert.equal(requests[0].deviceId, 'C8C2C68C5DEA');
  assert.equal(requests[0].host, 'video.luatos.com');
  assert.equal(requests[0].code, 200);
});

test('demo POST over HTTPS (self-signed, not verified by the client) and verified against the platform certificate', async () => {
  const r = await request(p.apiUrl('C8C2C68C5DEA', 'https'), { headers: { ...DEMO_HEADERS, Host: 'video.luatos.com' } });
  assert.equal(r.status, 200, String(r.error));
  assert.equal(JSON.parse(r.body!).data.urlList[0], `rtmp://127.0.0.1:${p.rtmpPort}/live/C8C2C68C5DEA`);
  // a verifying client that trusts the platform's certificate accepts it for the name
  const v = await request(p.apiUrl('AABBCCDDEEFF', 'https'), { ca: p.certificate, servername: 'video.luatos.com' });
  assert.equal(v.status, 200, String(v.error));
  // …and a verifying client without it refuses (it really is self-signed)
  const n = await request(p.apiUrl('AABBCCDDEEFF', 'https'), { ca: (await makeSelfSignedCert()).cert, servername: 'video.luatos.com' });
  assert.ok(n.error, 'an untrusted certificate is rejected');
  assert.equal(requests.filter((x) => x.scheme === 'https').length, 2);
});

test('the certificate: X.509 v3, P-256, SAN video.luatos.com + 127.0.0.1, valid now, self-signed', async () => {
  const x = new crypto.X509Certificate(p.certificate);
  assert.ok(x.verify(x.publicKey), 'self-signed');
  assert.equal(x.checkHost('video.luatos.com'), 'video.luatos.com');
  assert.equal(x.checkIP('127.0.0.1'), '127.0.0.1');
  assert.ok(new Date(x.validFrom).getTime() < Date.now() && new Date(x.validTo).getTime() > Date.now() + 365 * 86400_000);
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  // a year ≥ 2050 needs GeneralizedTime (RFC 5280): still parses
  const far = new crypto.X509Certificate((await makeSelfSignedCert({ days: 365 * 40, dnsNames: ['a.example'], ipAddresses: ['::1'] })).cert);
  assert.ok(new Date(far.validTo).getUTCFullYear() >= 2060);
  assert.equal(far.checkIP('::1'), '::1');
});

test('GET works with the JSON body and with query parameters; GET with nothing is an error', async () => {
  const a = await request(p.apiUrl('C8C2C68C5DEA'), { method: 'GET', headers: { ...DEMO_HEADERS, 'Content-Length': String(Buffer.byteLength(DEMO_BODY)) } });
  assert.equal(JSON.parse(a.body!).code, 200);
  const b = await request(p.apiUrl('C8C2C68C5DEA') + '?deviceAccess=8&deviceUser=admin&devicePsd=Air123456', { method: 'GET', body: '', headers: {} });
  assert.equal(JSON.parse(b.body!).code, 200);
  const c = await request(p.apiUrl('C8C2C68C5DEA'), { method: 'GET', body: '', headers: {} });
  assert.equal(c.status, 200);
  assert.deepEqual(JSON.parse(c.body!), { msg: '请求参数格式错误: 缺少参数 deviceAccess', code: 500 });
});

test('wrong credentials, bad bodies, wrong method: HTTP 200 with the error JSON (code 500, msg)', async () => {
  const cases: [string, string, string][] = [
    ['wrong password', JSON.stringify({ deviceAccess: '8', deviceUser: 'admin', devicePsd: 'nope' }), '设备用户名或密码错误'],
    ['wrong user', JSON.stringify({ deviceAccess: '8', deviceUser: 'root', devicePsd: 'Air123456' }), '设备用户名或密码错误'],
    ['wrong access', JSON.stringify({ deviceAccess: '7', deviceUser: 'admin', devicePsd: 'Air123456' }), '设备接入方式不匹配'],
    ['not JSON', '{"deviceAccess":"8",', '请求参数格式错误: 请求体不是有效的JSON'],
    ['empty POST', '', '请求参数格式错误: 请求体不是有效的JSON'],
    ['a JSON array', '[1,2]', '请求参数格式错误: 请求体必须是JSON对象'],
    ['missing password', JSON.stringify({ deviceAccess: '8', deviceUser: 'admin' }), '请求参数格式错误: 缺少参数 devicePsd'],
    ['password as a number', JSON.stringify({ deviceAccess: '8', deviceUser: 'admin', devicePsd: 123456 }), '请求参数格式错误: 参数 devicePsd 必须是字符串'],
  ];
  for (const [what, body, msg] of cases) {
    const r = await request(p.apiUrl('C8C2C68C5DEA'), { body });
    assert.equal(r.status, 200, what);
    assert.equal(r.body, JSON.stringify({ msg, code: 500 }), what);
  }
  // deviceAccess as a number is accepted (same value)
  const n = await request(p.apiUrl('C8C2C68C5DEA'), { body: JSON.stringify({ deviceAccess: 8, deviceUser: 'admin', devicePsd: 'Air123456' }) });
  assert.equal(JSON.parse(n.body!).code, 200);
  const put = await request(p.apiUrl('C8C2C68C5DEA'), { method: 'PUT' });
  assert.deepEqual(JSON.parse(put.body!), { msg: "请求方式'PUT'不支持", code: 500 });
  const big = await request(p.apiUrl('C8C2C68C5DEA'), { body: Buffer.alloc(100 * 1024, 0x20) });
  assert.deepEqual(JSON.parse(big.body!), { msg: '请求体过大', code: 500 });
});

test('unknown paths answer 404 with the error JSON', async () => {
  for (const pth of ['/', '/api-system/deviceVideo/get/', '/api-system/deviceVideo/get/a/b', '/other']) {
    const r = await request(`http://127.0.0.1:${p.httpPort}${pth}`);
    assert.equal(r.status, 404, pth);
    assert.equal(JSON.parse(r.body!).code, 404);
    assert.match(JSON.parse(r.body!).msg, /^请求地址'.*'不存在$/);
  }
});

test('config: device entries, false, allowUnknownDevices, URL templates, platform id, JSON file', () => {
  const base = { host: '127.0.0.1', port: 1935 };
  const cfg = {
    credentials: { devicePsd: 'pw' },
    devices: {
      C8C2C68C5DEA: { platformDeviceId: '93ecc063_8d75', urlList: ['{rtmp}/stream1live/{platformDeviceId}_0001', 'rtmp://example.com/x/y'], deviceChannels: 2 },
      BLOCKED: false as const,
      SPECIAL: { deviceUser: 'u', devicePsd: 's', deviceAccess: null },
    },
  };
  const call = (id: string, body: object, c: object = cfg) => JSON.parse(answerDeviceApi(c, base, 'POST', '/api-system/deviceVideo/get/' + id, Buffer.from(JSON.stringify(body))).body);
  const demo = { deviceAccess: '8', deviceUser: 'admin', devicePsd: 'pw' };
  assert.deepEqual(call('C8C2C68C5DEA', demo), {
    msg: '操作成功',
    code: 200,
    data: { urlList: ['rtmp://127.0.0.1:1935/stream1live/93ecc063_8d75_0001', 'rtmp://example.com/x/y'], deviceId: '93ecc063_8d75', deviceChannels: 2 },
  });
  assert.equal(call('c8c2c68c5dea', demo).data.deviceId, '93ecc063_8d75', 'ids match case-insensitively');
  assert.deepEqual(call('BLOCKED', demo), { msg: '设备不存在', code: 500 });
  assert.equal(call('ANY', demo).data.urlList[0], 'rtmp://127.0.0.1:1935/live/ANY', 'unknown ids get a URL by default');
  assert.deepEqual(call('ANY', { ...demo, devicePsd: 'Air123456' }), { msg: '设备用户名或密码错误', code: 500 }, 'global credentials apply');
  assert.equal(call('SPECIAL', { deviceAccess: 'whatever', deviceUser: 'u', devicePsd: 's' }).code, 200, 'deviceAccess null accepts any');
  assert.equal(call(encodeURIComponent('a b/c'), demo).data.urlList[0], 'rtmp://127.0.0.1:1935/live/a_b_c', 'ids made safe for a stream name');
  assert.deepEqual(call('ANY', demo, { ...cfg, allowUnknownDevices: false }), { msg: '设备不存在', code: 500 });
  // JSON file
  const dir = tempDir('luatos-platform-cfg-');
  const good = path.join(dir, 'good.json');
  fs.writeFileSync(good, JSON.stringify(cfg));
  const bad = path.join(dir, 'bad.json');
  fs.writeFileSync(bad, JSON.stringify({ devices: { X: { pasword: 'typo' } } }));
  return (async () => {
    const q = await startLocalPlatform({ config: good });
    try {
      const r = await request(q.apiUrl('C8C2C68C5DEA'), { body: JSON.stringify(demo) });
      assert.deepEqual(JSON.parse(r.body!).data.urlList, [`rtmp://127.0.0.1:${q.rtmpPort}/stream1live/93ecc063_8d75_0001`, 'rtmp://example.com/x/y']);
      assert.equal(q.streamPath('C8C2C68C5DEA'), '/stream1live/93ecc063_8d75_0001', 'play URLs follow the configured stream');
      assert.equal(q.flvUrl('C8C2C68C5DEA'), `http://127.0.0.1:${q.flvPort}/stream1live/93ecc063_8d75_0001.flv`);
      assert.equal(q.wsFlvUrl('OTHER'), `ws://127.0.0.1:${q.flvPort}/live/OTHER.flv`);
    } finally {
      await q.stop();
    }
    await assert.rejects(startLocalPlatform({ config: bad }), (e: Error) => e instanceof PlatformConfigError && /devices\.X: unknown field 'pasword'/.test(e.message));
    await assert.rejects(startLocalPlatform({ config: path.join(dir, 'missing.json') }), PlatformConfigError);
    fs.rmSync(dir, { recursive: true, force: true });
  })();
});

test('http fail <host> <status> [count]: the next N requests to that host get the status, then normal answers', async () => {
  const reg = new FaultRegistry();
  const off = p.registerFaults(reg);
  try {
    assert.ok(reg.has('http') && reg.has('rtmp-server'));
    await reg.run('http', ['fail', 'video.luatos.com', '503', '2']);
    const a = await request(p.apiUrl('C8C2C68C5DEA'));
    const b = await request(p.apiUrl('C8C2C68C5DEA', 'https'));
    const c = await request(p.apiUrl('C8C2C68C5DEA'));
    assert.equal(a.status, 503);
    assert.deepEqual(JSON.parse(a.body!), { msg: 'Service Unavailable', code: 503 });
    assert.equal(b.status, 503, 'HTTPS counts too');
    assert.equal(c.status, 200);
    assert.equal(JSON.parse(c.body!).code, 200);
    assert.deepEqual(requests.map((r) => [r.status, r.fault]), [[503, true], [503, true], [200, false]]);
    // default count 1; another host is not affected; '*' matches any
    await reg.run('http', ['fail', 'video.luatos.com', '500']);
    assert.equal((await request(p.apiUrl('X'), { headers: { ...DEMO_HEADERS, Host: 'other.example' } })).status, 200);
    assert.equal((await request(p.apiUrl('X'))).status, 500);
    assert.equal((await request(p.apiUrl('X'))).status, 200);
    await reg.run('http', ['fail', '*', '404', 'always']);
    for (let i = 0; i < 3; i++) assert.equal((await request(p.apiUrl('X'), { headers: { ...DEMO_HEADERS, Host: `h${i}.example:99` } })).status, 404);
    await reg.run('http', ['ok']);
    assert.equal((await request(p.apiUrl('X'))).status, 200);
  } finally {
    off();
  }
  assert.equal(reg.has('http'), false, 'unregistered');
});

test('http fail <host> reset: the connection is reset (plain and TLS); timeout: no answer until the client gives up', async () => {
  const reg = new FaultRegistry();
  const off = p.registerFaults(reg);
  try {
    await reg.run('http', ['fail', 'video.luatos.com', 'reset', '2']);
    const a = await request(p.apiUrl('C8C2C68C5DEA'));
    assert.equal(a.error?.code, 'ECONNRESET', String(a.error));
    const b = await request(p.apiUrl('C8C2C68C5DEA', 'https'));
    assert.equal(b.error?.code, 'ECONNRESET', String(b.error));
    assert.equal((await request(p.apiUrl('C8C2C68C5DEA'))).status, 200);

    await reg.run('http', ['fail', 'video.luatos.com', 'timeout']);
    const t = await request(p.apiUrl('C8C2C68C5DEA'), { timeoutMs: 800 });
    assert.equal(t.error?.code, 'CLIENT_TIMEOUT', 'no answer at all');
    assert.ok(t.ms >= 780, `${t.ms} ms`);
    assert.equal((await request(p.apiUrl('C8C2C68C5DEA'), { timeoutMs: 800 })).status, 200, 'count 1 used up');
    assert.deepEqual(requests.map((r) => r.status), ['reset', 'reset', 200, 'timeout', 200]);

    for (const bad of [['fail'], ['fail', 'h'], ['fail', 'h', '99'], ['fail', 'h', 'reset', '0'], ['fail', 'h', 'reset', 'x'], ['boom'], ['fail', 'h', 'reset', '1', 'extra']]) {
      await assert.rejects(reg.run('http', bad), FaultError, bad.join(' '));
    }
  } finally {
    off();
  }
});

test('a timeout fault does not keep stop() waiting: held connections are closed', async () => {
  const q = await startLocalPlatform();
  q.httpFaults.fail('*', { kind: 'timeout' }, Infinity);
  const pending = request(q.apiUrl('X'), { timeoutMs: 10_000 });
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  await q.stop();
  const r = await pending;
  assert.ok(r.error, 'the held request ends with an error');
  assert.ok(Date.now() - t0 < 3000, `stop took ${Date.now() - t0} ms`);
});

test('mapRules: video.luatos.com:10030/:80 → HTTP, :443 → HTTPS, through the device network', async () => {
  const rules = p.mapRules();
  assert.deepEqual(rules, [
    { host: 'video.luatos.com', port: 10030, toHost: '127.0.0.1', toPort: p.httpPort },
    { host: 'video.luatos.com', port: 80, toHost: '127.0.0.1', toPort: p.httpPort },
    { host: 'video.luatos.com', port: 443, toHost: '127.0.0.1', toPort: p.httpsPort },
  ]);
  assert.deepEqual(p.mapRuleStrings(), [`video.luatos.com:10030=127.0.0.1:${p.httpPort}`, `video.luatos.com:80=127.0.0.1:${p.httpPort}`, `video.luatos.com:443=127.0.0.1:${p.httpsPort}`]);
  const netw = new DirectNetwork(rules);
  const raw = async (port: number, secure: boolean): Promise<string> => {
    const s0 = await netw.connectTcp({ host: 'video.luatos.com', port });
    const s: net.Socket = secure ? tls.connect({ socket: s0, servername: 'video.luatos.com', rejectUnauthorized: false }) : s0;
    const body = Buffer.from(DEMO_BODY);
    s.write(`POST /api-system/deviceVideo/get/C8C2C68C5DEA HTTP/1.1\r\nHost: video.luatos.com\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
    s.write(body);
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('end', () => resolve());
      s.on('error', reject);
    });
    s.destroy();
    return Buffer.concat(chunks).toString('utf8');
  };
  for (const [port, secure] of [[10030, false], [80, false], [443, true]] as const) {
    const text = await raw(port, secure);
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/, `port ${port}`);
    assert.ok(text.endsWith(`"deviceId":"C8C2C68C5DEA","deviceChannels":1}}`), text);
  }
  netw.closeAll();
  // a named RTMP host gets its own rule
  const q = await startLocalPlatform({ rtmpHost: 'video.luatos.com' });
  try {
    assert.equal(q.publishUrl('AB'), 'rtmp://video.luatos.com:1935/live/AB');
    assert.deepEqual(q.mapRules().at(-1), { host: 'video.luatos.com', port: 1935, toHost: '127.0.0.1', toPort: q.rtmpPort });
  } finally {
    await q.stop();
  }
});

for (const engine of ENGINE_NAMES) {
  test(`Lua (${engine}): the demo's http.request reaches video.luatos.com over HTTP and HTTPS; http fail 503 / reset from the device's fault registry reach the script`, { timeout: 30_000 }, async () => {
    const src = `
local body = json.encode({deviceAccess = "8", deviceUser = "admin", devicePsd = "Air123456"})
local hdr = {["Accept-Encoding"] = "identity", ["Host"] = "video.luatos.com:10030", ["Content-Type"] = "application/json"}
local urls = {"http://video.luatos.com:10030/api-system/deviceVideo/get/C8C2C68C5DEA",
              "https://video.luatos.com/api-system/deviceVideo/get/C8C2C68C5DEA"}
sys.taskInit(function()
  for i = 1, 4 do
    local code, headers, resp = http.request("POST", urls[(i - 1) % 2 + 1], hdr, body).wait()
    log.info("code", i, code)
    if code == 200 then
      local data = json.decode(resp)
      log.info("url", i, data.code, data.data.urlList[1])
    else
      log.info("body", i, resp)
    end
  end
  log.info("DONE")
end)
sys.run()
`;
    let off: (() => void) | undefined;
    const r = await runLua(
      { 'main.lua': src },
      {
        engine,
        until: 'I/user.DONE',
        timeoutMs: 20_000,
        device: { network: new DirectNetwork(p.mapRules()) },
        onDevice: (d) => {
          off = p.registerFaults(d.faults);
          void d.faults.run('http', ['fail', 'video.luatos.com', '503']);
          // after the second answer, the next request is reset (the fault applies synchronously)
          d.logSink.on((rec) => {
            if (rec.kind === 'U' && rec.payload.toString().startsWith('I/user.url 2 ')) void d.faults.run('http', ['fail', 'video.luatos.com', 'reset']);
          });
        },
      },
    );
    off?.();
    const url = `rtmp://127.0.0.1:${p.rtmpPort}/live/C8C2C68C5DEA`;
    const got = r.user.filter((l) => /^I\/user\.(code|url|body) /.test(l));
    assert.equal(got[0], 'I/user.code 1 503', r.lines.join('\n'));
    assert.equal(got[1], 'I/user.body 1 {"msg":"Service Unavailable","code":503}');
    assert.deepEqual(got.slice(2, 4), ['I/user.code 2 200', `I/user.url 2 200 ${url}`], 'HTTPS through the mapping');
    assert.match(got[4], /^I\/user\.code 3 -\d+$/, 'a reset is a negative code');
    assert.deepEqual(got.slice(5), ['I/user.body 3 nil', 'I/user.code 4 200', `I/user.url 4 200 ${url}`]);
    assert.equal(r.timedOut, false);
  });
}
