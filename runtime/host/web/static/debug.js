// The Debug panel (`luatos run --inspect --web`): source with breakpoints (click a line number),
// the device's tasks, the call stack, variables (tables expand on click), evaluate, continue and
// step buttons. It talks to the same debugger core as the DAP server, through POST /api/debug.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  let token = '';
  let files = [];
  let current = null; // path shown
  let bps = new Map(); // path -> Set(lines)
  let stop = null; // the current stop {reason, thread, text}
  let selThread = 1;
  let selFrame = null;
  let curLine = null; // {path, line}

  async function call(op, args) {
    const r = await fetch('/api/debug', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Console-Token': token },
      body: JSON.stringify(Object.assign({ op }, args || {})),
    });
    const j = await r.json();
    if (!j.ok) throw new Error(j.error);
    return j.body;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  async function showFile(path) {
    current = path;
    $('dbg-files').value = path;
    const src = await call('source', { path });
    bps.set(path, new Set(src.breakpoints));
    const box = $('dbg-source');
    box.textContent = '';
    const lines = src.text.split('\n');
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    lines.forEach((t, i) => {
      const n = i + 1;
      const row = el('div', 'dbg-line');
      row.dataset.line = String(n);
      const g = el('span', 'gut', String(n));
      g.title = 'set or clear a breakpoint';
      g.addEventListener('click', () => toggle(n));
      row.append(g, el('code', '', t || ' '));
      box.append(row);
    });
    paint();
  }

  function paint() {
    const set = bps.get(current) || new Set();
    for (const row of $('dbg-source').children) {
      const n = Number(row.dataset.line);
      row.classList.toggle('bp', set.has(n));
      row.classList.toggle('cur', !!curLine && curLine.path === current && curLine.line === n);
    }
  }

  async function toggle(n) {
    const set = new Set(bps.get(current) || []);
    if (set.has(n)) set.delete(n);
    else set.add(n);
    const res = await call('setBreakpoints', { path: current, lines: [...set].sort((a, b) => a - b) });
    bps.set(current, new Set(res.filter((b) => b.verified).map((b) => b.line)));
    paint();
  }

  function setButtons() {
    const paused = !!stop;
    for (const id of ['dbg-continue', 'dbg-next', 'dbg-in', 'dbg-out']) $(id).disabled = !paused;
    $('dbg-pause').disabled = paused;
    const badge = $('dbg-state');
    badge.textContent = paused ? `paused (${stop.reason})` : 'running';
    badge.className = 'badge' + (paused ? ' warn' : '');
    badge.title = paused && stop.text ? stop.text : '';
  }

  function varList(ul, vars) {
    ul.textContent = '';
    for (const v of vars) {
      const li = el('li', '', `${v.name} = ${v.value}`);
      li.title = v.type;
      if (v.ref > 0) {
        li.textContent = `▸ ${v.name} = ${v.value}`;
        let open = null;
        li.addEventListener('click', async (ev) => {
          ev.stopPropagation();
          if (open) {
            open.remove();
            open = null;
            return;
          }
          open = el('ul');
          li.after(open);
          varList(open, await call('variables', { ref: v.ref }));
        });
      }
      ul.append(li);
    }
  }

  async function selectFrame(f) {
    selFrame = f;
    for (const li of $('dbg-stack').children) li.classList.toggle('sel', Number(li.dataset.id) === f.id);
    if (f.path) {
      curLine = { path: f.path, line: f.line };
      if (current !== f.path) await showFile(f.path);
      else paint();
      const row = $('dbg-source').querySelector(`[data-line="${f.line}"]`);
      if (row) row.scrollIntoView({ block: 'center' });
    }
    const scopes = await call('scopes', { frame: f.id });
    const vars = [];
    for (const s of scopes) {
      if (s.name === 'Globals') continue;
      const list = await call('variables', { ref: s.ref });
      if (s.name === 'Upvalues') for (const v of list) v.name = `(upvalue) ${v.name}`;
      vars.push(...list);
    }
    varList($('dbg-vars'), vars);
  }

  async function selectThread(id) {
    selThread = id;
    for (const li of $('dbg-threads').children) li.classList.toggle('sel', Number(li.dataset.id) === id);
    const frames = await call('stack', { thread: id });
    const ul = $('dbg-stack');
    ul.textContent = '';
    for (const f of frames) {
      const li = el('li', '', `${f.name}  ${f.source}${f.line > 0 ? ':' + f.line : ''}`);
      li.dataset.id = String(f.id);
      li.addEventListener('click', () => selectFrame(f));
      ul.append(li);
    }
    const top = frames.find((f) => f.path) || frames[0];
    if (top) await selectFrame(top);
  }

  async function onStop(s) {
    stop = s;
    setButtons();
    const threads = await call('threads');
    const ul = $('dbg-threads');
    ul.textContent = '';
    for (const t of threads) {
      const li = el('li', '', `${t.name}${t.id === s.thread ? '  ◀ ' + s.reason : ''}`);
      li.dataset.id = String(t.id);
      li.addEventListener('click', () => selectThread(t.id));
      ul.append(li);
    }
    await selectThread(s.thread);
  }

  function onRun() {
    stop = null;
    selFrame = null;
    curLine = null;
    setButtons();
    $('dbg-stack').textContent = '';
    $('dbg-vars').textContent = '';
    paint();
  }

  async function poll() {
    try {
      const st = await call('status');
      const key = st.paused ? JSON.stringify(st.stop) : '';
      const was = stop ? JSON.stringify(stop) : '';
      if (key !== was) {
        if (st.paused) await onStop(st.stop);
        else onRun();
      }
    } catch {
      /* the server went away: try again */
    }
    setTimeout(poll, 400);
  }

  async function act(op) {
    try {
      await call(op, { thread: selThread });
    } catch (e) {
      $('dbg-eval-out').textContent = e.message;
    }
  }

  async function start() {
    const info = await (await fetch('/api/info', { cache: 'no-store' })).json();
    if (!info.debug) return;
    token = info.token;
    $('debug-panel').hidden = false;
    const st = await call('state');
    files = st.files;
    const sel = $('dbg-files');
    for (const f of files) {
      const o = el('option', '', f.name);
      o.value = f.path;
      sel.append(o);
    }
    sel.addEventListener('change', () => showFile(sel.value));
    const main = files.find((f) => f.name === 'main.lua') || files[0];
    if (main) await showFile(main.path);
    $('dbg-continue').addEventListener('click', () => act('continue'));
    $('dbg-next').addEventListener('click', () => act('next'));
    $('dbg-in').addEventListener('click', () => act('stepIn'));
    $('dbg-out').addEventListener('click', () => act('stepOut'));
    $('dbg-pause').addEventListener('click', () => act('pause'));
    $('dbg-eval-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const expression = $('dbg-eval').value;
      try {
        const r = await call('evaluate', selFrame ? { expression, frame: selFrame.id } : { expression });
        $('dbg-eval-out').textContent = `${expression} = ${r.value}`;
      } catch (e) {
        $('dbg-eval-out').textContent = e.message;
      }
    });
    setButtons();
    poll();
  }

  start().catch((e) => console.error('debug panel:', e));
})();
