// A tiny static file server for the browser tests: 127.0.0.1, a random port, GET/HEAD only,
// correct MIME types (application/wasm for .wasm, so compileStreaming is used), and only
// files under `root` (no `..`, no symlinks out of it, no dotfiles, no node_modules).
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, resolve, sep } from 'node:path';

export const MIME = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.yaml': 'text/plain; charset=utf-8',
  '.yml': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
});

/**
 * Resolve a request path to a file under `root`, or `null` when it is not allowed.
 * @param {string} root an absolute, real path
 * @param {string} pathname the URL path (still percent-encoded)
 */
export async function resolveUnder(root, pathname) {
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const parts = decoded.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '..' || p.startsWith('.') || p === 'node_modules')) return null;
  const candidate = resolve(root, ...parts);
  if (candidate !== root && !candidate.startsWith(root + sep)) return null;
  let real;
  try {
    real = await realpath(candidate);
  } catch {
    return null;
  }
  if (real !== root && !real.startsWith(root + sep)) return null;
  try {
    const s = await stat(real);
    if (s.isDirectory()) return resolveUnder(root, `${pathname.replace(/\/?$/, '/')}index.html`);
    return s.isFile() ? real : null;
  } catch {
    return null;
  }
}

/**
 * Start serving `root`. Resolves to `{url, requests, close()}`; `requests` records every
 * request path and status, `close()` ends open connections too.
 * @param {string} root
 * @param {{headers?: (file: string) => Record<string, string>}} [options] extra headers per file
 */
export async function serve(root, options = {}) {
  const realRoot = await realpath(resolve(root));
  /** @type {{method: string, path: string, status: number}[]} */
  const requests = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const done = (status) => requests.push({ method: req.method ?? '', path: url.pathname, status });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return done(405);
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return done(204);
    }
    const file = await resolveUnder(realRoot, url.pathname);
    if (file === null) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return done(404);
    }
    const s = await stat(file);
    res.writeHead(200, {
      'content-type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': String(s.size),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...(options.headers?.(file) ?? {}),
    });
    done(200);
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    root: realRoot,
    close: () =>
      new Promise((ok) => {
        server.close(() => ok(undefined));
        server.closeAllConnections?.();
      }),
  };
}
