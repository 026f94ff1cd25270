/**
 * fastlz (luat_lib_fastlz.c): codec in luatos-api/shared/fastlz.ts.
 *
 * - `fastlz.compress(data, level=1)` → string, or nothing (empty input, level not 1 or 2).
 * - `fastlz.uncompress(data, maxout=4096)` → string, or nothing (corrupt data, result larger
 *   than maxout, empty result). `maxout` beyond the device's free memory raises "not enough
 *   memory" as luaL_buffinitsize does.
 */
import { LuaError } from '../runtime/core/engine/types';
import type { Vm } from '../runtime/core/vm/vm';
import { fastlzCompress, fastlzDecompress } from './shared/fastlz';

export function openFastlz(vm: Vm): void {
  const { e } = vm;
  vm.defineModule('fastlz', {
    compress: (a) => {
      const data = a.bytes(1);
      const level = a.optInteger(2, 1);
      const r = fastlzCompress(data, level);
      if (!r || r.length === 0) return 0;
      e.pushbytes(a.L, r);
      return 1;
    },
    uncompress: (a) => {
      const data = a.bytes(1);
      const maxout = a.optInteger(2, 4096);
      if (maxout > vm.device.profile.memory.psram) throw new LuaError('not enough memory');
      const r = fastlzDecompress(data, maxout);
      if (!r) return 0;
      e.pushbytes(a.L, r);
      return 1;
    },
  });
}
