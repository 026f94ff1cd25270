-- hmeta: hardware metadata (model, chip, hardware version) from the device profile
-- luatos run examples/hmeta --profile examples/hmeta/pc-profile.json
PROJECT = "hmeta_demo"
VERSION = "1.0.0"
sys = require("sys")

sys.taskInit(function()
    log.info("hmeta", "model", hmeta.model())
    log.info("hmeta", "hwver", hmeta.hwver())
    log.info("hmeta", "chip", hmeta.chip())
    log.info("hmeta", "muid", hmeta.muid())
    log.info("hmeta", "devid", hmeta.devid())
    log.info("hmeta", "unique_id", hmeta.unique_id():toHex())
    log.info("hmeta", "done")
end)

sys.run()
