// luatos-pc: the JS imports of glue.c (an emscripten --js-library). The adapter
// (runtime/core/engine/lua53.ts) sets Module.hostCall/hostK/hostHook after instantiation.
mergeInto(LibraryManager.library, {
  host_call: function (L, id) {
    return Module['hostCall'](L, id);
  },
  host_k: function (L, status, ctx) {
    return Module['hostK'](L, status, ctx);
  },
  host_hook: function (L, event, line) {
    return Module['hostHook'](L, event, line);
  },
});
