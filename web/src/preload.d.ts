// Types of `microvet/preload` (importing it starts compiling the core wasm beside the package).

/**
 * Start downloading and compiling the core module at `url` (default: the one beside the
 * package); `load()` takes it over. `null` outside a page.
 */
export function startCompile(url?: string | URL): Promise<WebAssembly.Module> | null;
