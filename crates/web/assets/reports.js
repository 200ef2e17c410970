/* Switchboard — interval reports per queue or agent, with a chart, totals
 * and CSV export (GET /api/reports/queues|agents). */
(function () {
  'use strict';
  const { $, el, t } = SB;

  const S = { rows: [], kind: 'queues', settings: { queues: [], agents: [] }, params: null };
  const num = (v) => (typeof v === 'number' && isFinite(v) ? v : 0);
  const has = (v) => v !== null && v !== undefined && isFinite(v);
  const div = (a, b) => (b > 0 ? a / b : null);

  // ------------------------------------------------------------ columns

  const dur = (s) => (has(s) ? SB.fmtDuration(s) : '—');
  const QUEUE_COLS = [
    { k: 'offered', label: 'rep.offered', f: SB.fmtNum, sum: true },
    { k: 'answered', label: 'rep.answered', f: SB.fmtNum, sum: true },
    { k: 'abandoned', label: 'rep.abandoned', f: SB.fmtNum, sum: true },
    { k: 'service_level', label: 'rep.sl', f: (v) => SB.fmtPct(v) },
    { k: 'asa_seconds', label: 'rep.asa', f: dur },
    { k: 'aht_seconds', label: 'rep.aht', f: dur },
    { k: 'abandon_rate', label: 'rep.abandonRate', f: (v) => SB.fmtPct(v) },
    { k: 'longest_wait_seconds', label: 'rep.longest', f: dur, max: true },
    { k: 'transfers_out', label: 'rep.transfers', f: SB.fmtNum, sum: true },
    { k: 'callbacks_requested', label: 'rep.callbacks', f: SB.fmtNum, sum: true },
  ];
  const AGENT_COLS = [
    { k: 'offers', label: 'rep.offers', f: SB.fmtNum, sum: true },
    { k: 'answered', label: 'rep.answered', f: SB.fmtNum, sum: true },
    { k: 'missed', label: 'rep.missed', f: SB.fmtNum, sum: true },
    { k: 'rejected', label: 'rep.rejected', f: SB.fmtNum, sum: true },
    { k: 'handled', label: 'rep.handled', f: SB.fmtNum, sum: true },
    { k: 'talk_ms', label: 'rep.talk', f: (v) => dur(has(v) ? v / 1000 : null), sum: true },
    { k: 'aht_seconds', label: 'rep.aht', f: dur },
    { k: 'occupancy', label: 'rep.occupancy', f: (v) => SB.fmtPct(v) },
    { k: 'utilisation', label: 'rep.utilisation', f: (v) => SB.fmtPct(v) },
    { k: 'logged_in_seconds', label: 'rep.loggedIn', f: dur, sum: true },
    { k: 'transfers', label: 'rep.transfers', f: SB.fmtNum, sum: true },
  ];

  const idOf = (r) => (S.kind === 'queues' ? r.queue : r.agent);
  function nameOf(r) {
    if (r.name) return r.name;
    const list = S.kind === 'queues' ? S.settings.queues : S.settings.agents;
    const id = idOf(r);
    const x = (list || []).find((y) => String(y.id) === String(id));
    return x ? x.name : id === null || id === undefined ? t('rep.total') : '#' + id;
  }

  /** Totals computed from the raw counts (never by averaging ratios). */
  function totals(rows) {
    const s = {};
    const sum = (k) => rows.reduce((a, r) => a + num(r[k]), 0);
    if (S.kind === 'queues') {
      for (const k of ['offered', 'answered', 'abandoned', 'exited', 'answered_within', 'wait_answered_ms', 'talk_ms', 'hold_ms', 'wrap_ms', 'handled', 'transfers_out', 'callbacks_requested']) s[k] = sum(k);
      const den = s.answered + s.abandoned + s.exited;
      s.service_level = rows.some((r) => 'answered_within' in r) ? div(s.answered_within, den) : null;
      s.abandon_rate = div(s.abandoned, den);
      s.asa_seconds = rows.some((r) => 'wait_answered_ms' in r) ? div(s.wait_answered_ms / 1000, s.answered) : null;
      s.aht_seconds = div((s.talk_ms + s.hold_ms + s.wrap_ms) / 1000, s.handled);
      s.longest_wait_seconds = rows.reduce((a, r) => Math.max(a, num(r.longest_wait_seconds)), 0);
    } else {
      for (const k of ['offers', 'answered', 'missed', 'rejected', 'handled', 'talk_ms', 'hold_ms', 'wrap_ms', 'transfers', 'logged_in_seconds']) s[k] = sum(k);
      s.aht_seconds = div((s.talk_ms + s.hold_ms + s.wrap_ms) / 1000, s.handled);
      s.occupancy = null;
      s.utilisation = null;
    }
    return s;
  }

  // ------------------------------------------------------------ parameters

  function dayStart(iso) {
    const [y, m, d] = iso.split('-').map(Number);
    return new Date(y, m - 1, d).getTime();
  }

  function params(format) {
    const from = $('#rep-from').value;
    const to = $('#rep-to').value || from;
    const toEnd = new Date(dayStart(to));
    toEnd.setDate(toEnd.getDate() + 1);
    return { from: dayStart(from), to: toEnd.getTime(), interval: $('#rep-interval').value, format };
  }

  function kind() {
    return $('#rep-kind-agents').checked ? 'agents' : 'queues';
  }

  function updateExport() {
    const k = kind();
    const ok = $('#rep-from').value && $('#rep-to').value;
    $('#export-csv').href = ok ? '/api/reports/' + k + SB.query(params('csv')) : '#';
    $('#export-csv').setAttribute('download', 'switchboard-' + k + '-' + $('#rep-from').value + '_' + $('#rep-to').value + '.csv');
  }

  function fillFilter() {
    const k = kind();
    const list = k === 'queues' ? S.settings.queues || [] : S.settings.agents || [];
    // Also offer ids seen in the rows (configuration may have changed since).
    const known = new Map(list.map((x) => [String(x.id), x.name]));
    if (S.kind === k) for (const r of S.rows) if (idOf(r) !== null && idOf(r) !== undefined && !known.has(String(idOf(r)))) known.set(String(idOf(r)), nameOf(r));
    $('#rep-filter-label').textContent = t(k === 'queues' ? 'rep.queue' : 'rep.agent');
    SB.setOptions($('#rep-filter'), [{ value: '', label: t(k === 'queues' ? 'rep.allQueues' : 'rep.allAgents') }]
      .concat(Array.from(known.entries()).sort((a, b) => String(a[1]).localeCompare(String(b[1]))).map(([v, l]) => ({ value: v, label: l }))));
  }

  // ------------------------------------------------------------ load and render

  async function run(ev) {
    if (ev) ev.preventDefault();
    const box = $('#report-error');
    SB.show(box, false);
    const from = $('#rep-from').value;
    const to = $('#rep-to').value;
    if (!from || !to) {
      box.textContent = t('rep.needDates');
      SB.show(box, true);
      return;
    }
    if (to < from) {
      box.textContent = t('rep.badRange');
      SB.show(box, true);
      return;
    }
    const k = kind();
    const p = params('json');
    try {
      const data = await SB.busy($('#btn-run'), () => SB.get('/api/reports/' + k + SB.query(p), { quiet: true }));
      let rows = Array.isArray(data) ? data : SB.items(data);
      if (!rows.length && data && Array.isArray(data.intervals)) rows = data.intervals;
      if (!rows.length && data && k === 'agents' && Array.isArray(data.agent_intervals)) rows = data.agent_intervals;
      S.rows = rows;
      S.kind = k;
      S.params = p;
    } catch (e) {
      box.textContent = SB.errorText(e);
      SB.show(box, true);
      return;
    }
    const keep = $('#rep-filter').value;
    fillFilter();
    if (Array.from($('#rep-filter').options).some((o) => o.value === keep)) $('#rep-filter').value = keep;
    render();
  }

  function flatten(r) {
    // Accept rows whose counts/figures are nested as well as flattened.
    const o = Object.assign({}, r);
    for (const k of ['counts', 'figures']) if (r[k] && typeof r[k] === 'object') Object.assign(o, r[k]);
    if (o.sl && typeof o.sl === 'object') Object.assign(o, o.sl);
    return o;
  }

  function render() {
    const sel = $('#rep-filter').value;
    const rows = S.rows.map(flatten).filter((r) => !sel || String(idOf(r)) === sel)
      .sort((a, b) => num(a.start) - num(b.start) || String(nameOf(a)).localeCompare(String(nameOf(b))));
    const cols = S.kind === 'queues' ? QUEUE_COLS : AGENT_COLS;
    SB.fill($('#report-head'), el('tr', null,
      el('th', null, t('rep.start')),
      el('th', null, t(S.kind === 'queues' ? 'rep.queue' : 'rep.agent')),
      cols.map((c) => el('th', { class: 'num' }, t(c.label)))));
    const body = $('#report-body');
    SB.fill(body, rows.map((r) => el('tr', { dataset: { start: String(r.start), id: String(idOf(r)) } },
      el('td', { class: 'nowrap' }, has(r.start) ? SB.fmtDateTime(r.start).slice(0, 16) : '—'),
      el('td', null, nameOf(r)),
      cols.map((c) => el('td', { class: 'num ' + c.k }, r[c.k] === undefined ? '—' : c.f(r[c.k]))))));
    if (!rows.length) body.appendChild(el('tr', null, el('td', { colspan: cols.length + 2, class: 'muted' }, t('rep.noRows'))));
    const tot = totals(rows);
    SB.fill($('#report-foot'), rows.length ? el('tr', { class: 'total' },
      el('th', null, t('rep.total')), el('th', null, ''),
      cols.map((c) => el('th', { class: 'num ' + c.k }, tot[c.k] === undefined || tot[c.k] === null ? '—' : c.f(tot[c.k])))) : null);
    SB.setText($('#rep-count'), t('rep.rows', { n: rows.length }));
    if (S.params) SB.setText($('#rep-range'), SB.fmtDateTime(S.params.from).slice(0, 16) + ' – ' + SB.fmtDateTime(S.params.to).slice(0, 16));
    renderChart(rows);
  }

  function renderChart(rows) {
    const by = new Map();
    for (const r of rows) {
      let x = by.get(r.start);
      if (!x) by.set(r.start, (x = []));
      x.push(r);
    }
    const starts = Array.from(by.keys()).sort((a, b) => a - b);
    const multiDay = S.params && S.params.to - S.params.from > 86400000;
    const labels = starts.map((s) => (multiDay ? SB.fmtDateTime(s).slice(5, 16) : SB.fmtHm(s)));
    const group = starts.map((s) => totals(by.get(s)));
    if (S.kind === 'queues') {
      SB.setText($('#chart-title'), t('rep.chart'));
      SB.chart($('#rep-chart'), {
        title: t('rep.chart'), labels, height: 260,
        bars: [
          { label: t('rep.offered'), values: group.map((g) => g.offered), cls: 's-offered' },
          { label: t('rep.answered'), values: group.map((g) => g.answered), cls: 's-answered' },
        ],
        lines: [{ label: t('rep.sl'), values: group.map((g) => g.service_level), cls: 'l-sl' }],
      });
    } else {
      SB.setText($('#chart-title'), t('rep.chartAgents'));
      SB.chart($('#rep-chart'), {
        title: t('rep.chartAgents'), labels, height: 260,
        bars: [
          { label: t('rep.answered'), values: group.map((g) => g.answered), cls: 's-answered' },
          { label: t('rep.missed'), values: group.map((g) => g.missed), cls: 's-abandoned' },
        ],
      });
    }
  }

  // ------------------------------------------------------------ start

  async function start() {
    let me;
    try {
      me = await SB.boot({ roles: ['supervisor', 'planner', 'admin', 'qa'] });
    } catch (_) {
      return;
    }
    S.settings = Object.assign(S.settings, me.settings || {});
    const today = SB.isoDate(new Date());
    $('#rep-from').value = today;
    $('#rep-to').value = today;
    fillFilter();
    updateExport();
    $('#report-form').addEventListener('submit', run);
    $('#report-form').addEventListener('change', (ev) => {
      updateExport();
      if (ev.target.name === 'kind') {
        fillFilter();
        run();
      } else if (ev.target.id === 'rep-filter') {
        if (S.kind === kind()) render();
      }
    });
    $('#export-csv').addEventListener('click', (ev) => {
      if ($('#export-csv').getAttribute('href') === '#') ev.preventDefault();
    });
    SB.onLang(() => {
      fillFilter();
      render();
    });
    run();
  }

  start();
})();
