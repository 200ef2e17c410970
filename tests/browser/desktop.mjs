// The agent desktop and the wallboard in real Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core). Usage:
//   node desktop.mjs BASE_URL ARTIFACT_DIR
// against a server started with `switchboard demo` (users agent1, agent2,
// supervisor; password `switchboard`). Exits non-zero on any failure and
// leaves screenshots in ARTIFACT_DIR.
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

const failures = [];
let step = 'start';
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
  step = 'the wallboard saw agent2 handle it';
  await sup.locator('#agents tr[data-agent="2"]').waitFor({ timeout: T });
  await sup.screenshot({ path: `${shots}/wallboard-after.png`, fullPage: true });
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
