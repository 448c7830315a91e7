// The browser half of an OAuth 2.0 authorization-code flow with PKCE (RFC 6749 §4.1,
// RFC 7636 S256), driven without a browser against the test provider (`op.mjs`), shared by
// the Node tests and the Rust lifecycle tests, which run it as a program:
//
//   node web/test/support/flow.mjs --issuer I --client-id C --redirect-uri R
//        [--client-secret S] [--scope "openid"] [--login L] [--password P]
//
// It reads the provider's discovery document, sends an authorization request with an S256
// code challenge, state and nonce, follows the redirects (carrying cookies), signs the test
// account in at the interaction form (login + consent), stops at the redirect URI (never
// fetched), checks `state` and `iss` (RFC 9207), redeems the code with the verifier at the
// token endpoint (client_secret_basic when a secret is given, else a public client) and
// checks the id_token (RS256 signature against the provider's JWKS, iss, aud, nonce).
// Exit 0 with one JSON line `{"ok":true,…}`; exit 1 with `{"ok":false,"stage":…,"error":…}`
// carrying the provider's error (an unknown client: `invalid_client` at `authorize`);
// exit 2 on bad arguments. No token is printed. Every request has a timeout.
import { createHash, createPublicKey, randomBytes, verify as verifySignature } from 'node:crypto';
import { pathToFileURL } from 'node:url';

/** The test account of `op.mjs` (a loopback-only test provider; nothing real behind it). */
export const DEFAULT_LOGIN = 'alice';
export const DEFAULT_PASSWORD = 'alice-test-only';

export const STEP_MS = 5_000;
const MAX_HOPS = 10;

/** An error of the flow: where it stopped and what the provider said. */
export class FlowError extends Error {
  constructor(stage, message, { status, body } = {}) {
    super(message);
    this.name = 'FlowError';
    this.stage = stage;
    this.status = status;
    this.body = body;
  }
}

/** fetch with a timeout and manual redirects. */
export function get(url, init = {}) {
  return fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(STEP_MS), ...init });
}

/** The smallest cookie jar that works against one host: name → value, paths ignored. */
export class CookieJar {
  #cookies = new Map();

  store(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header() {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

async function bodyOf(res) {
  const text = (await res.text()).slice(0, 2_000);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Drive the browser part of the flow from an authorization URL: follow redirects (carrying
 * cookies), sign in at the login form, stop at the redirect URI. Returns its query
 * parameters and the request paths taken (uids replaced by `:uid`). Throws a `FlowError`
 * (stage `authorize`) when the provider answers anything but a redirect.
 */
export async function authorize(authUrl, { redirectUri, account }) {
  const jar = new CookieJar();
  const path = (u) => `${u.method ?? 'GET'} ${new URL(u.url).pathname.replace(/\/[\w-]{20,}/, '/:uid')}`;
  const hops = [];
  let url = authUrl;
  let res;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    if (url.startsWith(redirectUri)) {
      return { params: new URL(url).searchParams, hops };
    }
    hops.push(path({ url }));
    res = await get(url, { headers: { cookie: jar.header() } });
    jar.store(res);
    if (res.status === 200 && new URL(url).pathname.startsWith('/interaction/')) {
      const html = await res.text();
      const action = /action="([^"]+)"/.exec(html)?.[1];
      if (!action) throw new FlowError('authorize', 'the login form has no action');
      hops.push(path({ method: 'POST', url: new URL(action, url).href }));
      res = await get(new URL(action, url), {
        method: 'POST',
        headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ login: account.id, password: account.password }).toString(),
      });
      jar.store(res);
    }
    if (res.status < 300 || res.status > 399) {
      const body = await bodyOf(res);
      throw new FlowError('authorize', `expected a redirect from ${new URL(url).pathname}, got ${res.status}`, { status: res.status, body });
    }
    await res.body?.cancel();
    url = new URL(res.headers.get('location'), url).href;
  }
  throw new FlowError('authorize', 'too many redirects');
}

/** S256 (RFC 7636 §4.2). */
export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/** Check a compact JWS against a JWK Set; returns the payload. */
function verifyJwt(jwt, jwks) {
  const [h, p, s] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  if (header.alg !== 'RS256') throw new FlowError('id_token', `unexpected alg \`${header.alg}\``);
  const jwk = jwks.keys.find((k) => k.kid === header.kid) ?? jwks.keys[0];
  if (!jwk) throw new FlowError('id_token', 'the provider publishes no key');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  if (!verifySignature('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))) {
    throw new FlowError('id_token', 'bad id_token signature');
  }
  return JSON.parse(Buffer.from(p, 'base64url').toString());
}

/**
 * A full authorization-code + PKCE flow. Resolves to a summary (no tokens) or throws a
 * `FlowError` naming the stage (`discovery`, `authorize`, `callback`, `token`, `id_token`)
 * and the provider's answer.
 */
export async function runFlow({
  issuer,
  clientId,
  redirectUri,
  clientSecret,
  scope = 'openid',
  account = { id: DEFAULT_LOGIN, password: DEFAULT_PASSWORD },
}) {
  const discovery = await get(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (discovery.status !== 200) {
    throw new FlowError('discovery', `discovery answered ${discovery.status}`, { status: discovery.status, body: await bodyOf(discovery) });
  }
  const meta = await discovery.json();
  if (meta.issuer !== issuer) throw new FlowError('discovery', `issuer \`${meta.issuer}\` is not \`${issuer}\``);

  const { verifier, challenge } = pkcePair();
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const auth = new URL(meta.authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })) auth.searchParams.set(k, v);

  const { params, hops } = await authorize(auth.href, { redirectUri, account });
  if (params.get('error')) {
    throw new FlowError('callback', 'the provider returned an error to the redirect URI', {
      body: { error: params.get('error'), error_description: params.get('error_description') },
    });
  }
  if (params.get('state') !== state) throw new FlowError('callback', 'state did not round-trip');
  if (params.get('iss') !== issuer) throw new FlowError('callback', `iss \`${params.get('iss')}\` is not the issuer`);
  const code = params.get('code');
  if (!code) throw new FlowError('callback', 'no code');

  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const form = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier };
  if (clientSecret !== undefined) {
    // RFC 6749 §2.3.1: form-urlencoded id and secret, joined by a colon, in Basic.
    const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
    headers.authorization = `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`;
  } else {
    form.client_id = clientId;
  }
  const tokenRes = await get(meta.token_endpoint, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
  const tokenBody = await bodyOf(tokenRes);
  if (tokenRes.status !== 200) {
    throw new FlowError('token', `token endpoint answered ${tokenRes.status}`, { status: tokenRes.status, body: tokenBody });
  }
  if (tokenBody.token_type !== 'Bearer' || !tokenBody.access_token || !tokenBody.id_token) {
    throw new FlowError('token', 'the token response lacks a Bearer access_token or an id_token');
  }

  const jwksRes = await get(meta.jwks_uri);
  const claims = verifyJwt(tokenBody.id_token, await jwksRes.json());
  if (claims.iss !== issuer) throw new FlowError('id_token', 'id_token iss is not the issuer');
  if (claims.aud !== clientId) throw new FlowError('id_token', 'id_token aud is not the client');
  if (claims.nonce !== nonce) throw new FlowError('id_token', 'id_token nonce is not ours');

  return { ok: true, client_id: clientId, sub: claims.sub, scope: tokenBody.scope ?? null, hops };
}

function parseArgs(argv) {
  const out = {};
  const names = {
    '--issuer': 'issuer',
    '--client-id': 'clientId',
    '--redirect-uri': 'redirectUri',
    '--client-secret': 'clientSecret',
    '--scope': 'scope',
    '--login': 'login',
    '--password': 'password',
  };
  for (let i = 0; i < argv.length; i++) {
    const key = names[argv[i]];
    if (!key) throw new Error(`unknown argument \`${argv[i]}\``);
    if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
    out[key] = argv[++i];
  }
  for (const required of ['issuer', 'clientId', 'redirectUri']) {
    if (!out[required]) throw new Error('usage: flow.mjs --issuer I --client-id C --redirect-uri R [--client-secret S] [--scope S] [--login L] [--password P]');
  }
  return out;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`flow.mjs: ${e.message}\n`);
    process.exit(2);
  }
  try {
    const result = await runFlow({
      ...args,
      account: { id: args.login ?? DEFAULT_LOGIN, password: args.password ?? DEFAULT_PASSWORD },
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  } catch (e) {
    const body = e.body && typeof e.body === 'object' ? e.body : {};
    process.stdout.write(`${JSON.stringify({
      ok: false,
      stage: e.stage ?? 'unknown',
      status: e.status ?? null,
      error: body.error ?? null,
      error_description: body.error_description ?? null,
      message: String(e.message ?? e),
    })}\n`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main();
}
