/**
 * The debugger (`luatos run --inspect`, issue 18) through a real DAP client
 * (`@vscode/debugadapter-testsupport`'s DebugClient) over the TCP socket, on every engine (lua53, the default, wasmoon and fengari):
 * a breakpoint in a task (locals, step, evaluate, continue), a conditional breakpoint in a
 * `sys.timerLoopStart` callback, an exception stop before sys.lua reports the error, the device
 * clock held while stopped, `--inspect-brk` through the CLI, hit counts and logpoints.
 */
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DeviceHost } from '../../runtime/host/worker/device-host';
import { startDapServer, type DapServer } from '../../runtime/host/debug/dap-server';
import { LogSink, recordText } from '../../runtime/core/log';
import { makeProfile } from '../../runtime/core/profile';
import type { EngineName } from '../../runtime/core/engine';
import { parseRunArgs, runDevice } from '../../runtime/host/cli/main';

const temps: string[] = [];
after(() => {
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

const ENGINES: EngineName[] = ['lua53', 'wasmoon', 'fengari'];
const WAIT_MS = 20000;

function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-dbg-'));
  temps.push(dir);
  for (const [name, text] of Object.entries(files)) {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
  }
  return dir;
}

/** line number (1-based) of the line of `text` containing `marker` */
function lineOf(text: string, marker: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(marker));
  assert.ok(i >= 0, `marker ${marker}`);
  return i + 1;
}

interface Rig {
  host: DeviceHost;
  dap: DapServer;
  dc: DebugClient;
  lines: string[];
  stops: DebugProtocol.StoppedEvent[];
  nextStop(): Promise<DebugProtocol.StoppedEvent>;
  waitLine(text: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A device with a debugger and a DAP client connected over TCP. The device starts stopped
 * before main.lua (as `--inspect-brk`): {@link configure} sets the breakpoints there and runs on.
 */
async function rig(dir: string, engine: EngineName, opts: { clock?: 'real' | 'virtual'; runawayMs?: number } = {}): Promise<Rig> {
  const sink = new LogSink({ stream: null });
  const lines: string[] = [];
  sink.on((r) => void lines.push(recordText(r)));
  const host = new DeviceHost({
    scripts: dir,
    libDirs: [],
    engine,
    profile: makeProfile(opts.runawayMs ? { runawayMs: opts.runawayMs } : {}),
    log: sink,
    dataDir: path.join(dir, '.data'),
    reboot: 'exit',
    maxBoots: 0,
    clock: opts.clock ?? 'real',
    coverage: false,
    net: {},
    status: false,
    inspect: { stopOnEntry: true },
  });
  const dap = await startDapServer(host.debug!, { port: 0, log: sink });
  const dc = new DebugClient('node', 'unused', 'luatos');
  await dc.start(dap.port);
  await host.start();
  const stops: DebugProtocol.StoppedEvent[] = [];
  let waiter: (() => void) | null = null;
  dc.on('stopped', (ev: DebugProtocol.StoppedEvent) => {
    stops.push(ev);
    waiter?.();
  });
  const within = <T>(p: Promise<T>, what: string) =>
    Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what}: nothing within ${WAIT_MS} ms; log:\n${lines.join('\n')}`)), WAIT_MS))]);
  const r: Rig = {
    host,
    dap,
    dc,
    lines,
    stops,
    nextStop: () =>
      within(
        new Promise<DebugProtocol.StoppedEvent>((resolve) => {
          const take = () => {
            const ev = stops.shift();
            if (!ev) return false;
            waiter = null;
            resolve(ev);
            return true;
          };
          if (!take()) waiter = () => void take();
        }),
        'stopped event',
      ),
    waitLine: (text) =>
      within(
        new Promise<void>((resolve) => {
          const check = () => (lines.some((l) => l.includes(text)) ? resolve() : setTimeout(check, 20));
          check();
        }),
        `log line '${text}'`,
      ),
    close: async () => {
      await dc.stop().catch(() => undefined);
      await host.stop();
      await dap.close();
    },
  };
  return r;
}

async function configure(r: Rig, bps: Array<{ file: string; lines: DebugProtocol.SourceBreakpoint[] }>, exceptions = true): Promise<void> {
  await r.dc.initializeRequest({ adapterID: 'luatos', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  const entry = r.nextStop();
  for (const b of bps) {
    const res = await r.dc.setBreakpointsRequest({ source: { path: b.file }, breakpoints: b.lines });
    assert.ok(res.body.breakpoints.every((x) => x.verified), `breakpoints verified in ${b.file}`);
  }
  await r.dc.setExceptionBreakpointsRequest({ filters: exceptions ? ['uncaught'] : [] });
  await r.dc.attachRequest({} as DebugProtocol.AttachRequestArguments);
  await r.dc.configurationDoneRequest();
  const e = await entry;
  assert.equal(e.body.reason, 'entry');
  await r.dc.continueRequest({ threadId: e.body.threadId! });
}

async function variables(r: Rig, frameId: number, scope: 'Locals' | 'Upvalues' | 'Globals'): Promise<Map<string, DebugProtocol.Variable>> {
  const sc = await r.dc.scopesRequest({ frameId });
  const s = sc.body.scopes.find((x) => x.name === scope);
  assert.ok(s, scope);
  const v = await r.dc.variablesRequest({ variablesReference: s.variablesReference });
  return new Map(v.body.variables.map((x) => [x.name, x]));
}

const WORKER = `local function counter_task()
  local count = 0
  local info = { name = "counter", list = { 10, 20 } }
  while true do
    count = count + 1
    local label = "tick " .. count -- BP1
    log.info("worker", label) -- NEXT
    sys.wait(100)
  end
end

sys.taskInit(counter_task)
`;

for (const engine of ENGINES) {
  test(`${engine}: a breakpoint in a task (a file in a subfolder): the task's thread, locals, a table, step over, evaluate, continue`, async () => {
    const dir = project({ 'main.lua': 'require "worker"\nsys.run()\n', 'lib/worker.lua': WORKER });
    const file = path.join(dir, 'lib', 'worker.lua');
    const r = await rig(dir, engine);
    try {
      await configure(r, [{ file, lines: [{ line: lineOf(WORKER, 'BP1') }] }]);
      const s1 = await r.nextStop();
      assert.equal(s1.body.reason, 'breakpoint');
      const threads = (await r.dc.threadsRequest()).body.threads;
      const task = threads.find((t) => t.id === s1.body.threadId);
      assert.equal(task?.name, 'counter_task', JSON.stringify(threads));
      assert.ok(threads.some((t) => t.id === 1 && t.name === 'main'));
      const st = (await r.dc.stackTraceRequest({ threadId: s1.body.threadId! })).body.stackFrames;
      assert.equal(st[0].source?.path, file);
      assert.equal(st[0].line, lineOf(WORKER, 'BP1'));
      const locals = await variables(r, st[0].id, 'Locals');
      assert.equal(locals.get('count')?.value, '1');
      assert.equal(locals.has('label'), false, 'label is not yet assigned');
      const info = locals.get('info')!;
      assert.ok(info.variablesReference > 0, 'a table expands');
      const fields = new Map((await r.dc.variablesRequest({ variablesReference: info.variablesReference })).body.variables.map((x) => [x.name, x]));
      assert.equal(fields.get('name')?.value, '"counter"');
      assert.ok((fields.get('list')?.variablesReference ?? 0) > 0);
      // step over: the next line of the same task
      await r.dc.nextRequest({ threadId: s1.body.threadId! });
      const s2 = await r.nextStop();
      assert.equal(s2.body.reason, 'step');
      assert.equal(s2.body.threadId, s1.body.threadId);
      const st2 = (await r.dc.stackTraceRequest({ threadId: s2.body.threadId! })).body.stackFrames;
      assert.equal(st2[0].line, lineOf(WORKER, 'NEXT'));
      const ev = await r.dc.evaluateRequest({ expression: 'label .. "!"', frameId: st2[0].id, context: 'watch' });
      assert.equal(ev.body.result, '"tick 1!"');
      const ev2 = await r.dc.evaluateRequest({ expression: 'count * 10 + #info.list', frameId: st2[0].id, context: 'repl' });
      assert.equal(ev2.body.result, '12');
      // nothing logged while stopped
      assert.equal(r.lines.some((l) => l.includes('tick 1')), false);
      // continue: the loop comes round to the breakpoint again
      await r.dc.continueRequest({ threadId: s2.body.threadId! });
      const s3 = await r.nextStop();
      assert.equal(s3.body.reason, 'breakpoint');
      const st3 = (await r.dc.stackTraceRequest({ threadId: s3.body.threadId! })).body.stackFrames;
      assert.equal((await variables(r, st3[0].id, 'Locals')).get('count')?.value, '2');
      // no breakpoints any more: the task runs on
      await r.dc.setBreakpointsRequest({ source: { path: file }, breakpoints: [] });
      await r.dc.continueRequest({ threadId: s3.body.threadId! });
      await r.waitLine('tick 4');
    } finally {
      await r.close();
    }
  });

  test(`${engine}: step into a function and out of it again`, async () => {
    const MAIN = `local function add(a, b)
  local r = a + b -- IN
  return r
end
sys.taskInit(function()
  sys.wait(10)
  local x = add(1, 2) -- CALL
  log.info("sum", x) -- AFTER
end)
sys.run()
`;
    const dir = project({ 'main.lua': MAIN });
    const r = await rig(dir, engine);
    try {
      await configure(r, [{ file: path.join(dir, 'main.lua'), lines: [{ line: lineOf(MAIN, 'CALL') }] }]);
      const s = await r.nextStop();
      const tid = s.body.threadId!;
      await r.dc.stepInRequest({ threadId: tid });
      const s2 = await r.nextStop();
      assert.equal(s2.body.reason, 'step');
      const st2 = (await r.dc.stackTraceRequest({ threadId: tid })).body.stackFrames;
      assert.equal(st2[0].line, lineOf(MAIN, 'IN'));
      assert.equal(st2[0].name, 'add');
      assert.equal((await variables(r, st2[0].id, 'Locals')).get('b')?.value, '2');
      await r.dc.stepOutRequest({ threadId: tid });
      const s3 = await r.nextStop();
      assert.equal(s3.body.reason, 'step');
      const st3 = (await r.dc.stackTraceRequest({ threadId: tid })).body.stackFrames;
      // back in the task: Lua 5.4 resumes the hook on the next line, 5.3 may report the call's line again
      assert.ok([lineOf(MAIN, 'CALL'), lineOf(MAIN, 'AFTER')].includes(st3[0].line), `line ${st3[0].line}`);
      assert.equal(st3.length, st2.length - 1);
      await r.dc.continueRequest({ threadId: tid });
      await r.waitLine('sum 3');
    } finally {
      await r.close();
    }
  });

  test(`${engine}: a breakpoint after a yield inside pcall in a task, step out, step over a sys.wait: the same task stops on the next line`, async () => {
    const MAIN = `local function work(n)
  sys.wait(20)
  return n * 2 -- AFTER_YIELD
end
sys.taskInit(function()
  local total = 0
  for i = 1, 3 do
    local ok, v = pcall(work, i) -- CALL
    total = total + v -- SUM
    sys.wait(10) -- WAIT
    log.info("step", i, total) -- LOG
  end
  log.info("loop", "end", total)
end)
sys.timerLoopStart(function() local beat = 1 end, 5)
sys.run()
`;
    const dir = project({ 'main.lua': MAIN });
    const r = await rig(dir, engine);
    const file = path.join(dir, 'main.lua');
    try {
      await configure(r, [{ file, lines: [{ line: lineOf(MAIN, 'AFTER_YIELD') }] }]);
      // stopped in the resumed task, inside the pcall'd function, after the yield came back
      const s = await r.nextStop();
      assert.equal(s.body.reason, 'breakpoint');
      const tid = s.body.threadId!;
      assert.notEqual(tid, 1, 'the task, not the main thread');
      const st = (await r.dc.stackTraceRequest({ threadId: tid })).body.stackFrames;
      assert.equal(st[0].line, lineOf(MAIN, 'AFTER_YIELD'));
      // called through pcall, the function has no name Lua can tell: its definition
      assert.match(st[0].name, /^function <main\.lua:1>$/);
      assert.ok(st.some((f) => f.line === lineOf(MAIN, 'CALL')), JSON.stringify(st.map((f) => [f.name, f.line])));
      assert.equal((await variables(r, st[0].id, 'Locals')).get('n')?.value, '1');
      // no more stops in work(): the breakpoint goes, stepping goes on
      await r.dc.setBreakpointsRequest({ source: { path: file }, breakpoints: [] });
      await r.dc.stepOutRequest({ threadId: tid });
      const s2 = await r.nextStop();
      assert.equal(s2.body.reason, 'step');
      assert.equal(s2.body.threadId, tid);
      const st2 = (await r.dc.stackTraceRequest({ threadId: tid })).body.stackFrames;
      // back in the task after pcall returned: 5.3 may report the call's line again
      assert.ok([lineOf(MAIN, 'CALL'), lineOf(MAIN, 'SUM')].includes(st2[0].line), `line ${st2[0].line}`);
      assert.equal(st2.length, st.length - 2, 'work and pcall are gone');
      if (st2[0].line === lineOf(MAIN, 'CALL')) {
        await r.dc.nextRequest({ threadId: tid });
        await r.nextStop();
      }
      await r.dc.nextRequest({ threadId: tid });
      const s3 = await r.nextStop();
      assert.equal(s3.body.threadId, tid);
      const st3 = (await r.dc.stackTraceRequest({ threadId: tid })).body.stackFrames;
      assert.equal(st3[0].line, lineOf(MAIN, 'WAIT'));
      assert.equal((await variables(r, st3[0].id, 'Locals')).get('total')?.value, '2');
      // over the yield: the timer loop on the main thread runs meanwhile, the stop is the task's next line
      await r.dc.nextRequest({ threadId: tid });
      const s4 = await r.nextStop();
      assert.equal(s4.body.reason, 'step');
      assert.equal(s4.body.threadId, tid, 'the same task');
      const st4 = (await r.dc.stackTraceRequest({ threadId: tid })).body.stackFrames;
      assert.equal(st4[0].line, lineOf(MAIN, 'LOG'));
      assert.equal(r.lines.some((l) => l.includes('step 1')), false, 'stopped before the log line ran');
      await r.dc.continueRequest({ threadId: tid });
      await r.waitLine('loop end 12');
      assert.equal(r.stops.length, 0);
    } finally {
      await r.close();
    }
  });

  test(`${engine}: an evaluation that yields (sys.wait, coroutine.yield) or errors while stopped fails with a message; the task runs on`, async () => {
    const MAIN = `sys.taskInit(function()
  local n = 0
  while n < 3 do
    n = n + 1
    sys.wait(10) -- BP
  end
  log.info("task", "done", n)
end)
sys.run()
`;
    const dir = project({ 'main.lua': MAIN });
    const r = await rig(dir, engine);
    const file = path.join(dir, 'main.lua');
    try {
      await configure(r, [{ file, lines: [{ line: lineOf(MAIN, 'BP') }] }]);
      const s = await r.nextStop();
      const tid = s.body.threadId!;
      const st = (await r.dc.stackTraceRequest({ threadId: tid })).body.stackFrames;
      for (const expression of ['sys.wait(50)', 'coroutine.yield(1)', 'error("boom")', 'nil + 1']) {
        const res = await r.dc.evaluateRequest({ expression, frameId: st[0].id, context: 'repl' }).catch((e: Error) => e);
        assert.ok(res instanceof Error, `${expression}: an error, got ${JSON.stringify(res)}`);
        assert.ok(res.message.length > 0 && !/\n\s+at /.test(res.message), `${expression}: ${res.message}`);
      }
      // still stopped where it was, and the VM answers
      assert.equal((await r.dc.evaluateRequest({ expression: 'n', frameId: st[0].id, context: 'watch' })).body.result, '1');
      await r.dc.setBreakpointsRequest({ source: { path: file }, breakpoints: [] });
      await r.dc.continueRequest({ threadId: tid });
      await r.waitLine('task done 3');
      assert.equal(r.stops.length, 0);
    } finally {
      await r.close();
    }
  });

  test(`${engine}: a conditional breakpoint in a sys.timerLoopStart callback stops on the main thread when it holds`, async () => {
    const MAIN = `local n = 0
sys.timerLoopStart(function()
  n = n + 1
  log.info("loop", n) -- BP
end, 20)
sys.run()
`;
    const dir = project({ 'main.lua': MAIN });
    const r = await rig(dir, engine);
    try {
      await configure(r, [{ file: path.join(dir, 'main.lua'), lines: [{ line: lineOf(MAIN, 'BP'), condition: 'n == 3' }] }]);
      const s = await r.nextStop();
      assert.equal(s.body.reason, 'breakpoint');
      assert.equal(s.body.threadId, 1, 'timer callbacks run on the main thread');
      const st = (await r.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
      const up = await variables(r, st[0].id, 'Upvalues');
      assert.equal(up.get('n')?.value, '3');
      assert.equal((await r.dc.evaluateRequest({ expression: 'n', frameId: st[0].id })).body.result, '3');
      assert.ok(r.lines.some((l) => l.includes('loop 2')) && !r.lines.some((l) => l.includes('loop 3')));
      await r.dc.continueRequest({ threadId: 1 });
      await r.waitLine('loop 5');
      assert.equal(r.stops.length, 0, 'the condition holds once');
    } finally {
      await r.close();
    }
  });

  test(`${engine}: an error in a task stops there (exception), before sys.lua logs it and the reboot path runs`, async () => {
    const MAIN = `sys.taskInit(function()
  sys.wait(30)
  local cfg = nil
  log.info("before", "error")
  local x = cfg.port -- ERR
end)
sys.run()
`;
    const dir = project({ 'main.lua': MAIN });
    const r = await rig(dir, engine);
    try {
      await configure(r, []);
      const s = await r.nextStop();
      assert.equal(s.body.reason, 'exception');
      assert.match(s.body.text ?? '', /attempt to index/);
      assert.notEqual(s.body.threadId, 1);
      const st = (await r.dc.stackTraceRequest({ threadId: s.body.threadId! })).body.stackFrames;
      const top = st.find((f) => f.source?.path);
      assert.equal(top?.line, lineOf(MAIN, 'ERR'));
      assert.equal((await variables(r, top!.id, 'Locals')).get('cfg')?.value, 'nil');
      await r.waitLine('before error');
      assert.equal(r.lines.some((l) => l.includes('coroutine.resume')), false, 'not reported yet');
      await r.dc.continueRequest({ threadId: s.body.threadId! });
      await r.waitLine('coroutine.resume');
    } finally {
      await r.close();
    }
  });

  test(`${engine}: the device clock holds while stopped: a timer due during the pause fires after it by the same amount`, async () => {
    const MAIN = `sys.taskInit(function()
  local t0 = mcu.ticks()
  sys.timerStart(function() log.info("fired", mcu.ticks() - t0) end, 300)
  sys.wait(10)
  log.info("waited", mcu.ticks() - t0) -- BP
end)
sys.run()
`;
    const dir = project({ 'main.lua': MAIN });
    const r = await rig(dir, engine);
    try {
      await configure(r, [{ file: path.join(dir, 'main.lua'), lines: [{ line: lineOf(MAIN, 'BP') }] }]);
      const s = await r.nextStop();
      assert.equal(s.body.reason, 'breakpoint');
      const PAUSE = 1500;
      await new Promise((res) => setTimeout(res, PAUSE));
      assert.equal(r.lines.some((l) => l.includes('fired')), false, 'no timer fires while stopped');
      const resumed = performance.now();
      await r.dc.continueRequest({ threadId: s.body.threadId! });
      await r.waitLine('fired');
      const wall = performance.now() - resumed;
      const fired = Number(/fired (\d+)/.exec(r.lines.find((l) => l.includes('fired'))!)![1]);
      const waited = Number(/waited (\d+)/.exec(r.lines.find((l) => l.includes('waited'))!)![1]);
      // device time did not count the pause: without the hold both would be >= PAUSE
      assert.ok(waited < PAUSE, `waited ${waited} ms of device time`);
      assert.ok(fired >= 300 && fired < PAUSE, `fired at ${fired} ms of device time`);
      // and the timer still had the rest of its 300 ms to go after the pause
      assert.ok(wall >= 300 - waited - 60, `fired ${wall.toFixed(0)} ms after the pause`);
    } finally {
      await r.close();
    }
  });
}

for (const engine of ENGINES) {
  test(`${engine}: hit counts, logpoints and the device log in the debug console`, async () => {
    const MAIN = `for i = 1, 5 do
  local sq = i * i -- BP
end
log.info("done", "loop")
sys.run()
`;
    const dir = project({ 'main.lua': MAIN });
    const r = await rig(dir, engine);
    const outputs: string[] = [];
    const stdout: string[] = [];
    r.dc.on('output', (ev: DebugProtocol.OutputEvent) => {
      if (ev.body.category === 'console') outputs.push(ev.body.output);
      if (ev.body.category === 'stdout') stdout.push(ev.body.output);
    });
    try {
      await configure(r, [{ file: path.join(dir, 'main.lua'), lines: [{ line: lineOf(MAIN, 'BP'), hitCondition: '4' }] }]);
      const s = await r.nextStop();
      const st = (await r.dc.stackTraceRequest({ threadId: s.body.threadId! })).body.stackFrames;
      assert.equal((await r.dc.evaluateRequest({ expression: 'i', frameId: st[0].id })).body.result, '4');
      // a logpoint instead: it logs and does not stop
      await r.dc.setBreakpointsRequest({ source: { path: path.join(dir, 'main.lua') }, breakpoints: [{ line: lineOf(MAIN, 'BP'), logMessage: 'i is {i}' }] });
      await r.dc.continueRequest({ threadId: s.body.threadId! });
      await r.waitLine('done loop');
      // the logpoint's output travels on the debugger's port, the log on the device's: either may come first
      for (let i = 0; i < 100 && outputs.length === 0; i++) await new Promise((res) => setTimeout(res, 20));
      assert.deepEqual(outputs, ['i is 5\n']);
      // the device log in the client's debug console
      assert.ok(stdout.some((l) => l.includes('I/user.done loop')), stdout.join(''));
      assert.equal(r.stops.length, 0);
    } finally {
      await r.close();
    }
  });
}

for (const engine of ENGINES) {
  test(`${engine}: pause stops a task busy in a loop that never yields; evaluate sets a global; it runs on`, async () => {
    const MAIN = `sys.taskInit(function()
  sys.wait(10)
  log.info("busy", "start")
  local spins = 0
  while not stop_now do spins = spins + 1 end -- LOOP
  log.info("busy", "done")
end)
sys.run()
`;
    const dir = project({ 'main.lua': MAIN });
    const r = await rig(dir, engine);
    try {
      await configure(r, []);
      await r.waitLine('busy start');
      await r.dc.pauseRequest({ threadId: 1 });
      const s = await r.nextStop();
      assert.equal(s.body.reason, 'pause');
      assert.notEqual(s.body.threadId, 1, 'stopped in the task, inside its loop');
      const st = (await r.dc.stackTraceRequest({ threadId: s.body.threadId! })).body.stackFrames;
      assert.equal(st[0].line, lineOf(MAIN, 'LOOP'));
      assert.ok(Number((await variables(r, st[0].id, 'Locals')).get('spins')?.value) > 0);
      await r.dc.evaluateRequest({ expression: 'stop_now = true', frameId: st[0].id, context: 'repl' });
      await r.dc.continueRequest({ threadId: s.body.threadId! });
      await r.waitLine('busy done');
    } finally {
      await r.close();
    }
  });
}

for (const engine of ENGINES) {
  test(`${engine}: an evaluation that never ends while stopped is a runaway: the supervisor ends the VM thread as the watchdog would`, async () => {
    const MAIN = `local greeting = "up"
log.info("main", greeting) -- BP
sys.run()
`;
    const dir = project({ 'main.lua': MAIN });
    const r = await rig(dir, engine, { runawayMs: 300 });
    try {
      await configure(r, [{ file: path.join(dir, 'main.lua'), lines: [{ line: lineOf(MAIN, 'BP') }] }]);
      const s = await r.nextStop();
      const st = (await r.dc.stackTraceRequest({ threadId: s.body.threadId! })).body.stackFrames;
      const ev = r.dc.evaluateRequest({ expression: '(function() while true do end end)()', frameId: st[0].id, context: 'repl' }).catch((e: Error) => e);
      await r.waitLine('watchdog: Lua code ran for more than 300 ms without yielding (stuck in one call');
      assert.ok((await ev) instanceof Error, 'the evaluation fails');
    } finally {
      await r.close();
    }
  });
}

test('a breakpoint on a file outside the device is not verified, with the reason', async () => {
  const dir = project({ 'main.lua': 'sys.run()\n' });
  const r = await rig(dir, 'lua53');
  try {
    await r.dc.initializeRequest({ adapterID: 'luatos', pathFormat: 'path' });
    const res = await r.dc.setBreakpointsRequest({ source: { path: path.join(os.tmpdir(), 'elsewhere.lua') }, breakpoints: [{ line: 3 }] });
    assert.equal(res.body.breakpoints[0].verified, false);
    assert.match(res.body.breakpoints[0].message ?? '', /not a file of the device/);
  } finally {
    await r.close();
  }
});

test('luatos run --inspect-brk: the port is printed, the device stops before main.lua and runs on after continue; pause stops an idle device', async () => {
  const MAIN = `log.info("main", "first line") -- FIRST
sys.timerLoopStart(function() log.info("beat", "x") end, 50)
sys.run()
`;
  const dir = project({ 'main.lua': MAIN });
  const out = new PassThrough();
  let text = '';
  out.on('data', (b: Buffer) => (text += b.toString()));
  const o = parseRunArgs(['run', dir, '--inspect-brk', '--timeout', '60', '--expect', 'never appears', '--state', path.join(dir, '.state')].slice(1));
  const run = runDevice(o, out);
  let port = 0;
  for (let i = 0; i < 200 && !port; i++) {
    await new Promise((res) => setTimeout(res, 50));
    const m = /debugger \(DAP\) listening on 127\.0\.0\.1:(\d+)/.exec(text);
    if (m) port = Number(m[1]);
  }
  assert.ok(port > 0, text);
  const dc = new DebugClient('node', 'unused', 'luatos');
  await dc.start(port);
  const stopped = new Promise<DebugProtocol.StoppedEvent>((res) => dc.once('stopped', res));
  try {
    await dc.initializeRequest({ adapterID: 'luatos', pathFormat: 'path' });
    await dc.attachRequest({} as DebugProtocol.AttachRequestArguments);
    await dc.configurationDoneRequest();
    const s = await stopped;
    assert.equal(s.body.reason, 'entry');
    const st = (await dc.stackTraceRequest({ threadId: s.body.threadId! })).body.stackFrames;
    assert.equal(st[0].source?.path, path.join(dir, 'main.lua'));
    assert.equal(st[0].line, lineOf(MAIN, 'FIRST'));
    assert.equal(text.includes('first line'), false);
    await dc.continueRequest({ threadId: s.body.threadId! });
    for (let i = 0; i < 200 && !text.includes('beat'); i++) await new Promise((res) => setTimeout(res, 50));
    assert.ok(text.includes('first line') && text.includes('beat'), text);
    // pause a device that is waiting for its next timer
    const paused = new Promise<DebugProtocol.StoppedEvent>((res) => dc.once('stopped', res));
    await dc.pauseRequest({ threadId: 1 });
    const p = await paused;
    assert.equal(p.body.reason, 'pause');
    const frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    assert.ok(frames.some((f) => f.source?.path === path.join(dir, 'main.lua')), JSON.stringify(frames));
    await dc.continueRequest({ threadId: 1 });
  } finally {
    await dc.stop().catch(() => undefined);
    process.emit('SIGINT');
    const res = await run;
    assert.equal(res.code, 130);
  }
});
