// Size budget: everything a browser downloads for <microvet-panel> — the panel,
// the package modules it imports, and the component files jco wrote — gzip level 9.
// The budget lives here; if the build is over it, this test fails with the numbers.
// `npm run size` prints the same measurement as a table.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { readFileSync } from 'node:fs';

import { README, measure, readmeBlock, readmeSection, table } from '../scripts/size.mjs';

/**
 * A 150 KB gzip download for the panel does not fit this engine (docs/PERFORMANCE.md says where
 * every byte goes and what removing it would cost), so the budget is the measured size plus
 * ~1 %, to catch regressions: 355,248 B in all (`npm run size`), of which the component's
 * core module is ~330 KB and the minified panel and the shared chunk ~24.8 KB (src/index.js, random.js,
 * the jco 1.12.0 glue and its two inlined trampolines, in one file: no request chain before
 * the wasm; re-minifying the glue inside the chunk costs ~840 B gzip over serving jco's file
 * as it is, and saves three requests). The panel's plain field and control names, the
 * controls note, Retry and the factor sort cost ~810 B of it.
 * The fail-closed checks cost ~42 KB of it: the secret scanner's vendor formats and redaction
 * forms (~16.5 KB), normal forms with NFKC's mappings to ASCII and the wrong-type rules
 * (~12.3 KB), the client-metadata rules (~11.9 KB), the YAML tag and merge-key checks (~3.1 KB).
 * The one fix applier (edits at a node's span that keep comments, `apply-fix`) costs
 * ~13.6 KB of the core module; the panel's JavaScript copy of it (JSON Patch, a YAML emitter
 * and a comment-keeping patcher, ~4 KB of the bundle) is gone.
 * Waivers cost ~15.5 KB of it: the core's waiver checks, dates and rules (~13 KB; ~30 KB of
 * code before compression, a third of it the WIT glue of the new records and the
 * `with-waivers` constructor), the glue's lifting of the new records and the vet options
 * (~1.8 KB), the panel's Waived section (~0.7 KB).
 * The built-in policy built by generated code instead of parsed from its YAML costs ~4.3 KB:
 * a fresh instance's first vet no longer parses 6 KB of YAML (1.28× a warm vet in instructions,
 * was 12.5× in time; docs/PERFORMANCE.md), and neither does the page's first verdict.
 * A gate that fails closed comes first; the bytes are the price.
 * - BUDGET_GZIP_BYTES: the total, plus ~1 %.
 * - JS_BUDGET_GZIP_BYTES: everything except the core module (~24.8 KB), plus ~10 %: the core
 *   module's changes must not hide a regression in the JS (e.g. a jco upgrade: 1.35.0's glue
 *   alone is 22,033 B).
 */
const TARGET_GZIP_BYTES = 150_000;
const BUDGET_GZIP_BYTES = 358_800;
const JS_BUDGET_GZIP_BYTES = 27_300;
const CORE = 'dist/component/microvet.core.wasm';

test(`<microvet-panel> downloads at most ${BUDGET_GZIP_BYTES.toLocaleString('en')} bytes gzipped (target ${TARGET_GZIP_BYTES.toLocaleString('en')})`, () => {
  const m = measure('panel');
  console.log(`What the browser downloads for <microvet-panel>:\n${table(m)}`);
  const largest = [...m.files].sort((a, b) => b.gzip - a.gzip)[0];
  // The package's own minified JS: dist/*.js outside dist/component/ (jco's output).
  const js = m.files.filter((f) => !f.file.startsWith('dist/component/')).reduce((a, f) => a + f.gzip, 0);
  assert.ok(
    m.total.gzip <= BUDGET_GZIP_BYTES,
    `${m.total.gzip.toLocaleString('en')} bytes gzip > budget ${BUDGET_GZIP_BYTES.toLocaleString('en')} ` +
      `(over by ${(m.total.gzip - BUDGET_GZIP_BYTES).toLocaleString('en')}); largest: ${largest.file} ` +
      `${largest.gzip.toLocaleString('en')} bytes gzip; the package's own minified JS is ${js.toLocaleString('en')} bytes gzip`,
  );
});

test(`<microvet-panel> downloads at most ${JS_BUDGET_GZIP_BYTES.toLocaleString('en')} bytes gzipped besides the core module`, () => {
  const rest = measure('panel').files.filter((f) => f.file !== CORE);
  const gzip = rest.reduce((a, f) => a + f.gzip, 0);
  assert.ok(
    gzip <= JS_BUDGET_GZIP_BYTES,
    `${gzip.toLocaleString('en')} bytes gzip > budget ${JS_BUDGET_GZIP_BYTES.toLocaleString('en')}: ` +
      rest.map((f) => `${f.file} ${f.gzip.toLocaleString('en')}`).join(', '),
  );
});

test('the measurement follows the panel\'s imports', () => {
  const files = measure('panel').files.map((f) => f.file);
  for (const f of ['dist/panel.js', CORE]) {
    assert.ok(files.includes(f), `${f} is not counted (counted: ${files.join(', ')})`);
  }
  // The minified panel imports the shared chunk (src/index.js, random.js and the jco glue, bundled).
  assert.ok(files.some((f) => f === 'dist/shared.js'), `no shared chunk counted (counted: ${files.join(', ')})`);
  assert.ok(!files.some((f) => f.startsWith('src/')), 'the browser build must not pull unminified sources');
  // One wasm file: jco's trampolines are inlined.
  assert.deepEqual(files.filter((f) => f.endsWith('.wasm')), [CORE]);
});

/**
 * The README's figures are the script's output for this build. Numbers may differ by 2 % (or
 * 0.15 KiB): a merge that grows the core module a little must not fail here, a stale or
 * hand-typed table must. Regenerate with `npm run size -- --readme`.
 */
test('README.md\'s size section is what `npm run size -- --readme` writes for this build', () => {
  const shown = readmeSection(readFileSync(README, 'utf8'));
  assert.ok(shown !== null, 'README.md has no size section between the size:start/size:end markers');
  const fresh = readmeBlock();
  const split = (text) => text.replace(/`[0-9a-f]{8}…`/g, '`HASH…`').split(/(\d[\d,]*(?:\.\d+)?)/);
  const a = split(shown);
  const b = split(fresh);
  const skeleton = (parts) => parts.map((p, i) => (i % 2 ? '#' : p)).join('');
  assert.equal(skeleton(a), skeleton(b), `README.md's size section is out of date: run \`npm run size -- --readme\`\nnow:\n${fresh}`);
  for (let i = 1; i < a.length; i += 2) {
    const x = Number(a[i].replaceAll(',', ''));
    const y = Number(b[i].replaceAll(',', ''));
    assert.ok(Math.abs(x - y) <= Math.max(0.02 * Math.max(x, y), 0.15),
      `README.md says ${a[i]} where the build measures ${b[i]}: run \`npm run size -- --readme\`\nnow:\n${fresh}`);
  }
});
