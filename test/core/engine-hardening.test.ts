/**
 * Engine hardening (issue "Hardening", items 1, 2 and 5): checked allocations across the
 * engine boundary, traps discard the wasm instance, the runtime's watchdog hook survives a
 * script's debug.sethook, and nothing of a closed boot stays registered.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createEngine, ENGINE_NAMES, LuaEngine, LuaState, LUA_OK } from '../../runtime/core/engine';
import { runLua, RunLuaResult } from '../helpers/run-lua';
import type { Vm } from '../../runtime/core/vm/vm';

function cleanup(r: RunLuaResult): void {
  fs.rmSync(r.dir, { recursive: true, force: true });
  fs.rmSync(r.device.opts.dataDir, { recursive: true, force: true });
}

function run(e: LuaEngine, L: LuaState, src: string, nres: number): void {
  assert.equal(e.loadbuffer(L, Buffer.from(src), '=t'), LUA_OK, e.tostring(L, -1) ?? '');
  const st = e.pcall(L, 0, nres, 0);
  assert.equal(st, LUA_OK, e.tostring(L, -1) ?? '');
}

// ---------------------------------------------------------------- item 1: allocations and traps

test('wasmoon: a string too large for the wasm heap is "not enough memory"; nothing is written at address 0 and later strings are intact', async () => {
  const e = await createEngine('wasmoon', { isolated: true });
  const heap = (): Uint8Array => (e as any).m.HEAPU8;
  const low = Buffer.from(heap().subarray(0, 64));
  const L = e.newstate();
  e.openlibs(L);
  // 2.2 GB: over the 2 GB wasm heap limit, so _malloc returns 0 (Node maps the zeroed pages lazily)
  const huge = Buffer.alloc(2.2e9);
  e.pushfunction(L, (L2) => {
    e.pushbytes(L2, huge);
    return 1;
  });
  e.setglobal(L, 'huge');
  e.pushfunction(L, (L2) => {
    e.pushbytes(L2, Buffer.from(e.tobytes(L2, 1) as Uint8Array).reverse());
    return 1;
  });
  e.setglobal(L, 'rev');
  run(e, L, 'local ok, err = pcall(huge); local t = {}; for i = 1, 200 do t[i] = rev(("x"):rep(i) .. "yz") end; return ok, err, t[200]', 3);
  assert.equal(e.toboolean(L, -3), false);
  // raised by the host function called straight from pcall: no Lua position, as luaL_error
  assert.equal(e.tostring(L, -2), 'not enough memory');
  assert.equal(e.tostring(L, -1), 'zy' + 'x'.repeat(200));
  assert.deepEqual(Buffer.from(heap().subarray(0, 64)), low, 'wasm address 0..63 was written');
  e.close(L);
  // the instance is still sound: a new state boots and runs
  const L2 = e.newstate();
  e.openlibs(L2);
  run(e, L2, 'return ("ab"):rep(3)', 1);
  assert.equal(e.tostring(L2, -1), 'ababab');
  e.close(L2);
  assert.equal(e.broken, false);
});

test('wasmoon: a JS allocation failure in a host function reads "not enough memory", not the JS text', async () => {
  const e = await createEngine('wasmoon', { isolated: true });
  const L = e.newstate();
  e.openlibs(L);
  e.pushfunction(L, () => {
    Buffer.alloc(2 ** 53); // ERR_OUT_OF_RANGE: 'The value of "size" is out of range'
    return 0;
  });
  e.setglobal(L, 'alloc');
  run(e, L, 'return select(2, pcall(alloc))', 1);
  assert.equal(e.tostring(L, -1), 'not enough memory');
  e.close(L);
});

test('wasmoon: after a wasm trap the instance is discarded and the next boot gets a fresh one (trap injected through the raw wasm module)', async () => {
  let first: LuaEngine | null = null;
  const r = await runLua(
    { 'main.lua': 'if trap then log.info("boot", "trapping") trap() end\nlog.info("boot", "fresh engine ok", ("ab"):rep(2))\n' },
    {
      engine: 'wasmoon',
      reboot: 'restart',
      maxBoots: 2,
      timeoutMs: 8000,
      onDevice: (d) =>
        d.on('boot', (n: number) => {
          if (n !== 1) return;
          const vm = d.vm;
          assert.ok(vm);
          first = vm.e;
          vm.setGlobalFunction('trap', () => {
            // a bad lua_State pointer: the load of L->top is out of the wasm memory's bounds
            (vm.e as any).m._lua_pushnil(0x7ffffff0);
          });
        }),
    },
  );
  try {
    const text = r.lines.join('\n');
    assert.match(text, /I\/user\.boot trapping/);
    assert.match(text, /luat:E\(\d+\):main:internal error: memory access out of bounds/);
    assert.match(text, /I\/user\.boot fresh engine ok abab/);
    assert.ok(first, 'boot 1 did not run');
    assert.equal((first as LuaEngine).broken, true);
    assert.notEqual(r.device.engine, first, 'the trapped instance was reused');
    assert.equal(r.device.engine?.broken, false);
    // and the process-wide factory does not hand the broken instance out again
    assert.notEqual(await createEngine('wasmoon'), first);
  } finally {
    cleanup(r);
  }
});

// ---------------------------------------------------------------- item 2: hooks

const HOOKS = `
local lines = {}
debug.sethook(function(ev, line) lines[#lines+1] = ev .. ":" .. tostring(line) end, "l")
local x = 1
x = x + 1
debug.sethook()
log.info("lines", table.concat(lines, ","))
log.info("gethook off", debug.gethook())
local n = 0
debug.sethook(function(ev) if ev == "count" then n = n + 1 end end, "", 100)
for i = 1, 10000 do end
local f, m, c = debug.gethook()
debug.sethook()
log.info("count", n >= 50 and n <= 400, type(f), "[" .. m .. "]", c)
local calls = {}
debug.sethook(function(ev) calls[#calls+1] = ev end, "cr")
local function g() end
g()
debug.sethook()
log.info("callret", table.concat(calls, ","))
local co = coroutine.create(function() local a = 1; a = a + 1; return a end)
local colines = 0
debug.sethook(co, function(ev) colines = colines + 1 end, "l")
log.info("co gethook", select(2, debug.gethook(co)), select(2, debug.gethook()))
coroutine.resume(co)
log.info("co lines", colines)
log.info("runaway")
debug.sethook()
while true do end
`;

for (const engine of ENGINE_NAMES) {
  test(`debug.sethook() cannot switch the runaway watchdog off, and scripts' hooks still work (${engine})`, async () => {
    const r = await runLua({ 'main.lua': HOOKS }, { engine, profile: { runawayMs: 300 }, timeoutMs: 10000 });
    try {
      assert.equal(r.timedOut, false, 'the runaway loop was not stopped:\n' + r.lines.join('\n'));
      assert.deepEqual(r.user.slice(0, 7), [
        'I/user.lines line:4,line:5,line:6',
        'I/user.gethook off nil  0',
        'I/user.count true function [] 100',
        'I/user.callret return,call,return,call',
        'I/user.co gethook l  0',
        'I/user.co lines 1',
        'I/user.runaway',
      ]);
      assert.match(r.lines.join('\n'), /luat:E\(\d+\):wdt:watchdog: Lua code ran for more than 300 ms without yielding/);
    } finally {
      cleanup(r);
    }
  });
}

// ---------------------------------------------------------------- item 5: nothing of a closed boot stays

test('wasmoon: closing a state releases its host functions; another state cannot call them through debug.setupvalue', async () => {
  const e = await createEngine('wasmoon', { isolated: true });
  const base = e.hostFunctionCount() as number;
  const A = e.newstate();
  e.openlibs(A);
  let calledA = 0;
  for (let i = 0; i < 50; i++) {
    e.pushfunction(A, () => {
      calledA++;
      return 0;
    });
    e.setglobal(A, `fa${i}`);
  }
  assert.equal(e.hostFunctionCount(), base + 50);
  run(e, A, 'return select(2, debug.getupvalue(fa7, 1))', 1);
  const idA = e.tointeger(A, -1) as number;
  e.settop(A, 0);
  const B = e.newstate();
  e.openlibs(B);
  e.pushfunction(B, (L) => {
    e.pushstring(L, 'B');
    return 1;
  });
  e.setglobal(B, 'fb');
  e.pushinteger(B, idA);
  e.setglobal(B, 'idA');
  // a live function of another state: refused
  run(e, B, 'debug.setupvalue(fb, 1, idA); return select(2, pcall(fb))', 1);
  assert.equal(e.tostring(B, -1), 'host function was released');
  assert.equal(calledA, 0);
  e.close(A);
  assert.equal(e.hostFunctionCount(), base + 1, 'the closed state left host functions registered');
  e.close(B);
  assert.equal(e.hostFunctionCount(), base);
});

for (const engine of ENGINE_NAMES) {
  test(`reboots leave no host functions or host objects of earlier boots behind (${engine})`, async () => {
    const counts: (number | null)[] = [];
    const objects: [Vm, number][] = [];
    const r = await runLua(
      { 'main.lua': 'local z = zbuff.create(16)\nlog.info("zb", z:len())\nsys.taskInit(function() sys.wait(1) rtos.reboot() end)\nsys.run()\n' },
      {
        engine,
        reboot: 'restart',
        maxBoots: 12,
        timeoutMs: 20000,
        onDevice: (d) => {
          // at each exit the exiting VM is the only live one (the one before it is closed)
          d.on('vmexit', () => counts.push(d.engine?.hostFunctionCount() ?? null));
          d.on('boot', () => {
            const vm = d.vm as Vm;
            const add = vm.addHostObject.bind(vm);
            vm.addHostObject = (o: unknown) => {
              const id = add(o);
              objects.push([vm, id]);
              return id;
            };
          });
        },
      },
    );
    try {
      assert.equal(r.stop?.kind, 'max-boots', r.lines.join('\n'));
      assert.equal(r.user.filter((u) => u === 'I/user.zb 16').length, 12);
      assert.equal(counts.length, 12);
      if (engine === 'wasmoon') assert.ok(counts.every((c) => c === counts[0]), `host functions at each exit: ${counts.join(' ')}`);
      else assert.ok(counts.every((c) => c === null), 'fengari keeps no registry');
      // host objects (the zbuffs) of every closed boot are gone
      assert.ok(objects.length >= 12);
      for (const [vm, id] of objects) assert.equal(vm.getHostObject(id), undefined);
    } finally {
      cleanup(r);
    }
  });
}
