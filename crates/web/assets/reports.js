/* Switchboard — interval reports per queue or agent, with a chart, totals
 * and CSV export (GET /api/reports/queues|agents); the telephony call log
 * with quality and recordings (GET /api/voice/calls) and the post-call
 * survey (GET /api/reports/surveys). */
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
    loadSurvey();
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

  // ------------------------------------------------------------ calls (telephony call log)

  const CALLS_PAGE = 25;
  const C = { rows: [], more: true, playing: null };

  function agentName(id) {
    if (id === null || id === undefined) return '—';
    const x = (S.settings.agents || []).find((a) => String(a.id) === String(id));
    return x ? x.name : '#' + id;
  }
  function queueName(id) {
    if (id === null || id === undefined) return '—';
    const x = (S.settings.queues || []).find((q) => String(q.id) === String(id));
    return x ? x.name : '#' + id;
  }

  /** Worst figures over the legs: loss %, jitter, one-way audio. */
  function qualitySummary(q) {
    const legs = q && Array.isArray(q.legs) ? q.legs : [];
    if (!legs.length) return null;
    let loss = 0;
    let jitter = 0;
    let oneWay = false;
    for (const l of legs) {
      if (has(l.loss_percent)) loss = Math.max(loss, l.loss_percent);
      if (has(l.jitter_ms)) jitter = Math.max(jitter, l.jitter_ms);
      if (l.one_way) oneWay = true;
    }
    const detail = legs.map((l) => t('calls.legDetail', {
      leg: l.leg,
      rx: SB.fmtNum(l.rx_packets),
      lost: SB.fmtNum(l.rx_lost),
      loss: has(l.loss_percent) ? l.loss_percent.toFixed(1) : '—',
      jitter: has(l.jitter_ms) ? l.jitter_ms.toFixed(1) : '—',
      gap: has(l.max_gap_ms) ? Math.round(l.max_gap_ms) : '—',
      level: has(l.rx_level_dbfs) ? l.rx_level_dbfs.toFixed(0) : '—',
    }) + (l.one_way ? ' · ' + t('calls.oneWay') : '')).join('\n');
    return { loss, jitter, oneWay, detail };
  }

  function qualityCell(rec) {
    const s = qualitySummary(rec.quality);
    if (!s) return el('td', { class: 'quality muted' }, '—');
    return el('td', { class: 'quality', title: s.detail },
      el('span', { class: 'q-badge loss ' + (s.loss >= 5 ? 'bad' : s.loss >= 1 ? 'warn' : '') }, t('calls.loss', { v: s.loss.toFixed(1) })),
      el('span', { class: 'q-badge jitter ' + (s.jitter >= 60 ? 'bad' : s.jitter >= 30 ? 'warn' : '') }, t('calls.jitter', { v: s.jitter.toFixed(0) })),
      s.oneWay ? el('span', { class: 'q-badge bad one-way' }, t('calls.oneWay')) : null);
  }

  const secs = (a, b) => (has(a) && has(b) && b >= a ? (b - a) / 1000 : null);

  function togglePlayer(rec, row, button) {
    const open = SB.$('#calls-body tr.player-row');
    const same = open && open.dataset.call === rec.call;
    if (open) {
      const a = open.querySelector('audio');
      if (a) a.pause();
      open.remove();
      SB.$$('#calls-body button.play').forEach((b) => { b.textContent = '▶ ' + t('calls.play'); });
    }
    if (same) return;
    const msg = el('span', { class: 'muted small' });
    // Same origin: the session cookie goes with the request.
    const audio = el('audio', { controls: true, preload: 'auto', src: '/api/voice/calls/' + encodeURIComponent(rec.call) + '/recording' });
    audio.addEventListener('error', () => { msg.textContent = t('calls.noRecording'); msg.className = 'bad-text small'; });
    const player = el('tr', { class: 'player-row', dataset: { call: rec.call } },
      el('td', { colspan: 10 }, el('span', { class: 'muted small' }, t('calls.channels') + ' '), audio, ' ', msg));
    row.after(player);
    button.textContent = '■ ' + t('calls.close');
    audio.play().catch(() => { /* autoplay may be refused: the controls are there */ });
  }

  function callRow(rec) {
    const row = el('tr', { dataset: { call: rec.call } });
    const play = rec.recording
      ? el('button', { type: 'button', class: 'small ghost play', on: { click: () => togglePlayer(rec, row, play) } }, '▶ ' + t('calls.play'))
      : null;
    const talk = secs(rec.answered_at, rec.ended_at);
    SB.fill(row,
      el('td', { class: 'nowrap' }, SB.fmtDateTime(rec.started_at)),
      el('td', null, SB.tOr('calls.dir.' + rec.direction, rec.direction || '—')),
      el('td', { class: 'mono' }, rec.caller || '—'),
      el('td', { class: 'mono' }, rec.callee || '—'),
      el('td', { class: 'agent' }, agentName(rec.agent)),
      el('td', null, rec.ended_at ? el('span', { class: 'chip reason-' + (rec.end_reason || '') }, SB.tOr('calls.reason.' + rec.end_reason, rec.end_reason || '—')) : el('span', { class: 'chip warn' }, t('calls.inProgress'))),
      el('td', { class: 'num' }, SB.fmtDuration(secs(rec.started_at, rec.ended_at))),
      el('td', { class: 'num' }, talk === null ? '—' : SB.fmtDuration(talk)),
      qualityCell(rec),
      el('td', { class: 'nowrap' }, play,
        rec.recording_ms ? el('span', { class: 'muted small' }, ' ' + SB.fmtDuration(rec.recording_ms / 1000)) : null,
        !rec.recording && rec.voicemail ? el('span', { class: 'chip' }, t('calls.voicemail')) : null,
        !rec.recording && !rec.voicemail ? el('span', { class: 'muted' }, '—') : null));
    return row;
  }

  function renderCalls() {
    const body = $('#calls-body');
    SB.fill(body, C.rows.map(callRow));
    if (!C.rows.length) body.appendChild(el('tr', null, el('td', { colspan: 10, class: 'muted' }, t('calls.none'))));
    SB.setText($('#calls-count'), t('calls.count', { n: C.rows.length }));
    $('#btn-calls-older').disabled = !C.more;
    SB.setText($('#btn-calls-older'), C.more ? t('calls.older') : t('calls.noMore'));
  }

  async function loadCalls(older) {
    const q = { limit: CALLS_PAGE };
    if (older && C.rows.length) q.before = C.rows.reduce((m, r) => Math.min(m, r.started_at), Infinity);
    let page;
    try {
      page = SB.items(await SB.busy(older ? $('#btn-calls-older') : $('#btn-calls-refresh'), () => SB.get('/api/voice/calls' + SB.query(q), { quiet: true })));
    } catch (e) {
      SB.fill($('#calls-body'), el('tr', null, el('td', { colspan: 10, class: 'error' }, SB.errorText(e))));
      return;
    }
    const seen = new Set(older ? C.rows.map((r) => r.call) : []);
    C.rows = (older ? C.rows : []).concat(page.filter((r) => !seen.has(r.call)));
    C.more = page.length >= CALLS_PAGE;
    renderCalls();
  }

  // ------------------------------------------------------------ survey

  const SV = { rows: [] };

  function distBar(scores, count) {
    const bar = el('span', { class: 'dist', role: 'img', 'aria-label': scores.map((n, i) => (i + 1) + ': ' + n).join(', ') });
    scores.forEach((n, i) => {
      if (!(n > 0) || !(count > 0)) return;
      bar.appendChild(el('span', { class: 'd' + (i + 1), style: 'width:' + ((n / count) * 100).toFixed(2) + '%', title: t('survey.scoreN', { score: i + 1, n }) }));
    });
    return el('span', { class: 'dist-wrap' }, bar, el('span', { class: 'dist-counts' }, scores.join(' / ')));
  }

  function renderSurvey() {
    const rows = SV.rows.slice().sort((a, b) => String(agentName(a.agent)).localeCompare(String(agentName(b.agent)))
      || String(queueName(a.queue)).localeCompare(String(queueName(b.queue))) || String(a.question).localeCompare(String(b.question)));
    const body = $('#survey-body');
    SB.fill(body, rows.map((r) => {
      const scores = Array.isArray(r.scores) ? r.scores : [];
      return el('tr', { dataset: { agent: String(r.agent), question: r.question } },
        el('td', null, r.agent === null || r.agent === undefined ? t('survey.noAgent') : agentName(r.agent)),
        el('td', null, queueName(r.queue)),
        // The question's text in the language shown (its id when it is no longer configured).
        el('td', { class: r.question_text && r.question_text !== r.question ? 'question-text' : 'mono', title: r.question }, r.question_text || r.question),
        el('td', { class: 'num' }, SB.fmtNum(r.count)),
        el('td', { class: 'num nowrap' }, has(r.mean) ? r.mean.toFixed(2) : '—',
          has(r.mean) ? el('span', { class: 'mean-bar', style: 'width:' + Math.round(Math.max(0, Math.min(5, r.mean)) * 8) + 'px' }) : null),
        el('td', null, distBar(scores, r.count)));
    }));
    if (!rows.length) body.appendChild(el('tr', null, el('td', { colspan: 6, class: 'muted' }, t('survey.none'))));
    SB.fill($('#survey-legend'), [1, 2, 3, 4, 5].map((i) => el('span', null, el('i', { class: 'd' + i, style: 'background:' + ['#d2483f', '#e8894a', '#e0c23a', '#8cc56a', '#1f9d55'][i - 1] }), String(i))));
  }

  async function loadSurvey() {
    const from = $('#rep-from').value;
    const to = $('#rep-to').value || from;
    if (!from) return;
    const p = params('json');
    const q = { since: p.from, until: p.to };
    const sel = $('#rep-filter').value;
    if (sel) q[kind() === 'agents' ? 'agent' : 'queue'] = sel;
    q.lang = SB.lang;
    $('#survey-csv').href = '/api/reports/surveys' + SB.query(Object.assign({ format: 'csv' }, q));
    $('#survey-csv').setAttribute('download', 'switchboard-survey-' + from + '_' + to + '.csv');
    try {
      SV.rows = SB.items(await SB.get('/api/reports/surveys' + SB.query(q), { quiet: true }));
    } catch (e) {
      SV.rows = [];
      SB.fill($('#survey-body'), el('tr', null, el('td', { colspan: 6, class: 'error' }, SB.errorText(e))));
      return;
    }
    SB.setText($('#survey-range'), from + (to !== from ? ' – ' + to : '') + (sel ? ' · ' + $('#rep-filter').selectedOptions[0].textContent : ''));
    renderSurvey();
  }

  // ------------------------------------------------------------ IVR per interval

  function ivrUrl(format) {
    const flow = $('#ivr-flow').value.trim();
    if (!flow || !$('#rep-from').value) return null;
    const p = params(format);
    return '/api/reports/ivr/' + encodeURIComponent(flow) + '/intervals' + SB.query(p);
  }

  function updateIvrLinks() {
    const json = ivrUrl('json');
    const csv = ivrUrl('csv');
    $('#ivr-intervals-json').href = json || '#';
    $('#ivr-intervals-csv').href = csv || '#';
    $('#ivr-intervals-csv').setAttribute('download', 'switchboard-ivr-' + $('#ivr-flow').value.trim() + '-' + $('#rep-from').value + '.csv');
  }

  async function loadIvr(ev) {
    if (ev) ev.preventDefault();
    updateIvrLinks();
    const url = ivrUrl('json');
    const body = $('#ivr-body');
    if (!url) return;
    let rows;
    try {
      rows = SB.items(await SB.get(url, { quiet: true }));
    } catch (e) {
      SB.fill(body, el('tr', null, el('td', { colspan: 7, class: 'error' }, SB.errorText(e))));
      return;
    }
    SB.fill(body, rows.map((r) => el('tr', null,
      el('td', { class: 'nowrap' }, SB.fmtDateTime(r.start)),
      el('td', { class: 'mono', title: r.kind + ' · v' + r.version }, r.node),
      el('td', { class: 'num' }, SB.fmtNum(r.entered)),
      el('td', { class: 'num' }, SB.fmtNum(r.dropped)),
      el('td', { class: 'num' }, r.entered > 0 ? ((r.dropped / r.entered) * 100).toFixed(1) : '—'),
      el('td', { class: 'num' }, has(r.mean_ms) ? (r.mean_ms / 1000).toFixed(1) : '—'),
      el('td', { class: 'mono small' }, Object.entries(r.outcomes || {}).map(([k, n]) => k + ' ' + n).join(', ')))));
    if (!rows.length) body.appendChild(el('tr', null, el('td', { colspan: 7, class: 'muted' }, t('ivrRep.none'))));
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
        loadSurvey();
      }
    });
    $('#export-csv').addEventListener('click', (ev) => {
      if ($('#export-csv').getAttribute('href') === '#') ev.preventDefault();
    });
    $('#ivr-form').addEventListener('submit', loadIvr);
    $('#ivr-flow').addEventListener('input', updateIvrLinks);
    $('#report-form').addEventListener('change', updateIvrLinks);
    for (const id of ['#ivr-intervals-json', '#ivr-intervals-csv', '#survey-csv']) {
      $(id).addEventListener('click', (ev) => {
        if ($(id).getAttribute('href') === '#') ev.preventDefault();
      });
    }
    $('#btn-calls-refresh').addEventListener('click', () => loadCalls(false));
    $('#btn-calls-older').addEventListener('click', () => loadCalls(true));
    SB.onLang(() => {
      fillFilter();
      render();
      renderCalls();
      // The questions' text comes in the language asked for.
      loadSurvey();
    });
    run();
    loadCalls(false);
    updateIvrLinks();
  }

  start();
})();
