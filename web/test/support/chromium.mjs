// What the browser tests share: the Chromium they drive (Debian's, through playwright-core),
// its flags, the demo's Content-Security-Policy, and whether to run at all.
import { existsSync } from 'node:fs';

/** $MICROVET_CHROMIUM, or Debian's Chromium. */
export const CHROMIUM = process.env.MICROVET_CHROMIUM || '/usr/bin/chromium';

export const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** The builder demo's strict CSP (web/demo/): the component compiles under `'wasm-unsafe-eval'` only. */
export const DEMO_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

/**
 * `false`, or why the browser tests are skipped (MICROVET_SKIP_BROWSER=1). When they are to
 * run, throws if `web/dist/<built>` (the build they test) or the browser is missing: a
 * machine without them fails, it does not pass by skipping.
 */
export function browserSkip(built = 'component/microvet.core.wasm') {
  const skip = process.env.MICROVET_SKIP_BROWSER === '1' ? 'MICROVET_SKIP_BROWSER=1' : false;
  if (!skip) {
    if (!existsSync(new URL(`../../dist/${built}`, import.meta.url))) {
      throw new Error('web/dist is missing: run `npm run build` in web/ first');
    }
    if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install -y chromium (or set MICROVET_CHROMIUM)`);
  }
  return skip;
}
