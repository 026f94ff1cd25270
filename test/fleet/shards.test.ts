/**
 * Two shards of one fleet on one machine (`luatos fleet --shard 0/2` and `--shard 1/2`, two
 * processes, as two pods of a Kubernetes Indexed Job would run) against ONE external RTMP server
 * (node-media-server on 127.0.0.1, started here) and ONE MQTT broker (aedes on 127.0.0.1): every
 * device of the fleet publishes its own stream and its own MQTT message exactly once, with
 * disjoint names and MACs across the shards.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { tempDir } from '../helpers/tmp';
import { startLocalPlatform } from '../../runtime/host/platform';
import { fleetMembers } from '../../runtime/host/fleet/names';
import { startAedes } from '../mqtt/brokers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'bin', 'luatos.js');
const DEMO = path.join(ROOT, 'demo');

const MQTT_REPORT = `
-- reports the device to the fleet's broker once its network is up
sys.taskInit(function()
    sys.waitUntil("IP_READY", 30000)
    local mac = netdrv.mac(socket.LWIP_STA)
    local c = mqtt.create(nil, "broker.fleet.test", 1883)
    c:auth("dev-" .. mac, "", "", true)
    c:on(function(_, ev) if ev == "conack" then sys.publish("MQ_UP") end end)
    c:connect()
    if sys.waitUntil("MQ_UP", 15000) then
        c:publish("fleet/up", mac, 1)
        log.info("mqtt", "reported", mac)
    end
    while true do sys.wait(60000) end
end)
`;

function runShard(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, 'fleet', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const kill = setTimeout(() => p.kill('SIGTERM'), 150_000);
    p.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, out });
    });
  });
}

test('two shards on one machine share one external RTMP server and one broker; every device publishes once', { timeout: 200_000 }, async () => {
  const dir = tempDir('luatos-shards-');
  const scripts = path.join(dir, 'scripts');
  fs.mkdirSync(scripts);
  for (const f of fs.readdirSync(DEMO)) if (f.endsWith('.lua')) fs.copyFileSync(path.join(DEMO, f), path.join(scripts, f));
  fs.writeFileSync(path.join(scripts, 'mqtt_report.lua'), MQTT_REPORT);
  const main = fs.readFileSync(path.join(scripts, 'main.lua'), 'utf8');
  fs.writeFileSync(path.join(scripts, 'main.lua'), main.replace('require "netdrv_wifi"', 'require "netdrv_wifi"\nrequire "mqtt_report"'));

  const rtmp = await startLocalPlatform(); // its node-media-server is the fleet's external RTMP server
  const broker = await startAedes();
  const published = new Set<string>();
  rtmp.on('publish', (p: string) => published.add(p));
  try {
    const cfg = path.join(dir, 'platform.json');
    fs.writeFileSync(cfg, JSON.stringify({ urlTemplate: `rtmp://127.0.0.1:${rtmp.rtmpPort}/live/{deviceId}` }));
    const common = [scripts, '--profile', path.join(DEMO, 'device.json'), '--devices', '4', '--name-prefix', 'cam', '--platform', 'local', '--platform-config', cfg, '--map', `broker.fleet.test:1883=127.0.0.1:${broker.port}`, '--expect', '已开始推流', '--expect', 'I/user.mqtt reported', '--timeout', '120', '--quiet'];
    const [a, b] = await Promise.all([
      runShard([...common, '--shard', '0/2', '--state', path.join(dir, 's0')]),
      runShard([...common, '--shard', '1/2', '--state', path.join(dir, 's1')]),
    ]);
    assert.equal(a.code, 0, a.out);
    assert.equal(b.code, 0, b.out);
    assert.match(a.out, /shard 0\/2: cam000\.\.cam001/);
    assert.match(b.out, /shard 1\/2: cam002\.\.cam003/);
    const macs = fleetMembers('cam', 4).map((m) => m.mac);
    // one MQTT report per device, from its own client id
    const reports = broker.published.filter((p) => p.topic === 'fleet/up');
    assert.deepEqual(reports.map((p) => p.payload).sort(), [...macs].sort());
    assert.deepEqual(reports.map((p) => p.clientId).sort(), macs.map((m) => `dev-${m}`).sort());
    // every device's stream reached the one RTMP server (each shard's log names its own devices only)
    const started = (state: string) => [...fs.readFileSync(path.join(dir, state, 'logs', 'fleet.log'), 'utf8').matchAll(/<(cam\d+)> luat:U\(\d+\):I\/user\.请求得到的RTMP地址 rtmp:\/\/127\.0\.0\.1:(\d+)\/live\/([0-9A-F]+)/g)];
    const s0 = started('s0');
    const s1 = started('s1');
    assert.deepEqual(s0.map((m) => m[1]).sort(), ['cam000', 'cam001']);
    assert.deepEqual(s1.map((m) => m[1]).sort(), ['cam002', 'cam003']);
    for (const m of [...s0, ...s1]) assert.equal(Number(m[2]), rtmp.rtmpPort);
    assert.deepEqual([...s0, ...s1].map((m) => m[3]).sort(), [...macs].sort());
    // and node-media-server saw each of the four streams published
    assert.deepEqual([...published].sort(), macs.map((m) => `/live/${m}`).sort());
  } finally {
    await broker.close();
    await rtmp.stop();
  }
});
