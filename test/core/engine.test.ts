import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { createEngine, ENGINE_NAMES, LuaError, LUA_OK, LUA_YIELD } from '../../runtime/core/engine';
import { runLua } from '../helpers/run-lua';

const ALL_BYTES = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from([0xc3, 0x28, 0xed, 0xa0, 0x80, 0xff, 0xfe, 0x00])]);

for (const name of ENGINE_NAMES) {
  test(`${name}: strings are binary-safe in both directions`, async () => {
    const e = await createEngine(name);
    const L = e.newstate();
    e.openlibs(L);
    e.pushfunction(L, (L2) => {
      const b = e.tobytes(L2, 1) as Uint8Array;
      e.pushbytes(L2, Buffer.concat([Buffer.from(b), Buffer.from(b)]));
      return 1;
    });
    e.setglobal(L, 'twice');
    e.pushbytes(L, ALL_BYTES);
    e.setglobal(L, 'blob');
    assert.equal(e.loadbuffer(L, Buffer.from('local s = twice(blob); return s, #s, s:byte(1), s:byte(257)'), '=t'), LUA_OK);
    assert.equal(e.pcall(L, 0, 4, 0), LUA_OK);
    assert.deepEqual(Buffer.from(e.tobytes(L, -4) as Uint8Array), Buffer.concat([ALL_BYTES, ALL_BYTES]));
    assert.equal(e.tointeger(L, -3), ALL_BYTES.length * 2);
    assert.equal(e.tointeger(L, -2), 0);
    assert.equal(e.tointeger(L, -1), 0xc3);
    e.close(L);
  });

  test(`${name}: distinct byte strings stay distinct (constants and table keys)`, async () => {
    const e = await createEngine(name);
    const L = e.newstate();
    e.openlibs(L);
    const src = 'local a, b = "\\1\\2", "\\x12"; local t = {[a] = 1, [b] = 2}; return a == b, #a, #b, t[a], t[b]';
    assert.equal(e.loadbuffer(L, Buffer.from(src), '=t'), LUA_OK);
    assert.equal(e.pcall(L, 0, 5, 0), LUA_OK);
    assert.deepEqual([e.toboolean(L, -5), e.tointeger(L, -4), e.tointeger(L, -3), e.tointeger(L, -2), e.tointeger(L, -1)], [false, 2, 1, 1, 2]);
    e.close(L);
  });

  test(`${name}: a JS exception in a host function becomes a Lua error with position, and the VM stays usable`, async () => {
    const e = await createEngine(name);
    const L = e.newstate();
    e.openlibs(L);
    e.pushfunction(L, () => {
      throw new TypeError('kaput');
    });
    e.setglobal(L, 'bad');
    e.pushfunction(L, () => {
      throw new LuaError('clean message');
    });
    e.setglobal(L, 'bad2');
    for (let i = 0; i < 200; i++) {
      assert.equal(e.loadbuffer(L, Buffer.from('local ok, err = pcall(function() bad() end); local ok2, err2 = pcall(function() bad2() end); return err, err2'), '@x.lua'), LUA_OK);
      assert.equal(e.pcall(L, 0, 2, 0), LUA_OK);
      assert.equal(e.tostring(L, -2), 'x.lua:1: kaput');
      assert.equal(e.tostring(L, -1), 'x.lua:1: clean message');
      e.settop(L, 0);
    }
    e.close(L);
  });

  test(`${name}: a host function can yield the thread with a continuation`, async () => {
    const e = await createEngine(name);
    const L = e.newstate();
    e.openlibs(L);
    e.pushfunction(L, (L2) =>
      e.yieldk(L2, 0, (L3) => {
        e.pushstring(L3, 'resumed');
        return 1;
      }),
    );
    e.setglobal(L, 'wait_host');
    const T = e.newthread(L);
    assert.equal(e.loadbuffer(T, Buffer.from('local r = wait_host(); return r .. "!"'), '=t'), LUA_OK);
    const r1 = e.resume(T, null, 0);
    assert.equal(r1.status, LUA_YIELD);
    const r2 = e.resume(T, null, 0);
    assert.equal(r2.status, LUA_OK);
    assert.equal(e.tostring(T, -1), 'resumed!');
    e.close(L);
  });
}

test('a device stopped from inside its own log listener frees its VM safely; the next device works', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await runLua({ 'main.lua': 'sys.taskInit(function() while true do sys.wait(1) log.info("x", "y") end end) sys.run()' }, {
      onDevice: (d) => d.logSink.on((rec) => {
        if (rec.kind === 'U') d.dispose();
      }),
      timeoutMs: 3000,
    });
    assert.ok(r.user.length >= 1);
  }
  const ok = await runLua({ 'main.lua': 'log.info("fine", json.encode({1, 2}))' }, { until: 'fine' });
  assert.ok(ok.user.includes('I/user.fine [1,2]'), ok.lines.join('\n'));
});

test('wasmoon: 300 boots in one process (reboot loop) do not corrupt the shared wasm instance', async () => {
  const src = 'log.info("b", json.encode({n = 1})) sys.timerStart(rtos.reboot, 1) sys.run()';
  const r = await runLua({ 'main.lua': src }, { reboot: 'restart', maxBoots: 300, timeoutMs: 30000 });
  assert.equal(r.stop?.kind, 'max-boots', r.lines.slice(-5).join('\n'));
  assert.equal(r.user.filter((u) => u === 'I/user.b {"n":1}').length, 300);
});

test('engines load lazily: importing runtime/core/engine and running wasmoon never loads fengari (a fresh worker thread)', async () => {
  const engineModule = path.join(__dirname, '..', '..', 'runtime', 'core', 'engine', 'index.js');
  const code = `
const { parentPort, workerData } = require('node:worker_threads');
const fengariLoaded = () => Object.keys(require.cache).some((k) => /[\\\\/]node_modules[\\\\/]fengari[\\\\/]/.test(k));
const eng = require(workerData);
const out = { atImport: fengariLoaded(), loadedAtImport: eng.loadedEngines() };
eng.createEngine('wasmoon').then(async () => {
  out.afterWasmoon = fengariLoaded();
  out.loadedAfterWasmoon = eng.loadedEngines();
  await eng.createEngine('fengari');
  out.afterFengari = fengariLoaded();
  out.loadedAfterFengari = eng.loadedEngines();
  parentPort.postMessage(out);
}, (e) => parentPort.postMessage({ error: String(e) }));
`;
  const w = new Worker(code, { eval: true, workerData: engineModule });
  try {
    const r = await new Promise<Record<string, unknown>>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    assert.deepEqual(r, {
      atImport: false,
      loadedAtImport: [],
      afterWasmoon: false,
      loadedAfterWasmoon: ['wasmoon'],
      afterFengari: true,
      loadedAfterFengari: ['wasmoon', 'fengari'],
    });
  } finally {
    await w.terminate();
  }
});
