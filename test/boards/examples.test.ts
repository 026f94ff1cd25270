/**
 * examples/pc-sim/: our PC-simulator-style scripts end with os.exit(n); each states its
 * expected code in its first line (`-- exit code: N`). Run under `--board pc` on the real CLI;
 * http-get talks to a real HTTP server on 127.0.0.1 through the pc board's adapter 17, with
 * its host name mapped (`--map`).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { luatos, ROOT } from './helpers';

const EXAMPLES = path.join(ROOT, 'examples', 'pc-sim');

function expectedCode(dir: string): number {
  const first = fs.readFileSync(path.join(dir, 'main.lua'), 'utf8').split('\n')[0];
  const m = /^-- exit code: (\d+)$/.exec(first.trim());
  assert.ok(m, `${dir}/main.lua does not start with "-- exit code: N"`);
  return Number(m[1]);
}

async function withServer(fn: (port: number, seen: string[]) => Promise<void>): Promise<void> {
  const seen: string[] = [];
  const srv = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.host}`);
    res.end(req.url === '/hello' ? 'hello' : 'nope');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    await fn((srv.address() as AddressInfo).port, seen);
  } finally {
    await new Promise((r) => srv.close(r));
  }
}

const dirs = fs.readdirSync(EXAMPLES).filter((d) => fs.existsSync(path.join(EXAMPLES, d, 'main.lua')));

test('there are PC-simulator-style examples', () => {
  assert.ok(dirs.length >= 5, dirs.join(', '));
});

for (const d of dirs) {
  const dir = path.join(EXAMPLES, d);
  test(`examples/pc-sim/${d} exits with its stated code under --board pc`, async () => {
    const want = expectedCode(dir);
    if (d === 'http-get') {
      await withServer(async (port, seen) => {
        const r = await luatos(['run', '--board', 'pc', '--map', `pc-sim.test=127.0.0.1:${port}`], { target: dir });
        assert.equal(r.code, want, r.out + r.err);
        assert.equal(seen.length, 1, seen.join(' | '));
        assert.match(seen[0], /^GET \/hello pc-sim\.test(:80)?$/, 'the request went through the mapping to the server');
        assert.match(r.out, /I\/user\.http-get code 200 body hello/);
      });
      return;
    }
    const r = await luatos(['run', '--board', 'pc'], { target: dir });
    assert.equal(r.code, want, r.out + r.err);
  });
}

test('examples/pc-sim/http-get without its server ends with 1 (the check can fail)', async () => {
  const r = await luatos(['run', '--board', 'pc', '--map', 'pc-sim.test=127.0.0.1:1'], { target: path.join(EXAMPLES, 'http-get') });
  assert.equal(r.code, 1, r.out + r.err);
});
