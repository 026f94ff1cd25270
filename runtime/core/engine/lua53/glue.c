/*
 * luatos-pc glue for the lua53 engine (Lua 5.3.6 compiled as C++ to WebAssembly).
 * Our own code; compiled together with the unmodified-but-patched Lua sources by
 * scripts/build-engine.sh. Exported with a `glue_` prefix next to the C API.
 *
 * - Host functions: every host function is a C closure of `glue_dispatch` whose first
 *   upvalue is an integer id. The dispatcher calls the imported JS function
 *   `host_call(L, id)`, which never throws into wasm for a host error: it returns
 *     >= 0  the number of results,
 *     -1    raise the value on top of the stack as is (lua_error),
 *     -2    raise the string on top with the caller's position prepended (luaL_where(L, 1)),
 *     -3    yield: results and continuation id are in `glue_yield_slot` (see below).
 *   So a host error becomes `lua_error` in C, and a yield is `return lua_yieldk(...)` in C
 *   (with the yield patch, that yield returns through the VM instead of throwing).
 * - Continuations: `glue_k` calls the imported `host_k(L, status, ctx)` with the same codes.
 * - Hooks: `glue_hook` calls the imported `host_hook(L, event, line)` (line = -1 unless a line
 *   event); codes -1/-2 as above, anything else continues.
 * - Allocator: every lua_State gets its own lua_Alloc userdata with a byte budget (0 = none)
 *   and the bytes in use, so one wasm instance hosts many devices and each one runs out of
 *   memory at its own limit with Lua's "not enough memory" (after Lua's emergency collection).
 * - Small helpers that spare JS<->wasm round trips.
 */
#include <emscripten.h>
#include <stdlib.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

extern "C" {
extern int host_call(lua_State *L, int id);
extern int host_k(lua_State *L, int status, int ctx);
extern int host_hook(lua_State *L, int event, int line);
}

#define GLUE_OK_MIN 0
#define GLUE_RAISE (-1)
#define GLUE_RAISE_WHERE (-2)
#define GLUE_YIELD (-3)

typedef struct Budget {
  size_t used;   /* bytes Lua holds */
  size_t limit;  /* 0: no limit */
  size_t peak;
} Budget;

/* results to yield (n) and continuation id (ctx; 0 = none), written by JS before GLUE_YIELD */
static int yield_slot[2];

static int glue_k(lua_State *L, int status, lua_KContext ctx);

static int finish(lua_State *L, int r) {
  if (r >= GLUE_OK_MIN) return r;
  switch (r) {
    case GLUE_RAISE_WHERE:
      luaL_where(L, 1);
      lua_insert(L, -2);
      lua_concat(L, 2);
      return lua_error(L);
    case GLUE_YIELD: {
      int n = yield_slot[0], ctx = yield_slot[1];
      return lua_yieldk(L, n, (lua_KContext)ctx, ctx ? glue_k : NULL);
    }
    default:
      return lua_error(L);
  }
}

static int glue_dispatch(lua_State *L) {
  int id = (int)lua_tointegerx(L, lua_upvalueindex(1), NULL);
  return finish(L, host_call(L, id));
}

static int glue_k(lua_State *L, int status, lua_KContext ctx) {
  return finish(L, host_k(L, status, (int)ctx));
}

static void glue_hook(lua_State *L, lua_Debug *ar) {
  int line = ar->event == LUA_HOOKLINE ? ar->currentline : -1;
  int r = host_hook(L, ar->event, line);
  if (r == GLUE_RAISE || r == GLUE_RAISE_WHERE) finish(L, r);
}

static void *glue_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  Budget *b = (Budget *)ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    b->used -= old;
    return NULL;
  }
  if (nsize > old && b->limit && (nsize - old > b->limit || b->used > b->limit - (nsize - old)))
    return NULL;  /* over budget: Lua collects and retries, then "not enough memory" */
  void *p = realloc(ptr, nsize);
  if (!p) return NULL;
  b->used = b->used - old + nsize;
  if (b->used > b->peak) b->peak = b->used;
  return p;
}

static int glue_panic(lua_State *L) {
  (void)L;
  abort(); /* an error outside any protected call: a trap, the host drops the instance */
  return 0;
}

extern "C" {

/* A new state whose allocations are limited to `limit` bytes (0: unlimited); NULL if none. */
EMSCRIPTEN_KEEPALIVE lua_State *glue_newstate(size_t limit) {
  Budget *b = (Budget *)calloc(1, sizeof(Budget));
  if (!b) return NULL;
  b->limit = limit;
  lua_State *L = lua_newstate(glue_alloc, b);
  if (!L) {
    free(b);
    return NULL;
  }
  lua_atpanic(L, glue_panic);
  return L;
}

EMSCRIPTEN_KEEPALIVE void glue_close(lua_State *L) {
  void *ud = NULL;
  lua_getallocf(L, &ud);
  lua_close(L);
  free(ud);
}

static Budget *budget(lua_State *L) {
  void *ud = NULL;
  lua_getallocf(L, &ud);
  return (Budget *)ud;
}

/* bytes in use by L's state, its budget, the peak */
EMSCRIPTEN_KEEPALIVE double glue_memused(lua_State *L) { return (double)budget(L)->used; }
EMSCRIPTEN_KEEPALIVE double glue_mempeak(lua_State *L) { return (double)budget(L)->peak; }
EMSCRIPTEN_KEEPALIVE void glue_setlimit(lua_State *L, size_t limit) { budget(L)->limit = limit; }

EMSCRIPTEN_KEEPALIVE int *glue_yield_slot(void) { return yield_slot; }

/* push a host function: the id becomes upvalue 1, below the nup values on top */
EMSCRIPTEN_KEEPALIVE void glue_pushfunction(lua_State *L, int id, int nup) {
  lua_pushinteger(L, id);
  if (nup > 0) lua_rotate(L, -(nup + 1), 1);
  lua_pushcclosure(L, glue_dispatch, nup + 1);
}

EMSCRIPTEN_KEEPALIVE void glue_sethook(lua_State *L, int mask, int count) {
  lua_sethook(L, mask ? glue_hook : NULL, mask, count);
}

/* full userdata holding a double id, with the named metatable */
EMSCRIPTEN_KEEPALIVE void glue_newhostobject(lua_State *L, double id, const char *tname) {
  double *p = (double *)lua_newuserdata(L, sizeof(double));
  *p = id;
  luaL_setmetatable(L, tname);
}

/* the id of a host object userdata with metatable tname at idx, or NaN */
EMSCRIPTEN_KEEPALIVE double glue_tohostobject(lua_State *L, int idx, const char *tname) {
  double *p = (double *)luaL_testudata(L, idx, tname);
  return p ? *p : __builtin_nan("");
}

EMSCRIPTEN_KEEPALIVE int glue_gc(lua_State *L, int what, int data) { return lua_gc(L, what, data); }

/* a JS number as lua_Integer: NaN is 0, out of range saturates (no trap, no UB) */
static lua_Integer d2i(double n) {
  if (n != n) return 0;
  if (n >= 9223372036854775807.0) return LUA_MAXINTEGER;
  if (n <= -9223372036854775808.0) return LUA_MININTEGER;
  return (lua_Integer)n;
}

/* lua_Integer as a double (exact below 2^53): spares BigInt conversions in JS */
EMSCRIPTEN_KEEPALIVE double glue_tointeger(lua_State *L, int idx, int *isnum) {
  return (double)lua_tointegerx(L, idx, isnum);
}
EMSCRIPTEN_KEEPALIVE void glue_pushinteger(lua_State *L, double n) { lua_pushinteger(L, d2i(n)); }
EMSCRIPTEN_KEEPALIVE int glue_rawgeti(lua_State *L, int idx, double n) { return lua_rawgeti(L, idx, d2i(n)); }
EMSCRIPTEN_KEEPALIVE void glue_rawseti(lua_State *L, int idx, double n) { lua_rawseti(L, idx, d2i(n)); }
EMSCRIPTEN_KEEPALIVE double glue_rawlen(lua_State *L, int idx) { return (double)lua_rawlen(L, idx); }

/* the global state of L (the same for all its threads): an identity for ownership checks */
EMSCRIPTEN_KEEPALIVE void *glue_stateof(lua_State *L) {
  void *ud = NULL;
  lua_getallocf(L, &ud);
  return ud;
}

/* pop n values */
EMSCRIPTEN_KEEPALIVE void glue_pop(lua_State *L, int n) { lua_settop(L, -n - 1); }
EMSCRIPTEN_KEEPALIVE void glue_remove(lua_State *L, int idx) { lua_remove(L, idx); }
EMSCRIPTEN_KEEPALIVE void glue_insert(lua_State *L, int idx) { lua_insert(L, idx); }

} /* extern "C" */
