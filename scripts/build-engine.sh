#!/usr/bin/env bash
# npm run build:engine — builds the lua53 engine: upstream Lua 5.3.6 compiled as C++ to
# WebAssembly (native wasm exceptions) with Debian's emscripten, plus our glue
# (runtime/core/engine/lua53/glue.c) and the yield patch (runtime/core/engine/lua53/yield-return.patch).
#
#   scripts/build-engine.sh            build into runtime/core/engine/lua53/ (lua53.wasm, lua53.js,
#                                      manifest.json)
#   scripts/build-engine.sh --check    build in a temporary folder and fail unless the bytes
#                                      equal the committed ones (CI)
#
# Needs: emcc (apt package `emscripten`, 3.1.6 in Debian 12), node-acorn (its JS optimizer;
# found through NODE_PATH=/usr/share/nodejs), curl, sha256sum. The Lua sources are fetched
# from the Debian archive (the upstream tarball, pinned by sha256) and cached in
# ${LUA53_CACHE:-$HOME/.cache/luatos-pc}; they are never committed.
#
# Configuration (the firmware's, as far as known; lua-engine.md §6):
#   - Lua 5.3 defaults: 64-bit integers (LUA_INT_LONGLONG) and doubles (LUA_FLOAT_DOUBLE),
#     numbers printed with "%.14g" (LUA_NUMBER_FMT) — the 64-bit firmware (Air8101).
#   - no LUA_COMPAT_5_2: LuatOS's luaconf.h does not enable it (so no math.pow, bit32 from
#     lbitlib, __ipairs); the runtime supplies bit32 as the firmware does.
#   - LUAI_MAXCCALLS 200: upstream's value; LuatOS's own luaconf.h value could not be checked
#     here, so upstream's is the choice (written in the manifest).
#   - the standard libraries (luaL_openlibs); the runtime removes what the device lacks.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# path: the engine's folder (sources of our glue, committed build outputs)
ENGINE_DIR="$ROOT/runtime/core/engine/lua53"

LUA_VERSION=5.3.6
TARBALL=lua5.3_5.3.6.orig.tar.gz
TARBALL_URL="http://deb.debian.org/debian/pool/main/l/lua5.3/$TARBALL"
TARBALL_SHA256=fc5fd69bb8736323f026672b1b7235da613d7177e72558893a0bdcd320466d60
MAXCCALLS=200

CHECK=0
for a in "$@"; do
  case "$a" in
    --check) CHECK=1 ;;
    *) echo "build-engine: unknown option $a (use --check)" >&2; exit 2 ;;
  esac
done

command -v emcc >/dev/null || { echo "build-engine: emcc not found (apt-get install emscripten)" >&2; exit 1; }
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
export EMCC_SKIP_SANITY_CHECK=1

CACHE="${LUA53_CACHE:-$HOME/.cache/luatos-pc}"
mkdir -p "$CACHE"
if [ ! -f "$CACHE/$TARBALL" ] || ! echo "$TARBALL_SHA256  $CACHE/$TARBALL" | sha256sum -c --status; then
  echo "build-engine: downloading $TARBALL_URL"
  curl -fsSL -o "$CACHE/$TARBALL.part" "$TARBALL_URL"
  mv "$CACHE/$TARBALL.part" "$CACHE/$TARBALL"
fi
echo "$TARBALL_SHA256  $CACHE/$TARBALL" | sha256sum -c --status || {
  echo "build-engine: $TARBALL does not match the pinned sha256" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/lua53-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# a fixed relative layout inside WORK: no absolute path reaches the outputs
cd "$WORK"
tar xzf "$CACHE/$TARBALL"
SRC="lua-$LUA_VERSION/src"
patch -s -p1 -d "lua-$LUA_VERSION" < "$ENGINE_DIR/yield-return.patch"
cp "$ENGINE_DIR/glue.c" "$ENGINE_DIR/lib.js" .

CORE="lapi lcode lctype ldebug ldo ldump lfunc lgc llex lmem lobject lopcodes lparser lstate lstring ltable ltm lundump lvm lzio"
LIBS="lauxlib lbaselib lbitlib lcorolib ldblib liolib lmathlib loslib lstrlib ltablib lutf8lib loadlib linit"
CFLAGS=(-O2 -flto -x c++ -fwasm-exceptions -std=c++11 -DLUAI_MAXCCALLS=$MAXCCALLS -fno-rtti -Wno-deprecated -Wno-empty-body)

API="lua_absindex lua_checkstack lua_xmove lua_gettop lua_settop lua_pushvalue lua_rotate lua_copy
lua_type lua_typename lua_isinteger lua_isnumber lua_isstring lua_iscfunction lua_isuserdata
lua_tonumberx lua_tointegerx lua_toboolean lua_tolstring lua_rawlen lua_tothread lua_topointer
lua_rawequal lua_compare lua_arith lua_pushnil lua_pushnumber lua_pushinteger lua_pushlstring
lua_pushstring lua_pushcclosure lua_pushboolean lua_pushlightuserdata lua_pushthread
lua_getglobal lua_gettable lua_getfield lua_geti lua_rawget lua_rawgeti lua_rawgetp
lua_createtable lua_newuserdata lua_getmetatable lua_getuservalue lua_setglobal lua_settable
lua_setfield lua_seti lua_rawset lua_rawseti lua_rawsetp lua_setmetatable lua_setuservalue
lua_callk lua_pcallk lua_load lua_yieldk lua_resume lua_status lua_isyieldable lua_gc lua_error
lua_next lua_concat lua_len lua_newthread lua_close lua_newstate lua_sethook lua_gethook
lua_getstack lua_getinfo
luaL_openlibs luaL_loadbufferx luaL_ref luaL_unref luaL_traceback luaL_tolstring luaL_where
luaL_newmetatable luaL_setmetatable luaL_testudata luaL_len
glue_newstate glue_close glue_memused glue_mempeak glue_setlimit glue_yield_slot
glue_pushfunction glue_sethook glue_newhostobject glue_tohostobject glue_gc glue_tointeger
glue_pushinteger glue_rawgeti glue_rawseti glue_rawlen glue_stateof glue_pop glue_remove glue_insert
malloc free"
EXPORTS="$(for f in $API; do printf '"_%s",' "$f"; done)"
EXPORTS="[${EXPORTS%,}]"

start=$(date +%s)
OBJS=()
for f in $CORE $LIBS; do
  emcc "${CFLAGS[@]}" -c "$SRC/$f.c" -o "$f.o"
  OBJS+=("$f.o")
done
emcc "${CFLAGS[@]}" -I"$SRC" -c glue.c -o glue.o
OBJS+=(glue.o)
mkdir -p out
emcc -O2 -flto -fwasm-exceptions "${OBJS[@]}" -o out/lua53.js \
  --js-library lib.js \
  -sMODULARIZE=1 -sEXPORT_NAME=createLua53 -sENVIRONMENT=node -sFILESYSTEM=0 \
  -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0 -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=16777216 -sTOTAL_STACK=1048576 \
  -sEXPORTED_FUNCTIONS="$EXPORTS" -sEXPORTED_RUNTIME_METHODS='[]' \
  -sINCOMING_MODULE_JS_API='["wasmBinary","hostCall","hostK","hostHook","print","printErr","onAbort"]'
secs=$(( $(date +%s) - start ))

if [ "$CHECK" = 1 ]; then
  ok=1
  for f in lua53.wasm lua53.js; do
    if cmp -s "out/$f" "$ENGINE_DIR/$f"; then echo "build-engine --check: $f identical ($(sha256sum < "out/$f" | cut -c1-16)...)"
    else echo "build-engine --check: $f DIFFERS from the committed one" >&2; ok=0; fi
  done
  [ "$ok" = 1 ] || exit 1
  exit 0
fi

cp out/lua53.wasm out/lua53.js "$ENGINE_DIR/"
EMCC_VERSION="$(emcc --version | head -1)"
sha() { sha256sum "$1" | cut -d' ' -f1; }
cat > "$ENGINE_DIR/manifest.json" <<JSON
{
  "engine": "lua53",
  "lua": "$LUA_VERSION",
  "source": { "url": "$TARBALL_URL", "sha256": "$TARBALL_SHA256" },
  "patch": { "file": "yield-return.patch", "sha256": "$(sha "$ENGINE_DIR/yield-return.patch")", "what": "a yield from a C function called directly by Lua code returns through luaV_execute instead of throwing (see the patch header)" },
  "glue": { "file": "glue.c", "sha256": "$(sha "$ENGINE_DIR/glue.c")" },
  "compiler": "$EMCC_VERSION",
  "cflags": "${CFLAGS[*]}",
  "config": { "integer": "64-bit (LUA_INT_LONGLONG)", "float": "double (LUA_FLOAT_DOUBLE)", "LUAI_MAXCCALLS": $MAXCCALLS, "LUA_COMPAT_5_2": false, "number_format": "%.14g" },
  "outputs": {
    "lua53.wasm": { "bytes": $(stat -c %s "$ENGINE_DIR/lua53.wasm"), "sha256": "$(sha "$ENGINE_DIR/lua53.wasm")" },
    "lua53.js": { "bytes": $(stat -c %s "$ENGINE_DIR/lua53.js"), "sha256": "$(sha "$ENGINE_DIR/lua53.js")" }
  }
}
JSON
echo "build-engine: runtime/core/engine/lua53/lua53.wasm ($(stat -c %s "$ENGINE_DIR/lua53.wasm") bytes) and lua53.js in ${secs}s"
