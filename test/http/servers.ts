/**
 * Test servers for the http binding: a raw TCP server that records each request exactly as it
 * arrived on the wire and answers with whatever bytes (or misbehaviour) a test scripts, and
 * helpers to run a Lua request script against it through host mapping.
 */
import * as net from 'node:net';
import { DirectNetwork, parseMapRule } from '../../runtime/net/direct';

export interface WireRequest {
  /** the head as text (request line and header lines, without the blank line) */
  head: string;
  lines: string[];
  body: Buffer;
  raw: Buffer;
}

export type RawHandler = (req: WireRequest, sock: net.Socket) => void;

export interface RawServer {
  port: number;
  requests: WireRequest[];
  /** sockets accepted (also those that never sent a full request) */
  connections: number;
  close(): Promise<void>;
}

/** A TCP server that parses just enough of each request (head + Content-Length body). */
export async function startRawServer(handler: RawHandler, onConnect?: (sock: net.Socket) => void): Promise<RawServer> {
  const requests: WireRequest[] = [];
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const srv = net.createServer((sock) => {
    state.connections++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    if (onConnect) {
      onConnect(sock);
      // keep reading so that the peer's FIN is seen (a paused socket never emits 'close')
      if (sock.listenerCount('data') === 0) sock.resume();
      return;
    }
    let buf = Buffer.alloc(0);
    let handled = false;
    sock.on('data', (d) => {
      if (handled) return;
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const len = m ? Number(m[1]) : 0;
      if (buf.length < end + 4 + len) return;
      handled = true;
      const req: WireRequest = { head, lines: head.split('\r\n'), body: buf.subarray(end + 4, end + 4 + len), raw: buf };
      requests.push(req);
      handler(req, sock);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    requests,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A device network mapping `video.luatos.com:10030` (and `:443`, `:80`) to a local port. */
export function mappedNetwork(port: number, extra: string[] = []): DirectNetwork {
  return new DirectNetwork([
    parseMapRule(`video.luatos.com:10030=127.0.0.1:${port}`),
    parseMapRule(`video.luatos.com:80=127.0.0.1:${port}`),
    parseMapRule(`video.luatos.com:443=127.0.0.1:${port}`),
    ...extra.map(parseMapRule),
  ]);
}

/** An HTTP/1.1 response with Content-Length. */
export function response(status: string, headers: Record<string, string>, body: string | Buffer = ''): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  let h = `HTTP/1.1 ${status}\r\n`;
  for (const [k, v] of Object.entries(headers)) h += `${k}: ${v}\r\n`;
  h += `Content-Length: ${b.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(h, 'latin1'), b]);
}

/**
 * A main.lua that runs `expr` (a future) in a task and logs `res <code> <a> <b>` where a/b are
 * chosen by `show` (Lua expressions over code, headers, body), then `DONE`.
 */
export function requestScript(expr: string, show = 'body'): string {
  return `
sys.taskInit(function()
  local code, headers, body = ${expr}.wait()
  log.info("res", code, ${show})
  log.info("DONE")
end)
sys.run()
`;
}
