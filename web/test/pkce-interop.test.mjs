// Interop with a real OpenID provider: npm `oidc-provider` (panva; an OpenID-certified
// implementation) runs inside this test on 127.0.0.1 with a random port, and the full
// authorization code flow is driven with the URL and verifier from microvet's
// `pkce.authorizeUrl`:
//
//   authorizeUrl(...) → GET <provider>/auth → 303 /interaction/<uid> (login form, 200)
//   → POST /interaction/<uid>/login (test account; creates the consent grant and calls
//     provider.interactionFinished) → 303 /auth/<uid> → 303 <redirect_uri>?code&state&iss
//   → POST <provider>/token with our code_verifier → id_token + access_token.
//
// The client is public (`token_endpoint_auth_method: none`) and PKCE is required
// (`pkce.required` → true; oidc-provider 9 supports only S256, and says so in discovery).
// Interactions are a tiny test-only route (devInteractions is disabled): no browser, no
// HTML scraping beyond the form's action. Storage is oidc-provider's built-in in-memory
// adapter (nothing written to disk). Every request has a timeout and the server is always
// closed. Negative checks: a wrong verifier is `invalid_grant`; an authorization request
// without a code_challenge is refused; the `plain` method is refused.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, verify as verifySignature } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import Provider from 'oidc-provider';

import { load } from '../src/index.js';

const STEP_MS = 5_000;
const TEST_MS = 30_000;
const CLIENT_ID = 'microvet-sandbox-spa';
const ACCOUNT = { id: 'alice', password: randomBytes(12).toString('base64url'), email: 'alice@example.test' };

let server;
let issuer;
let redirectUri;
let provider;
let signingKey;
/** Problems the interaction route hit (asserted empty at the end). */
const problems = [];
/** The provider's own reasons for refused token requests (`grant.error` events). */
const grantErrors = [];

/** fetch with a timeout and manual redirects. */
function get(url, init = {}) {
  return fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(STEP_MS), ...init });
}

/** The smallest cookie jar that works against one host: name → value, paths ignored. */
class CookieJar {
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

/** Read a request body (form-encoded) with a size bound. */
async function formBody(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('body too large');
  }
  return new URLSearchParams(body);
}

/**
 * Test-only interactions: GET shows a login form; POST logs the test account in and grants
 * the requested OpenID scopes in one step (login + consent), then hands back to the provider.
 */
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
  if (form.get('login') !== ACCOUNT.id || form.get('password') !== ACCOUNT.password) {
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'bad test credentials' }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = new provider.Grant({ accountId: ACCOUNT.id, clientId: details.params.client_id });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: ACCOUNT.id }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

before(async () => {
  server = createServer((req, res) => {
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
      // The app's redirect URI: the test never follows the redirect here, it reads Location.
      res.writeHead(200, { 'content-type': 'text/plain' }).end('callback');
    } else {
      provider.callback()(req, res);
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  issuer = `http://127.0.0.1:${port}`;
  redirectUri = `${issuer}/cb`;

  // Test-only signing key (RS256, the default id_token alg) and cookie keys.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  signingKey = publicKey;
  provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      token_endpoint_auth_method: 'none',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, i) => `/interaction/${i.uid}` },
    findAccount: (ctx, sub) => (sub === ACCOUNT.id
      ? { accountId: ACCOUNT.id, claims: () => ({ sub: ACCOUNT.id, email: ACCOUNT.email }) }
      : undefined),
    claims: { openid: ['sub'], email: ['email'] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-only', use: 'sig', alg: 'RS256' }] },
    ttl: { AuthorizationCode: 60, Interaction: 120, Session: 600, Grant: 600, IdToken: 300, AccessToken: 300 },
  });
  // Keep the test output clean: the provider reports server errors through Koa.
  provider.on('server_error', (ctx, e) => problems.push(`server_error: ${e.stack ?? e}`));
  provider.on('grant.error', (ctx, e) => grantErrors.push(`${e.error}: ${e.error_detail ?? ''}`));
});

after(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/**
 * Drive the browser part of the flow from an authorization URL: follow redirects (carrying
 * cookies), sign in at the login form, stop at the redirect URI. Returns its query parameters
 * and the request paths taken (uids replaced by `:uid`).
 */
async function authorize(authUrl) {
  const jar = new CookieJar();
  const path = (u) => `${u.method ?? 'GET'} ${new URL(u.url).pathname.replace(/\/[\w-]{20,}/, '/:uid')}`;
  const hops = [];
  let url = authUrl;
  let res;
  for (let hop = 0; hop < 10; hop++) {
    if (url.startsWith(redirectUri)) {
      return { params: new URL(url).searchParams, hops };
    }
    hops.push(path({ url }));
    res = await get(url, { headers: { cookie: jar.header() } });
    jar.store(res);
    if (res.status === 200 && new URL(url).pathname.startsWith('/interaction/')) {
      const html = await res.text();
      const action = /action="([^"]+)"/.exec(html)?.[1];
      assert.ok(action, 'login form has an action');
      hops.push(path({ method: 'POST', url: new URL(action, url).href }));
      res = await get(new URL(action, url), {
        method: 'POST',
        headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ login: ACCOUNT.id, password: ACCOUNT.password }).toString(),
      });
      jar.store(res);
    }
    if (res.status < 300 || res.status > 399) {
      assert.fail(`expected a redirect from ${new URL(url).pathname}, got ${res.status}: ${(await res.text()).slice(0, 300)}`);
    }
    await res.body?.cancel();
    url = new URL(res.headers.get('location'), url).href;
  }
  assert.fail('too many redirects');
}

/** The token request of a public client (RFC 6749 §4.1.3 + RFC 7636 §4.5). */
async function token(code, verifier) {
  const res = await get(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: CLIENT_ID,
      code_verifier: verifier,
    }).toString(),
  });
  return { status: res.status, body: await res.json() };
}

/** Decode and check a compact JWS with the provider's public key; returns the payload. */
function verifyIdToken(jwt) {
  const [h, p, s] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  assert.equal(header.alg, 'RS256');
  assert.ok(verifySignature('sha256', Buffer.from(`${h}.${p}`), signingKey, Buffer.from(s, 'base64url')), 'id_token signature');
  return JSON.parse(Buffer.from(p, 'base64url').toString());
}

describe('PKCE interop with oidc-provider (authorization code flow, public client)', () => {
  test('discovery advertises S256 only', { timeout: TEST_MS }, async () => {
    const res = await get(`${issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const meta = await res.json();
    assert.equal(meta.issuer, issuer);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.equal(meta.authorization_endpoint, `${issuer}/auth`);
  });

  test('our authorizeUrl + verifier get tokens; state round-trips; nonce is in the id_token', { timeout: TEST_MS }, async () => {
    const { pkce } = await load();
    const req = pkce.authorizeUrl({
      endpoint: `${issuer}/auth`,
      clientId: CLIENT_ID,
      redirectUri,
      scopes: ['openid', 'email'],
      extra: [],
    });
    assert.ok(req.nonce, 'openid scope gives a nonce');
    assert.equal(new URL(req.url).searchParams.get('code_challenge_method'), 'S256');

    const { params: callback, hops } = await authorize(req.url);
    assert.equal(callback.get('error'), null, `provider error: ${callback.get('error')} ${callback.get('error_description')}`);
    // Really through the provider's interaction (login + consent), then back to /auth.
    assert.deepEqual(hops, ['GET /auth', 'GET /interaction/:uid', 'POST /interaction/:uid/login', 'GET /auth/:uid']);
    assert.equal(callback.get('state'), req.state, 'state comes back unchanged');
    assert.equal(callback.get('iss'), issuer, 'RFC 9207 issuer identification');
    const code = callback.get('code');
    assert.ok(code);

    const { status, body } = await token(code, req.verifier);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.token_type, 'Bearer');
    assert.ok(body.access_token);
    assert.ok(body.id_token, 'id_token present');
    const claims = verifyIdToken(body.id_token);
    assert.equal(claims.iss, issuer);
    assert.equal(claims.aud, CLIENT_ID);
    assert.equal(claims.sub, ACCOUNT.id);
    assert.equal(claims.nonce, req.nonce, 'nonce inside the id_token equals ours');

    // The code is single-use.
    const replay = await token(code, req.verifier);
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
  });

  test('a wrong verifier is refused at the token endpoint (invalid_grant)', { timeout: TEST_MS }, async () => {
    const { pkce } = await load();
    const req = pkce.authorizeUrl({ endpoint: `${issuer}/auth`, clientId: CLIENT_ID, redirectUri, scopes: ['openid'], extra: [] });
    const { params: callback } = await authorize(req.url);
    assert.equal(callback.get('state'), req.state);
    const code = callback.get('code');
    assert.ok(code);
    const wrong = pkce.generate(64).verifier; // well-formed, just not the one behind the challenge
    assert.notEqual(wrong, req.verifier);
    const seen = grantErrors.length;
    const { status, body } = await token(code, wrong);
    assert.equal(status, 400, JSON.stringify(body));
    assert.equal(body.error, 'invalid_grant');
    assert.equal(body.id_token, undefined);
    assert.equal(body.access_token, undefined);
    // The provider's own reason: the PKCE check, not anything else about the request.
    assert.deepEqual(grantErrors.slice(seen), ['invalid_grant: code_verifier does not match code_challenge']);
    // oidc-provider checks PKCE before it consumes the code, so the same code with the
    // right verifier still works: the only thing wrong above was the verifier.
    const right = await token(code, req.verifier);
    assert.equal(right.status, 200, JSON.stringify(right.body));
    assert.ok(right.body.id_token);
  });

  test('PKCE is required: no code_challenge, or method plain, is refused', { timeout: TEST_MS }, async () => {
    const { pkce } = await load();
    const req = pkce.authorizeUrl({ endpoint: `${issuer}/auth`, clientId: CLIENT_ID, redirectUri, scopes: ['openid'], extra: [] });
    const without = new URL(req.url);
    without.searchParams.delete('code_challenge');
    without.searchParams.delete('code_challenge_method');
    let { params: callback } = await authorize(without.href);
    assert.equal(callback.get('error'), 'invalid_request');
    assert.match(callback.get('error_description'), /PKCE/);
    assert.equal(callback.get('code'), null);

    const plain = new URL(req.url);
    plain.searchParams.set('code_challenge', req.verifier);
    plain.searchParams.set('code_challenge_method', 'plain');
    ({ params: callback } = await authorize(plain.href));
    assert.equal(callback.get('error'), 'invalid_request');
    assert.match(callback.get('error_description'), /code_challenge_method/);
    assert.equal(callback.get('code'), null);
    // And microvet never builds such a request.
    assert.throws(
      () => pkce.authorizeUrl({ endpoint: `${issuer}/auth`, clientId: CLIENT_ID, redirectUri, scopes: ['openid'], extra: [['code_challenge_method', 'plain']] }),
      (e) => e.name === 'MicrovetError' && e.code === 'invalid-argument',
    );
  });

  test('the provider and the interaction route reported no problems', () => {
    assert.deepEqual(problems, []);
  });
});
