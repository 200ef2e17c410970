/* Switchboard UI — shared code: i18n, DOM helpers, formatting, the API
 * fetch wrapper, the live-update (SSE) helper, the navigation bar, toasts,
 * a small SVG chart and the login page.
 *
 * Plain ES2020, no modules, no third-party code. Everything the server sends
 * is written with textContent (never innerHTML), so it cannot inject markup.
 * Exposes one global: window.SB.
 */
(function () {
  'use strict';

  const SB = (window.SB = window.SB || {});
  const DICT = window.SB_I18N || { en: {}, zh: {} };
  const LANG_KEY = 'sb_lang';

  // ---------------------------------------------------------------- i18n

  function detectLang() {
    let stored = null;
    try {
      stored = localStorage.getItem(LANG_KEY);
    } catch (_) {
      /* storage may be disabled */
    }
    if (stored === 'zh' || stored === 'en') return stored;
    const nav = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
    return /^zh/i.test(nav) ? 'zh' : 'en';
  }

  SB.lang = detectLang();

  /** Translate `key`, replacing `{name}` with params.name. Falls back to English, then to the key. */
  SB.t = function (key, params) {
    let s = (DICT[SB.lang] && DICT[SB.lang][key]);
    if (s === undefined) s = DICT.en[key];
    if (s === undefined) s = key;
    if (params) {
      s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] === undefined || params[k] === null ? m : String(params[k])));
    }
    return s;
  };

  /** Translate if the dictionary knows the key, else return `fallback`. */
  SB.tOr = function (key, fallback) {
    const d = DICT[SB.lang] || {};
    if (d[key] !== undefined) return d[key];
    if (DICT.en[key] !== undefined) return DICT.en[key];
    return fallback;
  };

  /** Apply data-i18n* attributes below `root`. */
  SB.applyI18n = function (root) {
    root = root || document;
    root.querySelectorAll('[data-i18n]').forEach((n) => {
      n.textContent = SB.t(n.getAttribute('data-i18n'));
    });
    root.querySelectorAll('[data-i18n-placeholder]').forEach((n) => {
      n.setAttribute('placeholder', SB.t(n.getAttribute('data-i18n-placeholder')));
    });
    root.querySelectorAll('[data-i18n-title]').forEach((n) => {
      n.setAttribute('title', SB.t(n.getAttribute('data-i18n-title')));
    });
    root.querySelectorAll('[data-i18n-aria-label]').forEach((n) => {
      n.setAttribute('aria-label', SB.t(n.getAttribute('data-i18n-aria-label')));
    });
    if (root === document) {
      document.documentElement.lang = SB.lang === 'zh' ? 'zh-CN' : 'en';
      const tk = document.body && document.body.getAttribute('data-title');
      document.title = (tk ? SB.t(tk) + ' · ' : '') + SB.t('app.name');
    }
  };

  const langListeners = [];
  /** Call fn() after every language change (pages re-render dynamic text). */
  SB.onLang = function (fn) {
    langListeners.push(fn);
  };

  SB.setLang = function (lang) {
    if (lang !== 'zh' && lang !== 'en') return;
    SB.lang = lang;
    try {
      localStorage.setItem(LANG_KEY, lang);
    } catch (_) {
      /* ignore */
    }
    SB.applyI18n(document);
    document.querySelectorAll('select.lang-select').forEach((s) => {
      s.value = lang;
    });
    langListeners.forEach((fn) => {
      try {
        fn(lang);
      } catch (e) {
        console.error(e);
      }
    });
  };

  /** A <select> switching the language. */
  SB.langSelect = function () {
    const s = SB.el('select', { class: 'lang-select', id: 'lang-select', 'aria-label': SB.t('nav.language') },
      SB.el('option', { value: 'zh', text: '中文' }),
      SB.el('option', { value: 'en', text: 'English' }));
    s.value = SB.lang;
    s.addEventListener('change', () => SB.setLang(s.value));
    return s;
  };

  // ---------------------------------------------------------------- DOM

  SB.$ = (sel, root) => (root || document).querySelector(sel);
  SB.$$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  /**
   * Create an element. props: class, text, html is NOT supported on purpose;
   * dataset: {k: v}; on: {event: fn}; any other key becomes an attribute
   * (false/null/undefined skip it, true sets it empty). Children: nodes,
   * strings (text nodes), arrays, null (skipped).
   */
  SB.el = function (tag, props, ...children) {
    const n = tag === 'svg' || tag.startsWith('svg:')
      ? document.createElementNS('http://www.w3.org/2000/svg', tag.replace(/^svg:/, ''))
      : document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'text') n.textContent = String(v);
        else if (k === 'class') n.setAttribute('class', v);
        else if (k === 'style') n.style.cssText = v; // CSSOM: allowed by a strict CSP
        else if (k === 'dataset') Object.entries(v).forEach(([dk, dv]) => { n.dataset[dk] = dv; });
        else if (k === 'on') Object.entries(v).forEach(([ev, fn]) => n.addEventListener(ev, fn));
        else if (k === 'value') n.value = v;
        else if (k === 'checked') n.checked = !!v;
        else if (k === 'selected') n.selected = !!v;
        else n.setAttribute(k, v === true ? '' : String(v));
      }
    }
    appendChildren(n, children);
    return n;
  };

  function appendChildren(n, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) appendChildren(n, c);
      else if (c instanceof Node) n.appendChild(c);
      else n.appendChild(document.createTextNode(String(c)));
    }
  }

  SB.clear = function (n) {
    while (n && n.firstChild) n.removeChild(n.firstChild);
    return n;
  };

  /** Replace the children of n. */
  SB.fill = function (n, ...children) {
    SB.clear(n);
    appendChildren(n, children);
    return n;
  };

  SB.show = function (n, on) {
    if (!n) return;
    if (on) n.removeAttribute('hidden');
    else n.setAttribute('hidden', '');
  };

  /** Set textContent only when it changes (keeps selections and avoids layout work). */
  SB.setText = function (n, s) {
    if (!n) return;
    s = s === null || s === undefined ? '' : String(s);
    if (n.textContent !== s) n.textContent = s;
  };

  /** Fill a <select> with [{value, label}] keeping the current value when possible. */
  SB.setOptions = function (select, options, keep) {
    const prev = keep === undefined ? select.value : keep;
    SB.clear(select);
    for (const o of options) select.appendChild(SB.el('option', { value: String(o.value), text: o.label, disabled: o.disabled }));
    if (options.some((o) => String(o.value) === String(prev))) select.value = String(prev);
    return select;
  };

  // ---------------------------------------------------------------- time and formatting

  /** Offset (ms) to add to the local clock to get the server's clock. */
  SB.skew = 0;
  SB.now = () => Date.now() + SB.skew;

  /** Learn the server clock from a known server time received just now. */
  SB.syncClock = function (serverMs) {
    if (typeof serverMs !== 'number' || !isFinite(serverMs)) return;
    const d = serverMs - Date.now();
    // Only correct real skew; network delay is far below a second here.
    SB.skew = Math.abs(d) > 1500 ? d : 0;
  };

  function pad2(n) {
    return n < 10 ? '0' + n : String(n);
  }

  /** Seconds as m:ss or h:mm:ss ("—" for null). */
  SB.fmtDuration = function (sec) {
    if (sec === null || sec === undefined || !isFinite(sec)) return '—';
    sec = Math.max(0, Math.floor(sec));
    const h = Math.floor(sec / 3600);
    const m = Math.floor((sec % 3600) / 60);
    const s = sec % 60;
    return h > 0 ? h + ':' + pad2(m) + ':' + pad2(s) : m + ':' + pad2(s);
  };

  /** A fraction 0..1 as a percentage ("—" for null). */
  SB.fmtPct = function (f, digits) {
    if (f === null || f === undefined || !isFinite(f)) return '—';
    return (f * 100).toFixed(digits === undefined ? 1 : digits) + '%';
  };

  /** Seconds with one decimal and the unit. */
  SB.fmtSec = function (s) {
    if (s === null || s === undefined || !isFinite(s)) return '—';
    return (s < 100 ? s.toFixed(1) : Math.round(s).toString()) + ' ' + SB.t('unit.s');
  };

  SB.fmtNum = function (n) {
    if (n === null || n === undefined || n === '') return '—';
    if (typeof n === 'number') return isFinite(n) ? n.toLocaleString(SB.lang === 'zh' ? 'zh-CN' : 'en') : '—';
    return String(n);
  };

  SB.fmtTime = function (ms) {
    if (!ms && ms !== 0) return '—';
    const d = new Date(ms);
    return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
  };

  SB.fmtHm = function (ms) {
    const d = new Date(ms);
    return pad2(d.getHours()) + ':' + pad2(d.getMinutes());
  };

  SB.fmtDateTime = function (ms) {
    if (!ms && ms !== 0) return '—';
    const d = new Date(ms);
    return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' + SB.fmtTime(ms);
  };

  /** yyyy-mm-dd of a local date. */
  SB.isoDate = function (d) {
    return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate());
  };

  SB.stateLabel = (state) => SB.tOr('state.' + state, state || '—');
  SB.channelLabel = (ch) => SB.tOr('channel.' + ch, ch || '—');
  SB.roleLabel = (r) => SB.tOr('role.' + r, r || '—');

  /** Any JSON value as short readable text. */
  SB.plain = function (v) {
    if (v === null || v === undefined) return '—';
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    try {
      return JSON.stringify(v);
    } catch (_) {
      return String(v);
    }
  };

  /** A list answer: a bare array, or a page {items, next}, or {rows}. */
  SB.items = function (x) {
    if (Array.isArray(x)) return x;
    if (x && Array.isArray(x.items)) return x.items;
    if (x && Array.isArray(x.rows)) return x.rows;
    return [];
  };

  // ---------------------------------------------------------------- toasts

  SB.toast = function (message, kind) {
    let box = document.getElementById('toasts');
    if (!box) {
      box = SB.el('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
      document.body.appendChild(box);
    }
    const t = SB.el('div', { class: 'toast ' + (kind || 'info') }, String(message));
    box.appendChild(t);
    setTimeout(() => t.classList.add('fade'), kind === 'error' ? 6000 : 3000);
    setTimeout(() => t.remove(), kind === 'error' ? 6600 : 3600);
  };

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || code || 'HTTP ' + status);
      this.status = status;
      this.code = code;
    }
  }
  SB.ApiError = ApiError;

  /** The text to show for an error: the server's message, or a translated code. */
  SB.errorText = function (e) {
    if (!e) return SB.t('error.unknown');
    if (e instanceof ApiError) {
      if (e.message && e.message !== e.code) return e.message;
      return SB.tOr('error.' + e.code, e.code || SB.t('error.http', { status: e.status }));
    }
    if (e.name === 'TypeError') return SB.t('error.network');
    return e.message || String(e);
  };

  function goLogin() {
    if (location.pathname !== '/') location.href = '/';
  }
  SB.goLogin = goLogin;

  /**
   * Call the API. opts: method, body (JSON-encoded), raw (a string sent as
   * is, with contentType), quiet (no toast on error), noAuthRedirect.
   * Resolves with the parsed JSON (or text, or null for 204); rejects with
   * an ApiError carrying the server's {code, message}.
   */
  SB.api = async function (path, opts) {
    opts = opts || {};
    const init = { method: opts.method || 'GET', credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (opts.raw !== undefined) {
      init.body = opts.raw;
      init.headers['Content-Type'] = opts.contentType || 'text/plain';
    } else if (opts.body !== undefined) {
      init.body = JSON.stringify(opts.body);
      init.headers['Content-Type'] = 'application/json';
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      if (!opts.quiet) SB.toast(SB.t('error.network'), 'error');
      throw e;
    }
    const date = res.headers.get('Date');
    if (date) {
      const ms = Date.parse(date);
      if (isFinite(ms)) SB.syncClock(ms + 500);
    }
    if (res.status === 401 && !opts.noAuthRedirect) {
      goLogin();
      throw new ApiError(401, 'unauthenticated', SB.t('error.unauthenticated'));
    }
    if (res.status === 204) return null;
    const ct = res.headers.get('Content-Type') || '';
    let data = null;
    const text = await res.text();
    if (ct.includes('json') && text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        data = text;
      }
    } else {
      data = text;
    }
    if (!res.ok) {
      let code = 'http_' + res.status;
      let message = '';
      if (data && typeof data === 'object' && data.error) {
        code = data.error.code || code;
        message = data.error.message || '';
      } else if (typeof data === 'string' && data.length < 300) {
        message = data.trim();
      }
      const err = new ApiError(res.status, code, message);
      // The whole error object (a 422 lists its problems there).
      err.details = data && typeof data === 'object' && data.error ? data.error : null;
      if (!opts.quiet) SB.toast(SB.errorText(err), 'error');
      throw err;
    }
    return data;
  };

  SB.get = (path, opts) => SB.api(path, Object.assign({}, opts));
  SB.post = (path, body, opts) => SB.api(path, Object.assign({ method: 'POST', body: body }, opts));
  SB.put = (path, body, opts) => SB.api(path, Object.assign({ method: 'PUT', body: body }, opts));
  SB.del = (path, opts) => SB.api(path, Object.assign({ method: 'DELETE' }, opts));

  /** Build a query string from an object, skipping empty values. */
  SB.query = function (params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    }
    const s = q.toString();
    return s ? '?' + s : '';
  };

  // ---------------------------------------------------------------- live updates (SSE)

  /**
   * Open /api/stream and dispatch named events to handlers[name](data).
   * Reconnects with back-off (1 s … 30 s); after a reconnect handlers.hello
   * (or opts.onOpen) runs so the page can re-read a snapshot. A 401 while
   * reconnecting sends the user to the login page.
   */
  SB.stream = function (handlers, opts) {
    opts = opts || {};
    const url = opts.url || '/api/stream';
    let es = null;
    let delay = 1000;
    let timer = null;
    let stopped = false;
    let opened = 0;

    function status(s) {
      const dot = document.getElementById('live');
      if (dot) {
        dot.className = 'live ' + s;
        dot.dataset.status = s;
        dot.title = SB.t('live.' + s);
        const label = dot.querySelector('.live-label');
        if (label) label.textContent = SB.t('live.' + s);
      }
    }

    function connect() {
      timer = null;
      if (stopped) return;
      status('connecting');
      es = new EventSource(url, { withCredentials: true });
      es.onopen = () => {
        delay = 1000;
        status('live');
        opened += 1;
        if (opts.onOpen) opts.onOpen(opened > 1);
      };
      es.onerror = () => {
        if (stopped) return;
        status('reconnecting');
        if (es.readyState === EventSource.CLOSED) {
          // The browser gave up (e.g. a non-200 answer): check the session, retry.
          es = null;
          SB.api('/api/me', { quiet: true }).catch(() => { /* 401 redirects */ });
          timer = setTimeout(connect, delay);
          delay = Math.min(delay * 2, 30000);
        }
      };
      for (const [name, fn] of Object.entries(handlers)) {
        es.addEventListener(name, (ev) => {
          let data = null;
          try {
            data = ev.data ? JSON.parse(ev.data) : null;
          } catch (e) {
            console.warn('bad SSE data', name, ev.data);
            return;
          }
          try {
            fn(data);
          } catch (e) {
            console.error('SSE handler', name, e);
          }
        });
      }
    }

    connect();
    window.addEventListener('beforeunload', () => {
      stopped = true;
      if (es) es.close();
    });
    return {
      close() {
        stopped = true;
        if (timer) clearTimeout(timer);
        if (es) es.close();
      },
    };
  };

  // ---------------------------------------------------------------- navigation bar and boot

  const HOME = { agent: '/agent', supervisor: '/wallboard', admin: '/admin', planner: '/reports', qa: '/reports' };
  SB.home = (role) => HOME[role] || '/agent';

  const NAV = {
    agent: [['/agent', 'nav.agent']],
    supervisor: [['/wallboard', 'nav.wallboard'], ['/agent', 'nav.agent'], ['/reports', 'nav.reports']],
    admin: [['/admin', 'nav.admin'], ['/wallboard', 'nav.wallboard'], ['/reports', 'nav.reports']],
    planner: [['/reports', 'nav.reports'], ['/wallboard', 'nav.wallboard']],
    qa: [['/reports', 'nav.reports'], ['/wallboard', 'nav.wallboard']],
  };

  SB.logout = async function () {
    try {
      await SB.post('/api/logout', undefined, { quiet: true, noAuthRedirect: true });
    } catch (_) {
      /* signed out anyway */
    }
    location.href = '/';
  };

  function renderNav(me) {
    const nav = document.getElementById('nav');
    if (!nav) return;
    const user = me.user || {};
    const links = (NAV[user.role] || []).map(([href, key]) =>
      SB.el('a', { href: href, class: location.pathname === href ? 'active' : null, 'data-i18n': key }, SB.t(key)));
    const live = SB.el('span', { id: 'live', class: 'live connecting', dataset: { status: 'idle' } },
      SB.el('span', { class: 'dot' }), SB.el('span', { class: 'live-label' }, ''));
    const logout = SB.el('button', { id: 'btn-nav-logout', type: 'button', class: 'ghost', 'data-i18n': 'nav.logout' }, SB.t('nav.logout'));
    logout.addEventListener('click', SB.logout);
    SB.fill(nav,
      SB.el('a', { class: 'brand', href: SB.home(user.role) }, SB.el('span', { class: 'logo', 'aria-hidden': 'true' }), SB.el('span', { 'data-i18n': 'app.name' }, SB.t('app.name'))),
      SB.el('nav', { class: 'links' }, links),
      SB.el('div', { class: 'spacer' }),
      live,
      SB.el('span', { class: 'user', id: 'nav-user' },
        SB.el('span', { class: 'user-name' }, user.display_name || user.login || ''),
        SB.el('span', { class: 'role-tag', id: 'nav-role' }, SB.roleLabel(user.role))),
      SB.langSelect(),
      logout);
    // The indicator only appears on pages that open a stream.
    live.hidden = !SB.usesStream;
    SB.onLang(() => {
      SB.setText(document.getElementById('nav-role'), SB.roleLabel(user.role));
      const st = live.dataset.status;
      if (st && st !== 'idle') {
        live.title = SB.t('live.' + st);
        SB.setText(live.querySelector('.live-label'), SB.t('live.' + st));
      }
    });
  }

  /**
   * Start a page: translate, read /api/me, draw the navigation bar. Resolves
   * with the /api/me answer. `roles` lists who may use the page; anybody else
   * sees a notice with a link to their own start page.
   */
  SB.boot = async function (opts) {
    opts = opts || {};
    SB.usesStream = !!opts.stream;
    SB.applyI18n(document);
    let me;
    try {
      me = await SB.get('/api/me', { quiet: true });
    } catch (e) {
      if (e.status !== 401) showFatal(SB.errorText(e));
      throw e;
    }
    SB.me = me;
    renderNav(me);
    const role = me.user && me.user.role;
    if (opts.roles && !opts.roles.includes(role)) {
      showFatal(SB.t('error.pageForbidden'), SB.home(role));
      throw new Error('forbidden page');
    }
    return me;
  };

  function showFatal(message, link) {
    const main = document.querySelector('main') || document.body;
    SB.fill(main, SB.el('div', { class: 'card notice error-notice', id: 'fatal' },
      SB.el('p', null, message),
      link ? SB.el('a', { href: link, class: 'button' }, SB.t('nav.home')) : null));
  }
  SB.showFatal = showFatal;

  // ---------------------------------------------------------------- small widgets

  /** A <table> (thead from columns [{key,label,cls}]) — body rows are built by the caller. */
  SB.table = function (columns, opts) {
    opts = opts || {};
    return SB.el('table', { class: 'grid ' + (opts.class || ''), id: opts.id },
      SB.el('thead', null, SB.el('tr', null, columns.map((c) => SB.el('th', { class: c.cls, 'data-i18n': c.i18n }, c.label)))),
      SB.el('tbody', { id: opts.bodyId }));
  };

  /** A key/value list (<dl>) from [[label, value]] pairs; values are text. */
  SB.dl = function (pairs, cls) {
    return SB.el('dl', { class: 'kv ' + (cls || '') }, pairs.map(([k, v]) => [SB.el('dt', null, k), SB.el('dd', null, v === null || v === undefined || v === '' ? '—' : v)]));
  };

  /** Disable a button while an async action runs. */
  SB.busy = async function (button, fn) {
    if (button) button.disabled = true;
    try {
      return await fn();
    } finally {
      if (button) button.disabled = false;
    }
  };

  // ---------------------------------------------------------------- SVG chart

  const SVGNS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    const n = document.createElementNS(SVGNS, tag);
    if (attrs) for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = String(text);
    return n;
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  /**
   * Draw a chart into `container` (its content is replaced):
   *   labels: x labels; bars: [{label, values, cls}] (left axis, counts,
   *   grouped); lines: [{label, values, cls}] (right axis, fractions 0..1,
   *   null = gap). Series colours come from CSS classes (s1, s2, …).
   */
  SB.chart = function (container, spec) {
    const labels = spec.labels || [];
    const bars = spec.bars || [];
    const lines = spec.lines || [];
    // Draw at the container's own width so text keeps its size; redrawn on resize.
    container._sbChart = spec;
    const W = spec.width || Math.max(320, Math.round(container.clientWidth || 760));
    const H = spec.height || 260;
    const m = { l: bars.length ? 44 : 12, r: lines.length ? 48 : 12, t: 14, b: 42 };
    const pw = W - m.l - m.r;
    const ph = H - m.t - m.b;
    SB.clear(container);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', preserveAspectRatio: 'xMidYMid meet' });
    if (spec.title) root.appendChild(svg('title', null, spec.title));
    if (!labels.length) {
      root.appendChild(svg('text', { x: W / 2, y: H / 2, class: 'chart-empty', 'text-anchor': 'middle' }, SB.t('chart.noData')));
      container.appendChild(root);
      return root;
    }
    let maxBar = 0;
    bars.forEach((b) => b.values.forEach((v) => { if (v > maxBar) maxBar = v; }));
    const ymax = niceMax(maxBar);
    const n = labels.length;
    const slot = pw / n;
    const y = (v) => m.t + ph - (v / ymax) * ph;
    const yr = (f) => m.t + ph - Math.max(0, Math.min(1, f)) * ph;

    // grid and left axis
    const g = svg('g', { class: 'axis' });
    for (let i = 0; i <= 4; i++) {
      const v = (ymax * i) / 4;
      const yy = y(v);
      g.appendChild(svg('line', { x1: m.l, x2: m.l + pw, y1: yy, y2: yy, class: 'gridline' }));
      if (bars.length) g.appendChild(svg('text', { x: m.l - 6, y: yy + 4, 'text-anchor': 'end' }, Number.isInteger(v) ? v : v.toFixed(1)));
      if (lines.length) g.appendChild(svg('text', { x: m.l + pw + 6, y: yy + 4, 'text-anchor': 'start' }, i * 25 + '%'));
    }
    // x labels (at most ~16)
    const every = Math.max(1, Math.ceil(n / 16));
    labels.forEach((lab, i) => {
      if (i % every) return;
      g.appendChild(svg('text', { x: m.l + slot * i + slot / 2, y: m.t + ph + 16, 'text-anchor': 'middle' }, lab));
    });
    g.appendChild(svg('line', { x1: m.l, x2: m.l + pw, y1: m.t + ph, y2: m.t + ph, class: 'baseline' }));
    root.appendChild(g);

    // bars
    if (bars.length) {
      const inner = Math.min(slot * 0.8, 36 * bars.length);
      const bw = inner / bars.length;
      bars.forEach((b, bi) => {
        const gb = svg('g', { class: 'series bar ' + (b.cls || 's' + (bi + 1)) });
        b.values.forEach((v, i) => {
          if (!(v > 0)) return;
          const x = m.l + slot * i + (slot - inner) / 2 + bw * bi;
          const r = svg('rect', { x: x.toFixed(1), y: y(v).toFixed(1), width: Math.max(1, bw - 1).toFixed(1), height: (m.t + ph - y(v)).toFixed(1) });
          r.appendChild(svg('title', null, `${labels[i]} · ${b.label}: ${v}`));
          gb.appendChild(r);
        });
        root.appendChild(gb);
      });
    }
    // lines
    lines.forEach((ln, li) => {
      const gl = svg('g', { class: 'series line ' + (ln.cls || 'l' + (li + 1)) });
      let d = '';
      let pen = false;
      ln.values.forEach((f, i) => {
        if (f === null || f === undefined || !isFinite(f)) {
          pen = false;
          return;
        }
        const x = m.l + slot * i + slot / 2;
        d += (pen ? 'L' : 'M') + x.toFixed(1) + ' ' + yr(f).toFixed(1);
        pen = true;
        const c = svg('circle', { cx: x.toFixed(1), cy: yr(f).toFixed(1), r: 2.5 });
        c.appendChild(svg('title', null, `${labels[i]} · ${ln.label}: ${SB.fmtPct(f)}`));
        gl.appendChild(c);
      });
      gl.insertBefore(svg('path', { d: d, fill: 'none' }), gl.firstChild);
      root.appendChild(gl);
    });
    // legend (text width estimated: CJK glyphs are about twice as wide)
    const textW = (s) => Array.from(String(s)).reduce((w, ch) => w + (ch.charCodeAt(0) > 0x2e80 ? 12.5 : 7), 0);
    const lg = svg('g', { class: 'legend' });
    let lx = m.l;
    const ly = H - 8;
    bars.forEach((b, bi) => {
      const gi = svg('g', { class: 'series bar ' + (b.cls || 's' + (bi + 1)) });
      gi.appendChild(svg('rect', { x: lx, y: ly - 9, width: 10, height: 10 }));
      lg.appendChild(gi);
      lg.appendChild(svg('text', { x: lx + 14, y: ly }, b.label));
      lx += 26 + textW(b.label);
    });
    lines.forEach((ln, li) => {
      const gi = svg('g', { class: 'series line ' + (ln.cls || 'l' + (li + 1)) });
      gi.appendChild(svg('line', { x1: lx, x2: lx + 14, y1: ly - 4, y2: ly - 4 }));
      lg.appendChild(gi);
      lg.appendChild(svg('text', { x: lx + 18, y: ly }, ln.label));
      lx += 30 + textW(ln.label);
    });
    root.appendChild(lg);
    container.appendChild(root);
    return root;
  };

  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      document.querySelectorAll('.chart-box').forEach((c) => { if (c._sbChart) SB.chart(c, c._sbChart); });
    }, 150);
  });

  // ---------------------------------------------------------------- login page

  async function loginPage() {
    SB.applyI18n(document);
    const holder = document.getElementById('lang-holder');
    if (holder) SB.fill(holder, SB.langSelect());
    // Already signed in? Go to the start page.
    try {
      const me = await SB.get('/api/me', { quiet: true, noAuthRedirect: true });
      if (me && me.user) {
        location.replace(SB.home(me.user.role));
        return;
      }
    } catch (_) {
      /* not signed in */
    }
    const form = document.getElementById('login-form');
    const errBox = document.getElementById('login-error');
    const btn = document.getElementById('btn-signin');
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      SB.show(errBox, false);
      const login = form.login.value.trim();
      const password = form.password.value;
      if (!login || !password) {
        errBox.textContent = SB.t('login.missing');
        SB.show(errBox, true);
        return;
      }
      btn.disabled = true;
      try {
        const r = await SB.post('/api/login', { login, password }, { quiet: true, noAuthRedirect: true });
        const role = r && r.user && r.user.role;
        const next = new URLSearchParams(location.search).get('next');
        location.href = next && /^\/[a-z]+$/.test(next) ? next : SB.home(role);
      } catch (e) {
        let msg;
        if (e.code === 'bad_credentials' || e.status === 401) msg = SB.t('login.bad');
        else if (e.code === 'locked' || e.status === 423) msg = SB.t('login.locked') + (e.message ? ' (' + e.message + ')' : '');
        else msg = SB.errorText(e);
        errBox.textContent = msg;
        SB.show(errBox, true);
        form.password.value = '';
        form.password.focus();
      } finally {
        btn.disabled = false;
      }
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    if (document.body && document.body.dataset.page === 'login') loginPage();
  });
})();
