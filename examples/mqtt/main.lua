--[[
MQTT demo (written for luatos-pc from the LuatOS mqtt API facts): Wi-Fi up, then one client that
  - sets a will (published by the broker if the device drops off without saying goodbye),
  - reconnects by itself (autoreconn) and subscribes again in every conack (the firmware does not
    restore subscriptions),
  - publishes with QoS 0, 1 and 2 every 2 s and logs what comes back.

Run it against a local broker (any MQTT 3.1.1 broker, e.g. `mosquitto -p 1883`):
  luatos run examples/mqtt --map lbsmqtt.airm2m.com:1884=127.0.0.1:1883
]]
PROJECT = "mqttdemo"
VERSION = "1.0.0"

local HOST, PORT = "lbsmqtt.airm2m.com", 1884
local client_id = "luatos-pc-" .. (mcu.unique_id and mcu.unique_id():toHex() or "demo")
local topic_up = "/luatos/pc/" .. client_id .. "/up"
local topic_down = "/luatos/pc/" .. client_id .. "/down"

local mqttc

local function on_mqtt(client, event, data, payload, meta)
    if event == "conack" then
        log.info("mqtt", "connected, subscribing", topic_down)
        client:subscribe({[topic_down] = 1, [topic_up] = 2})
        sys.publish("mqtt_conack")
    elseif event == "suback" then
        log.info("mqtt", "suback", data, payload)
    elseif event == "recv" then
        log.info("mqtt", "recv", data, payload, "qos", meta.qos, "retain", meta.retain)
    elseif event == "sent" then
        log.info("mqtt", "sent", data)
    elseif event == "disconnect" then
        log.warn("mqtt", "disconnect", data)
    elseif event == "error" then
        log.error("mqtt", "error", data, payload)
    elseif event == "close" then
        log.warn("mqtt", "closed")
    else
        log.info("mqtt", event)
    end
end

sys.taskInit(function()
    wlan.init()
    wlan.connect("luatos-pc", "12345678")
    local ok = sys.waitUntil("IP_READY", 15000)
    log.info("wlan", "IP_READY", ok, socket.localIP())

    mqttc = mqtt.create(nil, HOST, PORT)
    if not mqttc then
        log.error("mqtt", "create failed")
        return
    end
    mqttc:auth(client_id, "", "", true)
    mqttc:keepalive(60)
    mqttc:will(topic_up .. "/will", "offline", 1, 0)
    mqttc:autoreconn(true, 3000)
    mqttc:on(on_mqtt)
    log.info("mqtt", "connect", mqttc:connect())
    sys.waitUntil("mqtt_conack", 30000)

    local round = 0
    while true do
        if mqttc:ready() then
            round = round + 1
            for qos = 0, 2 do
                local id = mqttc:publish(topic_up, "round " .. round .. " qos " .. qos, qos)
                log.info("mqtt", "publish", "qos", qos, "id", id)
            end
        else
            log.info("mqtt", "not ready, state", mqttc:state())
        end
        sys.wait(2000)
    end
end)

sys.run()
