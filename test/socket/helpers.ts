/** runNet for the socket tests, removing the run's temporary script and data folders after it. */
import * as fs from 'node:fs';
import { runLua, RunLuaOptions, RunLuaResult } from '../helpers/run-lua';
import type { WifiNetwork } from '../../runtime/net/model';
import type { Device } from '../../runtime/core/device';

export async function runSock(files: Record<string, string | Buffer>, model: WifiNetwork, opts: RunLuaOptions = {}): Promise<RunLuaResult> {
  const r = await runLua(files, { ...opts, device: { ...(opts.device ?? {}), network: model } });
  await r.device.vm?.drained.catch(() => undefined);
  for (const d of [r.dir, r.device.vfs.dataDir]) fs.rmSync(d, { recursive: true, force: true });
  return r;
}

export interface PeerOptions extends RunLuaOptions {
  /** the PC-side port a device log line gives, else null */
  portOf: (text: string) => number | null;
  /** the PC side of the test, started on each line `portOf` matches */
  peer: (port: number, device: Device) => Promise<void>;
}

/** runSock with a PC-side peer started from a log line; returns once the run and the last peer are done. */
export async function runSockWithPeer(files: Record<string, string | Buffer>, model: WifiNetwork, opts: PeerOptions): Promise<RunLuaResult> {
  const { portOf, peer, ...rest } = opts;
  let peerDone: Promise<void> = Promise.resolve();
  const r = await runSock(files, model, {
    ...rest,
    onDevice: (d) =>
      d.logSink.on((_r, text) => {
        const port = portOf(text);
        if (port === null) return;
        peerDone = peer(port, d);
      }),
  });
  await peerDone;
  return r;
}
