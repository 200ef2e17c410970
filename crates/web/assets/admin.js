/* Switchboard — administration: users, teams, queues (QueueConfig), agents
 * (AgentConfig), settings, audit log, customer CSV import/export. */
(function () {
  'use strict';
  const { $, el, t } = SB;

  const S = { users: [], teams: [], queues: [], agents: [], settings: null, audit: [], slKey: null };
  const ROLES = ['agent', 'supervisor', 'qa', 'planner', 'admin'];
  const STRATEGIES = ['longest-idle', 'fewest-contacts', 'least-talk-time', 'round-robin', 'top-down', 'random', 'weighted-random', 'ring-all'];
  const QUEUE_FORM_KEYS = ['id', 'name', 'strategy', 'priority', 'offer_timeout_ms', 'wrap_up_ms'];
  const SL_KEYS = ['sl_threshold_ms', 'service_level_threshold_ms', 'service_level_ms'];
  const AGENT_FORM_KEYS = ['id', 'name', 'team', 'attributes', 'skills'];
  const enc = encodeURIComponent;

  function showError(box, e) {
    box.textContent = typeof e === 'string' ? e : SB.errorText(e);
    SB.show(box, true);
  }
  const hideError = (box) => SB.show(box, false);

  function actionButton(label, cls, fn) {
    return el('button', { type: 'button', class: 'small ' + cls, on: { click: fn } }, label);
  }

  /** Parse a JSON textarea into an object, or throw a readable error. */
  function parseJsonObject(text, what) {
    const src = text.trim();
    if (!src) return {};
    let v;
    try {
      v = JSON.parse(src);
    } catch (e) {
      throw new Error(t('admin.badJson', { what, detail: e.message }));
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(t('admin.jsonObject', { what }));
    return v;
  }

  const pretty = (v) => JSON.stringify(v, null, 2);
  const intOrNull = (s) => (String(s).trim() === '' ? null : Number(s));

  // ------------------------------------------------------------ tabs

  const loaders = {};
  function showTab(name) {
    if (!loaders[name]) name = 'users';
    SB.$$('#admin-tabs a').forEach((a) => {
      const on = a.dataset.tab === name;
      a.classList.toggle('active', on);
      a.setAttribute('aria-selected', on ? 'true' : 'false');
    });
    SB.$$('.tab-panel').forEach((p) => SB.show(p, p.dataset.panel === name));
    loaders[name]();
  }

  // ------------------------------------------------------------ shared lists

  async function loadTeams() {
    S.teams = SB.items(await SB.get('/api/admin/teams')).sort((a, b) => String(a.name).localeCompare(String(b.name)));
    SB.fill($('#team-names'), S.teams.map((x) => el('option', { value: x.name })));
    return S.teams;
  }
  async function loadQueues() {
    S.queues = SB.items(await SB.get('/api/admin/queues')).sort((a, b) => a.id - b.id);
    S.slKey = null;
    for (const q of S.queues) for (const k of SL_KEYS) if (k in q) S.slKey = k;
    return S.queues;
  }
  async function loadAgents() {
    S.agents = SB.items(await SB.get('/api/admin/agents')).sort((a, b) => a.id - b.id);
    return S.agents;
  }
  const teamName = (id) => {
    if (id === null || id === undefined) return '—';
    const x = S.teams.find((tm) => tm.id === id);
    return x ? x.name : '#' + id;
  };
  const agentLabel = (id) => {
    if (id === null || id === undefined) return '—';
    const x = S.agents.find((a) => a.id === id);
    return x ? x.name + ' (#' + id + ')' : '#' + id;
  };
  const queueLabel = (id) => {
    const x = S.queues.find((q) => q.id === id);
    return x ? x.name : '#' + id;
  };

  // ------------------------------------------------------------ users

  loaders.users = async function () {
    try {
      await Promise.all([loadTeams(), loadAgents()]);
      S.users = SB.items(await SB.get('/api/admin/users'));
    } catch (_) {
      return;
    }
    renderUsers();
    fillUserSelects();
  };

  function isLocked(u) {
    return !!(u.locked_until && u.locked_until > SB.now()) || u.locked === true;
  }

  function renderUsers() {
    const body = $('#users-body');
    const users = S.users.slice().sort((a, b) => String(a.login).localeCompare(String(b.login)));
    SB.fill(body, users.map((u) => el('tr', { dataset: { user: String(u.id) } },
      el('td', { class: 'mono' }, u.login),
      el('td', null, u.display_name),
      el('td', null, el('span', { class: 'chip role-' + u.role }, SB.roleLabel(u.role))),
      el('td', null, teamName(u.team_id)),
      el('td', null, agentLabel(u.agent_id)),
      el('td', null, isLocked(u) ? el('span', { class: 'chip bad', title: SB.fmtDateTime(u.locked_until) }, t('user.locked')) : el('span', { class: 'muted' }, t('user.active'))),
      el('td', { class: 'row-actions' },
        actionButton(t('common.edit'), 'ghost', () => editUser(u)),
        isLocked(u) || u.failed_logins ? actionButton(t('user.unlock'), 'ghost', () => unlockUser(u)) : null,
        actionButton(t('common.delete'), 'bad-ghost', () => deleteUser(u))))));
    if (!users.length) body.appendChild(el('tr', null, el('td', { colspan: 7, class: 'muted' }, t('common.empty'))));
  }

  function fillUserSelects() {
    SB.setOptions($('#user-role'), ROLES.map((r) => ({ value: r, label: SB.roleLabel(r) })));
    SB.setOptions($('#user-team'), [{ value: '', label: t('common.none') }].concat(S.teams.map((x) => ({ value: x.id, label: x.name }))));
    SB.setOptions($('#user-agent'), [{ value: '', label: t('common.none') }].concat(S.agents.map((a) => ({ value: a.id, label: a.name + ' (#' + a.id + ')' }))));
  }

  function newUser(focus) {
    fillUserSelects();
    $('#user-id').value = '';
    $('#user-login').value = '';
    $('#user-login').disabled = false;
    $('#user-display').value = '';
    $('#user-password').value = '';
    $('#user-role').value = 'agent';
    $('#user-team').value = '';
    $('#user-agent').value = '';
    $('#user-form-title').textContent = t('user.new');
    $('#user-form-title').setAttribute('data-i18n', 'user.new');
    SB.show($('#user-password-hint'), false);
    hideError($('#user-error'));
    if (focus === true) $('#user-login').focus();
  }

  function editUser(u) {
    fillUserSelects();
    $('#user-id').value = u.id;
    $('#user-login').value = u.login;
    $('#user-display').value = u.display_name || '';
    $('#user-password').value = '';
    $('#user-role').value = u.role;
    $('#user-team').value = u.team_id === null || u.team_id === undefined ? '' : String(u.team_id);
    $('#user-agent').value = u.agent_id === null || u.agent_id === undefined ? '' : String(u.agent_id);
    $('#user-form-title').textContent = t('user.edit', { login: u.login });
    $('#user-form-title').removeAttribute('data-i18n');
    SB.show($('#user-password-hint'), true);
    hideError($('#user-error'));
    $('#user-display').focus();
  }

  async function saveUser(ev) {
    ev.preventDefault();
    const box = $('#user-error');
    hideError(box);
    const id = $('#user-id').value;
    const body = {
      login: $('#user-login').value.trim(),
      display_name: $('#user-display').value.trim(),
      role: $('#user-role').value,
      team_id: intOrNull($('#user-team').value),
      agent_id: intOrNull($('#user-agent').value),
    };
    const pw = $('#user-password').value;
    if (!body.login || !body.display_name) return showError(box, t('user.required'));
    if (!id && !pw) return showError(box, t('user.passwordRequired'));
    if (pw) body.password = pw;
    try {
      await SB.busy($('#btn-user-save'), () => (id ? SB.put('/api/admin/users/' + enc(id), body, { quiet: true }) : SB.post('/api/admin/users', body, { quiet: true })));
      SB.toast(t('common.saved'), 'ok');
      newUser(false);
      await loaders.users();
    } catch (e) {
      showError(box, e);
    }
  }

  async function deleteUser(u) {
    if (!confirm(t('user.confirmDelete', { login: u.login }))) return;
    try {
      await SB.del('/api/admin/users/' + enc(u.id));
      SB.toast(t('common.deleted'), 'ok');
      loaders.users();
    } catch (_) { /* toast shown */ }
  }

  async function unlockUser(u) {
    try {
      await SB.post('/api/admin/users/' + enc(u.id) + '/unlock');
      SB.toast(t('user.unlocked', { login: u.login }), 'ok');
      loaders.users();
    } catch (_) { /* toast shown */ }
  }

  // ------------------------------------------------------------ teams

  loaders.teams = async function () {
    try {
      await loadTeams();
    } catch (_) {
      return;
    }
    const body = $('#teams-body');
    SB.fill(body, S.teams.map((tm) => {
      const input = el('input', { value: tm.name, 'aria-label': t('team.name') });
      return el('tr', { dataset: { team: String(tm.id) } },
        el('td', { class: 'mono' }, String(tm.id)),
        el('td', null, input),
        el('td', { class: 'row-actions' },
          actionButton(t('common.save'), 'ghost', async () => {
            hideError($('#team-error'));
            const name = input.value.trim();
            if (!name) return showError($('#team-error'), t('team.nameRequired'));
            try {
              await SB.put('/api/admin/teams/' + enc(tm.id), { name }, { quiet: true });
              SB.toast(t('common.saved'), 'ok');
              loaders.teams();
            } catch (e) {
              showError($('#team-error'), e);
            }
          }),
          actionButton(t('common.delete'), 'bad-ghost', async () => {
            if (!confirm(t('team.confirmDelete', { name: tm.name }))) return;
            hideError($('#team-error'));
            try {
              await SB.del('/api/admin/teams/' + enc(tm.id), { quiet: true });
              SB.toast(t('common.deleted'), 'ok');
              loaders.teams();
            } catch (e) {
              showError($('#team-error'), e);
            }
          })));
    }));
    if (!S.teams.length) body.appendChild(el('tr', null, el('td', { colspan: 3, class: 'muted' }, t('common.empty'))));
  };

  async function addTeam(ev) {
    ev.preventDefault();
    const box = $('#team-error');
    hideError(box);
    const name = $('#team-name').value.trim();
    if (!name) return showError(box, t('team.nameRequired'));
    try {
      await SB.busy($('#btn-team-add'), () => SB.post('/api/admin/teams', { name }, { quiet: true }));
      $('#team-name').value = '';
      SB.toast(t('common.saved'), 'ok');
      loaders.teams();
    } catch (e) {
      showError(box, e);
    }
  }

  // ------------------------------------------------------------ queues

  loaders.queues = async function () {
    try {
      await loadQueues();
    } catch (_) {
      return;
    }
    const body = $('#queues-body');
    SB.fill(body, S.queues.map((q) => el('tr', { dataset: { queue: String(q.id) } },
      el('td', { class: 'mono' }, String(q.id)),
      el('td', null, q.name),
      el('td', null, SB.tOr('strategy.' + q.strategy, q.strategy || 'longest-idle')),
      el('td', { class: 'num' }, String((q.steps || []).length)),
      el('td', { class: 'num' }, SB.fmtDuration((q.wrap_up_ms || 0) / 1000)),
      el('td', { class: 'row-actions' },
        actionButton(t('common.edit'), 'ghost', () => editQueue(q)),
        actionButton(t('common.delete'), 'bad-ghost', () => deleteQueue(q))))));
    if (!S.queues.length) body.appendChild(el('tr', null, el('td', { colspan: 6, class: 'muted' }, t('common.empty'))));
    if (!$('#queue-form').dataset.mode) newQueue();
  };

  function fillStrategies() {
    SB.setOptions($('#queue-strategy'), STRATEGIES.map((s) => ({ value: s, label: SB.tOr('strategy.' + s, s) })));
  }

  function setQueueForm(q, isNew) {
    fillStrategies();
    const f = $('#queue-form');
    f.dataset.mode = isNew ? 'new' : 'edit';
    $('#queue-id').value = q.id;
    $('#queue-id').disabled = !isNew;
    $('#queue-name').value = q.name || '';
    $('#queue-strategy').value = q.strategy || 'longest-idle';
    $('#queue-priority').value = q.priority || 0;
    $('#queue-offer-timeout').value = Math.round((q.offer_timeout_ms === undefined ? 15000 : q.offer_timeout_ms) / 1000);
    $('#queue-wrapup').value = Math.round((q.wrap_up_ms || 0) / 1000);
    const slKey = SL_KEYS.find((k) => k in q) || S.slKey;
    f.dataset.slKey = slKey || '';
    SB.show($('#queue-sl-wrap'), !!slKey);
    $('#queue-sl').value = slKey && q[slKey] !== null && q[slKey] !== undefined ? Math.round(q[slKey] / 1000) : '';
    const rest = {};
    for (const [k, v] of Object.entries(q)) if (!QUEUE_FORM_KEYS.includes(k) && !SL_KEYS.includes(k)) rest[k] = v;
    $('#queue-json').value = pretty(rest);
    const title = $('#queue-form-title');
    title.textContent = isNew ? t('queue.new') : t('queue.edit', { name: q.name });
    hideError($('#queue-error'));
  }

  function newQueue() {
    const next = S.queues.reduce((m, q) => Math.max(m, q.id + 1), 1);
    setQueueForm({
      id: next, name: '', strategy: 'longest-idle', priority: 0, offer_timeout_ms: 15000, wrap_up_ms: 30000,
      steps: [], max_wait: null, max_length: null, overflow: null, sticky_agent_ms: null, new_customer: null,
      callbacks: { enabled: true, max_outstanding: null, max_attempts: 3, retry_delay_ms: 300000 },
    }, true);
  }

  function editQueue(q) {
    setQueueForm(q, false);
    $('#queue-name').focus();
  }

  async function saveQueue(ev) {
    ev.preventDefault();
    const box = $('#queue-error');
    hideError(box);
    let rest;
    try {
      rest = parseJsonObject($('#queue-json').value, t('queue.json'));
      if ('steps' in rest && !Array.isArray(rest.steps)) throw new Error(t('queue.stepsArray'));
      for (const k of QUEUE_FORM_KEYS) if (k in rest) throw new Error(t('admin.jsonDuplicate', { key: k }));
    } catch (e) {
      return showError(box, e.message);
    }
    const id = Number($('#queue-id').value);
    const name = $('#queue-name').value.trim();
    if (!Number.isInteger(id) || id < 0) return showError(box, t('admin.badId'));
    if (!name) return showError(box, t('admin.nameRequired'));
    const offer = Number($('#queue-offer-timeout').value);
    const wrap = Number($('#queue-wrapup').value);
    if (!(offer >= 1)) return showError(box, t('queue.badOfferTimeout'));
    if (!(wrap >= 0)) return showError(box, t('queue.badWrapUp'));
    if ($('#queue-form').dataset.mode === 'new' && S.queues.some((q) => q.id === id)) return showError(box, t('admin.idTaken', { id }));
    const cfg = Object.assign({}, rest, {
      id, name,
      strategy: $('#queue-strategy').value,
      priority: Math.trunc(Number($('#queue-priority').value) || 0),
      offer_timeout_ms: Math.round(offer * 1000),
      wrap_up_ms: Math.round(wrap * 1000),
    });
    const slKey = $('#queue-form').dataset.slKey;
    if (slKey) {
      const sl = $('#queue-sl').value;
      cfg[slKey] = sl === '' ? null : Math.round(Number(sl) * 1000);
    }
    try {
      await SB.busy($('#btn-queue-save'), () => SB.put('/api/admin/queues/' + enc(id), cfg, { quiet: true }));
      SB.toast(t('common.saved'), 'ok');
      await loaders.queues();
      const saved = S.queues.find((q) => q.id === id);
      if (saved) setQueueForm(saved, false);
    } catch (e) {
      showError(box, e);
    }
  }

  async function deleteQueue(q) {
    if (!confirm(t('queue.confirmDelete', { name: q.name }))) return;
    try {
      await SB.del('/api/admin/queues/' + enc(q.id));
      SB.toast(t('common.deleted'), 'ok');
      $('#queue-form').dataset.mode = '';
      loaders.queues();
    } catch (_) { /* toast shown */ }
  }

  // ------------------------------------------------------------ agents

  loaders.agents = async function () {
    try {
      await Promise.all([loadAgents(), loadQueues(), loadTeams()]);
    } catch (_) {
      return;
    }
    const body = $('#agents-body');
    SB.fill(body, S.agents.map((a) => el('tr', { dataset: { agent: String(a.id) } },
      el('td', { class: 'mono' }, String(a.id)),
      el('td', null, a.name),
      el('td', null, a.team || '—'),
      el('td', null, (a.skills || []).map((s) => s.skill + ' ' + s.level).join(', ') || '—'),
      el('td', null, (a.queues || []).map((m) => queueLabel(m.queue)).join(', ') || '—'),
      el('td', { class: 'row-actions' },
        actionButton(t('common.edit'), 'ghost', () => editAgent(a)),
        actionButton(t('common.delete'), 'bad-ghost', () => deleteAgent(a))))));
    if (!S.agents.length) body.appendChild(el('tr', null, el('td', { colspan: 6, class: 'muted' }, t('common.empty'))));
    if (!$('#agent-form').dataset.mode) newAgent();
  };

  function skillRow(s) {
    const row = el('div', { class: 'skill-row' },
      el('input', { class: 'skill-name', value: s ? s.skill : '', placeholder: t('agentcfg.skill'), 'aria-label': t('agentcfg.skill') }),
      el('input', { class: 'skill-level', type: 'number', min: 1, max: 10, step: 1, value: s ? s.level : 5, 'aria-label': t('agentcfg.level') }),
      el('button', { type: 'button', class: 'small bad-ghost', title: t('common.remove'), on: { click: () => row.remove() } }, '×'));
    return row;
  }

  function setAgentForm(a, isNew) {
    const f = $('#agent-form');
    f.dataset.mode = isNew ? 'new' : 'edit';
    $('#agent-id').value = a.id;
    $('#agent-id').disabled = !isNew;
    $('#agent-name').value = a.name || '';
    $('#agent-team').value = a.team || '';
    $('#agent-attributes').value = (a.attributes || []).join(', ');
    SB.fill($('#agent-skills'), (a.skills || []).map(skillRow));
    const rest = {};
    for (const [k, v] of Object.entries(a)) if (!AGENT_FORM_KEYS.includes(k)) rest[k] = v;
    $('#agent-json').value = pretty(rest);
    $('#agent-form-title').textContent = isNew ? t('agentcfg.new') : t('agentcfg.edit', { name: a.name });
    hideError($('#agent-error'));
  }

  function newAgent() {
    const next = S.agents.reduce((m, a) => Math.max(m, a.id + 1), 1);
    setAgentForm({
      id: next, name: '', skills: [], team: null, attributes: [],
      queues: S.queues.length ? [{ queue: S.queues[0].id, position: 0, weight: 1 }] : [],
      capacity: { voice: 1, chat: 0, email: 0, exclusive_voice: true }, auto_answer: false,
    }, true);
  }

  function editAgent(a) {
    setAgentForm(a, false);
    $('#agent-name').focus();
  }

  async function saveAgent(ev) {
    ev.preventDefault();
    const box = $('#agent-error');
    hideError(box);
    let rest;
    try {
      rest = parseJsonObject($('#agent-json').value, t('agentcfg.json'));
      for (const k of AGENT_FORM_KEYS) if (k in rest) throw new Error(t('admin.jsonDuplicate', { key: k }));
      if ('queues' in rest && !Array.isArray(rest.queues)) throw new Error(t('agentcfg.queuesArray'));
    } catch (e) {
      return showError(box, e.message);
    }
    const id = Number($('#agent-id').value);
    const name = $('#agent-name').value.trim();
    if (!Number.isInteger(id) || id < 0) return showError(box, t('admin.badId'));
    if (!name) return showError(box, t('admin.nameRequired'));
    if ($('#agent-form').dataset.mode === 'new' && S.agents.some((a) => a.id === id)) return showError(box, t('admin.idTaken', { id }));
    const skills = [];
    for (const row of SB.$$('#agent-skills .skill-row')) {
      const skill = $('.skill-name', row).value.trim();
      const level = Number($('.skill-level', row).value);
      if (!skill) continue;
      if (!Number.isInteger(level) || level < 1 || level > 10) return showError(box, t('agentcfg.badLevel', { skill }));
      skills.push({ skill, level });
    }
    const attributes = $('#agent-attributes').value.split(/[,，、;]/).map((s) => s.trim()).filter(Boolean);
    const team = $('#agent-team').value.trim();
    const cfg = Object.assign({}, rest, { id, name, skills, team: team || null, attributes });
    try {
      await SB.busy($('#btn-agent-save'), () => SB.put('/api/admin/agents/' + enc(id), cfg, { quiet: true }));
      SB.toast(t('common.saved'), 'ok');
      await loaders.agents();
      const saved = S.agents.find((a) => a.id === id);
      if (saved) setAgentForm(saved, false);
    } catch (e) {
      showError(box, e);
    }
  }

  async function deleteAgent(a) {
    if (!confirm(t('agentcfg.confirmDelete', { name: a.name }))) return;
    try {
      await SB.del('/api/admin/agents/' + enc(a.id));
      SB.toast(t('common.deleted'), 'ok');
      $('#agent-form').dataset.mode = '';
      loaders.agents();
    } catch (_) { /* toast shown */ }
  }

  // ------------------------------------------------------------ settings

  function webhookRow(w) {
    const events = w && w.events !== undefined && w.events !== null ? (Array.isArray(w.events) ? w.events.join(', ') : String(w.events)) : '';
    const row = el('div', { class: 'webhook-row' },
      el('input', { class: 'wh-url', type: 'url', value: w ? w.url || '' : '', placeholder: 'http://…', 'aria-label': t('settings.url') }),
      el('input', { class: 'wh-secret', type: 'password', value: w ? w.secret || '' : '', placeholder: t('settings.secret'), 'aria-label': t('settings.secret'), autocomplete: 'off' }),
      el('input', { class: 'wh-events', value: events, placeholder: t('settings.eventsHint'), 'aria-label': t('settings.events') }),
      el('button', { type: 'button', class: 'small bad-ghost', title: t('common.remove'), on: { click: () => row.remove() } }, '×'));
    return row;
  }

  const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

  function fillOffsets(selected) {
    const opts = [];
    for (let m = -720; m <= 840; m += 15) {
      const sign = m < 0 ? '−' : '+';
      const a = Math.abs(m);
      opts.push({ value: m, label: 'UTC' + sign + String(Math.floor(a / 60)).padStart(2, '0') + ':' + String(a % 60).padStart(2, '0') });
    }
    SB.setOptions($('#set-utc-offset'), opts, String(selected));
  }

  function renderHours(bh) {
    bh = bh || {};
    fillOffsets(bh.utc_offset_minutes === undefined ? 480 : bh.utc_offset_minutes);
    const days = Array.isArray(bh.days) ? bh.days : [];
    SB.fill($('#set-days'), DAYS.map((d) => {
      const h = days.find((x) => x.day === d);
      const open = el('input', { type: 'checkbox', class: 'day-open', checked: !!h, 'aria-label': t('settings.open') });
      const from = el('input', { type: 'time', class: 'day-from', value: h ? h.open : '08:00', 'aria-label': t('settings.opens') });
      const to = el('input', { type: 'time', class: 'day-to', value: h ? h.close : '20:00', 'aria-label': t('settings.closes') });
      const sync = () => { from.disabled = !open.checked; to.disabled = !open.checked; };
      open.addEventListener('change', sync);
      sync();
      return el('tr', { dataset: { day: d } }, el('td', null, t('day.' + d)), el('td', null, open), el('td', null, from), el('td', null, to));
    }));
    $('#set-holidays').value = (bh.holidays || []).join('\n');
  }

  function readHours() {
    const days = [];
    for (const row of SB.$$('#set-days tr[data-day]')) {
      if (!$('.day-open', row).checked) continue;
      const open = $('.day-from', row).value;
      const close = $('.day-to', row).value;
      if (!/^\d\d:\d\d$/.test(open) || !/^\d\d:\d\d$/.test(close)) throw new Error(t('settings.badTime', { day: t('day.' + row.dataset.day) }));
      if (close <= open) throw new Error(t('settings.closeBeforeOpen', { day: t('day.' + row.dataset.day) }));
      days.push({ day: row.dataset.day, open, close });
    }
    const holidays = $('#set-holidays').value.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
    for (const h of holidays) if (!/^\d{4}-\d\d-\d\d$/.test(h)) throw new Error(t('settings.badDate', { date: h }));
    const prev = (S.settings && S.settings.business_hours) || {};
    return Object.assign({}, prev, { utc_offset_minutes: Number($('#set-utc-offset').value), days, holidays });
  }

  loaders.settings = async function () {
    hideError($('#settings-error'));
    try {
      S.settings = (await SB.get('/api/admin/settings')) || {};
    } catch (_) {
      return;
    }
    const st = S.settings;
    $('#set-reasons').value = (st.not_ready_reasons || []).join('\n');
    $('#set-codes').value = (st.wrap_up_codes || []).join('\n');
    renderHours(st.business_hours);
    $('#set-order-hook').value = st.order_hook_url || '';
    SB.fill($('#set-webhooks'), (st.webhooks || []).map(webhookRow));
  };

  async function saveSettings(ev) {
    ev.preventDefault();
    const box = $('#settings-error');
    hideError(box);
    const lines = (s) => s.split(/\r?\n/).map((x) => x.trim()).filter(Boolean);
    let hours;
    try {
      hours = readHours();
    } catch (e) {
      return showError(box, e.message);
    }
    const webhooks = [];
    for (const row of SB.$$('#set-webhooks .webhook-row')) {
      const url = $('.wh-url', row).value.trim();
      if (!url) continue;
      if (!/^https?:\/\/./i.test(url)) return showError(box, t('settings.badUrl', { url }));
      const events = $('.wh-events', row).value.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean);
      webhooks.push({ url, secret: $('.wh-secret', row).value, events });
    }
    const hook = $('#set-order-hook').value.trim();
    if (hook && !/^https?:\/\//i.test(hook)) return showError(box, t('settings.badUrl', { url: hook }));
    const body = Object.assign({}, S.settings || {}, {
      not_ready_reasons: lines($('#set-reasons').value),
      wrap_up_codes: lines($('#set-codes').value),
      business_hours: hours,
      order_hook_url: hook || null,
      webhooks,
    });
    try {
      S.settings = await SB.busy($('#btn-settings-save'), () => SB.put('/api/admin/settings', body, { quiet: true })) || body;
      SB.toast(t('common.saved'), 'ok');
      loaders.settings();
    } catch (e) {
      showError(box, e);
    }
  }

  // ------------------------------------------------------------ audit

  loaders.audit = async function () {
    try {
      S.audit = SB.items(await SB.get('/api/admin/audit' + SB.query({ limit: $('#audit-limit').value })));
    } catch (_) {
      return;
    }
    renderAudit();
  };

  function renderAudit() {
    const q = $('#audit-filter').value.trim().toLowerCase();
    const rows = S.audit.filter((a) => !q || [a.actor, a.action, a.record_type, a.record_id, SB.plain(a.detail)].join(' ').toLowerCase().includes(q));
    SB.fill($('#audit-body'), rows.map((a) => {
      const detail = a.detail === null || a.detail === undefined ? '' : SB.plain(a.detail);
      return el('tr', { dataset: { audit: String(a.id) } },
        el('td', { class: 'nowrap' }, SB.fmtDateTime(a.at)),
        el('td', null, a.actor || '—'),
        el('td', null, el('span', { class: 'chip' }, a.action || '—')),
        el('td', { class: 'mono' }, (a.record_type || '') + (a.record_id ? ' ' + a.record_id : '')),
        el('td', { class: 'detail mono', title: detail.length > 120 ? pretty(a.detail) : null }, detail.length > 120 ? detail.slice(0, 120) + '…' : detail));
    }));
    if (!rows.length) $('#audit-body').appendChild(el('tr', null, el('td', { colspan: 5, class: 'muted' }, t('common.empty'))));
  }

  // ------------------------------------------------------------ customers

  loaders.customers = function () {};

  async function importCsv(ev) {
    ev.preventDefault();
    const out = $('#import-result');
    const file = $('#import-file').files[0];
    if (!file) {
      SB.fill(out, el('div', { class: 'error' }, t('cust.pickFile')));
      return;
    }
    SB.fill(out, el('p', { class: 'muted' }, t('common.loading')));
    let text;
    try {
      text = await file.text();
    } catch (e) {
      SB.fill(out, el('div', { class: 'error' }, e.message));
      return;
    }
    try {
      const r = await SB.busy($('#btn-import'), () => SB.api('/api/customers/import', { method: 'POST', raw: text, contentType: 'text/csv; charset=utf-8', quiet: true }));
      const errors = (r && r.errors) || [];
      const parts = [el('p', { class: 'import-summary', id: 'import-summary' },
        t('cust.result', { inserted: r ? r.inserted : 0, updated: r ? r.updated : 0, errors: errors.length }))];
      if (errors.length) {
        const tbl = SB.table([{ label: t('cust.line') }, { label: t('cust.problem') }], { class: 'compact', id: 'import-errors', bodyId: 'import-errors-body' });
        errors.forEach((e) => tbl.tBodies[0].appendChild(el('tr', null, el('td', { class: 'num' }, String(e.line)), el('td', null, e.message || e.reason || SB.plain(e)))));
        parts.push(el('h3', { class: 'bad-text' }, t('cust.rejected')), tbl);
      }
      SB.fill(out, parts);
      if (!errors.length) SB.toast(t('cust.done'), 'ok');
    } catch (e) {
      SB.fill(out, el('div', { class: 'error' }, SB.errorText(e)));
    }
  }

  // ------------------------------------------------------------ start

  async function start() {
    try {
      await SB.boot({ roles: ['admin'] });
    } catch (_) {
      return;
    }
    $('#user-form').addEventListener('submit', saveUser);
    $('#btn-user-new').addEventListener('click', () => newUser(true));
    $('#btn-user-cancel').addEventListener('click', () => newUser(false));
    $('#team-form').addEventListener('submit', addTeam);
    $('#queue-form').addEventListener('submit', saveQueue);
    $('#btn-queue-new').addEventListener('click', () => { newQueue(); $('#queue-name').focus(); });
    $('#btn-queue-cancel').addEventListener('click', () => newQueue());
    $('#agent-form').addEventListener('submit', saveAgent);
    $('#btn-agent-new').addEventListener('click', () => { newAgent(); $('#agent-name').focus(); });
    $('#btn-agent-cancel').addEventListener('click', () => newAgent());
    $('#btn-skill-add').addEventListener('click', () => { const r = skillRow(null); $('#agent-skills').appendChild(r); $('.skill-name', r).focus(); });
    $('#settings-form').addEventListener('submit', saveSettings);
    $('#btn-settings-reload').addEventListener('click', () => loaders.settings());
    $('#btn-webhook-add').addEventListener('click', () => $('#set-webhooks').appendChild(webhookRow(null)));
    $('#btn-audit-reload').addEventListener('click', () => loaders.audit());
    $('#audit-limit').addEventListener('change', () => loaders.audit());
    $('#audit-filter').addEventListener('input', renderAudit);
    $('#import-form').addEventListener('submit', importCsv);
    fillStrategies();
    newUser(false);
    window.addEventListener('hashchange', () => showTab(location.hash.slice(1)));
    SB.onLang(() => showTab(location.hash.slice(1)));
    showTab(location.hash.slice(1));
  }

  start();
})();
