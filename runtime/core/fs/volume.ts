/**
 * Size accounting of the device's file systems, so that a script cannot fill the PC's disk and
 * gets the firmware's "no space" results instead (Hardening 10).
 *
 * A volume has `totalBlocks` blocks of `blockSize` bytes. Usage is counted littlefs-like (our
 * approximation; littlefs's exact allocation — inline files, CTZ skip-lists, metadata
 * compaction — is not reproduced): 2 blocks for the superblock pair, 2 per directory (a
 * metadata pair), and ceil(size / blockSize) per file. A write that would need more blocks
 * than are free fails with ENOSPC ("No space left on device", 28) and writes nothing
 * (documented choice: all or nothing per write call).
 *
 * Files are also counted: littlefs keeps small files inline in their directory's metadata,
 * so empty files cost no data block, but a volume still holds only so many. Creating a file
 * when a volume already has ENTRIES_PER_BLOCK × totalBlocks entries fails with ENOSPC (our
 * bound, so a loop creating empty files cannot exhaust the PC's inodes or memory).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const SUPERBLOCK_BLOCKS = 2;
export const DIR_BLOCKS = 2;
/** entries visited when counting a host directory (a hostile folder stays bounded) */
const MAX_WALK = 200000;
/** files and directories a volume holds at most, per block of its size */
export const ENTRIES_PER_BLOCK = 16;

export interface Volume {
  /** fs type name as io.fsstat / io.lsmount report it ("lfs2", "ram") */
  readonly type: string;
  readonly blockSize: number;
  readonly totalBlocks: number;
  usedBlocks(): number;
  /** forget cached usage (after creating, truncating, removing or renaming) */
  invalidate(): void;
  /** usage changed by n blocks (a write) */
  adjust(n: number): void;
  /** files and directories on the volume */
  entries(): number;
}

/** whether one more file or directory may be created on a volume */
export function roomForEntry(v: Volume): boolean {
  return v.entries() < v.totalBlocks * ENTRIES_PER_BLOCK;
}

export function blocksFor(size: number, blockSize: number): number {
  return size <= 0 ? 0 : Math.ceil(size / blockSize);
}

/** The writable root on a host directory; usage comes from walking it (cached). */
export class HostVolume implements Volume {
  readonly type = 'lfs2';
  blockSize: number;
  totalBlocks: number;
  private cached: number | null = null;
  private cachedEntries = 0;

  constructor(readonly root: string, size: number, blockSize: number) {
    this.blockSize = blockSize;
    this.totalBlocks = Math.floor(size / blockSize);
  }

  resize(size: number, blockSize: number): void {
    this.blockSize = blockSize;
    this.totalBlocks = Math.floor(size / blockSize);
    this.cached = null;
  }

  usedBlocks(): number {
    if (this.cached === null) this.cached = this.count();
    return this.cached;
  }

  entries(): number {
    this.usedBlocks();
    return this.cachedEntries;
  }

  /** a file was created through the sandbox (no recount needed) */
  addEntry(): void {
    if (this.cached !== null) this.cachedEntries++;
  }

  invalidate(): void {
    this.cached = null;
  }

  adjust(n: number): void {
    if (this.cached !== null) this.cached += n;
  }

  private count(): number {
    let used = SUPERBLOCK_BLOCKS;
    let seen = 0;
    this.cachedEntries = 0;
    const walk = (dir: string) => {
      let ents: fs.Dirent[];
      try {
        ents = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of ents) {
        if (++seen > MAX_WALK) return;
        if (e.isDirectory() || e.isFile()) this.cachedEntries++;
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
          used += DIR_BLOCKS;
          walk(p);
        } else if (e.isFile()) {
          try {
            used += blocksFor(fs.lstatSync(p).size, this.blockSize);
          } catch {
            /* vanished */
          }
        }
      }
    };
    walk(this.root);
    return used;
  }
}
