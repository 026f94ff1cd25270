/**
 * rtos (luatos-api.md §5): the message loop (`receive`), timers, reboot, identity and memory.
 *
 * - `receive(timeout)` yields the device's main thread to Node until a message is queued;
 *   timers return `MSG_TIMER, id, repeat` (repeat as it was before the decrement), a timeout
 *   returns -1.
 * - `timer_start(id, ms, repeat=0)` returns 1, or 0 when ms < 1.
 * - `meminfo("lua")` is the real Lua heap on wasmoon; on fengari an estimate (see
 *   runtime/lua/gc-estimate.lua). "sys" and "psram" are plausible figures from the profile.
 * - `reboot()` ends the VM at once and boots again from main.lua (or exits under --reboot exit).
 */
import { LuaError, LUA_TFUNCTION } from '../runtime/core/engine/types';
import type { Vm } from '../runtime/core/vm/vm';
import { INF_TIMEOUT, MSG_TIMER } from '../runtime/core/vm/vm';

export function openRtos(vm: Vm): void {
  const { e } = vm;
  let luaMax = 0;
  let sysMax = 0;

  const luaUsed = (L: Parameters<typeof e.gettop>[0]): number => {
    if (e.getglobal(L, 'collectgarbage') !== LUA_TFUNCTION) {
      e.pop(L, 1);
      return 0;
    }
    e.pushstring(L, 'count');
    e.call(L, 1, 1);
    const kb = e.tonumber(L, -1) ?? 0;
    e.pop(L, 1);
    return Math.round(kb * 1024);
  };

  vm.defineModule(
    'rtos',
    {
      receive: (a) => vm.receive(a.L, a.optInteger(1, INF_TIMEOUT)),
      timer_start: (a) => {
        const id = a.integer(1);
        const ms = a.integer(2);
        const rep = a.optInteger(3, 0);
        e.pushinteger(a.L, vm.timerStart(id, ms, rep) ? 1 : 0);
        return 1;
      },
      timer_stop: (a) => {
        vm.timerStop(a.integer(1));
        return 0;
      },
      reboot: (a) => {
        const code = a.isNoneOrNil(1) ? undefined : a.optInteger(1, 0);
        return vm.requestExit({ kind: 'reboot', code }, a.L);
      },
      version: (a) => {
        const p = vm.device.profile;
        const more = a.boolean(1);
        e.pushstring(a.L, p.version);
        if (more) {
          e.pushinteger(a.L, p.firmwareType);
          e.pushinteger(a.L, e.integerBits === 32 ? 32 : 64);
          return 3;
        }
        return 1;
      },
      bsp: (a) => {
        e.pushstring(a.L, vm.device.profile.bsp);
        return 1;
      },
      buildDate: (a) => {
        e.pushstring(a.L, vm.device.profile.buildDate);
        return 1;
      },
      firmware: (a) => {
        const p = vm.device.profile;
        e.pushstring(a.L, `LuatOS-SoC_${p.version}_${p.bsp}`);
        return 1;
      },
      meminfo: (a) => {
        const kind = a.optString(1, 'lua');
        const m = vm.device.profile.memory;
        let total: number;
        let used: number;
        let max: number;
        if (kind === 'sys') {
          total = m.sys;
          used = Math.min(total, m.sysUsed + Math.floor(vm.activeTimers * 64));
          sysMax = Math.max(sysMax, used);
          max = sysMax;
        } else if (kind === 'psram') {
          total = m.psram;
          used = m.psramUsed;
          max = used;
        } else {
          total = m.lua;
          used = luaUsed(a.L);
          luaMax = Math.max(luaMax, used);
          max = luaMax;
        }
        e.pushinteger(a.L, total);
        e.pushinteger(a.L, used);
        e.pushinteger(a.L, max);
        return 3;
      },
      setPaths: (a) => {
        const paths: string[] = [];
        for (let i = 1; i <= 4; i++) {
          if (a.isNoneOrNil(i)) continue;
          const t = a.string(i);
          if (Buffer.byteLength(t) > 23 || t.split('%s').length !== 2) {
            throw new LuaError(`bad path template '${t}': at most 23 bytes with exactly one %s`);
          }
          paths.push(t);
        }
        vm.customPaths = paths;
        return 0;
      },
      nop: () => 0,
      standy: () => 0,
      autoCollectMem: () => 0,
    },
    { INF_TIMEOUT, MSG_TIMER },
  );
}
