/**
 * A script's listening socket (socket.listen, httpsrv.start) made reachable from the PC: it
 * binds 127.0.0.1 only (never other interfaces), on the host port the network configuration
 * gives for the device port, and logs where it is:
 *
 *   I socket:device port 80 listening, reachable from the PC at 127.0.0.1:8080 (luatos-pc)
 *
 * Which host port (profile `network.listen`, `WifiNetwork` option `listen`):
 *   { "80": 8080 }  device port 80 → host port 8080;  { "*": 0 }  every port → an ephemeral one.
 * Without a rule the host port is the device port; when that one is taken or not allowed
 * (below 1024 on Linux) an ephemeral port is used instead, and the log line says which.
 */
import * as net from 'node:net';
import type { DeviceNetwork } from './types';

export interface ListenHandle {
  /** the host port, once bound (rejects when binding failed) */
  ready: Promise<number>;
  close(): void;
}

/** `{ "80": 8080, "*": 0 }` → the host port for a device port (undefined: same as the device) */
export type ListenRules = Record<string, number>;

export function hostPortFor(rules: ListenRules | undefined, devicePort: number): number | undefined {
  if (!rules) return undefined;
  const r = Object.prototype.hasOwnProperty.call(rules, String(devicePort)) ? rules[String(devicePort)] : Object.prototype.hasOwnProperty.call(rules, '*') ? rules['*'] : undefined;
  return typeof r === 'number' && Number.isInteger(r) && r >= 0 && r < 65536 ? r : undefined;
}

/** Parse the profile's `network.listen` (object of port → port); throws a readable Error. */
export function parseListenRules(v: unknown): ListenRules | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error('profile network.listen must be an object like { "80": 8080, "*": 0 }');
  const out: ListenRules = Object.create(null);
  for (const [k, p] of Object.entries(v as Record<string, unknown>)) {
    if (k !== '*' && !/^\d{1,5}$/.test(k)) throw new Error(`network.listen: bad device port '${k}'`);
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`network.listen: bad host port for '${k}'`);
    out[k] = p;
  }
  return out;
}

/**
 * Listen for the device on 127.0.0.1. `onConnection` gets every accepted host socket; `log`
 * receives the line saying where the PC reaches the server.
 */
export function listenOnHost(
  network: DeviceNetwork,
  devicePort: number,
  adapter: number,
  onConnection: (s: net.Socket) => void,
  log: (msg: string) => void,
): ListenHandle {
  if (!(Number.isInteger(devicePort) && devicePort > 0 && devicePort < 65536)) throw new Error(`bad listen port ${devicePort} (set it with socket.config's local_port)`);
  const n = network as DeviceNetwork & { listenRules?: ListenRules };
  const configured = hostPortFor(n.listenRules, devicePort);
  const server = net.createServer({ noDelay: true }, onConnection);
  let closed = false;
  const ready = new Promise<number>((resolve, reject) => {
    const tryPort = (port: number, fallback: boolean) => {
      const onErr = (e: NodeJS.ErrnoException) => {
        if (fallback && (e.code === 'EACCES' || e.code === 'EADDRINUSE' || e.code === 'EPERM')) {
          tryPort(0, false);
          return;
        }
        reject(new Error(`cannot bind 127.0.0.1:${port}: ${e.code ?? e.message}`));
      };
      server.once('error', onErr);
      server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
        server.off('error', onErr);
        server.on('error', () => undefined);
        const got = (server.address() as net.AddressInfo).port;
        if (closed) {
          server.close();
          return reject(new Error('closed'));
        }
        const note = configured === undefined && got !== devicePort ? ` (port ${devicePort} is not free on the PC)` : '';
        log(`device port ${devicePort} listening on adapter ${adapter}, reachable from the PC at 127.0.0.1:${got}${note} (luatos-pc)`);
        resolve(got);
      });
    };
    tryPort(configured ?? devicePort, configured === undefined);
  });
  ready.catch(() => undefined);
  return {
    ready,
    close: () => {
      closed = true;
      server.close();
    },
  };
}
