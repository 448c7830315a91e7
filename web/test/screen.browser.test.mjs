// The demo builder screen (web/demo/) as a citizen developer uses it, in headless Chromium at
// desktop 1440×900, laptop 1024×768 and phone 390×844, under the demo's strict CSP:
//   - layout: nothing wider than the screen, Publish on screen, the policy check in sight
//     (beside the form; on a phone one tap on the jump bar away, not under the top bar), the
//     PKCE button clear of the verifier, a toast clear of the PKCE pair, no text cut to an
//     ellipsis with no way to read it;
//   - risk factors by points; a rejected app's Publish reason says what to fix and it lists no
//     approval controls; info findings leave their fields alone; "+N more" is a button;
//   - form ↔ YAML lists: removing a row leaves no ghost row, a scope added with Enter shows its
//     chip (once);
//   - the YAML gutter: one number per line, a marked error line no taller than the others, an
//     error at the end of the text marked on the last line;
//   - the engine failing to load: Retry is offered and works, PKCE generation waits for it;
//   - findings lead with plain field names; rule IDs come second.
// Screenshots: web/test-output/screen-<width>.png (and -panel, -reject, -engine-failed).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { serve } from '../../tests/parity/static-server.mjs';
import { CHROMIUM, browserSkip, LAUNCH_ARGS, DEMO_CSP as CSP } from './support/chromium.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const OUTPUT = fileURLToPath(new URL('../test-output/', import.meta.url));
const VIEWPORTS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'laptop', width: 1024, height: 768 },
  { name: 'phone', width: 390, height: 844 },
];
const REJECTED = readFileSync(new URL('../../tests/corpus/case-study/input.yaml', import.meta.url), 'utf8');

const skip = browserSkip('component/microvet.core.wasm');

let server;
let browser;

before(async () => {
  if (skip) return;
  const require = createRequire(new URL('../package.json', import.meta.url));
  const { chromium } = require('playwright-core');
  server = await serve(REPO, { headers: (file) => (file.endsWith('.html') ? { 'content-security-policy': CSP } : {}) });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, headless: true, timeout: 30_000 });
  mkdirSync(OUTPUT, { recursive: true });
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.close();
});

/** A fresh page on the demo at `viewport`, once the first verdict is shown. */
async function demo(viewport, { route } = {}) {
  const context = await browser.newContext({ viewport: { width: viewport.width, height: viewport.height }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  if (route) await route(page);
  await page.goto(new URL('web/demo/', server.url).href, { waitUntil: 'load' });
  await page.waitForFunction(() => document.querySelector('microvet-panel')?.hasAttribute('decision'));
  return { context, page, problems };
}

/** Set the YAML as if typed by hand, and wait for its verdict (or error). */
async function typeYaml(page, text) {
  await page.evaluate((t) => {
    const y = document.querySelector('#yaml');
    y.focus();
    y.value = t;
    y.dispatchEvent(new Event('input', { bubbles: true }));
  }, text);
  await page.evaluate(() => document.querySelector('microvet-panel').vet().catch(() => null));
  await page.waitForTimeout(50);
}

const rect = (page, sel) => page.evaluate((s) => {
  const [host, inner] = s.split(' >> ');
  let el = document.querySelector(host);
  if (inner) el = el.shadowRoot.querySelector(inner);
  const r = el.getBoundingClientRect();
  return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height };
}, sel);

const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

/** Visible text cut short with no way to read the rest (an ellipsis, or a clamp without a "more" button). */
function truncated(page) {
  return page.evaluate(() => {
    const out = [];
    const visit = (root) => {
      for (const el of root.querySelectorAll('*')) {
        if (el.shadowRoot) visit(el.shadowRoot);
        if (!el.textContent.trim() || el.closest('[aria-hidden="true"], .sr, datalist, option')) continue;
        const cs = getComputedStyle(el);
        if (cs.display === 'none' || cs.visibility === 'hidden' || el.getClientRects().length === 0) continue;
        const wide = el.scrollWidth > el.clientWidth + 1 && cs.textOverflow === 'ellipsis';
        const clamped = cs.webkitLineClamp !== 'none' && cs.webkitLineClamp !== '' && el.scrollHeight > el.clientHeight + 1;
        if ((wide || clamped) && !el.querySelector('button.more')) out.push(`${el.tagName.toLowerCase()}.${el.className}: "${el.textContent.trim().slice(0, 50)}"`);
      }
    };
    visit(document);
    return out;
  });
}

for (const vp of VIEWPORTS) {
  describe(`${vp.name} ${vp.width}×${vp.height}`, { skip }, () => {
    test('fits the screen; Publish and the policy check are reachable; PKCE button clear of the verifier; no cut text', async () => {
      const { context, page, problems } = await demo(vp);
      try {
        const m = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          topbar: document.querySelector('.topbar').scrollWidth,
        }));
        assert.ok(m.scrollWidth <= vp.width, `the page is ${m.scrollWidth} px wide at ${vp.width} px`);
        assert.ok(m.topbar <= vp.width, `the top bar is ${m.topbar} px wide`);
        const publish = await rect(page, '#publish');
        assert.ok(publish.right <= vp.width && publish.left >= 0 && publish.bottom <= vp.height, `Publish is off screen: ${JSON.stringify(publish)}`);
        await page.screenshot({ path: `${OUTPUT}screen-${vp.width}.png` });

        const topbar = await rect(page, '.topbar');
        if (vp.width > 760) {
          // The decision is in sight without scrolling, beside the form.
          const badge = await rect(page, 'microvet-panel >> .badge');
          assert.ok(badge.bottom <= vp.height && badge.top >= topbar.bottom, `the decision is not in sight: ${JSON.stringify(badge)}`);
          const form = await rect(page, '.form-col');
          assert.ok(badge.left >= form.right, 'the policy check is not beside the form');
        } else {
          // One tap on the jump bar shows the decision, not hidden under the sticky top bar.
          const jump = await rect(page, '#jump');
          assert.ok(jump.bottom <= vp.height + 0.5 && jump.top >= 0 && jump.height > 0, `the jump bar is not on screen: ${JSON.stringify(jump)}`);
          assert.match(await page.textContent('#jump'), /Ready to publish/);
          const before_ = await rect(page, 'microvet-panel >> .badge');
          assert.ok(before_.top > vp.height, 'the panel starts below the fields on a phone (this checks the jump)');
          await page.click('#jump');
          await page.waitForFunction(() => {
            const r = document.querySelector('microvet-panel').shadowRoot.querySelector('.badge').getBoundingClientRect();
            return r.top >= document.querySelector('.topbar').getBoundingClientRect().bottom && r.bottom <= innerHeight;
          });
          await page.screenshot({ path: `${OUTPUT}screen-${vp.width}-panel.png` });
        }

        // The panel's head (decision and score) fits the panel.
        const panelBox = await rect(page, 'microvet-panel');
        for (const sel of ['.badge', '.score']) {
          const r = await rect(page, `microvet-panel >> ${sel}`);
          assert.ok(r.left >= panelBox.left && r.right <= panelBox.right + 0.5, `the panel's ${sel} is cut off: ${JSON.stringify({ r, panelBox })}`);
        }

        await page.locator('microvet-panel button.generate').click();
        await page.waitForFunction(() => document.querySelector('microvet-panel').shadowRoot.querySelector('#mv-method').textContent === 'S256');
        await page.locator('microvet-panel button.generate').scrollIntoViewIfNeeded();
        const generate = await rect(page, 'microvet-panel >> button.generate');
        for (const sel of ['#mv-verifier', '#mv-challenge', 'button[data-copy="verifier"]']) {
          const r = await rect(page, `microvet-panel >> ${sel}`);
          assert.ok(!overlap(generate, r), `"Generate PKCE pair" overlaps ${sel}: ${JSON.stringify({ generate, r })}`);
        }
        // A toast (here: Reset) does not cover the PKCE pair.
        await page.click('#reset');
        await page.waitForSelector('#toast.show');
        await page.waitForTimeout(200);
        const toast = await rect(page, '#toast');
        const pkce = await rect(page, 'microvet-panel >> .pkce');
        assert.ok(!overlap(toast, pkce), `the toast covers the PKCE pair: ${JSON.stringify({ toast, pkce })}`);
        assert.deepEqual(await truncated(page), [], 'text cut short with no way to read it');
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  });
}

describe('the screen (desktop)', { skip }, () => {
  let ctx;
  before(async () => {
    ctx = await demo(VIEWPORTS[0]);
  });
  after(async () => {
    await ctx?.context.close();
  });

  test('risk factors are listed by points, largest first', async () => {
    const r = await ctx.page.evaluate(() => {
      const panel = document.querySelector('microvet-panel');
      return {
        shown: [...panel.shadowRoot.querySelectorAll('.factors li .pts')].map((e) => Number(e.textContent.replace('+', ''))),
        engine: panel.verdict.risk.factors.map((f) => f.points),
      };
    });
    assert.equal(r.shown.length, r.engine.length);
    assert.deepEqual(r.shown, [...r.engine].sort((a, b) => b - a));
    assert.notDeepEqual(r.engine, r.shown, 'the example\'s factors come unsorted from the engine (this checks the sort)');
  });

  test('findings lead with plain field names; rule IDs come second', async () => {
    const items = await ctx.page.evaluate(() => [...document.querySelector('microvet-panel').shadowRoot.querySelectorAll('li.finding')].map((li) => {
      const top = li.querySelector('.f-top');
      const parts = [...top.children].map((c) => c.className);
      return { rule: li.dataset.rule, loc: li.querySelector('.loc').textContent, parts, text: top.textContent };
    }));
    assert.ok(items.length > 0);
    for (const f of items) {
      assert.doesNotMatch(f.loc, /\[\d+\]|_|\//, `location in code words: ${f.loc}`);
      assert.ok(f.parts.indexOf('loc') < f.parts.indexOf('rule mono'), `the rule ID comes before the place: ${f.parts}`);
      assert.ok(!f.text.trim().startsWith(f.rule));
    }
    assert.ok(items.some((f) => f.loc.startsWith('Third-party dependencies › item 1')), items.map((f) => f.loc).join(' | '));
  });

  test('info findings leave their field\'s outline and help text alone; "+N more" is a button', async () => {
    const r = await ctx.page.evaluate(() => {
      const v = document.querySelector('microvet-panel').verdict;
      const info = v.findings.filter((f) => f.severity === 'info').map((f) => f.path);
      return {
        info,
        dataFlag: document.querySelector('[data-field="/data_access"]').getAttribute('data-flag-field'),
        dataHint: document.querySelector('#f-data-hint').textContent,
        flaggedByInfo: [...document.querySelectorAll('[data-flag="info"]')].length,
      };
    });
    assert.ok(r.info.some((p) => p.startsWith('/data_access')), `the example has an info finding on data access (${r.info})`);
    assert.equal(r.dataFlag, null);
    assert.equal(r.dataHint, 'Data types the app reads or writes');
    assert.equal(r.flaggedByInfo, 0);

    const more = ctx.page.locator('[data-field="/third_party_deps"] .hint button.more');
    assert.equal(await more.count(), 1, 'the dependencies field has two findings: a "+1 more" button');
    assert.equal(await more.textContent(), '+1 more');
    await more.focus();
    await ctx.page.keyboard.press('Enter');
    assert.equal(await more.getAttribute('aria-expanded'), 'true');
    const hint = await ctx.page.textContent('[data-field="/third_party_deps"] .hint');
    assert.match(hint, /approved vendor list/);
    assert.match(hint, /does not declare which data/);
  });

  test('form ↔ YAML lists: a removed row leaves no ghost row; a scope added with Enter shows its chip once', async () => {
    const { page } = ctx;
    const rows = () => page.evaluate(() => ({
      data: [...document.querySelectorAll('#data-rows > li')].map((li) => li.querySelector('input').value),
      chips: [...document.querySelectorAll('#scope-chips li.chip')].map((li) => li.textContent.replace('✕', '').trim()),
      yaml: document.querySelector('#yaml').value,
    }));
    const start = await rows();
    assert.deepEqual(start.data, ['user.profile', 'hr.employee_records']);
    await page.click('#data-rows > li:nth-child(2) button[data-remove]');
    const removed = await rows();
    assert.deepEqual(removed.data, ['user.profile'], 'a ghost row is left behind');
    assert.doesNotMatch(removed.yaml, /hr\.employee_records/);
    // The remaining row's ✕ works too.
    await page.click('#data-rows > li:nth-child(1) button[data-remove]');
    assert.deepEqual((await rows()).data, []);

    await page.click('#f-scope-new');
    await page.keyboard.type('calendar.read');
    await page.keyboard.press('Enter');
    const added = await rows();
    assert.deepEqual(added.chips, [...start.chips, 'calendar.read'], 'the scope added with Enter has no chip');
    assert.equal(added.yaml.match(/calendar\.read/g)?.length, 1);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'f-scope-new', 'focus stays in the scope box');

    await page.click('#reset');
    await page.waitForFunction(() => document.querySelector('microvet-panel').getAttribute('decision') === 'approve-with-controls');
  });

  test('the YAML gutter: one number per line; the marked error line is no taller; an error at the end is marked on the last line', async () => {
    const { page } = ctx;
    const example = await page.inputValue('#yaml');
    const gutter = () => page.evaluate(() => {
      const spans = [...document.querySelectorAll('#gutter > span')];
      return {
        lines: document.querySelector('#yaml').value.split('\n').length,
        tops: spans.map((s) => s.offsetTop - spans[0].offsetTop),
        numbers: spans.map((s) => Number(s.textContent)),
        err: spans.findIndex((s) => s.classList.contains('err')) + 1,
        state: document.querySelector('#yaml-state').textContent,
      };
    });
    // An error inside the text: `owner: a: b` on line 4.
    const lines = example.split('\n');
    const at = lines.findIndex((l) => l.startsWith('owner:'));
    lines[at] = 'owner: a: b';
    await typeYaml(page, lines.join('\n'));
    let g = await gutter();
    assert.equal(g.numbers.length, g.lines);
    assert.deepEqual(g.numbers, g.numbers.map((_, i) => i + 1));
    assert.deepEqual(g.tops, g.tops.map((_, i) => i * 20), 'line numbers shift after the error marker');
    assert.equal(g.err, at + 1, g.state);
    await page.screenshot({ path: `${OUTPUT}screen-1440-yaml-error.png` });

    // An unclosed bracket at the end: the parser notices past the last line.
    await typeYaml(page, `${example}broken: [unclosed`);
    g = await gutter();
    assert.equal(g.numbers.length, g.lines, 'no line numbers past the text');
    assert.equal(g.err, g.lines, `the error is marked on line ${g.err}, the text has ${g.lines}`);
    assert.match(g.state, /end of the text/);

    await page.click('#reset');
    await page.waitForFunction(() => document.querySelector('microvet-panel').getAttribute('decision') === 'approve-with-controls');
  });

  test('a rejected app: the Publish reason says what to fix, and no approval controls are listed', async () => {
    const { page } = ctx;
    await typeYaml(page, REJECTED);
    await page.waitForFunction(() => document.querySelector('microvet-panel').getAttribute('decision') === 'reject');
    const r = await page.evaluate(() => {
      const panel = document.querySelector('microvet-panel');
      return {
        reason: document.querySelector('#publish-reason').textContent,
        controls: panel.verdict.controls.length,
        listed: panel.shadowRoot.querySelectorAll('.control').length,
        note: panel.shadowRoot.querySelector('.controls-note')?.textContent ?? '',
        disabled: document.querySelector('#publish').disabled,
      };
    });
    assert.equal(r.disabled, true);
    assert.doesNotMatch(r.reason, /refused by policy/);
    assert.match(r.reason, /^Not ready: fix \d+ serious problems? .*then publish$/);
    assert.ok(r.controls > 0, 'the engine still computes controls for it');
    assert.equal(r.listed, 0, 'approval controls listed for a rejected app');
    assert.match(r.note, /once the findings above are fixed/);
    await page.screenshot({ path: `${OUTPUT}screen-1440-reject.png` });
    await page.click('#reset');
    await page.waitForFunction(() => document.querySelector('microvet-panel').getAttribute('decision') === 'approve-with-controls');
  });
});

describe('the engine fails to load', { skip }, () => {
  test('Retry is offered and works; "Generate PKCE pair" waits for an engine', async () => {
    let fail = true;
    const { context, page } = await demo(VIEWPORTS[0], {
      route: (p) => p.route('**/microvet.core.wasm', (r) => (fail ? r.fulfill({ status: 503, body: 'unavailable' }) : r.continue())),
    });
    try {
      await page.waitForFunction(() => document.querySelector('microvet-panel').getAttribute('decision') === 'error');
      const failed = await page.evaluate(() => {
        const root = document.querySelector('microvet-panel').shadowRoot;
        return {
          badge: root.querySelector('.badge-text').textContent,
          retry: !root.querySelector('button.retry').hidden,
          generate: root.querySelector('button.generate').disabled,
          reason: document.querySelector('#publish-reason').textContent,
        };
      });
      assert.deepEqual(failed, { badge: 'Engine unavailable', retry: true, generate: true, reason: 'Not checked: the policy check could not start (Retry in the panel)' });
      await page.screenshot({ path: `${OUTPUT}screen-1440-engine-failed.png` });
      fail = false;
      await page.locator('microvet-panel button.retry').click();
      await page.waitForFunction(() => document.querySelector('microvet-panel').getAttribute('decision') === 'approve-with-controls');
      const ok = await page.evaluate(() => {
        const root = document.querySelector('microvet-panel').shadowRoot;
        return { retry: !root.querySelector('button.retry').hidden, generate: root.querySelector('button.generate').disabled, publish: document.querySelector('#publish').disabled };
      });
      assert.deepEqual(ok, { retry: false, generate: false, publish: false });
    } finally {
      await context.close();
    }
  });
});
