// The helpers <microvet-panel> is built on, in Node: the YAML emitter (`toYaml`), the small
// positioned YAML reader (`parseYaml`), JSON Patch on data (`applyPatch`) and on YAML text
// keeping comments (`patchYaml`). The component is the judge throughout: emitted YAML must
// read back, in the component, as the same data; every fix in the corpus must clear its
// finding when applied by the panel.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { listCases } from '../../tests/parity/parity-lib.mjs';
import { load } from '../src/index.js';
import { applyPatch, parseYaml, patchYaml, toYaml, YamlSubsetError } from '../src/panel.js';

let policy;
let cases;
before(async () => {
  policy = (await load()).policy();
  cases = (await listCases()).filter((c) => c.kind === 'manifest' || c.kind === 'dcr');
});

/** What a verdict says, without the things that depend on the text's layout (lines, hash). */
function meaning(v) {
  return JSON.stringify({
    decision: v.decision,
    risk: v.risk,
    // Findings of one severity are ordered by line, and toYaml may lay out a flow mapping
    // over several lines: the meaning is the set, so compare them in one order.
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

test('toYaml writes Micro Apps, Macro Risk example the way a person would', () => {
  const y = toYaml({
    name: 'hr-onboarding-helper',
    data_access: [{ type: 'user.profile' }, { type: 'hr.employee_records', access: 'read' }],
    retention_days: 30,
    oauth_scopes: ['openid', 'profile'],
    client: { redirect_uris: ['https://apps.example.com/cb'], refresh_token_rotation: true },
    third_party_deps: [],
    instrumentation: {},
  });
  assert.equal(y, [
    'name: hr-onboarding-helper',
    'data_access:',
    '  - type: user.profile',
    '  - type: hr.employee_records',
    '    access: read',
    'retention_days: 30',
    'oauth_scopes: [openid, profile]',
    'client:',
    '  redirect_uris: [https://apps.example.com/cb]',
    '  refresh_token_rotation: true',
    'third_party_deps: []',
    'instrumentation: {}',
    '',
  ].join('\n'));
});

test('toYaml quotes exactly what needs quoting: the component reads every string back unchanged', () => {
  const tricky = [
    'plain', '123', '0x1F', '1e3', '.5', '-1', 'true', 'False', 'null', '~', 'yes', 'NO', 'on', '',
    ' leading', 'trailing ', 'a: b', 'a #b', 'a#b', '#x', '- x', '-x', '? x', ':x', 'x:', '[x]', '{x}', 'a, b',
    '*alias', '&anchor', '!tag', '|', '>', "'q'", '"q"', '%x', '@x', 'back\\slash', 'tab\there', 'line\nbreak', 'ünïcödé ✓',
    'https://apps.example.com/cb?x=1#frag', 's3://corp-hr-temp',
  ];
  for (const s of tricky) {
    for (const text of [toYaml({ owner: s }), toYaml({ owner: s, oauth_scopes: [s] })]) {
      assert.deepEqual(parseYaml(text).owner, s, `parseYaml(${JSON.stringify(text)})`);
      const { verdict, error } = vetOrError(text);
      assert.ok(verdict, `the component cannot read ${JSON.stringify(text)}: ${error?.message}`);
      const own = verdict.findings.find((f) => f.path === '/owner');
      if (s === '') continue; // an empty owner is "missing"
      assert.equal(own?.rule, 'MV-OWNER-002', `${JSON.stringify(text)}: ${JSON.stringify(own)}`);
      // (The rule trims the owner before it quotes it.)
      if (!/[\t\n]/.test(s)) assert.equal(own.message, `owner \`${s.trim()}\` is not an email address`, JSON.stringify(text));
    }
  }
});

test('every corpus manifest: the reader reads it, toYaml writes it, the component gives the same verdict', () => {
  let read = 0;
  for (const c of cases) {
    const original = c.kind === 'dcr' ? null : vetOrError(c.input);
    let data;
    try {
      data = parseYaml(c.input);
    } catch (e) {
      assert.ok(e instanceof YamlSubsetError, `${c.name}: ${e}`);
      // The form reader refuses what it does not support (anchors, aliases, tags): the
      // panel then keeps the YAML as text. Anything else it must read.
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
    const again = vetOrError(toYaml(data));
    assert.ok(again.verdict, `${c.name}: ${again.error?.message}`);
    assert.equal(meaning(again.verdict), meaning(original.verdict), c.name);
  }
  assert.ok(read >= 20, `only ${read} corpus manifests were read`);
});

test('every fix in the corpus, applied to the YAML text: in place, comments kept, the finding gone', () => {
  let applied = 0;
  for (const c of cases.filter((x) => x.kind === 'manifest')) {
    const { verdict } = vetOrError(c.input);
    if (!verdict) continue;
    try {
      parseYaml(c.input);
    } catch (e) {
      // The form reader does not support this document (anchors, tags): no text patching.
      if (e instanceof YamlSubsetError && /not supported/.test(e.message)) continue;
      throw e;
    }
    for (const f of verdict.findings.filter((x) => x.fix)) {
      // A fix of an item of a field written in another shape (a scope string) comes after
      // the fix that writes the field as a list (MV-SCHEMA-003), as `microvet fix` applies them.
      const shape = verdict.findings.find(
        (x) => x !== f && x.rule === 'MV-SCHEMA-003' && x.fix && f.fix.path.startsWith(`${x.fix.path}/`),
      );
      const base = shape ? patchYaml(c.input, shape.fix) : c.input;
      const before = shape ? policy.vet(base) : verdict;
      const out = patchYaml(base, f.fix);
      assert.deepEqual(parseYaml(out), applyPatch(parseYaml(base), f.fix), `${c.name} ${f.rule}`);
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

test('patchYaml: add, replace, remove in block and flow collections keep everything else', () => {
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
    [{ op: 'remove', path: '/oauth_scopes/1' }, 'oauth_scopes: [openid]  # scopes'],
    [{ op: 'replace', path: '/client/redirect_uris/1', value: 'https://b.example.com/cb' }, '    - https://b.example.com/cb'],
    [{ op: 'add', path: '/client/redirect_uris/-', value: 'https://c.example.com/cb' }, '    - https://c.example.com/cb'],
    [{ op: 'add', path: '/client/refresh_token_rotation', value: true }, '  refresh_token_rotation: true'],
    [{ op: 'add', path: '/instrumentation', value: { audit_log: 'siem://corp/app', contact: 'a@example.com' } }, 'instrumentation:\n  audit_log: siem://corp/app\n  contact: a@example.com'],
    [{ op: 'add', path: '/data_access/-', value: { type: 'files.documents', access: 'write' } }, '  - type: files.documents\n    access: write'],
    [{ op: 'replace', path: '/data_access/0/access', value: 'write' }, '    access: write'],
    [{ op: 'remove', path: '/data_access/0/type' }, '  - access: read'],
    [{ op: 'remove', path: '/data_access/1' }, null],
    [{ op: 'replace', path: '/client/grant_types', value: ['authorization_code', 'refresh_token'] }, '  grant_types: [authorization_code, refresh_token]'],
  ];
  for (const [patch, expect] of cases_) {
    const out = patchYaml(text, patch);
    assert.deepEqual(parseYaml(out), applyPatch(parseYaml(text), patch), JSON.stringify(patch));
    assert.ok(out.startsWith('# header\n'), `${JSON.stringify(patch)} lost the header comment:\n${out}`);
    assert.ok(out.includes('# first'), `${JSON.stringify(patch)} lost a comment:\n${out}`);
    if (expect) assert.ok(out.includes(expect), `${JSON.stringify(patch)}: expected ${JSON.stringify(expect)} in\n${out}`);
    assert.ok(policy.vet(out), JSON.stringify(patch));
  }
  // Removing the last item of a block list leaves an empty list, not a null.
  const one = 'redirect_uris:\n  - https://a.example.com/cb\nname: x\n';
  assert.deepEqual(parseYaml(patchYaml(one, { op: 'remove', path: '/redirect_uris/0' })), { redirect_uris: [], name: 'x' });
  // JSON stays JSON.
  assert.equal(patchYaml('{"name": "a"}', { op: 'replace', path: '/name', value: 'b' }), '{\n  "name": "b"\n}\n');
});

test('applyPatch: RFC 6902 add/replace/remove, the core\'s leniencies, and no prototype pollution', () => {
  const doc = { a: [1, 2], b: { c: 1 } };
  assert.deepEqual(applyPatch(doc, { op: 'add', path: '/a/1', value: 9 }), { a: [1, 9, 2], b: { c: 1 } });
  assert.deepEqual(applyPatch(doc, { op: 'add', path: '/a/-', value: 9 }), { a: [1, 2, 9], b: { c: 1 } });
  assert.deepEqual(applyPatch(doc, { op: 'remove', path: '/b/c' }), { a: [1, 2], b: {} });
  assert.deepEqual(applyPatch(doc, { op: 'replace', path: '/b/d', value: 2 }), { a: [1, 2], b: { c: 1, d: 2 } }); // as `microvet fix`
  assert.deepEqual(applyPatch(null, { op: 'add', path: '/expiry_days', value: 60 }), { expiry_days: 60 }); // an empty document is {}
  assert.deepEqual(applyPatch(doc, { op: 'add', path: '/x~1y~0z', value: 1 }).b, { c: 1 });
  assert.equal(applyPatch(doc, { op: 'add', path: '/x~1y~0z', value: 1 })['x/y~z'], 1);
  assert.deepEqual(doc, { a: [1, 2], b: { c: 1 } }, 'the input is not changed');
  assert.throws(() => applyPatch(doc, { op: 'add', path: '/missing/x', value: 1 }), /does not exist/);
  assert.throws(() => applyPatch(doc, { op: 'replace', path: '/a/5', value: 1 }), /out of range/);
  assert.throws(() => applyPatch(doc, { op: 'remove', path: '/nope' }), /does not exist/);
  assert.throws(() => applyPatch(doc, { op: 'move', path: '/a' }), /unsupported/);
  const polluted = applyPatch({}, { op: 'add', path: '/__proto__', value: { evil: true } });
  assert.equal(({}).evil, undefined);
  assert.equal(Object.getPrototypeOf(polluted), Object.prototype);
  assert.deepEqual(Object.keys(polluted), ['__proto__']);
  assert.equal(parseYaml('__proto__: {evil: true}\n').evil, undefined);
});

test('parseYaml: what the small reader refuses (the component stays the real parser)', () => {
  for (const text of ['a: &x 1\nb: *x\n', 'a: !!str 1\n', 'a: |\n  text\n', 'a: [1,\n  2]\n', 'a: 1\n---\nb: 2\n', 'a:\n\t- 1\n']) {
    assert.throws(() => parseYaml(text), YamlSubsetError, JSON.stringify(text));
  }
  assert.deepEqual(parseYaml(''), null);
  assert.deepEqual(parseYaml('# only a comment\n'), null);
  assert.deepEqual(parseYaml("a: 'it''s'  # c\nb: \"x # y\"\nc: it's # z\n"), { a: "it's", b: 'x # y', c: "it's" });
  assert.deepEqual(parseYaml('a:\n- 1\n- 2\nb: {c: [x, "y, z"], d: ~}\n'), { a: [1, 2], b: { c: ['x', 'y, z'], d: null } });
});
