/**
 * The firmware's file-system extensions of `io` and the `fs` module
 * (luat/modules/luat_lib_fs.c; luatos-api-2.md §23).
 *
 * - `fs` is the same table as `io` (as on the device), so `fs.fsstat`, `fs.fsize`,
 *   `fs.lsdir`, `fs.lsmount`, ... are the io functions.
 * - `io.fsstat(path="/")` → `true, total_blocks, used_blocks, block_size, fs_type` for the
 *   volume holding the path (`/` → the profile's flash file system "lfs2", `/ram/` → "ram",
 *   `/lfs2/` → "lfs2", `/luadb/` → "luadb", full by construction — a choice, the firmware's
 *   luadb result is unsure), or `false`. Used blocks follow runtime/core/fs/volume.ts, the same
 *   count that refuses writes with "No space left on device".
 * - `io.dexist(path)` → true when the path is a directory.
 * - `io.fsize(path)`: alias of `io.fileSize` (0 when missing).
 */
import type { Args } from '../runtime/core/vm/lua-value';
import type { Vm } from '../runtime/core/vm/vm';
import { LUA_TTABLE } from '../runtime/core/engine/types';
import { fsStat, statKind } from '../runtime/core/fs/sandbox';

export function openFs(vm: Vm, fileSize: (a: Args) => number): void {
  const { e, L } = vm;
  vm.defineModule('io', {
    fsstat: (a) => {
      const st = fsStat(vm.vfs, a.optString(1, '/'));
      if (!st) {
        e.pushboolean(a.L, false);
        return 1;
      }
      e.pushboolean(a.L, true);
      e.pushinteger(a.L, st.total);
      e.pushinteger(a.L, st.used);
      e.pushinteger(a.L, st.blockSize);
      e.pushstring(a.L, st.type);
      return 5;
    },
    dexist: (a) => {
      e.pushboolean(a.L, statKind(vm.vfs, a.string(1))?.kind === 'dir');
      return 1;
    },
    fsize: fileSize,
  });
  // fs is io
  if (e.getglobal(L, 'io') === LUA_TTABLE) e.setglobal(L, 'fs');
  else e.pop(L, 1);
}
