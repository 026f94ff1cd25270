// The fleet view (runtime/host/web/fleet-console.ts): a table of every device, sorted and filtered
// here, polled once a second; click a name for its panel, log and video; fault buttons act on
// the checked devices. No framework, no inline script (the page's CSP forbids it).
'use strict';
(function () {
  const RTMP = ['IDLE', 'CONNECTING', 'HANDSHAKING', 'CONNECTED', 'PUBLISHING', 'DISCONNECTING', 'DISCONNECTED', 'ERROR'];
  const $ = (s) => document.querySelector(s);
  const state = { rows: [], token: '', sort: 'name', dir: 1, selected: new Set(), current: null, player: null, faults: [] };
  window.luatosFleet = state;

  const rtmpText = (r) => (r.rtmp === null || r.rtmp === undefined ? '—' : RTMP[r.rtmp] || String(r.rtmp));
  const cell = (text, cls) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  };

  function shown() {
    const f = $('#f-filter').value.trim().toLowerCase();
    const errorsOnly = $('#f-errors').checked;
    let rows = state.rows.filter((r) => {
      if (errorsOnly && !r.lastError) return false;
      if (!f) return true;
      return [r.name, r.wifi, rtmpText(r), r.lastError || ''].some((v) => String(v).toLowerCase().includes(f));
    });
    const k = state.sort;
    rows = rows.slice().sort((a, b) => {
      const x = k === 'rtmp' ? rtmpText(a) : a[k];
      const y = k === 'rtmp' ? rtmpText(b) : b[k];
      if (x === y) return a.name < b.name ? -1 : 1;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * state.dir;
    });
    return rows;
  }

  function render() {
    const rows = shown();
    const body = $('#devices tbody');
    const frag = document.createDocumentFragment();
    for (const r of rows) {
      const tr = document.createElement('tr');
      tr.dataset.name = r.name;
      if (r.name === state.current) tr.className = 'current';
      const tdSel = document.createElement('td');
      const cb = document.createElement('input');
      cb.type = 'checkbox';
      cb.className = 'sel';
      cb.checked = state.selected.has(r.name);
      cb.addEventListener('change', () => {
        if (cb.checked) state.selected.add(r.name);
        else state.selected.delete(r.name);
        $('#sel-count').textContent = `${state.selected.size} selected`;
      });
      tdSel.appendChild(cb);
      tr.appendChild(tdSel);
      const name = cell(r.name, 'name');
      name.title = `open ${r.name}: its panel, log and video`;
      name.addEventListener('click', () => openDevice(r.name));
      tr.appendChild(name);
      tr.appendChild(cell(r.wifi, r.wifi === 'connected' ? 'ok' : 'bad'));
      tr.appendChild(cell(rtmpText(r), r.rtmp === 4 ? 'ok' : r.rtmp === 7 ? 'bad' : ''));
      tr.appendChild(cell(String(r.kbps ?? 0)));
      tr.appendChild(cell(String(r.dropped ?? 0), r.dropped ? 'bad' : ''));
      tr.appendChild(cell(String(r.boots ?? 0)));
      const err = cell(r.lastError || '', r.lastError ? 'bad' : '');
      if (r.lastError) err.title = r.lastError;
      tr.appendChild(err);
      frag.appendChild(tr);
    }
    body.replaceChildren(frag);
    for (const th of document.querySelectorAll('#devices th[data-sort]')) {
      th.classList.toggle('asc', th.dataset.sort === state.sort && state.dir === 1);
      th.classList.toggle('desc', th.dataset.sort === state.sort && state.dir === -1);
    }
    const pub = state.rows.filter((r) => r.rtmp === 4).length;
    const wifi = state.rows.filter((r) => r.wifi === 'connected').length;
    $('#summary').textContent = `${state.rows.length} devices · ${wifi} on Wi-Fi · ${pub} publishing · ${state.encoders} encoder(s)` + (state.ingest ? ` · ingest ${state.ingest.state}` : '');
    $('#sel-count').textContent = `${state.selected.size} selected`;
    renderDetail();
  }

  function renderDetail() {
    if (!state.current) return;
    const r = state.rows.find((x) => x.name === state.current);
    if (!r) return;
    const dl = $('#d-panel');
    const items = [
      ['MAC (device id)', r.mac], ['Wi-Fi', `${r.wifi}${r.ip ? ' · ' + r.ip : ''}`], ['RTMP', rtmpText(r)],
      ['kbps', String(r.kbps)], ['frames sent', String(r.videoFrames ?? 0)], ['drops', String(r.dropped)], ['queue', `${r.queueMs ?? 0} ms`],
      ['boots', String(r.boots)], ['uptime', `${Math.round((r.uptimeMs ?? 0) / 1000)} s`], ['encoder', r.encoder || '—'], ['last error', r.lastError || '—'],
    ];
    dl.replaceChildren(...items.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      dd.id = 'd-' + k.split(' ')[0].toLowerCase().replace(/[^a-z]/g, '');
      return [dt, dd];
    }));
  }

  async function poll() {
    try {
      const res = await fetch('/api/fleet', { cache: 'no-store' });
      const j = await res.json();
      state.rows = j.devices;
      state.token = j.token;
      state.encoders = j.encoders;
      state.ingest = j.ingest;
      state.faults = j.faults;
      $('#conn').textContent = '● connected';
      $('#conn').className = 'conn up';
      render();
    } catch {
      $('#conn').textContent = '● disconnected';
      $('#conn').className = 'conn down';
    }
  }

  async function loadLog() {
    if (!state.current) return;
    const name = state.current;
    const res = await fetch('/api/device/log?name=' + encodeURIComponent(name), { cache: 'no-store' });
    if (state.current !== name) return;
    const pre = $('#d-log');
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.textContent = await res.text();
    if (atEnd) pre.scrollTop = pre.scrollHeight;
  }

  function openDevice(name) {
    state.current = name;
    $('#detail').hidden = false;
    $('#fleet-layout').classList.remove('no-detail');
    $('#d-title').textContent = name;
    render();
    loadLog();
    startVideo(name);
  }

  function startVideo(name) {
    if (state.player) {
      try { state.player.destroy(); } catch { /* gone */ }
      state.player = null;
    }
    const v = $('#d-video');
    if (!window.mpegts || !window.mpegts.isSupported()) {
      $('#d-video-state').textContent = 'this browser cannot play the stream (no MSE)';
      return;
    }
    const url = `ws://${location.host}/video?name=${encodeURIComponent(name)}`;
    const p = window.mpegts.createPlayer({ type: 'flv', isLive: true, url, hasAudio: false }, { enableStashBuffer: false, liveBufferLatencyChasing: true });
    p.attachMediaElement(v);
    p.load();
    p.play();
    state.player = p;
    $('#d-video-state').textContent = 'video: ' + name;
  }

  async function post(path, body) {
    const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Console-Token': state.token }, body: JSON.stringify(body) });
    const j = await res.json();
    const out = $('#fault-result');
    if (!j.ok) out.textContent = `failed: ${j.error}`;
    else if (j.errors && j.errors.length) out.textContent = `done on ${j.devices} device(s); ${j.errors.length} refused: ${j.errors.slice(0, 3).map((e) => e.join(': ')).join('; ')}`;
    else out.textContent = `done${j.devices ? ` on ${j.devices} device(s)` : ''}`;
    state.lastResult = j;
    poll();
    return j;
  }
  const selection = () => [...state.selected];

  $('#b-wifi-down').addEventListener('click', () => post('/api/fault', { name: 'wifi', args: ['down'], devices: selection() }));
  $('#b-wifi-up').addEventListener('click', () => post('/api/fault', { name: 'wifi', args: ['up'], devices: selection() }));
  $('#b-wifi-10').addEventListener('click', () => post('/api/fault', { name: 'wifi', args: ['down'], percent: 10 }));
  $('#b-reboot').addEventListener('click', () => post('/api/reboot', { devices: selection() }));
  $('#b-ingest-kill').addEventListener('click', () => post('/api/fault', { name: 'rtmp-server', args: ['kill'] }));
  $('#b-ingest-restart').addEventListener('click', () => post('/api/fault', { name: 'rtmp-server', args: ['restart'] }));
  $('#sel-all').addEventListener('change', (ev) => {
    for (const r of shown()) {
      if (ev.target.checked) state.selected.add(r.name);
      else state.selected.delete(r.name);
    }
    render();
  });
  $('#f-filter').addEventListener('input', render);
  $('#f-errors').addEventListener('change', render);
  for (const th of document.querySelectorAll('#devices th[data-sort]')) {
    th.addEventListener('click', () => {
      if (state.sort === th.dataset.sort) state.dir = -state.dir;
      else {
        state.sort = th.dataset.sort;
        state.dir = 1;
      }
      render();
    });
  }
  $('#fleet-layout').classList.add('no-detail');
  poll();
  setInterval(poll, 1000);
  setInterval(loadLog, 2000);
})();
