/**
 * hmeta (components/hmeta/luat_lib_hmeta.c), luatos-api-2.md §21: hardware metadata from the
 * device profile.
 * - `model()` → profile `model`, else the profile's bsp name (e.g. "Air8101"); the PC
 *   simulator says "PC".
 * - `chip()` → profile `chipId`, else nil (the firmware returns nil where unsupported).
 * - `hwver()` → profile `hwVersion`, else nil.
 * - `unique_id()` = mcu.unique_id(); `muid()` = its uppercase hex, at most 32 characters.
 * - `devid()` = the mobile IMEI (as mobile.imei(), the PC simulator's choice).
 */
import type { Vm } from '../runtime/core/vm/vm';
import { idBindings } from './mcu';
import { deriveImei } from './mobile';

export function openHmeta(vm: Vm): void {
  const { e } = vm;
  const p = vm.device.profile;
  const opt = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
  const pushOpt = (L: Parameters<typeof e.pushstring>[0], v: string | null) => {
    if (v === null) {
      e.pushnil(L);
      return 1;
    }
    e.pushstring(L, v);
    return 1;
  };
  vm.defineModule('hmeta', {
    model: (a) => pushOpt(a.L, opt(p.model) ?? opt(p.bsp)),
    chip: (a) => pushOpt(a.L, opt(p.chipId)),
    hwver: (a) => pushOpt(a.L, opt(p.hwVersion)),
    ...idBindings(vm),
    devid: (a) => {
      e.pushstring(a.L, p.imei && /^\d{15}$/.test(p.imei) ? p.imei : deriveImei(p.name));
      return 1;
    },
  });
}
