// The package as a consumer gets it: `npm pack` the web/ directory, then unpack the tarball
// into `<dir>/node_modules/microvet` (what `npm install microvet-0.1.0.tgz` lays out), with
// links to this package's own devDependencies for the tools a test runs there.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB = fileURLToPath(new URL('../../', import.meta.url));
export const OUTPUT = join(WEB, 'test-output');

/** `npm pack --dry-run --json`: what the tarball holds (`[{path, size}]`, sorted). */
export function packList() {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: WEB, encoding: 'utf8' });
  const [info] = JSON.parse(out);
  return info.files.map((f) => ({ path: f.path, size: f.size })).sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * A fresh consumer project in `test-output/<name>/` with the packed package installed.
 * @param {string} name
 * @param {string[]} [tools] devDependencies of this package to link into its node_modules
 * @returns {string} the project directory
 */
export function consumerProject(name, tools = []) {
  const dir = join(OUTPUT, name);
  rmSync(dir, { recursive: true, force: true });
  const pkg = join(dir, 'node_modules', 'microvet');
  mkdirSync(pkg, { recursive: true });
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: WEB, encoding: 'utf8' });
  const [info] = JSON.parse(out);
  execFileSync('tar', ['-xzf', join(dir, info.filename), '-C', pkg, '--strip-components=1']);
  for (const tool of tools) {
    const at = join(dir, 'node_modules', ...tool.split('/'));
    mkdirSync(join(at, '..'), { recursive: true });
    symlinkSync(join(WEB, 'node_modules', ...tool.split('/')), at, 'dir');
  }
  return dir;
}
