/*
 * The tag filter grammar, one for the web console's tag box and `luatos logs --tag` (the console
 * loads this file as a script; runtime/host/logs/filter.ts requires the same file).
 *
 *   terms      separated by commas (`wlan,rtmp_app`); `--tag` may be repeated, each value may
 *              hold several terms; spaces around terms are ignored
 *   TERM       keeps a line whose Lua tag is TERM or starts with `TERM.` (`rtmp_app` keeps
 *              `rtmp_app.task`), or whose firmware module is TERM or ends with `:TERM` (`lwip`
 *              keeps `ap1:lwip`); `user` keeps every Lua log line (`X/user.<tag>`)
 *   !TERM      hides such lines; with only `!` terms, every other line is kept
 *   case       exact unless ignoreCase (the console's "Aa" box off, `luatos logs -i`)
 *
 * A line is described by its Lua tag (null/'' for firmware and print lines) and its module
 * ('user' for Lua log lines, the firmware module, or null/'' for print output).
 */
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.LuatosTagFilter = factory();
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  /** Parse terms: a string or an array of strings. Returns null when nothing filters. */
  function parse(input, ignoreCase) {
    const list = Array.isArray(input) ? input : [input];
    const include = [];
    const exclude = [];
    for (const raw of list) {
      for (let t of String(raw).split(',')) {
        t = t.trim();
        if (!t) continue;
        const neg = t.charAt(0) === '!';
        if (neg) t = t.slice(1).trim();
        if (!t) continue;
        if (ignoreCase) t = t.toLowerCase();
        (neg ? exclude : include).push(t);
      }
    }
    if (!include.length && !exclude.length) return null;
    return { include: include, exclude: exclude, ignoreCase: !!ignoreCase };
  }

  function termMatches(term, tag, module) {
    if (tag && (tag === term || tag.startsWith(term + '.'))) return true;
    if (module && (module === term || module.endsWith(':' + term))) return true;
    return false;
  }

  /** Whether a line with this Lua tag and module passes the parsed filter (null passes all). */
  function matches(f, tag, module) {
    if (!f) return true;
    let t = tag || '';
    let m = module || '';
    if (f.ignoreCase) {
      t = t.toLowerCase();
      m = m.toLowerCase();
    }
    if (f.include.length && !f.include.some(function (x) { return termMatches(x, t, m); })) return false;
    if (f.exclude.some(function (x) { return termMatches(x, t, m); })) return false;
    return true;
  }

  return { parse: parse, matches: matches };
});
