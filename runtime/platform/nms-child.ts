/**
 * Child-process entry of the local platform's RTMP ingest: node-media-server 4 on 127.0.0.1
 * with RTMP and HTTP-FLV / WS-FLV (`http://H:P/app/name.flv`, `ws://H:P/app/name.flv`), the
 * latter behind the web console's Host/Origin rules and without CORS (flv-guard.ts).
 *
 * It runs in its own process because NMS calls `process.exit(1)` when a port is taken. It talks
 * to the parent over the IPC channel: `{ev:'ready'}`, `{ev:'publish'|'donePublish'|'play'|
 * 'donePlay', path}`, `{ev:'fatal', message}`; NMS's own log lines go to stdout. It exits when
 * the parent goes away (IPC disconnect) or on SIGTERM (after stopping NMS).
 *
 * argv[2]: JSON {rtmpPort, httpPort, host, storeDir, publishGraceMs, logLevel}
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import * as fs from 'node:fs';
import { guardIngestHttp } from './flv-guard';

interface ChildArgs {
  rtmpPort: number;
  httpPort: number;
  host: string;
  storeDir: string;
  publishGraceMs: number;
  logLevel: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;

function send(o: Record<string, unknown>): void {
  if (process.connected && process.send) {
    try {
      process.send(o);
    } catch {
      /* parent gone */
    }
  }
}

process.on('disconnect', () => process.exit(0));

fs.mkdirSync(args.storeDir, { recursive: true });
const NodeMediaServer = require('node-media-server');
const logger = require('node-media-server/src/core/logger.js');

const nms = new NodeMediaServer(
  {
    bind: args.host,
    rtmp: { port: args.rtmpPort },
    http: { port: args.httpPort },
    webadmin: { enable: false },
    store: { path: args.storeDir },
    auth: { play: false, publish: false, secret: '' },
  },
  '',
);
logger.level = args.logLevel || 'error';
// the console's Host/Origin rules on the HTTP-FLV / WS-FLV port, no CORS (flv-guard.ts)
const flvServer = nms.httpServer?.httpServer;
if (!flvServer) {
  send({ ev: 'fatal', message: 'node-media-server has no HTTP server to guard' });
  process.exit(1);
}
guardIngestHttp(flvServer, args.host, args.httpPort);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Session = any;
nms.on('postPublish', (s: Session) => {
  if (s.broadcast) s.broadcast.publishGraceMs = args.publishGraceMs;
  send({ ev: 'publish', path: s.streamPath });
});
nms.on('donePublish', (s: Session) => send({ ev: 'donePublish', path: s.streamPath }));
nms.on('postPlay', (s: Session) => send({ ev: 'play', path: s.streamPath, protocol: s.protocol }));
nms.on('donePlay', (s: Session) => send({ ev: 'donePlay', path: s.streamPath, protocol: s.protocol }));

process.on('uncaughtException', (e) => {
  send({ ev: 'fatal', message: String(e?.stack ?? e) });
  process.exit(1);
});

nms.run().catch((e: Error) => send({ ev: 'fatal', message: String(e?.stack ?? e) }));
const started = Date.now();
const iv = setInterval(() => {
  const rtmpUp = nms.rtmpServer?.tcpServer?.listening === true;
  const httpUp = nms.httpServer?.httpServer?.listening === true;
  if (rtmpUp && httpUp) {
    clearInterval(iv);
    send({ ev: 'ready' });
  } else if (Date.now() - started > 20_000) {
    clearInterval(iv);
    send({ ev: 'fatal', message: 'node-media-server did not start listening within 20 s' });
    process.exit(1);
  }
}, 10);

process.on('SIGTERM', () => {
  const hard = setTimeout(() => process.exit(0), 1000);
  Promise.resolve(nms.stop())
    .catch(() => {})
    .then(() => {
      clearTimeout(hard);
      process.exit(0);
    });
});
