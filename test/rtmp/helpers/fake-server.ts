/**
 * A scriptable RTMP server for fault tests (built on the library's own chunk reader/writer and
 * AMF0 codec, which the unit tests check against each other and the real servers check against
 * the world).
 */
import * as net from 'node:net';
import { ChunkReader } from '../../../runtime/media/rtmp/chunk-reader';
import { ChunkWriter } from '../../../runtime/media/rtmp/chunk-writer';
import { decodeAmf0, encodeAmf0, type Amf0Value } from '../../../runtime/media/rtmp/amf0';
import { MSG, type RtmpMessage } from '../../../runtime/media/rtmp/messages';

export interface FakeConn {
  socket: net.Socket;
  received: RtmpMessage[];
  send(msg: RtmpMessage): void;
  command(name: string, tx: number, ...args: Amf0Value[]): void;
  /** raw bytes */
  raw(b: Buffer): void;
}

export interface FakeServerOptions {
  /** what to do on connection: 'silent' (never answer), 'bad-version' (S0 = 6), 'close' (close at once), 'handshake' (default) */
  mode?: 'silent' | 'bad-version' | 'close' | 'handshake' | 'no-s2';
  /** called for every complete message after the handshake; `cmd` for command messages */
  onMessage?: (c: FakeConn, msg: RtmpMessage, cmd?: Amf0Value[]) => void;
  /** called right after the handshake */
  onReady?: (c: FakeConn) => void;
}

export class FakeRtmpServer {
  server!: net.Server;
  port = 0;
  conns: FakeConn[] = [];
  sockets = new Set<net.Socket>();

  static async start(opts: FakeServerOptions = {}): Promise<FakeRtmpServer> {
    const f = new FakeRtmpServer();
    f.server = net.createServer((sock) => f.onConn(sock, opts));
    await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
    f.port = (f.server.address() as net.AddressInfo).port;
    return f;
  }

  url(path = 'live/test'): string {
    return `rtmp://127.0.0.1:${this.port}/${path}`;
  }

  private onConn(sock: net.Socket, opts: FakeServerOptions): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => undefined);
    const mode = opts.mode ?? 'handshake';
    if (mode === 'close') {
      sock.destroy();
      return;
    }
    const writer = new ChunkWriter();
    const reader = new ChunkReader();
    const conn: FakeConn = {
      socket: sock,
      received: [],
      send: (m) => {
        if (!sock.destroyed) sock.write(writer.encode(m));
      },
      command: (name, tx, ...args) => conn.send({ csid: 3, type: MSG.COMMAND_AMF0, streamId: 0, timestamp: 0, payload: encodeAmf0(name, tx, ...args) }),
      raw: (b) => {
        if (!sock.destroyed) sock.write(b);
      },
    };
    this.conns.push(conn);
    let buf = Buffer.alloc(0);
    let stage = 0; // 0 wait C0C1, 1 wait C2, 2 chunks
    sock.on('data', (d: Buffer) => {
      if (mode === 'silent') return;
      if (stage < 2) {
        buf = Buffer.concat([buf, d]);
        if (stage === 0 && buf.length >= 1537) {
          if (mode === 'bad-version') {
            sock.write(Buffer.concat([Buffer.from([6]), Buffer.alloc(1536 * 2)]));
            return;
          }
          const s1 = Buffer.alloc(1536, 7);
          const s2 = Buffer.from(buf.subarray(1, 1537));
          sock.write(Buffer.concat([Buffer.from([3]), s1, mode === 'no-s2' ? Buffer.alloc(0) : s2]));
          buf = buf.subarray(1537);
          stage = 1;
        }
        if (stage === 1 && buf.length >= 1536) {
          const rest = buf.subarray(1536);
          stage = 2;
          opts.onReady?.(conn);
          if (rest.length) handle(rest);
        }
        return;
      }
      handle(d);
    });
    const handle = (d: Buffer) => {
      let msgs: RtmpMessage[];
      try {
        msgs = reader.push(d);
      } catch {
        sock.destroy();
        return;
      }
      for (const m of msgs) {
        conn.received.push(m);
        let cmd: Amf0Value[] | undefined;
        if (m.type === MSG.COMMAND_AMF0) cmd = decodeAmf0(m.payload);
        opts.onMessage?.(conn, m, cmd);
      }
    };
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Standard answers of a cooperative server; override what a test needs. */
export function cooperative(overrides: Partial<Record<'connect' | 'createStream' | 'publish', (c: FakeConn, tx: number, cmd: Amf0Value[], msg: RtmpMessage) => void>> = {}) {
  return (c: FakeConn, msg: RtmpMessage, cmd?: Amf0Value[]) => {
    if (!cmd) return;
    const name = cmd[0] as string;
    const tx = cmd[1] as number;
    const o = overrides[name as 'connect' | 'createStream' | 'publish'];
    if (o) return o(c, tx, cmd, msg);
    if (name === 'connect') c.command('_result', tx, { fmsVer: 'FMS/3,0,1,123' }, { level: 'status', code: 'NetConnection.Connect.Success', description: 'ok' });
    else if (name === 'createStream') c.command('_result', tx, null, 1);
    else if (name === 'publish') {
      c.send({ csid: 5, type: MSG.COMMAND_AMF0, streamId: 1, timestamp: 0, payload: encodeAmf0('onStatus', 0, null, { level: 'status', code: 'NetStream.Publish.Start', description: 'started' }) });
    }
  };
}
