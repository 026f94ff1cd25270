-- miniz: compress a JSON report before sending it, and restore it; unpack a zip archive
-- (site.zip, made with `python3 -m zipfile -c site.zip site`) into the flash file system
PROJECT = "miniz_demo"
VERSION = "1.0.0"
sys = require("sys")

sys.taskInit(function()
    local rows = {}
    for i = 1, 50 do rows[i] = {id = i, state = "ok", temp = 20 + i % 5} end
    local report = json.encode(rows)
    local packed = miniz.compress(report)
    log.info("miniz", "before", #report, "after", #packed)
    local restored = miniz.uncompress(packed)
    log.info("miniz", "restored", restored == report)
    -- raw deflate without the zlib header
    local raw = miniz.compress(report, 0)
    log.info("miniz", "raw", #raw, miniz.uncompress(raw, 0) == report)
    log.info("miniz", "too big", miniz.compress(string.rep("x", 40000)))
    -- a zip archive from the script image (/luadb/) into a folder on flash (trailing "/")
    log.info("miniz", "unzip", miniz.unzip("/luadb/site.zip", "/www/"))
    local page = io.readFile("/www/site/index.html")
    log.info("miniz", "index.html", page and #page, page and page:match("<h1>(.-)</h1>"))
    log.info("miniz", "app.css", io.fileSize("/www/site/css/app.css"))
    log.info("miniz", "done")
end)

sys.run()
