/**
 * The device's sandboxed file system.
 *
 * - `/luadb/` — the script folder, read-only and flat, as Luatools packs it: the folder is walked
 *   recursively and every file lands under its base name (`netdrv/netdrv_wifi.lua` is module
 *   `netdrv_wifi`, `res/logo.png` is `/luadb/logo.png`). Two files with the same name are an
 *   error naming both paths. Skipped: hidden files and folders (names starting with '.', so
 *   `.git` and the default state folder `.luatos-state`), the device's own data directory
 *   wherever it is, symlinked folders (never followed: no loops), and anything that is not a
 *   regular file (FIFOs, sockets, devices). At most MAX_LUADB_FILES files, MAX_LUADB_DEPTH
 *   levels. Extra `--lib` folders are packed flat after it (top level only; a name already
 *   taken by the script folder wins).
 * - `/lua/` — the libraries built into the runtime (sys, sysplus, exnetif, ...), read-only.
 * - `/` — everything else: a writable per-device data directory on the host, limited to the
 *   profile's flash file system size (`filesystem.size`, runtime/core/profile.ts; volume accounting
 *   in runtime/core/fs/volume.ts).
 * - `/ram/` — the firmware's ram file system: in memory, RAM_FS_SIZE bytes, emptied at every
 *   boot (bootReset). `/lfs2/` — the littlefs-in-memory mount of the firmware's VFS (as the
 *   PC simulator has it): 512 KiB in 4 KiB blocks, formatted at every boot, never on disk.
 *   Both are reached through runtime/core/fs/sandbox.ts (io/os/fs); `resolve` gives them no host path.
 *
 * Virtual paths never reach outside these roots: `..` is resolved inside the virtual tree
 * and a host path that a symlink moves outside its root is refused.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemFs } from './memfs';
import { HostVolume } from './volume';

/** /ram/: the firmware's ram fs grows on the heap; here a fixed 1 MiB in 4 KiB blocks (a choice) */
export const RAM_FS_SIZE = 1024 * 1024;
/** /lfs2/: 512 KiB littlefs in memory, 4 KiB blocks (luatos-api-2.md §25) */
export const LFS2_FS_SIZE = 512 * 1024;
export const MEM_BLOCK_SIZE = 4096;
/** default size of `/` until configure() (the Air8101 default of runtime/core/profile.ts) */
export const DEFAULT_ROOT_FS = { size: 512 * 1024, blockSize: 4096 };

export class VfsError extends Error {}

/** bounds of the luadb walk (hostile or mistaken folders, e.g. a home directory) */
export const MAX_LUADB_FILES = 4096;
export const MAX_LUADB_DEPTH = 16;

/** Node's O_NONBLOCK (absent on Windows, where FIFOs cannot appear in a folder anyway) */
const O_NONBLOCK = (fs.constants as Record<string, number>).O_NONBLOCK ?? 0;

/**
 * Read a host file only if it is a regular file: opened non-blocking and checked with fstat on
 * the open descriptor, so a FIFO (or a device node, a socket) planted in a device folder never
 * blocks Node and is never read. Throws the Node error (ENOENT, EISDIR, ...) or EACCES for a
 * special file. `limit`: refuse files larger than this (EFBIG).
 */
export function readRegularFile(host: string, limit = Infinity): Buffer {
  const fd = fs.openSync(host, fs.constants.O_RDONLY | O_NONBLOCK);
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EACCES' });
    if (st.size > limit) throw Object.assign(new Error('file too large'), { code: 'EFBIG' });
    const out = Buffer.alloc(st.size);
    let got = 0;
    while (got < out.length) {
      const k = fs.readSync(fd, out, got, out.length - got, got);
      if (k === 0) break;
      got += k;
    }
    return got === out.length ? out : out.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

export interface VfsOptions {
  /** the script folder (or an explicit list of script files) */
  scripts: string | string[];
  /** extra library folders, searched after the script folder */
  libDirs?: string[];
  /** bundled library folder(s) of the runtime, searched last */
  bundledDirs?: string[];
  /** writable data directory for `/` (created if missing) */
  dataDir: string;
  /** size of `/` (default DEFAULT_ROOT_FS; also settable later with configure) */
  rootFs?: { size: number; blockSize: number };
}

export interface Resolved {
  /** normalised virtual path */
  vpath: string;
  /** host path, or null when the file is not present */
  host: string | null;
  readonly: boolean;
}

/** a regular file (following a symlink); FIFOs, sockets, devices and dangling links are not */
function isRegular(host: string): boolean {
  try {
    return fs.statSync(host).isFile();
  } catch {
    return false;
  }
}

function within(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export class Vfs {
  /** name -> host path of the flat luadb image (script files first, then libs) */
  private readonly luadb = new Map<string, string>();
  private readonly bundled = new Map<string, string>();
  readonly dataDir: string;
  /** `/ram/` and `/lfs2/` */
  readonly ram = new MemFs('ram', RAM_FS_SIZE, MEM_BLOCK_SIZE);
  readonly lfs2 = new MemFs('lfs2', LFS2_FS_SIZE, MEM_BLOCK_SIZE);
  /** size accounting of `/` */
  readonly root: HostVolume;

  constructor(opts: VfsOptions) {
    this.dataDir = path.resolve(opts.dataDir);
    this.root = new HostVolume(this.dataDir, opts.rootFs?.size ?? DEFAULT_ROOT_FS.size, opts.rootFs?.blockSize ?? DEFAULT_ROOT_FS.blockSize);
    const addFlat = (map: Map<string, string>, dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (!e.isFile() && !e.isSymbolicLink()) continue;
        const host = path.join(dir, e.name);
        if (!isRegular(host)) continue;
        if (!map.has(e.name)) map.set(e.name, host);
      }
    };
    if (Array.isArray(opts.scripts)) {
      for (const f of opts.scripts) this.luadb.set(path.basename(f), path.resolve(f));
    } else {
      this.packTree(path.resolve(opts.scripts));
    }
    for (const d of opts.libDirs ?? []) addFlat(this.luadb, path.resolve(d));
    for (const d of opts.bundledDirs ?? []) addFlat(this.bundled, path.resolve(d));
    fs.mkdirSync(this.dataDir, { recursive: true });
  }

  /** The recursive, flat luadb packing of a script folder (see the header). */
  private packTree(root: string): void {
    let dataReal: string | null = null;
    try {
      dataReal = fs.realpathSync(this.dataDir);
    } catch {
      dataReal = this.dataDir;
    }
    const where = new Map<string, string>();
    let count = 0;
    const walk = (dir: string, depth: number) => {
      let ents: fs.Dirent[];
      try {
        ents = fs.readdirSync(dir, { withFileTypes: true });
      } catch (e) {
        throw new VfsError(`cannot read the script folder ${dir}: ${(e as Error).message}`);
      }
      ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of ents) {
        if (e.name.startsWith('.')) continue;
        const host = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (host === this.dataDir || host === dataReal) continue;
          if (depth >= MAX_LUADB_DEPTH) throw new VfsError(`the script folder is nested deeper than ${MAX_LUADB_DEPTH} levels: ${host}`);
          walk(host, depth + 1);
          continue;
        }
        if (!e.isFile() && !e.isSymbolicLink()) continue;
        if (!isRegular(host)) continue;
        const prev = where.get(e.name);
        if (prev !== undefined) {
          throw new VfsError(
            `two files named '${e.name}' in the script folder: ${path.relative(root, prev) || prev} and ${path.relative(root, host) || host} (the device's /luadb/ is flat: rename one)`,
          );
        }
        if (++count > MAX_LUADB_FILES) throw new VfsError(`the script folder has more than ${MAX_LUADB_FILES} files: ${root}`);
        where.set(e.name, host);
        this.luadb.set(e.name, host);
      }
    };
    walk(root, 0);
  }

  /** Set the size of `/` (from the device profile). */
  configure(rootFs: { size: number; blockSize: number }): void {
    const ok = (n: unknown, min: number) => typeof n === 'number' && Number.isFinite(n) && n >= min && n <= 2 ** 40;
    if (!ok(rootFs?.size, 0) || !ok(rootFs?.blockSize, 128)) {
      throw new VfsError(`profile filesystem must be {"size": bytes, "blockSize": bytes >= 128}, got ${JSON.stringify(rootFs)}`);
    }
    this.root.resize(Math.floor(rootFs.size), Math.floor(rootFs.blockSize));
  }

  /** A boot: `/ram/` is lost and `/lfs2/` formatted, as the firmware's RAM mounts. */
  bootReset(): void {
    this.ram.format();
    this.lfs2.format();
  }

  /** The in-memory mount of a normalised virtual path and the path inside it, or null. */
  memMount(vpath: string): { fs: MemFs; rel: string; mount: string } | null {
    for (const [mount, mfs] of [
      ['/ram', this.ram],
      ['/lfs2', this.lfs2],
    ] as const) {
      if (vpath === mount) return { fs: mfs, rel: '/', mount };
      if (vpath.startsWith(mount + '/')) return { fs: mfs, rel: vpath.slice(mount.length), mount };
    }
    return null;
  }

  /** Normalise a virtual path (relative paths are relative to `/`). */
  static normalize(p: string): string {
    let n = path.posix.normalize('/' + p.replace(/\\/g, '/'));
    if (n.length > 1 && n.endsWith('/')) n = n.slice(0, -1);
    return n;
  }

  resolve(p: string): Resolved {
    const vpath = Vfs.normalize(p);
    if (this.memMount(vpath)) return { vpath, host: null, readonly: false };
    if (vpath === '/luadb' || vpath.startsWith('/luadb/')) {
      const name = vpath.slice('/luadb/'.length);
      const host = name && !name.includes('/') ? this.luadb.get(name) ?? null : null;
      return { vpath, host, readonly: true };
    }
    if (vpath.startsWith('/lua/')) {
      const name = vpath.slice('/lua/'.length);
      const host = name && !name.includes('/') ? this.bundled.get(name) ?? null : null;
      return { vpath, host, readonly: true };
    }
    const host = path.join(this.dataDir, vpath);
    if (!within(this.dataDir, host)) throw new VfsError(`path escapes the device file system: ${p}`);
    // refuse symlinks that lead outside the data directory: the path itself (even dangling) and
    // the nearest existing ancestor must resolve inside it
    const root = fs.realpathSync(this.dataDir);
    let probe = host;
    for (;;) {
      let st: fs.Stats | null;
      try {
        st = fs.lstatSync(probe);
      } catch {
        st = null;
      }
      if (st) {
        let real: string;
        try {
          real = fs.realpathSync(probe);
        } catch {
          throw new VfsError(`path escapes the device file system: ${p}`); // dangling symlink
        }
        if (!within(root, real)) throw new VfsError(`path escapes the device file system: ${p}`);
        break;
      }
      const parent = path.dirname(probe);
      if (parent === probe || !within(this.dataDir, parent)) break;
      probe = parent;
    }
    return { vpath, host, readonly: false };
  }

  /** Host path for writing a virtual path (throws for read-only areas). */
  writablePath(p: string): string {
    const r = this.resolve(p);
    if (this.memMount(r.vpath)) throw new VfsError(`${r.vpath} is on an in-memory mount: it has no host path`);
    if (r.readonly || !r.host) throw new VfsError(`read-only file system: ${r.vpath}`);
    return r.host;
  }

  exists(p: string): boolean {
    const m = this.memMount(Vfs.normalize(p));
    if (m) return m.fs.get(m.rel) !== undefined;
    try {
      const r = this.resolve(p);
      return !!r.host && fs.existsSync(r.host);
    } catch {
      return false;
    }
  }

  isFile(p: string): boolean {
    const m = this.memMount(Vfs.normalize(p));
    if (m) return m.fs.get(m.rel)?.kind === 'file';
    try {
      const r = this.resolve(p);
      return !!r.host && fs.statSync(r.host).isFile();
    } catch {
      return false;
    }
  }

  readFile(p: string): Buffer | null {
    const m = this.memMount(Vfs.normalize(p));
    if (m) {
      const n = m.fs.get(m.rel);
      return n?.kind === 'file' ? Buffer.from(n.data.subarray(0, n.size)) : null;
    }
    try {
      const r = this.resolve(p);
      if (!r.host) return null;
      return readRegularFile(r.host);
    } catch {
      return null;
    }
  }

  /** Names in the luadb image (for diagnostics and `io.lsdir("/luadb/")`). */
  luadbNames(): string[] {
    return [...this.luadb.keys()];
  }

  /**
   * The firmware's require search (luatos-api.md §2): custom templates from rtos.setPaths,
   * then `/%s.luac`, `/%s.lua`, `/luadb/%s.luac`, `/luadb/%s.lua`, `/lua/%s.luac`, `/lua/%s.lua`.
   * Dots in names are not turned into slashes.
   */
  findModule(name: string, customTemplates: string[] = []): string | null {
    const templates = [
      ...customTemplates,
      '/%s.luac',
      '/%s.lua',
      '/luadb/%s.luac',
      '/luadb/%s.lua',
      '/lua/%s.luac',
      '/lua/%s.lua',
    ];
    for (const t of templates) {
      const vp = t.replace('%s', name);
      if (this.isFile(vp)) return vp;
    }
    return null;
  }
}
