/**
 * Child-process entry: runs node-media-server 4 on 127.0.0.1:<port> (NMS calls process.exit on
 * EADDRINUSE, so it never runs inside the test runner). For every published stream it writes the
 * received messages as an FLV file `<dir>/<app>_<name>.flv` and reports one JSON line per packet on
 * stdout: {"ev":"pkt","path","type","flags","dts","size","t"}; also {"ev":"ready"},
 * {"ev":"publish","path"}, {"ev":"donePublish","path"}.
 * argv: port dir
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NmsPacket, startNms } from '../../../runtime/host/platform/nms-launch';

const port = Number(process.argv[2]);
const dir = process.argv[3];
fs.mkdirSync(dir, { recursive: true });

function out(o: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

const files = new Map<string, number>();

function fileFor(p: string): number {
  let fd = files.get(p);
  if (fd === undefined) {
    fd = fs.openSync(path.join(dir, p.replace(/^\//, '').replace(/[^A-Za-z0-9_-]/g, '_') + '.flv'), 'w');
    fs.writeSync(fd, Buffer.from([0x46, 0x4c, 0x56, 1, 0x01, 0, 0, 0, 9, 0, 0, 0, 0]));
    files.set(p, fd);
  }
  return fd;
}

function record(p: string, packet: NmsPacket): void {
  const t = Date.now();
  const data: Buffer = Buffer.from(packet.data.subarray(0, packet.size));
  const type: number = packet.codec_type;
  if (type === 8 || type === 9 || type === 18) {
    const h = Buffer.alloc(11);
    h[0] = type;
    h.writeUIntBE(data.length, 1, 3);
    const ts = packet.dts >>> 0;
    h.writeUIntBE(ts & 0xffffff, 4, 3);
    h[7] = (ts >>> 24) & 0xff;
    const pts = Buffer.alloc(4);
    pts.writeUInt32BE(11 + data.length, 0);
    fs.writeSync(fileFor(p), Buffer.concat([h, data, pts]));
  }
  out({ ev: 'pkt', path: p, type, flags: packet.flags, dts: packet.dts, size: packet.size, t });
}

const nms = startNms({
  rtmpPort: port,
  storeDir: path.join(dir, 'store'),
  logLevel: process.env.NMS_LOG ?? 'error',
  publishGraceMs: 100,
  onPacket: record,
  on: (ev, s) => {
    if (ev === 'publish' || ev === 'donePublish') out({ ev, path: s.streamPath, t: Date.now() });
  },
});
void nms.ready().then(() => out({ ev: 'ready' }));
process.on('SIGTERM', () => {
  for (const fd of files.values()) fs.closeSync(fd);
  process.exit(0);
});
