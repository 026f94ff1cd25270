/**
 * Binary (precompiled) Lua chunks are refused everywhere a chunk is loaded: `load`, `loadfile`,
 * `dofile`, `require` and main.lua itself.
 *
 * Why: bytecode is not verified by Lua; mutated bytecode (e.g. a flipped byte in
 * `string.dump` output) can read and write outside the wasm VM's objects or ask for huge
 * allocations. The firmware loads Luatools' `.luac` files (Lua 5.3 bytecode, a format neither of
 * our engines shares anyway), so this is a documented deviation (README "Limits").
 *
 * Lua decides between text and binary by the first byte only (LUA_SIGNATURE[0], ESC), so the
 * same test is exact here.
 */
export const BINARY_CHUNK_MSG =
  'attempt to load a binary chunk: precompiled Lua (string.dump output, .luac files) is not supported by luatos-pc; load the source';

export function isBinaryChunk(code: Uint8Array): boolean {
  return code.length > 0 && code[0] === 0x1b;
}
