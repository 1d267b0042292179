/* The auditkit bastion portal page script (served from /assets/app.js; no inline script, no CDN).
 * Every text from the server goes into the page with textContent, never as HTML. */
/* global document, window, location, fetch, WebSocket, URLSearchParams, Terminal, FitAddon, setTimeout, clearTimeout, performance */
'use strict';

(function () {
  let csrf = '';

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }

  async function api(method, url, body) {
    const r = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: Object.assign({ 'x-csrf-token': csrf }, body ? { 'content-type': 'application/json' } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    if (r.status === 401) {
      location.href = '/login';
      throw new Error('log in first');
    }
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.error || `HTTP ${r.status}`);
    return data;
  }

  function wsUrl(pathAndQuery) {
    return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${pathAndQuery}`;
  }

  function newTerminal(container, opts) {
    const term = new Terminal(Object.assign({ cursorBlink: true, fontSize: 14, scrollback: 5000, convertEol: false }, opts || {}));
    const fit = new FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(container);
    try {
      fit.fit();
    } catch (e) {
      /* hidden container */
    }
    window.addEventListener('resize', () => {
      try {
        fit.fit();
      } catch (e) {
        /* ignore */
      }
    });
    return term;
  }

  /** A terminal over a websocket: binary frames are bytes, text frames JSON control. */
  function attach(term, url, status, interactive) {
    const ws = new WebSocket(wsUrl(url));
    ws.binaryType = 'arraybuffer';
    const enc = new window.TextEncoder();
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data === 'string') {
        const msg = JSON.parse(ev.data);
        if (msg.session) {
          status.textContent = `session ${msg.session} · ${msg.account}@${msg.host}`;
          status.dataset.session = msg.session;
        }
        if (msg.error) {
          status.textContent = `refused: ${msg.error}`;
          status.className = 'status fail';
          term.write(`\r\n\x1b[31mauditkit: ${msg.error.replace(/[\x00-\x1f\x7f]/g, '?')}\x1b[0m\r\n`);
        }
        if (msg.exit !== undefined) status.dataset.exit = String(msg.exit);
        return;
      }
      term.write(new Uint8Array(ev.data));
    });
    ws.addEventListener('close', () => {
      status.dataset.closed = '1';
      if (!status.className.includes('fail')) status.textContent += ' · closed';
    });
    if (interactive) {
      term.onData((d) => ws.readyState === 1 && ws.send(enc.encode(d)));
      term.onResize((s) => ws.readyState === 1 && ws.send(JSON.stringify({ resize: { cols: s.cols, rows: s.rows } })));
    }
    window.akSocket = ws;
    return ws;
  }

  // ------------------------------------------------------------------ pages
  async function loginPage() {
    const s = await api('GET', '/api/session');
    csrf = s.csrf;
    if (s.user) {
      location.href = '/hosts';
      return;
    }
    const form = document.getElementById('login-form');
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const err = document.getElementById('error');
      err.textContent = '';
      try {
        await api('POST', '/api/login', {
          user: document.getElementById('user').value,
          password: document.getElementById('password').value,
          code: document.getElementById('code').value,
        });
        location.href = '/hosts';
      } catch (e) {
        err.textContent = e.message;
      }
    });
  }

  async function hostsPage(main) {
    const data = await api('GET', '/api/hosts');
    const search = el('input', { class: 'search', id: 'search', placeholder: 'search by name, address or account', type: 'search' });
    const tbody = el('tbody');
    const table = el('table', { id: 'hosts' }, el('thead', {}, el('tr', {}, el('th', { text: 'Host' }), el('th', { text: 'Address' }), el('th', { text: 'Account' }), el('th', { text: 'Tags' }), el('th', { text: '' }))), tbody);
    const render = () => {
      const q = search.value.trim().toLowerCase();
      tbody.replaceChildren();
      for (const t of data.targets) {
        const hay = `${t.host} ${t.address} ${t.account} ${(t.tags || []).join(' ')}`.toLowerCase();
        if (q && !hay.includes(q)) continue;
        const href = `/terminal?${new URLSearchParams({ host: t.host, account: t.account })}`;
        tbody.append(el('tr', { 'data-host': t.host }, el('td', { text: t.host }), el('td', { text: t.address }), el('td', { text: t.account }), el('td', { text: (t.tags || []).join(', ') }), el('td', {}, el('a', { href, class: 'open', text: 'Open terminal' }))));
      }
    };
    search.addEventListener('input', render);
    render();
    // Batch: one command on several hosts; each host is checked against your grants and the guard rail.
    const groups = el('input', { id: 'task-groups', placeholder: 'host groups, e.g. web' });
    const hostsIn = el('input', { id: 'task-hosts', placeholder: 'hosts, e.g. web01 web02' });
    const cmd = el('input', { id: 'task-command', placeholder: 'command', size: '50' });
    const run = el('button', { id: 'task-run', type: 'button', text: 'Run on all' });
    const msg = el('span', { class: 'error', id: 'task-error' });
    run.addEventListener('click', async () => {
      msg.textContent = '';
      try {
        const t = await api('POST', '/api/tasks', { groups: groups.value, hosts: hostsIn.value, command: cmd.value });
        location.href = `/task/${t.task}`;
      } catch (e) {
        msg.textContent = e.message;
      }
    });
    main.append(el('h2', { text: `Your hosts (${data.targets.length})` }), search, table, el('h3', { text: 'Run a command on several hosts' }), el('div', { class: 'bar' }, groups, hostsIn, cmd, run, msg));
  }

  function terminalPage(main, url, title) {
    const status = el('span', { class: 'status', id: 'status', text: 'connecting…' });
    const box = el('div', { class: 'term', id: 'term' });
    main.append(el('div', { class: 'bar' }, el('strong', { text: title }), status), box);
    const term = newTerminal(box);
    window.akTerm = term;
    const sep = url.includes('?') ? '&' : '?';
    attach(term, `${url}${sep}cols=${term.cols}&rows=${term.rows}`, status, true);
    term.focus();
  }

  async function sessionsPage(main, admin) {
    const all = admin && new URLSearchParams(location.search).get('all') === '1';
    const data = await api('GET', `/api/sessions${all ? '?all=1' : ''}`);
    const tbody = el('tbody');
    for (const s of data.sessions) {
      tbody.append(el('tr', { 'data-session': s.id }, el('td', { text: s.start }), el('td', { text: s.user }), el('td', { text: `${s.account}@${s.host}` }), el('td', { text: s.reason }), el('td', {}, s.recording ? el('a', { href: `/replay/${s.id}`, text: 'Replay' }) : el('span', { text: '' }))));
    }
    main.append(
      el('h2', { text: all ? 'All sessions' : 'Your sessions' }),
      admin ? el('p', {}, el('a', { href: all ? '/sessions' : '/sessions?all=1', text: all ? 'only mine' : 'everyone\'s' })) : el('span'),
      el('table', { id: 'sessions' }, el('thead', {}, el('tr', {}, el('th', { text: 'Start' }), el('th', { text: 'User' }), el('th', { text: 'Target' }), el('th', { text: 'End' }), el('th', { text: '' }))), tbody),
    );
  }

  async function replayPage(main, id) {
    const data = await api('GET', `/api/replay/${encodeURIComponent(id)}`);
    const events = data.events;
    const duration = events.length ? events[events.length - 1][0] : 0;
    const play = el('button', { id: 'play', type: 'button', text: 'Pause' });
    const speed = el('select', { id: 'speed' }, ...['0.5', '1', '2', '4', '16'].map((v) => el('option', v === '1' ? { value: v, selected: 'selected', text: `${v}×` } : { value: v, text: `${v}×` })));
    const seek = el('input', { id: 'seek', type: 'range', min: '0', max: String(Math.max(1, Math.ceil(duration * 10))), value: '0' });
    const clock = el('span', { class: 'status', id: 'clock', text: '0.0 s' });
    const box = el('div', { class: 'term', id: 'term' });
    const s = data.session;
    main.append(el('div', { class: 'bar' }, el('strong', { text: `Replay ${s.user} → ${s.account}@${s.host} (${s.start})` }), play, el('label', {}, 'speed ', speed), seek, clock), box);
    const term = newTerminal(box, { cols: data.header.width, rows: data.header.height, cursorBlink: false, disableStdin: true });
    term.resize(data.header.width, data.header.height);
    window.akTerm = term;
    let i = 0; // next event
    let pos = 0; // seconds into the recording
    let playing = true;
    let timer;
    let last = performance.now();
    const apply = (e) => {
      if (e[1] === 'o') term.write(e[2]);
      else if (e[1] === 'r') {
        const m = /^(\d+)x(\d+)$/.exec(e[2]);
        if (m) term.resize(Number(m[1]), Number(m[2]));
      }
    };
    const tick = () => {
      const t = performance.now();
      if (playing) pos += ((t - last) / 1000) * Number(speed.value);
      last = t;
      while (i < events.length && events[i][0] <= pos) apply(events[i++]);
      seek.value = String(Math.round(pos * 10));
      clock.textContent = `${pos.toFixed(1)} / ${duration.toFixed(1)} s`;
      if (i >= events.length) {
        playing = false;
        play.textContent = 'Play';
        main.dataset.done = '1';
        return;
      }
      timer = setTimeout(tick, 30);
    };
    const seekTo = (to) => {
      clearTimeout(timer);
      term.reset();
      i = 0;
      pos = to;
      while (i < events.length && events[i][0] <= pos) apply(events[i++]);
      last = performance.now();
      tick();
    };
    play.addEventListener('click', () => {
      if (i >= events.length) return seekTo(0) || (playing = true) || (play.textContent = 'Pause');
      playing = !playing;
      play.textContent = playing ? 'Pause' : 'Play';
      if (playing) {
        last = performance.now();
        clearTimeout(timer);
        tick();
      }
    });
    seek.addEventListener('input', () => seekTo(Number(seek.value) / 10));
    window.akSeek = seekTo;
    tick();
  }

  async function livePage(main) {
    const data = await api('GET', '/api/live');
    const tbody = el('tbody');
    for (const s of data.live) {
      const end = el('button', { type: 'button', class: 'kill', text: 'End' });
      end.addEventListener('click', async () => {
        await api('POST', `/api/live/${encodeURIComponent(s.id)}/kill`);
        location.reload();
      });
      tbody.append(el('tr', { 'data-session': s.id }, el('td', { text: s.start }), el('td', { text: s.user }), el('td', { text: `${s.account}@${s.host}` }), el('td', { text: s.source }), el('td', {}, el('a', { href: `/watch/${s.id}`, text: 'Watch' }), ' ', end)));
    }
    main.append(el('h2', { text: `Live sessions (${data.live.length})` }), el('table', { id: 'live' }, el('thead', {}, el('tr', {}, el('th', { text: 'Start' }), el('th', { text: 'User' }), el('th', { text: 'Target' }), el('th', { text: 'From' }), el('th', { text: '' }))), tbody));
  }

  function watchPage(main, id) {
    const status = el('span', { class: 'status', id: 'status', text: `watching ${id} (read-only)` });
    const box = el('div', { class: 'term', id: 'term' });
    main.append(el('div', { class: 'bar' }, el('strong', { text: 'Live session' }), status), box);
    const term = newTerminal(box, { disableStdin: true, cursorBlink: false });
    window.akTerm = term;
    attach(term, `/api/ws/watch/${encodeURIComponent(id)}?csrf=${encodeURIComponent(csrf)}`, status, false);
  }

  async function taskPage(main, id) {
    const status = el('p', { class: 'status', id: 'task-status', text: 'loading…' });
    const tbody = el('tbody');
    main.append(el('h2', { text: `Task ${id}` }), status, el('table', { id: 'task' }, el('thead', {}, el('tr', {}, el('th', { text: 'Host' }), el('th', { text: 'Result' }), el('th', { text: 'Exit' }), el('th', { text: 'Duration' }), el('th', { text: 'Output' }))), tbody));
    const load = async () => {
      const t = await api('GET', `/api/tasks/${encodeURIComponent(id)}`);
      status.textContent = `${t.command} · ${t.done}/${t.total} done${t.done === t.total ? '' : ' · running'}`;
      tbody.replaceChildren();
      for (const r of t.results) {
        const failed = r.outcome !== 'success';
        tbody.append(el('tr', { 'data-host': r.host, class: failed ? 'fail' : 'ok' }, el('td', { text: r.host }), el('td', { text: r.outcome === 'success' ? 'ok' : `FAILED: ${r.error || `exit ${r.exit_code}`}` }), el('td', { text: r.exit_code === null || r.exit_code === undefined ? '' : String(r.exit_code) }), el('td', { text: `${r.duration_ms} ms` }), el('td', {}, el('pre', { class: 'out', text: (r.stdout || '') + (r.stderr ? `\n[stderr]\n${r.stderr}` : '') }))));
      }
      if (t.done < t.total) setTimeout(load, 1000);
      else main.dataset.done = '1';
    };
    await load();
  }

  async function appPage() {
    const s = await api('GET', '/api/session');
    csrf = s.csrf;
    const main = document.getElementById('main');
    const parts = location.pathname.split('/').filter(Boolean);
    if (parts[0] === 't') {
      document.getElementById('nav').hidden = true;
      return terminalPage(main, `/api/ws/token/${encodeURIComponent(parts[1] || '')}`, 'One-time terminal');
    }
    if (!s.user) {
      location.href = '/login';
      return;
    }
    document.getElementById('who').textContent = s.user + (s.admin ? ' (admin)' : '');
    for (const a of document.querySelectorAll('.admin-only')) a.hidden = !s.admin;
    document.getElementById('logout').addEventListener('click', async () => {
      await api('POST', '/api/logout').catch(() => undefined);
      location.href = '/login';
    });
    const q = new URLSearchParams(location.search);
    try {
      switch (parts[0]) {
        case 'hosts':
          return await hostsPage(main);
        case 'terminal':
          return terminalPage(main, `/api/ws/terminal?${new URLSearchParams({ host: q.get('host') || '', account: q.get('account') || '', csrf })}`, `${q.get('account') || ''}@${q.get('host') || ''}`);
        case 'sessions':
          return await sessionsPage(main, s.admin);
        case 'replay':
          return await replayPage(main, parts[1] || '');
        case 'live':
          return await livePage(main);
        case 'watch':
          return watchPage(main, parts[1] || '');
        case 'task':
          return await taskPage(main, parts[1] || '');
        default:
          location.href = '/hosts';
      }
    } catch (e) {
      main.append(el('p', { class: 'error', id: 'page-error', text: e.message }));
    }
  }

  const page = document.body.dataset.page;
  (page === 'login' ? loginPage() : appPage()).catch((e) => {
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = String(e.message || e);
    document.body.append(p);
  });
})();
