/**
 * `--board pc`: the official LuatOS PC simulator (`bsp/pc`, luatos-api-2.md §25), so that the
 * scripts written for it (they wait for IP_READY from its Ethernet-like adapter and end with
 * `os.exit(code)`) run here with the same exit codes.
 *
 * What the board brings:
 * - Profile: `rtos.bsp()` "PC", banner `I/main LuatOS@PC base 26.04 bsp V2035 <n>bit`, VM-exit
 *   delay 1000 ms (`E/main Lua VM exit!! reboot in 1000ms`).
 * - Log lines in the simulator's form (`luatos run` terminal and `--log-file`):
 *   `[2026-08-03 18:42:52.123][00000001.503] I/user.main hello 1` (runtime/core/log.ts, style pc).
 *   The scenario runner keeps the Luatools form for its reports.
 * - Network: the "posix" host-socket adapter at index 17 (runtime/net/posix-adapter.ts), the
 *   default adapter (`socket.dft()` → 17, 17); IP_READY(host IPv4, 17) 500 ms after start;
 *   `socket.ETH0` is 17 (the simulator's firmware numbers USB 16, ETH0 17). The Wi-Fi mock
 *   (`wlan.connect` → IP_READY(ip, 2)) stays as on the Air8101.
 * - Exits instead of reboots (`device.exitOnReset`): `os.exit(code)` and `rtos.reboot(code)`
 *   end the run with `code`; a VM exit (main.lua returned, an uncaught task error) logs
 *   `Lua VM exit!! reboot in 1000ms` and ends it with 1 a second later.
 * - `os.exit([code [, close]])` as Lua 5.3's loslib: `true` → 0, `false` → 1, an integer →
 *   itself (as a C int), none/nil → 0; other values raise "number expected". It ends the run
 *   even inside pcall or a task. The CLI exits with the code's low 8 bits (POSIX).
 *   `os.execute`, `os.getenv`, `os.tmpname` of the simulator's desktop builds are NOT added:
 *   the sandbox keeps scripts away from the host.
 * - `os.setlocale([locale [, category]])` (the desktop builds have it; the Air8101 does not,
 *   luatos-api/base.ts removes it): Lua 5.3's loslib over a C library that has only the "C"
 *   locale (`pcSetlocale`). Choice: the simulator would use the host's locales; here the result
 *   must not depend on the host, so only "C", "POSIX" and "" (the environment's, taken as "C")
 *   are accepted and give "C"; any other name gives nil and changes nothing; a query (no
 *   locale) gives "C". Categories as loslib: all, collate, ctype, monetary, numeric, time.
 * - mobile stub as the simulator's `luat_mobile_pc.c`: `imei()` 15 digits starting "86228905"
 *   (6 digits from the MD5 of the unique id — our choice of digits — and a Luhn check digit);
 *   `iccid`, `imsi`, `number`, `apn` → nil; `csq`, `rssi`, `rsrp`, `status` → 0;
 *   `flymode()` → true.
 * - Mounts: `/ram/`, `/lfs2/` (512 KiB, formatted at boot) and `/luadb/` are the device file
 *   system's (runtime/core/fs/vfs.ts) on every board. Deviation: the simulator maps `/` to the host's
 *   current folder; here `/` stays the device's data folder (`--state`), so scripts never
 *   write into the folder the CLI runs in.
 *
 * Integers: the default simulator build is 32-bit (`LUA_32BITS`: int32 integers, float32
 * floats). `--engine fengari` has 32-bit integers (floats stay 64-bit); the default lua53
 * engine (and wasmoon) has 64-bit integers, like a simulator built with `VM_64bit=1`. The banner and
 * `rtos.version(true)` report the width the engine really has, so under lua53 and wasmoon they say
 * 64bit where the default simulator says 32bit.
 */
import { createHash } from 'node:crypto';
import { LUA_TBOOLEAN } from '../core/engine/types';
import { WifiNetwork } from '../net/model';
import { PosixAdapter, POSIX_ADAPTER_ID, posixOptionsFromProfile } from '../net/posix-adapter';
import { luhn } from '../net/luhn';
import { uniqueId } from '../../luatos-api/mcu';
import type { Device } from '../core/device';
import type { BindingFn, Vm } from '../core/vm/vm';
import type { Board } from './board';

/** The simulator's identity (LUAT_VERSION "26.04", PC BSP "V2035"; luatos-api-2.md §25). */
export const PC_PROFILE = {
  name: 'pc',
  bsp: 'PC',
  version: 'V2035',
  baseVersion: '26.04',
  buildDate: 'Aug  3 2026',
  exitRebootDelayMs: 1000,
};

/** IMEI prefix of the simulator's mobile stub */
export const PC_IMEI_PREFIX = '86228905';

/** The stub IMEI: prefix, 6 digits from MD5(unique id), Luhn digit. */
export function pcImei(uid: Buffer): string {
  const h = createHash('md5').update(uid).digest();
  let body = PC_IMEI_PREFIX;
  for (let i = 0; body.length < 14; i++) body += String(h[i] % 10);
  return body + luhn(body);
}

/** os.exit's status as Lua 5.3's loslib computes it (a C int). */
function exitStatus(a: Parameters<BindingFn>[0]): number {
  if (a.type(1) === LUA_TBOOLEAN) return a.boolean(1) ? 0 : 1;
  const n = a.optInteger(1, 0);
  let big = BigInt(n);
  if (!Number.isSafeInteger(n)) {
    // a 64-bit integer beyond 2^53 lost its low bits in the JS number: take its exact digits
    // (a float with an integral value has none to lose, and its text is not an integer)
    try {
      big = BigInt((a.e.tostring(a.L, 1) ?? '').trim());
    } catch {
      /* keep the number's value */
    }
  }
  return Number(BigInt.asIntN(32, big));
}

/** os.setlocale's categories, as Lua 5.3's loslib names them (luaL_checkoption, default "all"). */
const LOCALE_CATEGORIES = ['all', 'collate', 'ctype', 'monetary', 'numeric', 'time'];

/**
 * os.setlocale over a "C"-only C library (see the header): "C", "POSIX", "" → "C"; other names →
 * nil; no locale (nil/none) → the current one, "C". Argument errors as loslib's.
 */
export const pcSetlocale: BindingFn = (a) => {
  const locale = a.optString(1, null);
  if (!a.isNoneOrNil(2)) {
    const cat = a.string(2);
    if (!LOCALE_CATEGORIES.includes(cat)) a.argError(2, `invalid option '${cat}'`);
  }
  if (locale === null || locale === 'C' || locale === 'POSIX' || locale === '') a.e.pushstring(a.L, 'C');
  else a.e.pushnil(a.L);
  return 1;
};

/** The per-boot additions: os.exit, os.setlocale, socket.ETH0, the mobile stub. */
export function openPcExtras(vm: Vm): void {
  const { e } = vm;
  vm.defineModule('os', {
    exit: (a) => vm.requestExit({ kind: 'exit', code: exitStatus(a), message: 'os.exit' }, a.L),
    setlocale: pcSetlocale,
  });
  vm.defineModule('socket', {}, { ETH0: POSIX_ADAPTER_ID });
  const imei = pcImei(uniqueId(vm));
  const nil: BindingFn = (a) => {
    e.pushnil(a.L);
    return 1;
  };
  const zero: BindingFn = (a) => {
    e.pushinteger(a.L, 0);
    return 1;
  };
  vm.defineModule('mobile', {
    imei: (a) => {
      e.pushstring(a.L, imei);
      return 1;
    },
    iccid: nil,
    imsi: nil,
    number: nil,
    apn: nil,
    csq: zero,
    rssi: zero,
    rsrp: zero,
    status: zero,
    flymode: (a) => {
      e.pushboolean(a.L, true);
      return 1;
    },
  });
}

export const PC_BOARD: Board = {
  name: 'pc',
  description: 'the official LuatOS PC simulator: adapter 17 (IP_READY after 500 ms), os.exit(n) ends the run with n',
  profile: PC_PROFILE,
  logStyle: 'pc',
  validate(profile): void {
    posixOptionsFromProfile(profile);
  },
  setup(device: Device): void {
    device.exitOnReset = true;
    // the CLI and the scenario runner always build the Wi-Fi model; a device built with another
    // network (library tests) gets no posix adapter
    if (device.net instanceof WifiNetwork) {
      device.net.addAdapter(new PosixAdapter(posixOptionsFromProfile(device.profile)), { makeDefault: true });
    }
    device.bootHooks.push(openPcExtras);
  },
};
