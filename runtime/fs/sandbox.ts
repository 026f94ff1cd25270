/**
 * File operations of the device's io/os functions on the sandboxed VFS (runtime/vfs.ts).
 *
 * Every host path comes from `resolveHost`, which adds to `Vfs.resolve` the checks a write
 * needs: a path that does not exist yet must not sit under a symlink leading out of the data
 * directory, and a dangling symlink is refused (opening it for writing would create its
 * target). Errors are `FsError`s carrying the C errno number and strerror text, so the
 * bindings can return them as stock Lua does (`nil, "<path>: No such file or directory", 2`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Vfs } from '../vfs';

const ERRNO: Record<string, [number, string]> = {
  EPERM: [1, 'Operation not permitted'],
  ENOENT: [2, 'No such file or directory'],
  EIO: [5, 'Input/output error'],
  EBADF: [9, 'Bad file descriptor'],
  EACCES: [13, 'Permission denied'],
  EEXIST: [17, 'File exists'],
  EXDEV: [18, 'Invalid cross-device link'],
  ENOTDIR: [20, 'Not a directory'],
  EISDIR: [21, 'Is a directory'],
  EINVAL: [22, 'Invalid argument'],
  EMFILE: [24, 'Too many open files'],
  ENOSPC: [28, 'No space left on device'],
  EROFS: [30, 'Read-only file system'],
  ENAMETOOLONG: [36, 'File name too long'],
  ENOTEMPTY: [39, 'Directory not empty'],
  ELOOP: [40, 'Too many levels of symbolic links'],
};

export class FsError extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(code: string) {
    const [n, msg] = ERRNO[code] ?? ERRNO.EIO;
    super(msg);
    this.code = ERRNO[code] ? code : 'EIO';
    this.errno = n;
  }
  /** from a Node error (or anything thrown by fs) */
  static from(err: unknown): FsError {
    if (err instanceof FsError) return err;
    const code = (err as NodeJS.ErrnoException)?.code ?? 'EIO';
    return new FsError(code);
  }
}

function within(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export interface HostPath {
  vpath: string;
  /** host path, null when a read-only area has no such file */
  host: string | null;
  readonly: boolean;
}

/** Resolve a device path to a host path that provably stays inside the sandbox. */
export function resolveHost(vfs: Vfs, p: string): HostPath {
  let r: HostPath;
  try {
    r = vfs.resolve(p);
  } catch {
    throw new FsError('EACCES');
  }
  if (r.readonly || !r.host) return r;
  let root: string;
  try {
    root = fs.realpathSync(vfs.dataDir);
  } catch {
    throw new FsError('EIO');
  }
  // the nearest existing entry on the way up must resolve inside the data directory
  let cur = r.host;
  for (;;) {
    let st: fs.Stats | null = null;
    try {
      st = fs.lstatSync(cur);
    } catch {
      st = null;
    }
    if (st) {
      let real: string;
      try {
        real = fs.realpathSync(cur);
      } catch {
        throw new FsError('EACCES'); // dangling symlink (or a loop)
      }
      if (!within(root, real)) throw new FsError('EACCES');
      return r;
    }
    const up = path.dirname(cur);
    if (up === cur) throw new FsError('EACCES');
    cur = up;
  }
}

/** Whole file through the sandbox (null when missing or unreadable). */
export function readVfsFile(vfs: Vfs, p: string): Buffer | null {
  try {
    const r = resolveHost(vfs, p);
    if (!r.host) return null;
    if (!fs.statSync(r.host).isFile()) return null;
    return fs.readFileSync(r.host);
  } catch {
    return null;
  }
}

/** Kind of an existing path: 'file', 'dir' or null. */
export function statKind(vfs: Vfs, p: string): { kind: 'file' | 'dir'; size: number } | null {
  try {
    const r = resolveHost(vfs, p);
    if (r.readonly) {
      if (r.vpath === '/luadb' || r.vpath === '/lua') return { kind: 'dir', size: 0 };
      if (!r.host) return null;
    }
    const st = fs.statSync(r.host as string);
    return { kind: st.isDirectory() ? 'dir' : 'file', size: st.isDirectory() ? 0 : st.size };
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ open files

/**
 * Stock l_checkmode accepts `[rwa]%+?b*`; the firmware's own docs use "wb+" (and its
 * readFile/writeFile hand modes straight to fopen), so "b" and one "+" in any order pass.
 */
const MODE_RE = /^[rwa][+b]*$/;
export function validMode(mode: string): boolean {
  return MODE_RE.test(mode) && mode.split('+').length <= 2;
}

/** An open file: positioned reads/writes on a host descriptor (like a C FILE without buffering). */
export class VFile {
  fd: number | null;
  pos = 0;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly append: boolean;
  readonly vpath: string;
  /** read hit the end (feof) */
  eof = false;

  constructor(fd: number, vpath: string, mode: string) {
    this.fd = fd;
    this.vpath = vpath;
    const plus = mode.includes('+');
    this.readable = mode[0] === 'r' || plus;
    this.writable = mode[0] !== 'r' || plus;
    this.append = mode[0] === 'a';
  }

  get closed(): boolean {
    return this.fd === null;
  }

  private get d(): number {
    if (this.fd === null) throw new FsError('EBADF');
    return this.fd;
  }

  size(): number {
    return fs.fstatSync(this.d).size;
  }

  /** up to n bytes from the position */
  read(n: number): Buffer {
    if (!this.readable) throw new FsError('EBADF');
    const out = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const k = fs.readSync(this.d, out, got, n - got, this.pos + got);
      if (k === 0) {
        this.eof = true;
        break;
      }
      got += k;
    }
    this.pos += got;
    return got === n ? out : out.subarray(0, got);
  }

  readAll(): Buffer {
    if (!this.readable) throw new FsError('EBADF');
    const parts: Buffer[] = [];
    for (;;) {
      const b = this.read(65536);
      if (b.length) parts.push(b);
      if (b.length < 65536) break;
    }
    return Buffer.concat(parts);
  }

  /** one line; `chop` drops the '\n'. null at EOF with nothing read. */
  readLine(chop: boolean): Buffer | null {
    if (!this.readable) throw new FsError('EBADF');
    const parts: Buffer[] = [];
    for (;;) {
      const chunk = Buffer.alloc(4096);
      const k = fs.readSync(this.d, chunk, 0, 4096, this.pos);
      if (k === 0) {
        this.eof = true;
        const all = Buffer.concat(parts);
        return all.length ? all : null;
      }
      const nl = chunk.subarray(0, k).indexOf(0x0a);
      if (nl >= 0) {
        parts.push(chunk.subarray(0, chop ? nl : nl + 1));
        this.pos += nl + 1;
        return Buffer.concat(parts);
      }
      parts.push(chunk.subarray(0, k));
      this.pos += k;
    }
  }

  /** peek up to n bytes without moving */
  peek(n: number): Buffer {
    return this.readAt(this.pos, n);
  }

  /** up to n bytes at an absolute offset, without moving (empty when not readable) */
  readAt(pos: number, n: number): Buffer {
    if (!this.readable) return Buffer.alloc(0);
    const b = Buffer.alloc(n);
    const k = fs.readSync(this.d, b, 0, n, pos);
    return b.subarray(0, k);
  }

  write(b: Uint8Array): void {
    if (!this.writable) throw new FsError('EBADF');
    const fd = this.d;
    if (this.append) this.pos = fs.fstatSync(fd).size;
    let done = 0;
    while (done < b.length) done += fs.writeSync(fd, b, done, b.length - done, this.pos + done);
    this.pos += done;
    if (this.append) this.pos = fs.fstatSync(fd).size;
  }

  seek(whence: 'set' | 'cur' | 'end', off: number): number {
    const base = whence === 'set' ? 0 : whence === 'cur' ? this.pos : this.size();
    const np = base + off;
    if (np < 0) throw new FsError('EINVAL');
    this.pos = np;
    this.eof = false;
    return np;
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    fs.closeSync(fd);
  }
}

/** fopen(path, mode) on the sandbox; throws FsError. */
export function openFile(vfs: Vfs, p: string, mode: string): VFile {
  const r = resolveHost(vfs, p);
  const wants = mode[0] !== 'r' || mode.includes('+');
  if (r.readonly) {
    if (!r.host) throw new FsError(wants ? 'EROFS' : 'ENOENT');
    if (wants) throw new FsError('EROFS');
  }
  const host = r.host as string;
  const plus = mode.includes('+');
  const flags = mode[0] === 'r' ? (plus ? 'r+' : 'r') : mode[0] === 'w' ? (plus ? 'w+' : 'w') : plus ? 'a+' : 'a';
  // refuse directories before creating or truncating anything
  try {
    if (fs.statSync(host).isDirectory()) throw new FsError('EISDIR');
  } catch (e) {
    if (e instanceof FsError) throw e;
  }
  let fd: number;
  try {
    fd = fs.openSync(host, flags);
  } catch (e) {
    throw FsError.from(e);
  }
  return new VFile(fd, r.vpath, mode);
}

// ------------------------------------------------------------------ directories and names

export interface DirEntry {
  name: string;
  size: number;
  /** 0 file, 1 directory (io.FILE / io.DIR) */
  type: number;
}

/** Entries of a directory (luadb and /lua are flat), sorted by name; throws FsError. */
export function listDir(vfs: Vfs, p: string): DirEntry[] {
  const r = resolveHost(vfs, p);
  if (r.vpath === '/luadb') {
    return vfs
      .luadbNames()
      .sort()
      .map((name) => {
        const st = statKind(vfs, '/luadb/' + name);
        return { name, size: st?.size ?? 0, type: 0 };
      });
  }
  if (r.readonly) {
    if (r.vpath === '/lua') {
      const boot = vfs.resolve('/lua/boot.lua').host;
      if (!boot) return [];
      return listHostDir(path.dirname(boot)).filter((x) => x.type === 0);
    }
    throw new FsError(r.host ? 'ENOTDIR' : 'ENOENT');
  }
  return listHostDir(r.host as string);
}

function listHostDir(dir: string): DirEntry[] {
  let names: fs.Dirent[];
  try {
    names = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw FsError.from(e);
  }
  const out: DirEntry[] = [];
  for (const d of names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (d.isSymbolicLink()) continue; // never followed, never shown
    if (d.isDirectory()) out.push({ name: d.name, size: 0, type: 1 });
    else if (d.isFile()) {
      let size = 0;
      try {
        size = fs.statSync(path.join(dir, d.name)).size;
      } catch {
        /* vanished */
      }
      out.push({ name: d.name, size, type: 0 });
    }
  }
  return out;
}

function writableHost(vfs: Vfs, p: string): string {
  const r = resolveHost(vfs, p);
  if (r.readonly || !r.host) throw new FsError('EROFS');
  if (r.vpath === '/') throw new FsError('EACCES');
  return r.host;
}

export function makeDir(vfs: Vfs, p: string): void {
  const host = writableHost(vfs, p);
  try {
    fs.mkdirSync(host);
  } catch (e) {
    throw FsError.from(e);
  }
}

export function removeDir(vfs: Vfs, p: string): void {
  const host = writableHost(vfs, p);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(host);
  } catch (e) {
    throw FsError.from(e);
  }
  if (!st.isDirectory()) throw new FsError('ENOTDIR');
  try {
    fs.rmdirSync(host);
  } catch (e) {
    throw FsError.from(e);
  }
}

/** C remove(): a file or an empty directory. */
export function removePath(vfs: Vfs, p: string): void {
  const host = writableHost(vfs, p);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(host);
  } catch (e) {
    throw FsError.from(e);
  }
  try {
    if (st.isDirectory()) fs.rmdirSync(host);
    else fs.unlinkSync(host);
  } catch (e) {
    throw FsError.from(e);
  }
}

export function renamePath(vfs: Vfs, from: string, to: string): void {
  const a = resolveHost(vfs, from);
  if (a.readonly) throw new FsError(a.host ? 'EROFS' : 'ENOENT');
  const b = writableHost(vfs, to);
  if (a.vpath === '/') throw new FsError('EACCES');
  try {
    fs.renameSync(a.host as string, b);
  } catch (e) {
    throw FsError.from(e);
  }
}
