/**
 * Test servers for the websocket binding: a real `ws` WebSocketServer (an independent
 * implementation of the protocol) and a raw TCP server that records the bytes exactly as they
 * arrived, both on 127.0.0.1 with ephemeral ports; and a device network that maps the host
 * names the scripts use to them.
 */
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import * as http from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';
import { DirectNetwork, parseMapRule } from '../../runtime/net/direct';
import type { RunLuaResult } from '../helpers/run-lua';

export const HOST = 'wstest.luatos.com';

/** a device network sending `wstest.luatos.com` (any port) to 127.0.0.1:port */
export function wsNetwork(port: number): DirectNetwork {
  return new DirectNetwork([parseMapRule(`${HOST}=127.0.0.1:${port}`)]);
}

export interface EchoServer {
  port: number;
  wss: WebSocketServer;
  http: http.Server;
  /** what the server received: [isBinary, data] */
  messages: Array<[boolean, Buffer]>;
  /** request heads (raw header lists) of the upgrades */
  upgrades: string[][];
  clients(): WebSocket[];
  close(): Promise<void>;
}

/**
 * A `ws` server. `onConn` may script the server side; by default it echoes each message of up
 * to 32768 bytes, answers longer ones with `got bin|text <length>` and the text `big <n>` with n
 * bytes of a pattern.
 */
export async function startWsServer(opts: { port?: number; server?: http.Server; onConn?: (ws: WebSocket, srv: EchoServer) => void } = {}): Promise<EchoServer> {
  const httpSrv = opts.server ?? http.createServer();
  const wss = new WebSocketServer({ server: httpSrv, maxPayload: 4 * 1024 * 1024 });
  const sockets = new Set<net.Socket>();
  httpSrv.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const srv: EchoServer = {
    port: 0,
    wss,
    http: httpSrv,
    messages: [],
    upgrades: [],
    clients: () => [...wss.clients],
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        for (const s of sockets) s.destroy();
        wss.close();
        httpSrv.close(() => r());
      }),
  };
  wss.on('connection', (ws, req) => {
    srv.upgrades.push(req.rawHeaders);
    ws.on('error', () => {});
    if (opts.onConn) {
      opts.onConn(ws, srv);
      return;
    }
    ws.on('message', (data: Buffer, isBinary) => {
      srv.messages.push([isBinary, data]);
      const m = !isBinary ? /^big (\d+)$/.exec(data.toString('latin1')) : null;
      if (m) ws.send(pattern(Number(m[1])), { binary: true });
      else if (data.length > 32768) ws.send(`got ${isBinary ? 'bin' : 'text'} ${data.length}`);
      else ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((r) => httpSrv.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  srv.port = (httpSrv.address() as net.AddressInfo).port;
  return srv;
}

/** n bytes of a repeating pattern that is not all one value */
export function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
}

export interface RawServer {
  port: number;
  /** everything received per connection */
  received: Buffer[];
  sockets: net.Socket[];
  close(): Promise<void>;
}

/** A TCP server that records the bytes and lets `onData` answer. */
export async function startRawServer(onData: (sock: net.Socket, all: Buffer, index: number) => void): Promise<RawServer> {
  const srv: RawServer = { port: 0, received: [], sockets: [], close: async () => undefined };
  const server = net.createServer((s) => {
    const index = srv.received.length;
    srv.received.push(Buffer.alloc(0));
    srv.sockets.push(s);
    s.on('error', () => {});
    s.on('data', (d) => {
      srv.received[index] = Buffer.concat([srv.received[index], d]);
      onData(s, srv.received[index], index);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  srv.port = (server.address() as net.AddressInfo).port;
  srv.close = () =>
    new Promise<void>((r) => {
      for (const s of srv.sockets) s.destroy();
      server.close(() => r());
    });
  return srv;
}

/** the user log payloads after `I/user.` */
export function userLines(user: string[]): string[] {
  return user.map((u) => u.replace(/^[DIWE]\/user\./, ''));
}

/**
 * The script's lines (with `userPrefix` taken off) and the websocket module's lines
 * (`W websocket_parse ret -1`), in log order.
 */
export function wsTrace(r: RunLuaResult, userPrefix: RegExp): string[] {
  const out: string[] = [];
  for (const rec of r.records) {
    if (rec.kind === 'U') out.push(rec.payload.toString('utf8').replace(userPrefix, ''));
    else if (rec.module === 'websocket') out.push(`${rec.kind} ${rec.payload.toString('utf8')}`);
  }
  return out;
}

/** `wants` appear in this order (not necessarily adjacent) */
export function inOrder(lines: string[], wants: (string | RegExp)[]): void {
  let i = 0;
  for (const w of wants) {
    const at = lines.findIndex((l, k) => k >= i && (typeof w === 'string' ? l === w : w.test(l)));
    assert.ok(at >= 0, `missing (in order) ${w}\n---\n${lines.join('\n')}`);
    i = at + 1;
  }
}
