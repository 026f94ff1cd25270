import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as protobuf from 'protobufjs';
import * as descriptor from 'protobufjs/ext/descriptor';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { runSuite } from '../base/suite';
import { removeRunDirs } from './mods2-util';

// Wire-format vectors from the Protocol Buffers encoding guide: Test1 a=150 → 08 96 01,
// Test2 b="testing" → 12 07 74 65 73 74 69 6e 67, Test3 c={a=150} → 1a 03 08 96 01, packed
// repeated 3, 270, 86942 → 32 06 03 8e 02 9e a7 05. The .pb descriptors (what `protoc -o`
// writes) are built here with protobufjs; only the bytes the binding produces are checked.
function descriptorSet(src: string, syntax: 'proto2' | 'proto3'): Buffer {
  const root = protobuf.parse(src, { keepCase: true }).root;
  const set = root.toDescriptor(syntax);
  return Buffer.from(descriptor.FileDescriptorSet.encode(set).finish());
}

const P2 = descriptorSet(
  `syntax = "proto2";
  package demo;
  message Test1 { optional int32 a = 1; }
  message Test2 { optional string b = 2; }
  message Test3 { optional Test1 c = 3; }
  message Test4 { optional string d = 4; repeated int32 e = 6 [packed=true]; }
  message Person {
    enum Kind { HOME = 0; WORK = 1; }
    optional string name = 1;
    optional int32 id = 2 [default = 7];
    optional Kind kind = 3 [default = WORK];
    optional double score = 4;
    optional bytes blob = 5;
    optional int64 big = 6;
    map<string, int32> tags = 7;
    repeated Test1 items = 8;
  }`,
  'proto2',
);
const P3 = descriptorSet(`syntax = "proto3"; package p3; message M { int32 n = 1; string s = 2; }`, 'proto3');

const BODY = String.raw`
local H = function(s) return (string.toHex(s)) end
local ok, pos = protobuf.load(io.readFile("/luadb/p2.pb"))
eq("load ok", ok, true)
eq("load pos", pos, ${P2.length})
eq("load proto3", (protobuf.load(io.readFile("/luadb/p3.pb"))), true)
eq("Test1 a=150", H(protobuf.encode("demo.Test1", {a = 150})), "089601")
eq("Test2 testing", H(protobuf.encode("demo.Test2", {b = "testing"})), "120774657374696E67")
eq("Test3 nested", H(protobuf.encode("demo.Test3", {c = {a = 150}})), "1A03089601")
eq("Test4 packed", H(protobuf.encode(".demo.Test4", {e = {3, 270, 86942}})), "3206038E029EA705")
eq("decode Test1", protobuf.decode("demo.Test1", ("089601"):fromHex()).a, 150)
eq("decode Test2", protobuf.decode("demo.Test2", ("120774657374696E67"):fromHex()).b, "testing")
eq("decode Test3", protobuf.decode("demo.Test3", ("1A03089601"):fromHex()).c.a, 150)
local t4 = protobuf.decode("demo.Test4", ("3206038E029EA705"):fromHex())
eq("decode packed", table.concat(t4.e, ","), "3,270,86942")
local p = protobuf.decode("demo.Person", protobuf.encode("demo.Person", {
  name = "wendal", kind = "HOME", score = 2.5, blob = "\0\1\255", big = 1099511627776,
  tags = {a = 1, b = 2}, items = {{a = 1}, {a = 2}}, unknown_field = 1}))
eq("string", p.name, "wendal")
eq("enum as name", p.kind, "HOME")
eq("double", p.score, 2.5)
eq("bytes", p.blob, "\0\1\255")
if I64 then eq("int64 as number", p.big, 1099511627776) end
eq("map", p.tags.a + p.tags.b, 3)
eq("repeated message", p.items[2].a, 2)
eq("proto2 default filled", p.id, 7)
local d = protobuf.decode("demo.Person", "")
eq("proto2 enum default", d.kind, "WORK")
eq("proto2 string default", d.name, "")
eq("proto2 double default is a float", math.type(d.score), "float")
eq("enum by number", protobuf.decode("demo.Person", protobuf.encode("demo.Person", {kind = 1})).kind, "WORK")
local m = protobuf.decode("p3.M", "")
eq("proto3 no defaults", m.n == nil and m.s == nil, true)
eq("proto3 value", protobuf.decode("p3.M", protobuf.encode("p3.M", {n = 5})).n, 5)
raises("unknown type", "type 'demo.Nope' does not exists", protobuf.encode, "demo.Nope", {})
raises("bad field type", "number expected at field 'a', got string", protobuf.encode, "demo.Test1", {a = "x"})
raises("truncated input", "invalid message at offset", protobuf.decode, "demo.Test2", ("1207"):fromHex())
eqv("load garbage", {false, 0}, protobuf.load("\255\255\255"))
protobuf.clear()
raises("clear forgets types", "does not exists", protobuf.decode, "demo.Test1", "")
`;

for (const engine of ENGINE_NAMES) {
  test(`protobuf encodes/decodes the encoding guide's vectors (${engine})`, async () => {
    const r = await runSuite(engine, BODY, { 'p2.pb': P2, 'p3.pb': P3 });
    removeRunDirs(r.run);
    assert.ok(r.checks >= 29, `only ${r.checks} checks`);
  });
}
