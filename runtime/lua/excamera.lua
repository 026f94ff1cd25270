--[[
@module  excamera
@summary camera helper library (luatos-pc's own implementation, luatos-api.md §12.4)
@usage
    local excamera = require "excamera"
    sys.taskInit(function()
        if excamera.open({id = camera.USB, sensor_width = 1280, sensor_height = 720, usb_port = 1,
                          fps = 15, h264_pframe_nums = 29, save_path = "/photo.jpg"}) then
            local ok, where = excamera.photo()          -- true, "/photo.jpg"
            excamera.rtmp()                              -- frames flow once an rtmp object publishes
        end
    end)

Functions (all of them except close must run inside a task when they wait):
  excamera.open(param)  -> true/false. USB/DVP cameras: skips when already open; camera.init(param)
                           (failure logs "USB摄像头初始化失败，请确认软硬件配置"); applies the optional
                           fps and h264_* fields through camera.config(0, ...); registers the
                           "scanned" handler (publishes CAPTURE_DONE (true, value | false) and SCAN_DONE);
                           camera.stop(id). save_path: a file path (default "/capture.jpg") or "ZBUFF"
                           (a zbuff of w*h*2 bytes kept by the library).
                           String ids (SPI cameras: "gc032a", ...) are not supported here -> false.
  excamera.photo([x, y, w, h]) -> true, path|zbuff  /  false. Waits up to 5 s for CAPTURE_DONE.
  excamera.capture(...)  same as photo.
  excamera.rtmp()        -> camera.start(id); logs "excamera.rtmp 摄像头启动成功"; true/false.
  excamera.scan(ms)      -> false (no scan mode for USB/DVP cameras).
  excamera.video(path, ms) -> false (no MP4 recording here).
  excamera.close([keep_zbuff]) -> stops (if started by rtmp) and closes the camera, resets state.
]]

local excamera = {}

local H264_FIELDS = {
    h264_qp_init = "CONF_H264_QP_INIT",
    h264_qp_i_max = "CONF_H264_QP_I_MAX",
    h264_qp_p_max = "CONF_H264_QP_P_MAX",
    h264_imb_bits = "CONF_H264_IMB_BITS",
    h264_pmb_bits = "CONF_H264_PMB_BITS",
    h264_pframe_nums = "CONF_H264_PFRAME_NUMS",
}

local st = {}

local function reset()
    st = { id = nil, opened = false, streaming = false, path = nil, buff = nil }
end
reset()

local function on_scanned(id, ev)
    if type(ev) == "string" then
        log.info("excamera", "扫码结果", ev)
        sys.publish("SCAN_DONE", ev)
    elseif ev == false then
        log.error("excamera", "摄像头没有数据")
        sys.publish("CAPTURE_DONE", false)
    else
        log.info("excamera", "摄像头数据", ev)
        sys.publish("CAPTURE_DONE", true, ev)
    end
end

function excamera.open(param)
    if type(param) ~= "table" then
        log.error("excamera.open", "参数错误, 需要配置表")
        return false
    end
    local id = param.id
    if id == nil then id = camera.USB end
    if type(id) == "string" then
        log.error("excamera.open", "SPI摄像头 " .. id .. " 不支持")
        return false
    end
    if st.opened then
        log.info("excamera.open", "摄像头已打开")
        return true
    end
    local cfg = {}
    for k, v in pairs(param) do cfg[k] = v end
    cfg.id = id
    if not camera.init(cfg) then
        log.error("excamera.open", "USB摄像头初始化失败，请确认软硬件配置")
        return false
    end
    if param.fps then camera.config(0, camera.CONF_UVC_FPS, param.fps) end
    for field, key in pairs(H264_FIELDS) do
        if param[field] ~= nil then camera.config(0, camera[key], param[field]) end
    end
    camera.on(id, "scanned", on_scanned)
    camera.stop(id)
    st.id = id
    st.opened = true
    if param.save_path == "ZBUFF" then
        local w = param.sensor_width or 1280
        local h = param.sensor_height or 720
        st.buff = zbuff.create(w * h * 2, 0)
        if not st.buff then
            log.error("excamera.open", "ZBUFF创建失败")
            return false
        end
        st.path = st.buff
    else
        st.path = param.save_path or "/capture.jpg"
    end
    return true
end

function excamera.photo(x, y, w, h)
    if not st.opened then
        log.error("excamera.photo", "摄像头未初始化，请先调用excamera.open")
        return false
    end
    if not st.streaming then camera.start(st.id) end
    if type(st.path) == "userdata" then st.buff:seek(0) end
    log.info("excamera.photo", "照片存储路径", st.path)
    local ok = camera.capture(st.id, st.path, 1, x, y, w, h)
    local got, result = false, nil
    if ok then got, result = sys.waitUntil("CAPTURE_DONE", 5000) end
    if not st.streaming then camera.stop(st.id) end
    if not ok then
        log.error("excamera.photo", "拍照失败，请重试")
        return false
    end
    if not got then
        log.error("excamera.photo", "拍照超时，无照片生成")
        return false
    end
    if result == false then
        log.error("excamera.photo", "拍照失败")
        return false
    end
    log.info("excamera.photo", "拍照完成")
    return true, st.path
end

excamera.capture = excamera.photo

function excamera.rtmp()
    if not st.opened then
        log.error("excamera.rtmp", "摄像头未初始化，请先调用excamera.open")
        return false
    end
    if camera.start(st.id) then
        st.streaming = true
        log.info("excamera.rtmp", "摄像头启动成功")
        return true
    end
    log.error("excamera.rtmp", "摄像头启动失败")
    return false
end

function excamera.scan(ms)
    log.error("excamera.scan", "USB/DVP摄像头不支持扫码模式")
    return false
end

function excamera.video(file_path, duration)
    log.error("excamera.video", "不支持录像")
    return false
end

function excamera.close(keep_zbuff)
    if st.opened and st.id ~= nil then
        if st.streaming then camera.stop(st.id) end
        camera.close(st.id)
    end
    if st.buff and not keep_zbuff then
        st.buff:free()
    end
    reset()
end

return excamera
