// The build output: same bytes as the component, no WASI shim, and random.js.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';

import { getRandomBytes, getRandomU64, random } from '../src/random.js';

const dist = new URL('../dist/', import.meta.url);

test('the core wasm that JS runs is byte-for-byte inside the component', () => {
  const component = readFileSync(new URL('microvet.wasm', dist));
  const build = JSON.parse(readFileSync(new URL('build.json', dist), 'utf8'));
  for (const f of readdirSync(new URL('component/', dist)).filter((n) => n.endsWith('.wasm'))) {
    const core = readFileSync(new URL(`component/${f}`, dist));
    if (f === 'microvet.core.wasm') {
      assert.ok(component.indexOf(core) >= 0, `${f} is not inside dist/microvet.wasm`);
      assert.equal(core.length, build.core.bytes);
    }
  }
});

test('the generated glue imports nothing: no @bytecodealliance/preview2-shim at run time', () => {
  const glue = readFileSync(new URL('component/microvet.js', dist), 'utf8');
  assert.doesNotMatch(glue, /preview2-shim/);
  assert.doesNotMatch(glue, /^\s*import\s*[{*\w]/m, 'static imports in microvet.js');
  assert.doesNotMatch(glue, /\bimport\(/, 'dynamic imports in microvet.js');
});

test('the component imports only wasi:random/random', () => {
  const glue = readFileSync(new URL('component/microvet.js', dist), 'utf8');
  const wasi = new Set(glue.match(/wasi:[a-z-]+\/[a-z-]+/g) ?? []);
  assert.deepEqual([...wasi], ['wasi:random/random']);
});

test('random.getRandomBytes fills any length, in 65536-byte chunks', () => {
  assert.equal(getRandomBytes(0n).length, 0);
  const big = getRandomBytes(200_000n);
  assert.equal(big.length, 200_000);
  // Each chunk was filled: no 4 KiB run of zeros anywhere (probability ~0 for random data).
  for (let off = 0; off < big.length; off += 4096) {
    assert.ok(big.subarray(off, off + 4096).some((b) => b !== 0), `zeros at ${off}`);
  }
  assert.throws(() => getRandomBytes(-1n), RangeError);
  assert.equal(random.getRandomBytes, getRandomBytes);
});

test('random.getRandomU64 is a u64 bigint', () => {
  const seen = new Set();
  for (let i = 0; i < 16; i++) {
    const v = getRandomU64();
    assert.equal(typeof v, 'bigint');
    assert.ok(v >= 0n && v < 1n << 64n);
    seen.add(v);
  }
  assert.ok(seen.size > 1);
});
