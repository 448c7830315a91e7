// Differential PKCE checks against two independent JS implementations:
// oauth4webapi (panva) and pkce-challenge. Same verifier → same S256 challenge.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as oauth from 'oauth4webapi';
import pkceChallenge, { generateChallenge, verifyChallenge } from 'pkce-challenge';

import { load } from '../src/index.js';

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
