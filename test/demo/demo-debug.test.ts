/**
 * Issue 18's "done when", through the real CLI and a real DAP client: `luatos run demo
 * --platform local --inspect-brk` stops before main.lua, a breakpoint in demo/rtmp_app.lua is
 * hit in the `rtmp_task` task, the task list and its locals are read, and after `continue` the
 * demo goes on to publish (the run ends on `--expect 'RTMP stats:'`). The hardware watchdog the
 * demo arms (9 s) does not fire over a pause longer than that: the device clock holds.
 * No `--engine`: the run is on the default engine, lua53, as a fresh clone's user gets it (the
 * CLI's own parser says so, the firmware banner names the engine, and `_VERSION` evaluated in
 * the stopped frame is 5.3).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { tempDir } from '../helpers/tmp';
import { parseRunArgs } from '../../runtime/host/cli/main';

const ROOT = path.resolve(__dirname, '..', '..', '..');

test('the demo under --inspect-brk: a breakpoint in rtmp_app.lua, the task list and locals, continue, the demo publishes', { timeout: 120_000 }, async () => {
  const state = tempDir('luatos-demo-dbg-');
  const appFile = path.join(ROOT, 'demo', 'rtmp_app.lua');
  const app = fs.readFileSync(appFile, 'utf8').split('\n');
  const bpLine = app.findIndex((l) => l.includes('log.info("打印设备的ID号", device_id)')) + 1;
  assert.ok(bpLine > 0);
  const args = ['bin/luatos.js', 'run', 'demo', '--profile', 'demo/device.json', '--platform', 'local', '--state', state, '--inspect-brk', '--expect', 'RTMP stats:', '--timeout', '60'];
  assert.equal(parseRunArgs(args.slice(2)).engine, 'lua53', 'the demo runs on the default engine, lua53');
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 100_000);
  const closed: Promise<number | null> = new Promise((r) => child.on('close', r));
  let port = 0;
  for (let i = 0; i < 400 && !port; i++) {
    await new Promise((r) => setTimeout(r, 50));
    port = Number(/debugger \(DAP\) listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0);
  }
  assert.ok(port > 0, out + err);
  const dc = new DebugClient('node', 'unused', 'luatos');
  await dc.start(port);
  const stops: DebugProtocol.StoppedEvent[] = [];
  let wake: (() => void) | null = null;
  dc.on('stopped', (e: DebugProtocol.StoppedEvent) => {
    stops.push(e);
    wake?.();
  });
  const nextStop = async () => {
    for (let i = 0; i < 600 && stops.length === 0; i++) await new Promise<void>((r) => ((wake = r), setTimeout(r, 50)));
    const s = stops.shift();
    assert.ok(s, `no stop; log:\n${out}`);
    return s;
  };
  try {
    await dc.initializeRequest({ adapterID: 'luatos', pathFormat: 'path', linesStartAt1: true });
    const res = await dc.setBreakpointsRequest({ source: { path: appFile }, breakpoints: [{ line: bpLine }] });
    assert.equal(res.body.breakpoints[0].verified, true);
    await dc.setExceptionBreakpointsRequest({ filters: ['uncaught'] });
    await dc.attachRequest({} as DebugProtocol.AttachRequestArguments);
    await dc.configurationDoneRequest();
    const entry = await nextStop();
    assert.equal(entry.body.reason, 'entry');
    await dc.continueRequest({ threadId: entry.body.threadId! });
    const s = await nextStop();
    assert.equal(s.body.reason, 'breakpoint', JSON.stringify(s.body));
    const threads = (await dc.threadsRequest()).body.threads.map((t) => t.name);
    assert.ok(threads.includes('main') && threads.includes('rtmp_task') && threads.includes('rtmp_try_reconnect'), threads.join(', '));
    const task = (await dc.threadsRequest()).body.threads.find((t) => t.id === s.body.threadId);
    assert.equal(task?.name, 'rtmp_task');
    const frames = (await dc.stackTraceRequest({ threadId: s.body.threadId! })).body.stackFrames;
    assert.equal(frames[0].source?.path, appFile);
    assert.equal(frames[0].line, bpLine);
    const scopes = (await dc.scopesRequest({ frameId: frames[0].id })).body.scopes;
    const locals = (await dc.variablesRequest({ variablesReference: scopes.find((x) => x.name === 'Locals')!.variablesReference })).body.variables;
    assert.equal(locals.find((v) => v.name === 'device_id')?.value, '"C8C2C68C5DEA"');
    assert.equal((await dc.evaluateRequest({ expression: '_VERSION', frameId: frames[0].id, context: 'watch' })).body.result, '"Lua 5.3"');
    // longer than the demo's 9 s watchdog: the device clock holds, nothing fires
    await new Promise((r) => setTimeout(r, 10_000));
    assert.ok(!/watchdog/.test(out), out);
    await dc.continueRequest({ threadId: s.body.threadId! });
    const code = await closed;
    assert.equal(code, 0, `exit ${code}\n${err}\n${out.split('\n').slice(-30).join('\n')}`);
    assert.match(out, /I\/user\.rtmp状态变化 已开始推流/);
    assert.match(out, /ROM Build: .*\(luatos-pc, engine lua53, Lua 5\.3\)/);
    assert.ok(!/watchdog/.test(out), out);
  } finally {
    clearTimeout(killer);
    // the adapter ended with the run: a disconnect request would wait for an answer forever
    await Promise.race([dc.stop().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
