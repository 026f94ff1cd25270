/**
 * miniz (luat_lib_miniz.c; luatos-api-2.md §14) on Node's zlib: the stream format is the same
 * (RFC 1950/1951), the compressed bytes are zlib's, not miniz's (they decode to the same data).
 *
 * - `miniz.compress(data, flags=miniz.WRITE_ZLIB_HEADER)` → string, or nothing when the input
 *   is over 32768 bytes or compression fails. The low 12 bits of flags are miniz's match-probe
 *   count: 0 (the default flags) is Huffman-only coding (zlib's Z_HUFFMAN_ONLY strategy), other
 *   counts map to the zlib level with the nearest probe count in miniz's level table;
 *   FORCE_ALL_RAW_BLOCKS → stored blocks (level 0); RLE_MATCHES → Z_RLE; FORCE_ALL_STATIC_BLOCKS
 *   → Z_FIXED. Without WRITE_ZLIB_HEADER the output is raw deflate.
 * - `miniz.uncompress(data, flags=miniz.PARSE_ZLIB_HEADER)` → string, or nothing: input over
 *   32768 bytes, corrupt data, or output over 85196 bytes (the firmware's TDEFL_OUT_BUF_SIZE).
 *   Without PARSE_ZLIB_HEADER the input is raw deflate.
 * - Log lines as the firmware: `only 32k data is allow` (E), `compress fail ret=0` and
 *   `decompress fail` (W).
 * - `miniz.unzip(zip, dir, debug=false, timeout_ms=30000)` → bool: see unzipToVfs below.
 */
import * as zlib from 'node:zlib';
import type { Vm } from '../runtime/core/vm/vm';
import type { Vfs } from '../runtime/core/fs/vfs';
import { FsError, fsStat, makeDir, openFile, statKind } from '../runtime/core/fs/sandbox';

export const MINIZ_MAX_IN = 32768;
export const MINIZ_MAX_OUT = 85196;
const PROBES = [0, 1, 6, 32, 16, 32, 128, 256, 512, 768, 1500];

const C = {
  WRITE_ZLIB_HEADER: 0x1000,
  COMPUTE_ADLER32: 0x2000,
  GREEDY_PARSING_FLAG: 0x4000,
  NONDETERMINISTIC_PARSING_FLAG: 0x8000,
  RLE_MATCHES: 0x10000,
  FILTER_MATCHES: 0x20000,
  FORCE_ALL_STATIC_BLOCKS: 0x40000,
  FORCE_ALL_RAW_BLOCKS: 0x80000,
  PARSE_ZLIB_HEADER: 1,
  HAS_MORE_INPUT: 2,
  USING_NON_WRAPPING_OUTPUT_BUF: 4,
};

export function minizOptions(flags: number): zlib.ZlibOptions {
  const probes = flags & 0xfff;
  const o: zlib.ZlibOptions = {};
  if (flags & C.FORCE_ALL_RAW_BLOCKS) {
    o.level = 0;
    return o;
  }
  if (probes === 0) {
    o.level = 1;
    o.strategy = zlib.constants.Z_HUFFMAN_ONLY;
  } else {
    let best = 1;
    for (let l = 1; l < PROBES.length; l++) if (Math.abs(PROBES[l] - probes) < Math.abs(PROBES[best] - probes)) best = l;
    o.level = Math.min(best, 9);
  }
  if (flags & C.RLE_MATCHES) o.strategy = zlib.constants.Z_RLE;
  if (flags & C.FORCE_ALL_STATIC_BLOCKS) o.strategy = zlib.constants.Z_FIXED;
  return o;
}

export function openMiniz(vm: Vm): void {
  const { e } = vm;
  vm.defineModule(
    'miniz',
    {
      compress: (a) => {
        const data = a.bytes(1);
        const flags = a.optInteger(2, C.WRITE_ZLIB_HEADER);
        if (data.length > MINIZ_MAX_IN) {
          vm.log('E', 'miniz', 'only 32k data is allow');
          return 0;
        }
        const o = minizOptions(flags);
        let out: Buffer;
        try {
          out = flags & C.WRITE_ZLIB_HEADER ? zlib.deflateSync(data, o) : zlib.deflateRawSync(data, o);
        } catch {
          vm.log('W', 'miniz', 'compress fail ret=0');
          return 0;
        }
        e.pushbytes(a.L, out);
        return 1;
      },
      uncompress: (a) => {
        const data = a.bytes(1);
        const flags = a.optInteger(2, C.PARSE_ZLIB_HEADER);
        if (data.length > MINIZ_MAX_IN) {
          vm.log('E', 'miniz', 'only 32k data is allow');
          return 0;
        }
        let out: Buffer;
        try {
          const o = { maxOutputLength: MINIZ_MAX_OUT };
          out = flags & C.PARSE_ZLIB_HEADER ? zlib.inflateSync(data, o) : zlib.inflateRawSync(data, o);
        } catch {
          vm.log('W', 'miniz', 'decompress fail');
          return 0;
        }
        e.pushbytes(a.L, out);
        return 1;
      },
      unzip: (a) => {
        const zip = a.string(1);
        const dir = a.string(2);
        const debug = a.boolean(3);
        const timeoutMs = a.optInteger(4, 30000);
        e.pushboolean(a.L, unzipToVfs(vm.vfs, zip, dir, { debug, timeoutMs, log: (lv, msg) => vm.log(lv, 'miniz', msg) }));
        return 1;
      },
    },
    C,
  );
}

// ------------------------------------------------------------------ miniz.unzip

/** most entries an archive may list (a choice: the firmware's limit is unsure) */
export const UNZIP_MAX_ENTRIES = 1024;
/** longest entry name in bytes (a choice; LuatOS file names are short, the VFS path limit applies too) */
export const UNZIP_MAX_NAME = 255;

export interface UnzipOptions {
  debug?: boolean;
  timeoutMs?: number;
  log: (level: 'D' | 'I' | 'W' | 'E', msg: string) => void;
}

interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  csize: number;
  usize: number;
  offset: number;
}

/** a refused archive: the message goes to the log, unzip returns false */
class ZipError extends Error {}

/** Entry names we refuse: absolute, `..` segments, backslashes, drive letters, control bytes. */
function badName(name: string): boolean {
  if (name.length === 0 || name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name)) return true;
  // eslint-disable-next-line no-control-regex -- control bytes in a name are exactly what is refused
  if (/[\x00-\x1f]/.test(name)) return true;
  return name.split('/').some((seg) => seg === '..' || seg === '.');
}

/**
 * The zip container (PKWARE APPNOTE 4.3: end of central directory, central directory headers,
 * local headers) parsed by hand, because the runtime must bound every count and size by what
 * the device has and refuse hostile names before anything is written; the entries' data are
 * inflated by node:zlib. Zip64, encryption and methods other than stored (0) and deflate (8)
 * are refused.
 */
export function parseZip(zip: Buffer): { entries: ZipEntry[]; cdOff: number } {
  const EOCD = 0x06054b50;
  if (zip.length < 22) throw new ZipError('not a zip file (too short)');
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD && i + 22 + zip.readUInt16LE(i + 20) === zip.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('not a zip file (no end of central directory)');
  const disk = zip.readUInt16LE(eocd + 4);
  const cdDisk = zip.readUInt16LE(eocd + 6);
  const count = zip.readUInt16LE(eocd + 10);
  const cdSize = zip.readUInt32LE(eocd + 12);
  const cdOff = zip.readUInt32LE(eocd + 16);
  if (disk !== 0 || cdDisk !== 0 || count !== zip.readUInt16LE(eocd + 8)) throw new ZipError('multi-part archives are not supported');
  if (count === 0xffff || cdOff === 0xffffffff) throw new ZipError('zip64 archives are not supported');
  if (count > UNZIP_MAX_ENTRIES) throw new ZipError(`too many entries ${count} (max ${UNZIP_MAX_ENTRIES})`);
  if (cdOff + cdSize > eocd) throw new ZipError('central directory out of range');
  const entries: ZipEntry[] = [];
  let p = cdOff;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cdOff + cdSize || zip.readUInt32LE(p) !== 0x02014b50) throw new ZipError(`bad central directory header ${n}`);
    const flags = zip.readUInt16LE(p + 8);
    const method = zip.readUInt16LE(p + 10);
    const crc = zip.readUInt32LE(p + 16);
    const csize = zip.readUInt32LE(p + 20);
    const usize = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const offset = zip.readUInt32LE(p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cdOff + cdSize) throw new ZipError(`bad central directory header ${n}`);
    if (nameLen > UNZIP_MAX_NAME) throw new ZipError(`entry ${n}: name too long`);
    const name = zip.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    if (badName(name)) throw new ZipError(`entry ${n}: refused name ${JSON.stringify(name.slice(0, 64))}`);
    if (flags & 1) throw new ZipError(`${name}: encrypted entries are not supported`);
    if (method !== 0 && method !== 8) throw new ZipError(`${name}: compression method ${method} is not supported`);
    if (csize === 0xffffffff || usize === 0xffffffff || offset === 0xffffffff) throw new ZipError(`${name}: zip64 entries are not supported`);
    if (method === 0 && csize !== usize) throw new ZipError(`${name}: stored entry with different sizes`);
    if (offset + 30 > cdOff) throw new ZipError(`${name}: local header out of range`);
    entries.push({ name, method, crc, csize, usize, offset });
    p = end;
  }
  return { entries, cdOff };
}

/** the entry's compressed bytes, after its local header */
function entryData(zip: Buffer, en: ZipEntry, cdOff: number): Buffer {
  const p = en.offset;
  if (zip.readUInt32LE(p) !== 0x04034b50) throw new ZipError(`${en.name}: bad local header`);
  const start = p + 30 + zip.readUInt16LE(p + 26) + zip.readUInt16LE(p + 28);
  if (start + en.csize > cdOff) throw new ZipError(`${en.name}: data out of range`);
  return zip.subarray(start, start + en.csize);
}

/**
 * miniz.unzip (luat_lib_miniz.c:431; luatos-api-2.md §14): extract the zip archive at device
 * path `zipPath` into the device folder `dir` (which must end with "/"), through the sandbox
 * (openFile/makeDir), so flash limits and in-memory mounts apply. Choices (the firmware's
 * details are unsure): `zip` is a file path (not the archive's bytes); `dir` without a trailing
 * "/" is refused; folders on the way are created; existing files are overwritten; the whole
 * archive is checked (names, sizes, total against the free space of the target volume) before
 * the first file is written; an entry whose size or CRC-32 does not match stops the run (files
 * already written stay); timeout_ms is checked between entries. Log lines (tag miniz) are ours.
 */
export function unzipToVfs(vfs: Vfs, zipPath: string, dir: string, opts: UnzipOptions): boolean {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs && opts.timeoutMs > 0 ? opts.timeoutMs : 30000;
  try {
    if (!dir.endsWith('/')) throw new ZipError(`target folder must end with "/": ${dir}`);
    let zip: Buffer;
    const stat = fsStat(vfs, zipPath);
    const kind = statKind(vfs, zipPath);
    if (!kind || kind.kind !== 'file') throw new ZipError(`no such file ${zipPath}`);
    // the archive is on the device's flash, so it is bounded by it; refuse more than that anyway
    if (stat && kind.size > stat.total * stat.blockSize) throw new ZipError(`${zipPath} is larger than its volume`);
    const f = openFile(vfs, zipPath, 'rb');
    try {
      zip = f.read(kind.size);
    } finally {
      f.close();
    }
    const { entries, cdOff } = parseZip(zip);
    const target = fsStat(vfs, dir);
    if (!target) throw new ZipError(`no volume for ${dir}`);
    const free = Math.max(0, (target.total - target.used) * target.blockSize);
    let total = 0;
    for (const en of entries) {
      entryData(zip, en, cdOff); // every header checked before writing
      total += en.usize;
      if (total > free) throw new ZipError(`archive needs ${total}+ bytes, ${free} free on ${dir}`);
    }
    const ensureDir = (d: string): void => {
      const k = statKind(vfs, d);
      if (k?.kind === 'dir') return;
      if (k) throw new ZipError(`${d} exists and is not a folder`);
      makeDir(vfs, d);
    };
    /** create the folders of `dir` + name's parent path, one level at a time */
    const parents = (name: string): void => {
      const parts = (dir + name).split('/');
      parts.pop();
      let acc = '';
      for (const seg of parts) {
        if (!seg) continue;
        acc += '/' + seg;
        ensureDir(acc);
      }
    };
    for (const en of entries) {
      if (Date.now() - started > timeoutMs) throw new ZipError(`timeout after ${timeoutMs} ms`);
      parents(en.name);
      if (en.name.endsWith('/')) {
        if (opts.debug) opts.log('D', `dir ${dir}${en.name}`);
        continue;
      }
      const raw = entryData(zip, en, cdOff);
      let out: Buffer;
      if (en.method === 0) out = raw;
      else {
        try {
          out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, en.usize) });
        } catch {
          throw new ZipError(`${en.name}: corrupt deflate data`);
        }
      }
      if (out.length !== en.usize) throw new ZipError(`${en.name}: size ${out.length} != ${en.usize}`);
      if (zlib.crc32(out) !== en.crc) throw new ZipError(`${en.name}: CRC mismatch`);
      const w = openFile(vfs, dir + en.name, 'wb');
      try {
        w.write(out);
      } finally {
        w.close();
      }
      if (opts.debug) opts.log('D', `file ${dir}${en.name} ${en.usize} bytes`);
    }
    if (opts.debug) opts.log('D', `unzip ${zipPath} → ${dir}: ${entries.length} entries`);
    return true;
  } catch (err) {
    if (err instanceof ZipError) opts.log('E', `unzip ${zipPath}: ${err.message}`);
    else if (err instanceof FsError) opts.log('E', `unzip ${zipPath}: ${err.message}`);
    else if (err instanceof RangeError) opts.log('E', `unzip ${zipPath}: truncated archive`);
    else throw err;
    return false;
  }
}
