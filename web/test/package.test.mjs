// What `npm pack` puts in the tarball (`npm pack --dry-run --json`): exactly the runtime files,
// the types, README and LICENSE; every path package.json points at is in it; nothing else
// (no tests, demo, scripts, the componentized .wasm or the build record).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { packList } from './consumer/pack.mjs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** Each file the tarball must hold. */
const EXPECTED = [
  /^LICENSE$/,
  /^README\.md$/,
  /^package\.json$/,
  /^dist\/component\/microvet\.core\.wasm$/,
  /^dist\/component\/microvet\.js$/,
  /^dist\/component\/small\.js$/,
  /^dist\/index\.js$/,
  /^dist\/index\.js\.map$/,
  /^dist\/panel\.js$/,
  /^dist\/panel\.js\.map$/,
  /^dist\/preload\.js$/,
  /^dist\/preload\.js\.map$/,
  /^dist\/shared\.js$/,
  /^dist\/shared\.js\.map$/,
  /^src\/core-wasm\.d\.ts$/,
  /^src\/index\.d\.ts$/,
  /^src\/index\.js$/,
  /^src\/panel\.d\.ts$/,
  /^src\/panel\.js$/,
  /^src\/preload\.d\.ts$/,
  /^src\/preload\.js$/,
  /^src\/random\.js$/,
  /^src\/read-file\.browser\.js$/,
  /^src\/read-file\.js$/,
];

let files;
const list = () => {
  files ??= packList();
  return files;
};

test('npm pack holds exactly the runtime files, types, README and LICENSE', () => {
  const paths = list().map((f) => f.path);
  const unexpected = paths.filter((p) => !EXPECTED.some((re) => re.test(p)));
  const missing = EXPECTED.filter((re) => !paths.some((p) => re.test(p))).map(String);
  assert.deepEqual({ unexpected, missing }, { unexpected: [], missing: [] }, `packed: ${paths.join(', ')}`);
});

test('every file package.json points at is packed', () => {
  const paths = new Set(list().map((f) => f.path));
  const targets = [pkg.main, pkg.types];
  const walk = (v) => {
    if (typeof v === 'string') targets.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(pkg.exports);
  walk(pkg.typesVersions);
  walk(pkg.sideEffects);
  for (const t of targets) assert.ok(paths.has(t.replace(/^\.\//, '')), `package.json points at ${t}, which is not packed`);
});

test('the LICENSE packed is the license package.json names', () => {
  assert.equal(pkg.license, 'Apache-2.0');
  const license = readFileSync(new URL('../LICENSE', import.meta.url), 'utf8');
  assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
  assert.ok(list().find((f) => f.path === 'LICENSE').size === Buffer.byteLength(license));
});

test('the README tells a consumer how to install and bundle the package', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Use it in your app'));
  assert.ok(section, 'web/README.md has no "Use it in your app" section');
  for (const needle of ['npm install', 'microvet/core.wasm', 'wasmUrl', 'useEngine', 'Vite', 'webpack', 'esbuild', 'application/wasm']) {
    assert.ok(section.includes(needle), `the install section does not mention ${needle}`);
  }
});
