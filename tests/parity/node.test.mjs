// Parity, Node side: the transpiled component, run by Node, must produce exactly the bytes
// of every `tests/corpus/<case>/expected.json` (written by the native Rust core).
//   cd web && npm run build && node --test ../tests/parity/node.test.mjs
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';

import { load } from '../../web/src/index.js';
import { firstDifference, listCases, outputFor, sameBytes } from './parity-lib.mjs';

const MIN_CASES = 12;

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
      const actual = outputFor(mv, c.kind, c.input, policy);
      if (!sameBytes(actual, c.expectedBytes)) {
        assert.fail(`${c.name} (${c.inputFile}): ${firstDifference(actual, c.expected) ?? 'same text, different bytes (expected.json is not valid UTF-8?)'}`);
      }
    });
  }
});

test('verdict objects re-serialize to the canonical bytes (JSON.stringify(vet(x)) === vetJson(x))', async (t) => {
  const mv = await load();
  const policy = mv.policy();
  for (const c of cases) {
    const canonical = outputFor(mv, c.kind, c.input, policy);
    if (canonical.startsWith('{"error":')) continue;
    await t.test(c.name, () => {
      const parsed = c.kind === 'dcr' ? policy.vetDcr(c.input) : policy.vet(c.input);
      assert.equal(`${JSON.stringify(parsed)}\n`, canonical);
    });
  }
});

test('vetBatch agrees with vet, case by case', async () => {
  const mv = await load();
  const policy = mv.policy();
  const manifests = cases.filter((c) => c.kind === 'manifest');
  const batch = policy.vetBatch(manifests.map((c) => c.input));
  assert.equal(batch.length, manifests.length);
  batch.forEach((r, i) => {
    const single = outputFor(mv, 'manifest', manifests[i].input, policy);
    const fromBatch = r.ok ? `${JSON.stringify(r.verdict)}\n` : `${JSON.stringify({ error: r.error })}\n`;
    assert.equal(fromBatch, single, manifests[i].name);
  });
});

test('a fresh instance gives the same bytes as the shared one', async () => {
  const shared = await load();
  const fresh = await load({ fresh: true });
  assert.notEqual(fresh, shared);
  for (const c of cases) {
    assert.equal(outputFor(fresh, c.kind, c.input), outputFor(shared, c.kind, c.input), c.name);
  }
});
