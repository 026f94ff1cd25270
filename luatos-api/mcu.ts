/**
 * mcu: ticks and identity (luatos-api.md §14). `ticks()` are ms since boot in the 32-bit
 * range (they wrap negative like the device's), `hz()` is 1000, `tick64()` gives 8 raw
 * little-endian bytes of µs since boot plus the ticks-per-µs (1), `unique_id()` is a stable
 * 16-byte id derived from the device name (or the profile's `uniqueId` hex).
 * `muid()` is hmeta.muid (uppercase hex of the unique id, ≤ 32 chars). `hardfault(mode=0)`
 * (0 halt, 1 reboot, 2 report then reboot, 3 write to flash then reboot) only sets what the
 * next crash would do; like the PC simulator it is a no-op here and returns nothing (the mode is
 * still checked as an integer).
 */
import { createHash } from 'node:crypto';
import type { BindingFn, Vm } from '../runtime/core/vm/vm';

export function uniqueId(vm: Vm): Buffer {
  const p = vm.device.profile;
  if (p.uniqueId && /^[0-9a-fA-F]+$/.test(p.uniqueId)) return Buffer.from(p.uniqueId, 'hex');
  return createHash('md5').update('luatos-pc:' + p.name).digest();
}

/** mcu.muid / hmeta.muid: uppercase hex of the unique id, at most 32 characters. */
export function muid(vm: Vm): string {
  return uniqueId(vm).toString('hex').toUpperCase().slice(0, 32);
}

/** `unique_id()` and `muid()`, the same in mcu and hmeta. */
export function idBindings(vm: Vm): Record<'unique_id' | 'muid', BindingFn> {
  const { e } = vm;
  return {
    unique_id: (a) => {
      e.pushbytes(a.L, uniqueId(vm));
      return 1;
    },
    muid: (a) => {
      e.pushstring(a.L, muid(vm));
      return 1;
    },
  };
}

export function openMcu(vm: Vm): void {
  const { e } = vm;
  vm.defineModule('mcu', {
    ticks: (a) => {
      e.pushinteger(a.L, Math.floor(vm.uptime()) | 0);
      return 1;
    },
    hz: (a) => {
      e.pushinteger(a.L, 1000);
      return 1;
    },
    tick64: (a) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(Math.floor(vm.uptime() * 1000)));
      e.pushbytes(a.L, b);
      e.pushinteger(a.L, 1);
      return 2;
    },
    ticks2: (a) => {
      const us = Math.floor(vm.uptime() * 1000);
      e.pushinteger(a.L, Math.floor(us / 1e6));
      e.pushinteger(a.L, us % 1e6);
      return 2;
    },
    ...idBindings(vm),
    hardfault: (a) => {
      a.optInteger(1, 0);
      return 0;
    },
    getClk: (a) => {
      e.pushinteger(a.L, 120);
      return 1;
    },
    setClk: (a) => {
      e.pushboolean(a.L, true);
      return 1;
    },
  });
}
