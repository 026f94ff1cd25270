/**
 * Child-process entry of the benchmark's server: node-media-server 4 on 127.0.0.1:<port> (argv[2]),
 * its JSON store in <dir> (argv[3]), log level "error", nothing recorded. It runs in its own
 * process because NMS calls process.exit on EADDRINUSE and so that its CPU is not charged to anyone
 * measured. IPC: sends {ev:'ready'}; answers {cmd:'counts'} with {ev:'counts', video:{path:n}}
 * (video packets NMS broadcast per stream path, sequence headers included). Exits when the parent
 * goes away.
 */
import * as path from 'node:path';
import { startNms } from '../../runtime/host/platform/nms-launch';

export const NMS_CHILD_ENTRY = __filename;

function main(): void {
  const port = Number(process.argv[2]);
  const dir = process.argv[3];
  const video = new Map<string, number>();
  const nms = startNms({
    rtmpPort: port,
    storeDir: path.join(dir, 'store'),
    logLevel: 'error',
    publishGraceMs: 100,
    onPacket: (p, packet) => {
      if (packet.codec_type === 9) video.set(p, (video.get(p) ?? 0) + 1);
    },
  });
  void nms.ready().then(() => process.send?.({ ev: 'ready' }));
  process.on('message', (m: any) => {
    if (m?.cmd === 'counts') process.send?.({ ev: 'counts', video: Object.fromEntries(video) });
  });
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}

if (require.main === module) main();
