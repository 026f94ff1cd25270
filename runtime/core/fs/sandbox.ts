/**
 * File operations of the device's io/os functions on the sandboxed VFS (runtime/core/fs/vfs.ts).
 *
 * Every host path comes from `resolveHost`, which adds to `Vfs.resolve` the checks a write
 * needs: a path that does not exist yet must not sit under a symlink leading out of the data
 * directory, and a dangling symlink is refused (opening it for writing would create its
 * target). Errors are `FsError`s carrying the C errno number and strerror text, so the
 * bindings can return them as stock Lua does (`nil, "<path>: No such file or directory", 2`).
 *
 * Only regular files and directories are ever opened: a host file is opened non-blocking and
 * checked with fstat on the open descriptor (a FIFO, socket or device node planted in the data
 * directory gives "Permission denied" and never blocks Node). `/ram/` and `/lfs2/` are
 * in-memory mounts (runtime/core/fs/memfs.ts). Writes are checked against the volume's size
 * (runtime/core/fs/volume.ts): a write that does not fit fails with "No space left on device" (28).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readRegularFile, Vfs } from './vfs';
import { MemFileNode, MemFs, MemFsError } from './memfs';
import { blocksFor, roomForEntry, Volume } from './volume';

const O_NONBLOCK = (fs.constants as Record<string, number>).O_NONBLOCK ?? 0;

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
  EFBIG: [27, 'File too large'],
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
    if (err instanceof MemFsError) return new FsError(err.code);
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
    let st: fs.Stats | null;
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

/** The in-memory mount of a path, or null (normalised like Vfs.resolve). */
function mem(vfs: Vfs, p: string): { fs: MemFs; rel: string; vpath: string } | null {
  const vpath = Vfs.normalize(p);
  const m = vfs.memMount(vpath);
  return m ? { fs: m.fs, rel: m.rel, vpath } : null;
}

/** Whole file through the sandbox (null when missing, unreadable or not a regular file). */
export function readVfsFile(vfs: Vfs, p: string): Buffer | null {
  const m = mem(vfs, p);
  if (m) {
    const n = m.fs.get(m.rel);
    return n?.kind === 'file' ? Buffer.from(n.data.subarray(0, n.size)) : null;
  }
  try {
    const r = resolveHost(vfs, p);
    if (!r.host) return null;
    return readRegularFile(r.host);
  } catch {
    return null;
  }
}

/** Kind of an existing path: 'file' (regular files only), 'dir' or null. */
export function statKind(vfs: Vfs, p: string): { kind: 'file' | 'dir'; size: number } | null {
  const m = mem(vfs, p);
  if (m) {
    const n = m.fs.get(m.rel);
    if (!n) return null;
    return n.kind === 'dir' ? { kind: 'dir', size: 0 } : { kind: 'file', size: n.size };
  }
  try {
    const r = resolveHost(vfs, p);
    if (r.readonly) {
      if (r.vpath === '/luadb' || r.vpath === '/lua') return { kind: 'dir', size: 0 };
      if (!r.host) return null;
    }
    const st = fs.statSync(r.host as string);
    if (st.isDirectory()) return { kind: 'dir', size: 0 };
    if (st.isFile()) return { kind: 'file', size: st.size };
    return null;
  } catch {
    return null;
  }
}

/** io.fsstat: the volume holding a path (null for a path on no volume). */
export function fsStat(vfs: Vfs, p: string): { total: number; used: number; blockSize: number; type: string } | null {
  const m = mem(vfs, p);
  if (m) return { total: m.fs.totalBlocks, used: m.fs.usedBlocks(), blockSize: m.fs.blockSize, type: m.fs.type };
  let r: HostPath;
  try {
    r = resolveHost(vfs, p);
  } catch {
    return null;
  }
  if (r.vpath === '/luadb' || r.vpath.startsWith('/luadb/')) {
    // the read-only image: full by construction (a choice; the firmware's luadb fsstat is unsure)
    let bytes = 0;
    for (const name of vfs.luadbNames()) bytes += statKind(vfs, '/luadb/' + name)?.size ?? 0;
    const n = blocksFor(bytes, 4096);
    return { total: n, used: n, blockSize: 4096, type: 'luadb' };
  }
  if (r.readonly) return null;
  const v = vfs.root;
  return { total: v.totalBlocks, used: Math.min(v.usedBlocks(), v.totalBlocks), blockSize: v.blockSize, type: v.type };
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

/** Positioned byte I/O of an open file (a host descriptor or an in-memory node). */
interface FileIo {
  read(out: Buffer, off: number, len: number, pos: number): number;
  write(b: Uint8Array, pos: number): void;
  size(): number;
  close(): void;
}

class HostIo implements FileIo {
  constructor(private readonly fd: number) {}
  read(out: Buffer, off: number, len: number, pos: number): number {
    return fs.readSync(this.fd, out, off, len, pos);
  }
  write(b: Uint8Array, pos: number): void {
    let done = 0;
    while (done < b.length) done += fs.writeSync(this.fd, b, done, b.length - done, pos + done);
  }
  size(): number {
    return fs.fstatSync(this.fd).size;
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

class MemIo implements FileIo {
  constructor(private readonly node: MemFileNode) {}
  read(out: Buffer, off: number, len: number, pos: number): number {
    return MemFs.readAt(this.node, out, off, len, pos);
  }
  write(b: Uint8Array, pos: number): void {
    MemFs.writeAt(this.node, b, pos);
  }
  size(): number {
    return this.node.size;
  }
  close(): void {
    /* nothing to release */
  }
}

/** An open file: positioned reads/writes (like a C FILE without buffering). */
export class VFile {
  private io: FileIo | null;
  pos = 0;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly append: boolean;
  readonly vpath: string;
  /** read hit the end (feof) */
  eof = false;
  private readonly volume: Volume | null;
  /** the size after this handle's last write (saves an fstat per write; see write) */
  private knownSize: number | null = null;

  constructor(io: FileIo, vpath: string, mode: string, volume: Volume | null) {
    this.io = io;
    this.vpath = vpath;
    this.volume = volume;
    const plus = mode.includes('+');
    this.readable = mode[0] === 'r' || plus;
    this.writable = mode[0] !== 'r' || plus;
    this.append = mode[0] === 'a';
  }

  get closed(): boolean {
    return this.io === null;
  }

  private get d(): FileIo {
    if (this.io === null) throw new FsError('EBADF');
    return this.io;
  }

  size(): number {
    return this.d.size();
  }

  /** up to n bytes from the position */
  read(n: number): Buffer {
    if (!this.readable) throw new FsError('EBADF');
    const io = this.d;
    // never allocate more than the file can give
    const avail = Math.max(0, io.size() - this.pos);
    const out = Buffer.alloc(Math.min(n, avail));
    let got = 0;
    while (got < out.length) {
      const k = io.read(out, got, out.length - got, this.pos + got);
      if (k === 0) break;
      got += k;
    }
    if (got < n) this.eof = true;
    this.pos += got;
    return got === out.length ? out : out.subarray(0, got);
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
    const io = this.d;
    const parts: Buffer[] = [];
    for (;;) {
      const chunk = Buffer.alloc(4096);
      const k = io.read(chunk, 0, 4096, this.pos);
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
    const k = this.d.read(b, 0, n, pos);
    return b.subarray(0, k);
  }

  /** Write at the position (the end in append mode); ENOSPC, nothing written, when it does not fit. */
  write(b: Uint8Array): void {
    if (!this.writable) throw new FsError('EBADF');
    const io = this.d;
    // another handle growing the same file makes knownSize low: growth is then counted twice,
    // which errs on the full side until the next recount (opening for write recounts)
    const size = this.append || this.knownSize === null ? io.size() : this.knownSize;
    if (this.append) this.pos = size;
    const end = this.pos + b.length;
    let grow = 0;
    if (this.volume && end > size) {
      grow = blocksFor(end, this.volume.blockSize) - blocksFor(size, this.volume.blockSize);
      if (grow > 0 && this.volume.usedBlocks() + grow > this.volume.totalBlocks) throw new FsError('ENOSPC');
    }
    try {
      io.write(b, this.pos);
    } catch (e) {
      this.volume?.invalidate();
      throw FsError.from(e);
    }
    if (grow > 0) this.volume?.adjust(grow);
    this.pos = end;
    this.knownSize = Math.max(size, end);
    if (this.append) this.pos = io.size();
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
    if (this.io === null) return;
    const io = this.io;
    this.io = null;
    io.close();
  }
}

const OPEN_FLAGS: Record<string, number> = {
  r: fs.constants.O_RDONLY,
  'r+': fs.constants.O_RDWR,
  w: fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC,
  'w+': fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC,
  a: fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND,
  'a+': fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_APPEND,
};

/** fopen(path, mode) on the sandbox; throws FsError. */
export function openFile(vfs: Vfs, p: string, mode: string): VFile {
  const plus = mode.includes('+');
  const key = mode[0] + (plus ? '+' : '');
  const m = mem(vfs, p);
  if (m) {
    let node: MemFileNode;
    try {
      node = m.fs.open(m.rel, mode[0] !== 'r', mode[0] === 'w');
    } catch (e) {
      throw FsError.from(e);
    }
    return new VFile(new MemIo(node), m.vpath, mode, m.fs);
  }
  const r = resolveHost(vfs, p);
  const wants = mode[0] !== 'r' || plus;
  if (r.readonly) {
    if (!r.host) throw new FsError(wants ? 'EROFS' : 'ENOENT');
    if (wants) throw new FsError('EROFS');
  }
  const host = r.host as string;
  // refuse directories and special files before creating or truncating anything
  let exists = false;
  let oldSize = 0;
  try {
    const st = fs.statSync(host);
    exists = true;
    oldSize = st.size;
    if (st.isDirectory()) throw new FsError('EISDIR');
    if (!st.isFile()) throw new FsError('EACCES');
  } catch (e) {
    if (e instanceof FsError) throw e;
  }
  if (!exists && mode[0] !== 'r' && !r.readonly && !roomForEntry(vfs.root)) throw new FsError('ENOSPC');
  let fd: number;
  try {
    // non-blocking, so a FIFO swapped in after the check cannot block Node; checked again below
    fd = fs.openSync(host, OPEN_FLAGS[key] | O_NONBLOCK);
  } catch (e) {
    throw FsError.from(e);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new FsError(st.isDirectory() ? 'EISDIR' : 'EACCES');
  } catch (e) {
    fs.closeSync(fd);
    throw FsError.from(e);
  }
  const volume = r.readonly ? null : vfs.root;
  if (volume && wants) {
    if (!exists) volume.addEntry();
    else if (mode[0] === 'w') volume.adjust(-blocksFor(oldSize, volume.blockSize)); // truncated
  }
  return new VFile(new HostIo(fd), r.vpath, mode, volume);
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
  const m = mem(vfs, p);
  if (m) {
    try {
      return m.fs.list(m.rel);
    } catch (e) {
      throw FsError.from(e);
    }
  }
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
    // FIFOs, sockets, device nodes: not listed
  }
  return out;
}

function writableHost(vfs: Vfs, p: string): string {
  const r = resolveHost(vfs, p);
  if (r.readonly || !r.host) throw new FsError('EROFS');
  if (r.vpath === '/') throw new FsError('EACCES');
  return r.host;
}

/** Run a file-system call, turning what it throws into an FsError. */
function fsCall<R>(f: () => R): R {
  try {
    return f();
  } catch (e) {
    throw FsError.from(e);
  }
}

/** A change on the host tree: errors as FsError, and the volume's block count recounted afterwards. */
function hostChange(vfs: Vfs, f: () => void): void {
  try {
    f();
  } catch (e) {
    throw FsError.from(e);
  } finally {
    vfs.root.invalidate();
  }
}

function memOp(m: { fs: MemFs; rel: string }, op: (f: MemFs, rel: string) => void): void {
  if (m.rel === '/') throw new FsError('EACCES');
  fsCall(() => op(m.fs, m.rel));
}

export function makeDir(vfs: Vfs, p: string): void {
  const m = mem(vfs, p);
  if (m) return memOp(m, (f, rel) => f.mkdir(rel));
  const host = writableHost(vfs, p);
  const v = vfs.root;
  if (v.usedBlocks() + 2 > v.totalBlocks || !roomForEntry(v)) throw new FsError('ENOSPC');
  hostChange(vfs, () => fs.mkdirSync(host));
}

export function removeDir(vfs: Vfs, p: string): void {
  const m = mem(vfs, p);
  if (m) return memOp(m, (f, rel) => f.rmdir(rel));
  const host = writableHost(vfs, p);
  if (!fsCall(() => fs.lstatSync(host)).isDirectory()) throw new FsError('ENOTDIR');
  hostChange(vfs, () => fs.rmdirSync(host));
}

/** C remove(): a file or an empty directory. */
export function removePath(vfs: Vfs, p: string): void {
  const m = mem(vfs, p);
  if (m) return memOp(m, (f, rel) => f.remove(rel));
  const host = writableHost(vfs, p);
  const st = fsCall(() => fs.lstatSync(host));
  hostChange(vfs, () => (st.isDirectory() ? fs.rmdirSync(host) : fs.unlinkSync(host)));
}

export function renamePath(vfs: Vfs, from: string, to: string): void {
  const ma = mem(vfs, from);
  const mb = mem(vfs, to);
  if (ma || mb) {
    if (!ma || !mb || ma.fs !== mb.fs) {
      // across mounts, as rename(2) across file systems
      if (!statKind(vfs, from)) throw new FsError('ENOENT');
      throw new FsError('EXDEV');
    }
    if (ma.rel === '/' || mb.rel === '/') throw new FsError('EACCES');
    return fsCall(() => ma.fs.rename(ma.rel, mb.rel));
  }
  const a = resolveHost(vfs, from);
  if (a.readonly) throw new FsError(a.host ? 'EROFS' : 'ENOENT');
  const b = writableHost(vfs, to);
  if (a.vpath === '/') throw new FsError('EACCES');
  hostChange(vfs, () => fs.renameSync(a.host as string, b));
}
