import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { suite } from './util';

// iconv against known code points and GB2312/GBK bytes: 中 U+4E2D = GB D6D0, 文 U+6587 =
// CEC4, 你 U+4F60 = C4E3, 好 U+597D = BAC3 (GB 2312 code chart); UTF-8 of 中 is E4 B8 AD.
const BODY = String.raw`
local H = function(s) return (string.toHex(s)) end
local u2g = iconv.open("gb2312", "ucs2")
local g2u = iconv.open("ucs2", "gb2312")
local g2ub = iconv.open("ucs2be", "gb2312")
local u82u = iconv.open("ucs2", "utf8")
local u82ub = iconv.open("ucs2be", "utf8")
local u2u8 = iconv.open("utf8", "ucs2")
local ub2u8 = iconv.open("utf8", "ucs2be")
local ub2g = iconv.open("gb2312", "ucs2be")
eq("handle", type(u2g), "userdata")
eq("utf8 -> ucs2", H(u82u:iconv("中文")), "2D4E8765")
eq("utf8 -> ucs2be", H(u82ub:iconv("你好A")), "4F60597D0041")
eq("ucs2 -> gb2312", H(u2g:iconv(("2D4E8765"):fromHex())), "D6D0CEC4")
eq("ucs2be -> gb2312", H(ub2g:iconv(("4F60597D0041"):fromHex())), "C4E3BAC341")
eq("gb2312 -> ucs2", H(g2u:iconv(("C4E3BAC3"):fromHex())), "604F7D59")
eq("gb2312 -> ucs2be", H(g2ub:iconv(("D6D0CEC4"):fromHex())), "4E2D6587")
eq("ucs2 -> utf8", u2u8:iconv(("2D4E8765"):fromHex()), "中文")
eq("ucs2be -> utf8", ub2u8:iconv(("4F60597D"):fromHex()), "你好")
eq("utf8 -> gb2312 through ucs2", H(u2g:iconv(u82u:iconv("中文"))), "D6D0CEC4")
eqv("no utf8 -> gb2312 pair", {}, iconv.open("gb2312", "utf8"))
eqv("no gb2312 -> utf8 pair", {}, iconv.open("utf8", "gb2312"))
eqv("names are exact", {}, iconv.open("UCS2", "utf8"))
eq("new is open", type(iconv.new("ucs2", "utf8")), "userdata")
eq("invalid utf8 gives empty", u82u:iconv("\255\254"), "")
eq("odd-length ucs2 gives empty", u2u8:iconv("\45"), "")
eq("unmappable in gb2312 (Thai U+0E01) gives empty", u2g:iconv(("010E"):fromHex()), "")
eq("surrogates are not UCS-2", u2u8:iconv(("3DD800DE"):fromHex()), "")
eq("truncated gb2312 gives empty", g2u:iconv("\214"), "")
eq("close is not registered", iconv.close, nil)
eq("constants", iconv.ERROR_NO_MEMORY .. iconv.ERROR_INVALID .. iconv.ERROR_INCOMPLETE .. iconv.ERROR_UNKNOWN, "1234")
`;

for (const engine of ENGINE_NAMES) {
  test(`iconv: gb2312/ucs2/utf8 pairs against known GB2312 bytes and code points (${engine})`, async () => {
    const r = await suite(engine, BODY);
    assert.equal(r.checks, 21);
  });
}
