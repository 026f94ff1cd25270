/**
 * Real MQTT brokers on 127.0.0.1 for the mqtt tests: aedes in-process (plain and TLS) and
 * mosquitto as a child process with a throw-away config (skipped with a reason when the binary
 * is missing). Ephemeral ports; everything is stopped and removed by `close()`.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

// aedes is an ES module; keep `import()` from being compiled to require()
const esmImport = new Function('s', 'return import(s)') as (s: string) => Promise<Record<string, unknown>>;

export interface AedesOptions {
  tls?: { key: string; cert: string };
  /** accept only this user/password (CONNACK 4 otherwise) */
  auth?: { user: string; pass: string };
  port?: number;
}

export interface Broker {
  port: number;
  /** stop listening and drop every client (a broker crash); `start()` listens again on the same port */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
  /** (aedes) reset the connection of client `id` `delayMs` after it connects, without DISCONNECT */
  dropWhenReady?(id: string | RegExp, delayMs: number): void;
  /** (aedes) called with the client id whenever a client's session is up */
  onClientReady?(fn: (id: string) => void): void;
  /** messages the broker routed: topic → payloads */
  published: { topic: string; payload: string; qos: number; retain: boolean; clientId: string | null }[];
}

export async function startAedes(opts: AedesOptions = {}): Promise<Broker> {
  const mod = await esmImport('aedes');
  const Aedes = mod.Aedes as { createBroker(o?: object): Promise<any> };
  const published: Broker['published'] = [];
  let broker: any;
  let server: net.Server | tls.Server;
  const sockets = new Set<net.Socket>();
  let port = opts.port ?? 0;
  const drops = new Map<string | RegExp, number>();
  const readyFns: ((id: string) => void)[] = [];
  const start = async () => {
    broker = await Aedes.createBroker();
    if (opts.auth) {
      const want = opts.auth;
      broker.authenticate = (_c: unknown, user: string | undefined, pass: Buffer | undefined, cb: (e: Error | null, ok?: boolean) => void) => {
        if (user === want.user && pass?.toString() === want.pass) return cb(null, true);
        const err = new Error('bad user name or password') as Error & { returnCode: number };
        err.returnCode = 4;
        cb(err, false);
      };
    }
    broker.on('clientReady', (c: any) => {
      for (const fn of readyFns) fn(c.id);
      const key = [...drops.keys()].find((k) => (typeof k === 'string' ? k === c.id : k.test(c.id)));
      if (key === undefined) return;
      const ms = drops.get(key)!;
      drops.delete(key);
      setTimeout(() => c.conn?.destroy?.(), ms);
    });
    broker.on('publish', (p: any, client: any) => {
      if (client) published.push({ topic: p.topic, payload: Buffer.from(p.payload).toString(), qos: p.qos, retain: p.retain, clientId: client.id });
      else if (!p.topic.startsWith('$SYS')) published.push({ topic: p.topic, payload: Buffer.from(p.payload).toString(), qos: p.qos, retain: p.retain, clientId: null });
    });
    const onConn = (s: net.Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
      broker.handle(s);
    };
    server = opts.tls ? tls.createServer({ key: opts.tls.key, cert: opts.tls.cert }, onConn) : net.createServer(onConn);
    await new Promise<void>((r, j) => {
      server.once('error', j);
      server.listen(port, '127.0.0.1', () => r());
    });
    port = (server.address() as net.AddressInfo).port;
  };
  const stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
  };
  await start();
  return {
    get port() {
      return port;
    },
    stop,
    start,
    close: stop,
    published,
    dropWhenReady: (id: string | RegExp, ms: number) => drops.set(id, ms),
    onClientReady: (fn: (id: string) => void) => readyFns.push(fn),
  };
}

export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => fs.existsSync(p)) ?? null;
export const mosquittoSkip = MOSQUITTO ? false : 'mosquitto is not installed (apt-get install mosquitto)';

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function waitPort(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto did not listen on ${port}`);
}

/** mosquitto -c <tmp conf> on a free 127.0.0.1 port (anonymous access, no persistence). */
export async function startMosquitto(): Promise<Broker> {
  if (!MOSQUITTO) throw new Error('mosquitto missing');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-mosq-'));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n`);
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
    await waitPort(port, 5000);
  };
  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill('SIGKILL');
    });
  };
  await start();
  return {
    port,
    start,
    stop,
    close: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    published: [],
  };
}

export { haveOpenssl } from '../helpers/certs';

/** A self-signed certificate for 127.0.0.1 / mqtt.example (openssl; the caller skips without it). */
export function selfSigned(): { key: string; cert: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-mqtt-tls-'));
  try {
    const key = path.join(dir, 'k.pem');
    const cert = path.join(dir, 'c.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=mqtt.example', '-addext', 'subjectAltName=DNS:mqtt.example,IP:127.0.0.1'],
      { stdio: 'ignore' },
    );
    return { key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * main.lua of the MQTT tests: `L` (log.info), then `prelude` (callbacks, wait helpers), then
 * `body` in a task that logs "DONE" at its end.
 */
export function mqttScript(prelude: string, body: string): string {
  return `
local function L(...) log.info(...) end
${prelude}sys.taskInit(function()
${body}
  log.info("DONE")
end)
sys.run()
`;
}

/** payloads after "I/user." */
export const userPayloads = (r: { user: string[] }) => r.user.map((l) => l.replace(/^I\/user\./, ''));
