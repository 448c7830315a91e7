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
import { randomBytes, verify as verifySignature } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { load } from '../src/index.js';
import { authorize as drive, get } from './support/flow.mjs';
import { startProvider } from './support/op.mjs';

const TEST_MS = 30_000;
const CLIENT_ID = 'microvet-sandbox-spa';
const ACCOUNT = { id: 'alice', password: randomBytes(12).toString('base64url'), email: 'alice@example.test' };

/** The provider (`support/op.mjs`: the same setup the Rust lifecycle tests run). */
let op;
let issuer;
let redirectUri;

before(async () => {
  // The redirect URI is on the provider's own origin (`/cb`): the client is built once the
  // port is known.
  op = await startProvider({
    account: ACCOUNT,
    scopes: ['openid', 'offline_access', 'email'],
    clients: (origin) => [{
      client_id: CLIENT_ID,
      token_endpoint_auth_method: 'none',
      redirect_uris: [`${origin}/cb`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
  });
  issuer = op.issuer;
  redirectUri = `${issuer}/cb`;
});

after(async () => {
  await op?.close();
});

/** The shared driver, with this test's redirect URI and account; failures are assertion failures. */
async function authorize(authUrl) {
  try {
    return await drive(authUrl, { redirectUri, account: ACCOUNT });
  } catch (e) {
    assert.fail(`${e.message}: ${JSON.stringify(e.body ?? null).slice(0, 300)}`);
  }
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
  assert.ok(verifySignature('sha256', Buffer.from(`${h}.${p}`), op.signingKey, Buffer.from(s, 'base64url')), 'id_token signature');
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
    const seen = op.grantErrors.length;
    const { status, body } = await token(code, wrong);
    assert.equal(status, 400, JSON.stringify(body));
    assert.equal(body.error, 'invalid_grant');
    assert.equal(body.id_token, undefined);
    assert.equal(body.access_token, undefined);
    // The provider's own reason: the PKCE check, not anything else about the request.
    assert.deepEqual(op.grantErrors.slice(seen), ['invalid_grant: code_verifier does not match code_challenge']);
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
    assert.deepEqual(op.problems, []);
  });
});
