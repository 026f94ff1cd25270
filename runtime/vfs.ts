/**
 * The device's sandboxed file system.
 *
 * - `/luadb/` — the script folder, read-only and flat, as Luatools packs it (top-level files
 *   of the folder; sub-folders are not packed). Extra `--lib` folders are packed after it.
 * - `/lua/` — the libraries built into the runtime (sys, sysplus, exnetif, ...), read-only.
 * - `/` — everything else: a writable per-device data directory on the host.
 *
 * Virtual paths never reach outside these roots: `..` is resolved inside the virtual tree
 * and a host path that a symlink moves outside its root is refused.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export class VfsError extends Error {}

export interface VfsOptions {
  /** the script folder (or an explicit list of script files) */
  scripts: string | string[];
  /** extra library folders, searched after the script folder */
  libDirs?: string[];
  /** bundled library folder(s) of the runtime, searched last */
  bundledDirs?: string[];
  /** writable data directory for `/` (created if missing) */
  dataDir: string;
}

export interface Resolved {
  /** normalised virtual path */
  vpath: string;
  /** host path, or null when the file is not present */
  host: string | null;
  readonly: boolean;
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

  constructor(opts: VfsOptions) {
    const add = (map: Map<string, string>, dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (!e.isFile() && !e.isSymbolicLink()) continue;
        if (!map.has(e.name)) map.set(e.name, path.join(dir, e.name));
      }
    };
    if (Array.isArray(opts.scripts)) {
      for (const f of opts.scripts) this.luadb.set(path.basename(f), path.resolve(f));
    } else {
      add(this.luadb, path.resolve(opts.scripts));
    }
    for (const d of opts.libDirs ?? []) add(this.luadb, path.resolve(d));
    for (const d of opts.bundledDirs ?? []) add(this.bundled, path.resolve(d));
    this.dataDir = path.resolve(opts.dataDir);
    fs.mkdirSync(this.dataDir, { recursive: true });
  }

  /** Normalise a virtual path (relative paths are relative to `/`). */
  static normalize(p: string): string {
    let n = path.posix.normalize('/' + p.replace(/\\/g, '/'));
    if (n.length > 1 && n.endsWith('/')) n = n.slice(0, -1);
    return n;
  }

  resolve(p: string): Resolved {
    const vpath = Vfs.normalize(p);
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
      let st: fs.Stats | null = null;
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
    if (r.readonly || !r.host) throw new VfsError(`read-only file system: ${r.vpath}`);
    return r.host;
  }

  exists(p: string): boolean {
    try {
      const r = this.resolve(p);
      return !!r.host && fs.existsSync(r.host);
    } catch {
      return false;
    }
  }

  isFile(p: string): boolean {
    try {
      const r = this.resolve(p);
      return !!r.host && fs.statSync(r.host).isFile();
    } catch {
      return false;
    }
  }

  readFile(p: string): Buffer | null {
    try {
      const r = this.resolve(p);
      if (!r.host) return null;
      return fs.readFileSync(r.host);
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
