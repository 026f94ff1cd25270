/**
 * os.setlocale per board (issue 19): the Air8101 has none (LuatOS's loslib.c builds it only into
 * the desktop simulator builds, luatos-api-2.md; luatos-api/base.ts removes the engine's, whose
 * wasm C library would accept any locale name), the pc board has loslib's function over a
 * C library with only the "C" locale (runtime/boards/pc.ts `pcSetlocale`).
 *
 * The pc board's answers are compared with native lua5.3 (an independent implementation: glibc's
 * setlocale) for the calls whose result does not depend on the host's installed locales; the
 * one documented choice (`""`, the environment's locale, is taken as "C") is checked by value.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { PC_BOARD } from '../../runtime/boards/pc';
import { runLua } from '../helpers/run-lua';
import { nativeLua } from '../lua53-suite/run';
import { removeTempDir, tempDir } from '../helpers/tmp';

// each case: one call, its result (or the error text) as a string; joined with " | "
const CASES = `
local function r(f, ...)
  local ok, v = pcall(f, ...)
  if not ok then return "error: " .. tostring(v) end
  return tostring(v)
end
local out = {
  r(function() return os.setlocale() end),
  r(function() return os.setlocale("C") end),
  r(function() return os.setlocale("POSIX") end),
  r(function() return os.setlocale("pt_BR") end),
  r(function() return os.setlocale("ptb") end),
  r(function() return os.setlocale(3) end),
  r(function() return os.setlocale("C", "numeric") end),
  r(function() return os.setlocale(nil, "time") end),
  r(function() return os.setlocale("pt_BR", "ctype") end),
  r(function() return os.setlocale() end),
  r(function() return os.setlocale("C", "x") end),
  r(function() return os.setlocale({}) end),
  r(function() return tonumber("3,4") end),
}
print("RESULT " .. table.concat(out, " | "))
`;

const result = (user: string[]) => user.find((l) => l.startsWith('RESULT '))?.slice(7);

for (const engine of ENGINE_NAMES) {
  test(`${engine}: the Air8101 board has no os.setlocale (not even the engine's)`, async () => {
    const r = await runLua({ 'main.lua': 'print("SETLOCALE " .. type(os.setlocale))' }, { engine, until: 'SETLOCALE', cleanup: true });
    assert.ok(r.user.includes('SETLOCALE nil'), r.user.join('\n'));
  });

  test(`${engine}: the pc board's os.setlocale gives native lua5.3's answers for a C library with only "C"`, async (t) => {
    const r = await runLua({ 'main.lua': CASES }, { engine, until: 'RESULT', cleanup: true, onDevice: (d) => PC_BOARD.setup?.(d) });
    const ours = result(r.user);
    assert.ok(ours, r.lines.join('\n'));
    // the documented choice, independent of the host: "" is the environment's locale, taken as "C"
    const r2 = await runLua({ 'main.lua': 'print("EMPTY " .. tostring(os.setlocale("")) .. " " .. tostring(os.setlocale()))' }, { engine, until: 'EMPTY', cleanup: true, onDevice: (d) => PC_BOARD.setup?.(d) });
    assert.ok(r2.user.includes('EMPTY C C'), r2.user.join('\n'));
    const exe = nativeLua();
    if (!exe) return t.skip('native lua5.3 is not installed (/usr/bin/lua5.3): no independent answers to compare with');
    // as main.lua in a temp folder, so error positions read `main.lua:N:` on both sides
    const dir = tempDir('luatos-setlocale-');
    let p;
    try {
      fs.writeFileSync(path.join(dir, 'main.lua'), CASES);
      p = spawnSync(exe, ['main.lua'], { cwd: dir, encoding: 'utf8', timeout: 10_000, env: { PATH: process.env.PATH ?? '' } });
    } finally {
      removeTempDir(dir);
    }
    const native = result(p.stdout.split('\n'));
    assert.ok(native, p.stderr);
    const [, , , ptBR, ptb] = native.split(' | ');
    if (ptBR !== 'nil' || ptb !== 'nil') {
      return t.skip(`this host has a pt_BR/ptb locale installed, so native's answers are not the "C"-only ones: ${native}`);
    }
    assert.equal(ours, native);
  });
}
