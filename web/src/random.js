// The component's only import: `wasi:random/random@0.2.3`, over the Web Crypto API.
//
// `crypto.getRandomValues` is a CSPRNG in every browser and in Node >= 19 (globalThis.crypto),
// and it refuses requests over 65536 bytes, so larger requests are filled in chunks.
// This module replaces @bytecodealliance/preview2-shim: nothing else from WASI is needed.

const MAX_CHUNK = 65536;

function webCrypto() {
  const c = globalThis.crypto;
  if (!c || typeof c.getRandomValues !== 'function') {
    throw new Error('microvet: no `crypto.getRandomValues` in this JavaScript environment');
  }
  return c;
}

/**
 * `get-random-bytes: func(len: u64) -> list<u8>`
 * @param {bigint} len
 * @returns {Uint8Array}
 */
export function getRandomBytes(len) {
  const n = Number(len);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`microvet: invalid random byte count ${len}`);
  }
  const out = new Uint8Array(n);
  const c = webCrypto();
  for (let off = 0; off < n; off += MAX_CHUNK) {
    c.getRandomValues(out.subarray(off, Math.min(off + MAX_CHUNK, n)));
  }
  return out;
}

/**
 * `get-random-u64: func() -> u64`
 * @returns {bigint}
 */
export function getRandomU64() {
  const words = webCrypto().getRandomValues(new BigUint64Array(1));
  return words[0];
}

/** The interface object, in the shape jco expects for `wasi:random/random`. */
export const random = { getRandomBytes, getRandomU64 };
