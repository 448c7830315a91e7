// Waivers in <microvet-panel>, on the builder demo (web/demo/) in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core) under the demo's strict CSP. The page's clock
// is set to the day of the corpus case `waiver-applies` (its `today` file), whose waivers
// file holds WVR-101: an exception for the unapproved vendor of that exact manifest.
//   - with the waivers, the vendor finding is listed under "Waived" with the waiver's ID,
//     reason, approver and expiry, and not among the findings (nor on the form's field); the
//     decision and Publish are what the findings left say;
//   - the panel vets on the page's day: the day after the waiver expires, the finding is back;
//   - an edit to the manifest ends the waiver (it is bound to the exact bytes);
//   - an invalid waivers file is a `Waivers error` naming the waiver; the `waivers`
//     attribute works like the property; the section is readable (AA contrast, labelled).
// Screenshot: web/test-output/panel-waived.png.
// $MICROVET_CHROMIUM overrides the browser path; MICROVET_SKIP_BROWSER=1 skips.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { serve } from '../../tests/parity/static-server.mjs';
import { CHROMIUM, browserSkip, LAUNCH_ARGS, DEMO_CSP as CSP } from './support/chromium.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const OUTPUT = fileURLToPath(new URL('../test-output/', import.meta.url));
const CASE = new URL('../../tests/corpus/waiver-applies/', import.meta.url);
const MANIFEST = readFileSync(new URL('input.yaml', CASE), 'utf8');
const WAIVERS = readFileSync(new URL('waivers.yaml', CASE), 'utf8');
const DAY = readFileSync(new URL('today', CASE), 'utf8').trim();
const EXPECTED = JSON.parse(readFileSync(new URL('expected.json', CASE), 'utf8'));
const VENDOR = '/third_party_deps/0/vendor';

const skip = browserSkip('component/microvet.core.wasm');

let server;
let browser;
let page;
const problems = [];

before(async () => {
  if (skip) return;
  const require = createRequire(new URL('../package.json', import.meta.url));
  const { chromium } = require('playwright-core');
  server = await serve(REPO, { headers: (file) => (file.endsWith('.html') ? { 'content-security-policy': CSP } : {}) });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, headless: true, timeout: 30_000 });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  // The page's day is the case's day (mid-day UTC); timers keep running.
  await page.clock.setFixedTime(new Date(`${DAY}T12:00:00Z`));
  await page.goto(new URL('web/demo/', server.url).href, { waitUntil: 'load' });
  await page.waitForFunction(() => document.querySelector('microvet-panel')?.hasAttribute('decision'));
  mkdirSync(OUTPUT, { recursive: true });
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.close();
});

/** Put `text` in the demo's YAML box as if typed, set the panel's waivers, and vet. */
async function show(text, waivers) {
  await page.evaluate(({ t, w }) => {
    const y = document.querySelector('#yaml');
    y.value = t;
    y.dispatchEvent(new Event('input', { bubbles: true }));
    document.querySelector('microvet-panel').waivers = w;
  }, { t: text, w: waivers });
  return page.evaluate(() => document.querySelector('microvet-panel').vet().then((v) => v, (e) => ({ error: e.toJSON?.() ?? String(e) })));
}

/** What the panel shows: findings, the waived section, the live region, Publish. */
function shown() {
  return page.evaluate(() => {
    const panel = document.querySelector('microvet-panel');
    const root = panel.shadowRoot;
    const section = root.querySelector('.waived-section');
    return {
      decision: panel.getAttribute('decision'),
      status: root.querySelector('[role="status"]').textContent,
      summary: root.querySelector('.summary').textContent,
      findings: [...root.querySelectorAll('li.finding')].map((li) => `${li.dataset.rule} ${li.dataset.path}`),
      waivedVisible: section.checkVisibility(),
      waivedTitle: root.querySelector('#mv-waived-title').textContent,
      waived: [...root.querySelectorAll('li.waived-item')].map((li) => ({
        rule: li.dataset.rule, path: li.dataset.path, waiver: li.dataset.waiver, text: li.textContent,
        isFinding: li.classList.contains('finding'),
      })),
      waivedText: section.textContent,
      publishDisabled: document.querySelector('#publish').disabled,
      vendorInvalid: document.querySelector(`input[data-path="/third_party_deps/0/vendor"]`)?.getAttribute('aria-invalid') ?? null,
    };
  });
}

test('without waivers the demo shows no Waived section', { skip }, async () => {
  const s = await shown();
  assert.equal(s.waivedVisible, false);
  assert.deepEqual(s.waived, []);
  assert.deepEqual(problems, []);
});

test('a waived finding is shown under Waived with its waiver, and not among the findings', { skip }, async () => {
  const v = await show(MANIFEST, WAIVERS);
  assert.equal(v.error, undefined, JSON.stringify(v.error));
  // The panel vetted the case's bytes on the case's day: the verdict is the corpus's.
  assert.equal(v.manifest_sha256, createHash('sha256').update(MANIFEST).digest('hex'));
  assert.deepEqual(v, EXPECTED);
  assert.deepEqual(v.waived.map((w) => `${w.rule} ${w.waiver.id}`), ['MV-VENDOR-001 WVR-101']);

  const s = await shown();
  assert.equal(s.waivedVisible, true, 'the Waived section is shown');
  assert.match(s.waivedTitle, /^Waived\s*1\s*· not counted in the decision$/);
  assert.match(s.waivedText, /approved for this exact manifest until its expiry date: any edit to the manifest ends it/);
  assert.equal(s.waived.length, 1);
  const [w] = s.waived;
  assert.equal(w.rule, 'MV-VENDOR-001');
  assert.equal(w.path, VENDOR);
  assert.equal(w.waiver, 'WVR-101');
  assert.equal(w.isFinding, false);
  for (const part of ['Waiver WVR-101', 'approved by ciso@example.com', 'valid through 2027-01-31',
    'Reason: vendor security review in progress; no personal data reaches the plugin', 'is not on the approved vendor list']) {
    assert.ok(w.text.includes(part), `the waived item does not say "${part}": ${w.text}`);
  }
  // Not in the findings list, nor on the form's field; the decision is the findings left's.
  assert.deepEqual([...s.findings].sort(), v.findings.map((f) => `${f.rule} ${f.path}`).sort());
  assert.ok(!s.findings.some((f) => f.startsWith('MV-VENDOR-001')), s.findings.join(', '));
  assert.equal(s.vendorInvalid, null, 'the waived vendor field is not flagged');
  assert.equal(s.decision, 'approve-with-controls');
  assert.equal(s.publishDisabled, false);
  assert.match(s.status, /; 1 waived \(not counted\);/);
  assert.match(s.summary, /1 waived/);

  await page.screenshot({ path: `${OUTPUT}panel-waived.png` });
  assert.deepEqual(problems, []);
});

test('the Waived section is labelled, keyboard-scrollable and its text meets WCAG AA contrast', { skip }, async () => {
  const r = await page.evaluate(() => {
    const root = document.querySelector('microvet-panel').shadowRoot;
    const section = root.querySelector('.waived-section');
    const list = section.querySelector('.scroll');
    const parse = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const over = (top, bottom) => ({ r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a), b: top.b * top.a + bottom.b * (1 - top.a), a: 1 });
    const background = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement ?? e.getRootNode().host) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c.a > 0) layers.push(c);
        if (c.a === 1) break;
      }
      return layers.reverse().reduce((acc, c) => over(c, acc), { r: 255, g: 255, b: 255, a: 1 });
    };
    const failures = [];
    const walker = document.createTreeWalker(section, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!n.textContent.trim() || el.closest('[aria-hidden="true"]')) continue;
      const cs = getComputedStyle(el);
      const bg = background(el);
      const [hi, lo] = [lum(over(parse(cs.color), bg)), lum(bg)].sort((a, b) => b - a);
      const ratio = (hi + 0.05) / (lo + 0.05);
      if (ratio < 4.5) failures.push(`${ratio.toFixed(2)}:1 "${n.textContent.trim().slice(0, 40)}"`);
    }
    return {
      labelledBy: root.getElementById(section.getAttribute('aria-labelledby'))?.textContent,
      listLabel: root.getElementById(list.getAttribute('aria-labelledby'))?.textContent,
      tabindex: list.getAttribute('tabindex'),
      failures,
    };
  });
  assert.match(r.labelledBy ?? '', /^Waived/);
  assert.match(r.listLabel ?? '', /^Waived/);
  assert.equal(r.tabindex, '0');
  assert.deepEqual(r.failures, [], 'text below WCAG AA contrast');
});

test('the panel vets on the page\'s day: after the waiver expires, the finding counts again', { skip }, async () => {
  await page.clock.setFixedTime(new Date('2027-02-01T00:30:00Z'));
  // The same manifest and waivers: the new day alone makes the panel vet again.
  const v = await page.evaluate(() => document.querySelector('microvet-panel').vet());
  assert.equal(v.waived, undefined);
  const s = await shown();
  assert.ok(s.findings.includes(`MV-VENDOR-001 ${VENDOR}`), s.findings.join(', '));
  assert.ok(s.findings.some((f) => f.startsWith('MV-WAIVER-001')), 'the expired waiver says so');
  assert.equal(s.waivedVisible, true, 'with waivers set the section stays, empty');
  assert.match(s.waivedTitle, /^Waived\s*0/);
  assert.deepEqual(s.waived, []);
  assert.match(s.waivedText, /No finding is waived/);
  await page.clock.setFixedTime(new Date(`${DAY}T12:00:00Z`));
  assert.deepEqual((await page.evaluate(() => document.querySelector('microvet-panel').vet())).waived?.map((w) => w.waiver.id), ['WVR-101']);
  assert.deepEqual(problems, []);
});

test('an edit to the manifest ends the waiver: it is bound to the exact bytes', { skip }, async () => {
  const v = await show(MANIFEST.replace('retention_days: 30', 'retention_days: 29'), WAIVERS);
  assert.equal(v.waived, undefined);
  assert.ok(v.findings.some((f) => f.rule === 'MV-VENDOR-001'));
  assert.ok(v.findings.some((f) => f.rule === 'MV-WAIVER-002'), 'the stale waiver says so');
  const s = await shown();
  assert.ok(s.findings.includes(`MV-VENDOR-001 ${VENDOR}`));
  assert.deepEqual(s.waived, []);
  assert.deepEqual(problems, []);
});

test('an invalid waivers file is a Waivers error naming the waiver; the waivers attribute works like the property', { skip }, async () => {
  const error = page.evaluate(() => new Promise((resolve) => {
    document.querySelector('microvet-panel').addEventListener('microvet-error', (e) => resolve(e.detail.toJSON()), { once: true });
  }));
  const r = await show(MANIFEST, WAIVERS.replace(/ {4}approved_by: .*\n/, ''));
  const e = await error;
  assert.equal(r.error.code, 'policy');
  assert.equal(e.code, 'policy');
  assert.equal(e.path, '/waivers/0');
  const s = await shown();
  assert.equal(s.decision, 'error');
  assert.equal(s.publishDisabled, true);
  assert.match(s.status, /^Waivers error \(line \d+(:\d+)?\): .*approved_by/);

  // The attribute sets the same waivers (and removing it removes them).
  await page.evaluate((w) => {
    const panel = document.querySelector('microvet-panel');
    panel.waivers = '';
    panel.setAttribute('waivers', w);
  }, WAIVERS);
  const byAttribute = await page.evaluate(() => document.querySelector('microvet-panel').vet());
  assert.deepEqual(byAttribute.waived.map((w) => w.waiver.id), ['WVR-101']);
  assert.equal(await page.evaluate(() => document.querySelector('microvet-panel').waivers), WAIVERS);
  await page.evaluate(() => document.querySelector('microvet-panel').removeAttribute('waivers'));
  const none = await page.evaluate(() => document.querySelector('microvet-panel').vet());
  assert.equal(none.waived, undefined);
  assert.equal((await shown()).waivedVisible, false, 'no waivers, nothing waived: no section');
  assert.deepEqual(problems, []);
});
