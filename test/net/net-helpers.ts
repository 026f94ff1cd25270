/** Shared bits of the network tests. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runLua, RunLuaOptions, RunLuaResult } from '../helpers/run-lua';
import { WifiNetwork, WifiNetworkOptions } from '../../runtime/net/model';
import type { LogRecord } from '../../runtime/core/log';

export const ENGINES = ['wasmoon', 'fengari'] as const;

/** the project's own demo script (dist/test/net → repo root) */
export function demoScript(name: string): string {
  return fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'demo', name), 'utf8');
}

/** the reference device's addresses */
export const REF_NET: WifiNetworkOptions = { ip: '192.168.31.234', netmask: '255.255.255.0', gateway: '192.168.31.1', mac: 'C8C2C68C5DEA' };

/** fast timings for tests that are not about timing */
export const FAST = { assocMs: 60, dhcpMs: 30, failMs: 80, reconnectMs: 100, scanMs: 50, sntpHostMs: 20, ntpTimeoutMs: 300 };

export function runNet(files: Record<string, string>, model: WifiNetwork, opts: RunLuaOptions = {}): Promise<RunLuaResult> {
  return runLua(files, { ...opts, device: { ...(opts.device ?? {}), network: model } });
}

/** the body of a firmware line: `<module>:<message>` */
export function fw(r: LogRecord): string | null {
  return r.kind === 'U' ? null : `${r.module}:${r.payload.toString('utf8')}`;
}

/** index of the first record whose text (user payload or `module:message`) equals / matches */
export function findRec(records: LogRecord[], want: string | RegExp, from = 0): number {
  for (let i = from; i < records.length; i++) {
    const r = records[i];
    const t = r.kind === 'U' ? r.payload.toString('utf8') : `${r.module}:${r.payload.toString('utf8')}`;
    if (typeof want === 'string' ? t === want : want.test(t)) return i;
  }
  return -1;
}
