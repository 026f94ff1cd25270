/**
 * Building the network model from CLI flags and the profile's `network` section, and the model's
 * JS API used by the CLI, scenarios and the web console (no Lua involved).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { createNetworkFromOptions, deriveMac, hostPrimaryIpv4, networkOptionsFrom, normalizeMac, parseHostsTable, parseWifiFlag } from '../../runtime/net/options';
import { WifiNetwork } from '../../runtime/net/model';
import { NetError } from '../../runtime/net/types';
import { makeProfile } from '../../runtime/core/profile';

test('--wifi, --mac and hosts parsing', () => {
  assert.deepEqual(parseWifiFlag('lab:se:cret'), { ssid: 'lab', password: 'se:cret' });
  assert.deepEqual(parseWifiFlag('open'), { ssid: 'open', password: '' });
  assert.throws(() => parseWifiFlag(':pw'), /SSID:PASSWORD/);
  assert.equal(normalizeMac('c8:c2:c6:8c:5d:ea'), 'C8C2C68C5DEA');
  assert.throws(() => normalizeMac('C8C2C6'), /12 hex/);
  assert.equal(deriveMac('dev-a'), deriveMac('dev-a'));
  assert.notEqual(deriveMac('dev-a'), deriveMac('dev-b'));
  assert.match(deriveMac('dev-a'), /^C8C2C6[0-9A-F]{6}$/);
  assert.deepEqual(parseHostsTable({ 'video.luatos.com:10030': '127.0.0.1:8080', 'ntp.aliyun.com': '127.0.0.1' }), [
    { host: 'video.luatos.com', port: 10030, toHost: '127.0.0.1', toPort: 8080 },
    { host: 'ntp.aliyun.com', port: undefined, toHost: '127.0.0.1', toPort: undefined },
  ]);
  assert.equal(parseHostsTable(['a.b=1.2.3.4:5'])[0].toPort, 5);
});

test('profile network section and CLI overrides become model options', () => {
  const profile = makeProfile({
    name: 'bench-1',
    network: {
      ip: '10.1.2.3',
      dns: ['8.8.8.8'],
      aps: [{ ssid: 'lab', password: 'old', rssi: -50 }],
      hosts: { 'video.luatos.com:10030': '127.0.0.1:8080' },
      timing: { assocMs: 10 },
    },
  });
  const o = networkOptionsFrom(profile, { wifi: ['lab:new', 'guest:'], map: ['video.luatos.com:10030=127.0.0.1:9090'], sntp: 'real' });
  assert.equal(o.mac, deriveMac('bench-1'));
  assert.equal(o.ip, '10.1.2.3');
  assert.equal(o.netmask, '255.255.255.0');
  assert.equal(o.gateway, '10.1.2.1');
  assert.deepEqual(o.dns, ['8.8.8.8']);
  assert.deepEqual(o.aps?.map((a) => [a.ssid, a.password]), [['lab', 'new'], ['guest', '']]);
  assert.equal(o.rules?.[0].toPort, 9090, 'the CLI --map wins over the profile hosts');
  assert.equal(o.sntp, 'real');
  assert.equal(o.timing?.assocMs, 10);
  const o2 = networkOptionsFrom(makeProfile(), { ip: '172.16.5.9', mac: '02:00:00:00:00:01' });
  assert.equal(o2.mac, '020000000001');
  assert.equal(o2.gateway, '172.16.5.1');
  // defaults: the host's primary IPv4 and its network
  const h = hostPrimaryIpv4();
  const o3 = networkOptionsFrom(makeProfile(), {});
  assert.deepEqual([o3.ip, o3.netmask, o3.gateway], [h.ip, h.netmask, h.gateway]);
  assert.throws(() => networkOptionsFrom(makeProfile(), { ip: '1.2.3' }), /bad ip/);
  assert.throws(() => networkOptionsFrom(makeProfile({ network: { sntp: 'gps' } })), /sntp/);
  assert.ok(createNetworkFromOptions(profile) instanceof WifiNetwork);
});

test('connectTcp refuses while the STA has no IP (NetError link-down), a fault API on a fresh model', async () => {
  const server = net.createServer((s) => s.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const m = new WifiNetwork({ rules: [] });
  assert.equal(m.adapterReady(2), false);
  await assert.rejects(m.connectTcp({ host: '127.0.0.1', port }), (e: unknown) => e instanceof NetError && e.kind === 'link-down');
  assert.equal(m.defaultAdapter(), 2);
  assert.equal(m.mapAddress('x', 1).mapped, false);
  // fault API without a device: state only, no throw
  m.linkDown();
  assert.equal(m.status().outOfRange, true);
  m.linkUp();
  m.setApPassword('lab', 'pw');
  assert.deepEqual(m.listAps().map((a) => [a.ssid, a.password]), [['lab', 'pw']]);
  server.close();
});
