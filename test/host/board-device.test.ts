/**
 * The device setup `luatos run`'s worker, the scenario runner and the fleets share:
 * createBoardDevice (runtime/boards/device.ts: the board's network, then its setup) and
 * withMapRules (runtime/host/util/map-rules.ts: a platform's host rules after the --map ones).
 * No device is started.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createBoardDevice } from '../../runtime/boards/device';
import { boardProfile, getBoard } from '../../runtime/boards';
import { parseMapRule } from '../../runtime/net/direct';
import { LogSink } from '../../runtime/core/log';
import { mapRuleText, withMapRules } from '../../runtime/host/util/map-rules';

test('withMapRules: the rules in --map text form (the --map parser reads them back) after the given ones; the input unchanged', () => {
  const rules = [{ host: 'video.example.com', port: 10030, toHost: '127.0.0.1', toPort: 4567 }, { host: 'api.example.com', toHost: '127.0.0.1' }];
  const net = { wifi: ['ssid:pw'], map: ['a.example=127.0.0.2'] };
  const out = withMapRules(net, [...rules, 'b.example:80=127.0.0.3:8080']);
  assert.deepEqual(out.map, ['a.example=127.0.0.2', 'video.example.com:10030=127.0.0.1:4567', 'api.example.com=127.0.0.1', 'b.example:80=127.0.0.3:8080']);
  assert.deepEqual(out.wifi, ['ssid:pw']);
  assert.deepEqual(net.map, ['a.example=127.0.0.2']);
  for (const r of rules) {
    const back = parseMapRule(mapRuleText(r));
    assert.deepEqual([back.host, back.port, back.toHost, back.toPort], [r.host, r.port, r.toHost, r.toPort]);
  }
  assert.deepEqual(withMapRules({}, []).map, []);
});

test('createBoardDevice: the board setup runs on the new device (air780epm: modem faults, no wifi fault); air8101 keeps wifi', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-board-device-'));
  try {
    const make = (name: string) => {
      const board = getBoard(name);
      return createBoardDevice(board, { scripts: dir, profile: boardProfile(board), log: new LogSink({ stream: null }), dataDir: path.join(dir, name), net: {} });
    };
    const cell = make('air780epm');
    const cellFaults = cell.faults.list().map((f) => f.name);
    assert.ok(cellFaults.includes('sim'), `faults: ${cellFaults.join(', ')}`);
    assert.ok(!cellFaults.includes('wifi'), `faults: ${cellFaults.join(', ')}`);
    assert.equal(cell.profile.bsp, 'Air780EPM');
    cell.dispose();
    const wifi = make('air8101');
    assert.ok(wifi.faults.list().some((f) => f.name === 'wifi'));
    wifi.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
