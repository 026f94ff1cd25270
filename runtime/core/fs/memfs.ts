/**
 * An in-memory file system for the firmware's RAM-backed mounts: `/ram/` (the ram file system,
 * gone on reboot) and `/lfs2/` (the PC simulator's littlefs in memory, 512 KiB in 4 KiB
 * blocks, formatted at startup and never persisted — docs luatos-api-2.md §25 "Mounts").
 * Ours because it must share the sandbox's errno results and the volume accounting
 * (runtime/core/fs/volume.ts); every object is a Map, so no name reaches a JS prototype.
 */
import { blocksFor, DIR_BLOCKS, roomForEntry, SUPERBLOCK_BLOCKS, Volume } from './volume';

export interface MemFileNode {
  kind: 'file';
  data: Buffer;
  size: number;
}
export interface MemDirNode {
  kind: 'dir';
}
export type MemNode = MemFileNode | MemDirNode;

/** errno code names, thrown as `{ code }` and turned into FsError by the sandbox */
export class MemFsError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

export class MemFs implements Volume {
  readonly blockSize: number;
  readonly totalBlocks: number;
  private readonly nodes = new Map<string, MemNode>();
  private used = SUPERBLOCK_BLOCKS;

  /** `type`: "ram" or "lfs2"; `size` bytes in `blockSize` blocks */
  constructor(readonly type: string, size: number, blockSize: number) {
    this.blockSize = blockSize;
    this.totalBlocks = Math.floor(size / blockSize);
    this.format();
  }

  format(): void {
    this.nodes.clear();
    this.nodes.set('/', { kind: 'dir' });
    this.used = SUPERBLOCK_BLOCKS;
  }

  usedBlocks(): number {
    return this.used;
  }
  invalidate(): void {
    /* exact accounting */
  }
  adjust(n: number): void {
    this.used += n;
  }

  entries(): number {
    return this.nodes.size - 1;
  }

  get(p: string): MemNode | undefined {
    return this.nodes.get(p);
  }

  private parentOf(p: string): string {
    const i = p.lastIndexOf('/');
    return i <= 0 ? '/' : p.slice(0, i);
  }

  private needParent(p: string): void {
    const parent = this.nodes.get(this.parentOf(p));
    if (!parent) throw new MemFsError('ENOENT');
    if (parent.kind !== 'dir') throw new MemFsError('ENOTDIR');
  }

  private take(n: number): void {
    if (this.used + n > this.totalBlocks) throw new MemFsError('ENOSPC');
    this.used += n;
  }

  /** open (and create/truncate) a file node */
  open(p: string, create: boolean, truncate: boolean): MemFileNode {
    const n = this.nodes.get(p);
    if (n) {
      if (n.kind === 'dir') throw new MemFsError('EISDIR');
      if (truncate) {
        this.used -= blocksFor(n.size, this.blockSize);
        n.size = 0;
        n.data = Buffer.alloc(0);
      }
      return n;
    }
    if (!create) throw new MemFsError('ENOENT');
    this.needParent(p);
    if (!roomForEntry(this)) throw new MemFsError('ENOSPC');
    const f: MemFileNode = { kind: 'file', data: Buffer.alloc(0), size: 0 };
    this.nodes.set(p, f);
    return f;
  }

  mkdir(p: string): void {
    if (p === '/' || this.nodes.has(p)) throw new MemFsError('EEXIST');
    this.needParent(p);
    if (!roomForEntry(this)) throw new MemFsError('ENOSPC');
    this.take(DIR_BLOCKS);
    this.nodes.set(p, { kind: 'dir' });
  }

  private children(p: string): string[] {
    const prefix = p === '/' ? '/' : p + '/';
    const out: string[] = [];
    for (const k of this.nodes.keys()) {
      if (k !== '/' && k.startsWith(prefix) && !k.slice(prefix.length).includes('/')) out.push(k);
    }
    return out;
  }

  list(p: string): { name: string; size: number; type: number }[] {
    const n = this.nodes.get(p);
    if (!n) throw new MemFsError('ENOENT');
    if (n.kind !== 'dir') throw new MemFsError('ENOTDIR');
    return this.children(p)
      .sort()
      .map((k) => {
        const c = this.nodes.get(k) as MemNode;
        return { name: k.slice(k.lastIndexOf('/') + 1), size: c.kind === 'file' ? c.size : 0, type: c.kind === 'dir' ? 1 : 0 };
      });
  }

  rmdir(p: string): void {
    const n = this.nodes.get(p);
    if (!n) throw new MemFsError('ENOENT');
    if (n.kind !== 'dir') throw new MemFsError('ENOTDIR');
    if (p === '/') throw new MemFsError('EACCES');
    if (this.children(p).length) throw new MemFsError('ENOTEMPTY');
    this.nodes.delete(p);
    this.used -= DIR_BLOCKS;
  }

  remove(p: string): void {
    const n = this.nodes.get(p);
    if (!n) throw new MemFsError('ENOENT');
    if (n.kind === 'dir') return this.rmdir(p);
    this.nodes.delete(p);
    this.used -= blocksFor(n.size, this.blockSize);
  }

  rename(from: string, to: string): void {
    const n = this.nodes.get(from);
    if (!n) throw new MemFsError('ENOENT');
    if (from === '/' || to === '/') throw new MemFsError('EACCES');
    if (to === from) return;
    if (to.startsWith(from + '/')) throw new MemFsError('EINVAL');
    this.needParent(to);
    const old = this.nodes.get(to);
    if (old) {
      if (old.kind === 'dir' && n.kind !== 'dir') throw new MemFsError('EISDIR');
      if (old.kind !== 'dir' && n.kind === 'dir') throw new MemFsError('ENOTDIR');
      this.remove(to);
    }
    const moved: [string, MemNode][] = [];
    for (const [k, v] of this.nodes) {
      if (k === from || k.startsWith(from + '/')) moved.push([k, v]);
    }
    for (const [k] of moved) this.nodes.delete(k);
    for (const [k, v] of moved) this.nodes.set(to + k.slice(from.length), v);
  }

  /** write into a file node at pos; the volume check happens in VFile.write */
  static writeAt(f: MemFileNode, b: Uint8Array, pos: number): void {
    const end = pos + b.length;
    if (end > f.data.length) {
      const grown = Buffer.alloc(Math.max(end, Math.min(f.data.length * 2, end + 65536)));
      f.data.copy(grown, 0, 0, f.size);
      f.data = grown;
    }
    if (pos > f.size) f.data.fill(0, f.size, pos);
    f.data.set(b, pos);
    if (end > f.size) f.size = end;
  }

  static readAt(f: MemFileNode, out: Buffer, off: number, len: number, pos: number): number {
    if (pos >= f.size) return 0;
    const n = Math.min(len, f.size - pos);
    f.data.copy(out, off, pos, pos + n);
    return n;
  }
}
