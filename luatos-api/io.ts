/**
 * io / os file functions, dofile and loadfile on the device's sandboxed file system
 * (runtime/core/fs/vfs.ts via runtime/core/fs/sandbox.ts): `/luadb/` is the read-only script folder,
 * `/lua/` the runtime's bundled libraries (read-only), everything else the writable data
 * directory. No path reaches the host outside it (`..` stays inside the virtual tree,
 * symlinks leading out — including dangling ones and ones above a new file — are refused
 * with "Permission denied").
 *
 * base.ts removed the stock versions; this module adds the firmware's (lua/src/liolib.c):
 * - `io.open(path, mode="r")` → file | `nil, "<path>: <strerror>", errno` (mode: r/w/a then
 *   'b' and at most one '+' in any order — "wb+" as in the firmware docs — else "bad argument #2 to 'open' (invalid mode)"); writing under /luadb or
 *   /lua gives "Read-only file system" (30); a directory gives "Is a directory" (21).
 * - file methods: `read(...)` ("a", "l", "L", "n", a byte count; "*x" accepted; default "l";
 *   stops at the first failure with nil), `write(...)` → the file, `seek(whence="cur",
 *   off=0)` → position, `lines(...)`, `close()` → true, `flush()` → nothing (as the
 *   firmware), `setvbuf()` → true (stock only, harmless), `fill(zbuff, off, len)` → true, n.
 *   Read/write on a handle not opened for it → `nil, "Bad file descriptor", 9`. Using a closed
 *   file raises "attempt to use a closed file". The firmware dropped "n"; it is kept here.
 * - `io.lines(path, ...)` (missing file → error "cannot open file '<path>' (2)" as the
 *   firmware words it), `io.type(x)`.
 * - LuatOS extensions: `io.exists(path)` (regular files only), `io.fileSize(path)` (0 when
 *   missing), `io.readFile(path, mode="rb", offset=0, len)` (nothing when missing),
 *   `io.writeFile(path, data, mode="wb+")` → true, false when the data did not fit (the
 *   device sees the failed flush at fclose), nothing when the open fails, `io.mkdir/rmdir(path)`
 *   → `true, 0` | `false, -errno`, `io.lsdir(path, n=10 (max 100), offset=0)` → `true,
 *   {{name, size, type}}` (type io.FILE=0 / io.DIR=1; symlinks are not listed) | `false,
 *   -errno`, `io.lsmount()` → `{{path="/", fs="lfs2"}, {path="/luadb/", fs="luadb"}, {path="/ram/",
 *   fs="ram"}, {path="/lfs2/", fs="lfs2"}}`; io.fsstat/dexist/fsize and `fs` in luatos-api/fs.ts,
 *   `io.mkfs()` → `false, -1` (never formats the host directory).
 * - `os.remove(path)` (a file or an empty directory), `os.rename(from, to)` → true |
 *   `nil, "<path>: <strerror>", errno`.
 * - `loadfile(path, mode?, env?)` / `dofile(path)` (Lua, in boot.lua) read through the VFS; chunk names are
 *   `@<basename>`; a missing file gives "cannot open <path>: No such file or directory"; a
 *   binary chunk gives "<path>: attempt to load a binary chunk: ..." (runtime/core/fs/chunk.ts).
 * - Writes on `/` count against the profile's flash size; past it they fail with
 *   `nil, "No space left on device", 28` (runtime/core/fs/volume.ts).
 * - io.stdin/stdout/stderr are removed (the firmware has none; they would reach the host).
 * Open files are closed by `__gc` (wasmoon) and always when the VM ends.
 */
import * as path from 'node:path';
import { LuaError, LuaState, LUA_MULTRET, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, LUA_TUSERDATA } from '../runtime/core/engine/types';
import { Args } from '../runtime/core/vm/lua-value';
import type { Vm } from '../runtime/core/vm/vm';
import { asMethod, getZbuff, pushSavedGlobal, saveStdlib } from './shared/zbuff';
import {
  FsError,
  listDir,
  makeDir,
  openFile,
  readVfsFile,
  removeDir,
  removePath,
  renamePath,
  statKind,
  validMode,
  VFile,
} from '../runtime/core/fs/sandbox';
import { BINARY_CHUNK_MSG, isBinaryChunk } from '../runtime/core/fs/chunk';
import { openFs } from './fs';

/** Metatable key; `__name` is set to "FILE*" so messages read like stock Lua. */
export const FILE_TYPE = 'luatos.FILE*';

const MAX_NUMERAL = 200;

/** io.mkdir / io.rmdir results: `true, 0` or `false, -errno`. */
function dirResult(a: Args, op: () => void): number {
  let code = 0;
  try {
    op();
  } catch (err) {
    if (!(err instanceof FsError)) throw err;
    code = -err.errno;
  }
  a.e.pushboolean(a.L, code === 0);
  a.e.pushinteger(a.L, code);
  return 2;
}

export function openIo(vm: Vm): void {
  const { e, L } = vm;
  saveStdlib(vm, ['tonumber', 'load', 'debug.getinfo']);
  // a boot: the size of / from the profile, /ram/ emptied and /lfs2/ formatted
  const fsProfile = vm.device.profile.filesystem;
  if (fsProfile !== undefined) {
    try {
      vm.vfs.configure(fsProfile);
    } catch (err) {
      // a bad profile keeps the previous size and says why, once per boot
      vm.log('W', 'fs', (err as Error).message);
    }
  }
  vm.vfs.bootReset();
  const open = new Set<VFile>();
  vm.onClose(() => {
    for (const f of open) {
      try {
        f.close();
      } catch {
        /* ignore */
      }
    }
    open.clear();
  });

  const fileResult = (a: Args, ok: boolean, err: FsError | null, fname: string | null): number => {
    if (ok) {
      e.pushboolean(a.L, true);
      return 1;
    }
    const fe = err ?? new FsError('EIO');
    e.pushnil(a.L);
    e.pushstring(a.L, fname !== null ? `${fname}: ${fe.message}` : fe.message);
    e.pushinteger(a.L, fe.errno);
    return 3;
  };

  const pushFile = (Lx: LuaState, f: VFile) => {
    open.add(f);
    e.newhostobject(Lx, vm.addHostObject(f), FILE_TYPE);
  };
  const toStream = (a: Args, i = 1): VFile => {
    const id = e.tohostobject(a.L, i, FILE_TYPE);
    const f = id === null ? undefined : vm.getHostObject<VFile>(id);
    if (!f) a.typeError(i, 'FILE*');
    return f;
  };
  const toFile = (a: Args): VFile => {
    const f = toStream(a);
    if (f.closed) throw new LuaError('attempt to use a closed file');
    return f;
  };
  const closeFile = (f: VFile) => {
    try {
      f.close();
    } finally {
      open.delete(f);
    }
  };

  /** the stock read_number on a byte stream; pushes the number or nil, returns success */
  const readNumber = (Lx: LuaState, f: VFile): boolean => {
    let off = f.pos;
    let chunkStart = off;
    let chunk = f.readAt(off, 4096);
    const cur = (): number => {
      let i = off - chunkStart;
      if (i >= chunk.length) {
        if (chunk.length === 0) return -1;
        chunkStart = off;
        chunk = f.readAt(off, 4096);
        i = 0;
        if (chunk.length === 0) return -1;
      }
      return chunk[i];
    };
    let buf = '';
    let overflow = false;
    const nextc = (): boolean => {
      if (buf.length >= MAX_NUMERAL) {
        overflow = true;
        return false;
      }
      buf += String.fromCharCode(cur());
      off++;
      return true;
    };
    const test2 = (set: string): boolean => {
      const c = cur();
      if (c >= 0 && (c === set.charCodeAt(0) || c === set.charCodeAt(1))) return nextc();
      return false;
    };
    const isDigit = (c: number, hex: boolean) =>
      (c >= 0x30 && c <= 0x39) || (hex && ((c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)));
    const readDigits = (hex: boolean): number => {
      let n = 0;
      while (isDigit(cur(), hex) && nextc()) n++;
      return n;
    };
    for (;;) {
      const c = cur();
      if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) off++;
      else break;
    }
    let count = 0;
    let hex = false;
    test2('-+');
    if (test2('00')) {
      if (test2('xX')) hex = true;
      else count = 1;
    }
    count += readDigits(hex);
    if (test2('..')) count += readDigits(hex);
    if (count > 0 && test2(hex ? 'pP' : 'eE')) {
      test2('-+');
      readDigits(false);
    }
    if (cur() < 0) f.eof = true;
    f.pos = off;
    if (overflow) buf = '';
    pushSavedGlobal(vm, Lx, 'tonumber');
    e.pushstring(Lx, buf);
    e.call(Lx, 1, 1);
    return e.type(Lx, -1) === LUA_TNUMBER;
  };

  /** g_read: formats at stack positions first.. ; returns the number of results */
  const gRead = (a: Args, f: VFile, first: number): number => {
    const Lx = a.L;
    const nargs = e.gettop(Lx) - first + 1;
    let success: boolean;
    let n: number;
    try {
      if (nargs <= 0) {
        const line = f.readLine(true);
        if (line) e.pushbytes(Lx, line);
        else e.pushnil(Lx);
        return 1;
      }
      success = true;
      for (n = first; n < first + nargs && success; n++) {
        if (e.type(Lx, n) === LUA_TNUMBER) {
          const l = a.integer(n);
          if (l === 0) {
            const more = f.peek(1).length > 0;
            e.pushbytes(Lx, Buffer.alloc(0));
            success = more;
          } else {
            const b = f.read(Math.max(0, l));
            e.pushbytes(Lx, b);
            success = b.length > 0;
          }
        } else {
          let p = a.string(n);
          if (p.startsWith('*')) p = p.slice(1);
          switch (p[0]) {
            case 'n':
              success = readNumber(Lx, f);
              break;
            case 'l':
            case 'L': {
              const line = f.readLine(p[0] === 'l');
              if (line) e.pushbytes(Lx, line);
              else e.pushbytes(Lx, Buffer.alloc(0));
              success = line !== null;
              break;
            }
            case 'a':
              e.pushbytes(Lx, f.readAll());
              success = true;
              break;
            default:
              return a.argError(n, 'invalid format');
          }
        }
      }
    } catch (err) {
      if (!(err instanceof FsError)) throw err;
      e.pushnil(Lx);
      e.pushstring(Lx, err.message);
      e.pushinteger(Lx, err.errno);
      return 3;
    }
    if (!success) {
      e.pop(Lx, 1);
      e.pushnil(Lx);
    }
    return n - first;
  };

  /** an iterator over a file (io.lines / f:lines); the userdata is its first upvalue */
  const pushLines = (a: Args, fileIdx: number, fmtFrom: number, toClose: boolean) => {
    const Lx = a.L;
    const fmts: (number | Uint8Array)[] = [];
    for (let i = fmtFrom; i <= e.gettop(Lx); i++) {
      fmts.push(e.type(Lx, i) === LUA_TNUMBER ? (a.integer(i) as number) : a.bytes(i));
    }
    e.pushvalue(Lx, fileIdx);
    e.pushfunction(
      Lx,
      (L2) => {
        const a2 = new Args(e, L2, 'lines');
        const id = e.tohostobject(L2, e.upvalueindex(1), FILE_TYPE);
        const f = id === null ? undefined : vm.getHostObject<VFile>(id);
        if (!f || f.closed) throw new LuaError('file is already closed');
        e.settop(L2, 0);
        e.pushvalue(L2, e.upvalueindex(1));
        for (const x of fmts) {
          if (typeof x === 'number') e.pushinteger(L2, x);
          else e.pushbytes(L2, x);
        }
        const n = gRead(a2, f, 2);
        if (e.toboolean(L2, -n)) return n;
        if (n > 1) throw new LuaError(e.tostring(L2, -n + 1) ?? 'read error');
        if (toClose) closeFile(f);
        return 0;
      },
      1,
    );
  };

  // ------------------------------------------------------------ file methods
  const methods: Record<string, (a: Args) => number | void> = {
    close: (a) => {
      const f = toFile(a);
      closeFile(f);
      e.pushboolean(a.L, true);
      return 1;
    },
    flush: (a) => {
      toFile(a);
      return 0;
    },
    setvbuf: (a) => {
      toFile(a);
      const mode = a.string(2);
      if (!['no', 'full', 'line'].includes(mode)) a.argError(2, `invalid option '${mode}'`);
      e.pushboolean(a.L, true);
      return 1;
    },
    lines: (a) => {
      toFile(a);
      pushLines(a, 1, 2, false);
      return 1;
    },
    read: (a) => gRead(a, toFile(a), 2),
    seek: (a) => {
      const f = toFile(a);
      const opt = a.optString(2, 'cur');
      if (opt !== 'set' && opt !== 'cur' && opt !== 'end') return a.argError(2, `invalid option '${opt}'`);
      const off = a.optInteger(3, 0);
      try {
        e.pushinteger(a.L, f.seek(opt, off));
        return 1;
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
        return fileResult(a, false, err, null);
      }
    },
    write: (a) => {
      const f = toFile(a);
      const top = e.gettop(a.L);
      const parts: Uint8Array[] = [];
      for (let i = 2; i <= top; i++) {
        const z = e.type(a.L, i) === LUA_TUSERDATA ? getZbuff(vm, a.L, i) : null;
        parts.push(z ? z.usedBytes() : a.bytes(i));
      }
      try {
        for (const p of parts) f.write(p);
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
        return fileResult(a, false, err, null);
      }
      e.pushvalue(a.L, 1);
      return 1;
    },
    fill: (a) => {
      const f = toFile(a);
      const z = getZbuff(vm, a.L, 2);
      if (!z) return 0;
      const off = e.isinteger(a.L, 3) ? a.integer(3) : 0;
      let len: number;
      if (e.isinteger(a.L, 4)) {
        len = a.integer(4);
        if (len > z.len) len = z.len;
        if (off + len > z.len) len = len - off;
      } else len = z.len - off;
      len = Math.max(0, Math.min(len, z.len - Math.max(0, off)));
      let got: number;
      try {
        const b = f.read(len);
        b.copy(z.data, Math.max(0, off));
        got = b.length;
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
        got = -1;
      }
      e.pushboolean(a.L, got >= 0);
      e.pushinteger(a.L, got);
      return 2;
    },
  };

  e.createtable(L, 0, Object.keys(methods).length);
  for (const [k, fn] of Object.entries(methods)) {
    vm.pushBinding(k, asMethod(vm, fn));
    e.setfield(L, -2, k);
  }
  const methodsIdx = e.gettop(L);
  e.newmetatable(L, FILE_TYPE);
  e.pushstring(L, 'FILE*');
  e.setfield(L, -2, '__name');
  e.pushvalue(L, methodsIdx);
  e.setfield(L, -2, '__index');
  vm.pushBinding('__gc', (a) => {
    const id = e.tohostobject(a.L, 1, FILE_TYPE);
    const f = id === null ? undefined : vm.getHostObject<VFile>(id);
    if (f) closeFile(f);
    if (id !== null) vm.removeHostObject(id);
    return 0;
  });
  e.setfield(L, -2, '__gc');
  vm.pushBinding('__tostring', (a) => {
    const f = toStream(a);
    const id = e.tohostobject(a.L, 1, FILE_TYPE) as number;
    e.pushstring(a.L, f.closed ? 'file (closed)' : `file (0x${(0x20000000 + id * 0x40).toString(16).padStart(8, '0')})`);
    return 1;
  });
  e.setfield(L, -2, '__tostring');
  e.pop(L, 2);

  // ------------------------------------------------------------ io
  const fileSize = (a: Args): number => {
    const st = statKind(vm.vfs, a.string(1));
    e.pushinteger(a.L, st?.kind === 'file' ? st.size : 0);
    return 1;
  };
  const ioFns: Record<string, (a: Args) => number | void> = {
    open: (a) => {
      const fname = a.string(1);
      const mode = a.optString(2, 'r');
      if (!validMode(mode)) a.argError(2, 'invalid mode');
      try {
        pushFile(a.L, openFile(vm.vfs, fname, mode));
        return 1;
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
        return fileResult(a, false, err, fname);
      }
    },
    lines: (a) => {
      if (a.isNoneOrNil(1)) a.typeError(1, 'FILE*');
      const fname = a.string(1);
      let f: VFile;
      try {
        f = openFile(vm.vfs, fname, 'r');
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
        throw new LuaError(`cannot open file '${fname}' (${err.errno})`);
      }
      pushFile(a.L, f);
      e.insert(a.L, 1);
      e.remove(a.L, 2);
      pushLines(a, 1, 2, true);
      return 1;
    },
    type: (a) => {
      a.any(1);
      const id = e.tohostobject(a.L, 1, FILE_TYPE);
      const f = id === null ? undefined : vm.getHostObject<VFile>(id);
      if (!f) e.pushnil(a.L);
      else e.pushstring(a.L, f.closed ? 'closed file' : 'file');
      return 1;
    },
    exists: (a) => {
      e.pushboolean(a.L, statKind(vm.vfs, a.string(1))?.kind === 'file');
      return 1;
    },
    fileSize,
    readFile: (a) => {
      const fname = a.string(1);
      const mode = a.optString(2, 'rb');
      const offset = a.optInteger(3, 0);
      let rlen = a.optInteger(4, 1 << 30);
      if (!validMode(mode)) return 0;
      let f: VFile;
      try {
        f = openFile(vm.vfs, fname, mode);
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
        return 0;
      }
      try {
        if (offset > 0) f.seek('set', offset);
        const parts: Buffer[] = [];
        while (rlen > 0) {
          const b = f.read(Math.min(rlen, 65536));
          if (b.length < 1) break;
          parts.push(b);
          rlen -= b.length;
        }
        e.pushbytes(a.L, Buffer.concat(parts));
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
        e.pushbytes(a.L, Buffer.alloc(0));
      } finally {
        f.close();
      }
      return 1;
    },
    writeFile: (a) => {
      const fname = a.string(1);
      const data = a.bytes(2);
      const mode = a.optString(3, 'wb+');
      if (!validMode(mode)) return 0;
      let f: VFile;
      try {
        f = openFile(vm.vfs, fname, mode);
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
        return 0;
      }
      let ok = true;
      try {
        f.write(data);
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
        ok = false; // on the device the failed flush surfaces at fclose: false
      } finally {
        f.close();
      }
      e.pushboolean(a.L, ok);
      return 1;
    },
    mkdir: (a) => dirResult(a, () => makeDir(vm.vfs, a.string(1))),
    rmdir: (a) => dirResult(a, () => removeDir(vm.vfs, a.string(1))),
    lsdir: (a) => {
      const p = a.string(1);
      let len = a.optInteger(2, 10);
      let offset = a.optInteger(3, 0);
      if (len < 0) len = 10;
      else if (len > 100) len = 100;
      if (offset < 0) offset = 0;
      let ents;
      try {
        ents = listDir(vm.vfs, p).slice(offset, offset + len);
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
        e.pushboolean(a.L, false);
        e.pushinteger(a.L, -err.errno);
        return 2;
      }
      e.pushboolean(a.L, true);
      e.createtable(a.L, ents.length, 0);
      ents.forEach((d, i) => {
        e.createtable(a.L, 0, 3);
        e.pushinteger(a.L, d.type);
        e.setfield(a.L, -2, 'type');
        e.pushstring(a.L, d.name);
        e.setfield(a.L, -2, 'name');
        e.pushinteger(a.L, d.size);
        e.setfield(a.L, -2, 'size');
        e.rawseti(a.L, -2, i + 1);
      });
      return 2;
    },
    lsmount: (a) => {
      const mounts = [
        ['/', 'lfs2'],
        ['/luadb/', 'luadb'],
        ['/ram/', 'ram'],
        ['/lfs2/', 'lfs2'],
      ];
      e.createtable(a.L, mounts.length, 0);
      mounts.forEach(([p, fsName], i) => {
        e.createtable(a.L, 0, 2);
        e.pushstring(a.L, p);
        e.setfield(a.L, -2, 'path');
        e.pushstring(a.L, fsName);
        e.setfield(a.L, -2, 'fs');
        e.rawseti(a.L, -2, i + 1);
      });
      return 1;
    },
    mkfs: (a) => {
      a.string(1);
      e.pushboolean(a.L, false);
      e.pushinteger(a.L, -1);
      return 2;
    },
  };
  vm.defineModule('io', ioFns, { FILE: 0, DIR: 1 });
  openFs(vm, fileSize);
  if (e.getglobal(L, 'io') === LUA_TTABLE) {
    for (const k of ['stdin', 'stdout', 'stderr']) {
      e.pushnil(L);
      e.setfield(L, -2, k);
    }
  }
  e.pop(L, 1);

  // ------------------------------------------------------------ os
  vm.defineModule('os', {
    remove: (a) => {
      const p = a.string(1);
      try {
        removePath(vm.vfs, p);
        return fileResult(a, true, null, p);
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
        return fileResult(a, false, err, p);
      }
    },
    rename: (a) => {
      const from = a.string(1);
      const to = a.string(2);
      try {
        renamePath(vm.vfs, from, to);
        return fileResult(a, true, null, from);
      } catch (err) {
        if (!(err instanceof FsError)) throw err;
        return fileResult(a, false, err, from);
      }
    },
  });

  // ------------------------------------------------------------ loadfile / dofile
  /** pushes the chunk (returns 1) or nil + message (returns 2) */
  const loadFile = (a: Args, fname: string, modeIdx: number, envIdx: number): number => {
    const Lx = a.L;
    // decided before anything is pushed (the pushes below would fill empty slots)
    const hasMode = modeIdx > 0 && modeIdx <= e.gettop(Lx) && !a.isNoneOrNil(modeIdx);
    const code = readVfsFile(vm.vfs, fname);
    if (!code) {
      const st = statKind(vm.vfs, fname);
      e.pushnil(Lx);
      e.pushstring(Lx, `cannot ${st ? 'read' : 'open'} ${fname}: ${st ? 'Is a directory' : 'No such file or directory'}`);
      return 2;
    }
    let body = code;
    if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
    if (body[0] === 0x23) {
      // skip a '#' first line, keeping the newline so line numbers stay right
      const nl = body.indexOf(0x0a);
      body = nl < 0 ? Buffer.alloc(0) : body.subarray(nl);
    }
    // as luaL_loadfilex: after a '#' line the next character decides text or binary
    if (isBinaryChunk(body[0] === 0x0a ? body.subarray(1) : body)) {
      e.pushnil(Lx);
      e.pushstring(Lx, `${fname}: ${BINARY_CHUNK_MSG}`);
      return 2;
    }
    const base = e.gettop(Lx);
    pushSavedGlobal(vm, Lx, 'load');
    e.pushbytes(Lx, body);
    e.pushstring(Lx, '@' + path.posix.basename(fname.replace(/\\/g, '/')));
    if (hasMode) e.pushvalue(Lx, modeIdx);
    else e.pushnil(Lx);
    let nargs = 3;
    if (envIdx > 0) {
      e.pushvalue(Lx, envIdx);
      nargs = 4;
    }
    e.call(Lx, nargs, LUA_MULTRET);
    return e.gettop(Lx) - base;
  };

  vm.setGlobalFunction('loadfile', (a) => {
    const fname = a.string(1);
    if (!a.isNoneOrNil(2) && e.type(a.L, 2) !== LUA_TSTRING) a.typeError(2, 'string');
    return loadFile(a, fname, 2, a.count >= 3 ? 3 : 0);
  });
  // dofile is Lua (runtime/lua/boot.lua) over this loadfile, so its chunk may yield
}
