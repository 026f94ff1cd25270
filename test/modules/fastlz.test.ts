import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { fastlzCompress, fastlzDecompress } from '../../luatos-api/shared/fastlz';
import { suite } from './util';
import { tempDir } from '../helpers/tmp';

const hex = (b: Uint8Array | null) => Buffer.from(b ?? []).toString('hex').toUpperCase();
const HELLO = Buffer.from('hello world '.repeat(50));

// Derived by hand from the format and the algorithm (see luatos-api/shared/fastlz.ts):
// positions 0 and 1 are never hashed and the table starts at 0, so at ip = 12 ("hel") the
// candidate is position 0: 12 literals (ctrl 0x0B), then one match of distance 12 running to
// 4 bytes before the end: cmp length 581 = 262 + 262 + 57. Level 1 splits it into two
// (7<<5, 253, 11) triples and (7<<5, 57-7 = 50, 11); the last 5 bytes ("orld ") are literals.
// Level 2 writes one match (7<<5, 255, 255, 574-510 = 64, 11) and sets the level bit in byte 0.
const L1 = '0B' + hex(Buffer.from('hello world ')) + 'E0FD0B' + 'E0FD0B' + 'E0320B' + '04' + hex(Buffer.from('orld '));
const L2 = '2B' + hex(Buffer.from('hello world ')) + 'E0FFFF400B' + '04' + hex(Buffer.from('orld '));

test('fastlz: level 1 and level 2 output equals the hand-derived vectors', () => {
  assert.equal(hex(fastlzCompress(HELLO, 1)), L1);
  assert.equal(hex(fastlzCompress(HELLO, 2)), L2);
  assert.equal(Buffer.from(fastlzDecompress(Buffer.from(L1, 'hex'), 4096)!).toString(), HELLO.toString());
  assert.equal(Buffer.from(fastlzDecompress(Buffer.from(L2, 'hex'), 4096)!).toString(), HELLO.toString());
  // short inputs (< 13 bytes) are one literal run
  assert.equal(hex(fastlzCompress(Buffer.from('abc'), 1)), '02616263');
  assert.equal(hex(fastlzCompress(Buffer.from('abc'), 2)), '22616263');
  assert.equal(fastlzCompress(Buffer.alloc(0), 1), null);
  assert.equal(fastlzCompress(HELLO, 3), null);
});

test('fastlz: decoder reads a hand-built level-2 stream with a long length run and a far (16-bit) distance', () => {
  // "abcd", then a match of distance 4 and length 8188 (length code 8186 - 7 = 32 * 255 + 19),
  // then a far match: distance 8192 → 8191 - 8191 = 0 as a 16-bit value after the 255 marker.
  const stream = Buffer.concat([
    Buffer.from([0x23, 0x61, 0x62, 0x63, 0x64]),
    Buffer.from([0xe0, ...Array(32).fill(0xff), 0x13, 0x03]),
    Buffer.from([0x3f, 0xff, 0x00, 0x00]),
    Buffer.from([0x00, 0x78]), // a closing literal: the C decoder wants 3 bytes left before a far distance
  ]);
  const out = fastlzDecompress(stream, 9000)!;
  assert.equal(out.length, 8192 + 4);
  assert.equal(Buffer.from(out).toString(), 'abcd'.repeat(2048) + 'abcx');
  assert.equal(fastlzDecompress(stream, 8000), null, 'maxout too small');
  assert.equal(fastlzDecompress(stream.subarray(0, stream.length - 2), 9000), null, 'far distance in the last 2 bytes (the C bound check)');
  assert.equal(fastlzDecompress(Buffer.from([0x40, 0x61]), 100), null, 'level 3 marker');
  assert.equal(fastlzDecompress(Buffer.from([0x00, 0x61, 0x20, 0x05]), 100), null, 'reference before the start');
});

/** a deterministic test corpus with short and far repeats */
function corpus(): Buffer[] {
  const out: Buffer[] = [];
  for (const len of [1, 2, 12, 13, 14, 15, 16, 33, 100, 1000, 9000, 20000, 70000, 100000]) {
    for (let s = 0; s < 4; s++) {
      let x = (len * 7919 + s * 104729) >>> 0;
      const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8;
      const b = Buffer.alloc(len);
      let i = 0;
      while (i < len) {
        if (i < 8 || rnd() % 4 === 0) b[i++] = 97 + (rnd() % (s === 0 ? 200 : 8));
        else {
          const d = 1 + (rnd() % Math.min(i, s % 2 ? 80000 : 300));
          const l = 3 + (rnd() % (s === 3 ? 700 : 20));
          for (let j = 0; j < l && i < len; j++, i++) b[i] = b[i - d];
        }
      }
      out.push(b);
    }
  }
  return out;
}

// The reference C library: set FASTLZ_SRC to a folder holding FastLZ's fastlz.c and fastlz.h
// (0.5.x, the version the firmware carries); it is compiled with gcc as the 32-bit device
// build (byte-wise match extension) and compared byte for byte.
test('fastlz: byte-exact with the FastLZ C library (FASTLZ_SRC + gcc; skipped otherwise)', (t) => {
  const src = process.env.FASTLZ_SRC;
  if (!src || !fs.existsSync(path.join(src, 'fastlz.c'))) {
    t.skip('FASTLZ_SRC is not set to a folder with fastlz.c: no C reference on this machine');
    console.log('# skipped: FASTLZ_SRC is not set to a folder with FastLZ fastlz.c/fastlz.h');
    return;
  }
  if (spawnSync('gcc', ['--version']).status !== 0) {
    t.skip('gcc not found');
    console.log('# skipped: gcc not found');
    return;
  }
  const dir = tempDir('luatos-fastlz-ref-');
  try {
    const driver = path.join(dir, 'driver.c');
    fs.writeFileSync(
      driver,
      [
        '#include <stdio.h>',
        '#include <stdlib.h>',
        '#include <string.h>',
        '#include <stdint.h>',
        '#undef __x86_64__',
        '#undef __aarch64__',
        `#include "${path.join(src, 'fastlz.c')}"`,
        'int main(int argc, char** argv) {',
        '  size_t cap = 1 << 20, n = 0, r; unsigned char* in = malloc(cap);',
        '  while ((r = fread(in + n, 1, cap - n, stdin)) > 0) { n += r; if (n == cap) { cap *= 2; in = realloc(in, cap); } }',
        '  unsigned char* out = malloc(n * 2 + 1024);',
        '  int m = fastlz_compress_level(atoi(argv[1]), in, (int)n, out);',
        '  fwrite(out, 1, m > 0 ? m : 0, stdout);',
        '  return 0;',
        '}',
      ].join('\n'),
    );
    const exe = path.join(dir, 'flz');
    execFileSync('gcc', ['-O1', '-w', '-I', src, '-o', exe, driver]);
    let n = 0;
    for (const input of corpus()) {
      for (const level of [1, 2]) {
        const ref = execFileSync(exe, [String(level)], { input });
        assert.equal(hex(fastlzCompress(input, level)), hex(ref), `length ${input.length} level ${level}`);
        assert.equal(hex(fastlzDecompress(ref, input.length)), hex(input));
        n++;
      }
    }
    console.log(`# fastlz: ${n} inputs byte-identical with the C library`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const BODY = String.raw`
local data = string.rep("hello world ", 50)
local c = fastlz.compress(data)
eq("compress level 1", c:toHex(), "${L1}")
eq("compress level 2", fastlz.compress(data, 2):toHex(), "${L2}")
eq("uncompress", fastlz.uncompress(c), data)
eqv("uncompress over maxout", {}, fastlz.uncompress(c, 100))
eqv("uncompress default maxout is 4096", {}, fastlz.uncompress(fastlz.compress(string.rep("x", 5000))))
eq("uncompress with maxout", #fastlz.uncompress(fastlz.compress(string.rep("x", 5000)), 5000), 5000)
eqv("compress empty", {}, fastlz.compress(""))
eqv("compress level 3", {}, fastlz.compress(data, 3))
eqv("uncompress garbage", {}, fastlz.uncompress("\64\1\2"))
raises("maxout beyond memory", "not enough memory", fastlz.uncompress, c, 1 << 30)
`;

for (const engine of ENGINE_NAMES) {
  test(`fastlz: binding returns and limits (${engine})`, async () => {
    const r = await suite(engine, BODY);
    assert.equal(r.checks, 10);
  });
}
