/**
 * Child-process entry of the benchmark's server: node-media-server 4 on 127.0.0.1:<port> (argv[2]),
 * its JSON store in <dir> (argv[3]), log level "error", nothing recorded. It runs in its own
 * process because NMS calls process.exit on EADDRINUSE and so that its CPU is not charged to anyone
 * measured. IPC: sends {ev:'ready'}; answers {cmd:'counts'} with {ev:'counts', video:{path:n}}
 * (video packets NMS broadcast per stream path, sequence headers included). Exits when the parent
 * goes away.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import * as path from 'node:path';

export const NMS_CHILD_ENTRY = __filename;

function main(): void {
  const port = Number(process.argv[2]);
  const dir = process.argv[3];
  const NodeMediaServer = require('node-media-server');
  const logger = require('node-media-server/src/core/logger.js');
  const nms = new NodeMediaServer(
    {
      bind: '127.0.0.1',
      rtmp: { port },
      webadmin: { enable: false },
      store: { path: path.join(dir, 'store') },
      auth: { play: false, publish: false, secret: '' },
    },
    '/dev/null',
  );
  logger.level = 'error';
  const video = new Map<string, number>();
  nms.on('postPublish', (session: any) => {
    const p: string = session.streamPath;
    const b = session.broadcast;
    if (!b) return;
    b.publishGraceMs = 100;
    if (b.__benchWrapped) return;
    b.__benchWrapped = true;
    const orig = b.broadcastMessage;
    b.broadcastMessage = (packet: any) => {
      if (packet.codec_type === 9) video.set(p, (video.get(p) ?? 0) + 1);
      return orig.call(b, packet);
    };
  });
  nms.run();
  const iv = setInterval(() => {
    if (nms.rtmpServer?.tcpServer?.listening) {
      clearInterval(iv);
      process.send?.({ ev: 'ready' });
    }
  }, 20);
  process.on('message', (m: any) => {
    if (m?.cmd === 'counts') process.send?.({ ev: 'counts', video: Object.fromEntries(video) });
  });
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}

if (require.main === module) main();
