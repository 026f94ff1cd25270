/**
 * Base of the device VM: standard libraries as the firmware has them, `print`, the firmware's
 * `require`, and the boot helpers used by runtime/lua/boot.lua.
 *
 * - `print` converts every argument with the global `tostring`, joins them with single spaces
 *   (not tabs) and writes one `luat:U` record (luatos-api.md §4.2).
 * - `require` ignores package.path and searches `/`, `/luadb/`, `/lua/` (.luac before .lua),
 *   after up to 4 templates from rtos.setPaths; the chunk is called with (path, name); errors
 *   use the firmware's texts (§2). The search/load step is the host helper `require` below;
 *   the global `require` is Lua (runtime/lua/boot.lua), so a module's main chunk may yield
 *   (`sys.wait`, `sys.run()`) as on the device, on both engines.
 * - Binary chunks are refused by `require`, main.lua, `load`, `loadfile` and `dofile`
 *   (runtime/core/fs/chunk.ts).
 * - Absent as on the device: os.execute, io.popen, package.loadlib, C modules, os.exit
 *   (it would end the host process; the device has no such thing), os.setlocale (LuatOS's
 *   loslib.c builds it only into the Linux/Windows/macOS simulator builds, luatos-api-2.md
 *   "os.exit"; on the Air8101 `os.setlocale` is nil, so the C library's locale stays "C").
 *   The pc board adds it back in its "C"-only form (runtime/boards/pc.ts).
 * - Chunk names are `@<file name>`, so error positions read `main.lua:12:` (the device log
 *   shows both this and `[string "main.lua"]:12:`; this is the choice made here).
 */
import * as path from 'node:path';
import { LuaError, LUA_OK, LUA_TNONE, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE } from '../runtime/core/engine/types';
import { BINARY_CHUNK_MSG, isBinaryChunk } from '../runtime/core/fs/chunk';
import type { Vm } from '../runtime/core/vm/vm';
import { formatG } from './shared/numfmt';

const SPACE = Buffer.from(' ');

export function openBase(vm: Vm): void {
  const { e, L } = vm;
  e.openlibs(L);

  if (e.luaVersion === '5.4') vm.runBundledChunk(L, 'compat53.lua');
  if (e.gcCountKB(L) === null) vm.runBundledChunk(L, 'gc-estimate.lua');

  // remove what the device does not have
  const remove = (table: string, fields: string[]) => {
    if (e.getglobal(L, table) === LUA_TTABLE) {
      for (const f of fields) {
        e.pushnil(L);
        e.setfield(L, -2, f);
      }
    }
    e.pop(L, 1);
  };
  remove('os', ['execute', 'exit', 'tmpname', 'getenv', 'remove', 'rename', 'setlocale']);
  remove('io', ['popen', 'open', 'lines', 'input', 'output', 'read', 'write', 'close', 'tmpfile']);
  remove('package', ['loadlib', 'searchpath', 'cpath']);
  e.pushnil(L);
  e.setglobal(L, 'dofile');
  e.pushnil(L);
  e.setglobal(L, 'loadfile');

  vm.setGlobalFunction('print', (a) => {
    const n = a.count;
    const parts: Buffer[] = [];
    for (let i = 1; i <= n; i++) {
      e.getglobal(a.L, 'tostring');
      e.pushvalue(a.L, i);
      e.call(a.L, 1, 1);
      const b = e.tobytes(a.L, -1);
      if (b === null) throw new LuaError("'tostring' must return a string to 'print'");
      if (i > 1) parts.push(SPACE);
      parts.push(Buffer.from(b));
      e.pop(a.L, 1);
    }
    vm.device.logUser(Buffer.concat(parts));
    return 0;
  });

  // helpers for runtime/lua/boot.lua (removed from _G by the boot chunk)
  e.createtable(L, 0, 4);
  // the search and load step of `require` (the Lua side in boot.lua calls the chunk, so a
  // module's main chunk may yield): `chunk, path` or `nil, message` (never raises, so the
  // Lua side can raise the message at the caller's position)
  vm.pushBinding('require', (a) => {
    const fail = (msg: string) => {
      e.pushnil(a.L);
      e.pushstring(a.L, msg);
      return 2;
    };
    const t = e.type(a.L, 1);
    if (t !== LUA_TSTRING && t !== LUA_TNUMBER) {
      return fail(`bad argument #1 to 'require' (string expected, got ${t === LUA_TNONE ? 'no value' : e.typename(a.L, 1)})`);
    }
    const name = e.tostring(a.L, 1) ?? '';
    const len = Buffer.byteLength(name);
    if (len < 1 || len > 48) return fail(`module name '${name}' len ${len} is invalid`);
    const vpath = vm.vfs.findModule(name, vm.customPaths);
    if (!vpath) return fail(`module '${name}' not found`);
    const code = vm.vfs.readFile(vpath) ?? Buffer.alloc(0);
    const loadErr = (msg: string) => fail(`error loading module '${name}' from file '${vpath}':\n\t${msg}`);
    if (isBinaryChunk(code)) return loadErr(BINARY_CHUNK_MSG);
    if (e.loadbuffer(a.L, code, '@' + path.posix.basename(vpath)) !== LUA_OK) {
      const msg = e.tostring(a.L, -1) ?? '?';
      e.pop(a.L, 1);
      return loadErr(msg);
    }
    e.pushstring(a.L, vpath);
    return 2;
  });
  e.setfield(L, -2, 'require');
  e.pushstring(L, BINARY_CHUNK_MSG);
  e.setfield(L, -2, 'binary_msg');
  vm.pushBinding('boot_lines', () => {
    const p = vm.device.profile;
    vm.log('I', 'main', `LuatOS@${p.bsp} base ${p.baseVersion} bsp ${p.version} ${e.integerBits === 32 ? '32bit' : '64bit'}`);
    vm.log('I', 'main', `ROM Build: ${p.buildDate} (luatos-pc, engine ${e.name}, Lua ${e.luaVersion})`);
    return 0;
  });
  e.setfield(L, -2, 'boot_lines');
  vm.pushBinding('load_main', (a) => {
    const vpath = vm.vfs.findModule('main', vm.customPaths);
    if (!vpath) {
      vm.device.noMain();
      throw new LuaError("module 'main' not found");
    }
    const code = vm.vfs.readFile(vpath) ?? Buffer.alloc(0);
    if (isBinaryChunk(code)) {
      vm.loadFailed = true;
      throw new LuaError(`${path.posix.basename(vpath)}: ${BINARY_CHUNK_MSG}`);
    }
    if (e.loadbuffer(a.L, code, '@' + path.posix.basename(vpath)) !== LUA_OK) {
      vm.loadFailed = true;
      return e.error(a.L);
    }
    return 1;
  });
  e.setfield(L, -2, 'load_main');
  vm.pushBinding('fmt_float', (a) => {
    e.pushstring(a.L, formatG(a.number(1), 14));
    return 1;
  });
  e.setfield(L, -2, 'fmt_float');
  e.setglobal(L, '__LUATOS_BOOT');
}
