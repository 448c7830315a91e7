// Differential PKCE checks against independent JS implementations: oauth4webapi (panva)
// and pkce-challenge. Same verifier → same S256 challenge, on inputs neither side chose:
// 10,000 verifiers drawn here from node:crypto, plus 10,000 the component generated.
import assert from 'node:assert/strict';
import { createHash, randomInt } from 'node:crypto';
import { test } from 'node:test';

import * as oauth from 'oauth4webapi';
import pkceChallenge, { generateChallenge, verifyChallenge } from 'pkce-challenge';

import { load } from '../src/index.js';

/** RFC 3986 §2.3 unreserved characters: the 66-symbol verifier alphabet (RFC 7636 §4.1). */
const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
const UNRESERVED_RE = /^[A-Za-z0-9\-._~]{43,128}$/;
const N = 10_000;

/** A random verifier: length uniform in 43..=128, characters uniform over UNRESERVED (CSPRNG). */
function randomVerifier() {
  const length = randomInt(43, 129);
  let v = '';
  for (let i = 0; i < length; i++) v += UNRESERVED[randomInt(UNRESERVED.length)];
  return v;
}

/** A third, dependency-free reference: node:crypto's SHA-256, base64url without padding. */
function nodeS256(verifier) {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

test('RFC 7636 Appendix B: microvet, oauth4webapi, pkce-challenge and node:crypto agree', async () => {
  const { pkce } = await load();
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
  assert.equal(pkce.challenge(verifier), challenge);
  assert.equal(await oauth.calculatePKCECodeChallenge(verifier), challenge);
  assert.equal(await generateChallenge(verifier), challenge);
  assert.equal(nodeS256(verifier), challenge);
});

test(`differential: ${N.toLocaleString('en')} random verifiers (43..128, node:crypto) → challenge equals oauth4webapi.calculatePKCECodeChallenge, verify accepts it`, { timeout: 60_000 }, async () => {
  const { pkce } = await load();
  const verifiers = Array.from({ length: N }, randomVerifier);
  // The sample really covers the whole length range and the whole alphabet.
  const lengths = new Set(verifiers.map((v) => v.length));
  assert.ok(lengths.has(43) && lengths.has(128), 'both length bounds were drawn');
  assert.ok(lengths.size >= 80, `only ${lengths.size} distinct lengths in ${N} draws`);
  const seen = new Set(verifiers.join(''));
  assert.equal(seen.size, UNRESERVED.length, 'every unreserved character was drawn');

  // The peer's digests are independent of ours: start them all, then compare one by one.
  const theirs = await Promise.all(verifiers.map((v) => oauth.calculatePKCECodeChallenge(v)));
  for (const [i, v] of verifiers.entries()) {
    const ours = pkce.challenge(v);
    // Stops at the first mismatch (these are throwaway test verifiers, not secrets).
    assert.equal(ours, theirs[i], `verifier #${i} (length ${v.length}): ours ${ours}, oauth4webapi ${theirs[i]}`);
    assert.equal(ours, nodeS256(v));
    assert.equal(pkce.verify(v, theirs[i]), true);
  }
});

test(`differential: ${N.toLocaleString('en')} component-generated pairs (generateBatch, random lengths) agree with oauth4webapi`, { timeout: 60_000 }, async () => {
  const { pkce } = await load();
  const pairs = [];
  // 100 batched calls of 100 pairs: one JS↔Wasm crossing per batch.
  for (let b = 0; b < N / 100; b++) pairs.push(...pkce.generateBatch(randomInt(43, 129), 100));
  assert.equal(pairs.length, N);
  const theirs = await Promise.all(pairs.map((p) => oauth.calculatePKCECodeChallenge(p.verifier)));
  for (const [i, p] of pairs.entries()) {
    assert.match(p.verifier, UNRESERVED_RE);
    assert.equal(p.method, 'S256');
    assert.equal(p.challenge, theirs[i], `pair #${i} (length ${p.verifier.length})`);
  }
  assert.equal(new Set(pairs.map((p) => p.verifier)).size, N, 'no verifier repeats');
});

test('challenge(v) agrees with oauth4webapi and pkce-challenge on our verifiers', async () => {
  const { pkce } = await load();
  for (const length of [43, 64, 128]) {
    for (const pair of pkce.generateBatch(length, 40)) {
      assert.equal(await oauth.calculatePKCECodeChallenge(pair.verifier), pair.challenge);
      assert.equal(await generateChallenge(pair.verifier), pair.challenge);
      assert.equal(await verifyChallenge(pair.verifier, pair.challenge), true);
    }
  }
});

test('verify() accepts their verifiers and challenges', async () => {
  const { pkce } = await load();
  for (let i = 0; i < 40; i++) {
    const v = oauth.generateRandomCodeVerifier();
    assert.equal(pkce.verify(v, await oauth.calculatePKCECodeChallenge(v)), true);
    const p = await pkceChallenge(43 + (i % 86));
    assert.equal(pkce.challenge(p.code_verifier), p.code_challenge);
    assert.equal(pkce.verify(p.code_verifier, p.code_challenge), true);
  }
});

test('where the peers accept input RFC 7636 forbids, microvet refuses it', async () => {
  const { pkce } = await load();
  // oauth4webapi hashes any string; microvet validates length and charset first.
  for (const bad of ['short', 'a'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(42)} `, `${'a'.repeat(42)}é`]) {
    assert.equal(typeof (await oauth.calculatePKCECodeChallenge(bad)), 'string');
    assert.throws(() => pkce.challenge(bad), (e) => e.name === 'MicrovetError' && /^pkce-(length|charset)$/.test(e.code));
  }
});
