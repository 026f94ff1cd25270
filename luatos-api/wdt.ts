/**
 * wdt: the hardware watchdog. `wdt.init(ms)` arms it; if `wdt.feed()` is not called within
 * `ms`, the device reboots (logged as a watchdog reset). All calls return true.
 */
import type { Vm } from '../runtime/core/vm/vm';

export function openWdt(vm: Vm): void {
  const { e } = vm;
  const ok = (a: { L: Parameters<typeof e.pushboolean>[0] }) => {
    e.pushboolean(a.L, true);
    return 1;
  };
  vm.defineModule('wdt', {
    init: (a) => {
      vm.device.wdtInit(a.integer(1));
      return ok(a);
    },
    setTimeout: (a) => {
      vm.device.wdtInit(a.integer(1));
      return ok(a);
    },
    feed: (a) => {
      vm.device.wdtFeed();
      return ok(a);
    },
    close: (a) => {
      vm.device.stopWdt();
      return ok(a);
    },
  });
}
