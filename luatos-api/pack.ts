/**
 * pack: lpack as the firmware has it (luat_lib_pack.c; luatos-api-2.md §10). The codec is
 * luatos-api/shared/lpack.ts.
 *
 * - `pack.pack(fmt, ...)` → string.
 * - `pack.unpack(data, fmt, init=1)` → `next_pos, v1, ...` (stops silently when data runs out).
 *   `data` may be a zbuff: its bytes [0, used) are read (unsure whether the firmware reads
 *   `used` or `len`; `used` is the choice here, as zbuff:query does).
 * - `pack.pack` has no zbuff form (use `buff:pack`).
 */
import type { Vm } from '../runtime/vm';
import { getZbuff } from '../runtime/zbuff';
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
      const z = getZbuff(vm, a.L, 1);
      const data = z ? z.data.subarray(0, z.used) : a.bytes(1);
      const fmt = a.string(2);
      const init = a.optInteger(3, 1);
      return lpackUnpack(vm, a, data, fmt, init);
    },
  });
}
