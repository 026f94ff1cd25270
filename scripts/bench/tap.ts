/**
 * The A/B observation point: a TCP pass-through proxy on 127.0.0.1 between a publisher and the
 * server (node-media-server). For each connection it counts the bytes in both directions and runs
 * the client→server bytes through RtmpInbound. A video message "arrives" when the `data` event
 * carrying its last byte is read here: that time (nowMs, this process's clock) is recorded per
 * video access unit (AVCPacketType 1; sequence headers and end-of-sequence are listed separately).
 * Both publishers go through the same tap, so it is identical for both; bytes are forwarded at once
 * (setNoDelay on both legs), so the tap adds the same small hop to both.
 */
import * as net from 'node:net';
import { decodeAmf0 } from '../../runtime/media/rtmp/amf0';
import { RtmpInbound, type InMessage } from './dechunk';
import { nowMs } from './util';

export interface TapConn {
  id: number;
  /** stream name from the publish command ('' until seen) */
  stream: string;
  openedAt: number;
  closedAt?: number;
  bytesUp: number;
  bytesDown: number;
  /** per access unit: arrival time (ms) and RTMP timestamp */
  arrivals: number[];
  timestamps: number[];
  /** payload bytes of the access-unit messages (FLV video tag bodies) */
  mediaPayloadBytes: number;
  seqHeaders: number;
  otherVideo: number;
  commands: string[];
  chunkSizeSeen: number;
  /** when the publish command arrived */
  publishAt?: number;
  parseError?: string;
}

export class RtmpTap {
  server!: net.Server;
  port = 0;
  conns: TapConn[] = [];
  private sockets = new Set<net.Socket>();
  private nextId = 1;

  static async start(targetPort: number): Promise<RtmpTap> {
    const tap = new RtmpTap();
    tap.server = net.createServer((c) => tap.onConn(c, targetPort));
    await new Promise<void>((resolve, reject) => {
      tap.server.once('error', reject);
      tap.server.listen(0, '127.0.0.1', () => resolve());
    });
    tap.port = (tap.server.address() as net.AddressInfo).port;
    return tap;
  }

  url(app: string, stream: string): string {
    return `rtmp://127.0.0.1:${this.port}/${app}/${stream}`;
  }

  byStream(stream: string): TapConn | undefined {
    return this.conns.find((c) => c.stream === stream);
  }

  private onConn(client: net.Socket, targetPort: number): void {
    const rec: TapConn = {
      id: this.nextId++,
      stream: '',
      openedAt: nowMs(),
      bytesUp: 0,
      bytesDown: 0,
      arrivals: [],
      timestamps: [],
      mediaPayloadBytes: 0,
      seqHeaders: 0,
      otherVideo: 0,
      commands: [],
      chunkSizeSeen: 128,
    };
    this.conns.push(rec);
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    this.sockets.add(client);
    this.sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const parser = new RtmpInbound((m: InMessage, t: number) => {
      if (m.type === 9) {
        if (m.head.length >= 2 && m.head[1] === 1) {
          rec.arrivals.push(t);
          rec.timestamps.push(m.timestamp);
          rec.mediaPayloadBytes += m.length;
        } else if (m.head.length >= 2 && m.head[1] === 0) rec.seqHeaders++;
        else rec.otherVideo++;
      } else if (m.type === 20) {
        try {
          const v = decodeAmf0(m.head);
          const name = String(v[0]);
          rec.commands.push(name);
          if (name === 'publish' && typeof v[3] === 'string') {
            rec.stream = v[3];
            rec.publishAt = t;
          }
        } catch {
          rec.commands.push('?');
        }
      } else if (m.type === 1) rec.chunkSizeSeen = parser.chunkSize;
    });
    const pendingUp: Buffer[] = [];
    let upConnected = false;
    upstream.on('connect', () => {
      upConnected = true;
      for (const b of pendingUp) upstream.write(b);
      pendingUp.length = 0;
    });
    client.on('data', (d: Buffer) => {
      const t = nowMs();
      rec.bytesUp += d.length;
      if (upConnected) upstream.write(d);
      else pendingUp.push(d);
      parser.push(d, t);
      if (parser.failed && !rec.parseError) rec.parseError = parser.failed;
    });
    upstream.on('data', (d: Buffer) => {
      rec.bytesDown += d.length;
      client.write(d);
    });
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    const closed = () => {
      if (rec.closedAt === undefined) rec.closedAt = nowMs();
    };
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', closed);
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', () => this.sockets.delete(client));
    upstream.on('close', () => this.sockets.delete(upstream));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
