/**
 * examples/mqtt runs unchanged against aedes on 127.0.0.1 (the broker host mapped by the
 * profile's `hosts`, Wi-Fi from the device model): QoS 0/1/2 publishes come back, the first
 * session is cut by the broker without DISCONNECT → the will reaches an independent subscriber,
 * the script reconnects and subscribes again, and the rounds go on.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { runLua } from '../helpers/run-lua';
import { startAedes } from './brokers';
import { RefClient } from '../../scripts/bench/mqtt-ref-client';

const DEMO = path.join(__dirname, '..', '..', '..', 'examples', 'mqtt');

test('examples/mqtt: QoS 0/1/2 round trips, will on a cut session, autoreconnect + resubscribe', async () => {
  const broker = await startAedes();
  const watcher = await RefClient.connect(broker.port, 'demo-watcher');
  await watcher.subscribe('/luatos/pc/+/up/will', 1);
  broker.dropWhenReady!(/^luatos-pc-/, 2500);
  try {
    const r = await runLua(DEMO, {
      engine: 'wasmoon',
      cleanup: true,
      until: /recv \/luatos\/pc\/\S+\/up round 4 qos 2/,
      timeoutMs: 25000,
      profile: { network: { hosts: { 'lbsmqtt.airm2m.com:1884': `127.0.0.1:${broker.port}` } } },
    });
    const out = r.user.join('\n');
    assert.ok(!r.timedOut, out);
    assert.match(out, /I\/user\.wlan IP_READY true/);
    for (const q of [0, 1, 2]) assert.match(out, new RegExp(`I/user\\.mqtt recv /luatos/pc/\\S+/up round 1 qos ${q} qos ${q} retain 0`));
    assert.match(out, /W\/user\.mqtt disconnect 0/);
    assert.equal((out.match(/I\/user\.mqtt connected, subscribing/g) ?? []).length, 2, out);
    assert.match(out, /I\/user\.mqtt publish qos 0 id 0/);
    await watcher.waitMessages(1, 3000);
    assert.deepEqual(watcher.messages.map((m) => m.payload.toString()), ['offline']);
    assert.ok(r.lines.some((l) => l.includes('mqtt:mqtt reconnect')));
  } finally {
    watcher.close();
    await broker.close();
  }
});
