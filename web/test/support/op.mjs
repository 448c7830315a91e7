// A real OpenID provider for tests: npm `oidc-provider` (panva; OpenID-certified) on
// 127.0.0.1, shared by the Node tests (`startProvider`) and the Rust lifecycle tests, which
// run it as a program:
//
//   node web/test/support/op.mjs --port 0 [--iat-file F] [--scopes "a b"] [--password P] [--watch-stdin]
//
// prints ONE JSON line on stdout once it listens,
//   {"issuer":"http://127.0.0.1:PORT","initial_access_token":"…","login":"alice","password":"…"}
// and serves until killed (SIGTERM/SIGINT close it; with --watch-stdin it also stops when its
// standard input closes, so a test process that dies leaves no provider behind). --iat-file
// writes the initial access token to F (mode 0600) for `--idp-initial-access-token-file`.
//
// What it is configured for:
// - RFC 7591 dynamic client registration at `/reg` (`features.registration`) with an
//   initial access token REQUIRED (a fixed string, random per start, printed above);
// - RFC 7592 client management (`features.registrationManagement`: read, update, delete at
//   `registration_client_uri` with the registration access token);
// - PKCE required for every authorization request (oidc-provider 9 supports only S256);
// - login + consent through a tiny test-only interaction route (`/interaction/:uid`): a form
//   whose POST signs the test account in and grants the requested OIDC scopes in one step;
//   the built-in devInteractions are disabled (they log a warning per use and render HTML);
// - RFC 7591 `software_id` kept with the client (`extraClientMetadata`);
// - error pages as JSON (`renderError`), so a script can read `error` / `error_description`;
// - `/cb…` answers 200 "callback": a redirect URI on the provider's own origin, for clients
//   that need one that resolves (scripts never follow the final redirect anyway);
// - scopes: the built-in policy's scope catalogue less its denied scopes (what the
//   organisation's IdP would offer), or `--scopes`;
// - storage: oidc-provider's in-memory adapter (nothing written to disk); keys generated
//   at start (RS256 signing key, cookie key), so nothing secret is shipped.
import { createServer } from 'node:http';
import { chmodSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';

import Provider from 'oidc-provider';

import { DEFAULT_LOGIN, DEFAULT_PASSWORD } from './flow.mjs';

export { DEFAULT_LOGIN, DEFAULT_PASSWORD };

/** The built-in policy's scope catalogue (policies/default.yaml) less its denied scopes. */
export const DEFAULT_SCOPES = [
  'openid', 'profile', 'email', 'offline_access',
  'hr.read_only', 'hr.write', 'hr.payroll.read',
  'customer.read', 'customer.write', 'payments.read', 'finance.read',
  'calendar.read', 'calendar.write', 'files.read', 'files.write',
  'tickets.read', 'tickets.write',
];

const FORM_LIMIT = 10_000;

/** Read a form-encoded request body with a size bound. */
async function formBody(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > FORM_LIMIT) throw new Error('body too large');
  }
  return new URLSearchParams(body);
}

/**
 * Start the provider on `host:port` (port 0: a free one).
 *
 * options:
 * - `clients`: static clients (oidc-provider client metadata), or a function of the issuer
 *   returning them (for redirect URIs on the provider's own origin);
 * - `initialAccessToken`: a string enables RFC 7591 registration (token required) and
 *   RFC 7592 management; `undefined` leaves both off;
 * - `account`: `{ id, password, email }`;
 * - `scopes`: the scopes the provider supports;
 * - `ttl`: oidc-provider `ttl` overrides.
 *
 * Returns `{ issuer, provider, server, signingKey, account, problems, grantErrors, close }`:
 * `problems` collects server errors and interaction failures (a test asserts it empty),
 * `grantErrors` the provider's reasons for refused token requests.
 */
export async function startProvider({
  host = '127.0.0.1',
  port = 0,
  clients = [],
  initialAccessToken,
  account = { id: DEFAULT_LOGIN, password: DEFAULT_PASSWORD, email: `${DEFAULT_LOGIN}@example.test` },
  scopes = DEFAULT_SCOPES,
  ttl = {},
} = {}) {
  const problems = [];
  const grantErrors = [];
  let provider;
  let issuer;

  async function interaction(req, res) {
    const url = new URL(req.url, issuer);
    const m = /^\/interaction\/([\w-]+)(\/login)?$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== m[1]) throw new Error('interaction uid does not match the cookie');
    if (req.method === 'GET' && !m[2]) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Sign in</title><p>${details.prompt.name}</p>
<form method="post" action="/interaction/${details.uid}/login">
<input name="login"><input name="password" type="password"><button>Sign in</button></form>`);
      return;
    }
    if (req.method !== 'POST' || !m[2]) {
      res.writeHead(405).end();
      return;
    }
    const form = await formBody(req);
    if (form.get('login') !== account.id || form.get('password') !== account.password) {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'bad test credentials' }, { mergeWithLastSubmission: false });
      return;
    }
    const grant = new provider.Grant({ accountId: account.id, clientId: details.params.client_id });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId: account.id }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }

  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (provider === undefined) {
      res.writeHead(503).end();
    } else if (path.startsWith('/interaction/')) {
      interaction(req, res).catch((e) => {
        problems.push(`interaction: ${e.stack ?? e}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    } else if (path.startsWith('/cb')) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('callback');
    } else {
      provider.callback()(req, res);
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  issuer = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const features = { devInteractions: { enabled: false } };
  if (initialAccessToken !== undefined) {
    features.registration = { enabled: true, initialAccessToken };
    features.registrationManagement = { enabled: true };
  }
  provider = new Provider(issuer, {
    clients: typeof clients === 'function' ? clients(issuer) : clients,
    scopes,
    pkce: { required: () => true },
    features,
    // RFC 7591 §2 `software_id` is kept and returned (as Keycloak, Okta and others do):
    // microvet matches a client registered just before a crash by it.
    extraClientMetadata: { properties: ['software_id'] },
    interactions: { url: (ctx, i) => `/interaction/${i.uid}` },
    findAccount: (ctx, sub) => (sub === account.id
      ? { accountId: account.id, claims: () => ({ sub: account.id, email: account.email }) }
      : undefined),
    claims: { openid: ['sub'], email: ['email'] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-only', use: 'sig', alg: 'RS256' }] },
    ttl: { AuthorizationCode: 60, Interaction: 120, Session: 600, Grant: 600, IdToken: 300, AccessToken: 300, ...ttl },
    // Machine-readable error pages (the default is an HTML page).
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  provider.on('server_error', (ctx, e) => problems.push(`server_error: ${e.stack ?? e}`));
  provider.on('grant.error', (ctx, e) => grantErrors.push(`${e.error}: ${e.error_detail ?? ''}`));

  async function close() {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  return { issuer, provider, server, signingKey: publicKey, account, problems, grantErrors, close };
}

function parseArgs(argv) {
  const out = { port: 0, iatFile: undefined, scopes: undefined, password: DEFAULT_PASSWORD, watchStdin: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') out.port = Number.parseInt(value(), 10);
    else if (a === '--iat-file') out.iatFile = value();
    else if (a === '--scopes') out.scopes = value().split(/\s+/).filter(Boolean);
    else if (a === '--password') out.password = value();
    else if (a === '--watch-stdin') out.watchStdin = true;
    else throw new Error(`unknown argument \`${a}\` (usage: op.mjs --port N [--iat-file F] [--scopes "a b"] [--password P] [--watch-stdin])`);
  }
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) throw new Error('--port must be 0..65535');
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const initialAccessToken = randomBytes(24).toString('base64url');
  if (args.iatFile) {
    writeFileSync(args.iatFile, `${initialAccessToken}\n`, { mode: 0o600 });
    chmodSync(args.iatFile, 0o600);
  }
  const op = await startProvider({
    port: args.port,
    initialAccessToken,
    account: { id: DEFAULT_LOGIN, password: args.password, email: `${DEFAULT_LOGIN}@example.test` },
    ...(args.scopes ? { scopes: args.scopes } : {}),
  });
  // Problems go to stderr as they happen (stdout carries only the one JSON line).
  const report = (kind) => (ctx, e) => process.stderr.write(`op: ${kind}: ${e?.stack ?? e}\n`);
  op.provider.on('server_error', report('server_error'));
  let closing = false;
  const stop = async () => {
    if (closing) return;
    closing = true;
    await op.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (args.watchStdin) {
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.resume();
  }
  process.stdout.write(`${JSON.stringify({
    issuer: op.issuer,
    initial_access_token: initialAccessToken,
    login: op.account.id,
    password: op.account.password,
  })}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e) => {
    process.stderr.write(`op.mjs: ${e.message ?? e}\n`);
    process.exit(2);
  });
}
