// The browser build's stand-in for ./read-file.js: a page cannot read `file:` URLs.

/**
 * @param {URL} url
 * @returns {Promise<Uint8Array>}
 */
export async function readLocalFile(url) {
  throw new Error(`microvet: cannot read ${url.href} in a browser: serve the core module over http(s) and pass load({wasmUrl})`);
}
