// The agent desktop, the wallboard, the telephony administration (status,
// settings, IVR flows) and the call and survey reports in real Chromium
// (Debian's /usr/bin/chromium, driven by playwright-core). Usage:
//   node desktop.mjs BASE_URL ARTIFACT_DIR
// against a server started with `switchboard demo --sip 127.0.0.1:0` (users
// agent1, agent2, supervisor, admin; password `switchboard`). Exits non-zero
// on any failure and leaves screenshots in ARTIFACT_DIR.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error('usage: node desktop.mjs BASE_URL ARTIFACT_DIR');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const PASSWORD = 'switchboard';
const T = 15000;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function api(method, path, token, body) {
  const r = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function signIn(login, lang) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: lang });
  const page = await context.newPage();
  page.on('pageerror', (e) => { console.error(`[${login}] page error:`, e.message); failures.push(e.message); });
  await page.goto(base + '/');
  await page.fill('#login', login);
  await page.fill('#password', PASSWORD);
  await page.click('#btn-signin');
  return page;
}

/** A full-page screenshot from the top (the sticky bar stays at the top). */
async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

const failures = [];
let step = 'start';
let adminTok = null;
const adminToken = () => adminTok;
try {
  step = 'sign in';
  const a1 = await signIn('agent1', 'en-US');
  const a2 = await signIn('agent2', 'zh-CN');
  const sup = await signIn('supervisor', 'en-US');
  await a1.waitForURL('**/agent', { timeout: T });
  await a2.waitForURL('**/agent', { timeout: T });
  await sup.waitForURL('**/wallboard', { timeout: T });

  // After login an agent is ready (R-CALL-2); agent2 takes a break at once.
  step = 'agent2 logs in and goes not ready';
  await a2.click('#btn-login');
  await a2.locator('#state[data-state="ready"]').waitFor({ timeout: T });
  await a2.selectOption('#notready-reason', 'break');
  await a2.click('#btn-notready');
  await a2.locator('#state[data-state="not-ready"]').waitFor({ timeout: T });
  step = 'agent1 logs in (ready)';
  await a1.click('#btn-login');
  await a1.locator('#state[data-state="ready"]').waitFor({ timeout: T });

  step = 'a contact with a known caller is injected';
  const supToken = (await api('POST', '/api/login', null, { login: 'supervisor', password: PASSWORD })).token;
  const customer = await api('GET', '/api/customers/cust-0007', supToken);
  const created = await api('POST', '/api/contacts', supToken, { queue: 1, caller: customer.phones[0], problem_type: 'invoice' });
  if (created.customer_id !== 'cust-0007') throw new Error(`caller not identified: ${JSON.stringify(created)}`);

  step = 'the offer shows the customer before accepting';
  await a1.locator('#offer').waitFor({ state: 'visible', timeout: T });
  await a1.locator('#pop-customer-name', { hasText: customer.name }).waitFor({ timeout: T });
  await a1.screenshot({ path: `${shots}/agent-offer.png`, fullPage: true });

  step = 'accept';
  await a1.click('#btn-accept');
  await a1.locator('#btn-hangup').waitFor({ state: 'visible', timeout: T });

  step = 'the wallboard shows agent1 busy without a reload';
  await sup.locator('#agents tr[data-agent="1"] .state', { hasText: /busy/i }).waitFor({ timeout: T });
  await sup.screenshot({ path: `${shots}/wallboard.png`, fullPage: true });

  step = 'transfer to the Support queue';
  await a1.selectOption('#transfer-kind', 'queue');
  await a1.selectOption('#transfer-target', '2');
  await a1.click('#btn-transfer');
  await a1.locator('#wrapup-form').waitFor({ state: 'visible', timeout: T });

  step = 'agent2 goes ready and accepts the transferred contact';
  await a2.locator('#btn-ready:not([disabled])').waitFor({ timeout: T });
  await a2.click('#btn-ready');
  await a2.locator('#offer').waitFor({ state: 'visible', timeout: T });
  await a2.locator('#pop-customer-name', { hasText: customer.name }).waitFor({ timeout: T });
  await a2.click('#btn-accept');
  await a2.locator('#btn-hangup').waitFor({ state: 'visible', timeout: T });
  await a2.screenshot({ path: `${shots}/agent-zh-connected.png`, fullPage: true });

  step = 'agent2 hangs up and wraps up with a disposition';
  await a2.click('#btn-hangup');
  await a2.locator('#wrapup-form').waitFor({ state: 'visible', timeout: T });
  await a2.selectOption('#wrapup-disposition', 'resolved');
  await a2.fill('#wrapup-notes', 'invoice re-sent');
  await a2.click('#btn-wrapup-submit');
  await a2.locator('#wrapup-form').waitFor({ state: 'hidden', timeout: T });
  await a2.screenshot({ path: `${shots}/agent-zh-after-wrapup.png`, fullPage: true });

  step = 'the wrap-up is in the customer history';
  let rec = null;
  for (let i = 0; i < 50 && !rec; i++) {
    const h = await api('GET', '/api/customers/cust-0007/history', supToken);
    rec = h.find((r) => r.contact === created.contact && r.wrap_up && r.ended_at);
    if (!rec) await new Promise((r) => setTimeout(r, 100));
  }
  if (!rec || rec.wrap_up.disposition !== 'resolved' || rec.agent !== 2) {
    throw new Error(`history record wrong: ${JSON.stringify(rec)}`);
  }
  step = 'a voicemail contact offers its message on the desktop';
  const vm = await api('POST', '/api/contacts', supToken,
    { queue: 3, channel: 'callback', caller: customer.phones[0], attributes: { voicemail: 'vm-browser-test' } });
  const vmPage = await Promise.any([a1, a2].map(async (p) => {
    await p.locator('#offer #btn-voicemail').waitFor({ state: 'visible', timeout: T });
    return p;
  }));
  await vmPage.click('#btn-voicemail');
  await vmPage.locator('#pop-voicemail audio[src="/api/voice/calls/vm-browser-test/voicemail"]').waitFor({ state: 'attached', timeout: T });
  await vmPage.screenshot({ path: `${shots}/agent-voicemail.png`, fullPage: true });
  await api('POST', `/api/contacts/${vm.contact}/abandon`, supToken);
  await vmPage.locator('#offer').waitFor({ state: 'hidden', timeout: T });

  step = 'consulted transfer: agent1 talks to agent2 first, then hands the customer over';
  // agent1 is still wrapping up the contact transferred at the start.
  if (await a1.locator('#wrapup-form').isVisible()) {
    await a1.selectOption('#wrapup-disposition', 'resolved');
    await a1.click('#btn-wrapup-submit');
  }
  await a1.locator('#state[data-state="ready"]').waitFor({ timeout: T });
  await a2.locator('#btn-notready:not([disabled])').waitFor({ timeout: T });
  await a2.selectOption('#notready-reason', 'break');
  await a2.click('#btn-notready');
  await a2.locator('#state[data-state="not-ready"]').waitFor({ timeout: T });
  // Another customer: customer 7's last agent is now agent2, whom sticky
  // routing would wait for.
  const other = await api('GET', '/api/customers/cust-0009', supToken);
  const second = await api('POST', '/api/contacts', supToken, { queue: 1, caller: other.phones[0] });
  await a1.locator('#offer').waitFor({ state: 'visible', timeout: T });
  await a1.click('#btn-accept');
  await a1.locator('#btn-hangup').waitFor({ state: 'visible', timeout: T });
  await a2.click('#btn-ready');
  await a2.locator('#state[data-state="ready"]').waitFor({ timeout: T });
  await a1.selectOption('#transfer-kind', 'consult');
  await a1.selectOption('#transfer-target', '2');
  await a1.click('#btn-transfer');
  await a1.locator('#consult-bar #consult-status', { hasText: /Calling/ }).waitFor({ timeout: T });
  await a2.locator('#offer #offer-title', { hasText: '咨询' }).waitFor({ timeout: T });
  await a2.locator('#pop-customer-name', { hasText: other.name }).waitFor({ timeout: T });
  await a2.screenshot({ path: `${shots}/agent-zh-consult-ringing.png`, fullPage: true });
  await a2.click('#btn-accept');
  await a2.locator('#consult-bar #btn-consult-cancel', { hasText: '结束咨询' }).waitFor({ timeout: T });
  await a1.locator('#btn-consult-complete:not([disabled])').waitFor({ timeout: T });
  await a1.screenshot({ path: `${shots}/agent-consulting.png`, fullPage: true });
  await a1.click('#btn-consult-complete');
  await a1.locator('#wrapup-form').waitFor({ state: 'visible', timeout: T });
  await a2.locator('#btn-hangup').waitFor({ state: 'visible', timeout: T });
  await a2.click('#btn-hangup');
  await a2.locator('#wrapup-form').waitFor({ state: 'visible', timeout: T });
  await a2.selectOption('#wrapup-disposition', 'resolved');
  await a2.click('#btn-wrapup-submit');
  await a2.locator('#wrapup-form').waitFor({ state: 'hidden', timeout: T });
  let taken = null;
  for (let i = 0; i < 50 && !taken; i++) {
    const h = await api('GET', '/api/customers/cust-0009/history', supToken);
    taken = h.find((r) => r.contact === second.contact && r.wrap_up && r.ended_at);
    if (!taken) await new Promise((r) => setTimeout(r, 100));
  }
  if (!taken || taken.agent !== 2) throw new Error(`consulted transfer not recorded with agent 2: ${JSON.stringify(taken)}`);

  step = 'the wallboard saw agent2 handle it';
  await sup.locator('#agents tr[data-agent="2"]').waitFor({ timeout: T });
  await sup.screenshot({ path: `${shots}/wallboard-after.png`, fullPage: true });

  // ---------------------------------------------------------------- telephony administration
  step = 'admin opens the Telephony tab';
  adminTok = (await api('POST', '/api/login', null, { login: 'admin', password: PASSWORD })).token;
  const adm = await signIn('admin', 'en-US');
  await adm.waitForURL('**/admin', { timeout: T });
  await adm.click('#admin-tabs a[data-tab="telephony"]');
  await adm.locator('#voice-sip', { hasText: /^127\.0\.0\.1:\d+$/ }).waitFor({ timeout: T });
  await adm.locator('#voice-devices .dev-user').nth(1).waitFor({ timeout: T });
  const devUsers = await adm.$$eval('#voice-devices .dev-user', (xs) => xs.map((x) => x.value));
  if (!devUsers.includes('agent1') || !devUsers.includes('agent2')) throw new Error(`demo phones not listed: ${devUsers}`);
  await adm.locator('#voice-registered-body tr[data-device="agent1"]').waitFor({ timeout: T });
  // Each phone's registration: contact, time left, user agent.
  const regCells = await adm.locator('#voice-registered-body tr[data-device="agent1"] td').count();
  if (regCells !== 5) throw new Error(`registration row has ${regCells} cells`);
  await shot(adm, 'admin-telephony');

  step = 'invalid telephony settings show every problem and keep the form';
  await adm.fill('#voice-announce-every', '20');
  await adm.click('#btn-device-add');
  await adm.locator('#voice-devices .device-row').nth(2).locator('.dev-user').fill('bad user');
  await adm.locator('#voice-devices .device-row').nth(2).locator('.dev-password').fill('1');
  await adm.click('#btn-voice-save');
  await adm.locator('#voice-error li').nth(1).waitFor({ timeout: T });
  const voiceProblems = await adm.$$eval('#voice-error li', (xs) => xs.map((x) => x.textContent));
  if (!voiceProblems.some((p) => p.includes('bad user')) || !voiceProblems.some((p) => p.includes('password'))
    || !voiceProblems.some((p) => p.includes('devices[2]'))) {
    throw new Error(`settings problems not shown: ${JSON.stringify(voiceProblems)}`);
  }
  if (await adm.inputValue('#voice-announce-every') !== '20') throw new Error('the form lost an edit after a refusal');
  await shot(adm, 'admin-telephony-problems');

  step = 'valid telephony settings are saved and persist';
  await adm.locator('#voice-devices .device-row').nth(2).locator('button').click();
  const [putSettings] = await Promise.all([
    adm.waitForResponse((r) => r.url().endsWith('/api/voice/settings') && r.request().method() === 'PUT', { timeout: T }),
    adm.click('#btn-voice-save'),
  ]);
  if (putSettings.status() !== 200) throw new Error(`PUT /api/voice/settings: ${putSettings.status()} ${await putSettings.text()}`);
  await adm.locator('#voice-error').waitFor({ state: 'hidden', timeout: T });
  await adm.reload();
  await adm.locator('#voice-devices .dev-user').nth(1).waitFor({ timeout: T });
  await adm.waitForFunction(() => document.querySelector('#voice-announce-every').value === '20', null, { timeout: T });

  step = 'admin opens the IVR flows tab';
  await adm.click('#admin-tabs a[data-tab="ivr"]');
  await adm.locator('#ivr-flows-body tr[data-flow="main"]', { hasText: 'v1' }).waitFor({ timeout: T });
  await adm.locator('#ivr-nodes-body tr[data-node="main"]').waitFor({ timeout: T });
  const nodeCount = await adm.locator('#ivr-nodes-body tr[data-node]').count();
  if (nodeCount < 10) throw new Error(`flow main shows ${nodeCount} nodes`);
  await shot(adm, 'admin-ivr');

  step = 'an invalid flow edit shows the problem on its node';
  await adm.click('#ivr-nodes-body tr[data-node="main"] td.node-id');
  await adm.locator('#ivr-editor-title', { hasText: 'main' }).waitFor({ timeout: T });
  const mainNode = JSON.parse(await adm.inputValue('#ivr-json'));
  if (mainNode.type !== 'menu') throw new Error(`node main is ${mainNode.type}`);
  mainNode.options['5'] = 'nowhere';
  await adm.fill('#ivr-json', JSON.stringify(mainNode, null, 2));
  await adm.click('#btn-ivr-save');
  await adm.locator('#ivr-error li', { hasText: 'nowhere' }).waitFor({ timeout: T });
  await adm.locator('#ivr-nodes-body tr.has-problem[data-node="main"]').waitFor({ timeout: T });
  await shot(adm, 'admin-ivr-problem');

  step = 'a valid flow edit creates version 2';
  mainNode.options['5'] = 'sales';
  await adm.fill('#ivr-json', JSON.stringify(mainNode, null, 2));
  await adm.click('#btn-ivr-save');
  await adm.locator('#ivr-flows-body tr[data-flow="main"]', { hasText: 'v2' }).waitFor({ timeout: T });
  await adm.waitForFunction(() => document.querySelector('#ivr-version').value === '2', null, { timeout: T });
  await adm.locator('#ivr-error').waitFor({ state: 'hidden', timeout: T });
  const saved2 = await api('GET', '/api/voice/flows/main?version=2', adminToken());
  if (saved2.nodes.main.options['5'] !== 'sales') throw new Error(`version 2 wrong: ${JSON.stringify(saved2.nodes.main)}`);
  await adm.locator('#ivr-nodes-body tr[data-node="main"] button.target', { hasText: 'sales' }).first().waitFor({ timeout: T });

  step = 'per-node statistics render (answer stubbed in the browser)';
  const stat = (node, kind, entered, dropped, outcomes, mean) => ({ version: 2, node, kind, entered, dropped, outcomes, timed: entered, total_ms: mean * entered, mean_ms: mean });
  await adm.route((u) => u.pathname === '/api/reports/ivr/main', (r) => r.fulfill({ json: [
    stat('welcome', 'play', 40, 2, { next: 38, dropped: 2 }, 4200),
    stat('hours', 'hours', 38, 0, { open: 35, closed: 3 }, 2),
    stat('main', 'menu', 47, 4, { 'chose:1': 12, 'chose:2': 15, 'chose:4': 6, 'chose:0': 5, 'failed:timeout': 3, dropped: 4, 'chose:9': 2 }, 6100),
    { ...stat('main', 'menu', 9, 1, { 'chose:1': 8, dropped: 1 }, 5000), version: 1 }, // another version: not shown
  ] }));
  await adm.selectOption('#ivr-stats-range', '30');
  await adm.locator('#ivr-nodes-body tr[data-node="main"] td.num', { hasText: '47' }).waitFor({ timeout: T });
  await shot(adm, 'admin-ivr-stats-sample');
  await adm.unrouteAll({ behavior: 'ignoreErrors' });
  await adm.selectOption('#ivr-stats-range', '0');

  step = 'the diagram, the outline and an old version (read-only)';
  await adm.click('#ivr-view-diagram');
  await adm.locator('#ivr-diagram g.node.start[data-node="welcome"]').waitFor({ timeout: T });
  await adm.click('#ivr-diagram g.node[data-node="account"]');
  await adm.locator('#ivr-editor-title', { hasText: 'account' }).waitFor({ timeout: T });
  await adm.locator('#ivr-diagram g.node.selected[data-node="account"]').waitFor({ timeout: T });
  await adm.$eval('#ivr-diagram', (d) => { d.scrollLeft = 0; });
  await shot(adm, 'admin-ivr-diagram');
  await adm.click('#ivr-view-tree');
  await adm.locator('#ivr-tree button[data-node="welcome"]').waitFor({ timeout: T });
  await shot(adm, 'admin-ivr-outline');
  await adm.click('#ivr-view-list');
  await adm.selectOption('#ivr-version', '1');
  await adm.locator('#ivr-mode', { hasText: /read-only/ }).waitFor({ timeout: T });
  if (!(await adm.$eval('#ivr-json', (x) => x.readOnly))) throw new Error('old version is editable');
  if (!(await adm.$eval('#btn-ivr-save', (x) => x.disabled))) throw new Error('old version can be saved');

  step = 'a new flow starts as a copy and is saved as its version 1';
  await adm.selectOption('#ivr-version', '2');
  await adm.locator('#ivr-mode', { hasText: /editable/ }).waitFor({ timeout: T });
  await adm.fill('#ivr-new-name', 'night');
  await adm.click('#btn-ivr-new');
  await adm.locator('#ivr-flows-body tr[data-flow="night"]', { hasText: /not saved/ }).waitFor({ timeout: T });
  await adm.click('#ivr-scope-flow');
  const whole = JSON.parse(await adm.inputValue('#ivr-json'));
  if (whole.name !== 'night' || !whole.nodes || !whole.nodes.main) throw new Error(`the copy is wrong: ${Object.keys(whole)}`);
  whole.start = 'closed';
  await adm.fill('#ivr-json', JSON.stringify(whole, null, 2));
  await adm.click('#btn-ivr-save');
  // Starting at "closed" leaves most nodes unreachable: refused, with the nodes named.
  await adm.locator('#ivr-error li', { hasText: 'no path from the start' }).first().waitFor({ timeout: T });
  whole.start = 'welcome';
  await adm.fill('#ivr-json', JSON.stringify(whole, null, 2));
  await adm.click('#btn-ivr-save');
  await adm.locator('#ivr-flows-body tr[data-flow="night"]', { hasText: 'v1' }).waitFor({ timeout: T });
  await adm.click('#ivr-scope-node');
  await adm.click('#ivr-flows-body tr[data-flow="main"]');
  await adm.locator('#ivr-title', { hasText: 'main' }).waitFor({ timeout: T });

  step = 'the IVR tab in Chinese';
  await adm.locator('#ivr-mode', { hasText: /editable/ }).waitFor({ timeout: T });
  await adm.selectOption('#lang-select', 'zh');
  await adm.locator('#admin-tabs a[data-tab="ivr"]', { hasText: '语音导航' }).waitFor({ timeout: T });
  await adm.locator('#ivr-nodes-body tr[data-node="main"] button.target', { hasText: '按键 1' }).waitFor({ timeout: T });
  await shot(adm, 'admin-ivr-zh');
  await adm.click('#admin-tabs a[data-tab="telephony"]');
  await adm.locator('#voice-devices .dev-user').nth(1).waitFor({ timeout: T });
  await shot(adm, 'admin-telephony-zh');
  await adm.selectOption('#lang-select', 'en');

  // ---------------------------------------------------------------- calls and survey reports
  step = 'the reports page shows the Calls and Survey sections';
  await adm.goto(base + '/reports');
  await adm.locator('#calls-body tr').first().waitFor({ timeout: T });
  await adm.locator('#survey-body tr').first().waitFor({ timeout: T });
  await adm.locator('#calls-card h2', { hasText: 'Calls' }).waitFor({ timeout: T });
  await shot(adm, 'reports-calls-survey');

  step = 'calls and survey render sample data (answers stubbed in the browser)';
  const t0 = Date.now() - 3600e3;
  const leg = (name, loss, jitter, oneWay) => ({ leg: name, rx_packets: 3000, rx_lost: Math.round(30 * loss), loss_percent: loss, jitter_ms: jitter, max_gap_ms: 80, tx_packets: 3000, rx_level_dbfs: -24, voiced_frames: 1200, one_way: oneWay });
  const sampleCalls = [
    { call: 'c-2', contact: 12, direction: 'inbound', caller: '13800138000', callee: '100', started_at: t0 + 600e3, answered_at: t0 + 640e3, ended_at: t0 + 820e3, end_reason: 'agent-hangup', agent: 1, recording: '/x.wav', recording_ms: 180000, quality: { legs: [leg('caller', 0.4, 6, false), leg('agent', 6.5, 41, true)], announcements: [] }, voicemail: null },
    { call: 'c-1', contact: null, direction: 'inbound', caller: 'sip:bob@example.com', callee: '100', started_at: t0, answered_at: null, ended_at: t0 + 95e3, end_reason: 'voicemail', agent: null, recording: null, recording_ms: null, quality: { legs: [leg('caller', 0, 3, false)], announcements: [] }, voicemail: '/vm.wav' },
  ];
  // A full first page (25), so that "older" asks for the next one (stubbed empty).
  for (let i = 1; sampleCalls.length < 25; i++) {
    sampleCalls.push({ call: `f-${i}`, contact: 100 + i, direction: 'inbound', caller: `1390000${String(i).padStart(4, '0')}`, callee: '100', started_at: t0 - i * 600e3, answered_at: t0 - i * 600e3 + 20e3, ended_at: t0 - i * 600e3 + 200e3, end_reason: 'caller-hangup', agent: 2, recording: null, recording_ms: null, quality: null, voicemail: null });
  }
  const sampleSurvey = [
    { agent: 1, queue: 2, question: 'agent', question_text: 'How satisfied were you with the agent?', count: 10, mean: 4.1, scores: [0, 1, 1, 4, 4] },
    // A question since deleted from the settings: its id.
    { agent: 1, queue: 2, question: 'solved', question_text: 'solved', count: 10, mean: 1.2, scores: [8, 2, 0, 0, 0] },
  ];
  const sampleIvr = [
    { start: t0, end: t0 + 900e3, version: 1, node: 'main', kind: 'menu', entered: 12, dropped: 3, outcomes: { 'chose:1': 9, dropped: 3 }, timed: 12, total_ms: 96000, mean_ms: 8000 },
  ];
  // 0.2 s of a quiet tone as a WAV file for the player.
  const rate = 8000, n = 1600, wav = Buffer.alloc(44 + n * 2);
  wav.write('RIFF', 0); wav.writeUInt32LE(36 + n * 2, 4); wav.write('WAVEfmt ', 8); wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); wav.writeUInt16LE(1, 22); wav.writeUInt32LE(rate, 24); wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32); wav.writeUInt16LE(16, 34); wav.write('data', 36); wav.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) wav.writeInt16LE(Math.round(2000 * Math.sin(i / 4)), 44 + i * 2);
  await adm.route((u) => u.pathname === '/api/voice/calls', (r) => r.fulfill({ json: new URL(r.request().url()).searchParams.has('before') ? [] : sampleCalls }));
  await adm.route((u) => u.pathname === '/api/voice/calls/c-2/recording', (r) => r.fulfill({ body: wav, contentType: 'audio/wav' }));
  await adm.route((u) => u.pathname === '/api/reports/surveys', (r) => r.fulfill({ json: sampleSurvey }));
  await adm.route((u) => u.pathname === '/api/reports/ivr/main/intervals', (r) => r.fulfill({ json: sampleIvr }));
  await adm.reload();
  await adm.locator('#calls-body tr[data-call="c-2"] .one-way').waitFor({ timeout: T });
  await adm.locator('#survey-body .dist .d5').first().waitFor({ timeout: T });
  await adm.locator('#survey-body td.question-text', { hasText: 'How satisfied' }).waitFor({ timeout: T });
  await adm.locator('#survey-body td.mono', { hasText: 'solved' }).waitFor({ timeout: T });
  if (!(await adm.getAttribute('#survey-csv', 'href')).includes('format=csv')) throw new Error('no survey CSV link');
  await adm.click('#btn-ivr');
  await adm.locator('#ivr-body tr', { hasText: 'main' }).waitFor({ timeout: T });
  if (!(await adm.getAttribute('#ivr-intervals-csv', 'href')).includes('/api/reports/ivr/main/intervals')) throw new Error('no IVR CSV link');
  await adm.click('#btn-calls-older');
  await adm.locator('#btn-calls-older[disabled]').waitFor({ timeout: T });
  if (await adm.locator('#calls-body tr[data-call]').count() !== 25) throw new Error('the calls page is wrong after "older"');
  await adm.click('#calls-body tr[data-call="c-2"] button.play');
  await adm.locator('#calls-body tr.player-row audio').waitFor({ timeout: T });
  await adm.waitForFunction(() => document.querySelector('#calls-body tr.player-row audio').readyState >= 1, null, { timeout: T });
  await shot(adm, 'reports-calls-survey-sample');
  await adm.unrouteAll({ behavior: 'ignoreErrors' });
  if (failures.length) throw new Error(`page errors: ${failures.join('; ')}`);
  console.log(`browser test passed; screenshots in ${shots}`);
} catch (e) {
  console.error(`browser test failed at "${step}": ${e.message}`);
  for (const [i, ctx] of browser.contexts().entries()) {
    for (const p of ctx.pages()) await p.screenshot({ path: `${shots}/failure-${i}.png`, fullPage: true }).catch(() => {});
  }
  await browser.close();
  process.exit(1);
}
await browser.close();
