-- exit code: 1
-- A task error ends the VM: the PC simulator logs "Lua VM exit!! reboot in 1000ms" and the
-- process exits with 1 a second later (there is no reboot on a PC).
sys.taskInit(function()
    sys.wait(50)
    local t = nil
    log.info("task-error", "about to fail")
    return t.field
end)

sys.run()
