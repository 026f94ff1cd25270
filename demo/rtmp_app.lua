-- Ask the video platform for an RTMP URL, start the USB camera and push it over RTMP.
-- Written for luatos-pc with the same calls and user log lines as the LuatOS demo.

-- credentials the platform knows this device by (edit for your own account)
local PostBody = {deviceAccess = "8", deviceUser = "admin", devicePsd = "Air123456"}

local rtmpc
local reconnecting = false

local function state_changed(state, ...)
    log.info("rtmp状态变化", state, ...)
    if state == rtmp.STATE_CONNECTED then
        log.info("rtmp状态变化", "已连接到推流服务器")
    elseif state == rtmp.STATE_PUBLISHING then
        log.info("rtmp状态变化", "已开始推流")
    elseif state == rtmp.STATE_ERROR or state == rtmp.STATE_IDLE then
        log.info("rtmp状态变化", "出错:", ...)
        sys.publish("RECONNECT_RTMP", ...)
    end
end

local function rtmp_task()
    log.info("当前脚本版本号：", VERSION, "core版本号：", rtos.version())
    while not socket.adapter(socket.dft()) do
        log.warn("wait IP_READY", socket.dft())
        sys.waitUntil("IP_READY", 1000)
    end

    local device_id
    if rtos.bsp() == "Air8101" then
        device_id = netdrv.mac(socket.LWIP_STA)
    else
        device_id = mobile.imei()
    end
    log.info("打印设备的ID号", device_id)

    local url = "http://video.luatos.com:10030/api-system/deviceVideo/get/" .. device_id
    log.info("打印的URL", url)
    local code, headers, body = http.request("POST", url, {
        ["Accept-Encoding"] = "identity",
        ["Host"] = "video.luatos.com:10030",
        ["Content-Type"] = "application/json",
    }, json.encode(PostBody)).wait()
    log.info("打印的请求code", code)
    log.info("打印的请求body", body)

    if code == 200 then
        local data = json.decode(body)
        if data.code ~= 200 then
            log.info("请求视频URL失败", data.msg)
            return
        end
        rtmpurl = data.data.urlList[1]
        log.info("请求得到的RTMP地址", rtmpurl)
    end

    -- H.264 encoder settings of the USB camera
    camera.config(0, camera.CONF_UVC_FPS, 15)
    camera.config(0, camera.CONF_H264_QP_INIT, 40)
    camera.config(0, camera.CONF_H264_QP_I_MAX, 40)
    camera.config(0, camera.CONF_H264_QP_P_MAX, 25)
    camera.config(0, camera.CONF_H264_IMB_BITS, 8)
    camera.config(0, camera.CONF_H264_PMB_BITS, 4)
    camera.config(0, camera.CONF_H264_PFRAME_NUMS, 29)

    socket.sntp()
    local result = camera.init({id = camera.USB, sensor_width = 1280, sensor_height = 720, usb_port = 1})
    log.info("摄像头初始化", result)
    if result ~= 0 then
        sys.wait(5000)
        rtos.reboot()
    end
    camera.start(camera.USB)

    rtmpc = rtmp.create(rtmpurl)
    rtmpc:setCallback(state_changed)
    log.info("开始连接到推流服务器...")
    sys.wait(5000)
    rtmpc:connect()
    log.info("rtmp 开始推流...")
    rtmpc:start()

    while true do
        sys.wait(30000)
        log.info("lua", rtos.meminfo())
        log.info("sys", rtos.meminfo("sys"))
        log.info("psram", rtos.meminfo("psram"))
    end
end

local function rtmp_try_reconnect()
    while true do
        sys.waitUntil("RECONNECT_RTMP")
        if reconnecting or rtmpc == nil then
            return
        end
        reconnecting = true
        rtmpc:disconnect()
        while true do
            sys.wait(60000)
            socket.adapter()
            rtmpc:connect()
            sys.wait(1000)
            local st = rtmpc:getState()
            if st == rtmp.STATE_CONNECTED or st == rtmp.STATE_PUBLISHING then
                rtmpc:start()
                break
            end
        end
        reconnecting = false
    end
end

sys.taskInit(rtmp_task)
sys.taskInit(rtmp_try_reconnect)
