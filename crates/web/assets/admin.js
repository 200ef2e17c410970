/* Switchboard — administration: users, teams, queues (QueueConfig), agents
 * (AgentConfig), settings, audit log, customer CSV import/export,
 * telephony (status, phones, numbers, queue media, recording, survey) and
 * IVR flows (versions, node list with statistics, overview, JSON editor). */
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
  function showTab(name, langOnly) {
    if (!loaders[name]) name = 'users';
    stopVoiceTimer();
    SB.$$('#admin-tabs a').forEach((a) => {
      const on = a.dataset.tab === name;
      a.classList.toggle('active', on);
      a.setAttribute('aria-selected', on ? 'true' : 'false');
    });
    SB.$$('.tab-panel').forEach((p) => SB.show(p, p.dataset.panel === name));
    loaders[name](langOnly === true);
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
      el('input', { class: 'wh-url', type: 'url', value: w ? w.url || '' : '', placeholder: 'https://…', 'aria-label': t('settings.url') }),
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

  // ------------------------------------------------------------ telephony (shared)

  const DIGIT_KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'];
  const NODE_TYPES = ['play', 'menu', 'collect', 'hours', 'set', 'lookup', 'queue', 'callback_offer', 'voicemail', 'transfer', 'hangup'];
  const clone = (v) => JSON.parse(JSON.stringify(v));

  /** A 422 answer's message: every problem, joined by "; ", as a list. */
  function splitProblems(e) {
    // A 422 lists its problems: node (flows) or path (settings) with each.
    const listed = e && e.details && Array.isArray(e.details.problems) ? e.details.problems : null;
    if (listed && listed.length) {
      return listed.map((p) => {
        const msg = String(p.message || '');
        if (p.node && !msg.startsWith('`')) return '`' + p.node + '`: ' + msg;
        if (!p.node && p.path) return msg + ' (' + p.path + ')';
        return msg;
      });
    }
    const msg = typeof e === 'string' ? e : (e && e.status === 422 && e.message ? e.message : SB.errorText(e));
    return String(msg).split('; ').map((s) => s.trim()).filter(Boolean);
  }

  /** Show problems as a list in box; onNode(name) makes a leading `node` clickable. Returns the nodes named. */
  function showProblems(box, problems, onNode) {
    const nodes = new Set();
    const items = problems.map((p) => {
      const m = /^`([^`]+)`: (.*)$/s.exec(p);
      if (m) nodes.add(m[1]);
      return el('li', null, m && onNode
        ? [el('button', { type: 'button', class: 'link mono', on: { click: () => onNode(m[1]) } }, m[1]), ': ' + m[2]]
        : p);
    });
    SB.fill(box,
      el('strong', null, problems.length > 1 ? t('voice.problems', { n: problems.length }) : t('voice.problem')),
      el('ul', { class: 'plain-list' }, items));
    SB.show(box, true);
    return nodes;
  }

  /** Prompt items as text: plain clips by name (name:lang for a fixed language), others as JSON. */
  function promptsText(list) {
    return (Array.isArray(list) ? list : []).map((p) => {
      const keys = Object.keys(p || {});
      if (typeof p.clip === 'string' && keys.every((k) => k === 'clip' || k === 'lang')) return p.lang ? p.clip + ':' + p.lang : p.clip;
      return JSON.stringify(p);
    }).join(', ');
  }

  /** The reverse of promptsText; throws a readable error. */
  function parsePrompts(text, what) {
    const out = [];
    let depth = 0;
    let quote = false;
    let cur = '';
    const flush = () => {
      const tok = cur.trim();
      cur = '';
      if (!tok) return;
      if (tok[0] === '{' && tok.includes('"')) {
        try {
          out.push(JSON.parse(tok));
        } catch (e) {
          throw new Error(t('admin.badJson', { what, detail: e.message }));
        }
        return;
      }
      const m = /^(.+?)(?::(zh|en))?$/.exec(tok);
      if (/\s/.test(m[1])) throw new Error(t('voice.badClip', { what, clip: m[1] }));
      out.push(m[2] ? { clip: m[1], lang: m[2] } : { clip: m[1] });
    };
    for (const ch of String(text)) {
      if (quote) {
        cur += ch;
        if (ch === '"') quote = false;
      } else if (ch === '"') {
        quote = true;
        cur += ch;
      } else if (ch === '{') {
        depth += 1;
        cur += ch;
      } else if (ch === '}') {
        depth = Math.max(0, depth - 1);
        cur += ch;
      } else if ((ch === ',' || ch === '，' || ch === '、') && depth === 0) {
        flush();
      } else {
        cur += ch;
      }
    }
    flush();
    return out;
  }

  function wholeNumber(input, label, min, problems) {
    const s = String(input.value).trim();
    const n = Number(s);
    if (s === '' || !Number.isInteger(n) || n < min) {
      problems.push(t('voice.badNumber', { field: label, min }));
      return min;
    }
    return n;
  }

  let voiceTimer = null;
  function stopVoiceTimer() {
    if (voiceTimer) clearInterval(voiceTimer);
    voiceTimer = null;
  }

  // ------------------------------------------------------------ telephony tab

  const V = { status: null, settings: null, flows: [], loaded: false };

  async function refreshVoiceStatus() {
    let st;
    try {
      st = await SB.get('/api/voice/status', { quiet: true });
    } catch (e) {
      SB.setText($('#voice-status-updated'), SB.errorText(e));
      return;
    }
    V.status = st || { enabled: false };
    renderVoiceStatus();
  }

  function renderVoiceStatus() {
    const st = V.status || {};
    const on = st.enabled !== false;
    SB.show($('#voice-off'), !on);
    SB.show($('#voice-status'), on);
    SB.show($('#voice-form'), on);
    if (!on) {
      stopVoiceTimer();
      SB.setText($('#voice-status-updated'), '');
      return;
    }
    SB.setText($('#voice-sip'), st.sip || '—');
    SB.setText($('#voice-calls'), SB.fmtNum(st.calls || 0));
    const reg = Array.isArray(st.registered) ? st.registered : [];
    SB.setText($('#voice-registered-count'), SB.fmtNum(reg.length));
    SB.setText($('#voice-status-updated'), t('voice.updated', { time: SB.fmtTime(Date.now()) }));
    // Every configured phone with its registration (contact, time left,
    // user agent), then registrations of phones no longer configured.
    const devices = Array.isArray(st.devices) ? st.devices
      : ((V.settings && V.settings.devices) || []).map((d) => {
        const r = reg.find((x) => x.user === d.user);
        return { user: d.user, agent: d.agent, registered: !!r, contact: r ? r.contact : null };
      });
    const rows = devices.map((d) => Object.assign({}, d));
    for (const r of reg) if (!devices.some((d) => d.user === r.user)) rows.push({ user: r.user, agent: null, registered: true, contact: r.contact });
    const body = $('#voice-registered-body');
    SB.fill(body, rows.map((r) => el('tr', { dataset: { device: r.user }, class: r.registered ? 'registered' : 'unregistered' },
      el('td', { class: 'mono' }, r.user),
      el('td', null, r.agent === null || r.agent === undefined ? '—' : agentLabel(r.agent)),
      el('td', { class: 'mono' }, r.registered
        ? el('div', null, el('span', { class: 'dot-ok', 'aria-hidden': 'true' }), r.contact || '')
        : [el('span', { class: 'muted' }, t('voice.notRegistered')), r.contact ? el('div', { class: 'muted small', title: t('voice.lastContact') }, r.contact) : null]),
      el('td', { class: 'num' }, r.registered && Number.isFinite(r.expires_in_s) ? t('voice.expiresIn', { s: SB.fmtNum(r.expires_in_s) }) : '—'),
      el('td', { class: 'small' }, r.user_agent || '—'))));
    if (!rows.length) body.appendChild(el('tr', null, el('td', { colspan: 5, class: 'muted' }, t('voice.noDevices'))));
  }

  function agentOptions(selected) {
    const opts = S.agents.map((a) => ({ value: a.id, label: a.name + ' (#' + a.id + ')' }));
    if (selected !== undefined && selected !== null && !opts.some((o) => o.value === selected)) opts.push({ value: selected, label: '#' + selected });
    return opts;
  }

  function deviceRow(d) {
    const agent = el('select', { class: 'dev-agent', 'aria-label': t('voice.agent') });
    SB.setOptions(agent, agentOptions(d ? d.agent : undefined), d ? String(d.agent) : undefined);
    const pw = el('input', { class: 'dev-password mono', type: 'password', value: d ? d.password : '', autocomplete: 'new-password', 'aria-label': t('voice.password') });
    // Shown while edited, hidden otherwise.
    pw.addEventListener('focus', () => { pw.type = 'text'; });
    pw.addEventListener('blur', () => { pw.type = 'password'; });
    const row = el('tr', { class: 'device-row' },
      el('td', null, el('input', { class: 'dev-user mono', value: d ? d.user : '', autocomplete: 'off', 'aria-label': t('voice.user') })),
      el('td', null, pw),
      el('td', null, agent),
      el('td', { class: 'row-actions' }, el('button', { type: 'button', class: 'small bad-ghost', title: t('common.remove'), 'aria-label': t('common.remove'), on: { click: () => row.remove() } }, '×')));
    return row;
  }

  function flowOptions(selected) {
    const opts = V.flows.map((f) => ({ value: f.name, label: f.name + ' (v' + f.version + ')' }));
    if (selected && !opts.some((o) => o.value === selected)) opts.push({ value: selected, label: selected + ' (' + t('voice.missingFlow') + ')' });
    return opts;
  }

  function numberRow(n) {
    const flow = el('select', { class: 'num-flow', 'aria-label': t('voice.flow') });
    SB.setOptions(flow, flowOptions(n ? n.flow : null), n ? n.flow : V.flows.length ? V.flows[0].name : '');
    const row = el('tr', { class: 'number-row' },
      el('td', null, el('input', { class: 'num-number mono', value: n ? n.number : '', autocomplete: 'off', 'aria-label': t('voice.number') })),
      el('td', null, flow),
      el('td', { class: 'row-actions' }, el('button', { type: 'button', class: 'small bad-ghost', title: t('common.remove'), 'aria-label': t('common.remove'), on: { click: () => row.remove() } }, '×')));
    return row;
  }

  function questionRow(q) {
    const row = el('tr', { class: 'question-row' },
      el('td', null, el('input', { class: 'q-id mono', value: q ? q.id : '', autocomplete: 'off', 'aria-label': t('voice.questionId') })),
      el('td', null, el('input', { class: 'q-prompt mono', value: q ? promptsText(q.prompt) : '', autocomplete: 'off', 'aria-label': t('voice.questionPrompt') })),
      el('td', null, el('input', { class: 'q-min', type: 'number', min: 0, max: 9, step: 1, value: q ? q.min : 1, 'aria-label': t('voice.min') })),
      el('td', null, el('input', { class: 'q-max', type: 'number', min: 0, max: 9, step: 1, value: q ? q.max : 5, 'aria-label': t('voice.max') })),
      el('td', { class: 'row-actions' }, el('button', { type: 'button', class: 'small bad-ghost', title: t('common.remove'), 'aria-label': t('common.remove'), on: { click: () => row.remove() } }, '×')));
    return row;
  }

  function fillVoiceForm(st) {
    SB.fill($('#voice-devices'), (st.devices || []).map(deviceRow));
    SB.fill($('#voice-numbers'), (st.numbers || []).map(numberRow));
    const qm = st.queue_media || {};
    $('#voice-announce-every').value = qm.announce_every_s === undefined ? 30 : qm.announce_every_s;
    $('#voice-announce-position').checked = !!qm.announce_position;
    $('#voice-announce-wait').checked = !!qm.announce_wait;
    SB.setOptions($('#voice-callback-key'), [{ value: '', label: t('voice.noCallbackKey') }].concat(DIGIT_KEYS.map((k) => ({ value: k, label: k }))), qm.callback_key || '');
    $('#voice-record').checked = st.record_calls !== false;
    const sv = st.survey || {};
    $('#survey-enabled').checked = !!sv.enabled;
    $('#survey-cooldown').value = sv.cooldown_days === undefined ? 30 : sv.cooldown_days;
    $('#survey-timeout').value = sv.timeout_ms === undefined ? 6 : sv.timeout_ms / 1000;
    $('#survey-retries').value = sv.retries === undefined ? 1 : sv.retries;
    $('#survey-intro').value = promptsText(sv.intro);
    $('#survey-thanks').value = promptsText(sv.thanks);
    $('#survey-invalid').value = promptsText(sv.invalid_prompt);
    $('#survey-timeout-prompt').value = promptsText(sv.timeout_prompt);
    SB.fill($('#survey-questions'), (sv.questions || []).map(questionRow));
  }

  /** The form as settings; problems found here are collected, not thrown. */
  function readVoiceForm(problems) {
    const prev = V.settings || {};
    const devices = SB.$$('#voice-devices .device-row').map((row) => ({
      user: $('.dev-user', row).value.trim(),
      password: $('.dev-password', row).value,
      agent: Number($('.dev-agent', row).value),
    })).filter((d) => d.user || d.password);
    devices.forEach((d) => { if (!Number.isInteger(d.agent)) problems.push(t('voice.pickAgent', { user: d.user })); });
    const numbers = SB.$$('#voice-numbers .number-row').map((row) => ({
      number: $('.num-number', row).value.trim(),
      flow: $('.num-flow', row).value,
    })).filter((n) => n.number);
    const prompts = (input, label) => {
      try {
        return parsePrompts(input.value, label);
      } catch (e) {
        problems.push(e.message);
        return [];
      }
    };
    const questions = SB.$$('#survey-questions .question-row').map((row) => ({
      id: $('.q-id', row).value.trim(),
      prompt: prompts($('.q-prompt', row), t('voice.questionPrompt') + ' ' + $('.q-id', row).value.trim()),
      min: wholeNumber($('.q-min', row), t('voice.min'), 0, problems),
      max: wholeNumber($('.q-max', row), t('voice.max'), 0, problems),
    })).filter((q) => q.id || q.prompt.length);
    const timeout = Number($('#survey-timeout').value);
    if (!(timeout > 0)) problems.push(t('voice.badTimeout'));
    const key = $('#voice-callback-key').value;
    return Object.assign({}, prev, {
      devices,
      numbers,
      queue_media: Object.assign({}, prev.queue_media || {}, {
        announce_every_s: wholeNumber($('#voice-announce-every'), t('voice.announceEvery'), 0, problems),
        announce_position: $('#voice-announce-position').checked,
        announce_wait: $('#voice-announce-wait').checked,
        callback_key: key || null,
      }),
      record_calls: $('#voice-record').checked,
      survey: Object.assign({}, prev.survey || {}, {
        enabled: $('#survey-enabled').checked,
        cooldown_days: wholeNumber($('#survey-cooldown'), t('voice.cooldown'), 0, problems),
        timeout_ms: Math.round(timeout * 1000),
        retries: wholeNumber($('#survey-retries'), t('voice.retries'), 0, problems),
        intro: prompts($('#survey-intro'), t('voice.intro')),
        thanks: prompts($('#survey-thanks'), t('voice.thanks')),
        invalid_prompt: prompts($('#survey-invalid'), t('voice.invalidPrompt')),
        timeout_prompt: prompts($('#survey-timeout-prompt'), t('voice.timeoutPrompt')),
        questions,
      }),
    });
  }

  async function loadVoiceSettings() {
    hideError($('#voice-error'));
    const [settings, flows] = await Promise.all([SB.get('/api/voice/settings'), SB.get('/api/voice/flows'), loadAgents()]);
    V.settings = settings || {};
    V.flows = SB.items(flows);
    V.loaded = true;
    fillVoiceForm(V.settings);
  }

  loaders.telephony = async function (langOnly) {
    if (langOnly && V.loaded) {
      // Keep what is being edited; only re-label.
      const problems = [];
      const draft = readVoiceForm(problems);
      fillVoiceForm(draft);
      renderVoiceStatus();
      voiceTimer = setInterval(refreshVoiceStatus, 4000);
      return;
    }
    await refreshVoiceStatus();
    if (!V.status || V.status.enabled === false) return;
    try {
      await loadVoiceSettings();
    } catch (_) {
      return;
    }
    renderVoiceStatus();
    stopVoiceTimer();
    voiceTimer = setInterval(refreshVoiceStatus, 4000);
  };

  async function saveVoice(ev) {
    ev.preventDefault();
    const box = $('#voice-error');
    hideError(box);
    const problems = [];
    const body = readVoiceForm(problems);
    if (problems.length) {
      showProblems(box, problems);
      return;
    }
    try {
      const saved = await SB.busy($('#btn-voice-save'), () => SB.put('/api/voice/settings', body, { quiet: true }));
      V.settings = saved || body;
      fillVoiceForm(V.settings);
      renderVoiceStatus();
      SB.toast(t('common.saved'), 'ok');
    } catch (e) {
      // Nothing in the form is touched: fix and save again.
      showProblems(box, splitProblems(e));
      box.scrollIntoView({ block: 'nearest' });
    }
  }

  // ------------------------------------------------------------ IVR flows tab

  const F = {
    flows: [], // [{name, version}]
    name: null, // flow shown
    latest: 0, // its latest saved version (0: not saved yet)
    version: 0, // version shown
    saved: null, // the shown version as loaded
    draft: null, // what is edited
    dirty: false,
    selected: null, // node id
    scope: 'node',
    shownText: '', // the textarea's text as last filled
    problemNodes: new Set(),
    stats: [],
  };

  const readOnly = () => F.latest > 0 && F.version !== F.latest;

  /** Where a node leads: [{label, target}] like the server's Node::targets, plus terminal notes. */
  function nodeTargets(n) {
    const out = [];
    if (!n || typeof n !== 'object') return out;
    const add = (label, target) => { if (typeof target === 'string') out.push({ label, target }); };
    switch (n.type) {
      case 'play':
      case 'set':
        add('next', n.next);
        break;
      case 'menu':
        Object.entries(n.options || {}).forEach(([k, v]) => add('key ' + k, v));
        add('on_failure', n.on_failure);
        break;
      case 'collect':
      case 'lookup':
        add('next', n.next);
        add('on_failure', n.on_failure);
        break;
      case 'hours':
        add('open', n.open);
        add('closed', n.closed);
        break;
      case 'callback_offer':
        add('accepted', n.accepted);
        add('declined', n.declined);
        break;
      case 'voicemail':
        if (n.next) add('next', n.next);
        break;
      case 'transfer':
        if (n.on_fail) add('on_fail', n.on_fail);
        break;
      default:
    }
    return out;
  }

  function edgeLabel(label) {
    if (label.startsWith('key ')) return t('ivr.key', { key: label.slice(4) });
    return t('ivr.edge.' + label);
  }

  /** The end of a terminal node, as text. */
  function terminalText(n) {
    if (!n) return '';
    if (n.type === 'queue') return t('ivr.toQueue', { queue: queueLabel(n.queue) }) + (n.callback ? ' · ' + t('ivr.callback') : '');
    if (n.type === 'transfer') {
      const to = n.to || {};
      const [k, v] = Object.entries(to)[0] || ['', ''];
      return t('ivr.transferTo', { to: k === 'queue' ? queueLabel(v) : String(v) }) + (n.on_fail ? '' : ' · ' + t('ivr.transferElseHangUp'));
    }
    if (n.type === 'hangup') return t('ivr.hangsUp');
    if (n.type === 'voicemail' && !n.next) return t('ivr.hangsUp');
    return '';
  }

  function typeLabel(type) {
    return SB.tOr('ivr.type.' + type, type || '?');
  }

  async function loadFlowList() {
    F.flows = SB.items(await SB.get('/api/voice/flows')).sort((a, b) => String(a.name).localeCompare(String(b.name)));
  }

  function renderFlowList() {
    const rows = F.flows.slice();
    if (F.name && !rows.some((f) => f.name === F.name)) rows.push({ name: F.name, version: 0 });
    SB.fill($('#ivr-flows-body'), rows.map((f) => el('tr', {
      dataset: { flow: f.name }, class: 'clickable' + (f.name === F.name ? ' selected' : ''), tabindex: 0,
      on: {
        click: () => pickFlow(f.name),
        keydown: (ev) => { if (ev.key === 'Enter') pickFlow(f.name); },
      },
    },
    el('td', { class: 'mono' }, f.name),
    el('td', { class: 'num' }, f.version ? 'v' + f.version : el('span', { class: 'chip warn' }, t('ivr.notSaved'))))));
    if (!rows.length) $('#ivr-flows-body').appendChild(el('tr', null, el('td', { colspan: 2, class: 'muted' }, t('common.empty'))));
  }

  function confirmDiscard() {
    return !F.dirty && !textareaChanged() ? true : confirm(t('ivr.confirmDiscard'));
  }

  async function pickFlow(name, version) {
    if (name === F.name && !F.latest) return; // the new flow being drafted
    if ((name !== F.name || version !== F.version) && !confirmDiscard()) {
      renderFlowEditor();
      return;
    }
    await loadFlow(name, version);
  }

  async function loadFlow(name, version) {
    hideError($('#ivr-error'));
    F.problemNodes = new Set();
    const known = F.flows.find((f) => f.name === name);
    if (!known) return;
    let flow;
    try {
      flow = await SB.get('/api/voice/flows/' + enc(name) + (version ? SB.query({ version }) : ''));
    } catch (_) {
      return;
    }
    F.name = name;
    F.latest = known.version;
    F.version = flow.version || version || known.version;
    F.saved = flow;
    F.draft = clone(flow);
    F.dirty = false;
    if (!F.selected || !F.draft.nodes || !F.draft.nodes[F.selected]) F.selected = F.draft.start;
    renderFlowList();
    renderFlowEditor();
    loadIvrStats();
  }

  async function loadIvrStats() {
    F.stats = [];
    if (!F.name || !F.latest) {
      renderNodes();
      return;
    }
    const days = Number($('#ivr-stats-range').value);
    const q = days ? { since: Date.now() - days * 86400000 } : {};
    try {
      F.stats = SB.items(await SB.get('/api/reports/ivr/' + enc(F.name) + SB.query(q), { quiet: true }));
    } catch (_) {
      F.stats = [];
    }
    renderNodes();
  }

  function renderFlowEditor() {
    const ro = readOnly();
    SB.setText($('#ivr-title'), F.name || '—');
    const versions = [];
    for (let v = F.latest; v >= 1; v--) versions.push({ value: v, label: 'v' + v + (v === F.latest ? ' · ' + t('ivr.latestTag') : '') });
    if (!F.latest) versions.push({ value: 0, label: t('ivr.notSaved') });
    SB.setOptions($('#ivr-version'), versions, String(F.version));
    const mode = $('#ivr-mode');
    mode.className = 'chip ' + (ro ? 'warn' : F.latest ? '' : 'warn');
    SB.setText(mode, ro ? t('ivr.readOnly') : F.latest ? t('ivr.editable') : t('ivr.newUnsaved'));
    const ids = Object.keys((F.draft && F.draft.nodes) || {}).sort();
    SB.setOptions($('#ivr-start'), ids.map((id) => ({ value: id, label: id })), F.draft ? F.draft.start : '');
    $('#ivr-language').value = (F.draft && F.draft.language) || 'zh';
    $('#ivr-start').disabled = ro;
    $('#ivr-language').disabled = ro;
    for (const id of ['#btn-ivr-apply', '#btn-ivr-save', '#btn-ivr-add', '#btn-ivr-delete', '#ivr-add-id', '#ivr-add-type']) $(id).disabled = ro;
    $('#btn-ivr-discard').disabled = !F.dirty;
    SB.show($('#ivr-dirty'), F.dirty);
    renderNodes();
    fillEditor();
  }

  function statsByNode() {
    const m = new Map();
    for (const r of F.stats) if (r.version === F.version) m.set(r.node, r);
    return m;
  }

  function targetChip(label, target, exists) {
    return el('button', {
      type: 'button', class: 'target' + (exists ? '' : ' missing'), title: exists ? t('ivr.goTo', { node: target }) : t('ivr.missingNode', { node: target }),
      on: { click: (ev) => { ev.stopPropagation(); if (exists) selectNode(target); } },
    }, el('span', { class: 'edge' }, edgeLabel(label)), ' → ', el('span', { class: 'mono' }, target));
  }

  function renderNodes() {
    const nodes = (F.draft && F.draft.nodes) || {};
    const stats = statsByNode();
    const ids = Object.keys(nodes).sort((a, b) => (a === F.draft.start ? -1 : b === F.draft.start ? 1 : a.localeCompare(b)));
    const body = $('#ivr-nodes-body');
    SB.fill(body, ids.map((id) => {
      const n = nodes[id] || {};
      const st = stats.get(id);
      const targets = nodeTargets(n);
      const term = terminalText(n);
      const outcomes = st ? Object.entries(st.outcomes || {}).sort((a, b) => b[1] - a[1]) : [];
      const cls = ['clickable', id === F.selected ? 'selected' : '', F.problemNodes.has(id) ? 'has-problem' : ''].join(' ');
      return el('tr', {
        dataset: { node: id }, class: cls, tabindex: 0,
        on: { click: () => selectNode(id), keydown: (ev) => { if (ev.key === 'Enter') selectNode(id); } },
      },
      el('td', { class: 'mono node-id' }, id === F.draft.start ? el('span', { class: 'chip start', title: t('ivr.start') }, '▶') : null, ' ', id),
      el('td', null, el('span', { class: 'chip type-' + n.type }, typeLabel(n.type))),
      el('td', { class: 'targets' }, el('div', { class: 'target-list' }, targets.map((x) => targetChip(x.label, x.target, !!nodes[x.target])), term ? el('span', { class: 'muted terminal' }, term) : null)),
      el('td', { class: 'num' }, st ? SB.fmtNum(st.entered) : '—'),
      el('td', { class: 'num' + (st && st.dropped ? ' warn' : '') }, st ? SB.fmtNum(st.dropped) : '—',
        st && st.entered && st.dropped ? el('span', { class: 'muted small' }, ' (' + SB.fmtPct(st.dropped / st.entered, 0) + ')') : null),
      el('td', { class: 'num' }, st && st.mean_ms !== null && st.mean_ms !== undefined ? SB.fmtSec(st.mean_ms / 1000) : '—'),
      el('td', { class: 'outcomes' }, outcomes.length ? outcomes.map(([k, v]) => el('span', { class: 'chip outcome' }, outcomeLabel(k) + ' ' + v)) : '—'));
    }));
    if (!ids.length) body.appendChild(el('tr', null, el('td', { colspan: 7, class: 'muted' }, t('common.empty'))));
    renderTree();
    if (!$('#ivr-diagram').hidden) renderDiagram();
  }

  function outcomeLabel(k) {
    const m = /^chose:(.+)$/.exec(k);
    if (m) return t('ivr.key', { key: m[1] });
    return SB.tOr('ivr.outcome.' + k, k);
  }

  /**
   * Boxes and arrows, drawn here: columns by distance from the start (breadth
   * first), nodes ordered in a column by where their parents are; arrows to a
   * later column are curves with their label, arrows back (loops, "repeat",
   * "on failure" to an earlier menu) are dashed and run below the boxes.
   */
  function renderDiagram() {
    const box = $('#ivr-diagram');
    const nodes = (F.draft && F.draft.nodes) || {};
    const start = F.draft && F.draft.start;
    const ids = Object.keys(nodes);
    if (!ids.length) {
      SB.fill(box, el('p', { class: 'muted' }, t('common.empty')));
      return;
    }
    const depth = new Map();
    const bfs = [];
    if (start && nodes[start]) {
      depth.set(start, 0);
      const q = [start];
      while (q.length) {
        const id = q.shift();
        bfs.push(id);
        for (const x of nodeTargets(nodes[id])) {
          if (nodes[x.target] && !depth.has(x.target)) {
            depth.set(x.target, depth.get(id) + 1);
            q.push(x.target);
          }
        }
      }
    }
    let maxD = bfs.length ? Math.max(...bfs.map((id) => depth.get(id))) : -1;
    const orphans = ids.filter((id) => !depth.has(id)).sort();
    if (orphans.length) {
      maxD += 1;
      orphans.forEach((id) => { depth.set(id, maxD); bfs.push(id); });
    }
    const layers = [];
    for (const id of bfs) (layers[depth.get(id)] = layers[depth.get(id)] || []).push(id);
    // Order each column by the mean row of its parents in earlier columns.
    const row = new Map();
    layers.forEach((layer, d) => {
      if (d > 0) {
        const key = new Map(layer.map((id, i) => {
          const rows = [];
          for (const p of bfs) {
            if (depth.get(p) < d && nodeTargets(nodes[p]).some((x) => x.target === id)) rows.push(row.get(p));
          }
          return [id, rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : 1e6 + i];
        }));
        layer.sort((a, b) => key.get(a) - key.get(b));
      }
      layer.forEach((id, i) => row.set(id, i));
    });
    const W = 156;
    const H = 42;
    const GX = 86;
    const GY = 18;
    const PAD = 16;
    const tall = Math.max(...layers.map((l) => l.length));
    const band = 70; // room below the boxes for arrows back
    const width = PAD * 2 + layers.length * (W + GX) - GX;
    const height = PAD * 2 + tall * (H + GY) - GY + band;
    const pos = new Map();
    layers.forEach((layer, d) => {
      const off = ((tall - layer.length) * (H + GY)) / 2;
      layer.forEach((id, i) => pos.set(id, { x: PAD + d * (W + GX), y: PAD + off + i * (H + GY) }));
    });
    const stats = statsByNode();
    const S_ = (tag, attrs, ...kids) => el('svg:' + tag, attrs, ...kids);
    const defs = S_('defs', null,
      S_('marker', { id: 'ivr-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
        S_('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' })),
      S_('marker', { id: 'ivr-arrow-back', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
        S_('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head back' })));
    const edges = S_('g', { class: 'edges' });
    const labels = S_('g', { class: 'edge-labels' });
    let backs = 0;
    for (const id of bfs) {
      const a = pos.get(id);
      // One arrow per target, its labels joined (key 1 and on failure to the same node).
      const grouped = new Map();
      for (const x of nodeTargets(nodes[id])) {
        if (!grouped.has(x.target)) grouped.set(x.target, []);
        grouped.get(x.target).push(x.label);
      }
      for (const [target, names] of grouped) {
        const x = { target };
        const b = pos.get(x.target);
        const lbl = names.filter((l) => l !== 'next').map(edgeLabel).join(', ');
        const title = S_('title', null, id + ' — ' + names.map(edgeLabel).join(', ') + ' → ' + x.target);
        if (!b) {
          // A target that does not exist: a short red stub.
          edges.appendChild(S_('path', { d: `M${a.x + W} ${a.y + H / 2} h 34`, class: 'edge missing', 'marker-end': 'url(#ivr-arrow-back)' }, title));
          labels.appendChild(S_('text', { x: a.x + W + 38, y: a.y + H / 2 + 4, class: 'edge-label missing' }, x.target + '?'));
          continue;
        }
        if (depth.get(x.target) > depth.get(id)) {
          const x1 = a.x + W;
          const y1 = a.y + H / 2;
          const x2 = b.x;
          const y2 = b.y + H / 2;
          const dx = Math.max(30, (x2 - x1) / 2);
          edges.appendChild(S_('path', { d: `M${x1} ${y1} C${x1 + dx} ${y1} ${x2 - dx} ${y2} ${x2} ${y2}`, class: 'edge', 'marker-end': 'url(#ivr-arrow)' }, title));
          // Labels near the arrow head, where a menu's branches are apart.
          if (lbl) labels.appendChild(S_('text', { x: x2 - 12, y: y2 - 5, 'text-anchor': 'end', class: 'edge-label' }, lbl));
        } else if (x.target === id) {
          const x1 = a.x + W - 30;
          const y1 = a.y;
          edges.appendChild(S_('path', { d: `M${x1} ${y1} C${x1} ${y1 - 22} ${a.x + W + 26} ${y1 - 10} ${a.x + W} ${y1 + 10}`, class: 'edge back', 'marker-end': 'url(#ivr-arrow-back)' }, title));
          if (lbl) labels.appendChild(S_('text', { x: a.x + W + 4, y: y1 - 8, class: 'edge-label back' }, lbl));
        } else {
          // Back to an earlier column: down into the band below the boxes and up again.
          backs += 1;
          const x1 = a.x + W / 2 + ((backs % 5) - 2) * 8;
          const y1 = a.y + H;
          const x2 = b.x + W / 2 + ((backs % 3) - 1) * 10;
          const y2 = b.y + H;
          const yb = height - band / 2 + ((backs % 4) - 1.5) * 8;
          edges.appendChild(S_('path', { d: `M${x1} ${y1} C${x1} ${yb} ${x2} ${yb} ${x2} ${y2}`, class: 'edge back', 'marker-end': 'url(#ivr-arrow-back)' }, title));
          if (lbl) labels.appendChild(S_('text', { x: x1 + 4, y: y1 + 14, class: 'edge-label back' }, lbl));
        }
      }
    }
    const boxes = S_('g', { class: 'boxes' });
    for (const id of bfs) {
      const p = pos.get(id);
      const n = nodes[id] || {};
      const st = stats.get(id);
      const short = (s, k) => (s.length > k ? s.slice(0, k - 1) + '…' : s);
      const sub = typeLabel(n.type) + (st ? ' · ' + t('ivr.enteredN', { n: SB.fmtNum(st.entered) }) : '');
      const cls = ['node', 'type-' + n.type, id === F.selected ? 'selected' : '', F.problemNodes.has(id) ? 'has-problem' : '', id === start ? 'start' : '', depth.get(id) === maxD && orphans.includes(id) ? 'orphan' : ''].join(' ');
      const g = S_('g', { class: cls, dataset: { node: id }, tabindex: 0, role: 'button', 'aria-label': id, on: { click: () => selectNode(id), keydown: (ev) => { if (ev.key === 'Enter') selectNode(id); } } },
        S_('title', null, id + ' · ' + typeLabel(n.type) + (terminalText(n) ? ' ' + terminalText(n) : '')),
        S_('rect', { x: p.x, y: p.y, width: W, height: H, rx: 6 }),
        S_('text', { x: p.x + 8, y: p.y + 17, class: 'node-id' }, short(id, 19)),
        S_('text', { x: p.x + 8, y: p.y + 33, class: 'node-sub' }, short(terminalText(n) && n.type === 'queue' ? terminalText(n).replace(/^→\s*/, '') : sub, 24)));
      boxes.appendChild(g);
    }
    SB.fill(box, S_('svg', { class: 'ivr-graph', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': t('ivr.viewDiagram') }, defs, edges, boxes, labels));
  }

  /** An indented tree from the start node; nodes seen before are references. */
  function renderTree() {
    const box = $('#ivr-tree');
    const nodes = (F.draft && F.draft.nodes) || {};
    const start = F.draft && F.draft.start;
    const seen = new Set();
    const line = (id, label) => {
      const n = nodes[id];
      const head = el('div', { class: 'tree-line' + (F.problemNodes.has(id) ? ' has-problem' : '') },
        label ? el('span', { class: 'edge' }, edgeLabel(label)) : null,
        el('button', { type: 'button', class: 'link mono' + (n ? '' : ' missing'), dataset: { node: id }, on: { click: () => { if (n) selectNode(id); } } }, id),
        n ? el('span', { class: 'chip type-' + n.type }, typeLabel(n.type)) : el('span', { class: 'chip bad' }, t('ivr.missing')),
        n && terminalText(n) ? el('span', { class: 'muted' }, terminalText(n)) : null);
      if (!n) return el('li', null, head);
      if (seen.has(id)) {
        head.classList.add('ref');
        head.appendChild(el('span', { class: 'muted small' }, t('ivr.seeAbove')));
        return el('li', null, head);
      }
      seen.add(id);
      const kids = nodeTargets(n).map((x) => line(x.target, x.label));
      return el('li', null, head, kids.length ? el('ul', null, kids) : null);
    };
    const parts = [];
    if (start) parts.push(el('ul', { class: 'tree' }, line(start, null)));
    const orphans = Object.keys(nodes).filter((id) => !seen.has(id)).sort();
    if (orphans.length) {
      parts.push(el('h3', null, t('ivr.unreachable')));
      parts.push(el('ul', { class: 'tree' }, orphans.map((id) => line(id, null))));
    }
    SB.fill(box, parts);
  }

  function textareaChanged() {
    return $('#ivr-json').value !== F.shownText;
  }

  function fillEditor() {
    const ta = $('#ivr-json');
    const ro = readOnly();
    ta.readOnly = ro;
    SB.show($('#ivr-node-tools'), F.scope === 'node');
    SB.setOptions($('#ivr-add-type'), NODE_TYPES.map((x) => ({ value: x, label: typeLabel(x) })));
    if (!F.draft) {
      ta.value = '';
      F.shownText = '';
      SB.setText($('#ivr-editor-title'), '');
      return;
    }
    if (F.scope === 'flow') {
      ta.value = pretty(F.draft);
      SB.setText($('#ivr-editor-title'), t('ivr.editFlow', { name: F.name }) + (ro ? ' · ' + t('ivr.readOnly') : ''));
    } else {
      const n = F.selected && F.draft.nodes ? F.draft.nodes[F.selected] : null;
      ta.value = n ? pretty(n) : '';
      SB.setText($('#ivr-editor-title'), (n ? t('ivr.editNode', { node: F.selected }) : t('ivr.pickNode')) + (ro ? ' · ' + t('ivr.readOnly') : ''));
      $('#btn-ivr-delete').disabled = ro || !n || F.selected === F.draft.start;
    }
    F.shownText = ta.value;
  }

  /** Put the textarea into the draft; false (and the reason shown) when it cannot. */
  function applyEditor() {
    if (readOnly() || !F.draft || !textareaChanged()) return true;
    const box = $('#ivr-error');
    let v;
    try {
      v = JSON.parse($('#ivr-json').value);
    } catch (e) {
      showProblems(box, [t('admin.badJson', { what: F.scope === 'flow' ? t('ivr.scopeFlow') : F.selected, detail: e.message })]);
      return false;
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      showProblems(box, [t('admin.jsonObject', { what: F.scope === 'flow' ? t('ivr.scopeFlow') : F.selected })]);
      return false;
    }
    if (F.scope === 'flow') {
      if (!v.nodes || typeof v.nodes !== 'object') {
        showProblems(box, [t('ivr.needNodes')]);
        return false;
      }
      F.draft = Object.assign(v, { name: F.draft.name, version: F.draft.version });
      if (!F.draft.nodes[F.selected]) F.selected = F.draft.start;
    } else if (F.selected) {
      if (!NODE_TYPES.includes(v.type)) {
        showProblems(box, [t('ivr.needType', { types: NODE_TYPES.join(', ') })]);
        return false;
      }
      F.draft.nodes[F.selected] = v;
    }
    hideError(box);
    F.dirty = true;
    F.shownText = $('#ivr-json').value;
    return true;
  }

  function selectNode(id) {
    if (id === F.selected && F.scope === 'node') {
      const row = SB.$('#ivr-nodes-body tr[data-node="' + CSS.escape(id) + '"]');
      if (row) row.scrollIntoView({ block: 'nearest' });
      return;
    }
    if (!applyEditor()) return;
    F.selected = id;
    F.scope = 'node';
    $('#ivr-scope-node').checked = true;
    renderFlowEditor();
    const row = SB.$('#ivr-nodes-body tr[data-node="' + CSS.escape(id) + '"]');
    if (row) row.scrollIntoView({ block: 'nearest' });
  }

  function nodeTemplate(type) {
    const to = (F.draft && F.draft.start) || 'welcome';
    const q = S.queues.length ? S.queues[0].id : 1;
    const T = {
      play: { type, prompts: [{ clip: 'please-hold' }], next: to },
      menu: { type, prompt: [{ clip: 'main-menu' }], options: { 1: to }, timeout_ms: 5000, retries: 2, on_failure: to },
      collect: { type, prompt: [{ clip: 'enter-account' }], attribute: 'account', min_digits: 1, max_digits: 12, timeout_ms: 5000, retries: 2, next: to, on_failure: to },
      hours: { type, open: to, closed: to },
      set: { type, attributes: { problem_type: 'support' }, next: to },
      lookup: { type, url: 'http://127.0.0.1/', query: {}, say: [], timeout_ms: 5000, next: to, on_failure: to },
      queue: { type, queue: q, callback: false },
      callback_offer: { type, prompt: [{ clip: 'callback-offer' }], accept_digit: '1', accepted: to, declined: to, timeout_ms: 5000 },
      voicemail: { type, prompt: [{ clip: 'voicemail-prompt' }], max_seconds: 120 },
      transfer: { type, to: { queue: q } },
      hangup: { type, prompts: [{ clip: 'goodbye' }] },
    };
    return T[type];
  }

  function addNode() {
    const box = $('#ivr-error');
    const id = $('#ivr-add-id').value.trim();
    if (!id) return showProblems(box, [t('ivr.needId')]);
    if (F.draft.nodes[id]) return showProblems(box, [t('ivr.idTaken', { node: id })]);
    if (!applyEditor()) return;
    F.draft.nodes[id] = nodeTemplate($('#ivr-add-type').value);
    F.dirty = true;
    F.selected = id;
    $('#ivr-add-id').value = '';
    hideError(box);
    renderFlowEditor();
  }

  function deleteNode() {
    const id = F.selected;
    if (!id || !F.draft.nodes[id] || id === F.draft.start) return;
    if (!confirm(t('ivr.confirmDelete', { node: id }))) return;
    delete F.draft.nodes[id];
    F.dirty = true;
    F.selected = F.draft.start;
    renderFlowEditor();
  }

  async function saveFlow() {
    const box = $('#ivr-error');
    if (readOnly() || !F.draft) return;
    if (!applyEditor()) return;
    hideError(box);
    const name = F.name;
    try {
      const r = await SB.busy($('#btn-ivr-save'), () => SB.put('/api/voice/flows/' + enc(name), F.draft, { quiet: true }));
      F.problemNodes = new Set();
      SB.toast(t('ivr.saved', { name, version: r && r.version }), 'ok');
      await loadFlowList();
      F.dirty = false;
      await loadFlow(name, r && r.version);
    } catch (e) {
      // The draft stays as it is: fix the nodes named and save again.
      F.problemNodes = showProblems(box, splitProblems(e), selectNode);
      renderNodes();
      const first = SB.$('#ivr-nodes-body tr.has-problem');
      if (first) first.scrollIntoView({ block: 'nearest' });
    }
  }

  function newFlow(ev) {
    ev.preventDefault();
    const box = $('#ivr-error');
    const name = $('#ivr-new-name').value.trim();
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) return showProblems(box, [t('ivr.badName')]);
    if (F.flows.some((f) => f.name === name)) return showProblems(box, [t('ivr.nameTaken', { name })]);
    if (!F.draft) return;
    if (!applyEditor()) return;
    F.draft = Object.assign(clone(F.draft), { name, version: 1 });
    F.name = name;
    F.latest = 0;
    F.version = 0;
    F.saved = null;
    F.dirty = true;
    F.stats = [];
    F.problemNodes = new Set();
    $('#ivr-new-name').value = '';
    hideError(box);
    renderFlowList();
    renderFlowEditor();
  }

  loaders.ivr = async function (langOnly) {
    if (langOnly && F.draft) {
      renderFlowList();
      renderFlowEditor();
      return;
    }
    let status;
    try {
      [status] = await Promise.all([SB.get('/api/voice/status', { quiet: true }), loadQueues()]);
    } catch (_) {
      status = null;
    }
    const on = !!status && status.enabled !== false;
    SB.show($('#ivr-off'), !on);
    SB.show($('#ivr-layout'), on);
    if (!on) return;
    try {
      await loadFlowList();
    } catch (_) {
      return;
    }
    if (F.draft && F.dirty) {
      // Coming back to the tab: keep the draft.
      renderFlowList();
      renderFlowEditor();
      return;
    }
    const name = F.name && F.flows.some((f) => f.name === F.name) ? F.name : F.flows.length ? F.flows[0].name : null;
    renderFlowList();
    if (name) await loadFlow(name, F.name === name && readOnly() ? F.version : undefined);
    else renderFlowEditor();
  };

  function bindVoice() {
    $('#voice-form').addEventListener('submit', saveVoice);
    $('#btn-voice-reload').addEventListener('click', () => loaders.telephony());
    $('#btn-device-add').addEventListener('click', () => { const r = deviceRow(null); $('#voice-devices').appendChild(r); $('.dev-user', r).focus(); });
    $('#btn-number-add').addEventListener('click', () => { const r = numberRow(null); $('#voice-numbers').appendChild(r); $('.num-number', r).focus(); });
    $('#btn-question-add').addEventListener('click', () => { const r = questionRow(null); $('#survey-questions').appendChild(r); $('.q-id', r).focus(); });
    $('#ivr-new-form').addEventListener('submit', newFlow);
    $('#ivr-version').addEventListener('change', () => {
      const v = Number($('#ivr-version').value);
      if (v) pickFlow(F.name, v);
    });
    $('#ivr-stats-range').addEventListener('change', loadIvrStats);
    $('#ivr-start').addEventListener('change', () => {
      if (!F.draft || readOnly()) return;
      F.draft.start = $('#ivr-start').value;
      F.dirty = true;
      renderFlowEditor();
    });
    $('#ivr-language').addEventListener('change', () => {
      if (!F.draft || readOnly()) return;
      F.draft.language = $('#ivr-language').value;
      F.dirty = true;
      renderFlowEditor();
    });
    $('#ivr-view').addEventListener('change', () => {
      const view = $('#ivr-view-tree').checked ? 'tree' : $('#ivr-view-diagram').checked ? 'diagram' : 'list';
      SB.show($('#ivr-tree'), view === 'tree');
      SB.show($('#ivr-diagram'), view === 'diagram');
      SB.show($('#ivr-nodes-wrap'), view === 'list');
      if (view === 'diagram') renderDiagram();
    });
    $('#ivr-scope').addEventListener('change', () => {
      const scope = $('#ivr-scope-flow').checked ? 'flow' : 'node';
      if (scope === F.scope) return;
      if (!applyEditor()) {
        (F.scope === 'flow' ? $('#ivr-scope-flow') : $('#ivr-scope-node')).checked = true;
        return;
      }
      F.scope = scope;
      renderFlowEditor();
    });
    $('#ivr-json').addEventListener('input', () => {
      SB.show($('#ivr-dirty'), F.dirty || textareaChanged());
      $('#btn-ivr-discard').disabled = !(F.dirty || textareaChanged());
    });
    $('#btn-ivr-apply').addEventListener('click', () => { if (applyEditor()) renderFlowEditor(); });
    $('#btn-ivr-save').addEventListener('click', saveFlow);
    $('#btn-ivr-add').addEventListener('click', addNode);
    $('#btn-ivr-delete').addEventListener('click', deleteNode);
    $('#btn-ivr-discard').addEventListener('click', () => {
      if (!confirm(t('ivr.confirmDiscard'))) return;
      F.dirty = false;
      F.problemNodes = new Set();
      hideError($('#ivr-error'));
      if (F.latest) loadFlow(F.name, F.version);
      else {
        F.name = null;
        loaders.ivr();
      }
    });
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
    bindVoice();
    fillStrategies();
    newUser(false);
    window.addEventListener('hashchange', () => showTab(location.hash.slice(1)));
    SB.onLang(() => showTab(location.hash.slice(1), true));
    showTab(location.hash.slice(1));
  }

  start();
})();
