// Shared by the Node and the browser parity tests: the golden corpus and the one function
// that turns a case's input into its output string. `outputFor` runs unchanged in Node and
// in the browser page (it touches no Node API); the corpus readers import node:fs lazily.
//
// A case is a directory `tests/corpus/<case>/` with exactly one input file, plus
// `expected.json` (the native Rust core's bytes):
//   input.yaml | input.json   kind `manifest`, vetted with the built-in policy
//   dcr.json                  kind `dcr`, an RFC 7591 registration request (policy.vetDcr)
// and optionally (as the Rust corpus test and the wasmtime parity test read them):
//   waivers.yaml              a waivers file: the built-in policy `withWaivers` it
//   today                     the day of the vet (`YYYY-MM-DD` and a newline); without it the
//                             case is vetted on no day (`{today: null}`: no waiver applies)
// The output is the canonical verdict JSON, or `{"error":<MicrovetError JSON>}` when the
// input cannot be vetted, followed by exactly one "\n".

/** Input file name → kind. */
export const INPUT_FILES = Object.freeze({
  'input.yaml': 'manifest',
  'input.json': 'manifest',
  'dcr.json': 'dcr',
});

/** The corpus directory (a file: URL): `tests/corpus/` next to this directory. */
export const CORPUS_URL = new URL('../corpus/', import.meta.url);

/** `$MICROVET_CORPUS` (a directory path, for scratch corpora) or `tests/corpus/`. Node only. */
export async function corpusUrl() {
  const dir = globalThis.process?.env?.MICROVET_CORPUS;
  if (!dir) return CORPUS_URL;
  const { pathToFileURL } = await import('node:url');
  return pathToFileURL(dir.endsWith('/') ? dir : `${dir}/`);
}

/**
 * The output string of one case.
 * @param {import('../../web/src/index.js').Microvet} microvet a loaded module
 * @param {{kind: 'manifest' | 'dcr', input: string, waivers?: string | null, today?: string | null}} c
 *   the case: its input file's text (UTF-8, verbatim), its waivers file's text and its day
 * @param {import('../../web/src/index.js').Policy} [policy] defaults to the built-in policy
 * @returns {string}
 */
export function outputFor(microvet, c, policy = microvet.policy()) {
  const options = { today: c.today ?? null };
  let json;
  let waived = null;
  try {
    // A waivers file that does not validate is the case's output, as in the Rust corpus test.
    if (c.waivers !== undefined && c.waivers !== null) waived = policy.withWaivers(c.waivers);
    const p = waived ?? policy;
    if (c.kind === 'manifest') json = p.vetJson(c.input, options);
    else if (c.kind === 'dcr') json = p.vetDcrJson(c.input, options);
    else throw new TypeError(`unknown input kind \`${c.kind}\``);
  } catch (e) {
    if (e === null || typeof e !== 'object' || e.name !== 'MicrovetError') throw e;
    json = JSON.stringify({ error: e });
  } finally {
    waived?.dispose();
  }
  return `${json}\n`;
}

/**
 * Every case of the corpus, sorted by name:
 * `{name, kind, inputFile, input, waivers, today, expected, expectedBytes}` (`waivers` the
 * waivers file's text and `today` the day, each `null` when the case has none; `expected`
 * is the compact form of the stored, pretty-printed `expected.json`; `expectedBytes` its
 * UTF-8, for the byte-for-byte comparison). Node only. Throws if a case directory is
 * malformed (no or several input files, no expected.json, a `today` that is not one date).
 * @param {URL} [corpus]
 */
export async function listCases(corpus) {
  corpus ??= await corpusUrl();
  const { readdirSync, readFileSync, statSync, existsSync } = await import('node:fs');
  if (!existsSync(corpus)) return [];
  const names = readdirSync(corpus)
    .filter((n) => !n.startsWith('.') && statSync(new URL(`${n}/`, corpus)).isDirectory())
    .sort();
  return names.map((name) => {
    const dir = new URL(`${encodeURIComponent(name)}/`, corpus);
    const present = readdirSync(dir);
    const inputs = present.filter((f) => f in INPUT_FILES);
    if (inputs.length !== 1) {
      throw new Error(`corpus case \`${name}\` must have exactly one of ${Object.keys(INPUT_FILES).join(', ')}; found ${inputs.length ? inputs.join(', ') : 'none'}`);
    }
    if (!present.includes('expected.json')) throw new Error(`corpus case \`${name}\` has no expected.json`);
    const inputFile = inputs[0];
    // Stored pretty-printed for readable diffs; the bytes every runtime must produce are the
    // compact form (the Rust corpus test checks that it gives back the verdict's exact bytes).
    const expected = `${JSON.stringify(JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')))}\n`;
    const expectedBytes = new TextEncoder().encode(expected);
    const optional = (file) => (present.includes(file) ? readFileSync(new URL(file, dir), 'utf8') : null);
    const waivers = optional('waivers.yaml');
    let today = optional('today');
    if (today !== null) {
      today = today.trimEnd();
      if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(today)) throw new Error(`corpus case \`${name}\`: \`today\` must hold one date YYYY-MM-DD, found ${JSON.stringify(today)}`);
    }
    return {
      name,
      kind: INPUT_FILES[inputFile],
      inputFile,
      input: readFileSync(new URL(inputFile, dir), 'utf8'),
      waivers,
      today,
      expected,
      expectedBytes,
    };
  });
}

/**
 * Whether `actual` encodes (UTF-8) to exactly the bytes `expectedBytes`.
 * @param {string} actual
 * @param {Uint8Array} expectedBytes
 */
export function sameBytes(actual, expectedBytes) {
  const a = new TextEncoder().encode(actual);
  if (a.length !== expectedBytes.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== expectedBytes[i]) return false;
  return true;
}

/**
 * `null` when equal, else a short human description of the first difference.
 * @param {string} actual
 * @param {string} expected
 */
export function firstDifference(actual, expected) {
  if (actual === expected) return null;
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  const at = (s) => JSON.stringify(s.slice(Math.max(0, i - 40), i + 40));
  const line = expected.slice(0, i).split('\n').length;
  return [
    `first difference at offset ${i} (line ${line}); lengths actual ${actual.length}, expected ${expected.length}`,
    `  expected: …${at(expected)}…`,
    `  actual:   …${at(actual)}…`,
  ].join('\n');
}
