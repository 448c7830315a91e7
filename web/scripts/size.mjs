#!/usr/bin/env node
// Raw, gzip (level 9) and brotli (quality 11) sizes of everything a browser downloads for `await load()`.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const component = join(web, 'dist', 'component');
let names;
try {
  names = readdirSync(component).filter((f) => f.endsWith('.js') || f.endsWith('.wasm')).sort();
} catch {
  console.error('no dist/component: run `npm run build` first');
  process.exit(1);
}
const files = ['src/index.js', 'src/random.js', ...names.map((f) => `dist/component/${f}`)];

const rows = files.map((f) => {
  const bytes = readFileSync(join(web, f));
  const br = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  return { file: f, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, br };
});
const total = rows.reduce((a, r) => ({ raw: a.raw + r.raw, gzip: a.gzip + r.gzip, br: a.br + r.br }), { raw: 0, gzip: 0, br: 0 });

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const pad = Math.max(...files.map((f) => f.length), 5);
const cell = (v) => v.padStart(10);
const line = (name, raw, gzip, br) => `| ${name.padEnd(pad)} | ${cell(raw)} | ${cell(gzip)} | ${cell(br)} |`;
const row = (name, r) => line(name, kib(r.raw), kib(r.gzip), kib(r.br));
console.log(line('file', 'raw', 'gzip', 'brotli'));
console.log(`|${'-'.repeat(pad + 2)}|-----------:|-----------:|-----------:|`);
for (const r of rows) console.log(row(r.file, r));
console.log(row('total', total));
if (process.argv.includes('--json')) console.log(JSON.stringify({ files: rows, total }));
