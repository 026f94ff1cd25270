--[[
exnetif (luatos-pc's own version, written from the documented behaviour of the Feb 2026 library)

Chooses the network card scripts use. API:
  exnetif.set_priority_order(list)   list of {WIFI={...}} / {ETHERNET={...}} / {ETHUSER1={...}} /
                                     {LWIP_GP=true}, highest priority first → true/false
  exnetif.notify_status(fn)          fn(net_type_string|nil, adapter|-1) when the card in use changes
  exnetif.check_network_status(ms?)  re-check the connected cards (once, or every ms)
  exnetif.setproxy(...)              network sharing: not supported on luatos-pc (logs, false)
  exnetif.close()                    stop: disconnect Wi-Fi, forget the configuration

Single network (one entry, the demo's case): Wi-Fi is initialised and connected, the card becomes
the default adapter at once, nothing is awaited, subscribed or published; returns true.

Several entries ("multi-network priority mode") are only partly supported on luatos-pc: only the
Wi-Fi station exists (ETHERNET, ETHUSER1 and 4G are logged as unsupported and skipped), and a
card counts as usable after IP_READY plus a check: need_ping=false → at once; ping_ip → ICMP is
not available, logged, treated as reachable; otherwise httpdns.ali("baidu.com").

Loading it creates the globals dnsproxy, dhcpsrv and httpdns.
]]
local exnetif = {}

dnsproxy = require("dnsproxy")
dhcpsrv = require("dhcpsrv")
httpdns = require("httpdns")

local ST = { DISCONNECTED = 0, CONNECTING = 1, CONNECTED = 2, OPENED = 3, SINGLE_NETWORK = 4 }

local NAMES = {
    [socket.LWIP_STA] = "WiFi",
    [socket.LWIP_ETH] = "Ethernet",
    [socket.LWIP_GP] = "4G",
    [socket.LWIP_USER1] = "8101SPIETH",
    [socket.LWIP_GP_GW] = "airlink_4G",
}
local function name_of(adapter) return NAMES[adapter] or "Unknown" end

local state = {
    [socket.LWIP_STA] = ST.DISCONNECTED,
    [socket.LWIP_ETH] = ST.DISCONNECTED,
    [socket.LWIP_GP] = ST.DISCONNECTED,
    [socket.LWIP_USER1] = ST.DISCONNECTED,
    [socket.LWIP_GP_GW] = ST.DISCONNECTED,
}

local cfg = {
    single = false,
    need_ping = true,
    ping_ip = {},
    ping_time = 10000,
    interval = nil,
    priority = { socket.LWIP_STA },
    active = nil,
    wifi_ssid = nil,
    tasks_started = false,
}

local on_change = function() end

local function choose_default()
    for _, adapter in ipairs(cfg.priority) do
        if state[adapter] == ST.CONNECTED then
            if cfg.active ~= adapter then
                log.info("设置网卡", name_of(adapter))
                on_change(name_of(adapter), adapter)
                socket.dft(adapter)
                cfg.active = adapter
            end
            return
        end
    end
    if cfg.active ~= nil then
        cfg.active = nil
        on_change(nil, -1)
    end
end

local function watch_sockets(adapter)
    if not netdrv.on then return end
    log.info("netdrv", "订阅socket连接状态变化事件", name_of(adapter))
    netdrv.on(adapter, netdrv.EVT_SOCKET, function(id, event, params)
        if (event == "timeout" or event == "error") and state[adapter] == ST.CONNECTED then
            state[adapter] = ST.CONNECTING
        end
    end)
end

local function start_wifi(conf)
    if conf.local_network_mode then cfg.local_network_mode = true end
    if conf.need_ping ~= nil then cfg.need_ping = conf.need_ping end
    cfg.ping_ip[socket.LWIP_STA] = conf.ping_ip
    if type(conf.ping_time) == "number" then cfg.ping_time = conf.ping_time end
    log.info("WiFi名称:", conf.ssid)
    log.info("密码     :", conf.password)
    log.info("ping_ip  :", conf.ping_ip)
    wlan.init()
    state[socket.LWIP_STA] = cfg.single and ST.SINGLE_NETWORK or ST.OPENED
    if not wlan.connect(conf.ssid, conf.password) then
        log.error("WiFi连接失败")
        return false
    end
    cfg.wifi_ssid = conf.ssid
    log.info("WiFi STA初始化完成")
    watch_sockets(socket.LWIP_STA)
    return true
end

local function wifi_entry(conf)
    if state[socket.LWIP_STA] == ST.DISCONNECTED then
        return start_wifi(conf)
    end
    if conf.ssid == cfg.wifi_ssid then
        log.info("wifi不是关闭状态，跳过初始化")
        return true
    end
    -- another network: drop the current one first (needs a task, as on the device)
    wlan.disconnect()
    sys.wait(500)
    state[socket.LWIP_STA] = ST.DISCONNECTED
    return start_wifi(conf)
end

-- ------------------------------------------------------------------ multi-network checks

local function check_card(adapter)
    if not cfg.need_ping then
        log.info(name_of(adapter) .. "配置了不需要ping，直接切换为CONNECTED状态")
        state[adapter] = ST.CONNECTED
    elseif cfg.ping_ip[adapter] then
        log.warn("exnetif", "luatos-pc: icmp ping 不支持, 视为网络可用", name_of(adapter), cfg.ping_ip[adapter])
        state[adapter] = ST.CONNECTED
    else
        local ip = httpdns.ali("baidu.com", { adapter = adapter, timeout = 3000 })
        if ip then
            state[adapter] = ST.CONNECTED
            log.info(name_of(adapter) .. "网卡httpdns域名解析成功")
        else
            log.info(name_of(adapter) .. "网卡httpdns域名解析失败")
        end
        log.info("httpdns", "baidu.com", ip)
    end
    choose_default()
end

local function on_ip_ready(ip, adapter)
    if state[adapter] == nil or state[adapter] == ST.DISCONNECTED then return end
    local _, _, gw = socket.localIP(adapter)
    log.info("ip_ready_handle", ip, name_of(adapter), "state", state[adapter], "gw", gw)
    if cfg.local_network_mode then cfg.ping_ip[adapter] = gw end
    if state[adapter] == ST.OPENED then state[adapter] = ST.CONNECTING end
end

local function on_ip_lose(adapter)
    if state[adapter] == nil then return end
    log.info("ip_lose_handle", name_of(adapter))
    if state[adapter] == ST.CONNECTING or state[adapter] == ST.CONNECTED then state[adapter] = ST.OPENED end
    if cfg.active == adapter then
        log.info(name_of(adapter) .. " 失效，切换到其他网络")
        choose_default()
    end
end

local function start_multi_tasks()
    if cfg.tasks_started then return end
    cfg.tasks_started = true
    sys.taskInit(function()
        while true do
            for _, adapter in ipairs(cfg.priority) do
                if state[adapter] == ST.CONNECTING then
                    log.info(name_of(adapter) .. "网卡开始PING")
                    check_card(adapter)
                    if state[adapter] ~= ST.CONNECTED then sys.wait(cfg.ping_time) end
                end
            end
            sys.wait(1000)
        end
    end)
    sys.taskInit(function()
        while true do
            if cfg.interval then
                sys.wait(cfg.interval)
                exnetif.check_network_status()
            end
            sys.wait(1000)
        end
    end)
    sys.subscribe("IP_READY", on_ip_ready)
    sys.subscribe("IP_LOSE", on_ip_lose)
end

-- ------------------------------------------------------------------ API

function exnetif.set_priority_order(list)
    if type(list) ~= "table" or #list < 1 then
        log.error("网络配置为空")
        return false
    end
    cfg.single = (#list == 1)
    if not cfg.single then
        log.warn("exnetif", "luatos-pc: 多网络优先级模式仅部分支持: 只有WiFi(STA)网卡, 以太网/4G不存在, icmp ping不支持")
        start_multi_tasks()
    end
    local order = {}
    for _, entry in ipairs(list) do
        if type(entry.WIFI) == "table" then
            if wifi_entry(entry.WIFI) == false then
                log.error("wifi连接失败")
                return false
            end
            order[#order + 1] = socket.LWIP_STA
        end
        if type(entry.ETHUSER1) == "table" then
            log.warn("exnetif", "luatos-pc: ETHUSER1 (SPI以太网, CH390) 不支持, 已跳过")
        end
        if type(entry.ETHERNET) == "table" then
            log.warn("exnetif", "luatos-pc: ETHERNET (以太网) 不支持, 已跳过")
        end
        if entry.LWIP_GP then
            log.warn("exnetif", "luatos-pc: LWIP_GP (4G) 不支持, 已跳过")
        end
    end
    if #order == 0 then
        log.error("exnetif", "luatos-pc: 没有可用的网卡配置")
        return false
    end
    cfg.priority = order
    socket.dft(order[1])
    choose_default()
    return true
end

function exnetif.notify_status(fn)
    log.info("notify_status", type(fn))
    if type(fn) ~= "function" then
        log.error("notify_status设置错误，请传入一个函数")
        return
    end
    on_change = fn
end

function exnetif.check_network_status(interval)
    if interval ~= nil then cfg.interval = interval end
    for _, adapter in ipairs(cfg.priority) do
        if state[adapter] == ST.CONNECTED then state[adapter] = ST.CONNECTING end
    end
end

function exnetif.setproxy(adapter, main_adapter, opts)
    log.warn("exnetif", "luatos-pc: setproxy (多网融合/网络共享) 不支持", adapter, main_adapter)
    return false
end

function exnetif.close()
    if state[socket.LWIP_STA] ~= ST.DISCONNECTED then
        wlan.disconnect()
    end
    for k in pairs(state) do state[k] = ST.DISCONNECTED end
    cfg.wifi_ssid = nil
    cfg.active = nil
    return true
end

return exnetif
