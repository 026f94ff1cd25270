/**
 * examples/README.md is the index of every example: each folder with a main.lua has a row, and
 * each `npx luatos run` command in it names an existing folder (and profile file). The udpsrv
 * example runs as its row says: a datagram from the PC (examples/tools/udp-send.js, a real
 * UDP client process) reaches the script and is answered; "quit" ends it with `udpsrv done`.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const EX = path.join(ROOT, 'examples');

function exampleDirs(dir = EX, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (fs.existsSync(path.join(dir, e.name, 'main.lua'))) out.push(r);
    else out.push(...exampleDirs(path.join(dir, e.name), r));
  }
  return out;
}

test('examples/README.md has a row for every example folder, and its commands name existing folders and files', () => {
  const readme = fs.readFileSync(path.join(EX, 'README.md'), 'utf8');
  const rows = readme.split('\n').filter((l) => l.startsWith('| `'));
  const dirs = exampleDirs();
  assert.ok(dirs.length >= 25, dirs.join(' '));
  for (const d of dirs) assert.ok(rows.some((r) => r.startsWith(`| \`${d}/\``)), `no README row for examples/${d}`);
  const cmds = [...readme.matchAll(/npx luatos run ([^`]+)`/g)].map((m) => m[1]);
  assert.ok(cmds.length >= dirs.length, `${cmds.length} commands for ${dirs.length} examples`);
  for (const c of cmds) {
    for (const word of c.split(/\s+/).filter((w) => w.startsWith('examples/'))) {
      const p = word.replace(/;$/, '');
      assert.ok(fs.existsSync(path.join(ROOT, p)), `README command names a missing path: ${p} (in: ${c})`);
    }
  }
  for (const m of readme.matchAll(/node (examples\/tools\/[\w.-]+)/g)) assert.ok(fs.existsSync(path.join(ROOT, m[1])), m[1]);
});

test('examples/udpsrv as documented: udp-send.js gets "device got: hello"; "quit" ends the run with udpsrv done', async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-ex-udpsrv-'));
  try {
    const child = spawn(process.execPath, ['bin/luatos.js', 'run', 'examples/udpsrv', '--expect', 'udpsrv done', '--timeout', '30', '--state', state], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 40000);
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        const m = /device UDP port 5000 on adapter 2, reachable from the PC at 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.on('close', () => reject(new Error(`ended before the port line:\n${out}`)));
    });
    const send = (text: string) => spawnSync(process.execPath, ['examples/tools/udp-send.js', String(port), text], { cwd: ROOT, encoding: 'utf8', timeout: 10000 });
    const a = send('hello');
    assert.equal(a.stdout.trim(), 'device got: hello', a.stderr);
    const b = send('quit');
    assert.equal(b.stdout.trim(), 'device got: quit', b.stderr);
    const code = await new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('close', r)));
    clearTimeout(killer);
    assert.equal(code, 0, out);
    assert.match(out, /I\/user\.udpsrv rx 127\.0\.0\.1 \d+ hello/);
    assert.match(out, /I\/user\.udpsrv done/);
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
  }
});
