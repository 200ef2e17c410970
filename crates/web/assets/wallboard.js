/* Switchboard — supervisor wallboard: queues, agents, state counts and the
 * last hours as SVG charts. GET /api/board once, then SSE `board` events;
 * waits and times in state tick locally between updates. */
(function () {
  'use strict';
  const { $, el, t } = SB;

  const S = { board: null, receivedAt: 0, chartSig: '' };
  const STATES = ['ready', 'reserved', 'busy', 'on-hold', 'wrap-up', 'not-ready', 'offline'];
  const SL_TARGET = 0.8; // colour thresholds for the service level cell
  const key = (x) => String(x);

  /** The server's clock now, from the board's own `at`. */
  function serverNow() {
    if (!S.board || !S.board.at) return SB.now();
    return S.board.at + (Date.now() - S.receivedAt);
  }

  function setBoard(b) {
    if (!b || typeof b !== 'object') return;
    S.board = b;
    S.receivedAt = Date.now();
    if (b.at) SB.syncClock(b.at);
    render();
  }

  function render() {
    const b = S.board;
    if (!b) return;
    SB.setText($('#board-at'), b.at ? SB.fmtTime(b.at) : '—');
    renderTotals(b);
    renderStates(b);
    renderQueues(b);
    fillFilters(b);
    renderAgents(b);
    renderCharts(b);
    tick();
  }

  // ------------------------------------------------------------ totals and state counts

  function renderTotals(b) {
    const qs = b.queues || [];
    let waiting = 0;
    let longest = 0;
    let offered = 0;
    let answered = 0;
    let abandoned = 0;
    let slNum = 0;
    let slDen = 0;
    for (const q of qs) {
      waiting += q.waiting || 0;
      longest = Math.max(longest, q.longest_wait_seconds || 0);
      const w = q.window || {};
      offered += w.offered || 0;
      answered += w.answered || 0;
      abandoned += w.abandoned || 0;
      if (w.service_level !== null && w.service_level !== undefined && w.offered) {
        slNum += w.service_level * w.offered;
        slDen += w.offered;
      }
    }
    if (b.total && typeof b.total === 'object') {
      // The server's all-queues window (exact, not a weighted average).
      offered = b.total.offered || 0;
      answered = b.total.answered || 0;
      abandoned = b.total.abandoned || 0;
      if (b.total.service_level !== null && b.total.service_level !== undefined) {
        slNum = b.total.service_level;
        slDen = 1;
      }
    }
    const box = $('#totals');
    if (!box.dataset.built) {
      box.dataset.built = '1';
      SB.fill(box,
        big('waiting', 'wall.totalWaiting'), big('longest', 'wall.longest'), big('sl', 'wall.sl'),
        big('offered', 'wall.offered'), big('answered', 'wall.answered'), big('abandoned', 'wall.abandoned'));
    }
    setBig('waiting', SB.fmtNum(waiting), waiting > 0 ? 'warn' : '');
    box.dataset.longest = longest;
    box.dataset.waiting = waiting;
    setBig('sl', slDen ? SB.fmtPct(slNum / slDen, 0) : '—', slDen ? slClass(slNum / slDen) : '');
    setBig('offered', SB.fmtNum(offered));
    setBig('answered', SB.fmtNum(answered));
    setBig('abandoned', SB.fmtNum(abandoned), abandoned > 0 ? 'warn' : '');
  }

  function big(k, label) {
    return el('div', { class: 'big-figure', dataset: { figure: k } },
      el('div', { class: 'big-value' }, '—'), el('div', { class: 'big-label', 'data-i18n': label }, t(label)));
  }

  function setBig(k, value, cls) {
    const n = $('#totals [data-figure="' + k + '"]');
    if (!n) return;
    SB.setText($('.big-value', n), value);
    n.className = 'big-figure ' + (cls || '');
  }

  function slClass(f) {
    if (f === null || f === undefined) return '';
    if (f >= SL_TARGET) return 'good';
    if (f >= SL_TARGET - 0.2) return 'warn';
    return 'bad';
  }

  function renderStates(b) {
    const counts = Object.assign({}, b.states || {});
    // Tolerate snake_case keys.
    for (const k of Object.keys(counts)) {
      const kk = k.replace(/_/g, '-');
      if (kk !== k) {
        counts[kk] = (counts[kk] || 0) + counts[k];
        delete counts[k];
      }
    }
    if (!b.states) for (const a of b.agents || []) counts[a.state] = (counts[a.state] || 0) + 1;
    const box = $('#state-counts');
    SB.fill(box, STATES.map((s) => el('div', { class: 'state-tile st-' + s, dataset: { state: s } },
      el('div', { class: 'count' }, SB.fmtNum(counts[s] || 0)),
      el('div', { class: 'label' }, SB.stateLabel(s)))));
  }

  // ------------------------------------------------------------ queues

  function renderQueues(b) {
    const body = $('#queues');
    const qs = (b.queues || []).slice().sort((x, y) => String(x.name).localeCompare(String(y.name)));
    const seen = new Set();
    for (const q of qs) {
      const id = key(q.id);
      seen.add(id);
      let row = body.querySelector('tr[data-queue="' + CSS.escape(id) + '"]');
      if (!row) {
        row = el('tr', { dataset: { queue: id } },
          ['name', 'waiting num', 'longest num', 'sl num', 'asa num', 'abandon num', 'offered num', 'answered num', 'abandoned num', 'logged-in num', 'available num', 'callbacks num']
            .map((c) => el('td', { class: c })));
      }
      body.appendChild(row); // keeps sorted order
      const w = q.window || {};
      const cell = (c) => row.querySelector('td.' + c);
      SB.setText(cell('name'), q.name || '#' + id);
      SB.setText(cell('waiting'), SB.fmtNum(q.waiting || 0));
      row.dataset.longest = q.longest_wait_seconds || 0;
      row.dataset.waitingCount = q.waiting || 0;
      SB.setText(cell('sl'), SB.fmtPct(w.service_level, 0));
      cell('sl').className = 'sl num ' + slClass(w.service_level);
      SB.setText(cell('asa'), w.asa_seconds === null || w.asa_seconds === undefined ? '—' : SB.fmtDuration(w.asa_seconds));
      SB.setText(cell('abandon'), SB.fmtPct(w.abandon_rate, 1));
      cell('abandon').className = 'abandon num' + (w.abandon_rate > 0.1 ? ' bad' : w.abandon_rate > 0.05 ? ' warn' : '');
      SB.setText(cell('offered'), SB.fmtNum(w.offered || 0));
      SB.setText(cell('answered'), SB.fmtNum(w.answered || 0));
      SB.setText(cell('abandoned'), SB.fmtNum(w.abandoned || 0));
      SB.setText(cell('logged-in'), SB.fmtNum(q.logged_in || 0));
      SB.setText(cell('available'), SB.fmtNum(q.available || 0));
      SB.setText(cell('callbacks'), SB.fmtNum(q.callbacks || 0));
      cell('waiting').className = 'waiting num' + (q.waiting > 0 && !q.available ? ' bad' : q.waiting > 0 ? ' warn' : '');
      row.classList.toggle('alert', q.waiting > 0 && !q.logged_in);
    }
    body.querySelectorAll('tr[data-queue]').forEach((r) => { if (!seen.has(r.dataset.queue)) r.remove(); });
    let empty = body.querySelector('tr.empty');
    if (!qs.length && !empty) body.appendChild(el('tr', { class: 'empty' }, el('td', { colspan: 12, class: 'muted' }, t('wall.noQueues'))));
    else if (qs.length && empty) empty.remove();
  }

  // ------------------------------------------------------------ agents

  function fillFilters(b) {
    const teams = Array.from(new Set((b.agents || []).map((a) => a.team).filter((x) => x !== null && x !== undefined && x !== ''))).sort();
    SB.setOptions($('#filter-team'), [{ value: '', label: t('wall.allTeams') }].concat(teams.map((x) => ({ value: x, label: String(x) }))));
    SB.setOptions($('#filter-state'), [{ value: '', label: t('wall.allStates') }, { value: '!offline', label: t('wall.loggedInOnly') }]
      .concat(STATES.map((s) => ({ value: s, label: SB.stateLabel(s) }))));
  }

  function contactsText(c) {
    if (c === null || c === undefined) return '0';
    if (Array.isArray(c)) return String(c.length);
    if (typeof c === 'object') return SB.plain(c);
    return String(c);
  }

  function renderAgents(b) {
    const body = $('#agents');
    const team = $('#filter-team').value;
    const stf = $('#filter-state').value;
    const order = (s) => { const i = STATES.indexOf(s); return i < 0 ? 99 : i; };
    const list = (b.agents || []).filter((a) => (!team || String(a.team) === team) &&
      (!stf || (stf === '!offline' ? a.state !== 'offline' : a.state === stf)))
      .sort((x, y) => order(x.state) - order(y.state) || String(x.name).localeCompare(String(y.name)));
    const seen = new Set();
    for (const a of list) {
      const id = key(a.id);
      seen.add(id);
      let row = body.querySelector('tr[data-agent="' + CSS.escape(id) + '"]');
      if (!row) {
        row = el('tr', { dataset: { agent: id } },
          el('td', { class: 'name' }), el('td', { class: 'team' }),
          el('td', { class: 'state' }, el('span', { class: 'state-pill' })),
          el('td', { class: 'reason' }), el('td', { class: 'time num' }), el('td', { class: 'contacts num' }), el('td', { class: 'handled num' }));
      }
      body.appendChild(row);
      row.dataset.since = a.since || '';
      row.dataset.state = a.state;
      SB.setText($('td.name', row), a.name || '#' + id);
      SB.setText($('td.team', row), a.team || '');
      const pill = $('td.state .state-pill', row);
      pill.className = 'state-pill st-' + a.state;
      SB.setText(pill, SB.stateLabel(a.state));
      SB.setText($('td.reason', row), a.reason ? SB.tOr('reason.' + a.reason, a.reason) : '');
      SB.setText($('td.contacts', row), contactsText(a.contacts));
      SB.setText($('td.handled', row), a.handled === undefined || a.handled === null ? '—' : SB.fmtNum(a.handled));
    }
    body.querySelectorAll('tr[data-agent]').forEach((r) => { if (!seen.has(r.dataset.agent)) r.remove(); });
    const empty = body.querySelector('tr.empty');
    if (!list.length && !empty) body.appendChild(el('tr', { class: 'empty' }, el('td', { colspan: 7, class: 'muted' }, t('wall.noAgents'))));
    else if (list.length && empty) empty.remove();
  }

  // ------------------------------------------------------------ ticking

  function tick() {
    if (!S.board) return;
    const elapsed = (Date.now() - S.receivedAt) / 1000;
    const now = serverNow();
    let maxLongest = 0;
    $('#queues').querySelectorAll('tr[data-queue]').forEach((row) => {
      const base = Number(row.dataset.longest) || 0;
      const waiting = Number(row.dataset.waitingCount) || 0;
      const v = waiting > 0 ? base + elapsed : 0;
      maxLongest = Math.max(maxLongest, v);
      const c = row.querySelector('td.longest');
      SB.setText(c, waiting > 0 ? SB.fmtDuration(v) : '—');
      c.className = 'longest num' + (v >= 120 ? ' bad' : v >= 30 ? ' warn' : '');
    });
    const box = $('#totals');
    const lg = $('#totals [data-figure="longest"]');
    if (lg) {
      SB.setText($('.big-value', lg), Number(box.dataset.waiting) > 0 ? SB.fmtDuration(maxLongest) : '—');
      lg.className = 'big-figure' + (maxLongest >= 120 ? ' bad' : maxLongest >= 30 ? ' warn' : '');
    }
    $('#agents').querySelectorAll('tr[data-agent]').forEach((row) => {
      const since = Number(row.dataset.since);
      const sec = since ? (now - since) / 1000 : null;
      const c = row.querySelector('td.time');
      SB.setText(c, SB.fmtDuration(sec));
      const st = row.dataset.state;
      c.classList.toggle('warn', (st === 'not-ready' && sec > 900) || (st === 'wrap-up' && sec > 120) || (st === 'on-hold' && sec > 120));
    });
  }

  // ------------------------------------------------------------ charts

  function fillChartQueues(b) {
    const qs = (b.queues || []).slice().sort((x, y) => String(x.name).localeCompare(String(y.name)));
    SB.setOptions($('#chart-queue'), [{ value: '', label: t('wall.allQueues') }].concat(qs.map((q) => ({ value: q.id, label: q.name }))));
  }

  function renderCharts(b) {
    fillChartQueues(b);
    const sel = $('#chart-queue').value;
    const hist = (b.history || []).filter((h) => !sel || key(h.queue) === sel);
    const sig = JSON.stringify([sel, SB.lang, hist]);
    if (sig === S.chartSig) return;
    S.chartSig = sig;
    const byAt = new Map();
    for (const h of hist) {
      let r = byAt.get(h.at);
      if (!r) byAt.set(h.at, (r = { at: h.at, offered: 0, answered: 0, abandoned: 0, slNum: 0, slDen: 0 }));
      r.offered += h.offered || 0;
      r.answered += h.answered || 0;
      r.abandoned += h.abandoned || 0;
      if (h.service_level !== null && h.service_level !== undefined) {
        const wgt = Math.max(1, h.offered || 0);
        r.slNum += h.service_level * wgt;
        r.slDen += wgt;
      }
    }
    const rows = Array.from(byAt.values()).sort((x, y) => x.at - y.at);
    const labels = rows.map((r) => SB.fmtHm(r.at));
    SB.chart($('#chart-volume'), {
      title: t('wall.chartVolume'), height: 230, labels,
      bars: [
        { label: t('wall.offered'), values: rows.map((r) => r.offered), cls: 's-offered' },
        { label: t('wall.answered'), values: rows.map((r) => r.answered), cls: 's-answered' },
        { label: t('wall.abandoned'), values: rows.map((r) => r.abandoned), cls: 's-abandoned' },
      ],
    });
    SB.chart($('#chart-sl'), {
      title: t('wall.sl'), height: 170, labels,
      bars: [],
      lines: [
        { label: t('wall.sl'), values: rows.map((r) => (r.slDen ? r.slNum / r.slDen : null)), cls: 'l-sl' },
        { label: t('wall.slTarget'), values: rows.map(() => SL_TARGET), cls: 'l-target' },
      ],
    });
  }

  // ------------------------------------------------------------ start

  async function load() {
    try {
      setBoard(await SB.get('/api/board', { quiet: true }));
    } catch (e) {
      if (e.status && e.status !== 401) SB.toast(SB.errorText(e), 'error');
    }
  }

  async function start() {
    try {
      await SB.boot({ stream: true, roles: ['supervisor', 'admin', 'qa', 'planner'] });
    } catch (_) {
      return;
    }
    $('#filter-team').addEventListener('change', () => { if (S.board) { renderAgents(S.board); tick(); } });
    $('#filter-state').addEventListener('change', () => { if (S.board) { renderAgents(S.board); tick(); } });
    $('#chart-queue').addEventListener('change', () => { if (S.board) renderCharts(S.board); });
    SB.onLang(() => {
      S.chartSig = '';
      const tb = $('#totals');
      delete tb.dataset.built;
      render();
    });
    await load();
    setInterval(tick, 500);
    SB.stream({ board: setBoard }, { onOpen: (again) => { if (again) load(); } });
  }

  start();
})();
