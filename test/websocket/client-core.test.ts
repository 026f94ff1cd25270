/**
 * The client core (runtime/net/websocket-client.ts) without Lua: typed events in the firmware's
 * order against a real `ws` server, and no throw when nobody listens to its `error` event.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { parseWsUrl, WebSocketClient, WsClientEnv } from '../../runtime/net/websocket-client';
import { startWsServer, wsNetwork } from './ws-helpers';

function env(port: number, logs: string[]): WsClientEnv {
  return {
    net: wsNetwork(port),
    setTimer: (ms, fn) => setTimeout(fn, ms) as unknown as ReturnType<WsClientEnv['setTimer']>,
    clearTimer: (h) => clearTimeout(h as unknown as NodeJS.Timeout),
    log: (level, msg) => logs.push(`${level} ${msg}`),
  };
}

test('client core: conack, recv, sent, then close() — events in order, nothing after close', async () => {
  const srv = await startWsServer();
  const logs: string[] = [];
  const events: string[] = [];
  const c = new WebSocketClient({ url: parseWsUrl('ws://wstest.luatos.com/x'), adapter: 2 }, env(srv.port, logs));
  try {
    await new Promise<void>((resolve) => {
      c.on('conack', () => {
        events.push('conack');
        assert.equal(c.send(Buffer.from([1, 2, 3]), true), true);
      });
      c.on('sent', () => events.push('sent'));
      c.on('recv', (d, fin, op) => {
        events.push(`recv ${d.toString('hex')} ${fin} ${op}`);
        resolve();
      });
      c.on('disconnect', () => events.push('disconnect'));
      assert.equal(c.connect(), true);
    });
    c.close();
    assert.deepEqual(events, ['conack', 'sent', 'recv 010203 1 2', 'disconnect']);
    assert.equal(c.state, 0);
    assert.equal(c.send(Buffer.from('x'), false), false);
    assert.deepEqual(logs.slice(0, 2), ['I connect host wstest.luatos.com port 80', 'I ready!!']);
    assert.deepEqual(logs.slice(-2), ['I websocket closing socket', 'I not ready yet']);
  } finally {
    c.dispose();
    await srv.close();
  }
});

test('client core: a refused connection with no event listeners logs and does not throw', async () => {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  const logs: string[] = [];
  const c = new WebSocketClient({ url: parseWsUrl(`ws://127.0.0.1:${port}/`), adapter: 2 }, env(port, logs));
  c.connect();
  const t0 = Date.now();
  while (!logs.includes('I websocket closing socket') && Date.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 10));
  c.dispose();
  assert.ok(logs.includes('W websocket_callback param1 -1, closing socket'), logs.join('\n'));
});
