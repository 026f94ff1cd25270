/**
 * `options: { platform: local }`: the local stand-in for the video platform and RTMP server
 * (runtime/host/platform, `startLocalPlatform`). It is loaded when a scenario asks for it, so the
 * scenario runner works (with `platform: none`) in a checkout that does not have it.
 *
 * What the runner uses of it:
 *   mapRules()               host mapping rules ("HOST[:PORT]=ADDR[:PORT]" strings or rule
 *                            objects) that send the scripts' platform hosts to it
 *   registerFaults(registry) `http fail ...`, `rtmp-server kill|restart|throttle|unthrottle`
 *   stop()                   end it (servers closed, children killed)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FaultRegistry } from '../../core/faults';
import type { HostMapRule } from '../../net/direct';

export interface LocalPlatform {
  mapRules(): (string | HostMapRule)[];
  registerFaults(registry: FaultRegistry): unknown;
  stop(): void | Promise<void>;
}

export type PlatformFactory = (opts: Record<string, unknown>) => Promise<LocalPlatform> | LocalPlatform;

/** The factory from runtime/host/platform, or a readable error when it is not there. */
export function loadPlatformFactory(): PlatformFactory {
  const dir = path.join(__dirname, '..', 'platform');
  if (!fs.existsSync(dir) && !fs.existsSync(dir + '.js')) {
    throw new Error('platform: local needs the local platform (runtime/host/platform), which this build does not have; use platform: none');
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(dir) as { startLocalPlatform?: PlatformFactory };
  if (typeof mod.startLocalPlatform !== 'function') throw new Error('runtime/host/platform does not export startLocalPlatform');
  return mod.startLocalPlatform;
}
