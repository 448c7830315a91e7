// Parity, browser side: headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser download) loads tests/parity/browser.html from a local static
// server. The page imports web/src/index.js with a plain <script type="module"> (no bundler,
// no import map) under a strict CSP, vets every corpus case (with its waivers file, on its
// day, when it has them), and this test compares each output with expected.json byte for byte.
//   cd web && npm run build && node --test ../tests/parity/browser.test.mjs
// $MICROVET_CHROMIUM overrides the browser path; MICROVET_SKIP_BROWSER=1 skips (loudly).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { firstDifference, listCases, sameBytes } from './parity-lib.mjs';
import { serve } from './static-server.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.MICROVET_CHROMIUM || '/usr/bin/chromium';
const LAUNCH_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];
const STEP_MS = 30_000;
const MIN_CASES = 12;
const APPENDIX_B = {
  verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
  challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
};

const skip = process.env.MICROVET_SKIP_BROWSER === '1' ? 'MICROVET_SKIP_BROWSER=1' : false;

if (!skip) {
  if (!existsSync(new URL('../../web/dist/component/microvet.js', import.meta.url))) {
    throw new Error('web/dist is missing: run `npm run build` in web/ first');
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no browser at ${CHROMIUM}: apt-get install -y chromium (or set MICROVET_CHROMIUM)`);
  }
}

/** Bound a promise in time. */
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** CSP for the test page: the package needs only 'self' and 'wasm-unsafe-eval' (no JS eval). */
function cspFor(file) {
  if (!file.endsWith('.html')) return {};
  const html = readFileSync(file, 'utf8');
  const hashes = [...html.matchAll(/<script type="module">([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${createHash('sha256').update(m[1]).digest('base64')}'`,
  );
  return {
    'content-security-policy': `default-src 'self'; script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'`,
  };
}

let server;
let browser;
let page;
let csp = '';
const problems = [];

before(async () => {
  if (skip) return;
  const require = createRequire(new URL('../../web/package.json', import.meta.url));
  const { chromium } = require('playwright-core');
  server = await serve(REPO, { headers: cspFor });
  browser = await within(STEP_MS, 'launch chromium', chromium.launch({
    executablePath: CHROMIUM, args: LAUNCH_ARGS, headless: true, timeout: STEP_MS,
  }));
  page = await browser.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(server.url)) problems.push(`request outside the test server: ${r.url()}`);
  });
  const response = await page.goto(new URL('tests/parity/browser.html', server.url).href, { waitUntil: 'load' });
  csp = response?.headers()['content-security-policy'] ?? '';
  await page.waitForFunction(() => window.microvetParity || window.microvetParityError, null, { timeout: STEP_MS });
  const error = await page.evaluate(() => window.microvetParityError ?? null);
  if (error) throw new Error(`the page could not load microvet: ${error}`);
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.close();
});

test('loads in Chromium from a plain module script, under a strict CSP', { skip }, async () => {
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
  assert.doesNotMatch(csp, /'unsafe-eval'|'unsafe-inline'[^;]*script/);
  const engine = await page.evaluate(() => window.microvetParity.engine);
  assert.match(engine, /^microvet \d+\.\d+\.\d+/);
  const served = server.requests.filter((r) => r.status === 200).map((r) => r.path);
  for (const f of ['/web/src/index.js', '/web/src/random.js', '/web/dist/component/microvet.js', '/web/dist/component/microvet.core.wasm']) {
    assert.ok(served.includes(f), `${f} was not fetched (fetched: ${served.join(', ')})`);
  }
  assert.deepEqual(server.requests.filter((r) => r.status !== 200 && r.path !== '/favicon.ico'), []);
  assert.deepEqual(problems, []);
});

test(`the corpus has at least ${MIN_CASES} cases`, { skip }, async () => {
  const cases = await listCases();
  assert.ok(cases.length >= MIN_CASES, `found ${cases.length} case(s) in the corpus, want >= ${MIN_CASES}`);
});

test('every corpus case: Chromium output === expected.json, byte for byte', { skip }, async (t) => {
  const cases = await listCases();
  assert.ok(cases.length > 0, 'the corpus is empty');
  const input = cases.map(({ name, kind, input, waivers, today }) => ({ name, kind, input, waivers, today }));
  assert.ok(input.some((c) => c.waivers !== null && c.today !== null), 'no corpus case has waivers.yaml and today');
  const outputs = await within(STEP_MS * 2, 'vet the corpus in the page', page.evaluate((cs) => window.microvetParity.run(cs), input));
  assert.equal(outputs.length, cases.length);
  for (const [i, c] of cases.entries()) {
    await t.test(c.name, () => {
      assert.equal(outputs[i].name, c.name);
      if (!sameBytes(outputs[i].output, c.expectedBytes)) {
        assert.fail(`${c.name} (${c.inputFile}): ${firstDifference(outputs[i].output, c.expected) ?? 'same text, different bytes'}`);
      }
    });
  }
  assert.deepEqual(problems, []);
});

test('the waiver cases in Chromium list their waived findings; the day and the waivers are what make them', { skip }, async () => {
  const cases = (await listCases()).filter((c) => c.waivers !== null && (JSON.parse(c.expected).waived ?? []).length > 0);
  assert.ok(cases.length >= 2, `only ${cases.length} waiver case(s) waive findings`);
  const input = cases.flatMap(({ name, kind, input, waivers, today }) => [
    { name, kind, input, waivers, today },
    { name: `${name} without its waivers`, kind, input, waivers: null, today },
    { name: `${name} on no day`, kind, input, waivers, today: null },
  ]);
  const outputs = await within(STEP_MS, 'vet the waiver cases in the page', page.evaluate((cs) => window.microvetParity.run(cs), input));
  for (const [i, c] of cases.entries()) {
    const [as, without, noDay] = outputs.slice(3 * i, 3 * i + 3).map((o) => o.output);
    assert.ok(sameBytes(as, c.expectedBytes), `${c.name}: ${firstDifference(as, c.expected)}`);
    assert.match(as, /"waived":\[/);
    for (const other of [without, noDay]) {
      assert.doesNotMatch(other, /"waived":/, c.name);
      assert.notEqual(other, c.expected, c.name);
    }
  }
  assert.deepEqual(problems, []);
});

test('PKCE in Chromium: RFC 7636 Appendix B, typed errors, crypto.getRandomValues entropy', { skip }, async () => {
  const r = await within(STEP_MS, 'pkce in the page', page.evaluate(() => window.microvetParity.pkce()));
  assert.equal(r.appendixB, APPENDIX_B.challenge);
  assert.equal(r.pair.verifier.length, 64);
  assert.match(r.pair.verifier, /^[A-Za-z0-9\-._~]{64}$/);
  assert.equal(r.pair.method, 'S256');
  assert.equal(r.verified, true);
  assert.equal(r.distinct, true);
  assert.ok(r.error?.isMicrovetError, 'a bad verifier throws MicrovetError');
  assert.equal(JSON.parse(r.error.json).code, 'pkce-length');
  assert.ok(r.entropy.calls >= 2, `crypto.getRandomValues was called ${r.entropy.calls} time(s) for two generate() calls`);
  assert.ok(r.entropy.bytes >= 2 * 48, `only ${r.entropy.bytes} random bytes for two 64-char verifiers`);
  assert.deepEqual(problems, []);
});
