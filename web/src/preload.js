// microvet/preload: start downloading and compiling the core wasm from a page's first
// script, while the rest of the package and the page's own code are still being fetched
// and parsed:
//
//   <link rel="preload" href="/node_modules/microvet/dist/component/microvet.core.wasm" as="fetch" crossorigin>
//   <script type="module" async src="/node_modules/microvet/dist/preload.js"></script>
//
// A module with no imports, run as soon as it arrives (`async`). It shares the registry of
// compiles with `load()` (`Symbol.for('microvet.compiling')` on globalThis, by the wasm's URL):
// whichever of the two runs first fetches, the other joins. A failure here is not reported:
// `load()` then tries again and reports.
// Outside a page (Node) it does nothing.

const REGISTRY = Symbol.for('microvet.compiling');

/**
 * Start compiling the core module at `url` (default: the one beside the package).
 * @param {string | URL} [url]
 * @returns {Promise<WebAssembly.Module> | null} null outside a page
 */
export function startCompile(url = new URL('../dist/component/microvet.core.wasm', import.meta.url)) {
  if (typeof document === 'undefined' || typeof fetch !== 'function' || typeof WebAssembly.compileStreaming !== 'function') return null;
  const href = new URL(String(url), document.baseURI).href;
  const registry = (globalThis[REGISTRY] ??= new Map());
  let p = registry.get(href);
  if (p === undefined) {
    p = fetch(href).then((res) => {
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return WebAssembly.compileStreaming(res);
    });
    // `load()` replaces it with one that retries and reports on failure.
    p.microvetEarly = true;
    const mine = p;
    mine.catch(() => {
      if (registry.get(href) === mine) registry.delete(href);
    });
    registry.set(href, mine);
  }
  return p;
}

startCompile();
