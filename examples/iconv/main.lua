-- iconv: UTF-8 text to GB2312 for a display or SMS module, and back
PROJECT = "iconv_demo"
VERSION = "1.0.0"
sys = require("sys")

sys.taskInit(function()
    local text = "合宙中文"
    local to_ucs2 = iconv.open("ucs2", "utf8")
    local to_gb = iconv.open("gb2312", "ucs2")
    local ucs2 = to_ucs2:iconv(text)
    local gb = to_gb:iconv(ucs2)
    log.info("iconv", "ucs2", ucs2:toHex())
    log.info("iconv", "gb2312", gb:toHex())
    local back = iconv.open("utf8", "ucs2"):iconv(iconv.open("ucs2", "gb2312"):iconv(gb))
    log.info("iconv", "back", back, back == text)
    log.info("iconv", "ucs2be", iconv.open("ucs2be", "utf8"):iconv("A中"):toHex())
    log.info("iconv", "no direct pair", iconv.open("gb2312", "utf8"))
    log.info("iconv", "done")
end)

sys.run()
