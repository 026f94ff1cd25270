/**
 * pm: power management (luat_lib_pm.c). Nothing sleeps on a PC; the calls answer like a device
 * that accepted them.
 *
 * - `request(mode)` → true for modes pm.NONE..pm.HIB (0..4), false otherwise (like the EC618
 *   port's range check). `force(mode)` → 0. `check()` → true, 0.
 * - `reboot()` is rtos.reboot (same exit path: the VM ends and the device boots again).
 * - `shutdown()` powers the simulated device off: logs `I/pm shutdown`, ends the VM and stops
 *   the device for good (no reboot).
 * - `lastReson()` → 3 integers as the firmware: (rtcOrPad, lastState, powerOnReason) =
 *   `0, 0, 0` on the first boot (power on); after a reboot of this device the third value is
 *   3 ("software restart"). Which exit caused the reboot is not distinguished (choice).
 * - `dtimerStart(id, ms)` → true (no wake-up ever happens: the device never sleeps),
 *   `dtimerStop(id)`, `dtimerCheck(id)` → false, `dtimerList()` → {}, `dtimerWkId()` → -1,
 *   `power(id, on)` → true, `ioVol(id, mv)` → true, `wakeupPin(...)` → true.
 * - Constants: NONE 0, IDLE 1, LIGHT 2, DEEP 3, HIB 4; USB 0, GPS 1, GPS_ANT 2, CAMERA 3,
 *   DAC_EN 4, LDO_CTL 4, PWK_MODE 5, WORK_MODE 6; IOVOL_ALL_GPIO 0.
 */
import type { Vm } from '../runtime/core/vm/vm';

export const PM_NONE = 0;
export const PM_HIB = 4;

export function openPm(vm: Vm): void {
  const { e } = vm;
  vm.defineModule(
    'pm',
    {
      request: (a) => {
        const mode = a.integer(1);
        e.pushboolean(a.L, mode >= PM_NONE && mode <= PM_HIB);
        return 1;
      },
      force: (a) => {
        a.integer(1);
        e.pushinteger(a.L, 0);
        return 1;
      },
      check: (a) => {
        e.pushboolean(a.L, true);
        e.pushinteger(a.L, 0);
        return 2;
      },
      reboot: (a) => {
        const code = a.isNoneOrNil(1) ? undefined : a.optInteger(1, 0);
        return vm.requestExit({ kind: 'reboot', code }, a.L);
      },
      shutdown: (a) => {
        vm.log('I', 'pm', 'shutdown');
        const device = vm.device;
        // after the VM has unwound: power off for good
        setImmediate(() => device.stop({ kind: 'stopped', exit: { kind: 'stopped', message: 'pm.shutdown' } }));
        return vm.requestExit({ kind: 'stopped', message: 'pm.shutdown' }, a.L);
      },
      lastReson: (a) => {
        e.pushinteger(a.L, 0);
        e.pushinteger(a.L, 0);
        e.pushinteger(a.L, vm.bootNo > 1 ? 3 : 0);
        return 3;
      },
      dtimerStart: (a) => {
        a.integer(1);
        a.integer(2);
        e.pushboolean(a.L, true);
        return 1;
      },
      dtimerStop: (a) => {
        a.integer(1);
        return 0;
      },
      dtimerCheck: (a) => {
        a.integer(1);
        e.pushboolean(a.L, false);
        return 1;
      },
      dtimerList: (a) => {
        e.createtable(a.L, 0, 0);
        return 1;
      },
      dtimerWkId: (a) => {
        e.pushinteger(a.L, -1);
        return 1;
      },
      power: (a) => {
        a.integer(1);
        e.pushboolean(a.L, true);
        return 1;
      },
      ioVol: (a) => {
        e.pushboolean(a.L, true);
        return 1;
      },
      wakeupPin: (a) => {
        e.pushboolean(a.L, true);
        return 1;
      },
    },
    {
      NONE: 0,
      IDLE: 1,
      LIGHT: 2,
      DEEP: 3,
      HIB: 4,
      USB: 0,
      GPS: 1,
      GPS_ANT: 2,
      CAMERA: 3,
      DAC_EN: 4,
      LDO_CTL: 4,
      PWK_MODE: 5,
      WORK_MODE: 6,
      IOVOL_ALL_GPIO: 0,
    },
  );
}
