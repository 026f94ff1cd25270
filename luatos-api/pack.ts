/**
 * pack: lpack as the firmware has it (luat_lib_pack.c; luatos-api-2.md §10). The codec is
 * luatos-api/shared/lpack.ts.
 *
 * - `pack.pack(fmt, ...)` → string.
 * - `pack.unpack(data, fmt, init=1)` → `next_pos, v1, ...` (stops silently when data runs out).
 * - Strings only, as in the firmware (luaL_checklstring): a zbuff raises "string expected";
 *   zbuff has its own `buff:pack` / `buff:unpack` with the same codes.
 */
import type { Vm } from '../runtime/core/vm/vm';
import { lpackPack, lpackUnpack } from './shared/lpack';

export function openPack(vm: Vm): void {
  const { e } = vm;
  vm.defineModule('pack', {
    pack: (a) => {
      const fmt = a.string(1);
      e.pushbytes(a.L, lpackPack(vm, a, fmt, 2));
      return 1;
    },
    unpack: (a) => {
      const data = a.bytes(1);
      const fmt = a.string(2);
      const init = a.optInteger(3, 1);
      return lpackUnpack(vm, a, data, fmt, init);
    },
  });
}
