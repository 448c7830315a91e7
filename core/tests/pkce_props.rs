//! Property and statistical tests of `microvet_core::pkce` (RFC 7636).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use microvet_core::ErrorCode;
use microvet_core::pkce::*;
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};

/// The 66 unreserved characters (RFC 3986 §2.3), in the test's own order.
const UNRESERVED: &[u8; 66] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
/// The 64 base64url characters, in value order.
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Upper 0.999 quantile of the chi-square distribution with 65 degrees of freedom
/// (P[X > 105.988] = 0.001, from the regularised incomplete gamma function).
/// The often-quoted ~118 is the 0.99993 quantile, a weaker check.
const CHI2_65_0999: f64 = 105.988;

/// Deterministic high-quality entropy: SHA-256 in counter mode over a 32-byte seed.
struct Sha256Ctr {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl Sha256Ctr {
    fn new(seed: [u8; 32]) -> Self {
        Sha256Ctr {
            seed,
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }
}

impl Entropy for Sha256Ctr {
    fn fill(&mut self, buf: &mut [u8]) {
        for byte in buf {
            if self.used == self.block.len() {
                let mut hasher = Sha256::new();
                hasher.update(self.seed);
                hasher.update(self.counter.to_le_bytes());
                self.block.copy_from_slice(&hasher.finalize());
                self.counter += 1;
                self.used = 0;
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
    }
}

fn independent_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn unreserved_index(c: u8) -> usize {
    UNRESERVED
        .iter()
        .position(|&u| u == c)
        .unwrap_or_else(|| panic!("{:?} is not unreserved", char::from(c)))
}

fn replace_at(s: &str, index: usize, with: u8) -> String {
    let mut bytes = s.as_bytes().to_vec();
    bytes[index] = with;
    String::from_utf8(bytes).unwrap()
}

/// Pearson's chi-square statistic of `counts` against the uniform distribution.
fn chi_square(counts: &[u64]) -> f64 {
    let n: u64 = counts.iter().sum();
    let expected = n as f64 / counts.len() as f64;
    counts
        .iter()
        .map(|&c| {
            let d = c as f64 - expected;
            d * d / expected
        })
        .sum()
}

proptest! {
    // Integration tests have no lib.rs beside them for proptest's regression files.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_verifier_has_length_charset_and_s256_challenge(
        seed in any::<[u8; 32]>(),
        length in MIN_LENGTH..=MAX_LENGTH,
    ) {
        let pair = generate(length, &mut Sha256Ctr::new(seed)).unwrap();
        prop_assert_eq!(pair.verifier.len(), length);
        prop_assert_eq!(pair.verifier.chars().count(), length);
        prop_assert!(pair.verifier.bytes().all(|b| UNRESERVED.contains(&b)), "{}", pair.verifier);
        prop_assert_eq!(pair.method.as_str(), "S256");
        let expected = independent_s256(&pair.verifier);
        prop_assert_eq!(&pair.challenge, &expected);
        prop_assert_eq!(challenge(&pair.verifier).unwrap(), expected);
        prop_assert!(validate_verifier(&pair.verifier).is_ok());
        prop_assert!(verify(&pair.verifier, &pair.challenge).unwrap());
    }

    #[test]
    fn verify_rejects_every_single_char_change_of_the_verifier(
        seed in any::<[u8; 32]>(),
        length in MIN_LENGTH..=MAX_LENGTH,
        offset in 1usize..UNRESERVED.len(),
    ) {
        let pair = generate(length, &mut Sha256Ctr::new(seed)).unwrap();
        for (index, &original) in pair.verifier.as_bytes().iter().enumerate() {
            let replacement = UNRESERVED[(unreserved_index(original) + offset) % UNRESERVED.len()];
            prop_assert_ne!(replacement, original);
            let changed = replace_at(&pair.verifier, index, replacement);
            prop_assert_eq!(verify(&changed, &pair.challenge), Ok(false), "position {}", index);
        }
    }

    #[test]
    fn verify_rejects_every_single_char_change_of_the_challenge(
        seed in any::<[u8; 32]>(),
        offset in 1usize..BASE64URL.len(),
    ) {
        let pair = generate(DEFAULT_LENGTH, &mut Sha256Ctr::new(seed)).unwrap();
        let last = pair.challenge.len() - 1;
        for (index, &original) in pair.challenge.as_bytes().iter().enumerate() {
            let value = BASE64URL.iter().position(|&c| c == original).unwrap();
            let replacement_value = (value + offset) % BASE64URL.len();
            let changed = replace_at(&pair.challenge, index, BASE64URL[replacement_value]);
            let result = verify(&pair.verifier, &changed);
            // 43 characters carry 258 bits for a 256-bit digest: the last character's two
            // low bits must be zero, so some last-character changes are malformed.
            if index == last && !replacement_value.is_multiple_of(4) {
                prop_assert_eq!(result.map_err(|e| e.code), Err(ErrorCode::PkceChallenge));
            } else {
                prop_assert_eq!(result, Ok(false), "position {}", index);
            }
        }
    }

    #[test]
    fn verify_never_panics_on_arbitrary_strings(verifier in any::<String>(), challenge_text in any::<String>()) {
        // Ok(false) and Err are both fine; a match must be the real S256 challenge.
        if let Ok(true) = verify(&verifier, &challenge_text) {
            prop_assert_eq!(challenge(&verifier).unwrap(), challenge_text);
        }
        let _ = challenge(&verifier);
        let _ = validate_verifier(&verifier);
    }

    #[test]
    fn verify_never_panics_on_near_valid_strings(
        verifier in "[A-Za-z0-9._~ +/=é-]{40,131}",
        challenge_text in "[A-Za-z0-9_ +/=é-]{40,46}",
    ) {
        match verify(&verifier, &challenge_text) {
            Ok(matched) => {
                prop_assert!(validate_verifier(&verifier).is_ok());
                prop_assert_eq!(matched, independent_s256(&verifier) == challenge_text);
            }
            Err(e) => prop_assert!(matches!(
                e.code,
                ErrorCode::PkceLength | ErrorCode::PkceCharset | ErrorCode::PkceChallenge
            )),
        }
    }
}

#[test]
fn chi_square_uniformity_of_generated_verifiers() {
    // Rejection sampling through the public API: 782 verifiers of 128 chars.
    let mut rng = Sha256Ctr::new(*b"microvet pkce chi-square seed #1");
    let pairs = generate_batch(MAX_LENGTH, 782, &mut rng).unwrap();
    let mut counts = [0u64; 66];
    for pair in &pairs {
        for byte in pair.verifier.bytes() {
            counts[unreserved_index(byte)] += 1;
        }
    }
    let n: u64 = counts.iter().sum();
    assert!(n >= 100_000, "{n}");
    let unbiased = chi_square(&counts);

    // The same statistic over a deliberately biased sampler (`byte % 66` on raw bytes):
    // 256 = 3 * 66 + 58, so symbols 0..58 have probability 4/256 and 58..66 only 3/256.
    // Noncentrality ≈ 0.00708 * n, so at n = 1_000_000 the statistic is ≈ 7_100, far
    // above the critical value (it already fails reliably from n ≈ 30_000).
    let mut rng = Sha256Ctr::new(*b"microvet pkce chi-square seed #2");
    let mut raw = vec![0u8; 1_000_000];
    rng.fill(&mut raw);
    let mut biased_counts = [0u64; 66];
    for byte in raw {
        biased_counts[usize::from(byte % 66)] += 1;
    }
    let biased = chi_square(&biased_counts);

    println!(
        "chi-square (65 dof, critical {CHI2_65_0999} at 0.999): rejection sampler n={n} -> {unbiased:.3}; `byte % 66` n=1000000 -> {biased:.3}"
    );
    assert!(
        unbiased < CHI2_65_0999,
        "rejection sampler chi-square {unbiased} >= {CHI2_65_0999}"
    );
    assert!(
        biased > CHI2_65_0999,
        "biased sampler chi-square {biased} <= {CHI2_65_0999}: the test has no teeth"
    );
}
