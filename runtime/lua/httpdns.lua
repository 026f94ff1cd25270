--[[
httpdns (luatos-pc's own version, written from the documented behaviour)

Name resolution over HTTP, independent of the adapter's DNS servers:
  httpdns.ali(name, opts)  GET http://223.5.5.5/resolve?short=1&name=<name>  → first IP or nil
  httpdns.tx(name, opts)   GET http://119.29.29.29/d?dn=<name>               → first IP or nil
opts: {adapter=, timeout= (ms)}. Must be called inside a task (it waits for the HTTP answer).
Host mapping (--map 223.5.5.5=127.0.0.1:8053) lets tests answer these locally.
]]
local httpdns = {}

local function get(url, opts)
    opts = opts or {}
    local code, _, body = http.request("GET", url, nil, nil, { adapter = opts.adapter, timeout = opts.timeout or 3000 }).wait()
    if code ~= 200 or type(body) ~= "string" then return nil end
    return body
end

local function first_ip(text)
    if not text then return nil end
    return text:match("(%d+%.%d+%.%d+%.%d+)")
end

function httpdns.ali(name, opts)
    if type(name) ~= "string" or #name == 0 then return nil end
    local body = get("http://223.5.5.5/resolve?short=1&name=" .. name, opts)
    if not body then return nil end
    local arr = json.decode(body)
    if type(arr) == "table" and type(arr[1]) == "string" then return arr[1] end
    return first_ip(body)
end

function httpdns.tx(name, opts)
    if type(name) ~= "string" or #name == 0 then return nil end
    return first_ip(get("http://119.29.29.29/d?dn=" .. name, opts))
end

return httpdns
