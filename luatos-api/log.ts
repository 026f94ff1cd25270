/**
 * log: `log.debug/info/warn/error/fatal(tag, ...)`, `setLevel`, `getLevel`, `style`
 * (luatos-api.md §4). Output goes through the global `print`, so a line reads
 * `I/user.<tag> <args>` with the LuatOS tostring rules. A nil, boolean or table tag prints as
 * `(null)`; numbers are converted as lua_tostring does. `log.setLevel` with anything but an
 * integer or DEBUG/INFO/WARN/ERROR/SILENT silences everything (7), and it gates the firmware's
 * own lines too.
 */
import { LUA_TNUMBER, LUA_TSTRING } from '../runtime/core/engine/types';
import type { Vm } from '../runtime/core/vm/vm';
import type { Args } from '../runtime/core/vm/lua-value';

export const LOG_DEBUG = 1;
export const LOG_INFO = 2;
export const LOG_WARN = 3;
export const LOG_ERROR = 4;
export const LOG_SILENT = 7;

const LEVEL_NAMES: Record<string, number> = { SILENT: 7, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

export function openLog(vm: Vm): void {
  const { e } = vm;
  let style = 0;

  const emit = (letter: string, level: number) => (a: Args) => {
    if (vm.device.logLevel > level) return 0;
    const n = a.count;
    if (n === 0) return 0;
    const L = a.L;
    let tag: Buffer;
    const t = e.type(L, 1);
    if (t === LUA_TSTRING || t === LUA_TNUMBER) {
      e.pushvalue(L, 1);
      tag = Buffer.from(e.tobytes(L, -1) as Uint8Array);
      e.pop(L, 1);
    } else {
      tag = Buffer.from('(null)');
    }
    let where: Buffer | null = null;
    if (style !== 0) {
      e.getglobal(L, 'debug');
      e.getfield(L, -1, 'getinfo');
      e.pushinteger(L, 2);
      e.pushstring(L, 'Sl');
      e.call(L, 2, 1);
      let src = '?';
      let line = 0;
      if (e.type(L, -1) !== 0) {
        e.getfield(L, -1, 'source');
        src = (e.tostring(L, -1) ?? '?').slice(1);
        e.pop(L, 1);
        e.getfield(L, -1, 'currentline');
        line = e.tointeger(L, -1) ?? 0;
        e.pop(L, 1);
      }
      e.pop(L, 2);
      where = Buffer.from(`${src}:${line}`);
    }
    // print(prefix, [where], args...)
    e.getglobal(L, 'print');
    let nargs: number;
    if (style === 1) {
      e.pushbytes(L, Buffer.concat([Buffer.from(`${letter}/`), where as Buffer]));
      e.pushvalue(L, 1);
      nargs = 2;
    } else {
      e.pushbytes(L, Buffer.concat([Buffer.from(`${letter}/user.`), tag]));
      nargs = 1;
      if (style === 2) {
        e.pushbytes(L, where as Buffer);
        nargs++;
      }
    }
    for (let i = 2; i <= n; i++) {
      e.pushvalue(L, i);
      nargs++;
    }
    // the print inside log.* is not the script's own print (--coverage)
    const cov = vm.device.coverage;
    if (cov) cov.printDepth++;
    try {
      e.call(L, nargs, 0);
    } finally {
      if (cov) cov.printDepth--;
    }
    return 0;
  };

  vm.defineModule(
    'log',
    {
      debug: emit('D', LOG_DEBUG),
      info: emit('I', LOG_INFO),
      warn: emit('W', LOG_WARN),
      error: emit('E', LOG_ERROR),
      fatal: emit('E', LOG_ERROR),
      setLevel: (a) => {
        let lv = LOG_SILENT;
        if (e.type(a.L, 1) === LUA_TNUMBER && e.isinteger(a.L, 1)) {
          const v = e.tointeger(a.L, 1) as number;
          lv = v >= 1 && v <= 7 ? v : LOG_SILENT;
        } else if (e.type(a.L, 1) === LUA_TSTRING) {
          lv = LEVEL_NAMES[e.tostring(a.L, 1) as string] ?? LOG_SILENT;
        }
        vm.device.logLevel = lv;
        return 0;
      },
      getLevel: (a) => {
        e.pushinteger(a.L, vm.device.logLevel);
        return 1;
      },
      style: (a) => {
        if (!a.isNoneOrNil(1) && e.isinteger(a.L, 1)) style = e.tointeger(a.L, 1) as number;
        e.pushinteger(a.L, style);
        return 1;
      },
    },
    { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_SILENT },
  );
}
