/**
 * The embedded local video platform (`luatos run --platform local`): everything the demo talks
 * to, on 127.0.0.1, with free ports by default.
 *
 *  - Device API (api.ts) over plain HTTP and HTTPS (self-signed certificate made at start,
 *    cert.ts): `POST|GET /api-system/deviceVideo/get/<deviceId>` → the RTMP URL list.
 *  - Host mapping rules (`mapRules()`) for the device network: `video.luatos.com:10030` and
 *    `:80` → the HTTP port, `video.luatos.com:443` → the HTTPS port (and the RTMP host name when
 *    `rtmpHost` is a name).
 *  - RTMP ingest: node-media-server 4 in a child process (ingest.ts) with HTTP-FLV and WS-FLV
 *    for browsers, behind a throttling TCP proxy (throttle-proxy.ts) that the handed-out RTMP
 *    URLs point at.
 *  - Faults for the device's registry (`registerFaults`): `http fail|ok …` and
 *    `rtmp-server kill|restart|throttle <kbps>|unthrottle`.
 *
 * `stop()` closes every server and kills the child; the child registry kills the child on
 * process exit/signals too, and the temporary NMS store folder is removed on exit.
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { FaultError, type FaultRegistry } from '../../core/faults';
import type { HostMapRule } from '../../net/direct';
import { DeviceApiService, API_PREFIX } from './api';
import { makeSelfSignedCert } from './cert';
import { checkPlatformConfig, expandUrl, loadPlatformConfig, resolveDevice, safeStreamName, type PlatformConfig } from './config';
import { HTTP_FAULT_USAGE, HttpFaults } from './http-faults';
import { IngestStartError, NmsIngest, type IngestState } from './ingest';
import { ThrottleProxy, type ProxyStats } from './throttle-proxy';

export type { PlatformConfig, PlatformDeviceConfig, PlatformCredentials } from './config';
export { loadPlatformConfig, checkPlatformConfig, PlatformConfigError, DEFAULT_CREDENTIALS } from './config';
export type { ApiRequestInfo } from './api';
export { answerDeviceApi, API_PREFIX } from './api';
export { HttpFaults } from './http-faults';
export type { HttpFailMode, HttpFailRule } from './http-faults';
export type { IngestState } from './ingest';
export type { ProxyStats } from './throttle-proxy';
export { makeSelfSignedCert } from './cert';

export interface LocalPlatformOptions {
  /** devices, credentials, URL lists: an object or the path of a JSON file (see config.ts) */
  config?: PlatformConfig | string;
  /** plain HTTP port of the device API (default 0 = a free port) */
  httpPort?: number;
  /** HTTPS port of the device API (default 0 = a free port) */
  httpsPort?: number;
  /** RTMP port handed out in URLs (the throttling proxy; default a free port) */
  rtmpPort?: number;
  /** node-media-server's own RTMP port behind the proxy (default a free port) */
  nmsRtmpPort?: number;
  /** node-media-server's HTTP-FLV / WS-FLV port (default a free port) */
  flvPort?: number;
  /** host names the device uses for the API (default ['video.luatos.com']) */
  apiHostNames?: string[];
  /** ports of those names mapped to the HTTP service (default [10030, 80]) */
  apiHttpPorts?: number[];
  /** ports of those names mapped to the HTTPS service (default [443]) */
  apiHttpsPorts?: number[];
  /**
   * host written into the RTMP URLs (default '127.0.0.1'). A name (e.g. 'video.luatos.com')
   * gets a host mapping rule to the ingest.
   */
  rtmpHost?: string;
  /** port written into the RTMP URLs (default: the proxy's port for an IP host, 1935 for a name) */
  rtmpAdvertisedPort?: number;
  /** node-media-server publish grace window in ms (default 10 000) */
  publishGraceMs?: number;
  /** node-media-server log level (default 'error'); its lines come as 'log' events */
  nmsLogLevel?: string;
  /** bound on starting the ingest (default 15 000 ms) */
  startTimeoutMs?: number;
}

export interface StreamUrls {
  /** what the device publishes to (the first URL the API returns) */
  publish: string;
  /** `http://127.0.0.1:<flvPort>/<app>/<name>.flv` */
  flv: string;
  /** `ws://127.0.0.1:<flvPort>/<app>/<name>.flv` */
  wsFlv: string;
  /** `/<app>/<name>` */
  streamPath: string;
}

const LOOPBACK = '127.0.0.1';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, LOOPBACK, () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * The running platform. Events:
 *  - 'request' (ApiRequestInfo): every device API request and how it was answered;
 *  - 'publish' / 'unpublish' (streamPath): a publisher started / ended (after NMS's grace window);
 *  - 'play' / 'donePlay' (streamPath, protocol): a player attached / left;
 *  - 'ingest' (IngestState): running | down (killed or crashed) | starting | stopped;
 *  - 'log' (level 'I'|'W'|'E', message): what the platform did (faults, ingest state), and
 *    node-media-server's own lines at level 'D'.
 */
export class LocalPlatform extends EventEmitter {
  readonly host = LOOPBACK;
  httpPort = 0;
  httpsPort = 0;
  /** the RTMP port in the handed-out URLs (the proxy) */
  rtmpPort = 0;
  /** PEM of the HTTPS service's self-signed certificate (made at start) */
  certificate = '';
  readonly api: DeviceApiService;
  readonly httpFaults = new HttpFaults();
  private ingest!: NmsIngest;
  private proxy!: ThrottleProxy;
  private readonly unregister: (() => void)[] = [];
  private stopped = false;
  private ingestOp: Promise<void> = Promise.resolve();
  private readonly exitHook = () => this.ingest?.cleanup();

  /** Use startLocalPlatform(). */
  constructor(private readonly opts: LocalPlatformOptions, config: PlatformConfig) {
    super();
    this.api = new DeviceApiService({
      config,
      faults: this.httpFaults,
      rtmpBase: () => this.rtmpBase(),
      onRequest: (info) => this.emit('request', info),
    });
  }

  /** node-media-server's RTMP port (behind the proxy) */
  get nmsRtmpPort(): number {
    return this.ingest.rtmpPort;
  }
  /** node-media-server's HTTP-FLV / WS-FLV port */
  get flvPort(): number {
    return this.ingest.httpPort;
  }
  get ingestState(): IngestState {
    return this.ingest.state;
  }
  /** pid of the node-media-server child (undefined while it is down) */
  get ingestPid(): number | undefined {
    return this.ingest.pid;
  }
  /** stream paths with a live publisher */
  publishing(): string[] {
    return [...this.ingest.publishing];
  }
  /** bytes through the RTMP proxy (measure the ingest rate from `bytesForwarded`) */
  proxyStats(): ProxyStats {
    return this.proxy.getStats();
  }
  /** recent node-media-server output (diagnostics) */
  ingestLog(): string[] {
    return this.ingest.recentLog();
  }

  /** `{host, port}` written into the RTMP URLs */
  rtmpBase(): { host: string; port: number } {
    const host = this.opts.rtmpHost ?? LOOPBACK;
    const port = this.opts.rtmpAdvertisedPort ?? (net.isIP(host) ? this.rtmpPort : 1935);
    return { host, port };
  }

  /**
   * The device API URL on the local HTTP (or HTTPS) port, for tests and tools. A placeholder
   * such as `<deviceId>` (for messages) is kept as written; a real id is URL-encoded.
   */
  apiUrl(deviceId: string, scheme: 'http' | 'https' = 'http'): string {
    const port = scheme === 'https' ? this.httpsPort : this.httpPort;
    const id = /^<[A-Za-z]+>$/.test(deviceId) ? deviceId : encodeURIComponent(deviceId);
    return `${scheme}://${LOOPBACK}:${port}${API_PREFIX}${id}`;
  }

  /** The URLs the API would hand to `deviceId` (empty when the config does not know it). */
  urlList(deviceId: string): string[] {
    const dev = resolveDevice(this.api.config, deviceId);
    if (!dev) return [];
    return dev.urlTemplates.map((t) => expandUrl(t, { ...this.rtmpBase(), deviceId, platformDeviceId: dev.platformDeviceId }));
  }

  /** `/app/name` a device publishes to on this ingest (its first URL; default `/live/<id>`). */
  streamPath(deviceId: string): string {
    const base = this.rtmpBase();
    for (const u of this.urlList(deviceId)) {
      const m = /^rtmps?:\/\/([^/:]+)(?::(\d+))?\/([^/?]+)\/([^?]+)/i.exec(u);
      if (m && m[1].toLowerCase() === base.host.toLowerCase() && Number(m[2] ?? 1935) === base.port) return `/${m[3]}/${m[4]}`;
    }
    return `/live/${safeStreamName(deviceId)}`;
  }

  /** The RTMP URL the device publishes to (its first URL, or the default one). */
  publishUrl(deviceId: string): string {
    const first = this.urlList(deviceId)[0];
    if (first !== undefined) return first;
    const b = this.rtmpBase();
    return `rtmp://${b.host}:${b.port}${this.streamPath(deviceId)}`;
  }

  /** HTTP-FLV play URL of the device's stream. */
  flvUrl(deviceId: string): string {
    return `http://${LOOPBACK}:${this.flvPort}${this.streamPath(deviceId)}.flv`;
  }

  /** WS-FLV play URL of the device's stream. */
  wsFlvUrl(deviceId: string): string {
    return `ws://${LOOPBACK}:${this.flvPort}${this.streamPath(deviceId)}.flv`;
  }

  /** RTMP play URL straight from node-media-server (bypasses the throttle). */
  rtmpPlayUrl(deviceId: string): string {
    return `rtmp://${LOOPBACK}:${this.nmsRtmpPort}${this.streamPath(deviceId)}`;
  }

  urls(deviceId: string): StreamUrls {
    return { publish: this.publishUrl(deviceId), flv: this.flvUrl(deviceId), wsFlv: this.wsFlvUrl(deviceId), streamPath: this.streamPath(deviceId) };
  }

  /** Host mapping for the device network (see runtime/net/direct.ts). */
  mapRules(): HostMapRule[] {
    const rules: HostMapRule[] = [];
    const names = (this.opts.apiHostNames ?? ['video.luatos.com']).map((n) => n.toLowerCase());
    for (const host of names) {
      for (const port of this.opts.apiHttpPorts ?? [10030, 80]) rules.push({ host, port, toHost: LOOPBACK, toPort: this.httpPort });
      for (const port of this.opts.apiHttpsPorts ?? [443]) rules.push({ host, port, toHost: LOOPBACK, toPort: this.httpsPort });
    }
    const b = this.rtmpBase();
    if (!net.isIP(b.host)) rules.push({ host: b.host.toLowerCase(), port: b.port, toHost: LOOPBACK, toPort: this.rtmpPort });
    return rules;
  }

  /** Same as `mapRules()` in the `--map HOST:PORT=ADDR:PORT` text form. */
  mapRuleStrings(): string[] {
    return this.mapRules().map((r) => `${r.host}${r.port !== undefined ? ':' + r.port : ''}=${r.toHost}${r.toPort !== undefined ? ':' + r.toPort : ''}`);
  }

  // ------------------------------------------------------------------ ingest control
  private serial(fn: () => Promise<void>): Promise<void> {
    const p = this.ingestOp.then(fn, fn);
    this.ingestOp = p.catch(() => {});
    return p;
  }

  /** SIGKILL node-media-server; the RTMP port refuses connections until restart. */
  killIngest(): Promise<void> {
    return this.serial(async () => {
      this.checkRunning();
      await this.ingest.kill();
      await this.proxy.close();
    });
  }

  /** (Re)start node-media-server on the same ports, and the proxy on the same RTMP port. */
  restartIngest(): Promise<void> {
    return this.serial(async () => {
      this.checkRunning();
      if (this.ingest.state === 'running' || this.ingest.state === 'starting') {
        await this.ingest.kill();
        await this.proxy.close();
      }
      await this.ingest.start();
      await this.proxy.listen(this.rtmpPort);
    });
  }

  /** Cap the device→ingest bandwidth at `kbps` kbit/s (1 kbit = 1000 bits). */
  throttle(kbps: number): void {
    if (!(kbps > 0) || !Number.isFinite(kbps)) throw new FaultError(`rtmp-server throttle: '${kbps}' is not a positive kbit/s figure`);
    this.proxy.setRate((kbps * 1000) / 8);
  }

  unthrottle(): void {
    this.proxy.setRate(Infinity);
  }

  private checkRunning(): void {
    if (this.stopped) throw new FaultError('the local platform has stopped');
  }

  // ------------------------------------------------------------------ faults
  /** Register `http` and `rtmp-server` on a device's fault registry; returns an unregister fn. */
  registerFaults(registry: FaultRegistry): () => void {
    const offs = [
      registry.register(
        {
          name: 'http',
          usage: HTTP_FAULT_USAGE,
          description: 'make the local platform answer the next request(s) to a host with an HTTP status, a TCP reset or no answer',
          actions: {
            fail: 'make the local platform answer the next request(s) to <host> with an HTTP status (e.g. 500), a TCP reset or no answer; [count] requests (default 1) or always',
            ok: 'make the local platform answer normally again (for [host], or every host)',
          },
        },
        (args) => {
          this.checkRunning();
          const msg = this.httpFaults.command(args);
          this.emit('log', 'W', msg);
        },
      ),
      registry.register(
        {
          name: 'rtmp-server',
          usage: 'kill | restart | throttle <kbps> | unthrottle',
          description: 'crash, restart or throttle the local RTMP ingest',
          actions: {
            kill: 'crash the local RTMP ingest (SIGKILL): the stream breaks, the script sees the RTMP error',
            restart: 'start the local RTMP ingest again on the same port',
            throttle: 'limit the ingest to <kbps> (the device sees its send queue grow)',
            unthrottle: 'remove the ingest bandwidth limit',
          },
        },
        async (args) => {
          const [verb, arg, ...extra] = args;
          const usage = 'usage: rtmp-server kill | restart | throttle <kbps> | unthrottle';
          if (extra.length > 0) throw new FaultError(`rtmp-server: too many arguments; ${usage}`);
          switch (verb) {
            case 'kill':
              if (arg !== undefined) throw new FaultError(`rtmp-server: ${usage}`);
              await this.killIngest();
              this.emit('log', 'W', 'rtmp-server: ingest killed (SIGKILL)');
              return;
            case 'restart':
              if (arg !== undefined) throw new FaultError(`rtmp-server: ${usage}`);
              try {
                await this.restartIngest();
              } catch (e) {
                if (e instanceof FaultError) throw e;
                throw new FaultError(`rtmp-server restart failed: ${(e as Error).message}`);
              }
              this.emit('log', 'W', `rtmp-server: ingest restarted on port ${this.rtmpPort}`);
              return;
            case 'throttle': {
              this.checkRunning();
              if (arg === undefined || !/^\d+(\.\d+)?$/.test(arg) || !(Number(arg) > 0)) throw new FaultError(`rtmp-server throttle: '${arg ?? ''}' is not a positive kbit/s figure; ${usage}`);
              this.throttle(Number(arg));
              this.emit('log', 'W', `rtmp-server: ingest capped at ${arg} kbit/s`);
              return;
            }
            case 'unthrottle':
              if (arg !== undefined) throw new FaultError(`rtmp-server: ${usage}`);
              this.checkRunning();
              this.unthrottle();
              this.emit('log', 'W', 'rtmp-server: ingest cap removed');
              return;
            default:
              throw new FaultError(`rtmp-server: '${verb ?? ''}' is not a command; ${usage}`);
          }
        },
      ),
    ];
    const off = () => offs.forEach((f) => f());
    this.unregister.push(off);
    return off;
  }

  // ------------------------------------------------------------------ life cycle
  /** @internal */
  async start(): Promise<void> {
    const o = this.opts;
    process.on('exit', this.exitHook);
    const tls = await makeSelfSignedCert({ dnsNames: [...(o.apiHostNames ?? ['video.luatos.com']), 'localhost'], ipAddresses: [LOOPBACK] });
    this.certificate = tls.cert;
    this.httpPort = await this.api.listen(LOOPBACK, o.httpPort ?? 0);
    this.httpsPort = await this.api.listen(LOOPBACK, o.httpsPort ?? 0, tls);
    // node-media-server: pick free ports unless given; retry a few times if one was taken meanwhile
    for (let attempt = 0; ; attempt++) {
      const ingest = new NmsIngest({
        host: LOOPBACK,
        rtmpPort: o.nmsRtmpPort ?? (await freePort()),
        httpPort: o.flvPort ?? (await freePort()),
        publishGraceMs: o.publishGraceMs,
        logLevel: o.nmsLogLevel,
        startTimeoutMs: o.startTimeoutMs,
      });
      this.ingest = ingest;
      try {
        await ingest.start();
        break;
      } catch (e) {
        ingest.cleanup();
        const retry = e instanceof IngestStartError && e.addressInUse && o.nmsRtmpPort === undefined && o.flvPort === undefined && attempt < 3;
        if (!retry) throw e;
      }
    }
    this.ingest.on('state', (s: IngestState) => {
      this.emit('ingest', s);
      if (s === 'down') {
        this.emit('log', 'W', 'rtmp-server: node-media-server is down');
        if (!this.stopped) void this.proxy.close();
      }
    });
    this.ingest.on('publish', (p: string) => this.emit('publish', p));
    this.ingest.on('unpublish', (p: string) => this.emit('unpublish', p));
    this.ingest.on('play', (p: string, proto: string) => this.emit('play', p, proto));
    this.ingest.on('donePlay', (p: string, proto: string) => this.emit('donePlay', p, proto));
    this.ingest.on('log', (line: string) => this.emit('log', 'D', line));
    this.proxy = new ThrottleProxy(LOOPBACK, () => ({ host: LOOPBACK, port: this.ingest.rtmpPort }));
    this.rtmpPort = await this.proxy.listen(o.rtmpPort ?? 0);
  }

  /** Stop everything: servers, proxy, the node-media-server child. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const off of this.unregister.splice(0)) off();
    await this.ingestOp.catch(() => {});
    await Promise.all([this.api.close(), this.proxy?.close(), this.ingest?.stop()]);
    this.ingest?.cleanup();
    process.off('exit', this.exitHook);
  }
}

/** Start the local platform. On failure everything already started is stopped again. */
export async function startLocalPlatform(opts: LocalPlatformOptions = {}): Promise<LocalPlatform> {
  const config = typeof opts.config === 'string' ? loadPlatformConfig(opts.config) : checkPlatformConfig(opts.config ?? {});
  const p = new LocalPlatform(opts, config);
  try {
    await p.start();
  } catch (e) {
    await p.stop().catch(() => {});
    throw e;
  }
  return p;
}
