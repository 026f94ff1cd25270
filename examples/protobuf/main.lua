-- protobuf: load a descriptor (protoc -o person.pb person.proto), encode and decode
PROJECT = "protobuf_demo"
VERSION = "1.0.0"
sys = require("sys")

sys.taskInit(function()
    local ok, pos = protobuf.load(io.readFile("/luadb/person.pb"))
    log.info("protobuf", "load", ok, pos)
    local tb = {
        name = "wendal",
        id = 123,
        email = "abc@qq.com"
    }
    local pbdata = protobuf.encode("Person", tb)
    log.info("protobuf", "encode", #pbdata, pbdata:toHex())
    local data = protobuf.decode("Person", pbdata)
    log.info("protobuf", "decode", data.name, data.id, data.email)
    log.info("protobuf", "json", json.encode(data))
    log.info("protobuf", "done")
end)

sys.run()
