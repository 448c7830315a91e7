// Reading the core module from a `file:` URL (Node). The browser build (`npm run build`,
// dist/) replaces this module with ./read-file.browser.js, so nothing a browser or a
// bundler's `browser` condition reaches names a Node built-in.

/**
 * The bytes of a local file.
 * @param {URL} url a `file:` URL
 * @returns {Promise<Uint8Array>}
 */
export async function readLocalFile(url) {
  const { readFile } = await import('node:fs/promises');
  return readFile(url);
}
