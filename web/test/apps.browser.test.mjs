// The security team's page (GET /apps, web/apps/) in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core), served by the real `microvet serve` with a
// SQLite inventory and a real OpenID provider (test/support/op.mjs): three apps are
// registered through POST /v1/apps and one is revoked; the page, given an API token, shows
// them in a table, filters by status, draws the 90-day timeline (expiries and recertify-by
// dates of the live apps, plain SVG), and opens an app's verdict and events; the page runs
// under its Content-Security-Policy. Then an admin drops an RFC 7591 export of the IdP's
// clients on the page (POST /v1/discover): a registered client with an added redirect URI is
// listed as drifted, an unknown one as unvetted and ownerless.
// Screenshots: web/test-results/apps.png, web/test-results/apps-discover.png.
// The binary: $MICROVET_BIN, else the newer of target/release/microvet and
// target/debug/microvet. $MICROVET_CHROMIUM overrides the browser; MICROVET_SKIP_BROWSER=1
// skips.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startProvider } from './support/op.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS = fileURLToPath(new URL('../test-results/', import.meta.url));
const CHROMIUM = process.env.MICROVET_CHROMIUM || '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];
const STEP_MS = 30_000;
const REGISTER = 'tok-page-register-5c1e';
const ADMIN = 'tok-page-admin-9a7b';
const EXAMPLE = readFileSync(new URL('../../examples/hr-onboarding-helper.yaml', import.meta.url), 'utf8');

function binary() {
  if (process.env.MICROVET_BIN) return process.env.MICROVET_BIN;
  const found = ['release', 'debug']
    .map((p) => join(REPO, 'target', p, 'microvet'))
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return found[0];
}

const BIN = binary();
const skip = process.env.MICROVET_SKIP_BROWSER === '1' ? 'MICROVET_SKIP_BROWSER=1' : false;
if (!skip) {
  if (!BIN) throw new Error('no microvet binary: cargo build -p microvet (or set MICROVET_BIN)');
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install -y chromium (or set MICROVET_CHROMIUM)`);
}

const sha = (s) => createHash('sha256').update(s).digest('hex');
let op;
let server;
let base;
let dir;
let browser;
let page;
const problems = [];
const clientIds = {};

async function startServer() {
  dir = mkdtempSync(join(tmpdir(), 'microvet-apps-'));
  writeFileSync(join(dir, 'tokens'), `page register ${sha(REGISTER)}\nsecurity admin ${sha(ADMIN)}\n`);
  writeFileSync(join(dir, 'iat'), `${op.iat}\n`, { mode: 0o600 });
  server = spawn(BIN, [
    'serve', '--listen', '127.0.0.1:0', '--web', join(REPO, 'web'),
    '--store', `sqlite:${join(dir, 'apps.db')}`, '--idp', op.issuer,
    '--idp-initial-access-token-file', join(dir, 'iat'), '--api-tokens', join(dir, 'tokens'),
    '--discover', '--log-level', 'warn',
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: server.stdout });
  for await (const line of lines) {
    const m = /^microvet: listening on (http:\/\/\S+)$/.exec(line);
    if (m) return m[1];
  }
  throw new Error('microvet serve did not start');
}

async function call(method, path, token, body) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/yaml' },
    body,
  });
  return { status: res.status, json: await res.json() };
}

before(async () => {
  if (skip) return;
  const iat = `iat-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 24)}`;
  op = await startProvider({ initialAccessToken: iat });
  op.iat = iat;
  base = await startServer();
  for (const name of ['hr-onboarding', 'payroll-export', 'desk-booking']) {
    const r = await call('POST', '/v1/apps', REGISTER, EXAMPLE.replace('name: hr-onboarding-helper', `name: ${name}`));
    assert.equal(r.status, 201, JSON.stringify(r.json));
    clientIds[name] = r.json.client_id;
  }
  const revoked = await call('POST', '/v1/apps/desk-booking/revoke', ADMIN);
  assert.equal(revoked.status, 200, JSON.stringify(revoked.json));

  const require = createRequire(new URL('../package.json', import.meta.url));
  const { chromium } = require('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, headless: true, timeout: STEP_MS });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(base)) problems.push(`request outside the server: ${r.url()}`);
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  server?.kill();
  await op?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the page asks for a token, then lists, filters, charts and opens the apps', { skip }, async () => {
  const nav = await page.goto(`${base}/apps`, { waitUntil: 'load' });
  const csp = nav.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /connect-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  await page.waitForFunction(() => document.querySelector('#message').textContent.includes('Paste an API token'));
  assert.equal(await page.isHidden('#inventory'), true);

  // A wrong token is refused and nothing is shown.
  await page.fill('#token', 'not-a-token');
  await page.click('#token-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#message').textContent.includes('refused'));
  assert.equal(await page.isHidden('#inventory'), true);

  await page.fill('#token', REGISTER);
  await page.click('#token-form button[type=submit]');
  await page.waitForSelector('#apps tbody tr');
  const rows = await page.$$eval('#apps tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(rows.map((r) => [r[0], r[1], r[2]]), [
    ['desk-booking', 'revoked', 'hr@example.com'],
    ['hr-onboarding', 'active', 'hr@example.com'],
    ['payroll-export', 'active', 'hr@example.com'],
  ]);
  assert.match(rows[1][3], /^approve/);
  assert.match(rows[1][5], /^\d{4}-\d{2}-\d{2}$/);
  // The token stays in this tab's sessionStorage, never in the URL or the page.
  assert.equal(await page.evaluate(() => sessionStorage.getItem('microvet.apiToken')), REGISTER);
  assert.equal((await page.content()).includes(REGISTER), false);

  // Timeline: the two live apps' expiries (60 days) and recertify-by dates (90 days); not the revoked one.
  const marks = await page.$$eval('#timeline [data-app]', (els) => els.map((e) => `${e.dataset.app}:${e.dataset.kind}`).sort());
  assert.deepEqual(marks, [
    'hr-onboarding:expiry', 'hr-onboarding:recertify', 'payroll-export:expiry', 'payroll-export:recertify',
  ]);

  // Filter by status.
  await page.selectOption('#status-filter', 'revoked');
  assert.deepEqual(await page.$$eval('#apps tbody tr', (trs) => trs.map((tr) => tr.dataset.name)), ['desk-booking']);
  await page.selectOption('#status-filter', 'active');
  assert.equal(await page.$$eval('#apps tbody tr', (trs) => trs.length), 2);
  assert.equal(await page.$$eval('#timeline [data-app]', (els) => els.length), 4);
  await page.selectOption('#status-filter', '');

  // An app's verdict and events.
  await page.click('#apps a[href="#app=hr-onboarding"]');
  await page.waitForFunction(() => !document.querySelector('#detail').hidden
    && document.querySelector('#detail-title').textContent === 'hr-onboarding');
  const events = await page.$$eval('#detail-events tbody tr', (trs) => trs.map((tr) => tr.cells[1].textContent));
  assert.deepEqual(events, ['registered']);
  assert.ok((await page.$$eval('#detail-findings li', (lis) => lis.length)) > 0);

  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: join(RESULTS, 'apps.png'), fullPage: true });
  assert.deepEqual(problems.filter((p) => !p.includes('401')), []);
});

test('an admin drops the IdP export on the page and sees each client under its label', { skip }, async () => {
  // The IdP's clients as RFC 7591 client information: the registered hr-onboarding client
  // with one redirect URI added after approval, and a client nobody registered.
  const exportFile = join(dir, 'clients.json');
  writeFileSync(exportFile, JSON.stringify([
    {
      client_id: clientIds['hr-onboarding'],
      client_name: 'hr-onboarding',
      application_type: 'web',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['https://apps.example.com/hr-onboarding/callback', 'https://collector.example.net/cb'],
      scope: 'openid profile hr.read_only',
    },
    {
      client_id: 'shadow-sheet-sync',
      client_name: 'sheet sync',
      grant_types: ['authorization_code'],
      redirect_uris: ['https://sheets.example.org/oauth'],
      token_endpoint_auth_method: 'client_secret_basic',
      client_secret: 'export-secret-value-1234567890',
    },
  ]));

  // Load the page with `token`, then drop the export on the discovery form.
  const discoverAs = async (token) => {
    await page.fill('#token', token);
    await page.click('#token-form button[type=submit]');
    await page.waitForSelector('#discover:not([hidden])');
    await page.selectOption('#discover-format', 'rfc7591');
    await page.setInputFiles('#discover-file', exportFile);
    await page.click('#discover-form button[type=submit]');
  };

  // A register token may read the inventory but not discover.
  await discoverAs(REGISTER);
  await page.waitForFunction(() => document.querySelector('#discover-summary').textContent.includes('failed'));
  assert.match(await page.textContent('#discover-summary'), /needs `admin`/);

  await discoverAs(ADMIN);
  await page.waitForSelector('table.discovered');
  const tables = await page.$$eval('table.discovered', (ts) => ts.map((t) => ({
    label: t.dataset.label,
    rows: [...t.tBodies[0].rows].map((tr) => ({ client: tr.dataset.client, cells: [...tr.cells].map((c) => c.textContent) })),
  })));
  assert.deepEqual(tables.map((t) => t.label), ['drifted', 'unvetted', 'ownerless']);
  const [drifted, unvetted, ownerless] = tables;
  assert.deepEqual(drifted.rows.map((r) => r.client), [clientIds['hr-onboarding']]);
  assert.match(drifted.rows[0].cells[4], /redirect_uris added https:\/\/collector\.example\.net\/cb/);
  assert.deepEqual(unvetted.rows.map((r) => r.client), ['shadow-sheet-sync']);
  assert.deepEqual(ownerless.rows.map((r) => r.client), ['shadow-sheet-sync']);
  assert.match(await page.textContent('#discover-summary'), /^2 clients: 1 drifted, 1 unvetted, 1 ownerless, 0 built-in, 0 approved\.$/);
  // The export's secret is not echoed anywhere on the page.
  assert.equal((await page.content()).includes('export-secret-value'), false);

  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: join(RESULTS, 'apps-discover.png'), fullPage: true });
  assert.deepEqual(problems.filter((p) => !p.includes('401') && !p.includes('403')), []);
});
