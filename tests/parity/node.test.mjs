// Parity, Node side: the transpiled component, run by Node, must produce exactly the bytes
// of every `tests/corpus/<case>/expected.json` (written by the native Rust core), each case
// vetted with its waivers file (`waivers.yaml`) on its day (`today`) when it has them.
//   cd web && npm run build && node --test ../tests/parity/node.test.mjs
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';

import { load } from '../../web/src/index.js';
import { firstDifference, listCases, outputFor, sameBytes } from './parity-lib.mjs';

const MIN_CASES = 12;
/** Corpus cases with a waivers file and a day, of which some waive findings. */
const MIN_WAIVER_CASES = 3;

if (!existsSync(new URL('../../web/dist/component/microvet.js', import.meta.url))) {
  throw new Error('web/dist is missing: run `npm run build` in web/ first');
}

const cases = await listCases();

test(`the corpus has at least ${MIN_CASES} cases`, () => {
  assert.ok(cases.length >= MIN_CASES, `found ${cases.length} case(s) in the corpus, want >= ${MIN_CASES}`);
});

test('every corpus case: Node output === expected.json, byte for byte', async (t) => {
  const mv = await load();
  const policy = mv.policy();
  for (const c of cases) {
    await t.test(c.name, () => {
      const actual = outputFor(mv, c, policy);
      if (!sameBytes(actual, c.expectedBytes)) {
        assert.fail(`${c.name} (${c.inputFile}): ${firstDifference(actual, c.expected) ?? 'same text, different bytes (expected.json is not valid UTF-8?)'}`);
      }
    });
  }
});

test(`the corpus has at least ${MIN_WAIVER_CASES} cases with waivers and a day, and their verdicts list waived findings`, () => {
  const withWaivers = cases.filter((c) => c.waivers !== null && c.today !== null);
  assert.ok(withWaivers.length >= MIN_WAIVER_CASES, `found ${withWaivers.length} case(s) with waivers.yaml and today`);
  const waiving = withWaivers.filter((c) => (JSON.parse(c.expected).waived ?? []).length > 0);
  assert.ok(waiving.length >= 2, `only ${waiving.map((c) => c.name).join(', ') || 'no case'} list waived findings in expected.json`);
});

test('a waiver case vetted without its waivers, or on no day, gives other bytes (the parity above checks both)', async (t) => {
  const mv = await load();
  const policy = mv.policy();
  for (const c of cases.filter((x) => x.waivers !== null && (JSON.parse(x.expected).waived ?? []).length > 0)) {
    await t.test(c.name, () => {
      const ignoredWaivers = outputFor(mv, { ...c, waivers: null }, policy);
      const noDay = outputFor(mv, { ...c, today: null }, policy);
      assert.doesNotMatch(ignoredWaivers, /"waived":/);
      assert.doesNotMatch(noDay, /"waived":/);
      assert.notEqual(ignoredWaivers, c.expected);
      assert.notEqual(noDay, c.expected);
      // Without a day, each of the app's waivers says so.
      assert.match(noDay, /"rule":"MV-WAIVER-001"/);
    });
  }
});

test('verdict objects re-serialize to the canonical bytes (JSON.stringify(vet(x)) === vetJson(x))', async (t) => {
  const mv = await load();
  const policy = mv.policy();
  for (const c of cases) {
    const canonical = outputFor(mv, c, policy);
    if (canonical.startsWith('{"error":')) continue;
    await t.test(c.name, () => {
      const p = c.waivers === null ? policy : policy.withWaivers(c.waivers);
      const options = { today: c.today };
      const parsed = c.kind === 'dcr' ? p.vetDcr(c.input, options) : p.vet(c.input, options);
      assert.equal(`${JSON.stringify(parsed)}\n`, canonical);
    });
  }
});

test('vetBatch agrees with vet on no day, case by case (the batch is day-less)', async (t) => {
  const mv = await load();
  const builtin = mv.policy();
  const manifests = cases.filter((c) => c.kind === 'manifest');
  // The cases without waivers in one batch; each waiver case in a batch of its own policy.
  const plain = manifests.filter((c) => c.waivers === null);
  const batch = builtin.vetBatch(plain.map((c) => c.input));
  assert.equal(batch.length, plain.length);
  const check = (r, c, policy) => {
    const single = outputFor(mv, { ...c, today: null }, policy);
    const fromBatch = r.ok ? `${JSON.stringify(r.verdict)}\n` : `${JSON.stringify({ error: r.error })}\n`;
    assert.equal(fromBatch, single, c.name);
  };
  batch.forEach((r, i) => check(r, plain[i], builtin));
  for (const c of manifests.filter((x) => x.waivers !== null)) {
    await t.test(c.name, () => {
      const p = builtin.withWaivers(c.waivers);
      const [r] = p.vetBatch([c.input]);
      assert.equal(r.ok, true);
      assert.equal(r.verdict.waived, undefined, 'a day-less batch waives nothing');
      check(r, { ...c, waivers: null }, p);
    });
  }
});

test('a fresh instance gives the same bytes as the shared one', async () => {
  const shared = await load();
  const fresh = await load({ fresh: true });
  assert.notEqual(fresh, shared);
  for (const c of cases) {
    assert.equal(outputFor(fresh, c), outputFor(shared, c), c.name);
  }
});
