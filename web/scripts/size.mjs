#!/usr/bin/env node
// Raw and gzip (level 9) sizes of everything a browser downloads for `await load()`.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

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
  return { file: f, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
});
const total = rows.reduce((a, r) => ({ raw: a.raw + r.raw, gzip: a.gzip + r.gzip }), { raw: 0, gzip: 0 });

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const pad = Math.max(...files.map((f) => f.length), 5);
for (const r of rows) console.log(`${r.file.padEnd(pad)}  ${kib(r.raw).padStart(10)}  ${kib(r.gzip).padStart(10)} gzip`);
console.log(`${'total'.padEnd(pad)}  ${kib(total.raw).padStart(10)}  ${kib(total.gzip).padStart(10)} gzip`);
if (process.argv.includes('--json')) console.log(JSON.stringify({ files: rows, total }));
