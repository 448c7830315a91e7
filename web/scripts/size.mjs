#!/usr/bin/env node
// Raw, gzip (level 9) and brotli (quality 11) sizes of everything a browser downloads:
//   - for `await load()`:            dist/index.js (the minified browser build of src/index.js)
//                                    and what it imports, plus dist/component/*
//   - for `<microvet-panel>`:        dist/panel.js and what it imports, plus dist/component/*
// The JS files are found by following the static `import … from './x.js'` statements from
// the entry point (the jco glue is bundled into the browser build), so a new module is
// counted without editing this script. The wasm files are every `.wasm` in dist/component
// (the core module; the build inlines jco's tiny trampolines). The browser test checks that
// this is exactly what a page fetches.
//
//   npm run size              tables for both entry points
//   npm run size -- --json    the same as JSON
//   npm run size -- --readme  write the tables into README.md (between the `size:` markers)
// `measure(entry)` is exported for test/size.test.mjs (the budget check, and that README.md's
// figures are what this script writes).
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

export const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const COMPONENT = join(WEB, 'dist', 'component');

/** The entry points a page can start from. */
export const ENTRIES = Object.freeze({ load: 'dist/index.js', panel: 'dist/panel.js' });

/** `src/x.js` and every local module it imports (statically, or by `import('./literal.js')`), in order. */
export function importClosure(entry) {
  const seen = [];
  const visit = (rel) => {
    if (seen.includes(rel)) return;
    seen.push(rel);
    const file = join(WEB, rel);
    const source = readFileSync(file, 'utf8');
    const specs = [
      // `import … from './x.js'`, also minified (`import{a as b}from"./x.js"`, mid-line).
      ...source.matchAll(/(?:^|[;}\s])(?:import|export)\b[^;'"]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/gm),
      ...source.matchAll(/(?:^|[;}\s])import\s*['"](\.{1,2}\/[^'"]+)['"]/gm),
      ...source.matchAll(/\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g),
    ].map((m) => m[1]);
    for (const spec of specs) visit(relative(WEB, resolve(dirname(file), spec)).split('\\').join('/'));
  };
  visit(entry);
  return seen;
}

/** The wasm files a page loads besides the JS (the component's core module). */
export function componentFiles() {
  if (!existsSync(COMPONENT)) throw new Error('no dist/component: run `npm run build` first');
  return readdirSync(COMPONENT)
    .filter((f) => f.endsWith('.wasm'))
    .sort()
    .map((f) => `dist/component/${f}`);
}

/**
 * Sizes of everything downloaded for one entry point (`'load'`, `'panel'`, or a path).
 * @returns {{entry: string, files: {file: string, raw: number, gzip: number, br: number}[], total: {raw: number, gzip: number, br: number}}}
 */
export function measure(entry = 'panel') {
  const start = ENTRIES[entry] ?? entry;
  const files = [...importClosure(start), ...componentFiles()];
  const rows = files.map((f) => {
    const bytes = readFileSync(join(WEB, f));
    return {
      file: f,
      raw: bytes.length,
      gzip: gzipSync(bytes, { level: 9 }).length,
      br: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    };
  });
  const total = rows.reduce((a, r) => ({ raw: a.raw + r.raw, gzip: a.gzip + r.gzip, br: a.br + r.br }), { raw: 0, gzip: 0, br: 0 });
  return { entry: start, files: rows, total };
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;


/** A Markdown table of one measurement. */
export function table(m) {
  const pad = Math.max(...m.files.map((r) => r.file.length), 5);
  const cell = (v) => v.padStart(10);
  const line = (name, raw, gzip, br) => `| ${name.padEnd(pad)} | ${cell(raw)} | ${cell(gzip)} | ${cell(br)} |`;
  const row = (name, r) => line(name, kib(r.raw), kib(r.gzip), kib(r.br));
  return [
    line('file', 'raw', 'gzip', 'brotli'),
    `|${'-'.repeat(pad + 2)}|-----------:|-----------:|-----------:|`,
    ...m.files.map((r) => row(r.file, r)),
    row('total', m.total),
  ].join('\n');
}

export const README = join(WEB, 'README.md');
export const README_START = '<!-- size:start (written by `npm run size -- --readme`; test/size.test.mjs checks it) -->';
export const README_END = '<!-- size:end -->';
const en = (n) => n.toLocaleString('en');

/** The README's size section body, from measurements of both entry points. */
export function readmeBlock([loadM, panelM] = [measure('load'), measure('panel')]) {
  const core = panelM.files.find((f) => f.file.endsWith('/microvet.core.wasm'));
  const jsOf = (m) => m.files.filter((f) => f.file.endsWith('.js')).reduce((a, f) => a + f.gzip, 0);
  let build = {};
  try {
    build = JSON.parse(readFileSync(join(WEB, 'dist', 'build.json'), 'utf8'));
  } catch {
    // No build record: the line about the component is left out.
  }
  return [
    'What a browser downloads for `await load()` (gzip level 9, brotli quality 11):',
    '',
    table(loadM),
    '',
    'and for `<microvet-panel>`:',
    '',
    table(panelM),
    '',
    ...(build.component ? [`Component ${build.component.bytes.toLocaleString('en')} bytes (sha256 \`${build.component.sha256.slice(0, 8)}…\`), transpiled by jco ${build.jco}.`] : []),
    `\`await load()\`: ${en(loadM.total.gzip)} bytes gzip, of which ${en(jsOf(loadM))} are JavaScript; ` +
      `\`<microvet-panel>\`: ${en(panelM.total.gzip)} bytes gzip, of which ${en(panelM.total.gzip - (core?.gzip ?? 0))} are not the core module.`,
  ].join('\n');
}

/** README.md with its size section replaced by `block`. */
export function withReadmeBlock(readme, block) {
  const a = readme.indexOf(README_START);
  const b = readme.indexOf(README_END);
  if (a < 0 || b < a) throw new Error(`README.md has no size section (${README_START} … ${README_END})`);
  return `${readme.slice(0, a + README_START.length)}\n${block}\n${readme.slice(b)}`;
}

/** The size section README.md holds now. */
export function readmeSection(readme) {
  const a = readme.indexOf(README_START);
  const b = readme.indexOf(README_END);
  if (a < 0 || b < a) return null;
  return readme.slice(a + README_START.length, b).trim();
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  let results;
  try {
    results = Object.keys(ENTRIES).map((e) => measure(e));
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
  if (process.argv.includes('--readme')) {
    writeFileSync(README, withReadmeBlock(readFileSync(README, 'utf8'), readmeBlock(results)));
    console.log(`wrote the size section of ${relative(process.cwd(), README) || README}`);
  } else if (process.argv.includes('--json')) {
    console.log(JSON.stringify(results));
  } else {
    for (const m of results) {
      console.log(`\nWhat a browser downloads for ${m.entry === ENTRIES.load ? '`await load()`' : '`<microvet-panel>`'} (from ${m.entry}):\n`);
      console.log(table(m));
      console.log(`\ntotal: ${m.total.gzip.toLocaleString('en')} bytes gzip (level 9), ${m.total.br.toLocaleString('en')} bytes brotli (quality 11)`);
    }
  }
}
