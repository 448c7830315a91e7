#!/usr/bin/env node
// Build web/dist from the microvet component:
//   1. the component bytes: $MICROVET_WASM if set, else
//      `cargo run -q --release -p microvet -- component --out web/dist/microvet.wasm`
//      (the host CLI writes the component it embeds, i.e. the bytes wasmtime runs;
//      $MICROVET_CARGO_PROFILE picks another cargo profile, e.g. `dev`);
//   2. jco transpile → dist/component/{microvet.js, microvet.core*.wasm};
//   3. check that the core wasm served to JS is byte-for-byte inside the component;
//   4. minify for browsers with esbuild: src/index.js + src/panel.js bundled, with the jco glue
//      and the inlined trampolines (ESM, code splitting, source maps), to dist/index.js +
//      dist/panel.js — what the package's `browser` export condition and the demo page load;
//      src/read-file.js (node:fs) is swapped for its browser stand-in. src/ stays the
//      readable source Node imports. Then write dist/build.json (hashes, versions, commands).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(web, '..');
const dist = join(web, 'dist');
const out = join(dist, 'component');
const wasm = join(dist, 'microvet.wasm');

function fail(message) {
  console.error(`\nmicrovet build: error: ${message}`);
  process.exit(1);
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

// -- 1. the component bytes ---------------------------------------------------------------
// Start clean: a failed build must not leave an older dist/ behind for the tests to use.
// MICROVET_WASM is relative to where `npm run` was invoked (INIT_CWD), else to the cwd.
const fromEnv = process.env.MICROVET_WASM ? resolve(process.env.INIT_CWD ?? process.cwd(), process.env.MICROVET_WASM) : '';
const stale = [out, join(dist, 'build.json')];
if (fromEnv !== wasm) stale.push(wasm);
for (const f of stale) rmSync(f, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
if (fromEnv) {
  const src = fromEnv;
  if (!existsSync(src)) fail(`MICROVET_WASM=${process.env.MICROVET_WASM}: no such file (${src})`);
  if (src !== wasm) copyFileSync(src, wasm);
  console.log(`component: ${src} (from MICROVET_WASM)`);
} else {
  // The guest is always built with its own `guest` profile by host/build.rs, so the
  // component bytes do not depend on the host's profile: MICROVET_CARGO_PROFILE=dev reuses a
  // debug host build (much faster to build than wasmtime in release).
  const profile = process.env.MICROVET_CARGO_PROFILE || 'release';
  const profileArgs = profile === 'release' ? ['--release'] : ['--profile', profile];
  const args = ['run', '-q', ...profileArgs, '-p', 'microvet', '--', 'component', '--out', wasm];
  console.log(`component: cargo ${args.join(' ')}  (in ${repo})`);
  const r = spawnSync('cargo', args, { cwd: repo, stdio: 'inherit' });
  if (r.error) {
    fail(`could not run cargo (${r.error.message}).
  help: install the Rust toolchain, or set MICROVET_WASM to a built component, e.g.
        MICROVET_WASM=$(ls ../target/*/build/microvet-*/out/microvet.wasm | head -1) npm run build`);
  }
  if (r.status !== 0) {
    fail(`\`cargo ${args.join(' ')}\` failed with exit code ${r.status ?? r.signal}.
  help: fix the Rust build first (cargo build --release -p microvet), or set MICROVET_WASM
        to an already built component`);
  }
  if (!existsSync(wasm)) fail(`cargo succeeded but did not write ${wasm}`);
}

const component = readFileSync(wasm);
// A component's preamble is `\0asm` + version 0x0d + layer 1; a core module has layer 0.
if (component.length < 8 || component.readUInt32BE(0) !== 0x0061736d) {
  fail(`${wasm} is not WebAssembly`);
}
if (component.readUInt16LE(6) !== 1) {
  fail(`${wasm} is a core wasm module, not a component (was it componentized by wit-component?)`);
}

// -- 2. jco transpile ---------------------------------------------------------------------
const require = createRequire(import.meta.url);
// jco's `exports` hides package.json: resolve its entry point and walk up to it.
let jcoDir = dirname(require.resolve('@bytecodealliance/jco'));
while (!existsSync(join(jcoDir, 'package.json')) && dirname(jcoDir) !== jcoDir) jcoDir = dirname(jcoDir);
const jcoPkgPath = join(jcoDir, 'package.json');
const jcoPkg = JSON.parse(readFileSync(jcoPkgPath, 'utf8'));
const jcoBin = join(dirname(jcoPkgPath), typeof jcoPkg.bin === 'string' ? jcoPkg.bin : jcoPkg.bin.jco);

// --instantiation async: we hand jco the core modules (fs in Node, fetch in browsers) and
//   the one import ({'wasi:random/random': src/random.js}) ourselves, see src/index.js.
// --no-nodejs-compat: drops jco's own fs fallback, unused since we load the core modules.
// --minify: the JS glue only; the core wasm is never optimized (same bytes as wasmtime's).
// jco is pinned to 1.12.0: the last release before jco emitted component-model async-task
// bookkeeping into every glue file (this world is synchronous). Measured 2026-11-29 on this
// component, glue gzip -9: jco 1.12.0 5,855 B; 1.13.2 9,416 B; 1.15.4 9,729 B; 1.24.6 18,831 B;
// 1.35.0 22,033 B. Check the size test and the parity tests before moving it.
// --no-typescript: src/index.d.ts is the hand-written public type surface.
const jcoArgs = [
  'transpile', relative(web, wasm), '-o', relative(web, out), '--name', 'microvet',
  '--instantiation', 'async', '--no-nodejs-compat', '--minify', '--no-typescript', '--quiet',
];
console.log(`transpile: jco ${jcoArgs.join(' ')}  (jco ${jcoPkg.version})`);
const t = spawnSync(process.execPath, [jcoBin, ...jcoArgs], { cwd: web, stdio: 'inherit' });
if (t.status !== 0) fail(`jco transpile failed with exit code ${t.status ?? t.signal}`);

// Newer jco releases (1.13+) still write a top-level .d.ts and an empty interfaces/ directory
// despite --no-typescript; the package's types are src/index.d.ts, so drop both if present.
for (const f of readdirSync(out)) if (f.endsWith('.d.ts')) rmSync(join(out, f));
rmSync(join(out, 'interfaces'), { recursive: true, force: true });

// -- 3. checks, the small core modules inlined, build record ------------------------------
const written = readdirSync(out).filter((f) => f.endsWith('.js') || f.endsWith('.wasm')).sort();
const core = join(out, 'microvet.core.wasm');
if (!existsSync(core) || !existsSync(join(out, 'microvet.js'))) {
  fail(`jco did not write microvet.js and microvet.core.wasm (got: ${written.join(', ')})`);
}
const coreBytes = readFileSync(core);
if (component.indexOf(coreBytes) < 0) {
  fail('dist/component/microvet.core.wasm is not byte-for-byte inside the component');
}
const glue = readFileSync(join(out, 'microvet.js'), 'utf8');
if (glue.includes('preview2-shim')) fail('the jco output imports @bytecodealliance/preview2-shim');
// jco's other core modules are two trampolines of ~125 bytes: inlined into
// dist/component/small.js (base64), so a page fetches one wasm file, and `load({wasmUrl})`
// names the only file a host has to serve.
const small = {};
for (const f of written.filter((n) => n.endsWith('.wasm') && n !== 'microvet.core.wasm')) {
  const bytes = readFileSync(join(out, f));
  if (component.indexOf(bytes) < 0) fail(`dist/component/${f} is not byte-for-byte inside the component`);
  if (bytes.length > 4096) fail(`dist/component/${f} is ${bytes.length} bytes: too large to inline; serve it as a file`);
  small[f] = bytes.toString('base64');
  rmSync(join(out, f));
}
const requested = [...glue.matchAll(/"(microvet\.core\d*\.wasm)"/g)].map((m) => m[1]).sort();
const provided = ['microvet.core.wasm', ...Object.keys(small)].sort();
if (JSON.stringify(requested) !== JSON.stringify(provided)) {
  fail(`the glue asks for ${requested.join(', ')}; the build provides ${provided.join(', ')}`);
}
writeFileSync(
  join(out, 'small.js'),
  `// jco's small core modules (trampolines), inlined by scripts/build.mjs.\n` +
    `const b = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));\n` +
    `export const SMALL_CORE_MODULES = {${Object.entries(small).map(([f, b64]) => `\n  ${JSON.stringify(f)}: b(${JSON.stringify(b64)}),`).join('')}\n};\n`,
);
const files = readdirSync(out).filter((f) => f.endsWith('.js') || f.endsWith('.wasm')).sort();

// -- 4. browser build ---------------------------------------------------------------------
// The jco glue is left as jco wrote it (jco --minify): re-minifying it with esbuild makes it
// larger gzipped (jco 1.35.0: 12 % smaller raw, 3 % larger gzip; jco 1.12.0: 5,855 -> 6,700 B
// gzip; measured 2026-11-29), and gzip is what a browser downloads.
const esbuild = await import('esbuild');
const esbuildVersion = esbuild.version;
// safari16.4: the component uses WebAssembly SIMD (the guest is built with +simd128), which
// Safari has from 16.4 (Chrome 91, Firefox 89).
const TARGET = ['es2022', 'chrome100', 'firefox100', 'safari16.4'];
const CSS_TARGET = TARGET.slice(1);
for (const f of readdirSync(dist)) if (/^(index|panel|preload|shared|chunk-[^/]*)\.js(\.map)?$/.test(f)) rmSync(join(dist, f));
// The panel's stylesheet is a template literal in src/panel.js (readable there, and what Node
// and unbundled browsers use); esbuild minifies JS, not CSS inside JS strings, so minify it
// here with esbuild's CSS minifier (-1.5 KB raw, -0.3 KB gzip, measured 2026-11-29). The
// replacement keeps the line count, so the source map's lines still match src/panel.js.
const CSS_LITERAL = /^const CSS = `([^`$\\]*)`;$/m;
const minifyPanelCss = {
  name: 'microvet-panel-css',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]panel\.js$/ }, async (args) => {
      const source = readFileSync(args.path, 'utf8');
      const m = CSS_LITERAL.exec(source);
      if (!m) fail('src/panel.js: no `const CSS = `...`;` literal (without `${`, backticks or backslashes) to minify');
      const css = (await esbuild.transform(m[1], { loader: 'css', minify: true, target: CSS_TARGET })).code.trim();
      const lines = '\n'.repeat(m[0].split('\n').length - 1);
      return { contents: source.replace(m[0], () => `const CSS = ${JSON.stringify(css)};${lines}`), loader: 'js' };
    });
  },
};
// Output next to dist/component/ so src/index.js's `new URL('../dist/component/', import.meta.url)`
// resolves to the same directory from dist/ as from src/.
// src/read-file.js reads `file:` URLs with node:fs in Node; browsers get the stand-in.
const browserReadFile = {
  name: 'microvet-browser-read-file',
  setup(b) {
    b.onResolve({ filter: /^\.\/read-file\.js$/ }, (args) => ({ path: join(args.resolveDir, 'read-file.browser.js') }));
  },
};
const bundle = await esbuild.build({
  absWorkingDir: web,
  entryPoints: ['src/index.js', 'src/panel.js', 'src/preload.js'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: TARGET,
  minify: true,
  sourcemap: 'linked',
  sourcesContent: true,
  legalComments: 'none',
  // One shared chunk under a fixed name, so a page can hint it (`<link rel="modulepreload">`);
  // a second chunk would collide with it and fail the build.
  chunkNames: 'shared',
  // The jco glue and the inlined trampolines are bundled in (no request chain before the
  // wasm); the core module stays a file, found by `new URL('…wasm', import.meta.url)`.
  metafile: true,
  plugins: [minifyPanelCss, browserReadFile],
  logLevel: 'warning',
});
if (bundle.errors.length) fail(`esbuild: ${bundle.errors.map((e) => e.text).join('; ')}`);
const browserFiles = Object.keys(bundle.metafile.outputs).filter((f) => f.endsWith('.js')).sort();
// What the `browser` condition reaches must not name a Node built-in (bundlers stop on it).
for (const f of browserFiles) {
  const js = readFileSync(join(web, f), 'utf8');
  const m = /\b(?:from|import)\s*\(?\s*["'](node:[^"']+|fs|path|url|crypto|module|fs\/promises)["']/.exec(js);
  if (m) fail(`${f} imports the Node built-in \`${m[1]}\`; the browser build must not`);
}

const record = {
  component: { file: 'dist/microvet.wasm', bytes: component.length, sha256: sha256(component) },
  core: { file: 'dist/component/microvet.core.wasm', bytes: coreBytes.length, sha256: sha256(coreBytes) },
  jco: jcoPkg.version,
  command: `jco ${jcoArgs.join(' ')}`,
  esbuild: esbuildVersion,
  files: files.map((f) => `dist/component/${f}`),
  browser: browserFiles,
};
writeFileSync(join(dist, 'build.json'), `${JSON.stringify(record, null, 2)}\n`);
console.log(`built: ${[...record.files, ...record.browser].join(', ')}`);
console.log(`component sha256 ${record.component.sha256} (${record.component.bytes} bytes)`);
