/**
 * Minimal in-process RTMP sink for the concurrency ramp (node-media-server relays, keeps a GOP
 * cache and logs per packet; at hundreds of streams it would be measured instead of the publisher).
 * Per connection it answers the simple handshake (S0 + S1 + S2 = echo of C1), answers `connect`
 * with `_result` NetConnection.Connect.Success, `createStream` with `_result` stream id 1 and
 * `publish` with onStatus NetStream.Publish.Start; releaseStream/FCPublish/FCUnpublish/deleteStream
 * get no answer (as from NMS). It relays nothing and stores nothing: it parses the chunk stream
 * (RtmpInbound) to count bytes and to timestamp the arrival of every access unit (the `data` event
 * that carried its last byte).
 */
import * as net from 'node:net';
import { encodeAmf0, decodeAmf0, type Amf0Value } from '../../runtime/media/rtmp/amf0';
import { ChunkWriter } from '../../runtime/media/rtmp/chunk-writer';
import { RtmpInbound } from './dechunk';
import { nowMs } from './util';

export interface SinkConn {
  stream: string;
  bytes: number;
  arrivals: number[];
  timestamps: number[];
  publishedAt?: number;
}

export class RtmpSink {
  server!: net.Server;
  port = 0;
  conns: SinkConn[] = [];
  private sockets = new Set<net.Socket>();

  static async start(): Promise<RtmpSink> {
    const s = new RtmpSink();
    s.server = net.createServer((c) => s.onConn(c));
    s.server.maxConnections = 4000;
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, () => resolve());
    });
    s.port = (s.server.address() as net.AddressInfo).port;
    return s;
  }

  url(stream: string): string {
    return `rtmp://127.0.0.1:${this.port}/live/${stream}`;
  }

  byStream(): Map<string, SinkConn> {
    return new Map(this.conns.filter((c) => c.stream).map((c) => [c.stream, c]));
  }

  /** Close every connection and forget them (between ramp steps). */
  reset(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.conns = [];
  }

  private onConn(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.setNoDelay(true);
    const rec: SinkConn = { stream: '', bytes: 0, arrivals: [], timestamps: [] };
    this.conns.push(rec);
    const writer = new ChunkWriter();
    const send = (csid: number, streamId: number, ...values: Amf0Value[]) => {
      if (!sock.destroyed) sock.write(writer.encode({ csid, type: 20, streamId, timestamp: 0, payload: encodeAmf0(...values) }));
    };
    const parser = new RtmpInbound(
      (m, t) => {
        if (m.type === 9) {
          if (m.head.length >= 2 && m.head[1] === 1) {
            rec.arrivals.push(t);
            rec.timestamps.push(m.timestamp);
          }
          return;
        }
        if (m.type !== 20) return;
        let v: Amf0Value[];
        try {
          v = decodeAmf0(m.head);
        } catch {
          sock.destroy();
          return;
        }
        const name = v[0];
        const tx = typeof v[1] === 'number' ? v[1] : 0;
        if (name === 'connect') {
          send(3, 0, '_result', tx, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: 0 });
        } else if (name === 'createStream') {
          send(3, 0, '_result', tx, null, 1);
        } else if (name === 'publish') {
          rec.stream = typeof v[3] === 'string' ? v[3] : '?';
          rec.publishedAt = t;
          send(5, 1, 'onStatus', 0, null, { level: 'status', code: 'NetStream.Publish.Start', description: `${rec.stream} is now published.` });
        }
      },
      (c0c1) => {
        const s1 = Buffer.alloc(1536);
        sock.write(Buffer.concat([Buffer.from([3]), s1, c0c1.subarray(1)]));
      },
    );
    sock.on('data', (d: Buffer) => {
      rec.bytes += d.length;
      parser.push(d, nowMs());
      if (parser.failed) sock.destroy();
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => this.sockets.delete(sock));
  }

  async stop(): Promise<void> {
    this.reset();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
