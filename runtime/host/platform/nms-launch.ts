/**
 * The one place that starts node-media-server (pinned to 4.4.3): the local platform's ingest
 * child (nms-child.ts), the RTMP tests' server child (test/rtmp/helpers/nms-child.ts), the web
 * console test's HTTP-FLV server and the RTMP benchmark's server child all call `startNms` with
 * the instrumentation each needs. It is also the only module that reaches into NMS internals
 * (its logger, its sessions' broadcast objects), so an NMS upgrade is checked here.
 *
 * Call it inside a child process of its own: NMS calls `process.exit(1)` when a port is taken.
 */
/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any -- node-media-server is untyped CommonJS */
import type * as http from 'node:http';

/** A media message as NMS 4.4.3 broadcasts it to its players (an AVPacket). */
export interface NmsPacket {
  /** RTMP message type: 8 audio, 9 video, 18 script data */
  codec_type: number;
  flags: number;
  dts: number;
  size: number;
  data: Uint8Array;
}

/** The part of an NMS session the callers read. */
export interface NmsSession {
  streamPath: string;
  protocol?: string;
}

export type NmsEvent = 'publish' | 'donePublish' | 'play' | 'donePlay';

export interface NmsLaunchOptions {
  /** address to bind (default 127.0.0.1) */
  host?: string;
  rtmpPort: number;
  /** HTTP-FLV / WS-FLV port; without it NMS's HTTP server is not asked to listen anywhere known */
  httpPort?: number;
  /** folder of NMS's JSON store */
  storeDir: string;
  /** NMS logger level after start-up (default 'error'; NMS prints its banner before that) */
  logLevel?: string;
  /** set on every published stream: how long NMS keeps players after the publisher leaves */
  publishGraceMs?: number;
  /** called with every message NMS broadcasts on a published stream, before it broadcasts it */
  onPacket?: (path: string, packet: NmsPacket) => void;
  /** session events (after publishGraceMs and onPacket are in place for 'publish') */
  on?: (ev: NmsEvent, session: NmsSession) => void;
}

export interface NmsInstance {
  /** NMS's HTTP(-FLV) server, when it has one */
  readonly httpServer: http.Server | undefined;
  /** resolves once RTMP (and HTTP, if httpPort was given) listen; rejects after timeoutMs */
  ready(timeoutMs?: number): Promise<void>;
  /** NMS's own stop */
  stop(): Promise<void>;
}

const WRAPPED = Symbol('luatos.nmsPacketHook');

export function startNms(o: NmsLaunchOptions): NmsInstance {
  const NodeMediaServer = require('node-media-server');
  const logger = require('node-media-server/src/core/logger.js');
  const config: Record<string, unknown> = {
    bind: o.host ?? '127.0.0.1',
    rtmp: { port: o.rtmpPort },
    webadmin: { enable: false },
    store: { path: o.storeDir },
    auth: { play: false, publish: false, secret: '' },
  };
  if (o.httpPort !== undefined) config.http = { port: o.httpPort };
  // no config file: NMS would write its config back to it
  const nms = new NodeMediaServer(config, '');
  logger.level = o.logLevel || 'error';

  const emit = (ev: NmsEvent, s: any) => o.on?.(ev, s as NmsSession);
  nms.on('postPublish', (s: any) => {
    const b = s.broadcast;
    if (b && o.publishGraceMs !== undefined) b.publishGraceMs = o.publishGraceMs;
    if (b && o.onPacket && !b[WRAPPED]) {
      b[WRAPPED] = true;
      const path: string = s.streamPath;
      const onPacket = o.onPacket;
      const orig = b.broadcastMessage;
      b.broadcastMessage = (packet: NmsPacket) => {
        onPacket(path, packet);
        return orig.call(b, packet);
      };
    }
    emit('publish', s);
  });
  nms.on('donePublish', (s: any) => emit('donePublish', s));
  nms.on('postPlay', (s: any) => emit('play', s));
  nms.on('donePlay', (s: any) => emit('donePlay', s));

  // run on the next tick: the caller may still hook NMS's HTTP server (flv-guard) first
  const running: Promise<unknown> = Promise.resolve().then(() => nms.run());
  running.catch(() => {}); // reported by ready()
  const listening = (): boolean =>
    nms.rtmpServer?.tcpServer?.listening === true && (o.httpPort === undefined || nms.httpServer?.httpServer?.listening === true);

  return {
    httpServer: nms.httpServer?.httpServer as http.Server | undefined,
    ready(timeoutMs = Infinity) {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        running.catch(reject);
        const iv = setInterval(() => {
          if (listening()) {
            clearInterval(iv);
            resolve();
          } else if (Date.now() - started > timeoutMs) {
            clearInterval(iv);
            reject(new Error(`node-media-server did not start listening within ${Math.round(timeoutMs / 1000)} s`));
          }
        }, 10);
      });
    },
    stop: () => Promise.resolve(nms.stop()),
  };
}
