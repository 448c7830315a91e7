// The shipped JSON Schemas and the CLI's machine outputs agree:
// - every corpus verdict (`microvet check --format json`, with the case's `waivers.yaml` and
//   `today` when it has them) is the golden one and validates against schemas/verdict.schema.json;
// - the JSON twin of Micro Apps, Macro Risk's manifest validates against schemas/manifest.schema.json;
// - `microvet check --format sarif` over the whole corpus validates against the SARIF 2.1.0
//   schema (the copy shipped in @microsoft/jest-sarif, rtm.5, draft-04), and so does a log
//   whose waived findings are suppressions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = path.join(root, 'tests/corpus');
const bin = process.env.MICROVET_BIN ?? path.join(root, 'target/release/microvet');
const schema = (name) => JSON.parse(readFileSync(path.join(root, 'schemas', name), 'utf8'));

function cases() {
  return readdirSync(corpus)
    .filter((d) => existsSync(path.join(corpus, d, 'expected.json')))
    .map((d) => {
      const dir = path.join(corpus, d);
      const file = ['dcr.json', 'input.json', 'input.yaml'].map((f) => path.join(dir, f)).find(existsSync);
      // Golden files are stored pretty-printed; the bytes they stand for are the compact form.
      const expected = `${JSON.stringify(JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')))}\n`;
      // The case's waivers file and day, as the CLI takes them.
      const waivers = path.join(dir, 'waivers.yaml');
      const today = path.join(dir, 'today');
      const options = [
        ...(existsSync(waivers) ? ['--waivers', waivers] : []),
        ...(existsSync(today) ? ['--today', readFileSync(today, 'utf8').trim()] : []),
      ];
      return { name: d, file, dcr: file.endsWith('dcr.json'), expected, options };
    });
}

function cli(args) {
  try {
    return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    // Exit 1 (remediate/reject) still prints the verdict; exit 2 (invalid input) prints nothing.
    if (e.status === 1 || e.status === 2) return e.stdout;
    throw e;
  }
}

test('the CLI binary exists (built by scripts/test.sh)', () => {
  assert.ok(existsSync(bin), `missing ${bin}: run cargo build --release -p microvet`);
});

test('every corpus verdict validates against schemas/verdict.schema.json', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate = ajv.compile(schema('verdict.schema.json'));
  let checked = 0;
  for (const c of cases()) {
    const out = cli(['check', '--format', 'json', ...(c.dcr ? ['--dcr'] : []), ...c.options, c.file]).trim();
    const golden = JSON.parse(c.expected);
    if ('error' in golden) {
      assert.equal(out, '', `${c.name}: invalid input prints no verdict`);
      continue;
    }
    assert.equal(out + '\n', c.expected, `${c.name}: CLI JSON differs from the golden verdict`);
    const v = JSON.parse(out);
    assert.ok(validate(v), `${c.name}: ${ajv.errorsText(validate.errors)}`);
    checked++;
  }
  assert.ok(checked >= 20, `only ${checked} verdicts checked`);
});

test('Micro Apps, Macro Risk manifest (JSON twin) validates against schemas/manifest.schema.json', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate = ajv.compile(schema('manifest.schema.json'));
  const doc = JSON.parse(readFileSync(path.join(corpus, 'article-example-json/input.json'), 'utf8'));
  assert.ok(validate(doc), ajv.errorsText(validate.errors));
  // and it has teeth: an unknown field is refused
  assert.equal(validate({ ...doc, oauth_scope: ['x'] }), false);
});

test('SARIF output validates against the SARIF 2.1.0 schema', () => {
  const sarifPkg = createRequire(import.meta.url).resolve('@microsoft/jest-sarif/package.json');
  const requireFromSarif = createRequire(sarifPkg);
  const Ajv6 = requireFromSarif('ajv');
  const draft04 = requireFromSarif('ajv/lib/refs/json-schema-draft-04.json');
  const sarifSchema = JSON.parse(readFileSync(path.join(path.dirname(sarifPkg), 'lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
  const ajv = new Ajv6({ schemaId: 'id', allErrors: true, unknownFormats: 'ignore' });
  ajv.addMetaSchema(draft04);
  const validate = ajv.compile(sarifSchema);
  const files = cases().filter((c) => !c.dcr && !('error' in JSON.parse(c.expected))).map((c) => c.file);
  const log = JSON.parse(cli(['check', '--format', 'sarif', ...files]));
  assert.ok(validate(log), ajv.errorsText(validate.errors));
  const run = log.runs[0];
  assert.ok(run.tool.driver.rules.length >= 60, 'rule metadata for every rule');
  assert.ok(run.results.length > 50);
  const withLine = run.results.filter((r) => r.locations[0].physicalLocation.region?.startLine >= 1);
  assert.ok(withLine.length > run.results.length / 2, 'most results carry a line');
  assert.deepEqual(new Set(run.results.map((r) => r.level)), new Set(['error', 'warning', 'note']));
  // teeth: a broken log is refused
  assert.equal(validate({ version: '2.1.0', runs: [{ results: [] }] }), false);

  // Waived findings are results with an accepted suppression naming the waiver.
  const waiving = cases().filter((c) => (JSON.parse(c.expected).waived ?? []).length > 0);
  assert.ok(waiving.length >= 2, `only ${waiving.length} corpus case(s) waive findings`);
  for (const c of waiving) {
    const waived = JSON.parse(cli(['check', '--format', 'sarif', ...c.options, c.file]));
    assert.ok(validate(waived), `${c.name}: ${ajv.errorsText(validate.errors)}`);
    const suppressed = waived.runs[0].results.filter((r) => r.suppressions?.length);
    assert.deepEqual(suppressed.map((r) => r.ruleId), JSON.parse(c.expected).waived.map((w) => w.rule), c.name);
    for (const r of suppressed) assert.equal(r.suppressions[0].status, 'accepted', c.name);
  }
});
