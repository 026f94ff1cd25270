/**
 * The example scripts examples/socket-tcp-client, socket-udp-client, socket-tcp-server
 * and httpsrv run through the CLI against loopback servers (client demos: `--map` to a Node
 * server on 127.0.0.1; server demos: a Node client on the port the log prints) and log what
 * the device would. --coverage must list nothing missing.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { once } from 'node:events';
import { ENGINE_NAMES } from '../../runtime/core/engine';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'bin', 'luatos.js');

interface CliRun {
  lines: string[];
  user: string[];
  code: number | null;
}

/**
 * Run an example; `onLine` sees each stdout line as it comes. The run ends at `expect` or when
 * `stop()` is called (SIGINT, as Ctrl-C).
 */
async function runExample(name: string, engine: string, extra: string[], onLine: (l: string, stop: () => void) => void, expect?: string): Promise<CliRun> {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-sockex-'));
  const profile = path.join(state, 'profile.json');
  fs.writeFileSync(profile, JSON.stringify({ name: 'air8101-sockex', network: { listen: { '*': 0 } } }));
  try {
    const args = [CLI, 'run', path.join(ROOT, 'examples', name), '--engine', engine, '--coverage', '--profile', profile, '--state', path.join(state, 's'), '--timeout', '40', ...extra];
    if (expect) args.push('--expect', expect);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let buf = '';
    let err = '';
    const stop = () => child.kill('SIGINT');
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const l = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(l);
        onLine(l, stop);
      }
    });
    child.stderr.on('data', (d) => (err += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60000);
    const [code] = (await once(child, 'close')) as [number | null];
    clearTimeout(killer);
    if (buf) lines.push(buf);
    if (err) lines.push(`stderr: ${err}`);
    const user = lines.filter((l) => l.includes('I/user.')).map((l) => l.slice(l.indexOf('I/user.') + 'I/user.'.length));
    return { lines, user, code };
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
  }
}

function noMissing(r: CliRun, name: string): void {
  const summary = r.lines.find((l) => /^implemented \d+, simulated \d+, missing \d+$/.test(l));
  assert.ok(summary, `${name}: no coverage summary\n${r.lines.join('\n')}`);
  assert.match(summary, /missing 0$/, `${name}:\n${r.lines.join('\n')}`);
  assert.ok(!r.lines.some((l) => /is not implemented by this runtime| {4}at .*\.js:\d+/.test(l)), `${name}:\n${r.lines.join('\n')}`);
}

const portOf = (l: string) => {
  const m = /reachable from the PC at 127\.0\.0\.1:(\d+)/.exec(l);
  return m ? Number(m[1]) : null;
};

for (const engine of ENGINE_NAMES) {
  test(`example socket-tcp-client against a loopback server (${engine})`, async () => {
    const srv = net.createServer((s) => {
      s.on('error', () => undefined);
      s.once('data', (d) => s.end(`echo: ${d}`));
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const port = (srv.address() as net.AddressInfo).port;
    const r = await runExample('socket-tcp-client', engine, ['--map', `tcp.luatos.test:7000=127.0.0.1:${port}`], () => undefined, 'tcp done');
    srv.close();
    assert.equal(r.code, 0, r.lines.join('\n'));
    const want = [
      'tcp connect tcp.luatos.test 7000 true false',
      'tcp online true 5 在线',
      'tcp tx ok true 0',
      'tcp rx 37 echo: hello from the device, round 1',
      'tcp server closed the connection',
      'tcp connect tcp.luatos.test 7000 true false',
      'tcp online true 5 在线',
      'tcp tx ok true 0',
      'tcp rx 37 echo: hello from the device, round 2',
      'tcp server closed the connection',
      'tcp done',
    ];
    assert.deepEqual(r.user.filter((u) => !u.startsWith('tcp local ip')), want, r.lines.join('\n'));
    assert.ok(r.lines.some((l) => l.includes(`net:adapter 2 connect 127.0.0.1:${port} TCP`)));
    noMissing(r, 'socket-tcp-client');
  });

  test(`example socket-udp-client against a loopback UDP server (${engine})`, async () => {
    const u = dgram.createSocket('udp4');
    u.on('message', (msg, rinfo) => u.send(`pong ${msg}`, rinfo.port, rinfo.address));
    u.bind(0, '127.0.0.1');
    await once(u, 'listening');
    const port = u.address().port;
    const r = await runExample('socket-udp-client', engine, ['--map', `udp.luatos.test:5683=127.0.0.1:${port}`], () => undefined, 'udp done');
    u.close();
    assert.equal(r.code, 0, r.lines.join('\n'));
    const fromRe = new RegExp(`^udp from 127\\.0\\.0\\.1 ${port} len 11 pong ping \\d$`);
    assert.deepEqual(
      r.user.map((x) => (fromRe.test(x) ? 'FROM' : x)),
      ['udp config true', 'udp connect true false', 'udp online 0', 'udp tx 1 true false false', 'FROM', 'udp answer 1 true', 'udp tx 2 true false false', 'FROM', 'udp answer 2 true', 'udp tx 3 true false false', 'FROM', 'udp answer 3 true', 'udp done'],
      r.lines.join('\n'),
    );
    noMissing(r, 'socket-udp-client');
  });

  test(`example socket-tcp-server: a PC client on the printed port (${engine})`, async () => {
    const got: string[] = [];
    let client: Promise<void> = Promise.resolve();
    const r = await runExample('socket-tcp-server', engine, [], (l, stop) => {
      const port = portOf(l);
      if (port !== null) {
        client = (async () => {
          const c = net.connect(port, '127.0.0.1');
          c.setEncoding('utf8');
          let text = '';
          c.on('data', (d: string) => {
            text += d;
            if (text.endsWith('welcome to the device\n')) c.write('hi\n');
            else if (text.endsWith('device says: hi\n')) c.write('bye\n');
          });
          await once(c, 'close');
          got.push(text);
        })();
      }
      if (l.includes('I/user.server client gone, clients 0')) setTimeout(stop, 100);
    });
    await client;
    assert.deepEqual(got, ['welcome to the device\ndevice says: hi\nbye\n'], r.lines.join('\n'));
    assert.deepEqual(r.user.filter((u) => u !== 'server done'), ['server listen true false', 'server client 127.0.0.1 clients 1', 'server rx hi', 'server rx bye', 'server client gone, clients 0'], r.lines.join('\n'));
    assert.ok(r.lines.some((l) => /socket:device port 8080 listening on adapter 2, reachable from the PC at 127\.0\.0\.1:\d+/.test(l)));
    noMissing(r, 'socket-tcp-server');
  });

  test(`example httpsrv: fetch the page, the status API and the LED switch (${engine})`, async () => {
    const got: unknown[] = [];
    let client: Promise<void> = Promise.resolve();
    const r = await runExample('httpsrv', engine, [], (l, stop) => {
      const port = portOf(l);
      if (port === null) return;
      client = (async () => {
        try {
          const base = `http://127.0.0.1:${port}`;
          const page = await fetch(`${base}/`);
          got.push(page.status, (await page.text()).includes('<h1>Served by the device</h1>'));
          const led = await fetch(`${base}/api/led`, { method: 'POST', body: 'on' });
          got.push(await led.json());
          const st = await fetch(`${base}/api/status`);
          const s = (await st.json()) as { led: boolean; hits: number };
          got.push(s.led, s.hits);
          const nf = await fetch(`${base}/nope`);
          got.push(nf.status);
        } catch (e) {
          got.push(String(e));
        }
        stop();
      })();
    });
    await client;
    assert.deepEqual(got, [200, true, { led: true }, true, 2, 404], r.lines.join('\n'));
    assert.deepEqual(r.user.slice(0, 4), ['httpsrv started true', 'httpsrv POST /api/led body 2', 'httpsrv led true', 'httpsrv GET /api/status body 0'], r.lines.join('\n'));
    noMissing(r, 'httpsrv');
  });
}
