/** runNet for the socket tests, removing the run's temporary script and data folders after it. */
import * as fs from 'node:fs';
import { runLua, RunLuaOptions, RunLuaResult } from '../helpers/run-lua';
import type { WifiNetwork } from '../../runtime/net/model';

export async function runSock(files: Record<string, string | Buffer>, model: WifiNetwork, opts: RunLuaOptions = {}): Promise<RunLuaResult> {
  const r = await runLua(files, { ...opts, device: { ...(opts.device ?? {}), network: model } });
  await r.device.vm?.drained.catch(() => undefined);
  for (const d of [r.dir, r.device.vfs.dataDir]) fs.rmSync(d, { recursive: true, force: true });
  return r;
}
