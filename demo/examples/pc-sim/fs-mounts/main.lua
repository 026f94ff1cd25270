-- exit code: 0
-- The PC simulator's mounts: /ram/ and /lfs2/ are writable (in memory), /luadb/ holds the scripts.
local function roundtrip(path, text)
    local f = io.open(path, "wb")
    if not f then return false end
    f:write(text)
    f:close()
    return io.readFile(path) == text
end

local ok = roundtrip("/ram/a.txt", "ram data") and roundtrip("/lfs2/b.txt", "lfs2 data")
local me = io.exists("/luadb/main.lua")
log.info("fs-mounts", "ram/lfs2", ok, "luadb", me)
os.exit((ok and me) and 0 or 1)
