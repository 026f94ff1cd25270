/**
 * Fleet naming (runtime/host/fleet/names.ts): names from prefix + fleet-wide index, disjoint
 * shards that cover the fleet, `auto/N` from $JOB_COMPLETION_INDEX, one MAC per device.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { deviceName, fleetMac, fleetMembers, fleetProfile, parseShard, shardRange } from '../../runtime/host/fleet/names';

test('names: prefix + zero-padded fleet-wide index (at least 3 digits)', () => {
  assert.equal(deviceName('dev', 7, 200), 'dev007');
  assert.equal(deviceName('cam-', 1234, 5000), 'cam-1234');
  assert.equal(deviceName('x', 0, 1), 'x000');
  assert.deepEqual(
    fleetMembers('d', 4).map((m) => m.name),
    ['d000', 'd001', 'd002', 'd003'],
  );
});

test('shards are disjoint and together cover every device, in order', () => {
  for (const [devices, count] of [[10, 3], [7, 7], [3, 5], [1000, 16], [1, 1]] as const) {
    const seen: string[] = [];
    for (let i = 0; i < count; i++) {
      const part = fleetMembers('dev', devices, { index: i, count }).map((m) => m.name);
      seen.push(...part);
    }
    assert.deepEqual(seen, fleetMembers('dev', devices).map((m) => m.name), `${devices} devices in ${count} shards`);
    assert.equal(new Set(seen).size, devices);
  }
  assert.deepEqual(shardRange(10, { index: 1, count: 3 }), { start: 3, end: 6 });
});

test('--shard I/N and auto/N (JOB_COMPLETION_INDEX); bad values are readable errors', () => {
  assert.deepEqual(parseShard('1/4', {}), { index: 1, count: 4 });
  assert.deepEqual(parseShard('auto/4', { JOB_COMPLETION_INDEX: '3' }), { index: 3, count: 4 });
  assert.throws(() => parseShard('auto/4', {}), /JOB_COMPLETION_INDEX/);
  assert.throws(() => parseShard('auto/4', { JOB_COMPLETION_INDEX: '4' }), /from 0 to 3/);
  assert.throws(() => parseShard('auto/4', { JOB_COMPLETION_INDEX: 'x' }), /not a whole number/);
  assert.throws(() => parseShard('4/4', {}), /from 0 to 3/);
  assert.throws(() => parseShard('1-4', {}), /I\/N/);
  assert.throws(() => parseShard('0/0', {}), /N must be/);
});

test('every device of a fleet has its own MAC (1000 devices), the OUI of the reference device', () => {
  const macs = fleetMembers('dev', 1000).map((m) => m.mac);
  assert.equal(new Set(macs).size, 1000);
  for (const m of macs) assert.match(m, /^C8C2C6[0-9A-F]{6}$/);
  // the same name on two machines (shards) gets the same MAC
  assert.equal(fleetMembers('dev', 1000, { index: 3, count: 4 })[0].mac, fleetMac('dev', 750));
});

test('fleetProfile: name and MAC per device, no fixed IMEI or unique id carried over', () => {
  const common = { name: 'demo', imei: '861234567890123', uniqueId: 'AABB', network: { mac: 'C8C2C68C5DEA', aps: [{ ssid: 'x' }] }, bsp: 'Air8101' };
  const p = fleetProfile(common, { name: 'dev003', mac: 'C8C2C6000003' });
  assert.equal(p.name, 'dev003');
  assert.deepEqual(p.network, { mac: 'C8C2C6000003', aps: [{ ssid: 'x' }] });
  assert.equal('imei' in p, false);
  assert.equal('uniqueId' in p, false);
  assert.equal(p.bsp, 'Air8101');
  assert.equal(common.network.mac, 'C8C2C68C5DEA', 'the common profile is not changed');
});
