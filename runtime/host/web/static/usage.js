/*
 * Parse a fault's usage text into the buttons the console shows. Shared by the page (global
 * `LuatosUsage`) and the Node tests (module.exports).
 *
 *   "down | up | password <new> [ssid]"
 *     -> [{label:'down', items:[{word:'down'}]}, {label:'up', ...},
 *         {label:'password', items:[{word:'password'}, {param:'new'}, {param:'ssid', optional:true}]}]
 *   "fail <host> <status | reset | timeout> [count | always] | ok [host]"
 *     -> 'fail' with params host, status|reset|timeout (choices), [count|always] (optional); 'ok' [host]
 *
 * Alternatives are separated by `|` outside brackets; `<x>` is a required parameter, `[x]` an
 * optional one, an all-caps word after the first word (`throttle N`) a required parameter.
 * `|` inside brackets lists choices (offered as suggestions).
 */
'use strict';
(function (root) {
  function splitTop(s, isSep) {
    const out = [];
    let depth = 0;
    let cur = '';
    for (const ch of s) {
      if (ch === '<' || ch === '[') depth++;
      else if ((ch === '>' || ch === ']') && depth > 0) depth--;
      if (depth === 0 && isSep(ch)) {
        out.push(cur);
        cur = '';
      } else cur += ch;
    }
    out.push(cur);
    return out.map((x) => x.trim()).filter((x) => x.length > 0);
  }

  function parseUsage(usage) {
    const alts = splitTop(String(usage || ''), (c) => c === '|');
    if (!alts.length) return [{ label: '', items: [] }];
    return alts.map((alt) => {
      const items = [];
      for (const tok of splitTop(alt, (c) => /\s/.test(c))) {
        const m = /^<([\s\S]+)>$/.exec(tok) || /^\[([\s\S]+)\]$/.exec(tok);
        if (m) {
          const inner = m[1].trim();
          const choices = splitTop(inner, (c) => c === '|');
          items.push({ param: inner.replace(/\s*\|\s*/g, '|'), optional: tok[0] === '[', choices: choices.length > 1 ? choices : [] });
        } else if (/^[A-Z][A-Z0-9_]*$/.test(tok) && items.length > 0) {
          items.push({ param: tok, optional: false, choices: [] });
        } else items.push({ word: tok });
      }
      const label = [];
      for (const it of items) {
        if (!('word' in it)) break;
        label.push(it.word);
      }
      return { label: label.join(' '), items };
    });
  }

  /** The argument list for an alternative, given the values typed for its parameters (in order). */
  function buildArgs(alt, values) {
    const args = [];
    let k = 0;
    for (const it of alt.items) {
      if ('word' in it) args.push(it.word);
      else {
        const v = String(values[k++] || '').trim();
        if (!v) {
          if (!it.optional) return { error: `missing ${it.param}`, index: k - 1 };
          continue;
        }
        args.push(v);
      }
    }
    return { args };
  }

  const api = { parseUsage, buildArgs };
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.LuatosUsage = api;
})(this);
