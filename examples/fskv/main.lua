-- fskv: a boot counter and a settings table that survive reboots and new runs
PROJECT = "fskv_demo"
VERSION = "1.0.0"
sys = require("sys")

sys.taskInit(function()
    if not fskv.init() then
        log.error("fskv", "init failed")
        return
    end
    local boots = (fskv.get("boots") or 0) + 1
    fskv.set("boots", boots)
    log.info("fskv", "boots", boots)
    fskv.sett("settings", "volume", 7)
    fskv.sett("settings", "name", "kitchen")
    log.info("fskv", "settings", fskv.get("settings", "volume"), fskv.get("settings", "name"))
    fskv.set("ratio", 0.5)
    fskv.set("enabled", true)
    log.info("fskv", "values", fskv.get("ratio"), fskv.get("enabled"))
    local it = fskv.iter()
    local keys = {}
    while true do
        local k = fskv.next(it)
        if not k then break end
        table.insert(keys, k)
    end
    table.sort(keys)
    log.info("fskv", "keys", table.concat(keys, ","))
    local used, total, count = fskv.status()
    log.info("fskv", "status", used, total, count)
    log.info("fskv", "done")
end)

sys.run()
