/**
 * NetCtrl.tx (runtime/net/sockets.ts) without Lua: when the host kernel takes a TCP send whole,
 * TX_OK is queued while tx runs (so the VM handles it in the same resume as the tx, one resume
 * per echo round in bench:net instead of two); the Lua-visible order stays tx → TX_OK → the
 * reply's EVENT, and the Node write callback that follows adds no second TX_OK. A send the
 * kernel cannot take at once (the peer does not read) still gets its TX_OK from the write
 * callback, later. Real TCP servers on 127.0.0.1.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { NetCtrl, type CtrlHost } from '../../runtime/net/sockets';
import { DirectNetwork } from '../../runtime/net/direct';
import { RealClock } from '../../runtime/core/clock';
import { SOCKET_EVENTS } from '../../runtime/net/adapters';

const NAME = new Map<number, string>(Object.entries(SOCKET_EVENTS).map(([k, v]) => [v as number, k]));

function hostFor(events: string[]): CtrlHost {
  return {
    net: new DirectNetwork(),
    clock: new RealClock(),
    log: () => undefined,
    deliver: (_c, ev, param, delivered) => {
      events.push(`${NAME.get(ev) ?? ev} ${param}`);
      delivered();
    },
  };
}

async function server(onConn: (s: net.Socket) => void): Promise<{ port: number; close: () => void }> {
  const conns = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    conns.add(s);
    s.on('error', () => undefined);
    s.on('close', () => conns.delete(s));
    onConn(s);
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () => {
      for (const s of conns) s.destroy();
      srv.close();
    },
  };
}

async function online(c: NetCtrl, port: number, events: string[]): Promise<void> {
  assert.deepEqual(c.connect('127.0.0.1', port), [true, false]);
  const end = Date.now() + 5000;
  while (!events.includes('ON_LINE 0')) {
    if (Date.now() > end) assert.fail(`no ON_LINE: ${events.join(', ')}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('tcp tx the kernel takes whole: TX_OK is queued during tx, once, before the echo EVENT', async () => {
  const srv = await server((s) => s.pipe(s));
  const events: string[] = [];
  const c = new NetCtrl(hostFor(events), 0);
  try {
    await online(c, srv.port, events);
    events.length = 0;
    assert.deepEqual(c.tx(Buffer.from('hello')), [true, false, false]);
    // queued synchronously, before tx returned (previously only after a Node tick)
    assert.deepEqual(events, ['TX_OK 0']);
    const end = Date.now() + 5000;
    while (c.pending() !== 5) {
      if (Date.now() > end) assert.fail(`no echo: ${events.join(', ')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setImmediate(r));
    // the write callback that ran meanwhile added no second TX_OK
    assert.deepEqual(events, ['TX_OK 0', 'EVENT 0']);
  } finally {
    c.release();
    srv.close();
  }
});

test('tcp tx the kernel cannot take at once (peer not reading): TX_OK comes later, from the write callback', async () => {
  let peer: net.Socket | null = null;
  const srv = await server((s) => {
    peer = s;
    s.pause();
  });
  const events: string[] = [];
  const c = new NetCtrl(hostFor(events), 0);
  try {
    await online(c, srv.port, events);
    events.length = 0;
    // far more than the loopback socket buffers hold while the peer does not read
    const big = Buffer.alloc(8 * 1024 * 1024, 0x61);
    assert.deepEqual(c.tx(big), [true, false, false]);
    assert.equal(events.length, 0, `no TX_OK while the data still waits in the host socket: ${events.join(', ')}`);
    (peer as net.Socket | null)?.resume();
    const end = Date.now() + 10000;
    while (!events.includes('TX_OK 0')) {
      if (Date.now() > end) assert.fail(`no TX_OK: ${events.join(', ')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(events, ['TX_OK 0']);
  } finally {
    c.release();
    srv.close();
  }
});

test('tcp txBuffer: the scratch is reused after a send the kernel took whole, never while its bytes are still queued', async () => {
  const got: Buffer[] = [];
  let peer: net.Socket | null = null;
  const srv = await server((s) => {
    peer = s;
    s.on('data', (d) => got.push(d));
  });
  const events: string[] = [];
  const c = new NetCtrl(hostFor(events), 0);
  try {
    await online(c, srv.port, events);
    // a small send the kernel takes at once: its scratch comes back for the next send
    const a = c.txBuffer(8192);
    a.fill(0x31);
    assert.deepEqual(c.tx(a), [true, false, false]);
    const b = c.txBuffer(8192);
    assert.equal(b.buffer, a.buffer, 'the scratch is reused');
    b.fill(0x32);
    assert.deepEqual(c.tx(b), [true, false, false]);
    const end1 = Date.now() + 5000;
    while (got.reduce((n, d) => n + d.length, 0) < 16384) {
      if (Date.now() > end1) assert.fail('the two sends did not arrive');
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(Buffer.concat(got), Buffer.concat([Buffer.alloc(8192, 0x31), Buffer.alloc(8192, 0x32)]));
    got.length = 0;
    // the peer stops reading: a send far above the socket buffers stays queued in Node; a
    // scratch handed out now must be another buffer, and writing into it must not change what
    // the queued send delivers
    (peer as net.Socket | null)?.pause();
    let queued: Buffer | null = null;
    let sent = 0;
    for (let i = 0; i < 200 && !queued; i++) {
      const d = c.txBuffer(200 * 1024).fill(0x33);
      const before = events.length;
      assert.deepEqual(c.tx(d), [true, false, false]);
      sent += d.length;
      if (events.length === before) queued = d; // no TX_OK at once: the bytes wait in Node
    }
    assert.ok(queued, 'the host socket never filled up');
    const other = c.txBuffer(200 * 1024);
    assert.notEqual(other.buffer, queued.buffer, 'a scratch still queued is not handed out again');
    other.fill(0x34);
    (peer as net.Socket | null)?.resume();
    const end2 = Date.now() + 10000;
    while (got.reduce((n, d) => n + d.length, 0) < sent) {
      if (Date.now() > end2) assert.fail('the queued send did not arrive');
      await new Promise((r) => setTimeout(r, 5));
    }
    const all = Buffer.concat(got);
    assert.equal(all.indexOf(0x34), -1, 'the queued bytes were not overwritten');
  } finally {
    c.release();
    srv.close();
  }
});
