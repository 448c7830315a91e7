// Size budget (issue 6): everything a browser downloads for <microvet-panel> — the panel,
// the package modules it imports, and the component files jco wrote — gzip level 9.
// The budget lives here; if the build is over it, this test fails with the numbers.
// `npm run size` prints the same measurement as a table.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { measure, table } from '../scripts/size.mjs';

/**
 * Issue 6 asks for "everything the browser downloads for the panel ≤ 150 KB gzipped". That
 * target is NOT met (docs/PERFORMANCE.md: where the bytes go, what was cut, what is left), so
 * issue 6 stays open for it. Until then this budget guards against regressions: the measured
 * total on 2026-11-29 (299,564 B: component core module 262,129 B, jco glue 22,033 B, the
 * minified panel bundle 15,137 B) plus ~3 %. It was 373,558 B at the session's start.
 */
const TARGET_GZIP_BYTES = 150_000;
const BUDGET_GZIP_BYTES = 310_000;

test(`<microvet-panel> downloads at most ${BUDGET_GZIP_BYTES.toLocaleString('en')} bytes gzipped (target ${TARGET_GZIP_BYTES.toLocaleString('en')})`, () => {
  const m = measure('panel');
  console.log(`What the browser downloads for <microvet-panel>:\n${table(m)}`);
  const largest = [...m.files].sort((a, b) => b.gzip - a.gzip)[0];
  const js = m.files.filter((f) => f.file.startsWith('src/')).reduce((a, f) => a + f.gzip, 0);
  assert.ok(
    m.total.gzip <= BUDGET_GZIP_BYTES,
    `${m.total.gzip.toLocaleString('en')} bytes gzip > budget ${BUDGET_GZIP_BYTES.toLocaleString('en')} ` +
      `(over by ${(m.total.gzip - BUDGET_GZIP_BYTES).toLocaleString('en')}); largest: ${largest.file} ` +
      `${largest.gzip.toLocaleString('en')} bytes gzip; the package's own JS (src/) is ${js.toLocaleString('en')} bytes gzip`,
  );
});

test('the measurement follows the panel\'s imports', () => {
  const files = measure('panel').files.map((f) => f.file);
  for (const f of ['dist/panel.js', 'dist/component/microvet.js', 'dist/component/microvet.core.wasm']) {
    assert.ok(files.includes(f), `${f} is not counted (counted: ${files.join(', ')})`);
  }
  // The minified panel imports the shared chunk (src/index.js + src/random.js, bundled).
  assert.ok(files.some((f) => /^dist\/chunk-[\w-]+\.js$/.test(f)), `no shared chunk counted (counted: ${files.join(', ')})`);
  assert.ok(!files.some((f) => f.startsWith('src/')), 'the browser build must not pull unminified sources');
});
