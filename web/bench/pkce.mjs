// PKCE pairs per second in Node, side by side in one process:
//   microvet (the WebAssembly component through jco): generate() one pair per call, and
//   generateBatch(len, 1000) (one JS↔Wasm crossing per 1000 pairs)
//   vs npm pkce-challenge (default export) and oauth4webapi
//   (generateRandomCodeVerifier + calculatePKCECodeChallenge).
// Each contender runs ROUNDS rounds of MS milliseconds, interleaved (so drift from other
// load on the machine hits all of them alike); the median round counts. Ratios at the end.
//
//   cd web && npm run build && node bench/pkce.mjs            # MICROVET_BENCH_MS=1000 ROUNDS=5
//   node bench/pkce.mjs --json                                # machine-readable
import { cpus } from 'node:os';

import * as oauth from 'oauth4webapi';
import pkceChallenge from 'pkce-challenge';

import { load } from '../src/index.js';

const MS = Number(process.env.MICROVET_BENCH_MS ?? 1000);
const ROUNDS = Number(process.env.MICROVET_BENCH_ROUNDS ?? 5);
const BATCH = 1000;
const json = process.argv.includes('--json');

const mv = await load();
const { pkce } = mv;

/**
 * A contender: `run()` makes some pairs (sync or async) and returns how many; `check`
 * validates one sample so the benchmark cannot measure something that does not work.
 */
const contenders = [
  { name: 'microvet generate(43)        single', len: 43, run: () => (pkce.generate(43), 1) },
  { name: 'microvet generateBatch(43,1000) /pair', len: 43, run: () => pkce.generateBatch(43, BATCH).length },
  { name: 'pkce-challenge(43)', len: 43, run: async () => (await pkceChallenge(43), 1) },
  {
    name: 'oauth4webapi verifier+challenge (43)',
    len: 43,
    run: async () => {
      const v = oauth.generateRandomCodeVerifier();
      await oauth.calculatePKCECodeChallenge(v);
      return 1;
    },
  },
  { name: 'microvet generate(64)        single', len: 64, run: () => (pkce.generate(64), 1) },
  { name: 'microvet generateBatch(64,1000) /pair', len: 64, run: () => pkce.generateBatch(64, BATCH).length },
  { name: 'pkce-challenge(64)', len: 64, run: async () => (await pkceChallenge(64), 1) },
  // Context, not a contender: the cost of one JS→Wasm→JS crossing with a small string result.
  { name: 'microvet challenge(v) [call overhead]', len: 43, run: () => (pkce.challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 1) },
];

// Sanity: every contender produces a valid pair of the right length.
{
  const p = pkce.generate(43);
  if (p.verifier.length !== 43 || pkce.challenge(p.verifier) !== (await oauth.calculatePKCECodeChallenge(p.verifier))) {
    throw new Error('microvet pair is not valid');
  }
  const q = await pkceChallenge(64);
  if (q.code_verifier.length !== 64 || pkce.challenge(q.code_verifier) !== q.code_challenge) throw new Error('pkce-challenge pair is not valid');
  const v = oauth.generateRandomCodeVerifier();
  if (v.length !== 43) throw new Error('oauth4webapi verifier is not 43 characters');
}

/** Run `c` for about `ms` milliseconds; pairs per second. */
async function round(c, ms) {
  const end = performance.now() + ms;
  let pairs = 0;
  let t0 = performance.now();
  let t1 = t0;
  while (t1 < end) {
    // Check the clock every few calls only; a batch call is long enough on its own.
    for (let i = 0; i < 16; i++) {
      const r = c.run();
      pairs += typeof r === 'number' ? r : await r;
    }
    t1 = performance.now();
  }
  return (pairs * 1000) / (t1 - t0);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Warm up (JIT, wasm tier-up) each contender briefly.
for (const c of contenders) await round(c, Math.min(300, MS));

const results = new Map(contenders.map((c) => [c.name, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const c of contenders) results.get(c.name).push(await round(c, MS));
}

const rate = (name) => median(results.get(name));
const fmtRate = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`).padStart(9);
const fmtUs = (x) => `${(1e6 / x).toFixed(2)} µs`.padStart(10);

const find = (prefix) => contenders.find((c) => c.name.startsWith(prefix)).name;
const ratios = [
  ['microvet generateBatch(43,1000) /pair', 'microvet generate(43)'],
  ['microvet generateBatch(43,1000) /pair', 'pkce-challenge(43)'],
  ['microvet generateBatch(43,1000) /pair', 'oauth4webapi'],
  ['microvet generate(43)', 'pkce-challenge(43)'],
  ['microvet generate(43)', 'oauth4webapi'],
  ['microvet generateBatch(64,1000) /pair', 'microvet generate(64)'],
  ['microvet generateBatch(64,1000) /pair', 'pkce-challenge(64)'],
  ['microvet generate(64)', 'pkce-challenge(64)'],
].map(([a, b]) => ({ a: find(a), b: find(b), ratio: rate(find(a)) / rate(find(b)) }));

const machine = {
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  engine: mv.engine,
  ms: MS,
  rounds: ROUNDS,
};

if (json) {
  console.log(JSON.stringify({
    machine,
    results: contenders.map((c) => ({ name: c.name.replace(/\s+/g, ' '), pairs_per_s: rate(c.name), rounds: results.get(c.name) })),
    ratios: ratios.map((r) => ({ a: r.a.replace(/\s+/g, ' '), b: r.b.replace(/\s+/g, ' '), ratio: r.ratio })),
  }, null, 2));
} else {
  console.log(`PKCE pairs/s in Node ${machine.node} (${machine.cores} cores, ${machine.cpu}); ${machine.engine}`);
  console.log(`median of ${ROUNDS} interleaved rounds of ${MS} ms each\n`);
  console.log(`${'contender'.padEnd(40)} ${'pairs/s'.padStart(9)} ${'per pair'.padStart(10)}`);
  for (const c of contenders) console.log(`${c.name.padEnd(40)} ${fmtRate(rate(c.name))} ${fmtUs(rate(c.name))}`);
  console.log('\nratios (pairs/s of the left one ÷ the right one; > 1 means the left one is faster):');
  for (const r of ratios) console.log(`  ${r.a.replace(/\s+/g, ' ').padEnd(38)} vs ${r.b.replace(/\s+/g, ' ').padEnd(38)} ${r.ratio.toFixed(2)}×`);
}
