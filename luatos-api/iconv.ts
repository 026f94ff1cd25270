/**
 * iconv (luat_lib_iconv.c; luatos-api-2.md §18) with iconv-lite as the codec.
 *
 * - `iconv.open(to, from)` (alias `new`) → handle, or nothing for a pair the firmware lacks.
 *   Pairs (from→to): ucs2→gb2312, ucs2be→gb2312, gb2312→ucs2, gb2312→ucs2be, utf8→ucs2,
 *   utf8→ucs2be, ucs2→utf8, ucs2be→utf8. No utf8↔gb2312 (convert through ucs2).
 * - `ic:iconv(s)` → converted string, or "" when the input cannot be converted (invalid or
 *   incomplete bytes, a character the target lacks, odd-length ucs2, characters outside the
 *   BMP: UCS-2 has no surrogates). ucs2 is little endian.
 * - gb2312 uses iconv-lite's CP936 table (a superset of GB2312: GBK characters convert too,
 *   where the firmware's smaller table may give ""; a known difference).
 * - `iconv.close` is not registered (as in the firmware); handles go with the GC.
 */
import * as iconvLite from 'iconv-lite';
import type { Vm } from '../runtime/core/vm/vm';

const ICONV_TYPE = 'iconv_t*';
const PAIRS = new Set(['ucs2>gb2312', 'ucs2be>gb2312', 'gb2312>ucs2', 'gb2312>ucs2be', 'utf8>ucs2', 'utf8>ucs2be', 'ucs2>utf8', 'ucs2be>utf8']);
const LITE: Record<string, string> = { ucs2: 'utf16le', ucs2be: 'utf16be', gb2312: 'cp936', utf8: 'utf8' };

interface Conv {
  from: string;
  to: string;
}

function decodeStrict(b: Uint8Array, from: string): string | null {
  if (from === 'utf8') {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      return null;
    }
  }
  if (from === 'ucs2' || from === 'ucs2be') {
    if (b.length % 2) return null;
    const s = iconvLite.decode(Buffer.from(b), LITE[from]);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdfff) return null;
    }
    return s;
  }
  const s = iconvLite.decode(Buffer.from(b), LITE[from]);
  if (s.includes('\ufffd')) return null;
  return s;
}

function encodeStrict(s: string, to: string): Buffer | null {
  if (to === 'ucs2' || to === 'ucs2be') {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdfff) return null;
    }
  }
  const out = iconvLite.encode(s, LITE[to]);
  if (to === 'gb2312' && iconvLite.decode(out, LITE[to]) !== s) return null; // unmappable → '?'
  return out;
}

export function convert(c: Conv, b: Uint8Array): Buffer | null {
  const s = decodeStrict(b, c.from);
  return s === null ? null : encodeStrict(s, c.to);
}

export function openIconv(vm: Vm): void {
  const { e, L } = vm;
  e.newmetatable(L, ICONV_TYPE);
  e.createtable(L, 0, 1);
  vm.pushBinding('iconv.iconv', (a) => {
    const id = e.tohostobject(a.L, 1, ICONV_TYPE);
    if (id === null) a.typeError(1, ICONV_TYPE);
    const c = vm.getHostObject<Conv>(id);
    const s = a.bytes(2);
    const r = c ? convert(c, s) : null;
    e.pushbytes(a.L, r ?? Buffer.alloc(0));
    return 1;
  });
  e.setfield(L, -2, 'iconv');
  e.setfield(L, -2, '__index');
  vm.pushBinding('__gc', (a) => {
    const id = e.tohostobject(a.L, 1, ICONV_TYPE);
    if (id !== null) vm.removeHostObject(id);
    return 0;
  });
  e.setfield(L, -2, '__gc');
  e.pop(L, 1);

  const open = (a: import('../runtime/core/vm/lua-value').Args) => {
    const to = a.string(1);
    const from = a.string(2);
    if (!PAIRS.has(`${from}>${to}`)) return 0;
    const c: Conv = { from, to };
    e.newhostobject(a.L, vm.addHostObject(c), ICONV_TYPE);
    return 1;
  };
  vm.defineModule('iconv', { open, new: open }, { ERROR_NO_MEMORY: 1, ERROR_INVALID: 2, ERROR_INCOMPLETE: 3, ERROR_UNKNOWN: 4 });
}
