/**
 * Item 3 of the "Hardening" issue, beyond the http header table (hostile.test.ts): JS objects
 * built from outside data have no prototype, so keys such as `__proto__` stay plain keys.
 * Covered here: Lua tables read into JS (readValue: tables that hold decoded JSON), the device
 * profile merge (profile JSON file, scenario YAML `profile:`), decoded AMF0 objects
 * (test/rtmp/unit.test.ts checks those too).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseDocument } from 'yaml';
import { createEngine, ENGINE_NAMES, LUA_OK } from '../../runtime/core/engine';
import { JsLuaValue, pushValue, readValue } from '../../runtime/core/vm/lua-value';
import { makeProfile } from '../../runtime/core/profile';
import { decodeAmf0 } from '../../runtime/media/rtmp/amf0';

for (const name of ENGINE_NAMES) {
  test(`readValue: a Lua table with the keys __proto__, constructor (from json.decode) is a prototype-less JS object (${name})`, async () => {
    const e = await createEngine(name);
    const L = e.newstate();
    e.openlibs(L);
    assert.equal(e.loadbuffer(L, Buffer.from('return {["__proto__"] = "evil", constructor = "c", a = 1}'), '=t'), LUA_OK);
    assert.equal(e.pcall(L, 0, 1, 0), LUA_OK);
    const v = readValue(e, L, -1) as { [k: string]: JsLuaValue };
    e.pop(L, 1);
    assert.equal(Object.getPrototypeOf(v), null);
    assert.ok(!(v instanceof Uint8Array), 'the table must not turn into a byte string');
    assert.deepEqual(Object.keys(v).sort(), ['__proto__', 'a', 'constructor']);
    assert.equal(Buffer.from(v['__proto__'] as Uint8Array).toString(), 'evil');
    // and back into Lua as the same table
    pushValue(e, L, v);
    e.setglobal(L, 'back');
    assert.equal(e.loadbuffer(L, Buffer.from('return back["__proto__"], back.constructor, back.a'), '=t'), LUA_OK);
    assert.equal(e.pcall(L, 0, 3, 0), LUA_OK);
    assert.deepEqual([Buffer.from(e.tobytes(L, -3) as Uint8Array).toString(), Buffer.from(e.tobytes(L, -2) as Uint8Array).toString(), e.tointeger(L, -1)], ['evil', 'c', 1]);
    e.close(L);
  });
}

test('profile merge: a __proto__ key in a profile JSON file or scenario YAML does not become the profile prototype', () => {
  const fromJson = JSON.parse('{"__proto__": {"runawayMs": 1, "polluted": true}, "memory": {"__proto__": {"lua": 1}}}');
  const fromYaml = parseDocument('__proto__:\n  runawayMs: 1\n  polluted: true\nmemory:\n  __proto__:\n    lua: 1\n').toJSON();
  for (const over of [fromJson, fromYaml]) {
    const p = makeProfile(over) as unknown as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(p), Object.prototype);
    assert.equal(p.polluted, undefined);
    assert.equal(p.runawayMs, 10000);
    assert.equal((p.memory as Record<string, unknown>).lua, 2097144);
    assert.equal(Object.getPrototypeOf(p.memory), Object.prototype);
    assert.ok(Object.prototype.hasOwnProperty.call(p, '__proto__'), 'kept as a plain key');
  }
});

test('amf0: objects from the server have no prototype; constructor/toString/__proto__ are only their own keys', () => {
  // {constructor: 1.0} as an AMF0 object
  const buf = Buffer.concat([Buffer.from([3, 0, 11]), Buffer.from('constructor'), Buffer.from([0, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]), Buffer.from([0, 0, 9])]);
  const o = decodeAmf0(buf)[0] as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(o), null);
  assert.equal(o.constructor, 1);
  assert.equal(o.toString, undefined);
  assert.equal('hasOwnProperty' in o, false);
});
