// The fix applier the panel uses (the component's `applyFix`, the same code `microvet fix`
// runs) and the small form reader the panel exports (`parseYaml`), in Node. The component
// is the judge throughout: every fix in the corpus, applied to the manifest's text, must
// keep its comments and clear its finding; the reader must read what the component reads.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { listCases } from '../../tests/parity/parity-lib.mjs';
import { load, MicrovetError } from '../src/index.js';
import { applyFix, parseYaml, YamlSubsetError } from '../src/panel.js';

let mv;
let policy;
let cases;
before(async () => {
  mv = await load();
  policy = mv.policy();
  cases = (await listCases()).filter((c) => c.kind === 'manifest' || c.kind === 'dcr');
});

/** What a verdict says, without the things that depend on the text's layout (lines, hash). */
function meaning(v) {
  return JSON.stringify({
    decision: v.decision,
    risk: v.risk,
    findings: v.findings
      .map(({ rule, severity, path, message, fix }) => JSON.stringify({ rule, severity, path, message, fix }))
      .sort(),
    controls: v.controls,
  });
}

function vetOrError(text) {
  try {
    return { verdict: policy.vet(text) };
  } catch (e) {
    return { error: e };
  }
}

test('every corpus manifest: the form reader reads what the component reads', () => {
  let read = 0;
  for (const c of cases) {
    const original = c.kind === 'dcr' ? null : vetOrError(c.input);
    let data;
    try {
      data = parseYaml(c.input);
    } catch (e) {
      assert.ok(e instanceof YamlSubsetError, `${c.name}: ${e}`);
      // The form reader refuses what it does not support (anchors, aliases, tags): the
      // form then leaves the YAML as text. Anything else it must read.
      if (/not supported/.test(e.message)) continue;
      assert.ok(original?.error, `${c.name}: the component reads it but the panel's reader does not: ${e.message}`);
      continue;
    }
    if (c.kind === 'dcr') {
      assert.deepEqual(data, JSON.parse(c.input), c.name);
      continue;
    }
    if (original.error) continue; // e.g. a top-level list: YAML, but not a manifest
    read++;
    // The data as JSON text (what the panel vets for `manifestObject`) vets the same.
    const again = vetOrError(JSON.stringify(data, null, 2));
    assert.ok(again.verdict, `${c.name}: ${again.error?.message}`);
    assert.equal(meaning(again.verdict), meaning(original.verdict), c.name);
  }
  assert.ok(read >= 20, `only ${read} corpus manifests were read`);
});

test('every fix in the corpus, applied by the component to the text: comments kept, the finding gone', () => {
  let applied = 0;
  for (const c of cases.filter((x) => x.kind === 'manifest')) {
    const { verdict } = vetOrError(c.input);
    if (!verdict) continue;
    for (const f of verdict.findings.filter((x) => x.fix)) {
      // A fix of an item of a field written in another shape (a scope string) comes after
      // the fix that writes the field as a list (MV-SCHEMA-003), as `microvet fix` applies them.
      const shape = verdict.findings.find(
        (x) => x !== f && x.rule === 'MV-SCHEMA-003' && x.fix && f.fix.path.startsWith(`${x.fix.path}/`),
      );
      const base = shape ? mv.applyFix(c.input, shape.fix) : c.input;
      const before = shape ? policy.vet(base) : verdict;
      const out = mv.applyFix(base, f.fix);
      const comments = c.input.split('\n').filter((l) => /^\s*#/.test(l));
      for (const line of comments) assert.ok(out.includes(line), `${c.name} ${f.rule}: lost the comment ${JSON.stringify(line)}`);
      const after = policy.vet(out);
      // One finding fewer of this rule and message (a removal shifts the next item onto
      // that index, and a look-alike of the same denied value there has the same message).
      const like = (x) => x.rule === f.rule && x.message === f.message;
      const left = after.findings.filter(like);
      assert.ok(
        left.length < before.findings.filter(like).length,
        `${c.name}: ${f.rule} at ${f.path} is still there after its fix: ${JSON.stringify(left)}`,
      );
      applied++;
    }
  }
  assert.ok(applied >= 10, `only ${applied} fixes in the corpus`);
});

test('applyFix: add, replace, remove in block and flow collections keep everything else', async () => {
  const text = [
    '# header',
    'name: app   # the slug',
    'oauth_scopes: [openid, profile]  # scopes',
    'data_access:',
    '  - type: user.profile',
    '    access: read',
    '  - type: hr.employee_records',
    'client:',
    '  redirect_uris:',
    '    - https://a.example.com/cb   # first',
    '    - http://b.example.com/cb',
    '  grant_types: [authorization_code]',
    '',
  ].join('\n');
  const cases_ = [
    [{ op: 'replace', path: '/name', value: 'new-name' }, 'name: new-name   # the slug'],
    [{ op: 'replace', path: '/oauth_scopes/1', value: 'email' }, 'oauth_scopes: [openid, email]  # scopes'],
    [{ op: 'add', path: '/oauth_scopes/-', value: 'hr.read_only' }, 'oauth_scopes: [openid, profile, hr.read_only]  # scopes'],
    [{ op: 'add', path: '/oauth_scopes/0', value: 'x' }, 'oauth_scopes: [x, openid, profile]  # scopes'],
    [{ op: 'remove', path: '/oauth_scopes/0' }, 'oauth_scopes: [profile]  # scopes'],
    [{ op: 'replace', path: '/client/redirect_uris/1', value: 'https://b.example.com/cb' }, '    - https://b.example.com/cb'],
    [{ op: 'add', path: '/client/refresh_token_rotation', value: true }, '  refresh_token_rotation: true'],
    [{ op: 'add', path: '/instrumentation', value: { audit_log: 'siem://corp/app', contact: 'a@example.com' } }, 'instrumentation:\n  audit_log: siem://corp/app\n  contact: a@example.com'],
    [{ op: 'add', path: '/data_access/-', value: { type: 'files.documents', access: 'write' } }, '  - type: files.documents\n    access: write'],
    [{ op: 'remove', path: '/data_access/0/type' }, '  - access: read'],
    [{ op: 'replace', path: '/client/grant_types', value: ['authorization_code', 'refresh_token'] }, '  grant_types: [authorization_code, refresh_token]'],
  ];
  for (const [patch, expect] of cases_) {
    // The panel module's helper and the instance's method are the same call.
    const out = mv.applyFix(text, patch);
    assert.equal(await applyFix(text, patch), out);
    assert.ok(out.startsWith('# header\n'), `${JSON.stringify(patch)} lost the header comment:\n${out}`);
    assert.ok(out.includes('# first'), `${JSON.stringify(patch)} lost a comment:\n${out}`);
    assert.ok(out.includes(expect), `${JSON.stringify(patch)}: expected ${JSON.stringify(expect)} in\n${out}`);
    assert.ok(policy.vet(out), JSON.stringify(patch));
  }
  // JSON stays JSON, laid out as it was.
  assert.equal(mv.applyFix('{"name": "a", "n": 1}', { op: 'replace', path: '/name', value: 'b' }), '{"name": "b", "n": 1}');
  assert.deepEqual(JSON.parse(mv.applyFix('{\n  "name": "a"\n}\n', { op: 'add', path: '/x', value: [1, { k: null }] })), { name: 'a', x: [1, { k: null }] });
  // A fix that does not apply is an error of the component, naming where.
  assert.throws(() => mv.applyFix('a: 1\n', { op: 'add', path: '/missing/x', value: 1 }), (e) => e instanceof MicrovetError && e.code === 'invalid-argument' && /missing/.test(e.message));
  assert.throws(() => mv.applyFix('a: 1\n', { op: 'move', path: '/a' }), (e) => e instanceof MicrovetError && e.code === 'invalid-argument');
  // applyFixes: removals from the end, the outcome says whether the layout was kept.
  const r = mv.applyFixes('# c\nl: [a, b, c]\n', [{ op: 'remove', path: '/l/0' }, { op: 'remove', path: '/l/2' }]);
  assert.deepEqual(r, { manifest: '# c\nl: [b]\n', applied: [{ op: 'remove', path: '/l/2', description: '' }, { op: 'remove', path: '/l/0', description: '' }], rewritten: false });
});

test('parseYaml: what the small reader refuses (the component stays the real parser)', () => {
  for (const text of ['a: &x 1\nb: *x\n', 'a: !!str 1\n', 'a: |\n  text\n', 'a: [1,\n  2]\n', 'a: 1\n---\nb: 2\n', 'a:\n\t- 1\n']) {
    assert.throws(() => parseYaml(text), YamlSubsetError, JSON.stringify(text));
  }
  assert.deepEqual(parseYaml(''), null);
  assert.deepEqual(parseYaml('# only a comment\n'), null);
  assert.deepEqual(parseYaml("a: 'it''s'  # c\nb: \"x # y\"\nc: it's # z\n"), { a: "it's", b: 'x # y', c: "it's" });
  assert.deepEqual(parseYaml('a:\n- 1\n- 2\nb: {c: [x, "y, z"], d: ~}\n'), { a: [1, 2], b: { c: ['x', 'y, z'], d: null } });
  assert.equal(parseYaml('__proto__: {evil: true}\n').evil, undefined);
  assert.equal(({}).evil, undefined);
});
