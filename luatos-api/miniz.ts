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
 * - `miniz.unzip` is not implemented (it needs the zip directory walk; reported by --coverage).
 */
import * as zlib from 'node:zlib';
import type { Vm } from '../runtime/vm';

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
    },
    C,
  );
}
