import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { suite } from './util';

// miniz against Node's zlib as the independent implementation: our output must inflate with
// zlib, zlib's output must uncompress with ours; limits from luat_lib_miniz.c.
const TEXT = 'LuatOS miniz 测试 '.repeat(40);
const NODE_Z = zlib.deflateSync(Buffer.from(TEXT), { level: 9 }).toString('hex');
const NODE_RAW = zlib.deflateRawSync(Buffer.from(TEXT)).toString('hex');
const BIG_Z = zlib.deflateSync(Buffer.alloc(90000)).toString('hex'); // inflates past 85196 bytes
const OK_Z = zlib.deflateSync(Buffer.alloc(85196, 0x41)).toString('hex');

const BODY = String.raw`
local text = string.rep("LuatOS miniz 测试 ", 40)
eq("constants", miniz.WRITE_ZLIB_HEADER + miniz.PARSE_ZLIB_HEADER + miniz.FORCE_ALL_RAW_BLOCKS, 0x1000 + 1 + 0x80000)
local c = miniz.compress(text)
eq("zlib header", c:byte(1), 0x78)
log.info("OUT1", c:toHex())
log.info("OUT2", miniz.compress(text, 0):toHex())
log.info("OUT3", miniz.compress(text, miniz.WRITE_ZLIB_HEADER | 128):toHex())
log.info("OUT4", miniz.compress(text, miniz.WRITE_ZLIB_HEADER | miniz.FORCE_ALL_RAW_BLOCKS):toHex())
eq("uncompress zlib's stream", miniz.uncompress(("${NODE_Z}"):fromHex()), text)
eq("uncompress raw deflate without PARSE_ZLIB_HEADER", miniz.uncompress(("${NODE_RAW}"):fromHex(), 0), text)
eqv("raw deflate with PARSE_ZLIB_HEADER fails", {}, miniz.uncompress(("${NODE_RAW}"):fromHex()))
eq("output of exactly 85196 bytes", #miniz.uncompress(("${OK_Z}"):fromHex()), 85196)
eqv("output over 85196 bytes", {}, miniz.uncompress(("${BIG_Z}"):fromHex()))
eqv("input over 32768 bytes", {}, miniz.compress(string.rep("a", 32769)))
eq("input of 32768 bytes", type(miniz.compress(string.rep("a", 32768))), "string")
eqv("uncompress input over 32768 bytes", {}, miniz.uncompress(string.rep("a", 32769)))
eqv("corrupt stream", {}, miniz.uncompress("\120\156garbage"))
eqv("truncated stream", {}, miniz.uncompress(c:sub(1, #c - 6)))
`;

for (const engine of ENGINE_NAMES) {
  test(`miniz: compress output inflates with node:zlib, zlib streams uncompress, firmware size limits (${engine})`, async () => {
    const r = await suite(engine, BODY);
    assert.equal(r.checks, 12);
    const logs = r.run.lines.filter((l) => l.includes(':miniz:')).map((l) => l.replace(/^.*luat:(\w)\(\d+\):/, '$1 '));
    assert.deepEqual(logs, [
      'W miniz:decompress fail', // raw deflate with PARSE_ZLIB_HEADER
      'W miniz:decompress fail', // over 85196 bytes
      'E miniz:only 32k data is allow',
      'E miniz:only 32k data is allow',
      'W miniz:decompress fail',
      'W miniz:decompress fail',
    ]);
    const out = (tag: string) => Buffer.from(r.run.user.find((u) => u.startsWith(`I/user.${tag} `))!.split(' ')[1], 'hex');
    assert.equal(zlib.inflateSync(out('OUT1')).toString(), TEXT, 'default flags: a zlib stream');
    assert.equal(zlib.inflateRawSync(out('OUT2')).toString(), TEXT, 'flags 0: raw deflate');
    assert.equal(zlib.inflateSync(out('OUT3')).toString(), TEXT, '128 probes');
    assert.equal(zlib.inflateSync(out('OUT4')).toString(), TEXT, 'raw blocks');
    // the default flags have 0 probes: Huffman-only, so no LZ matches make it smaller than
    // a matching compressor's output; stored blocks are larger than the input
    assert.ok(out('OUT1').length > out('OUT3').length, 'Huffman-only output is larger than with matches');
    assert.ok(out('OUT4').length > Buffer.byteLength(TEXT), 'stored blocks');
  });
}
