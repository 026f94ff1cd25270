/**
 * fskv (luat_lib_fskv.c; luatos-api-2.md §9): a key-value store in its own flash area,
 * persisted across reboots and runs.
 *
 * - Before a successful `init()` every function except `next` logs `call fskv.init() first!!!`
 *   (E) and returns nothing. The module is also the global `fdb`, as in the firmware.
 * - `set(k, v)` stores one type byte plus data: boolean 1 (1 byte), integer 21 (the native
 *   lua_Integer, little endian: 8 bytes on wasmoon, 4 on fengari; both widths are read back),
 *   float 3 (`pack ">f"`: float32 big endian, precision lost), string 4 (raw bytes), table 5
 *   (`json.encode`). nil/function/userdata/thread → false (W `function/userdata/nil/thread
 *   isn't allow`); more than 4096 bytes in all → false (E `value too big N max 4096`); a key of 0 or more than 63 bytes → false (the PC port's name limit); the area full →
 *   false.
 * - `get(k, skey?)` → value, or nothing for a missing key; tables are json-decoded and a
 *   non-empty `skey` (a string) indexes the result; an unknown type byte → nil (W `bad value
 *   prefix XX`).
 * - `sett(k, skey, v)`: loads k (a new `{}` when missing or not a table), sets `[skey] = v` (nil
 *   deletes), stores it: set's result. Fewer than 3 arguments → nothing (D `require key skey
 *   value`).
 * - `del(k)` → true when the key existed; `clear()`/`clr()` → true; `iter()` → iterator,
 *   `next(it)` → the next key or nothing (keys in the order they were first written);
 *   `status()`/`stat()` → used, total, count.
 * - Aliases kvdb_init, kv_set, kv_get, kv_del, kv_clr, kv_stat, kv_iter, kv_next.
 *
 * Storage: the firmware's area is a 64 KiB littlefs image with 4 KiB blocks. Here it is a
 * JSON file (hex bytes per key) in the device's state folder: `<state>/fskv.json` beside
 * the file system folder when that folder is called `fs` (the CLI layout
 * `.luatos-state/<name>/fs`), otherwise `<data dir>/.fskv.json` (visible to io there: a
 * known difference). Usage is modelled, not littlefs's block count: 2 blocks of directory
 * plus, per key, its name, its data and 16 bytes of metadata; total 65536.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LuaError, LUA_OK, LUA_TBOOLEAN, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE } from '../runtime/core/engine/types';
import type { Args } from '../runtime/core/vm/lua-value';
import type { Vm } from '../runtime/core/vm/vm';
import { pushInt64, pushSavedGlobal, saveStdlib } from './shared/zbuff';
import { checkInt64 } from './shared/zbuff';

export const FSKV_TOTAL = 65536;
export const FSKV_MAX_VALUE = 4096;
export const FSKV_MAX_KEY = 63;
const FSKV_BASE_USED = 2 * 4096;
const ENTRY_OVERHEAD = 16;
const ITER_TYPE = 'fskv_iter*';

/** Where a device's fskv image lives on the host. */
export function fskvPath(dataDir: string): string {
  if (path.basename(dataDir) === 'fs') return path.join(path.dirname(dataDir), 'fskv.json');
  return path.join(dataDir, '.fskv.json');
}

export class FskvStore {
  /** key (latin1 of the bytes) → stored bytes (type byte + payload), in write order */
  readonly map = new Map<string, Buffer>();
  constructor(private readonly file: string) {}

  load(): void {
    let text: string;
    try {
      // the image holds at most 64 KiB of data (hex-doubled plus JSON): anything far larger
      // is not ours and reads as empty
      if (fs.statSync(this.file).size > 1024 * 1024) return;
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return; // no image yet
    }
    try {
      const list = JSON.parse(text) as unknown;
      if (!Array.isArray(list)) return;
      for (const ent of list) {
        if (!Array.isArray(ent) || typeof ent[0] !== 'string' || typeof ent[1] !== 'string') continue;
        const k = Buffer.from(ent[0], 'hex');
        const v = Buffer.from(ent[1], 'hex');
        if (k.length < 1 || k.length > FSKV_MAX_KEY || v.length > FSKV_MAX_VALUE + 1) continue;
        this.map.set(k.toString('latin1'), v);
        if (this.used() > FSKV_TOTAL) {
          this.map.delete(k.toString('latin1'));
          break;
        }
      }
    } catch {
      // a damaged image reads as empty, like a littlefs that fails to mount and is formatted
    }
  }

  save(): void {
    const list = [...this.map].map(([k, v]) => [Buffer.from(k, 'latin1').toString('hex'), v.toString('hex')]);
    const tmp = this.file + '.tmp';
    try {
      fs.writeFileSync(tmp, JSON.stringify(list));
      fs.renameSync(tmp, this.file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  }

  used(extraKey?: string, extra?: Buffer): number {
    let u = FSKV_BASE_USED;
    for (const [k, v] of this.map) {
      if (k === extraKey) continue;
      u += k.length + v.length + ENTRY_OVERHEAD;
    }
    if (extraKey !== undefined && extra) u += extraKey.length + extra.length + ENTRY_OVERHEAD;
    return u;
  }
}

/** One VM's fskv: the VM and its store (null until fskv.init()). */
interface FskvCtx {
  vm: Vm;
  e: Vm['e'];
  store: FskvStore | null;
}

/** the stored bytes of the value at index i, or null when its type cannot be stored */
function encodeValue(ctx: FskvCtx, a: Args, i: number): Buffer | null {
  const { vm, e } = ctx;
  const L = a.L;
  switch (e.type(L, i)) {
    case LUA_TBOOLEAN:
      return Buffer.from([1, e.toboolean(L, i) ? 1 : 0]);
    case LUA_TNUMBER: {
      if (e.isinteger(L, i)) {
        const size = e.integerBits === 32 ? 4 : 8;
        const b = Buffer.alloc(1 + size);
        b[0] = 21;
        if (size === 4) b.writeInt32LE(a.integer(i), 1);
        else b.writeBigInt64LE(BigInt.asIntN(64, checkInt64(a, i)), 1);
        return b;
      }
      const b = Buffer.alloc(5);
      b[0] = 3;
      b.writeFloatBE(a.number(i), 1);
      return b;
    }
    case LUA_TSTRING:
      return Buffer.concat([Buffer.from([4]), Buffer.from(a.bytes(i))]);
    case LUA_TTABLE: {
      const top = e.gettop(L);
      pushSavedGlobal(vm, L, 'json.encode');
      e.pushvalue(L, i);
      if (e.pcall(L, 1, 1, 0) !== LUA_OK || e.type(L, -1) !== LUA_TSTRING) {
        e.settop(L, top);
        return null;
      }
      const s = Buffer.from(e.tobytes(L, -1) as Uint8Array);
      e.settop(L, top);
      return Buffer.concat([Buffer.from([5]), s]);
    }
  }
  return null;
}

/** push a stored value; returns the number of values pushed */
function decodeValue(ctx: FskvCtx, a: Args, v: Buffer): number {
  const { vm, e } = ctx;
  const L = a.L;
  const p = v.subarray(1);
  switch (v[0]) {
    case 1:
      e.pushboolean(L, p[0] !== 0);
      return 1;
    case 21:
      if (p.length >= 8) pushInt64(vm, L, p.readBigInt64LE(0));
      else if (p.length >= 4) e.pushinteger(L, p.readInt32LE(0));
      else e.pushinteger(L, 0);
      return 1;
    case 3:
      e.pushnumber(L, p.length >= 4 ? p.readFloatBE(0) : 0);
      return 1;
    case 4:
      e.pushbytes(L, p);
      return 1;
    case 5: {
      pushSavedGlobal(vm, L, 'json.decode');
      e.pushbytes(L, p);
      e.call(L, 1, 1);
      return 1;
    }
  }
  vm.log('W', 'fskv', `bad value prefix ${v[0].toString(16).toUpperCase().padStart(2, '0')}`);
  e.pushnil(L);
  return 1;
}

function keyOf(a: Args, i: number): string {
  return Buffer.from(a.bytes(i)).toString('latin1');
}

/** fskv.set's checks and log lines, then the write */
function setChecked(ctx: FskvCtx, a: Args, k: string, vi: number): boolean {
  const { vm, e } = ctx;
  const t = e.type(a.L, vi);
  if (t !== LUA_TBOOLEAN && t !== LUA_TNUMBER && t !== LUA_TSTRING && t !== LUA_TTABLE) {
    vm.log('W', 'fskv', "function/userdata/nil/thread isn't allow");
    return false;
  }
  const v = encodeValue(ctx, a, vi);
  if (!v) {
    vm.log('W', 'fskv', 'json.encode(val) report error');
    return false;
  }
  if (v.length > FSKV_MAX_VALUE) {
    vm.log('E', 'fskv', `value too big ${v.length} max ${FSKV_MAX_VALUE}`);
    return false;
  }
  return setRaw(ctx, k, v);
}

function setRaw(ctx: FskvCtx, k: string, v: Buffer | null): boolean {
  const { store } = ctx;
  if (!store || !v) return false;
  if (k.length < 1 || k.length > FSKV_MAX_KEY) return false;
  if (v.length > FSKV_MAX_VALUE) return false;
  if (store.used(k, v) > FSKV_TOTAL) return false;
  const old = store.map.get(k);
  store.map.set(k, v);
  try {
    store.save();
  } catch (err) {
    // the host refused the write: keep the store as it is on disk
    if (old) store.map.set(k, old);
    else store.map.delete(k);
    ctx.vm.log('E', 'fskv', `write failed: ${(err as Error).message}`);
    return false;
  }
  return true;
}

/** the firmware's answer before init(): an error line and no value */
function notInit(ctx: FskvCtx, msg = 'call fskv.init() first!!!'): number {
  ctx.vm.log('E', 'fskv', msg);
  return 0;
}

/** write the image; false (after an error line) when the host refuses */
function persist(ctx: FskvCtx): boolean {
  try {
    ctx.store?.save();
    return true;
  } catch (err) {
    ctx.vm.log('E', 'fskv', `write failed: ${(err as Error).message}`);
    return false;
  }
}

function pushBool(ctx: FskvCtx, a: Args, b: boolean): number {
  ctx.e.pushboolean(a.L, b);
  return 1;
}

type Fns = Record<string, (a: Args) => number>;

/** init, set, sett, del, clear */
function writeMethods(ctx: FskvCtx): Fns {
  const { vm, e } = ctx;
  return {
    init: (a) => {
      if (!ctx.store) {
        const s = new FskvStore(fskvPath(vm.vfs.dataDir));
        s.load();
        ctx.store = s;
      }
      return pushBool(ctx, a, true);
    },
    set: (a) => {
      if (!ctx.store) return notInit(ctx);
      const k = keyOf(a, 1);
      return pushBool(ctx, a, setChecked(ctx, a, k, 2));
    },
    sett: (a) => {
      const store = ctx.store;
      if (!store) return notInit(ctx);
      const k = keyOf(a, 1);
      const skey = a.string(2);
      if (a.count < 3) {
        vm.log('D', 'fskv', 'require key skey value');
        return 0;
      }
      const v = store.map.get(k);
      let table = false;
      if (v && v.length >= 2 && v[0] === 5) {
        decodeValue(ctx, a, v);
        table = e.type(a.L, -1) === LUA_TTABLE;
        if (!table) e.pop(a.L, 1);
      }
      if (!table) e.createtable(a.L, 0, 1);
      const t = e.gettop(a.L);
      e.pushvalue(a.L, 3);
      e.setfield(a.L, t, skey);
      return pushBool(ctx, a, setChecked(ctx, a, k, t));
    },
    del: (a) => {
      const store = ctx.store;
      if (!store) return notInit(ctx);
      const k = keyOf(a, 1);
      const old = store.map.get(k);
      if (!old) return pushBool(ctx, a, false);
      store.map.delete(k);
      if (!persist(ctx)) {
        store.map.set(k, old);
        return pushBool(ctx, a, false);
      }
      return pushBool(ctx, a, true);
    },
    clear: (a) => {
      const store = ctx.store;
      if (!store) return notInit(ctx);
      const before = [...store.map];
      store.map.clear();
      if (!persist(ctx)) {
        for (const [k, v] of before) store.map.set(k, v);
        return pushBool(ctx, a, false);
      }
      return pushBool(ctx, a, true);
    },
  };
}

/** get, iter, next, status */
function readMethods(ctx: FskvCtx): Fns {
  const { vm, e } = ctx;
  return {
    get: (a) => {
      const store = ctx.store;
      if (!store) return notInit(ctx);
      const k = keyOf(a, 1);
      const skey = a.optString(2, '');
      const v = store.map.get(k);
      if (!v || v.length < 2) return 0;
      e.settop(a.L, 2);
      decodeValue(ctx, a, v);
      if (v[0] === 5 && skey.length > 0) {
        if (e.type(a.L, -1) !== LUA_TTABLE) return 1;
        e.getfield(a.L, -1, skey);
      }
      return 1;
    },
    iter: (a) => {
      if (!ctx.store) return notInit(ctx, 'call fskv.init first!!!');
      e.newhostobject(a.L, vm.addHostObject({ offset: 0 }), ITER_TYPE);
      return 1;
    },
    next: (a) => {
      const id = e.tohostobject(a.L, 1, ITER_TYPE);
      if (id === null) a.typeError(1, ITER_TYPE);
      const it = vm.getHostObject<{ offset: number }>(id);
      const store = ctx.store;
      if (!it || !store) return 0;
      const keys = [...store.map.keys()];
      if (it.offset >= keys.length) return 0;
      e.pushbytes(a.L, Buffer.from(keys[it.offset++], 'latin1'));
      return 1;
    },
    status: (a) => {
      const store = ctx.store;
      if (!store) return notInit(ctx);
      e.pushinteger(a.L, store.used());
      e.pushinteger(a.L, FSKV_TOTAL);
      e.pushinteger(a.L, store.map.size);
      return 3;
    },
  };
}

/** the iterator's metatable: its host object goes with it */
function installIterMeta(ctx: FskvCtx): void {
  const { vm, e } = ctx;
  e.newmetatable(vm.L, ITER_TYPE);
  vm.pushBinding('__gc', (a) => {
    const id = e.tohostobject(a.L, 1, ITER_TYPE);
    if (id !== null) vm.removeHostObject(id);
    return 0;
  });
  e.setfield(vm.L, -2, '__gc');
  e.pop(vm.L, 1);
}

// aliases are the same functions, as in the firmware's table
const ALIASES: [string, string][] = [
  ['clr', 'clear'], ['stat', 'status'], ['kvdb_init', 'init'], ['kv_set', 'set'], ['kv_get', 'get'], ['kv_del', 'del'],
  ['kv_clr', 'clear'], ['kv_stat', 'status'], ['kv_iter', 'iter'], ['kv_next', 'next'],
];

export function openFskv(vm: Vm): void {
  const { e } = vm;
  saveStdlib(vm, ['json.encode', 'json.decode']);
  const ctx: FskvCtx = { vm, e, store: null };
  const w = writeMethods(ctx);
  const r = readMethods(ctx);
  // the module table, its keys in the order they are defined (iteration order unchanged)
  const fns: Fns = { init: w.init, set: w.set, get: r.get, sett: w.sett, del: w.del, clear: w.clear, iter: r.iter, next: r.next, status: r.status };
  installIterMeta(ctx);
  vm.defineModule('fskv', fns);
  e.getglobal(vm.L, 'fskv');
  for (const [alias, name] of ALIASES) {
    e.getfield(vm.L, -1, name);
    e.setfield(vm.L, -2, alias);
  }
  // the firmware also opens it as the global `fdb` (the fdb-compatible API)
  e.setglobal(vm.L, 'fdb');
  void LuaError;
}
