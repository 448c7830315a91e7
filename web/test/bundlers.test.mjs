// The packed package in a builder's bundler: esbuild, Vite and webpack (pinned
// devDependencies) each bundle a tiny page that imports `microvet` and `microvet/panel` from
// node_modules (the `npm pack` tarball, unpacked), and the page must vet in Chromium (Debian's
// /usr/bin/chromium driven by playwright-core) under a strict CSP:
//   - the bundle builds without errors or warnings (no Node built-in reachable from the
//     `browser` condition);
//   - Vite and webpack emit the core wasm themselves (`new URL('…wasm', import.meta.url)`),
//     the page calls plain `load()`; esbuild does not emit such URLs, so its page imports
//     `microvet/core.wasm` with esbuild's `file` loader and passes it as `load({wasmUrl})`,
//     gives its panel that engine (`useEngine`), and a second panel its own `wasm-url`
//     attribute (which wins over the page's engine);
//   - the page's verdict JSON is byte for byte Node's, the panel shows the same decision,
//     and the wasm is fetched once per page (one shared engine).
// Outputs (bundles, screenshots) go to web/test-output/bundlers-*/.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { load } from '../src/index.js';
import { serve } from '../../tests/parity/static-server.mjs';
import { consumerProject } from './consumer/pack.mjs';
import { CHROMIUM, browserSkip, LAUNCH_ARGS } from './support/chromium.mjs';

const require = createRequire(import.meta.url);
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'";
const MANIFEST = readFileSync(new URL('../../examples/hr-onboarding-helper.yaml', import.meta.url), 'utf8');

const skip = browserSkip('component/microvet.core.wasm');

/** The page's script: vet with `load()` and with a panel; report both on `window.__result`. */
function mainJs({ wasmImport }) {
  return `import { load } from 'microvet';
import { useEngine } from 'microvet/panel';
${wasmImport ? "import wasmUrl from 'microvet/core.wasm';\n" : ''}
const MANIFEST = ${JSON.stringify(MANIFEST)};
const options = ${wasmImport ? '{ wasmUrl }' : '{}'};
try {
  const engine = load(options);
  ${wasmImport ? 'useEngine(engine);' : ''}
  const panel = document.querySelector('microvet-panel');
  const shown = new Promise((resolve, reject) => {
    panel.addEventListener('microvet-verdict', (e) => resolve(e.detail.decision), { once: true });
    panel.addEventListener('microvet-error', (e) => reject(e.detail), { once: true });
  });
  panel.manifest = MANIFEST;
${wasmImport ? `  // A second panel that says where its wasm is (another URL: another instance) wins over the
  // page's engine.
  const second = document.createElement('microvet-panel');
  second.setAttribute('wasm-url', wasmUrl + '?second');
  const secondShown = new Promise((resolve, reject) => {
    second.addEventListener('microvet-verdict', (e) => resolve(e.detail.decision), { once: true });
    second.addEventListener('microvet-error', (e) => reject(e.detail), { once: true });
  });
  second.manifest = MANIFEST;
  document.body.append(second);
` : ''}  const mv = await engine;
  const json = mv.policy().vetJson(MANIFEST);
  window.__result = { json, panel: await shown, badge: panel.shadowRoot.querySelector('.badge-text').textContent${wasmImport ? ', second: await secondShown, same: (await second.engine) === mv' : ''} };
} catch (e) {
  window.__result = { error: String(e && e.stack || e) };
}
`;
}

const HTML = (script) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bundled microvet</title>
<script type="module" src="${script}"></script></head>
<body><microvet-panel></microvet-panel></body></html>
`;

/** Write the consumer project's sources. */
function project(name, { wasmImport = false } = {}) {
  const dir = consumerProject(name, ['vite']);
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'src', 'main.js'), mainJs({ wasmImport }));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module' }, null, 2)}\n`);
  return dir;
}

const BUNDLERS = {
  async esbuild() {
    const dir = project('bundlers-esbuild', { wasmImport: true });
    const esbuild = await import('esbuild');
    const out = join(dir, 'dist');
    const r = await esbuild.build({
      absWorkingDir: dir,
      entryPoints: ['src/main.js'],
      outdir: out,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      loader: { '.wasm': 'file' },
      logLevel: 'silent',
    });
    writeFileSync(join(out, 'index.html'), HTML('./main.js'));
    return { out, warnings: r.warnings.map((w) => w.text) };
  },

  async vite() {
    const dir = project('bundlers-vite');
    writeFileSync(join(dir, 'index.html'), HTML('/src/main.js'));
    const { build } = await import('vite');
    const warnings = [];
    const logger = {
      info() {},
      warn: (m) => warnings.push(m),
      warnOnce: (m) => warnings.push(m),
      error: (m) => warnings.push(`error: ${m}`),
      clearScreen() {},
      hasErrorLogged: () => false,
      hasWarned: false,
    };
    await build({ root: dir, base: './', logLevel: 'warn', customLogger: logger, configFile: false, build: { target: 'es2022', outDir: 'dist', emptyOutDir: true } });
    return { out: join(dir, 'dist'), warnings };
  },

  async webpack() {
    const dir = project('bundlers-webpack');
    const webpack = require('webpack');
    const out = join(dir, 'dist');
    const stats = await new Promise((resolve, reject) => {
      webpack({
        mode: 'production',
        context: dir,
        entry: './src/main.js',
        target: 'web',
        output: { path: out, filename: 'main.js', publicPath: 'auto', clean: true },
        devtool: false,
        performance: { hints: false },
      }).run((err, s) => (err ? reject(err) : resolve(s)));
    });
    const info = stats.toJson({ all: false, errors: true, warnings: true });
    if (stats.hasErrors()) throw new Error(info.errors.map((e) => e.message).join('\n'));
    // webpack's output is a classic script (it bundles the module graph itself).
    writeFileSync(join(out, 'index.html'), HTML('./main.js').replace('<script type="module" src=', '<script defer src='));
    return { out, warnings: info.warnings.map((w) => w.message) };
  },
};

let browser;
const expected = (await load()).policy().vetJson(MANIFEST);

before(async () => {
  if (skip) return;
  const { chromium } = require('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, headless: true, timeout: 30_000 });
});

after(async () => {
  await browser?.close().catch(() => {});
});

for (const [name, bundle] of Object.entries(BUNDLERS)) {
  test(`${name}: the packed package bundles cleanly and the page vets in Chromium like Node`, { skip, timeout: 180_000 }, async () => {
    const { out, warnings } = await bundle();
    assert.deepEqual(warnings, [], `${name} warned`);
    const files = readdirSync(out, { recursive: true }).map(String);
    const wasm = files.filter((f) => f.endsWith('.wasm'));
    assert.equal(wasm.length, 1, `${name} emitted ${wasm.length} wasm files: ${files.join(', ')}`);
    for (const f of files.filter((x) => x.endsWith('.js'))) {
      assert.doesNotMatch(readFileSync(join(out, f), 'utf8'), /["']node:[a-z/]+["']/, `${f} names a Node built-in`);
    }

    const server = await serve(out, { headers: (file) => (file.endsWith('.html') ? { 'content-security-policy': CSP } : {}) });
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    try {
      const page = await context.newPage();
      const problems = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      await page.goto(server.url, { waitUntil: 'load' });
      await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 30_000 });
      const r = await page.evaluate(() => window.__result);
      assert.equal(r.error, undefined, r.error);
      assert.equal(r.json, expected, 'the bundled page gives Node\'s verdict bytes');
      assert.equal(r.panel, JSON.parse(expected).decision);
      assert.equal(r.badge, 'Approve with controls');
      if (name === 'esbuild') {
        assert.equal(r.second, r.panel, 'the panel with a wasm-url attribute vets too');
        assert.equal(r.same, false, 'the panel with its own wasm-url used the page\'s engine');
      }
      const fetchedWasm = server.requests.filter((q) => q.path.endsWith('.wasm'));
      // One per wasm URL: esbuild's page also has the panel with its own `?second` URL.
      assert.equal(fetchedWasm.length, name === 'esbuild' ? 2 : 1, `wasm requests: ${JSON.stringify(fetchedWasm)}`);
      assert.deepEqual(server.requests.filter((q) => q.status !== 200 && q.path !== '/favicon.ico'), []);
      await page.screenshot({ path: join(out, '..', `${name}.png`) });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
      await server.close();
    }
  });
}
