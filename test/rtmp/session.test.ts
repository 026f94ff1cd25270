// The RTMP protocol core (runtime/media/rtmp/session.ts) with no socket at all: a server byte
// stream built by hand in this file (S0/S1/S2, Window Ack Size, Set Peer Bandwidth, _result for
// connect and createStream, onStatus NetStream.Publish.Start) goes in, and the bytes the session
// writes are decoded by this file's own chunk and AMF0 readers (written from the RTMP and AMF0
// specifications, independent of the runtime's), timers are injected.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { RtmpSession, type SessionEvent, type SessionTimers } from '../../runtime/media/rtmp/session';
import { parseRtmpUrl } from '../../runtime/media/rtmp/url';
import { RtmpErrorCode, RtmpState } from '../../runtime/media/rtmp/errors';

// ---------------------------------------------------------------------------- AMF0, by hand

type V = number | string | boolean | null | undefined | { [k: string]: V };

function amfEncode(v: V): Buffer {
  if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = 0x00;
    b.writeDoubleBE(v, 1);
    return b;
  }
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    const h = Buffer.from([0x02, s.length >> 8, s.length & 0xff]);
    return Buffer.concat([h, s]);
  }
  if (v === null) return Buffer.from([0x05]);
  if (typeof v === 'object' && v) {
    const parts: Buffer[] = [Buffer.from([0x03])];
    for (const [k, x] of Object.entries(v)) {
      const kb = Buffer.from(k, 'utf8');
      parts.push(Buffer.from([kb.length >> 8, kb.length & 0xff]), kb, amfEncode(x));
    }
    parts.push(Buffer.from([0, 0, 0x09]));
    return Buffer.concat(parts);
  }
  throw new Error('unsupported in this test');
}

function amfDecodeAll(b: Buffer): V[] {
  const out: V[] = [];
  let o = 0;
  const str = (): string => {
    const n = b.readUInt16BE(o);
    o += 2;
    const s = b.toString('utf8', o, o + n);
    o += n;
    return s;
  };
  const props = (): { [k: string]: V } => {
    const obj: { [k: string]: V } = Object.create(null);
    for (;;) {
      const k = str();
      if (k === '' && b[o] === 0x09) {
        o++;
        return obj;
      }
      obj[k] = value();
    }
  };
  const value = (): V => {
    const m = b[o++];
    switch (m) {
      case 0x00: {
        const n = b.readDoubleBE(o);
        o += 8;
        return n;
      }
      case 0x01:
        return b[o++] !== 0;
      case 0x02:
        return str();
      case 0x03:
        return props();
      case 0x05:
        return null;
      case 0x06:
        return undefined;
      case 0x08:
        o += 4; // ECMA array count (advisory)
        return props();
      default:
        throw new Error(`AMF0 marker ${m} not expected here`);
    }
  };
  while (o < b.length) out.push(value());
  return out;
}

// ---------------------------------------------------------------------------- chunks, by hand

/** One message as fmt-0 chunk + fmt-3 continuations (the server's default chunk size 128). */
function serverChunks(csid: number, type: number, streamId: number, payload: Buffer, chunkSize = 128): Buffer {
  const h = Buffer.alloc(12);
  h[0] = csid; // fmt 0, csid < 64
  h.writeUIntBE(0, 1, 3); // timestamp
  h.writeUIntBE(payload.length, 4, 3);
  h[7] = type;
  h.writeUInt32LE(streamId, 8);
  const parts: Buffer[] = [h];
  for (let o = 0; o < payload.length; o += chunkSize) {
    if (o > 0) parts.push(Buffer.from([0xc0 | csid]));
    parts.push(payload.subarray(o, Math.min(payload.length, o + chunkSize)));
  }
  return Buffer.concat(parts);
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const command = (csid: number, streamId: number, ...values: V[]) => serverChunks(csid, 20, streamId, Buffer.concat(values.map(amfEncode)));

interface Msg {
  csid: number;
  type: number;
  streamId: number;
  timestamp: number;
  payload: Buffer;
}

/** Decodes what the client writes (fmt 0..3, its own announced chunk size). */
class ClientStreamReader {
  private chunkSize = 128;
  private buf = Buffer.alloc(0);
  private prev = new Map<number, { len: number; type: number; streamId: number; ts: number; delta: number; parts: Buffer[]; got: number }>();
  readonly messages: Msg[] = [];

  push(data: Buffer): void {
    this.buf = Buffer.concat([this.buf, data]);
    for (;;) {
      const b = this.buf;
      if (b.length < 1) return;
      const fmt = b[0] >> 6;
      let csid = b[0] & 0x3f;
      let o = 1;
      if (csid === 0) {
        csid = 64 + b[1];
        o = 2;
      } else if (csid === 1) {
        csid = 64 + b[1] + b[2] * 256;
        o = 3;
      }
      const hlen = [11, 7, 3, 0][fmt];
      if (b.length < o + hlen) return;
      const st = this.prev.get(csid) ?? { len: 0, type: 0, streamId: 0, ts: 0, delta: 0, parts: [], got: 0 };
      const starting = st.got === 0;
      if (fmt === 0) {
        st.ts = b.readUIntBE(o, 3);
        st.len = b.readUIntBE(o + 3, 3);
        st.type = b[o + 6];
        st.streamId = b.readUInt32LE(o + 7);
        st.delta = 0;
      } else if (fmt === 1) {
        st.delta = b.readUIntBE(o, 3);
        st.len = b.readUIntBE(o + 3, 3);
        st.type = b[o + 6];
      } else if (fmt === 2) {
        st.delta = b.readUIntBE(o, 3);
      }
      assert.ok(st.ts !== 0xffffff && st.delta !== 0xffffff, 'no extended timestamps expected in this test');
      o += hlen;
      const take = Math.min(this.chunkSize, st.len - st.got);
      if (b.length < o + take) return;
      if (starting && fmt !== 0) st.ts += st.delta;
      st.parts.push(b.subarray(o, o + take));
      st.got += take;
      this.buf = b.subarray(o + take);
      this.prev.set(csid, st);
      if (st.got === st.len) {
        const payload = Buffer.concat(st.parts);
        st.parts = [];
        st.got = 0;
        if (st.type === 1) this.chunkSize = payload.readUInt32BE(0) & 0x7fffffff;
        this.messages.push({ csid, type: st.type, streamId: st.streamId, timestamp: st.ts, payload });
      }
    }
  }
}

// ---------------------------------------------------------------------------- harness

class FakeTimers implements SessionTimers {
  private next = 1;
  readonly active = new Map<number, { fn: () => void; ms: number }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.active.set(id, { fn, ms });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.active.delete(h as number);
  }
  /** run every pending timer once (as if their time had come) */
  fireAll(): void {
    const due = [...this.active.entries()];
    this.active.clear();
    for (const [, t] of due) t.fn();
  }
}

function harness(url = 'rtmp://127.0.0.1:1935/live/cam1') {
  const writes: Buffer[] = [];
  const events: SessionEvent[] = [];
  const logs: string[] = [];
  const timers = new FakeTimers();
  const session = new RtmpSession(
    {
      url: parseRtmpUrl(url),
      timeoutMs: 5000,
      chunkSize: 4096,
      flashVer: 'FMLE/3.0 (compatible; test)',
      encoder: 'test encoder',
      streamInfo: { width: 1280, height: 720, framerate: 15, videodatarate: 1000, videocodecid: 7 },
      compressHeaders: true,
      maxMessageSize: 1 << 20,
      now: () => 1000,
      timers,
    },
    {
      write: (b) => writes.push(Buffer.from(b)),
      log: (level, text) => logs.push(`${level}/${text}`),
      event: (ev) => events.push(ev),
    },
  );
  return { session, writes, events, logs, timers };
}

const S1 = Buffer.alloc(1536, 0x5a);
S1.writeUInt32BE(0, 0);
S1.writeUInt32BE(0, 4);

test('session (no socket): handshake → connect → createStream → publish → PUBLISHING, bytes and events', () => {
  const { session, writes, events, logs, timers } = harness();
  session.awaitTransport();
  assert.equal([...timers.active.values()][0]?.ms, 5000, 'the TCP connect step has a timeout');
  session.transportConnected();
  assert.deepEqual(events, [{ type: 'state', state: RtmpState.HANDSHAKING }]);
  assert.equal(writes.length, 1);
  const c0c1 = writes[0];
  assert.equal(c0c1.length, 1537);
  assert.equal(c0c1[0], 3, 'C0 = version 3');
  assert.equal(c0c1.readUInt32BE(5), 0, 'C1 zero field');
  const c1 = c0c1.subarray(1);

  // S0 + S1 in two pieces, then S2 (echo of C1)
  session.receive(Buffer.concat([Buffer.from([3]), S1.subarray(0, 700)]));
  assert.equal(writes.length, 1, 'nothing written before S1 is complete');
  session.receive(S1.subarray(700));
  assert.equal(writes.length, 2);
  assert.deepEqual(writes[1], S1, 'C2 echoes S1');
  session.receive(Buffer.from(c1));

  const client = new ClientStreamReader();
  let n = 2;
  const decodeNew = () => {
    for (const w of writes.slice(n)) client.push(w);
    n = writes.length;
  };
  decodeNew();
  assert.equal(client.messages.length, 2, 'Set Chunk Size and connect');
  const [scs, connect] = client.messages;
  assert.deepEqual([scs.csid, scs.type, scs.streamId, scs.payload.readUInt32BE(0)], [2, 1, 0, 4096]);
  assert.deepEqual([connect.csid, connect.type, connect.streamId], [3, 20, 0]);
  const [name, tx, obj] = amfDecodeAll(connect.payload) as [string, number, Record<string, V>];
  assert.deepEqual([name, tx], ['connect', 1]);
  assert.equal(obj.app, 'live');
  assert.equal(obj.tcUrl, 'rtmp://127.0.0.1:1935/live');
  assert.equal(obj.flashVer, 'FMLE/3.0 (compatible; test)');
  assert.ok(logs.includes('I/RTMP: Connect command sent successfully'));

  // Window Ack Size (answered with our own), then Set Peer Bandwidth alone in its own read:
  // a read of control messages only while the connect answer is pending → early Acknowledgement
  const was = serverChunks(2, 5, 0, u32(2500000));
  session.receive(was);
  decodeNew();
  const ownWindow = client.messages[2];
  assert.deepEqual([ownWindow.type, ownWindow.payload.readUInt32BE(0)], [5, 2500000], 'our Window Ack Size');
  assert.ok(!events.some((e) => e.type === 'ack'), 'no early ack when the read was answered');
  const spb = serverChunks(2, 6, 0, Buffer.concat([u32(2500000), Buffer.from([2])]));
  session.receive(spb);
  assert.equal(writes.length, n + 1);
  decodeNew();
  const ack = client.messages[3];
  assert.equal(ack.type, 3, 'Acknowledgement');
  assert.equal(ack.payload.readUInt32BE(0), was.length + spb.length, 'acknowledges the bytes received after the handshake');
  assert.deepEqual(events.at(-1), { type: 'ack', bytes: was.length + spb.length, early: true });

  // connect _result (longer than 128 bytes: two chunks)
  const result = command(3, 0, '_result', 1, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, {
    level: 'status',
    code: 'NetConnection.Connect.Success',
    description: 'Connection succeeded.',
    objectEncoding: 0,
  });
  assert.ok(result.length > 12 + 128, 'the test sends a multi-chunk message');
  session.receive(result);
  assert.deepEqual(events.slice(-2), [
    { type: 'command', name: '_result', txId: 1 },
    { type: 'state', state: RtmpState.CONNECTED, code: 'NetConnection.Connect.Success' },
  ]);
  assert.ok(logs.includes('I/RTMP: Connected (NetConnection.Connect.Success)'));

  // publish: releaseStream, FCPublish, createStream
  session.publish();
  assert.equal(session.publishing, true);
  decodeNew();
  const pubCmds = client.messages.slice(4).map((m) => amfDecodeAll(m.payload).slice(0, 4));
  assert.deepEqual(pubCmds, [
    ['releaseStream', 2, null, 'cam1'],
    ['FCPublish', 3, null, 'cam1'],
    ['createStream', 4, null],
  ]);

  // createStream _result → publish on stream 1 (chunk stream 5)
  session.receive(command(3, 0, '_result', 4, null, 1));
  assert.equal(session.streamId, 1);
  decodeNew();
  const publish = client.messages[7];
  assert.deepEqual([publish.csid, publish.type, publish.streamId], [5, 20, 1]);
  assert.deepEqual(amfDecodeAll(publish.payload), ['publish', 5, null, 'cam1', 'live']);
  assert.equal(timers.active.size, 1, 'the publish step has a timeout');

  // onStatus NetStream.Publish.Start → publish-start, @setDataFrame onMetaData, PUBLISHING
  const mark = events.length;
  session.receive(command(5, 1, 'onStatus', 0, null, { level: 'status', code: 'NetStream.Publish.Start', description: 'Start publishing' }));
  assert.deepEqual(events.slice(mark), [
    { type: 'command', name: 'onStatus', txId: 0, code: 'NetStream.Publish.Start' },
    { type: 'publish-start' },
    { type: 'state', state: RtmpState.PUBLISHING },
  ]);
  decodeNew();
  const meta = client.messages[8];
  assert.deepEqual([meta.csid, meta.type, meta.streamId], [4, 18, 1]);
  const [sdf, onMeta, props] = amfDecodeAll(meta.payload) as [string, string, Record<string, V>];
  assert.deepEqual([sdf, onMeta], ['@setDataFrame', 'onMetaData']);
  assert.deepEqual([props.width, props.height, props.framerate, props.videocodecid, props.encoder], [1280, 720, 15, 7, 'test encoder']);
  assert.equal(timers.active.size, 0, 'no step timeout once publishing');

  // a media message goes through the same chunk writer, on the publish stream
  const bytes = session.sendMessage(session.videoMessage(Buffer.from([0x17, 1, 0, 0, 0, 0xaa]), 40), 40);
  assert.equal(bytes, writes.slice(n).reduce((a, b) => a + b.length, 0));
  decodeNew();
  const video = client.messages[9];
  assert.deepEqual([video.csid, video.type, video.streamId, video.timestamp], [6, 9, 1, 40]);

  // unpublish: FCUnpublish + deleteStream
  session.unpublish(true);
  decodeNew();
  assert.deepEqual(client.messages.slice(10).map((m) => amfDecodeAll(m.payload).slice(0, 4)), [
    ['FCUnpublish', 6, null, 'cam1'],
    ['deleteStream', 7, null, 1],
  ]);
  assert.equal(session.publishing, false);
  assert.equal(session.streamId, 0);
});

test('session (no socket): injected step timer → TIMEOUT error event with the step named', () => {
  const { session, events, timers } = harness();
  session.transportConnected();
  timers.fireAll();
  assert.deepEqual(events.at(-1), { type: 'error', code: RtmpErrorCode.TIMEOUT, reason: 'timeout: no answer to handshake (S0+S1) within 5000 ms' });
});

test('session (no socket): bad S0, connect rejection and a server close are error events, never exceptions; nothing after close()', () => {
  const a = harness();
  a.session.transportConnected();
  a.session.receive(Buffer.from([6, 0, 0]));
  assert.deepEqual(a.events.at(-1), { type: 'error', code: RtmpErrorCode.HANDSHAKE_FAILED, reason: 'RTMP handshake failed: server version byte S0 = 6 (expected 3)' });

  const b = harness();
  b.session.transportConnected();
  b.session.receive(Buffer.concat([Buffer.from([3]), S1, b.writes[0].subarray(1)]));
  b.session.receive(command(3, 0, '_error', 1, null, { level: 'error', code: 'NetConnection.Connect.Rejected', description: 'bad app' }));
  const err = b.events.at(-1);
  assert.equal(err?.type, 'error');
  assert.equal(err?.type === 'error' && err.code, RtmpErrorCode.CONNECT_FAILED);
  assert.match(err?.type === 'error' ? err.reason : '', /^connect rejected: .*NetConnection\.Connect\.Rejected/);
  assert.ok(b.logs.includes('E/RTMP: Connection failed'));

  // garbage chunk stream (a message over maxMessageSize) → error event
  const c = harness();
  c.session.transportConnected();
  c.session.receive(Buffer.concat([Buffer.from([3]), S1, c.writes[0].subarray(1)]));
  const huge = Buffer.from([0x03, 0, 0, 0, 0xff, 0xff, 0xff, 20, 0, 0, 0, 0]);
  c.session.receive(huge);
  assert.equal(c.events.at(-1)?.type, 'error');

  // server 'close' command → NETWORK error; after close() nothing more is reported or written
  const d = harness();
  d.session.transportConnected();
  d.session.receive(Buffer.concat([Buffer.from([3]), S1, d.writes[0].subarray(1)]));
  d.session.receive(command(3, 0, 'close', 0, null));
  assert.deepEqual(d.events.at(-1), { type: 'error', code: RtmpErrorCode.NETWORK, reason: 'server sent close' });
  d.session.close();
  const counts = [d.events.length, d.writes.length, d.logs.length];
  d.session.receive(command(3, 0, '_result', 1, null, { code: 'NetConnection.Connect.Success' }));
  d.session.publish();
  assert.equal(d.session.sendMessage(d.session.videoMessage(Buffer.from([0x27, 1, 0, 0, 0]), 0)), 0);
  assert.deepEqual([d.events.length, d.writes.length, d.logs.length], counts);
  assert.equal(d.timers.active.size, 0, 'close() clears the step timer');
});
