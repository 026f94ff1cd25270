/** Fault handling: refused/timeouts/handshake/command errors (scripted server), server killed and restarted (NMS). */
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { RtmpPublisher, RtmpState, RtmpErrorCode } from '../../runtime/media/rtmp';
import { encodeAmf0 } from '../../runtime/media/rtmp/amf0';
import { MSG, USER_CONTROL } from '../../runtime/media/rtmp/messages';
import { FakeRtmpServer, cooperative, type FakeConn } from './helpers/fake-server';
import { NmsServer } from './helpers/servers';
import { makeH264 } from './helpers/h264-source';
import { connectAndPublish, feed, record, trackProcessFaults, waitState } from './helpers/publish-util';
import { delay, freePort, waitFor } from './helpers/net-util';

const faults = trackProcessFaults();
const servers: { stop(): Promise<void> }[] = [];
after(async () => {
  for (const s of servers) await s.stop();
  faults.dispose();
});

async function fake(opts: Parameters<typeof FakeRtmpServer.start>[0]): Promise<FakeRtmpServer> {
  const f = await FakeRtmpServer.start(opts);
  servers.push(f);
  return f;
}

async function expectError(pub: RtmpPublisher, rec: ReturnType<typeof record>, code: RtmpErrorCode, seq: number[], reason?: RegExp, withinMs = 5000) {
  const t0 = Date.now();
  await waitState(pub, RtmpState.ERROR, withinMs + 1000);
  assert.ok(Date.now() - t0 <= withinMs + 200, `ERROR within ${withinMs} ms`);
  assert.deepEqual(rec.states.map((s) => s.s), seq);
  const last = rec.states[rec.states.length - 1];
  assert.equal(last.code, code, last.reason);
  if (reason) assert.match(last.reason ?? '', reason);
  assert.ok(rec.logs.some((l) => l.level === 'E'), 'an E log line');
}

test('refused connection → 1 → 0 → 6 with CONNECT_FAILED', async () => {
  const port = await freePort();
  const pub = new RtmpPublisher(`rtmp://127.0.0.1:${port}/live/x`, { statsIntervalMs: 0 });
  const rec = record(pub);
  assert.equal(pub.connect(), true);
  await expectError(pub, rec, RtmpErrorCode.CONNECT_FAILED, [1, 0, 6], /ECONNREFUSED/);
  // reconnect from ERROR is allowed
  assert.equal(pub.connect(), true);
  await waitState(pub, RtmpState.ERROR);
  pub.destroy();
});

test('socket factory that throws → CONNECT_FAILED; DNS failure → CONNECT_FAILED', async () => {
  const pub = new RtmpPublisher('rtmp://h.invalid/live/x', { statsIntervalMs: 0, connect: () => { throw new Error('adapter down'); } });
  const rec = record(pub);
  assert.equal(pub.connect(), true);
  await expectError(pub, rec, RtmpErrorCode.CONNECT_FAILED, [1, 0, 6], /adapter down/);
  const pub2 = new RtmpPublisher('rtmp://no-such-host.invalid/live/x', { statsIntervalMs: 0 });
  const rec2 = record(pub2);
  pub2.connect();
  await expectError(pub2, rec2, RtmpErrorCode.CONNECT_FAILED, [1, 0, 6], /ENOTFOUND|EAI_AGAIN/);
});

test('TCP connect that never completes → TIMEOUT; disconnect() while connecting → 1 → 0', async () => {
  const never = () => Object.assign(new Duplex({ read() {}, write(_c, _e, cb) { cb(); } }), { connecting: true });
  const pub = new RtmpPublisher('rtmp://10.0.0.1/live/x', { statsIntervalMs: 0, timeoutMs: 300, connect: never });
  const rec = record(pub);
  pub.connect();
  await expectError(pub, rec, RtmpErrorCode.TIMEOUT, [1, 0, 6], /TCP connect/, 1000);
  const pub2 = new RtmpPublisher('rtmp://10.0.0.1/live/x', { statsIntervalMs: 0, connect: never });
  const rec2 = record(pub2);
  pub2.connect();
  assert.equal(pub2.disconnect(), true);
  assert.deepEqual(rec2.states.map((s) => s.s), [1, 0]);
  assert.equal(pub2.disconnect(), false);
});

test('silent server → handshake TIMEOUT (1 → 2 → 5 → 0 → 6)', async () => {
  const f = await fake({ mode: 'silent' });
  const pub = new RtmpPublisher(f.url(), { statsIntervalMs: 0, timeoutMs: 500 });
  const rec = record(pub);
  pub.connect();
  await expectError(pub, rec, RtmpErrorCode.TIMEOUT, [1, 2, 5, 0, 6], /handshake/, 1500);
});

test('bad S0 version → HANDSHAKE_FAILED; server closing during handshake → HANDSHAKE_FAILED; no S2 → TIMEOUT', async () => {
  const f = await fake({ mode: 'bad-version' });
  const pub = new RtmpPublisher(f.url(), { statsIntervalMs: 0 });
  const rec = record(pub);
  pub.connect();
  await expectError(pub, rec, RtmpErrorCode.HANDSHAKE_FAILED, [1, 2, 5, 0, 6], /version/);
  const g = await fake({ mode: 'close' });
  const pub2 = new RtmpPublisher(g.url(), { statsIntervalMs: 0 });
  const rec2 = record(pub2);
  pub2.connect();
  await waitState(pub2, RtmpState.ERROR);
  assert.ok([RtmpErrorCode.HANDSHAKE_FAILED, RtmpErrorCode.CONNECT_FAILED].includes(rec2.states[rec2.states.length - 1].code!));
  const h = await fake({ mode: 'no-s2' });
  const pub3 = new RtmpPublisher(h.url(), { statsIntervalMs: 0, timeoutMs: 400 });
  const rec3 = record(pub3);
  pub3.connect();
  await expectError(pub3, rec3, RtmpErrorCode.TIMEOUT, [1, 2, 5, 0, 6], /S2/, 1500);
});

test('connect rejected with _error → CONNECT_FAILED carrying the server text', async () => {
  const f = await fake({
    onMessage: cooperative({
      connect: (c, tx) => c.command('_error', tx, null, { level: 'error', code: 'NetConnection.Connect.Rejected', description: 'Authentication failed: bad key' }),
    }),
  });
  const pub = new RtmpPublisher(f.url(), { statsIntervalMs: 0 });
  const rec = record(pub);
  pub.connect();
  await expectError(pub, rec, RtmpErrorCode.CONNECT_FAILED, [1, 2, 5, 0, 6], /NetConnection\.Connect\.Rejected: Authentication failed: bad key/);
  assert.ok(rec.logs.some((l) => l.msg === 'RTMP: Connection failed'));
});

test('no answer to connect → TIMEOUT; no answer to publish → TIMEOUT', async () => {
  const f = await fake({ onMessage: () => undefined });
  const pub = new RtmpPublisher(f.url(), { statsIntervalMs: 0, timeoutMs: 400 });
  const rec = record(pub);
  pub.connect();
  await expectError(pub, rec, RtmpErrorCode.TIMEOUT, [1, 2, 5, 0, 6], /connect/, 1500);
  const g = await fake({ onMessage: cooperative({ publish: () => undefined }) });
  const pub2 = new RtmpPublisher(g.url(), { statsIntervalMs: 0, timeoutMs: 400 });
  const rec2 = record(pub2);
  pub2.connect();
  pub2.start();
  await expectError(pub2, rec2, RtmpErrorCode.TIMEOUT, [1, 2, 3, 5, 0, 6], /Publish\.Start/, 1500);
});

test('publish BadName (onStatus error) and createStream _error → FAILED with the server text', async () => {
  const f = await fake({
    onMessage: cooperative({
      publish: (c, _tx, _cmd, msg) =>
        c.send({ csid: 5, type: MSG.COMMAND_AMF0, streamId: msg.streamId, timestamp: 0, payload: encodeAmf0('onStatus', 0, null, { level: 'error', code: 'NetStream.Publish.BadName', description: 'Stream already publishing' }) }),
    }),
  });
  const pub = new RtmpPublisher(f.url(), { statsIntervalMs: 0 });
  const rec = record(pub);
  pub.connect();
  pub.start();
  await expectError(pub, rec, RtmpErrorCode.FAILED, [1, 2, 3, 5, 0, 6], /NetStream\.Publish\.BadName: Stream already publishing/);
  const g = await fake({ onMessage: cooperative({ createStream: (c, tx) => c.command('_error', tx, null, { level: 'error', code: 'NetStream.Failed', description: 'no streams left' }) }) });
  const pub2 = new RtmpPublisher(g.url(), { statsIntervalMs: 0 });
  const rec2 = record(pub2);
  pub2.connect();
  pub2.start();
  await expectError(pub2, rec2, RtmpErrorCode.FAILED, [1, 2, 3, 5, 0, 6], /createStream failed: NetStream.Failed: no streams left/);
});

test('PingRequest is answered, Acknowledgements sent at the server window, publish goes on the createStream id', async () => {
  const f = await fake({
    onMessage: cooperative({
      connect: (c, tx) => {
        c.send({ csid: 2, type: MSG.WINDOW_ACK_SIZE, streamId: 0, timestamp: 0, payload: Buffer.from([0, 0, 0, 200]) });
        const ping = Buffer.alloc(6);
        ping.writeUInt16BE(USER_CONTROL.PING_REQUEST, 0);
        ping.writeUInt32BE(123456, 2);
        c.send({ csid: 2, type: MSG.USER_CONTROL, streamId: 0, timestamp: 0, payload: ping });
        for (let i = 0; i < 5; i++) c.command('onBWDone', 0, null, 'x'.repeat(50));
        c.command('_result', tx, null, { code: 'NetConnection.Connect.Success' });
      },
      createStream: (c, tx) => c.command('_result', tx, null, 7),
      publish: (c, _tx, _cmd, msg) => c.send({ csid: 5, type: MSG.COMMAND_AMF0, streamId: msg.streamId, timestamp: 0, payload: encodeAmf0('onStatus', 0, null, { level: 'status', code: 'NetStream.Publish.Start' }) }),
    }),
  });
  const { pub } = await connectAndPublish(f.url('live/x'));
  const conn = f.conns[0];
  await waitFor(() => conn.received.some((m) => m.type === MSG.DATA_AMF0), 2000, 'metadata');
  const pong = conn.received.find((m) => m.type === MSG.USER_CONTROL);
  assert.ok(pong);
  assert.equal(pong.payload.readUInt16BE(0), USER_CONTROL.PING_RESPONSE);
  assert.equal(pong.payload.readUInt32BE(2), 123456);
  const acks = conn.received.filter((m) => m.type === MSG.ACK);
  assert.ok(acks.length >= 1, 'ack sent');
  assert.ok(acks[0].payload.readUInt32BE(0) >= 200);
  const publish = conn.received.find((m) => m.type === MSG.COMMAND_AMF0 && m.payload.includes(Buffer.from('publish')) && !m.payload.includes(Buffer.from('FCPublish')));
  assert.equal(publish?.streamId, 7);
  assert.equal(conn.received.find((m) => m.type === MSG.DATA_AMF0)?.streamId, 7);
  const setChunk = conn.received.find((m) => m.type === MSG.SET_CHUNK_SIZE);
  assert.equal(setChunk?.csid, 2);
  assert.equal(setChunk?.payload.readUInt32BE(0), 4096);
  pub.destroy();
});


test('server holding the connect _result until the client ACKs its control messages (a Nagle server against our delayed ACK) gets an early Acknowledgement at once', async () => {
  // node-media-server writes Window Ack Size, Set Peer Bandwidth, Set Chunk Size and _result in
  // four writes on a Nagle socket: the last write waits for the TCP ACK of the previous one. This
  // server makes that wait explicit: _result only after the client sent an RTMP message once Set
  // Peer Bandwidth + Set Chunk Size were out. Without the early Acknowledgement the publisher
  // times out here (nothing else is sent while connect is pending).
  let controlBytes = 0;
  let held: { c: FakeConn; tx: number } | undefined;
  const f = await fake({
    onMessage: (c, msg, cmd) => {
      if (cmd?.[0] === 'connect') {
        c.send({ csid: 2, type: MSG.WINDOW_ACK_SIZE, streamId: 0, timestamp: 0, payload: Buffer.from([0, 0x4c, 0x4b, 0x40]) });
        // wait for the client's own window answer, then send the next two and hold _result
        held = { c, tx: cmd[1] as number };
        return;
      }
      if (msg.type === MSG.WINDOW_ACK_SIZE && held && controlBytes === 0) {
        c.send({ csid: 2, type: MSG.SET_PEER_BANDWIDTH, streamId: 0, timestamp: 0, payload: Buffer.from([0, 0x4c, 0x4b, 0x40, 2]) });
        c.send({ csid: 2, type: MSG.SET_CHUNK_SIZE, streamId: 0, timestamp: 0, payload: Buffer.from([0, 0, 0x10, 0]) });
        controlBytes = c.socket.bytesWritten - 3073; // after S0+S1+S2
        return;
      }
      if (msg.type === MSG.ACK && held) {
        const h = held;
        held = undefined;
        h.c.command('_result', h.tx, { fmsVer: 'FMS/3,0,1,123' }, { level: 'status', code: 'NetConnection.Connect.Success' });
        return;
      }
      cooperative()(c, msg, cmd);
    },
  });
  const pub = new RtmpPublisher(f.url('live/early'), { statsIntervalMs: 0, timeoutMs: 3000 });
  const rec = record(pub);
  pub.connect();
  pub.start();
  await waitState(pub, RtmpState.PUBLISHING, 5000);
  const conn = f.conns[0];
  const acks = conn.received.filter((m) => m.type === MSG.ACK);
  // one per read that held only control messages: Set Peer Bandwidth and Set Chunk Size may
  // arrive together or apart
  assert.ok(acks.length >= 1 && acks.length <= 2, `1 or 2 early Acknowledgements, got ${acks.length}`);
  // sequence number = chunk-stream bytes received after the handshake, all three messages in the end
  assert.ok(controlBytes > 0);
  assert.equal(acks[acks.length - 1].payload.readUInt32BE(0), controlBytes);
  assert.ok(rec.logs.some((l) => l.msg === `RTMP: Sent Acknowledgement (${controlBytes} bytes received, answer pending)`));
  pub.destroy();
});
test('server drops the connection while publishing → 4 → 5 → 0 → 6 (NETWORK) within 5 s', async () => {
  const f = await fake({ onMessage: cooperative() });
  const { pub, rec } = await connectAndPublish(f.url('live/x'));
  const clip = makeH264({ seconds: 1 });
  await feed(pub, clip.frames.slice(0, 5), 0);
  const t0 = Date.now();
  f.conns[0].socket.destroy();
  await waitState(pub, RtmpState.ERROR, 5000);
  assert.ok(Date.now() - t0 < 5000);
  assert.deepEqual(rec.states.map((s) => s.s).slice(-4), [4, 5, 0, 6]);
  assert.equal(rec.states[rec.states.length - 1].code, RtmpErrorCode.NETWORK);
  assert.equal(pub.pushVideo(clip.frames[5]), RtmpErrorCode.FAILED);
  pub.destroy();
  faults.check();
});

test('NMS killed mid-stream → ERROR within 5 s, no crash; restarted → a new connect publishes again', { timeout: 40_000 }, async () => {
  const nms = await NmsServer.start();
  servers.push(nms);
  const clip = makeH264({ seconds: 4, gop: 15 });
  const { pub, rec } = await connectAndPublish(nms.url('live', 'kill1'), { timeoutMs: 2000 });
  let killedAt = 0;
  let errorAt = 0;
  pub.on('state', (s: RtmpState) => {
    if (s === RtmpState.ERROR) errorAt = Date.now();
  });
  const feeding = feed(pub, clip.frames, 2, (i) => {
    if (i === 20) {
      killedAt = Date.now();
      void nms.kill();
    }
  });
  await feeding;
  await waitState(pub, RtmpState.ERROR, 5000);
  assert.ok(errorAt - killedAt < 5000, `ERROR ${errorAt - killedAt} ms after the kill`);
  assert.deepEqual(rec.states.map((s) => s.s).slice(-4), [4, 5, 0, 6]);
  faults.check();
  // restart on the same port
  const again = await NmsServer.start(nms.port);
  servers.push(again);
  assert.equal(pub.connect(), true);
  pub.start();
  await waitState(pub, RtmpState.PUBLISHING, 8000);
  await feed(pub, clip.frames, 0);
  await waitFor(() => again.videoPackets('/live/kill1').length >= clip.frames.length + 1, 5000, 'frames after restart');
  pub.disconnect();
  await waitState(pub, RtmpState.IDLE, 3000);
  pub.destroy();
  await delay(50);
  faults.check();
});
