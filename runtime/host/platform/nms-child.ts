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
import * as fs from 'node:fs';
import { guardIngestHttp } from './flv-guard';
import { startNms } from './nms-launch';

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
const nms = startNms({
  host: args.host,
  rtmpPort: args.rtmpPort,
  httpPort: args.httpPort,
  storeDir: args.storeDir,
  logLevel: args.logLevel,
  publishGraceMs: args.publishGraceMs,
  on: (ev, s) => send(ev === 'play' || ev === 'donePlay' ? { ev, path: s.streamPath, protocol: s.protocol } : { ev, path: s.streamPath }),
});
// the console's Host/Origin rules on the HTTP-FLV / WS-FLV port, no CORS (flv-guard.ts)
if (!nms.httpServer) {
  send({ ev: 'fatal', message: 'node-media-server has no HTTP server to guard' });
  process.exit(1);
}
guardIngestHttp(nms.httpServer, args.host, args.httpPort);

process.on('uncaughtException', (e) => {
  send({ ev: 'fatal', message: String(e?.stack ?? e) });
  process.exit(1);
});

nms.ready(20_000).then(
  () => send({ ev: 'ready' }),
  (e: Error) => {
    send({ ev: 'fatal', message: String(e?.stack ?? e) });
    if (/did not start listening/.test(e.message)) process.exit(1);
  },
);

process.on('SIGTERM', () => {
  const hard = setTimeout(() => process.exit(0), 1000);
  nms
    .stop()
    .catch(() => {})
    .then(() => {
      clearTimeout(hard);
      process.exit(0);
    });
});
