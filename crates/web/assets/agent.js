/* Switchboard — agent desktop. State, offers with screen-pop, call
 * controls, transfer, wrap-up and the day's statistics. Live through
 * GET /api/stream (events me, offer, offer_cancelled, orders, event). */
(function () {
  'use strict';
  const { $, el, t } = SB;

  const S = {
    me: null, // /api/me answer
    settings: { not_ready_reasons: [], wrap_up_codes: [], queues: [], agents: [] },
    agent: null, // AgentView
    lastMeAt: 0, // local time of the last `me` from the stream
    offers: new Map(), // contact id → {contact, deadline, channel, receivedAt, total}
    pops: new Map(), // contact id → ScreenPop
    orders: new Map(), // contact id → the order hook's answer (the `orders` event)
    popLoading: new Set(),
    popTimers: new Set(),
    phaseSince: new Map(), // contact id → {phase, at}
    drafts: new Map(), // contact id → wrap-up form values
    selected: null, // contact id shown
    knownWork: new Set(),
    acting: new Set(), // contacts with an accept/reject in flight (no "withdrawn" notice for those)
    events: [],
  };

  const key = (id) => String(id);
  const queueName = (id) => {
    const q = (S.settings.queues || []).find((x) => key(x.id) === key(id));
    return q ? q.name : id === null || id === undefined ? '—' : '#' + id;
  };
  const agentName = (id) => {
    if (id === null || id === undefined) return '—';
    const a = (S.settings.agents || []).find((x) => key(x.id) === key(id));
    return a ? a.name : '#' + id;
  };

  function presenceOf(a) {
    if (!a) return 'offline';
    const p = a.presence;
    if (typeof p === 'string') return p;
    if (p && typeof p === 'object') {
      if (p.presence) return p.presence;
      const k = Object.keys(p)[0];
      if (k) return k.replace('_', '-');
    }
    if (a.state === 'offline') return 'offline';
    if (a.state === 'not-ready') return 'not-ready';
    return 'ready';
  }

  // ------------------------------------------------------------ work list

  const PHASE_ORDER = { reserved: 0, 'consult-ringing': 0, dialling: 1, talking: 1, held: 1, consulting: 1, 'wrap-up': 2 };
  /** Ringing at this desktop: an offer, or a colleague's consultation. */
  const ringing = (phase) => phase === 'reserved' || phase === 'consult-ringing';

  function workList() {
    const work = ((S.agent && S.agent.work) || []).map((w) => Object.assign({}, w));
    const ids = new Set(work.map((w) => key(w.contact)));
    for (const [id, o] of S.offers) {
      if (!ids.has(id)) {
        const pop = S.pops.get(id);
        work.push({ contact: o.contact, queue: pop && pop.contact ? pop.contact.queue : null, channel: o.channel, phase: 'reserved', deadline: o.deadline, pending: true });
      }
    }
    work.forEach((w) => {
      if (ringing(w.phase)) {
        const o = S.offers.get(key(w.contact));
        if (o && o.deadline) w.deadline = o.deadline;
      }
    });
    return work;
  }

  function pickSelected(work) {
    if (S.selected !== null && work.some((w) => key(w.contact) === S.selected)) return S.selected;
    const sorted = work.slice().sort((a, b) => (PHASE_ORDER[a.phase] ?? 3) - (PHASE_ORDER[b.phase] ?? 3));
    S.selected = sorted.length ? key(sorted[0].contact) : null;
    return S.selected;
  }

  /** Drop offers that are over: answered, refused, timed out, withdrawn. */
  function pruneOffers() {
    const work = (S.agent && S.agent.work) || [];
    const now = Date.now();
    for (const [id, o] of S.offers) {
      const w = work.find((x) => key(x.contact) === id);
      if (w && !ringing(w.phase)) S.offers.delete(id);
      else if (!w && S.lastMeAt > o.receivedAt && now - o.receivedAt > 1500) S.offers.delete(id);
      else if (o.deadline && SB.now() > o.deadline + 3000) S.offers.delete(id);
    }
  }

  // ------------------------------------------------------------ applying server state

  function applyAgent(view, fromStream) {
    if (!view || typeof view !== 'object' || view.id === undefined) return;
    S.agent = view;
    if (fromStream) S.lastMeAt = Date.now();
    const now = Date.now();
    const ids = new Set();
    for (const w of view.work || []) {
      const id = key(w.contact);
      ids.add(id);
      const ps = S.phaseSince.get(id);
      const live = w.phase === 'talking' || w.phase === 'held' || w.phase === 'dialling';
      if (ps && ps.connectedAt === undefined && live) ps.connectedAt = now;
      if (!ps || ps.phase !== w.phase) {
        // First sight on page load: the agent's own `since` is the best guess for a single contact.
        const at = !ps && (view.work || []).length === 1 && !S.knownWork.has(id) && S.agent.since ? view.since - SB.skew : now;
        const first = Math.min(at, now);
        S.phaseSince.set(id, { phase: w.phase, at: first, connectedAt: ps && ps.connectedAt !== undefined ? ps.connectedAt : live ? first : undefined });
      }
      if (!ringing(w.phase)) ensurePop(id);
      else if (!S.offers.has(id) && !S.pops.has(id) && !S.popTimers.has(id)) {
        // Ringing without an `offer` event (page opened mid-offer): fetch the pop unless the event comes.
        S.popTimers.add(id);
        setTimeout(() => {
          S.popTimers.delete(id);
          const still = ((S.agent && S.agent.work) || []).some((x) => key(x.contact) === id);
          if (still && !S.offers.has(id)) ensurePop(id);
        }, 2500);
      }
    }
    // A contact left the desktop: refresh the day's statistics.
    let ended = false;
    for (const id of S.knownWork) {
      if (!ids.has(id)) {
        ended = true;
        S.phaseSince.delete(id);
        S.drafts.delete(id);
        if (!S.offers.has(id)) {
          S.pops.delete(id);
          S.orders.delete(id);
        }
      }
    }
    S.knownWork = ids;
    if (ended) loadStats();
    pruneOffers();
    render();
  }

  async function ensurePop(id) {
    if (S.pops.has(id) || S.popLoading.has(id)) return;
    S.popLoading.add(id);
    try {
      const pop = await SB.get('/api/contacts/' + encodeURIComponent(id) + '/pop', { quiet: true });
      if (pop && !S.pops.has(id)) {
        S.pops.set(id, pop);
        render();
      }
    } catch (e) {
      /* the panel shows the contact without its pop */
    } finally {
      S.popLoading.delete(id);
    }
  }

  // ------------------------------------------------------------ rendering

  function render() {
    renderState();
    const work = workList();
    const sel = pickSelected(work);
    renderTabs(work, sel);
    const cur = work.find((w) => key(w.contact) === sel) || null;
    const offerP = $('#offer');
    const activeP = $('#active');
    const idle = $('#idle');
    if (!cur) {
      SB.show(offerP, false);
      SB.show(activeP, false);
      offerP.removeAttribute('data-contact');
      activeP.removeAttribute('data-contact');
      SB.show(idle, true);
      renderIdle();
      $('#pop-store').appendChild($('#pop'));
      return;
    }
    SB.show(idle, false);
    const id = key(cur.contact);
    const pop = S.pops.get(id) || null;
    const c = (pop && pop.contact) || {};
    const qn = c.queue_name || queueName(cur.queue !== undefined && cur.queue !== null ? cur.queue : c.queue);
    if (ringing(cur.phase)) {
      SB.show(activeP, false);
      activeP.removeAttribute('data-contact');
      SB.show(offerP, true);
      if (offerP.dataset.contact !== id) {
        SB.show($('#offer-error'), false);
        $('#btn-accept').disabled = false;
        $('#btn-reject').disabled = false;
      }
      offerP.dataset.contact = id;
      offerP.dataset.channel = cur.channel || '';
      SB.setText($('#offer-channel'), SB.channelLabel(cur.channel || c.channel));
      SB.setText($('#offer-queue'), qn);
      SB.setText($('#offer-caller'), c.caller || '');
      const from = cur.phase === 'consult-ringing' ? consultName(id, cur.consult_with) : null;
      SB.setText($('#offer-title'), from === null ? t('offer.title') : t('consult.from', { name: from }));
      offerP.classList.toggle('consult', from !== null);
      $('.pop-slot', offerP).appendChild($('#pop'));
    } else {
      SB.show(offerP, false);
      offerP.removeAttribute('data-contact');
      SB.show(activeP, true);
      const changed = activeP.dataset.contact !== id;
      activeP.dataset.contact = id;
      activeP.dataset.phase = cur.phase;
      if (changed) {
        SB.show($('#transfer-error'), false);
        SB.show($('#wrapup-error'), false);
      }
      const ph = $('#active-phase');
      ph.className = 'chip phase ph-' + cur.phase;
      SB.setText(ph, t('phase.' + cur.phase));
      SB.setText($('#active-caller'), c.caller || '');
      SB.setText($('#active-channel'), SB.channelLabel(cur.channel || c.channel));
      SB.setText($('#active-queue'), qn);
      const consulting = cur.consult_with !== undefined && cur.consult_with !== null;
      const connected = !consulting && (cur.phase === 'talking' || cur.phase === 'held' || cur.phase === 'dialling');
      SB.show($('#call-controls'), connected);
      renderConsult(cur, id, consulting, changed);
      SB.show($('#btn-hold'), cur.phase !== 'held');
      SB.show($('#btn-resume'), cur.phase === 'held');
      $('#btn-hold').disabled = cur.phase !== 'talking';
      $('#btn-transfer').disabled = !(cur.phase === 'talking' || cur.phase === 'held');
      SB.setText($('#active-timer-label'), cur.phase === 'wrap-up' ? t('wrapup.remaining') : t('active.duration'));
      renderWrapup(cur, changed);
      $('.pop-slot', activeP).appendChild($('#pop'));
    }
    renderPop(id, pop);
    tick();
  }

  /** The other agent of a consultation, by name when known. */
  function consultName(id, agentId) {
    const o = S.offers.get(id);
    if (o && o.consultFrom && o.consultFrom.name) return o.consultFrom.name;
    const a = (S.settings.agents || []).find((x) => key(x.id) === key(agentId));
    return a ? a.name : '#' + agentId;
  }

  /** A consultation in progress: the consulting agent completes the
   * transfer or goes back to the customer; the consulted one may end it. */
  function renderConsult(cur, id, consulting, changed) {
    SB.show($('#consult-bar'), consulting);
    if (changed) SB.show($('#consult-error'), false);
    if (!consulting) return;
    const name = consultName(id, cur.consult_with);
    const mine = cur.phase !== 'consulting';
    const status = !mine ? 'consult.talkingWith' : cur.consult_answered ? 'consult.answered' : 'consult.calling';
    SB.setText($('#consult-status'), t(status, { name }));
    SB.show($('#btn-consult-complete'), mine);
    $('#btn-consult-complete').disabled = !cur.consult_answered;
    SB.setText($('#btn-consult-cancel'), mine ? t('consult.back') : t('consult.end'));
  }

  function renderState() {
    const a = S.agent;
    const state = a ? a.state : 'offline';
    const badge = $('#state');
    badge.className = 'state-badge st-' + state;
    badge.dataset.state = state;
    SB.setText(badge, SB.stateLabel(state));
    const reason = a && a.reason ? SB.tOr('reason.' + a.reason, a.reason) : '';
    SB.setText($('#state-reason'), reason ? t('agent.reasonIs', { reason }) : '');
    SB.setText($('#agent-name'), a ? a.name + ' · #' + a.id : '');
    const hasAgent = !!(S.me && S.me.user && S.me.user.agent_id !== null && S.me.user.agent_id !== undefined) || !!a;
    const presence = presenceOf(a);
    const loggedIn = !!a && presence !== 'offline' && state !== 'offline';
    $('#btn-login').disabled = !hasAgent || loggedIn;
    $('#btn-ready').disabled = !loggedIn || presence === 'ready';
    $('#btn-notready').disabled = !loggedIn || !$('#notready-reason').value;
    $('#notready-reason').disabled = !loggedIn;
    $('#btn-logout').disabled = !loggedIn;
    document.body.dataset.state = state;
  }

  function renderIdle() {
    const a = S.agent;
    const state = a ? a.state : 'offline';
    let k = 'agent.idleOffline';
    if (state === 'ready') k = 'agent.idleReady';
    else if (state === 'not-ready') k = 'agent.idleNotReady';
    else if (state !== 'offline') k = 'agent.idleBusy';
    SB.setText($('#idle-text'), t(k));
    $('#idle').dataset.state = state;
  }

  function renderTabs(work, sel) {
    const nav = $('#work-tabs');
    if (work.length < 2) {
      SB.show(nav, false);
      SB.clear(nav);
      nav.dataset.sig = '';
      return;
    }
    SB.show(nav, true);
    const sig = work.map((w) => key(w.contact) + ':' + w.phase + ':' + (S.pops.has(key(w.contact)) ? 1 : 0)).join(',') + '|' + sel + '|' + SB.lang;
    if (nav.dataset.sig === sig) return;
    nav.dataset.sig = sig;
    SB.fill(nav, work.map((w) => {
      const id = key(w.contact);
      const pop = S.pops.get(id);
      const who = pop && pop.customer ? pop.customer.name : pop && pop.contact ? pop.contact.caller : '#' + id;
      return el('button', {
        type: 'button', class: 'tab ph-' + w.phase + (id === sel ? ' active' : ''), dataset: { contact: id },
        on: { click: () => { S.selected = id; render(); } },
      }, el('span', { class: 'chip' }, SB.channelLabel(w.channel)), ' ', who || '#' + id, ' · ', t('phase.' + w.phase));
    }));
  }

  // ------------------------------------------------------------ screen-pop

  function renderPop(id, pop) {
    const root = $('#pop');
    const sig = [id, pop ? 'pop' : S.popLoading.has(id) ? 'loading' : 'none', SB.lang].join('|');
    if (root.dataset.sig !== sig) {
      root.dataset.sig = sig;
      renderPopBody(id, pop);
    }
    renderOrders(id, pop);
  }

  function renderPopBody(id, pop) {
    const root = $('#pop');
    root.dataset.contact = id;
    const cust = pop && pop.customer;
    const c = (pop && pop.contact) || {};
    const nameEl = $('#pop-customer-name');
    if (!pop) {
      SB.setText(nameEl, S.popLoading.has(id) ? t('common.loading') : t('pop.unknown'));
    } else {
      SB.setText(nameEl, cust ? cust.name || '—' : t('pop.unknownCaller'));
    }
    const seg = cust ? cust.segment : null;
    const segEl = $('#pop-segment');
    SB.show(segEl, !!seg);
    segEl.className = 'chip segment seg-' + (seg || 'none');
    SB.setText(segEl, seg ? SB.tOr('segment.' + seg, seg) : '');

    const cd = [];
    if (cust) {
      cd.push([t('pop.phones'), (cust.phones || []).join(', ')]);
      cd.push([t('pop.emails'), (cust.emails || []).join(', ')]);
      for (const [k, v] of Object.entries(cust.attributes || {})) cd.push([k, SB.plain(v)]);
    } else if (pop) {
      cd.push([t('pop.phone'), c.caller || '']);
    }
    SB.fill($('#pop-customer-details'), cd.length ? SB.dl(cd) : null);

    const cc = [];
    if (pop) {
      cc.push([t('pop.queue'), c.queue_name || queueName(c.queue)]);
      cc.push([t('pop.channel'), SB.channelLabel(c.channel)]);
      cc.push([t('pop.caller'), c.caller || '']);
      cc.push([t('pop.language'), c.language || '']);
      cc.push([t('pop.problem'), c.problem_type || '']);
      cc.push([t('pop.priority'), c.priority === undefined || c.priority === null ? '' : String(c.priority)]);
      for (const [k, v] of Object.entries(c.attributes || {})) cc.push([k, SB.plain(v)]);
      // Call-backs that did not reach the customer, so the agent knows this is a retry.
      const tried = Array.isArray(c.dial_attempts) ? c.dial_attempts : [];
      if (tried.length) cc.push([t('pop.dialAttempts'), tried.map(dialAttemptText).join('; ')]);
    }
    SB.fill($('#pop-contact-details'), cc.length ? SB.dl(cc) : null);
    renderVoicemail(pop ? (c.attributes || {}).voicemail : null);

    renderHistory(pop ? pop.history || [] : []);
  }

  /** One failed call-back: "#1 10:15 busy". */
  function dialAttemptText(a) {
    return '#' + a.attempt + ' ' + SB.fmtTime(a.at) + ' ' + SB.tOr('dial.' + a.outcome, a.outcome);
  }

  /** A voicemail contact: a button that plays the message (GET /api/voice/calls/{id}/voicemail).
   * Rebuilt only when the message changes, so a re-render does not stop playback. */
  function renderVoicemail(call) {
    const box = $('#pop-voicemail');
    const want = call ? String(call) : '';
    SB.show(box, !!want);
    if (box.dataset.call === want) return;
    box.dataset.call = want;
    if (!want) {
      SB.fill(box);
      return;
    }
    const src = '/api/voice/calls/' + encodeURIComponent(want) + '/voicemail';
    const play = el('button', {
      type: 'button', class: 'small', id: 'btn-voicemail',
      on: {
        click: () => {
          const audio = el('audio', { controls: true, autoplay: true, preload: 'auto', src });
          audio.addEventListener('error', () => SB.toast(t('pop.voicemailUnavailable'), 'error'));
          play.replaceWith(audio);
        },
      },
    }, '▶ ' + t('pop.playVoicemail'));
    SB.fill(box, el('h3', null, t('pop.voicemail')), el('p', { class: 'muted small' }, t('pop.voicemailHelp')), play);
  }

  function renderHistory(rows) {
    const box = $('#pop-history');
    if (!rows.length) {
      SB.fill(box, el('p', { class: 'muted' }, t('pop.noHistory')));
      return;
    }
    const tbl = SB.table([
      { label: t('hist.time') }, { label: t('hist.channel') }, { label: t('hist.queue') }, { label: t('hist.agent') },
      { label: t('hist.outcome') }, { label: t('hist.disposition') }, { label: t('hist.notes') },
    ], { class: 'compact', id: 'pop-history-table' });
    const tb = tbl.tBodies[0];
    rows.slice(0, 10).forEach((r) => {
      const w = r.wrap_up || {};
      tb.appendChild(el('tr', { dataset: { contact: key(r.contact) } },
        el('td', { class: 'nowrap' }, SB.fmtDateTime(r.arrived_at)),
        el('td', null, SB.channelLabel(r.channel)),
        el('td', null, queueName(r.queue)),
        el('td', null, agentName(r.agent)),
        el('td', null, r.outcome ? SB.tOr('outcome.' + r.outcome, r.outcome) : t('outcome.open'),
          r.dial_attempts > 0 ? el('div', { class: 'muted small' }, t('hist.dialAttempts', { n: r.dial_attempts, outcome: SB.tOr('dial.' + r.dial_outcome, r.dial_outcome || '') })) : null),
        el('td', null, w.disposition ? SB.tOr('code.' + w.disposition, w.disposition) : '—', w.follow_up ? el('span', { class: 'chip warn', title: t('wrapup.followUp') }, t('hist.followUp')) : null),
        el('td', { class: 'notes', title: [w.need, w.service_given, w.notes].filter(Boolean).join(' · ') }, w.notes || w.need || '')));
    });
    SB.fill(box, tbl);
  }

  function renderOrders(id, pop) {
    const box = $('#pop-orders');
    const orders = S.orders.has(id) ? S.orders.get(id) : pop ? pop.orders : null;
    const offer = S.offers.get(id);
    const waiting = !!pop && !!pop.orders_pending && !S.orders.has(id) && !!offer && Date.now() - offer.receivedAt < 10000;
    const empty = orders === null || orders === undefined;
    const sig = [id, empty ? (waiting ? 'waiting' : 'none') : 'orders', S.orders.has(id), !!pop, SB.lang].join('|');
    if (box.dataset.sig === sig) return;
    box.dataset.sig = sig;
    if (empty) {
      SB.fill(box, el('p', { class: 'muted', id: 'orders-status' }, waiting ? t('pop.ordersWaiting') : t('pop.noOrders')));
      return;
    }
    SB.fill(box, renderAny(orders, 0));
  }

  /** Any JSON (the order hook's answer) as tables and lists, escaped. */
  function renderAny(v, depth) {
    if (v === null || v === undefined) return el('span', { class: 'muted' }, '—');
    if (Array.isArray(v)) {
      if (!v.length) return el('p', { class: 'muted' }, t('pop.noOrders'));
      if (v.every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
        const cols = [];
        v.forEach((x) => Object.keys(x).forEach((k) => { if (!cols.includes(k) && cols.length < 8) cols.push(k); }));
        const tbl = SB.table(cols.map((k) => ({ label: k })), { class: 'compact' });
        v.slice(0, 20).forEach((x) => tbl.tBodies[0].appendChild(el('tr', null, cols.map((k) => el('td', null, SB.plain(x[k]))))));
        return tbl;
      }
      return el('ul', { class: 'plain-list' }, v.slice(0, 20).map((x) => el('li', null, SB.plain(x))));
    }
    if (typeof v === 'object') {
      for (const k of ['orders', 'items']) if (Array.isArray(v[k]) && depth < 1) return renderAny(v[k], depth + 1);
      return SB.dl(Object.entries(v).map(([k, x]) => [k, SB.plain(x)]));
    }
    return el('p', null, String(v));
  }

  // ------------------------------------------------------------ wrap-up form

  function fillDispositions() {
    const codes = S.settings.wrap_up_codes || [];
    SB.setOptions($('#wrapup-disposition'), [{ value: '', label: t('wrapup.choose') }].concat(codes.map((c) => ({ value: c, label: SB.tOr('code.' + c, c) }))));
  }

  function saveDraft() {
    const f = $('#wrapup-form');
    const id = f.dataset.contact;
    if (!id) return;
    S.drafts.set(id, {
      need: $('#wrapup-need').value, service_given: $('#wrapup-service').value, disposition: $('#wrapup-disposition').value,
      notes: $('#wrapup-notes').value, follow_up: $('#wrapup-followup').checked,
    });
  }

  function renderWrapup(cur, changed) {
    const f = $('#wrapup-form');
    const on = cur.phase === 'wrap-up';
    SB.show(f, on);
    const id = key(cur.contact);
    if (f.dataset.contact !== id) {
      if (f.dataset.contact) saveDraft();
      f.dataset.contact = id;
      const d = S.drafts.get(id) || { need: '', service_given: '', disposition: '', notes: '', follow_up: false };
      $('#wrapup-need').value = d.need;
      $('#wrapup-service').value = d.service_given;
      $('#wrapup-disposition').value = d.disposition;
      $('#wrapup-notes').value = d.notes;
      $('#wrapup-followup').checked = d.follow_up;
      SB.show($('#wrapup-error'), false);
    }
    if (changed && on) setTimeout(() => { if (!f.hidden && !f.contains(document.activeElement)) $('#wrapup-need').focus(); }, 0);
  }

  // ------------------------------------------------------------ ticking clocks

  function tick() {
    const a = S.agent;
    const now = SB.now();
    SB.setText($('#state-time'), a && a.since ? SB.fmtDuration((now - a.since) / 1000) : '0:00');
    const work = workList();
    const cur = work.find((w) => key(w.contact) === S.selected);
    if (!cur) return;
    if (ringing(cur.phase)) {
      const o = S.offers.get(key(cur.contact));
      const dl = cur.deadline || (o && o.deadline);
      const left = dl ? Math.max(0, (dl - now) / 1000) : null;
      SB.setText($('#offer-countdown'), left === null ? '—' : Math.ceil(left).toString());
      const total = (o && o.total) || 15000;
      $('#offer-progress').style.width = left === null ? '0%' : Math.max(0, Math.min(100, (left * 1000 * 100) / total)).toFixed(1) + '%';
      $('#offer-countdown').classList.toggle('urgent', left !== null && left <= 5);
    } else if (cur.phase === 'wrap-up') {
      const left = cur.deadline ? Math.max(0, (cur.deadline - now) / 1000) : null;
      const txt = left === null ? '—' : SB.fmtDuration(Math.ceil(left));
      SB.setText($('#wrapup-countdown'), txt);
      SB.setText($('#active-timer'), txt);
      $('#wrapup-countdown').classList.toggle('urgent', left !== null && left <= 10);
      $('#active-timer').classList.toggle('urgent', left !== null && left <= 10);
    } else {
      const ps = S.phaseSince.get(key(cur.contact));
      $('#active-timer').classList.remove('urgent');
      const from = ps ? (ps.connectedAt !== undefined ? ps.connectedAt : ps.at) : null;
      SB.setText($('#active-timer'), from ? SB.fmtDuration((Date.now() - from) / 1000) : '0:00');
    }
  }

  // ------------------------------------------------------------ actions

  function showErr(box, e) {
    box.textContent = SB.errorText(e);
    SB.show(box, true);
  }

  async function agentAction(button, path, body) {
    SB.show($('#agent-error'), false);
    try {
      const v = await SB.busy(button, () => SB.post(path, body, { quiet: true }));
      applyAgent(v, false);
    } catch (e) {
      if (e.status !== 401) showErr($('#agent-error'), e);
      render();
    }
  }

  async function contactAction(button, verb, body, errBox) {
    const id = S.selected;
    if (!id) return;
    if (errBox) SB.show(errBox, false);
    if (verb === 'accept' || verb === 'reject') S.acting.add(id);
    try {
      const v = await SB.busy(button, () => SB.post('/api/contacts/' + encodeURIComponent(id) + '/' + verb, body, { quiet: !!errBox }));
      if (verb === 'reject') S.offers.delete(id);
      if (verb === 'accept') {
        S.offers.delete(id);
        S.phaseSince.set(id, { phase: 'talking', at: Date.now(), connectedAt: Date.now() });
      }
      applyAgent(v, false);
      return true;
    } catch (e) {
      if (errBox && e.status !== 401) showErr(errBox, e);
      render();
      return false;
    } finally {
      setTimeout(() => S.acting.delete(id), 2000);
    }
  }

  function fillTransferTargets() {
    const kind = $('#transfer-kind').value;
    const own = S.agent ? key(S.agent.id) : key(S.me && S.me.user ? S.me.user.agent_id : '');
    const list = kind === 'agent' || kind === 'consult'
      ? (S.settings.agents || []).filter((a) => key(a.id) !== own)
      : (S.settings.queues || []);
    const opts = list.map((x) => ({ value: x.id, label: x.name + ' (#' + x.id + ')' }));
    if (!opts.length) opts.push({ value: '', label: t('transfer.none'), disabled: true });
    SB.setOptions($('#transfer-target'), opts);
  }

  function fillReasons() {
    const reasons = S.settings.not_ready_reasons || [];
    const opts = reasons.map((r) => ({ value: r, label: SB.tOr('reason.' + r, r) }));
    if (!opts.length) opts.push({ value: 'not-ready', label: t('agent.notReady') });
    SB.setOptions($('#notready-reason'), opts);
  }

  function wire() {
    $('#btn-login').addEventListener('click', (e) => agentAction(e.currentTarget, '/api/agent/login'));
    $('#btn-ready').addEventListener('click', (e) => agentAction(e.currentTarget, '/api/agent/ready'));
    $('#btn-notready').addEventListener('click', (e) => agentAction(e.currentTarget, '/api/agent/not-ready', { reason: $('#notready-reason').value }));
    $('#notready-reason').addEventListener('change', renderState);
    $('#btn-logout').addEventListener('click', (e) => agentAction(e.currentTarget, '/api/agent/logout'));

    $('#btn-accept').addEventListener('click', (e) => contactAction(e.currentTarget, 'accept', undefined, $('#offer-error')));
    $('#btn-reject').addEventListener('click', (e) => contactAction(e.currentTarget, 'reject', undefined, $('#offer-error')));
    $('#btn-hold').addEventListener('click', (e) => contactAction(e.currentTarget, 'hold', undefined, $('#transfer-error')));
    $('#btn-resume').addEventListener('click', (e) => contactAction(e.currentTarget, 'resume', undefined, $('#transfer-error')));
    $('#btn-hangup').addEventListener('click', (e) => contactAction(e.currentTarget, 'hangup', undefined, $('#transfer-error')));
    $('#transfer-kind').addEventListener('change', fillTransferTargets);
    $('#btn-consult-complete').addEventListener('click', (e) => contactAction(e.currentTarget, 'consult/complete', undefined, $('#consult-error')));
    $('#btn-consult-cancel').addEventListener('click', (e) => contactAction(e.currentTarget, 'consult/cancel', undefined, $('#consult-error')));
    $('#btn-transfer').addEventListener('click', (e) => {
      const raw = $('#transfer-target').value;
      if (raw === '') {
        showErr($('#transfer-error'), new Error(t('transfer.pick')));
        return;
      }
      const id = /^\d+$/.test(raw) ? Number(raw) : raw;
      const kind = $('#transfer-kind').value;
      if (kind === 'consult') contactAction(e.currentTarget, 'consult', { to: id }, $('#transfer-error'));
      else contactAction(e.currentTarget, 'transfer', { to: { kind, id } }, $('#transfer-error'));
    });

    const form = $('#wrapup-form');
    form.addEventListener('input', saveDraft);
    $('#wrapup-disposition').addEventListener('change', () => { if ($('#wrapup-disposition').value) SB.show($('#wrapup-error'), false); });
    form.addEventListener('change', saveDraft);
    $('#btn-wrapup-extend').addEventListener('click', (e) => contactAction(e.currentTarget, 'wrap-up/extend', { seconds: 30 }, $('#wrapup-error')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const disposition = $('#wrapup-disposition').value;
      if (!disposition) {
        showErr($('#wrapup-error'), new Error(t('wrapup.needDisposition')));
        $('#wrapup-disposition').focus();
        return;
      }
      const body = {
        need: $('#wrapup-need').value.trim(),
        service_given: $('#wrapup-service').value.trim(),
        disposition,
        notes: $('#wrapup-notes').value.trim(),
        follow_up: $('#wrapup-followup').checked,
      };
      const id = S.selected;
      const ok = await contactAction($('#btn-wrapup-submit'), 'wrap-up', body, $('#wrapup-error'));
      if (ok) {
        S.drafts.delete(id);
        form.dataset.contact = '';
        SB.toast(t('wrapup.saved'), 'ok');
        loadStats();
      }
    });

    $('#btn-stats-refresh').addEventListener('click', loadStats);
  }

  // ------------------------------------------------------------ statistics

  const STATE_ORDER = ['ready', 'reserved', 'busy', 'on-hold', 'wrap-up', 'not-ready'];

  async function loadStats() {
    if (!S.me || !S.me.user || S.me.user.agent_id === null || S.me.user.agent_id === undefined) return;
    try {
      S.stats = await SB.get('/api/agent/stats', { quiet: true });
    } catch (e) {
      S.stats = null;
    }
    renderStats();
  }

  function renderStats() {
    const box = $('#stats');
    const st = S.stats;
    if (!st) {
      SB.fill(box, el('p', { class: 'muted' }, t('stats.none')));
      return;
    }
    const tiles = el('div', { class: 'tiles' },
      tile('handled', t('stats.handled'), SB.fmtNum(st.handled)),
      tile('talk', t('stats.talk'), SB.fmtDuration(st.talk_seconds)),
      tile('aht', t('stats.aht'), SB.fmtDuration(st.aht_seconds)),
      tile('missed', t('stats.missed'), SB.fmtNum(st.missed)),
      st.offers !== undefined ? tile('offers', t('stats.offers'), SB.fmtNum(st.offers)) : null,
      st.occupancy !== undefined ? tile('occupancy', t('stats.occupancy'), SB.fmtPct(st.occupancy, 0)) : null);
    const secs = st.state_seconds || {};
    const norm = {};
    for (const [k, v] of Object.entries(secs)) norm[k.replace(/_/g, '-')] = (norm[k.replace(/_/g, '-')] || 0) + (Number(v) || 0);
    const total = STATE_ORDER.reduce((s, k) => s + (norm[k] || 0), 0);
    const bar = el('div', { class: 'statebar', role: 'img', 'aria-label': t('stats.stateTime') },
      STATE_ORDER.filter((k) => norm[k] > 0).map((k) => el('span', {
        class: 'seg st-' + k, style: 'width:' + ((norm[k] * 100) / total).toFixed(2) + '%',
        title: SB.stateLabel(k) + ' ' + SB.fmtDuration(norm[k]),
      })));
    const legend = el('ul', { class: 'state-legend' }, STATE_ORDER.filter((k) => norm[k] > 0).map((k) =>
      el('li', { dataset: { state: k } }, el('span', { class: 'swatch st-' + k }), SB.stateLabel(k), el('span', { class: 'num' }, SB.fmtDuration(norm[k])))));
    SB.fill(box, tiles, el('h3', null, t('stats.stateTime')), total > 0 ? [bar, legend] : el('p', { class: 'muted' }, '—'));
  }

  function tile(k, label, value) {
    return el('div', { class: 'tile', dataset: { stat: k } }, el('div', { class: 'tile-value' }, value), el('div', { class: 'tile-label' }, label));
  }

  // ------------------------------------------------------------ activity feed

  function addEvent(ev) {
    if (!ev || !ev.type) return;
    S.events.unshift(ev);
    if (S.events.length > 40) S.events.length = 40;
    renderEvents();
  }

  function renderEvents() {
    const box = $('#events');
    if (!S.events.length) {
      SB.fill(box, el('li', { class: 'muted' }, t('events.none')));
      return;
    }
    SB.fill(box, S.events.map((ev) => {
      const bits = [];
      if (ev.contact !== undefined && ev.contact !== null) bits.push(t('events.contact', { id: ev.contact }));
      if (ev.queue !== undefined && ev.queue !== null && typeof ev.queue !== 'object') bits.push(queueName(ev.queue));
      if (ev.type === 'agent_state_changed' && ev.to) bits.push(SB.stateLabel(ev.to));
      if (ev.outcome) bits.push(SB.tOr('outcome.' + ev.outcome, ev.outcome));
      return el('li', { dataset: { type: ev.type } },
        el('span', { class: 'ev-time' }, SB.fmtTime(ev.at)),
        el('span', { class: 'ev-type' }, SB.tOr('ev.' + ev.type, ev.type.replace(/_/g, ' '))),
        bits.length ? el('span', { class: 'ev-detail' }, bits.join(' · ')) : null);
    }));
  }

  // ------------------------------------------------------------ ring tone

  let audio = null;
  function ring() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const o = audio.createOscillator();
      const g = audio.createGain();
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.0001, audio.currentTime);
      g.gain.exponentialRampToValueAtTime(0.15, audio.currentTime + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.6);
      o.connect(g).connect(audio.destination);
      o.start();
      o.stop(audio.currentTime + 0.65);
    } catch (_) {
      /* no audio: the panel still shows */
    }
  }

  // ------------------------------------------------------------ start

  async function refreshMe() {
    try {
      const me = await SB.get('/api/me', { quiet: true });
      S.me = me;
      if (me.settings) S.settings = Object.assign(S.settings, me.settings);
      fillReasons();
      fillDispositions();
      fillTransferTargets();
      if (me.agent) applyAgent(me.agent, false);
      else render();
    } catch (_) {
      /* 401 redirects; otherwise the stream resyncs later */
    }
  }

  async function start() {
    let me;
    try {
      me = await SB.boot({ stream: true, roles: ['agent', 'supervisor'] });
    } catch (_) {
      return;
    }
    S.me = me;
    S.settings = Object.assign(S.settings, me.settings || {});
    const hasAgent = me.user && me.user.agent_id !== null && me.user.agent_id !== undefined;
    SB.show($('#no-agent'), !hasAgent && !me.agent);
    fillReasons();
    fillDispositions();
    fillTransferTargets();
    wire();
    if (me.agent) applyAgent(me.agent, false);
    else render();
    renderEvents();
    loadStats();
    setInterval(tick, 250);
    setInterval(() => { pruneOffers(); render(); }, 1000);
    setInterval(loadStats, 60000);
    SB.onLang(() => {
      fillReasons();
      fillDispositions();
      fillTransferTargets();
      render();
      renderStats();
      renderEvents();
    });

    SB.stream({
      hello: () => {},
      me: (v) => applyAgent(v, true),
      offer: (o) => {
        if (!o || o.contact === undefined) return;
        const id = key(o.contact);
        const now = SB.now();
        S.offers.set(id, { contact: o.contact, deadline: o.deadline, channel: o.channel, receivedAt: Date.now(), total: o.deadline ? Math.max(1000, o.deadline - now) : 15000, consultFrom: o.consult_from || null });
        if (o.pop) S.pops.set(id, o.pop);
        S.selected = id;
        ring();
        render();
      },
      offer_cancelled: (o) => {
        if (!o) return;
        const id = key(o.contact);
        if (S.offers.delete(id)) {
          const w = ((S.agent && S.agent.work) || []).find((x) => key(x.contact) === id);
          if ((!w || ringing(w.phase)) && !S.acting.has(id)) SB.toast(t('offer.cancelled'), 'info');
        }
        if (S.agent && S.agent.work) {
          // The offer is gone even if the next `me` has not come yet.
          S.agent = Object.assign({}, S.agent, { work: S.agent.work.filter((x) => !(key(x.contact) === id && ringing(x.phase))) });
        }
        render();
      },
      orders: (o) => {
        if (!o) return;
        const id = key(o.contact);
        S.orders.set(id, o.orders === undefined ? null : o.orders);
        if (S.selected === id) renderOrders(id, S.pops.get(id) || null);
      },
      event: addEvent,
    }, { onOpen: (again) => { if (again) refreshMe(); } });
  }

  start();
})();
