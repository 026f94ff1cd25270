/*
 * LuatOS-PC web console page. Plain script, no build step.
 *
 *  - Log: lines arrive batched over /ws as [seq, level, tag, text, module] (text = the Luatools
 *    line). The page keeps at most `clientLines` lines (older ones are dropped in chunks) and
 *    renders only the rows inside the viewport, so hours of logs cost the same to display as a
 *    few lines. A row is as tall as its record's lines (a traceback shows whole, up to FOLD_AT
 *    lines, then a "… N more lines" marker; the detail pane below shows all); the view keeps the
 *    top offset of every row (`tops`) and finds the first visible one by binary search.
 *  - Following the tail stops only when the user scrolls up (a scroll position above the one
 *    the page itself set last), never because a tall record arrived.
 *  - Tag filter: the grammar of `luatos logs --tag` (static/tag-filter.js, shared with it).
 *  - Device panel and chart: {t:'status'} pushed every second.
 *  - Video: mpegts.js plays the console's /video WebSocket (the ingest's FLV, relayed by the
 *    server) with latency chasing; the player restarts when the stream appears, changes or stalls.
 *  - Faults: buttons built from the device's fault registry; POST /api/fault with the token.
 */
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const ROW_H = 18;
  const OVERSCAN = 10;
  const FOLD_AT = 40; // physical lines shown of a record before the fold marker
  const vp = $('log-viewport');
  const rowsEl = $('log-rows');
  const spacer = $('log-spacer');
  const pool = [];

  // ======================================================================= state
  const st = {
    token: null,
    session: null,
    clientLines: 50000,
    lastSeq: 0, // last real line received
    counter: 0, // insertion counter (entry.n)
    entries: [], // {seq, level, tag, text, note}
    view: [], // entries passing the filter
    tops: [], // tops[i]: pixel offset of view[i]
    viewH: 0, // total height of the view
    autoTop: -1, // the scrollTop the page itself set last (following the tail)
    viewUpTo: 0, // index into entries up to which the view is built
    paused: false,
    pausedNew: 0,
    follow: true,
    selected: null,
    tags: new Set(),
    tagsDirty: false,
    filter: { levels: new Set(['D', 'I', 'W', 'E', 'U']), tags: null, re: null, text: '' },
    search: { re: null, hits: [], cur: -1 },
    renderQueued: false,
  };

  // ======================================================================= log filtering
  function escapeRe(s) {
    return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  function buildRe(input, el, global) {
    el.classList.remove('bad');
    el.title = el.dataset.title || el.title;
    if (!input) return null;
    const regex = $('f-regex').checked;
    const flags = ($('f-case').checked ? '' : 'i') + (global ? 'g' : '');
    try {
      const re = new RegExp(regex ? input : escapeRe(input), flags);
      if (global && re.test('')) return null; // matches the empty string: nothing to highlight
      return re;
    } catch (e) {
      el.classList.add('bad');
      el.dataset.title = el.dataset.title || el.title;
      el.title = String(e.message || e);
      return undefined; // invalid
    }
  }
  function readFilter() {
    const f = st.filter;
    f.levels = new Set([...document.querySelectorAll('.levels button')].filter((b) => b.getAttribute('aria-pressed') === 'true').map((b) => b.dataset.level));
    f.tags = LuatosTagFilter.parse($('f-tag').value, !$('f-case').checked);
    const re = buildRe($('f-text').value, $('f-text'), false);
    f.re = re === undefined ? null : re;
  }
  function passes(e) {
    const f = st.filter;
    // console notes (boots, fault runs) show unless a tag or text filter narrows the view
    if (e.note) return !f.tags && !f.re;
    if (!f.levels.has(e.level)) return false;
    if (f.tags && !LuatosTagFilter.matches(f.tags, e.tag, e.module)) return false;
    if (f.re && !f.re.test(e.text)) return false;
    return true;
  }
  function rebuildView() {
    st.view = [];
    st.tops = [];
    st.viewH = 0;
    st.viewUpTo = 0;
    extendView();
    rebuildSearch();
  }
  /** Append entries received since the last update to the view (not while paused). */
  function extendView() {
    if (st.paused) return;
    const from = st.view.length;
    for (let i = st.viewUpTo; i < st.entries.length; i++) {
      const e = st.entries[i];
      if (!passes(e)) continue;
      st.view.push(e);
      st.tops.push(st.viewH);
      st.viewH += e.h;
    }
    st.viewUpTo = st.entries.length;
    if (st.search.re) for (let i = from; i < st.view.length; i++) if (hit(st.view[i])) st.search.hits.push(i);
  }
  function hit(e) {
    const re = st.search.re;
    re.lastIndex = 0;
    const r = re.test(e.text);
    re.lastIndex = 0;
    return r;
  }
  function rebuildSearch() {
    const s = st.search;
    const re = buildRe($('s-text').value, $('s-text'), true);
    s.re = re || null;
    s.hits = [];
    s.cur = -1;
    if (s.re) for (let i = 0; i < st.view.length; i++) if (hit(st.view[i])) s.hits.push(i);
    updateSearchCount();
  }
  function updateSearchCount() {
    const s = st.search;
    $('s-count').textContent = s.re ? (s.hits.length ? `${s.cur >= 0 ? s.cur + 1 : 0}/${s.hits.length}` : 'no match') : '';
  }
  function jump(dir) {
    const s = st.search;
    if (!s.hits.length) return;
    if (s.cur < 0) {
      // start from the rows on screen
      const top = rowAt($('log-viewport').scrollTop);
      let k = s.hits.findIndex((i) => i >= top);
      if (dir < 0) k = k <= 0 ? s.hits.length - 1 : k - 1;
      s.cur = k < 0 ? 0 : k;
    } else s.cur = (s.cur + dir + s.hits.length) % s.hits.length;
    setFollow(false);
    scrollToRow(s.hits[s.cur]);
    updateSearchCount();
    queueRender();
  }

  // ======================================================================= log storage
  const TAG_LIMIT = 500;
  function addEntries(lines) {
    for (const l of lines) {
      const seq = l[0];
      if (seq <= st.lastSeq) continue; // already have it (history overlap)
      st.lastSeq = seq;
      const e = shape({ n: ++st.counter, seq, level: l[1], tag: l[2], text: l[3], module: l[4] || '', note: false });
      st.entries.push(e);
      if (e.tag && !st.tags.has(e.tag) && st.tags.size < TAG_LIMIT) {
        st.tags.add(e.tag);
        st.tagsDirty = true;
      }
      if (st.paused) st.pausedNew++;
    }
    afterAdd();
  }
  function addNote(text, level) {
    const d = new Date();
    const p = (n, w = 2) => String(n).padStart(w, '0');
    const t = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
    st.entries.push(shape({ n: ++st.counter, seq: st.lastSeq, level: level || 'I', tag: '', module: '', text: `── ${t} console: ${text}`, note: true }));
    afterAdd();
  }
  /** Height and shown text of an entry: every physical line of the record, folded past FOLD_AT. */
  function shape(e) {
    let lines = 1;
    for (let i = e.text.indexOf('\n'); i >= 0; i = e.text.indexOf('\n', i + 1)) lines++;
    e.text = e.text.replace(/\r\n/g, '\n');
    e.lines = lines;
    e.folded = lines > FOLD_AT ? lines - (FOLD_AT - 1) : 0;
    e.shown = e.folded ? e.text.split('\n').slice(0, FOLD_AT - 1).join('\n') : e.text;
    e.h = ROW_H * Math.min(lines, FOLD_AT);
    return e;
  }
  function afterAdd() {
    trim();
    extendView();
    queueRender();
  }
  /** Keep at most clientLines lines; drop the oldest in chunks so this stays cheap. */
  function trim() {
    const max = st.clientLines;
    const slack = Math.max(100, Math.floor(max / 20));
    if (st.entries.length <= max + slack) return;
    const drop = st.entries.length - max;
    const cutN = st.entries[drop].n;
    st.entries.splice(0, drop);
    st.viewUpTo = Math.max(0, st.viewUpTo - drop);
    // the view is in entry order: drop its rows that are gone
    let k = 0;
    while (k < st.view.length && st.view[k].n < cutN) k++;
    if (k) {
      const cutH = k < st.tops.length ? st.tops[k] : st.viewH;
      st.view.splice(0, k);
      st.tops.splice(0, k);
      for (let i = 0; i < st.tops.length; i++) st.tops[i] -= cutH;
      st.viewH -= cutH;
      const s = st.search;
      s.hits = s.hits.map((i) => i - k).filter((i) => i >= 0);
      if (s.cur >= 0) s.cur = Math.max(-1, s.cur - k);
      if (!st.follow) vp.scrollTop -= cutH;
    }
  }
  /** Index of the view row at pixel offset y (binary search over tops). */
  function rowAt(y) {
    const t = st.tops;
    let lo = 0;
    let hi = t.length - 1;
    if (hi < 0) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (t[mid] <= y) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  // ======================================================================= rendering

  function queueRender() {
    if (st.renderQueued) return;
    st.renderQueued = true;
    requestAnimationFrame(render);
  }
  function setFollow(on) {
    st.follow = on;
    $('b-follow').hidden = on;
  }
  function scrollToRow(i) {
    const top = st.tops[i] || 0;
    const h = st.view[i] ? st.view[i].h : ROW_H;
    if (top < vp.scrollTop || top + h > vp.scrollTop + vp.clientHeight) vp.scrollTop = Math.max(0, top - vp.clientHeight / 2);
  }
  function foldMarker(div, e) {
    if (!e.folded) return;
    const f = document.createElement('span');
    f.className = 'fold';
    f.textContent = `\n… ${e.folded} more lines (click the row to see the whole record)`;
    div.appendChild(f);
  }
  function fillRow(div, e, idx) {
    div.className = 'row ' + (e.note ? 'note' : 'r-' + e.level) + (e.lines > 1 ? ' multi' : '') + (st.selected === e ? ' sel' : '');
    if (st.search.cur >= 0 && st.search.hits[st.search.cur] === idx) div.className += ' cur';
    div._entry = e;
    const hpx = e.h + 'px';
    if (div.style.height !== hpx) div.style.height = hpx;
    const re = st.search.re;
    const text = e.shown;
    if (!re || e.note) {
      div.textContent = text;
      foldMarker(div, e);
      return;
    }
    re.lastIndex = 0;
    let m = re.exec(text);
    if (!m) {
      div.textContent = text;
      foldMarker(div, e);
      return;
    }
    div.textContent = '';
    let last = 0;
    let guard = 0;
    while (m && guard++ < 1000) {
      if (m.index > last) div.appendChild(document.createTextNode(text.slice(last, m.index)));
      const mk = document.createElement('mark');
      mk.textContent = m[0];
      div.appendChild(mk);
      last = m.index + m[0].length;
      if (m[0].length === 0) re.lastIndex++;
      m = re.exec(text);
    }
    if (last < text.length) div.appendChild(document.createTextNode(text.slice(last)));
    re.lastIndex = 0;
    foldMarker(div, e);
  }
  function render() {
    st.renderQueued = false;
    const n = st.view.length;
    spacer.style.height = st.viewH + 'px';
    if (st.follow) {
      vp.scrollTop = vp.scrollHeight;
      st.autoTop = vp.scrollTop;
    }
    const first = Math.max(0, rowAt(vp.scrollTop) - OVERSCAN);
    const last = Math.min(n, rowAt(vp.scrollTop + vp.clientHeight) + 1 + OVERSCAN);
    const count = Math.max(0, last - first);
    rowsEl.style.transform = `translateY(${n ? st.tops[first] : 0}px)`;
    while (pool.length < count) {
      const d = document.createElement('div');
      pool.push(d);
      rowsEl.appendChild(d);
    }
    for (let k = 0; k < pool.length; k++) {
      const d = pool[k];
      if (k < count) {
        if (d.hidden) d.hidden = false;
        fillRow(d, st.view[first + k], first + k);
      } else if (!d.hidden) {
        d.hidden = true;
        d._entry = null;
      }
    }
    const total = st.entries.length;
    $('l-count').textContent = `${total.toLocaleString()} lines` + (n !== total ? ` · ${n.toLocaleString()} shown` : '');
    $('l-state').textContent = st.paused ? `paused${st.pausedNew ? ` · ${st.pausedNew.toLocaleString()} new` : ''}` : '';
    if (st.tagsDirty) {
      st.tagsDirty = false;
      const dl = $('tag-list');
      dl.textContent = '';
      for (const t of [...st.tags].sort()) {
        const o = document.createElement('option');
        o.value = t;
        dl.appendChild(o);
      }
    }
  }
  vp.addEventListener('scroll', () => {
    const atBottom = vp.scrollTop + vp.clientHeight >= vp.scrollHeight - ROW_H;
    if (st.follow) {
      // only a scroll above the position the page set itself is the user leaving the tail
      if (!atBottom && vp.scrollTop < st.autoTop - 2) setFollow(false);
    } else if (atBottom) setFollow(true);
    queueRender();
  });
  new ResizeObserver(queueRender).observe(vp);
  rowsEl.addEventListener('click', (ev) => {
    const row = ev.target.closest('.row');
    if (!row || !row._entry) return;
    st.selected = st.selected === row._entry ? null : row._entry;
    const det = $('log-detail');
    det.hidden = !st.selected;
    det.textContent = st.selected ? st.selected.text : '';
    queueRender();
  });
  $('b-follow').addEventListener('click', () => {
    setFollow(true);
    queueRender();
  });

  // ======================================================================= toolbar
  let filterTimer = null;
  function onFilterChange() {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      readFilter();
      rebuildView();
      queueRender();
    }, 120);
  }
  document.querySelectorAll('.levels button').forEach((b) =>
    b.addEventListener('click', () => {
      b.setAttribute('aria-pressed', b.getAttribute('aria-pressed') === 'true' ? 'false' : 'true');
      onFilterChange();
    }),
  );
  $('f-tag').addEventListener('input', onFilterChange);
  $('f-text').addEventListener('input', onFilterChange);
  $('f-regex').addEventListener('change', onFilterChange);
  $('f-case').addEventListener('change', onFilterChange);
  let searchTimer = null;
  $('s-text').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      rebuildSearch();
      queueRender();
    }, 120);
  });
  $('s-text').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      clearTimeout(searchTimer);
      if (!st.search.re && $('s-text').value) rebuildSearch();
      jump(ev.shiftKey ? -1 : 1);
    }
  });
  $('s-prev').addEventListener('click', () => jump(-1));
  $('s-next').addEventListener('click', () => jump(1));
  $('b-pause').addEventListener('click', () => {
    st.paused = !st.paused;
    const b = $('b-pause');
    b.textContent = st.paused ? 'Resume' : 'Pause';
    b.classList.toggle('on', st.paused);
    b.setAttribute('aria-pressed', String(st.paused));
    if (!st.paused) {
      st.pausedNew = 0;
      extendView();
    }
    queueRender();
  });
  $('b-clear').addEventListener('click', () => {
    st.entries = [];
    st.view = [];
    st.tops = [];
    st.viewH = 0;
    st.viewUpTo = 0;
    st.pausedNew = 0;
    st.selected = null;
    $('log-detail').hidden = true;
    rebuildSearch();
    setFollow(true);
    queueRender();
  });
  $('b-download-view').addEventListener('click', () => {
    const rows = st.view.filter((e) => !e.note).map((e) => e.text);
    const blob = new Blob([rows.join('\n') + (rows.length ? '\n' : '')], { type: 'text/plain;charset=utf-8' });
    const a = document.createElement('a');
    const d = new Date();
    const p = (n) => String(n).padStart(2, '0');
    a.href = URL.createObjectURL(blob);
    a.download = `luatos-view-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}.log`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  });

  // ======================================================================= connection
  let ws = null;
  let wsRetry = 500;
  function wsUrl(path) {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path;
  }
  function setConn(up, text) {
    const c = $('conn');
    c.className = 'conn ' + (up ? 'up' : 'down');
    c.textContent = '● ' + text;
  }
  function connect() {
    const q = st.session ? `?since=${st.lastSeq}&session=${encodeURIComponent(st.session)}` : '';
    ws = new WebSocket(wsUrl('/ws' + q));
    ws.onopen = () => {
      wsRetry = 500;
      setConn(true, 'live');
    };
    ws.onmessage = (ev) => {
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      onMessage(m);
    };
    ws.onclose = () => {
      setConn(false, 'reconnecting');
      setTimeout(connect, wsRetry);
      wsRetry = Math.min(5000, wsRetry * 2);
    };
  }
  function onMessage(m) {
    switch (m.t) {
      case 'hello':
        if (st.session && m.session !== st.session) {
          // a new console server: its sequence numbers start again
          st.lastSeq = 0;
          addNote('console server restarted', 'W');
        }
        st.session = m.session;
        st.clientLines = m.clientLines || st.clientLines;
        if (m.device) $('dev-name').textContent = [m.device.name, m.device.bsp, m.device.version].filter(Boolean).join(' · ');
        if (m.gap) addNote(`${m.gap.toLocaleString()} lines were dropped from the server's history while this page was away`, 'W');
        renderFaults(m.faults || []);
        break;
      case 'log':
        addEntries(m.lines);
        break;
      case 'gap':
        addNote(`${m.n.toLocaleString()} lines skipped (the page could not keep up)`, 'W');
        break;
      case 'note':
        addNote(m.text, m.level);
        break;
      case 'faults':
        renderFaults(m.faults || []);
        break;
      case 'status':
        onStatus(m.s, m.now);
        onVideoUrl(m.video);
        break;
    }
  }

  // ======================================================================= device panel + chart
  const RTMP_STATES = ['IDLE', 'CONNECTING', 'HANDSHAKING', 'CONNECTED', 'PUBLISHING', 'DISCONNECTING', 'ERROR'];
  /** the modem's phases (status.cellular.state) as the cellular row says them */
  const CELL_STATES = { off: 'off', nosim: 'no SIM', pin: 'SIM PIN locked', searching: 'searching', registered: 'registered, no IP yet', online: 'online' };
  function cellState(c) {
    return c.flightMode ? 'in flight mode' : CELL_STATES[c.state] || c.state;
  }
  const samples = []; // {kbps, avg, fps, drop}
  const MAX_SAMPLES = 120;
  let lastDropped = null;
  function fmtBytes(n) {
    if (n == null) return '—';
    if (n >= 1048576) return (n / 1048576).toFixed(1) + ' MB';
    if (n >= 1024) return (n / 1024).toFixed(0) + ' kB';
    return n + ' B';
  }
  function fmtMem(m) {
    return m ? `${fmtBytes(m.used)} / ${fmtBytes(m.total)}` : '—';
  }
  function fmtUptime(ms) {
    if (ms == null) return '—';
    const s = Math.floor(ms / 1000);
    const h = Math.floor(s / 3600);
    const mm = Math.floor((s % 3600) / 60);
    return (h ? h + 'h ' : '') + (h || mm ? mm + 'm ' : '') + (s % 60) + 's';
  }
  function setKV(id, text, cls) {
    const el = $(id);
    el.textContent = text;
    el.className = cls || '';
    el.title = text;
  }
  function onStatus(s) {
    if (!s) return;
    st.lastStatus = s;
    const w = s.wifi || {};
    const c = s.cellular;
    // a modem board: the cellular row replaces the Wi-Fi row
    for (const id of ['d-wifi-dt', 'd-wifi']) $(id).hidden = !!c;
    for (const id of ['d-cell-dt', 'd-cell']) $(id).hidden = !c;
    if (c) {
      const parts = [cellState(c), `SIM ${c.sim}`, `reg ${c.registration}`, `CSQ ${c.csq} (${c.rssi} dBm)`];
      if (c.operator) parts.push(`PLMN ${c.operator}`);
      if (c.apn) parts.push(`APN ${c.apn}`);
      setKV('d-cell', parts.join(' · '), 'wide ' + (c.state === 'online' ? 'st-ok' : c.state === 'searching' || c.state === 'registered' ? 'st-warn' : 'st-err'));
      setKV('d-ip', c.ip || '—');
    } else {
      setKV('d-wifi', (w.state || '—') + (w.ssid ? ` (${w.ssid})` : ''), w.state === 'connected' ? 'st-ok' : w.state === 'connecting' ? 'st-warn' : w.state && w.state !== 'unknown' ? 'st-err' : '');
      setKV('d-ip', w.ip || '—');
    }
    const r = s.rtmp || {};
    const rs = r.state == null ? '—' : `${RTMP_STATES[r.state] || '?'} (${r.state})`;
    setKV('d-rtmp', rs, r.state === 4 ? 'st-ok' : r.state === 6 ? 'st-err' : r.state == null || r.state === 0 ? '' : 'st-warn');
    if (r.url) $('d-rtmp').title = r.url;
    setKV('d-boots', s.boots == null ? '—' : String(s.boots));
    setKV('d-uptime', fmtUptime(s.uptimeMs));
    const mem = s.memory || {};
    setKV('d-lua', fmtMem(mem.lua));
    setKV('d-sys', fmtMem(mem.sys));
    const x = r.stats;
    setKV('d-queue', x ? `${Math.round(x.queueMs)} ms` : '—');
    showTasks(s.tasks);
    let drop = null;
    if (x) {
      drop = lastDropped == null || x.dropped < lastDropped ? 0 : x.dropped - lastDropped;
      lastDropped = x.dropped;
    } else lastDropped = null;
    samples.push(x ? { kbps: x.kbpsWindow, avg: x.kbpsAvg, fps: x.fps, drop } : null);
    if (samples.length > MAX_SAMPLES) samples.shift();
    $('c-kbps').textContent = x ? x.kbpsWindow.toFixed(0) : '—';
    $('c-avg').textContent = x ? x.kbpsAvg.toFixed(0) : '—';
    $('c-fps').textContent = x ? x.fps.toFixed(1) : '—';
    $('c-drop').textContent = x ? String(x.dropped) : '—';
    drawChart();
  }
  /** Sleeping tasks: "retrying in N s" for a sleep that began right after an error, else the next wake-up. */
  function showTasks(t) {
    const list = t && t.sleeping ? t.sleeping : null;
    if (!list) return setKV('d-tasks', '—');
    const secs = (ms) => (ms >= 10000 ? Math.round(ms / 1000) : (ms / 1000).toFixed(1)) + ' s';
    const retry = list.filter((x) => x.afterError);
    let text;
    let cls = '';
    if (retry.length) {
      const r = retry.reduce((a, b) => (b.wakeInMs > a.wakeInMs ? b : a));
      text = `retrying in ${secs(r.wakeInMs)} (a task sleeps ${secs(r.ms)} after an error)`;
      cls = 'st-warn';
    } else if (list.length) text = `${list.length} sleeping · next wakes in ${secs(list[0].wakeInMs)}`;
    else text = 'none sleeping';
    setKV('d-tasks', text, cls);
    $('d-tasks').title = list.map((x) => `task timer ${x.id}: sys.wait(${x.ms}) wakes in ${secs(x.wakeInMs)}${x.afterError ? ' (began right after an error)' : ''}`).join('\n') || 'no task is sleeping';
  }
  function drawChart() {
    const c = $('chart');
    const dpr = window.devicePixelRatio || 1;
    const W = c.clientWidth;
    const H = c.clientHeight;
    if (!W || !H) return;
    if (c.width !== Math.round(W * dpr) || c.height !== Math.round(H * dpr)) {
      c.width = Math.round(W * dpr);
      c.height = Math.round(H * dpr);
    }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    const padL = 34, padR = 26, padT = 6, padB = 14;
    const w = W - padL - padR;
    const h = H - padT - padB;
    const vals = samples.filter(Boolean);
    const nice = (v) => {
      const p = Math.pow(10, Math.floor(Math.log10(Math.max(v, 1))));
      for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
      return 10 * p;
    };
    const kMax = nice(Math.max(100, ...vals.map((v) => Math.max(v.kbps, v.avg))) * 1.1);
    const fMax = nice(Math.max(10, ...vals.map((v) => v.fps)) * 1.1);
    const dMax = Math.max(1, ...vals.map((v) => v.drop || 0));
    g.font = '10px ui-monospace, monospace';
    g.strokeStyle = '#2a313c';
    g.fillStyle = '#7d8794';
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = padT + (h * i) / 4 + 0.5;
      g.beginPath();
      g.moveTo(padL, y);
      g.lineTo(padL + w, y);
      g.stroke();
      g.textAlign = 'right';
      g.fillText(String(Math.round(kMax * (1 - i / 4))), padL - 3, y + 3);
      g.textAlign = 'left';
      g.fillText(String(Math.round(fMax * (1 - i / 4))), padL + w + 3, y + 3);
    }
    g.textAlign = 'left';
    g.fillText(`−${MAX_SAMPLES} s`, padL, H - 2);
    g.textAlign = 'right';
    g.fillText('now', padL + w, H - 2);
    const xAt = (i) => padL + (w * (i + MAX_SAMPLES - samples.length)) / (MAX_SAMPLES - 1);
    // dropped frames per second: bars
    g.fillStyle = '#f06a5f';
    samples.forEach((s, i) => {
      if (s && s.drop) {
        const bh = Math.max(2, (h * s.drop) / dMax * 0.5);
        g.fillRect(xAt(i) - 1.5, padT + h - bh, 3, bh);
      }
    });
    const line = (key, max, color, width) => {
      g.strokeStyle = color;
      g.lineWidth = width;
      g.beginPath();
      let pen = false;
      samples.forEach((s, i) => {
        if (!s) {
          pen = false;
          return;
        }
        const y = padT + h - (h * Math.min(s[key], max)) / max;
        if (pen) g.lineTo(xAt(i), y);
        else g.moveTo(xAt(i), y);
        pen = true;
      });
      g.stroke();
    };
    line('avg', kMax, '#4ea1ff80', 1);
    line('kbps', kMax, '#4ea1ff', 1.8);
    line('fps', fMax, '#3fb950', 1.5);
  }
  window.addEventListener('resize', drawChart);

  // ======================================================================= faults
  let faultKey = '';
  let datalistSeq = 0;
  function renderFaults(list) {
    const key = JSON.stringify(list);
    if (key === faultKey) return;
    faultKey = key;
    const box = $('faults');
    box.textContent = '';
    if (!list.length) {
      box.innerHTML = '<span class="muted">none registered</span>';
      return;
    }
    for (const f of list) {
      const div = document.createElement('div');
      div.className = 'fault';
      const name = document.createElement('span');
      name.className = 'fname';
      name.textContent = f.name;
      name.title = f.description || '';
      const acts = document.createElement('div');
      acts.className = 'actions';
      for (const alt of LuatosUsage.parseUsage(f.usage)) {
        const act = document.createElement('span');
        act.className = 'act';
        const btn = document.createElement('button');
        btn.type = 'button';
        btn.className = 'fault-btn';
        btn.dataset.fault = f.name;
        btn.dataset.args = alt.label;
        btn.textContent = alt.label || f.name;
        const syntax = `${f.name} ${alt.items.map((it) => ('word' in it ? it.word : it.optional ? `[${it.param}]` : `<${it.param}>`)).join(' ')}`.trim();
        const does = actionText(f, alt);
        btn.title = `${syntax} — ${does}`;
        btn.dataset.does = does;
        const inputs = alt.items
          .filter((it) => !('word' in it))
          .map((it) => {
            const inp = document.createElement('input');
            inp.type = 'text';
            inp.placeholder = it.optional ? `[${it.param}]` : it.param;
            inp.setAttribute('aria-label', `${f.name} ${alt.label} ${it.param}`);
            if (it.choices.length) {
              const dl = document.createElement('datalist');
              dl.id = `dl-${++datalistSeq}`;
              for (const c of it.choices) {
                const o = document.createElement('option');
                o.value = c;
                dl.appendChild(o);
              }
              act.appendChild(dl);
              inp.setAttribute('list', dl.id);
            }
            inp.addEventListener('keydown', (ev) => {
              if (ev.key === 'Enter') btn.click();
            });
            return inp;
          });
        btn.addEventListener('click', () => {
          const r = LuatosUsage.buildArgs(alt, inputs.map((i) => i.value));
          if (r.error) {
            // say why nothing happened, and what to type
            const inp = inputs[r.index];
            const res = $('fault-result');
            res.className = 'small err';
            res.textContent = `✗ ${syntax}: not run — type the ${inp.placeholder} first (${does})`;
            inp.focus();
            inp.classList.add('bad');
            setTimeout(() => inp.classList.remove('bad'), 800);
            return;
          }
          runFault(f.name, r.args, btn, does);
        });
        act.appendChild(btn);
        inputs.forEach((i) => act.appendChild(i));
        acts.appendChild(act);
      }
      div.append(name, acts);
      box.appendChild(div);
    }
  }
  /**
   * What a button does: the fault's own words for this alternative (FaultInfo.actions), else its
   * description with the alternative named, so that "ok" and "up" never just repeat the fault.
   */
  function actionText(f, alt) {
    const a = f.actions && Object.prototype.hasOwnProperty.call(f.actions, alt.label) ? f.actions[alt.label] : null;
    if (a) return a;
    if (!alt.label) return f.description || `run ${f.name}`;
    return `${f.name} ${alt.label}` + (f.description ? ` (${f.name}: ${f.description})` : '');
  }
  async function getToken() {
    if (st.token) return st.token;
    const r = await fetch('/api/info', { cache: 'no-store' });
    const j = await r.json();
    st.token = j.token;
    return st.token;
  }
  async function runFault(name, args, btn, does) {
    const res = $('fault-result');
    const what = [name, ...args].join(' ');
    res.className = 'small';
    res.textContent = `… ${what}`;
    btn.classList.add('busy');
    btn.disabled = true;
    try {
      const token = await getToken();
      const r = await fetch('/api/fault', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Console-Token': token },
        body: JSON.stringify({ name, args }),
      });
      const j = await r.json().catch(() => ({ ok: false, error: `HTTP ${r.status}` }));
      if (r.status === 403) st.token = null;
      res.className = 'small ' + (j.ok ? 'ok' : 'err');
      res.textContent = j.ok ? `✓ ${what} — done: ${does}` : `✗ ${what}: not done: ${j.error}`;
    } catch (e) {
      res.className = 'small err';
      res.textContent = `✗ ${what}: ${e.message || e}`;
    } finally {
      btn.classList.remove('busy');
      btn.disabled = false;
    }
  }

  // ======================================================================= video
  const video = $('video');
  const STALL_MS = 2000; // no new frame for this long: the badge says "stalled", not "live"
  const vstate = {
    url: null, // upstream URL from the status
    player: null,
    retryTimer: null,
    startedAt: 0,
    lastFrames: 0,
    lastProgress: 0,
    fpsFrames: 0,
    fpsAt: 0,
  };
  function setVideoState(text, cls, overlay) {
    const b = $('v-state');
    b.textContent = text;
    b.className = 'badge ' + (cls || '');
    const o = $('v-overlay');
    o.hidden = !overlay;
    if (overlay) o.textContent = overlay;
  }
  function stopPlayer() {
    const p = vstate.player;
    vstate.player = null;
    if (!p) return;
    try {
      p.pause();
      p.unload();
      p.detachMediaElement();
      p.destroy();
    } catch {
      /* already gone */
    }
  }
  function scheduleRetry(why, ms, badge) {
    stopPlayer();
    if (vstate.retryTimer) return;
    setVideoState(badge || 'retrying', 'warn', `${why} — retrying…`);
    vstate.retryTimer = setTimeout(() => {
      vstate.retryTimer = null;
      if (vstate.url) startPlayer();
    }, ms || 1500);
  }
  function startPlayer() {
    stopPlayer();
    if (typeof mpegts === 'undefined') {
      setVideoState('unavailable', 'err', 'mpegts.js did not load');
      return;
    }
    if (!mpegts.getFeatureList().mseLivePlayback) {
      setVideoState('unsupported', 'err', 'this browser cannot play live FLV (no MediaSource H.264)');
      return;
    }
    const p = mpegts.createPlayer(
      { type: 'flv', isLive: true, hasAudio: false, hasVideo: true, url: wsUrl('/video') },
      {
        enableWorker: false,
        enableStashBuffer: false,
        stashInitialSize: 128 * 1024,
        lazyLoad: false,
        deferLoadAfterSourceOpen: false,
        autoCleanupSourceBuffer: true,
        autoCleanupMaxBackwardDuration: 30,
        autoCleanupMinBackwardDuration: 10,
        liveBufferLatencyChasing: true,
        liveBufferLatencyChasingOnPaused: true,
        liveBufferLatencyMaxLatency: 1.0,
        liveBufferLatencyMinRemain: 0.3,
      },
    );
    vstate.player = p;
    vstate.startedAt = performance.now();
    vstate.lastProgress = performance.now();
    vstate.lastFrames = frames();
    p.on(mpegts.Events.ERROR, (type, detail, info) => {
      if (vstate.player !== p) return;
      scheduleRetry(`player error: ${detail || type}${info && info.msg ? ' (' + info.msg + ')' : ''}`);
    });
    p.on(mpegts.Events.LOADING_COMPLETE, () => {
      if (vstate.player !== p) return;
      scheduleRetry('stream ended');
    });
    p.attachMediaElement(video);
    p.load();
    const pr = p.play();
    if (pr && pr.catch) pr.catch(() => {});
    setVideoState('connecting', 'warn', 'connecting to the stream…');
  }
  function onVideoUrl(url) {
    if (url === vstate.url) {
      if (url && !vstate.player && !vstate.retryTimer) startPlayer();
      return;
    }
    vstate.url = url || null;
    $('v-url').textContent = url ? `source: ${url} (relayed via /video)` : '';
    if (!url) {
      if (vstate.retryTimer) clearTimeout(vstate.retryTimer);
      vstate.retryTimer = null;
      stopPlayer();
      setVideoState('waiting', '', 'waiting for the device to publish…');
      $('v-delay').textContent = '—';
      return;
    }
    if (vstate.retryTimer) clearTimeout(vstate.retryTimer);
    vstate.retryTimer = null;
    startPlayer();
  }
  function frames() {
    const q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
    return q ? q.totalVideoFrames : 0;
  }
  function fmtClock(d) {
    const p = (n, w = 2) => String(n).padStart(w, '0');
    return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
  }
  // delay and stall watchdog (4 Hz)
  setInterval(() => {
    const now = performance.now();
    const f = frames();
    $('v-frames').textContent = String(f);
    if (!vstate.fpsAt || now - vstate.fpsAt >= 2000) {
      if (vstate.fpsAt) $('v-fps').textContent = (((f - vstate.fpsFrames) * 1000) / (now - vstate.fpsAt)).toFixed(1);
      vstate.fpsFrames = f;
      vstate.fpsAt = now;
    }
    if (!vstate.player) return;
    if (f > vstate.lastFrames) {
      vstate.lastFrames = f;
      vstate.lastProgress = now;
      setVideoState('live', 'ok', null);
    } else if (f < vstate.lastFrames) vstate.lastFrames = f;
    const b = video.buffered;
    if (b.length) {
      const d = b.end(b.length - 1) - video.currentTime;
      $('v-delay').textContent = `${Math.max(0, d).toFixed(2)} s`;
      // fall back to a jump if latency chasing cannot catch up (e.g. after a stall)
      if (d > 3 && !video.paused) video.currentTime = b.end(b.length - 1) - 0.3;
    }
    if (video.paused && f > 0) {
      const pr = video.play();
      if (pr && pr.catch) pr.catch(() => {});
    }
    const still = now - vstate.lastProgress;
    if (still > 6000) scheduleRetry(stallText(still), 500, 'stalled');
    else if (still > STALL_MS && f > 0) setVideoState('stalled', 'warn', stallText(still));
  }, 250);
  /** "no new frames for N s", and why when the device panel knows it. */
  function stallText(ms) {
    const why = stallReason(st.lastStatus);
    return `no new frames for ${Math.floor(ms / 1000)} s` + (why ? ` — ${why}` : '');
  }
  function stallReason(s) {
    if (!s) return '';
    const w = s.wifi || {};
    if (s.cellular && s.cellular.state !== 'online') return `the modem is ${cellState(s.cellular)}`;
    if (!s.cellular && w.state && w.state !== 'connected' && w.state !== 'unknown') return `Wi-Fi is ${w.state}`;
    if (s.camera && s.camera.unplugged) return 'the camera is unplugged';
    const r = s.rtmp || {};
    if (r.state != null && r.state !== 4) return `RTMP is ${RTMP_STATES[r.state] || r.state}`;
    if (r.stats && r.stats.fps === 0) return 'the device sends no frames';
    return '';
  }
  (function clock() {
    $('v-now').textContent = fmtClock(new Date());
    setTimeout(clock, 47);
  })();

  // ======================================================================= start
  readFilter();
  fetch('/api/info', { cache: 'no-store' })
    .then((r) => r.json())
    .then((j) => {
      st.token = j.token;
    })
    .catch(() => {});
  connect();
  // for debugging and tests: read-only views of the state
  window.luatosConsole = {
    get lines() {
      return st.entries.length;
    },
    get shown() {
      return st.view.length;
    },
    get lastSeq() {
      return st.lastSeq;
    },
    get playing() {
      return !!vstate.player;
    },
  };
})();
