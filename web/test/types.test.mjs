// The package's types as a TypeScript consumer sees them: the `npm pack` tarball unpacked
// into a project's node_modules, a consumer `.ts` file using `microvet` and `microvet/panel`,
// compiled with `tsc --strict` (the pinned `typescript` devDependency) and no `skipLibCheck`,
// on `lib: es2022` (no `esnext.disposable`), under three module resolutions:
//   - `node16` (the `exports` map and its `types` conditions),
//   - `bundler` (the same, as Vite/esbuild projects configure it),
//   - the default (no module options: `node10`, which ignores `exports`; `microvet/panel` is
//     found through `typesVersions`),
// and once more on `lib: esnext` (whose `Symbol.dispose` merges with the package's).
// A second file checks that wrong uses are type errors (so the types are not just `any`).
// A third holds every verdict of the golden corpus (`tests/corpus/*/expected.json`) as a
// `Verdict` literal: excess-property and literal-type checks make the hand-written types
// describe what the engine really returns, member for member.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { consumerProject, WEB } from './consumer/pack.mjs';

const TSC = join(WEB, 'node_modules', 'typescript', 'bin', 'tsc');

const CONSUMER = `import { load, MicrovetError, type ErrorCode, type Verdict, type Microvet, type LoadOptions, type Policy, type VetOptions, type Waived, type WaiverRef } from 'microvet';
import { MicrovetPanel, useEngine, applyFix, PUBLISHABLE, type MicrovetFixDetail } from 'microvet/panel';
import { startCompile } from 'microvet/preload';
import wasmUrl from 'microvet/core.wasm';

export async function main(text: string): Promise<string> {
  const early: Promise<WebAssembly.Module> | null = startCompile(wasmUrl);
  const options: LoadOptions = early === null ? { wasmUrl: new URL('/assets/microvet.core.wasm', 'https://example.com/') } : { wasmUrl };
  const engine: Promise<Microvet> = load(options);
  useEngine(engine);
  const mv = await engine;
  const policy = mv.policy();
  try {
    const verdict: Verdict = policy.vet(text);
    const first = verdict.findings[0];
    const line: number | undefined = first?.line;
    return \`\${verdict.decision} \${verdict.risk.score} \${line ?? ''} \${PUBLISHABLE.includes(verdict.decision as 'approve')}\`;
  } catch (e) {
    if (e instanceof MicrovetError) {
      const code: ErrorCode = e.code;
      return \`\${code === 'syntax' ? 'YAML' : code}: \${e.message} \${e.line ?? ''}\`;
    }
    throw e;
  } finally {
    policy.dispose();
  }
}

export function waivers(mv: Microvet, manifest: string, file: string, day: string | Date | null): string[] {
  const policy: Policy = mv.policy().withWaivers(file);
  const options: VetOptions = { today: day };
  const verdict = policy.vet(manifest, options);
  const json: string = policy.vetJson(manifest, { today: new Date() }) + policy.vetDcrJson('{}', { today: null }) + policy.vet(manifest).engine;
  const waived: Waived[] = verdict.waived ?? [];
  return [json, ...waived.map((w) => {
    const ref: WaiverRef = w.waiver;
    return \`\${w.rule} \${w.severity} \${w.path} \${w.line ?? ''}: \${ref.id} \${ref.reason} \${ref.approved_by} \${ref.expires}\`;
  })];
}

export function wire(publish: HTMLButtonElement): MicrovetPanel | null {
  const panel = document.querySelector('microvet-panel');
  if (panel === null) return null;
  panel.engine = load({ componentUrl: '/assets/' });
  panel.manifestObject = { name: 'x', owner: 'me@example.com' };
  panel.waivers = 'waivers: []\\n';
  panel.addEventListener('microvet-verdict', (e) => {
    publish.disabled = !panel.publishable || e.detail.decision === 'reject';
  });
  panel.addEventListener('microvet-fix', async (e: CustomEvent<MicrovetFixDetail>) => {
    const again: string = await applyFix(e.detail.manifest, { op: 'remove', path: e.detail.patch.path });
    console.log(again, e.detail.manifestObject);
  });
  return panel;
}
`;

const WRONG = `import { load, MicrovetError } from 'microvet';
import { MicrovetPanel } from 'microvet/panel';

export async function wrong(panel: MicrovetPanel): Promise<void> {
  const mv = await load({ wasmUrl: 42 });
  mv.policy().vet(7);
  panel.addEventListener('microvet-verdict', (e) => e.detail.nope);
  mv.policy().vet('name: x', { today: 20261203 });
  const e = new MicrovetError({ code: 'syntax', message: 'm' });
  if (e.code === 'pkce') return;
}
`;

const BASE = { strict: true, noEmit: true, lib: ['es2022', 'dom'], types: [] };
const CONFIGS = {
  node16: { ...BASE, target: 'es2022', module: 'node16', moduleResolution: 'node16' },
  bundler: { ...BASE, target: 'es2022', module: 'esnext', moduleResolution: 'bundler' },
  default: { ...BASE },
  // lib.esnext.disposable declares Symbol.dispose too: the two declarations must merge.
  'nodenext, lib esnext': { ...BASE, lib: ['esnext', 'dom'], target: 'esnext', module: 'nodenext', moduleResolution: 'nodenext' },
};

function tsc(dir, config, file) {
  const name = `tsconfig.${config.replaceAll(/[^a-z0-9]+/g, '-')}.${file.replace('.ts', '')}.json`;
  writeFileSync(join(dir, name), `${JSON.stringify({ compilerOptions: CONFIGS[config], files: [file] }, null, 2)}\n`);
  const r = spawnSync(process.execPath, [TSC, '-p', name, '--pretty', 'false'], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

const CORPUS = join(WEB, '..', 'tests', 'corpus');

/** The corpus's verdicts (error cases left out), as `[case, JSON text]`. */
function corpusVerdicts() {
  return readdirSync(CORPUS)
    .sort()
    .map((c) => [c, readFileSync(join(CORPUS, c, 'expected.json'), 'utf8')])
    .filter(([, text]) => !('error' in JSON.parse(text)));
}

/** A `.ts` file declaring each verdict as a `Verdict` literal. */
function verdictsTs(verdicts) {
  const decls = verdicts.map(([c, text], i) => `// ${c}\nexport const v${i}: Verdict = ${text.trim()};`);
  return `import type { Verdict } from 'microvet';\n\n${decls.join('\n\n')}\n`;
}

let dir;
function project() {
  if (dir === undefined) {
    dir = consumerProject('types');
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'consumer-types', private: true, type: 'module' }, null, 2)}\n`);
    writeFileSync(join(dir, 'consumer.ts'), CONSUMER);
    writeFileSync(join(dir, 'wrong.ts'), WRONG);
    const verdicts = corpusVerdicts();
    writeFileSync(join(dir, 'verdicts.ts'), verdictsTs(verdicts));
    // The control: one verdict with a member the types do not declare, one with a
    // decision that is not one.
    const [c, text] = verdicts.find(([, t]) => JSON.parse(t).waived !== undefined);
    const extra = JSON.stringify({ ...JSON.parse(text), undeclared: true });
    const decision = JSON.stringify({ ...JSON.parse(text), decision: 'approved' });
    writeFileSync(join(dir, 'verdicts-wrong.ts'), verdictsTs([[c, extra], [c, decision]]));
  }
  return dir;
}

for (const config of Object.keys(CONFIGS)) {
  test(`tsc --strict, no skipLibCheck, ${config}${config.includes('lib') ? '' : ', lib es2022'}: a consumer compiles`, { timeout: 120_000 }, () => {
    const r = tsc(project(), config, 'consumer.ts');
    assert.equal(r.out, '', `tsc (${config}) reported:\n${r.out}`);
    assert.equal(r.status, 0);
  });

  test(`tsc --strict, ${config}: wrong uses are type errors`, { timeout: 120_000 }, () => {
    const r = tsc(project(), config, 'wrong.ts');
    assert.notEqual(r.status, 0, 'wrong.ts compiled');
    const codes = [...r.out.matchAll(/error (TS\d+)/g)].map((m) => m[1]);
    // 42 is not a string | URL; 7 is not a string; `nope` is not on a Verdict; a number is
    // not a day; `pkce` is not an error code.
    assert.deepEqual(codes, ['TS2322', 'TS2345', 'TS2339', 'TS2322', 'TS2367'], r.out);
  });
}

test('tsc --strict: every verdict of the corpus is a Verdict (no member undeclared, none of another type)', { timeout: 120_000 }, () => {
  const verdicts = corpusVerdicts();
  assert.ok(verdicts.length >= 50, `${verdicts.length} verdicts`);
  assert.ok(verdicts.some(([, t]) => JSON.parse(t).waived !== undefined), 'a verdict with waived');
  const r = tsc(project(), 'bundler', 'verdicts.ts');
  assert.equal(r.out, '', `tsc reported:\n${r.out}`);
  assert.equal(r.status, 0);
  const wrong = tsc(project(), 'bundler', 'verdicts-wrong.ts');
  const codes = [...wrong.out.matchAll(/error (TS\d+)/g)].map((m) => m[1]);
  // `undeclared` does not exist in type Verdict; 'approved' is not a Decision (did you mean 'approve').
  assert.deepEqual(codes, ['TS2353', 'TS2820'], wrong.out);
});
