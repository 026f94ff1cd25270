/**
 * examples/websocket through the CLI (`luatos run ... --map`), against a `ws` echo server
 * on 127.0.0.1: the events and values the device would log, and --coverage lists no missing
 * function.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { HOST, startWsServer } from './ws-helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'bin', 'luatos.js');

function runCli(args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), 90000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

for (const engine of ENGINE_NAMES) {
  test(`examples: examples/websocket against a loopback echo server (${engine})`, async () => {
    // an echo server that echoes everything, also what the device cannot receive
    const srv = await startWsServer({
      onConn: (ws, s) => {
        ws.on('message', (d: Buffer, isBinary) => {
          s.messages.push([isBinary, d]);
          ws.send(d, { binary: isBinary });
        });
      },
    });
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-example-'));
    try {
      const r = await runCli([
        'run', path.join(ROOT, 'examples', 'websocket'),
        '--engine', engine, '--coverage', '--map', `${HOST}=127.0.0.1:${srv.port}`,
        '--expect', 'websocket done', '--timeout', '60', '--state', state, '--reboot', 'exit',
      ]);
      const lines = r.out.split('\n');
      assert.equal(r.status, 0, r.out);
      const user = lines.filter((l) => l.includes('I/user.')).map((l) => l.slice(l.indexOf('I/user.') + 'I/user.'.length));
      const want = [
        'websocket headers true',
        'websocket send before connect false',
        'websocket conack',
        'websocket ready true',
        'websocket recv 17 1 1 hello from luatos',
        'websocket echo text hello from luatos',
        'websocket recv 4 1 2 CAFE0001',
        'websocket echo binary CAFE0001 2',
        'websocket recv 32768 1 1',
        'websocket echo 32768 32768',
        'websocket error rx 0',
        'websocket disconnect',
        'websocket conack',
        'websocket reconnected true',
        'websocket ready after close false',
        'websocket done',
      ];
      let i = 0;
      for (const w of want) {
        const at = user.findIndex((u, k) => k >= i && u === w);
        assert.ok(at >= 0, `missing (in order) ${w}\n${user.join('\n')}`);
        i = at + 1;
      }
      assert.ok(lines.some((l) => l.includes('websocket:websocket payload is too large!!! 32769 , must < 32784')), r.out);
      assert.ok(lines.some((l) => l.includes('websocket:reconnect after 3000ms')), r.out);
      assert.ok(lines.some((l) => /^implemented \d+, simulated \d+, missing 0$/.test(l)), r.out);
      assert.ok(!r.out.includes('is not implemented by this runtime'), r.out);
      // the server saw the device's header and all four messages
      assert.equal(srv.upgrades[0][srv.upgrades[0].indexOf('X-Device') + 1], 'luatos%2Ddemo');
      assert.deepEqual(srv.messages.map(([b, d]) => `${b ? 'bin' : 'text'} ${d.length}`), ['text 17', 'bin 4', 'text 32768', 'text 32769']);
    } finally {
      await srv.close();
      fs.rmSync(state, { recursive: true, force: true });
    }
  });
}
