//! PKCE helpers (RFC 7636): code verifiers, `S256` challenges, constant-time
//! verification, and authorization-code request URLs with `state` and `nonce`.
//!
//! Only the `S256` method is ever produced; `plain` is refused. The module is pure:
//! randomness comes only through the [`Entropy`] trait (the guest backs it with
//! `wasi:random`), so every function is deterministic for a given entropy source.
//!
//! Verifiers are secrets: error messages never echo a verifier, at most the single
//! offending character (escaped) and its position.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use url::{Host, Url};

use crate::error::{Error, ErrorCode, Result};
use zeroize::Zeroize as _;

/// Source of cryptographically secure random bytes (the guest gets them from wasi:random).
pub trait Entropy {
    /// Fill all of `buf` with uniformly random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

/// The most a [`Pooled`] source draws in one call (browsers refuse more than 65,536 bytes per
/// `crypto.getRandomValues`, so the JS side would split anything larger anyway).
pub const MAX_CHUNK: usize = 64 * 1024;

/// [`Entropy`] drawn from a host in chunks: a batch of verifiers costs one host call per
/// `chunk` bytes instead of one per verifier (each call crosses the component boundary: a
/// syscall in wasmtime, `crypto.getRandomValues` in a browser). Bytes are handed out once
/// and zeroed in the pool as they are, so no two values share randomness; what is left is
/// zeroed on drop.
///
/// [`Entropy::fill`] cannot fail, so a draw that returns fewer bytes than asked is recorded
/// ([`Pooled::short`]; the missing bytes are zero) and the caller must refuse the result
/// rather than hand out a value made from weak randomness ([`Pooled::run`] does).
pub struct Pooled<D: FnMut(usize) -> Vec<u8>> {
    draw: D,
    short: bool,
    /// Bytes per draw; 0 draws exactly what each `fill` asks for.
    chunk: usize,
    pool: Vec<u8>,
    /// Bytes of `pool` already handed out (and zeroed).
    used: usize,
}

impl<D: FnMut(usize) -> Vec<u8>> Pooled<D> {
    /// A source drawing about `budget` bytes per call of `draw` (capped at [`MAX_CHUNK`];
    /// 0: exactly what each `fill` needs). `draw(n)` returns `n` random bytes, or fewer
    /// when the host failed.
    pub fn new(budget: usize, draw: D) -> Self {
        Pooled {
            draw,
            short: false,
            chunk: budget.min(MAX_CHUNK),
            pool: Vec::new(),
            used: 0,
        }
    }

    /// Whether a draw returned fewer bytes than asked.
    pub fn short(&self) -> bool {
        self.short
    }

    /// Run `f` with this source; an error if a draw came back short.
    pub fn run<T>(mut self, f: impl FnOnce(&mut dyn Entropy) -> Result<T>) -> Result<T> {
        let out = f(&mut self)?;
        if self.short {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "the host's `wasi:random/random.get-random-bytes` returned fewer bytes than requested",
            )
            .with_help("this is a bug in the embedding runtime, not in the input"));
        }
        Ok(out)
    }

    /// Fill `buf` straight from the host.
    fn draw_into(&mut self, buf: &mut [u8]) {
        let mut bytes = (self.draw)(buf.len());
        if bytes.len() != buf.len() {
            self.short = true;
        }
        let n = bytes.len().min(buf.len());
        let (head, tail) = buf.split_at_mut(n);
        head.copy_from_slice(bytes.get(..n).unwrap_or_default());
        tail.fill(0);
        // The host's copy goes too: no random byte is left behind in freed memory.
        bytes.zeroize();
    }
}

impl<D: FnMut(usize) -> Vec<u8>> Entropy for Pooled<D> {
    fn fill(&mut self, buf: &mut [u8]) {
        if buf.len() > self.chunk {
            self.draw_into(buf);
            return;
        }
        if self.pool.len().saturating_sub(self.used) < buf.len() {
            let mut pool = std::mem::take(&mut self.pool);
            pool.fill(0);
            pool.resize(self.chunk, 0);
            self.draw_into(&mut pool);
            self.pool = pool;
            self.used = 0;
        }
        let end = self.used.saturating_add(buf.len());
        match self.pool.get_mut(self.used..end) {
            Some(fresh) => {
                buf.copy_from_slice(fresh);
                fresh.fill(0);
                self.used = end;
            }
            // Not reachable (the pool was just refilled to `chunk >= buf.len()` bytes);
            // draw directly rather than hand out anything twice.
            None => self.draw_into(buf),
        }
    }
}

impl<D: FnMut(usize) -> Vec<u8>> Drop for Pooled<D> {
    fn drop(&mut self) {
        // Do not leave unused random bytes behind in linear memory (`zeroize`: a plain fill
        // just before the memory is freed may be optimised away).
        self.pool.zeroize();
    }
}

/// The shortest code verifier RFC 7636 §4.1 allows.
pub const MIN_LENGTH: usize = 43;
/// The longest code verifier RFC 7636 §4.1 allows.
pub const MAX_LENGTH: usize = 128;
/// The verifier length used when none is given (and by [`authorize_url`]).
pub const DEFAULT_LENGTH: usize = 64;
/// The only code challenge method produced: `S256` (RFC 7636 §4.2).
pub const METHOD: &str = "S256";

/// A code verifier with its `S256` challenge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PkcePair {
    /// The secret code verifier (43..=128 unreserved characters); kept by the app.
    pub verifier: String,
    /// `BASE64URL-NOPAD(SHA256(verifier))`; sent in the authorization request.
    pub challenge: String,
    /// Always [`METHOD`] (`S256`).
    pub method: String,
}

/// An authorization request URL plus the secrets the app must keep until the callback.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuthorizeRequest {
    /// The full authorization URL to send the user agent to.
    pub url: String,
    /// The secret code verifier, for the token request.
    pub verifier: String,
    /// The `S256` challenge of `verifier` (already in `url`).
    pub challenge: String,
    /// The `state` value (in `url`); the callback must return it unchanged.
    pub state: String,
    /// The OpenID Connect `nonce` (in `url`), present when the `openid` scope is requested.
    pub nonce: Option<String>,
}

/// The unreserved characters of RFC 3986 §2.3, the alphabet of a code verifier.
const ALPHABET: &[u8; 66] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

/// Bytes below this value are accepted by the rejection sampler: the largest multiple
/// of 66 not above 256, so `byte % 66` is exactly uniform over the accepted bytes.
const ACCEPT_BELOW: u8 = 198;

const _: () = assert!(ACCEPT_BELOW as usize == (256 / ALPHABET.len()) * ALPHABET.len());

/// Size of the sampler's scratch buffer (enough for one refill of a 128-char verifier).
const SCRATCH: usize = 192;

/// Refills after which the sampler gives up: a working random source needs one or two,
/// and needing this many has a probability far below 2^-128. Only a broken source
/// (for example one that always returns `0xff`) gets here; it must not hang the caller.
const MAX_REFILLS: usize = 256;

/// Most pairs [`generate_batch`] produces in one call.
const MAX_BATCH: usize = 10_000;

/// Number of characters of an `S256` challenge (base64url of 32 bytes, no padding).
const CHALLENGE_LENGTH: usize = 43;

/// Query parameters [`authorize_url`] sets itself; `extra` may not contain them.
const RESERVED_PARAMS: [&str; 8] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
];

/// Number of random bytes in a [`random_token`].
const TOKEN_BYTES: usize = 32;

fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

fn is_base64url(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_')
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
fn is_scope_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e')
}

fn length_error(length: usize) -> Error {
    Error::new(
        ErrorCode::PkceLength,
        format!(
            "code verifier length {length} is outside {MIN_LENGTH}..={MAX_LENGTH} (RFC 7636 §4.1)"
        ),
    )
}

fn check_length(length: usize) -> Result<()> {
    if (MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        Ok(())
    } else {
        Err(length_error(length).with_help(format!(
            "use a length between {MIN_LENGTH} and {MAX_LENGTH}; {DEFAULT_LENGTH} is the default"
        )))
    }
}

/// Draw a verifier of `length` unreserved characters by rejection sampling:
/// bytes `>= 198` are discarded, the rest map to `ALPHABET[b % 66]` without bias.
fn sample_verifier(length: usize, rng: &mut dyn Entropy) -> Result<String> {
    let mut out = String::with_capacity(length);
    let mut scratch = [0u8; SCRATCH];
    let mut refills = 0usize;
    while out.len() < length {
        if refills == MAX_REFILLS {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "the entropy source gave no usable bytes for a verifier after {MAX_REFILLS} refills"
                ),
            )
            .with_help("the random source is broken; it must return uniformly random bytes"));
        }
        refills += 1;
        // About 256/198 ≈ 1.29 bytes are needed per character: ask for a third more
        // plus a margin, so one refill is nearly always enough.
        let missing = length - out.len();
        let want = (missing + missing / 3 + 8).min(SCRATCH);
        let Some(buf) = scratch.get_mut(..want) else {
            continue;
        };
        rng.fill(buf);
        for &byte in buf.iter() {
            if out.len() == length {
                break;
            }
            if byte < ACCEPT_BELOW
                && let Some(&symbol) = ALPHABET.get(usize::from(byte) % ALPHABET.len())
            {
                out.push(char::from(symbol));
            }
        }
    }
    // Best effort: do not leave verifier material in the scratch buffer.
    scratch.fill(0);
    Ok(out)
}

/// `BASE64URL-NOPAD(SHA256(verifier))` of an already validated verifier.
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Generate a code verifier of `length` unreserved characters with its `S256` challenge.
///
/// Characters are drawn uniformly from `[A-Za-z0-9-._~]` by rejection sampling over
/// the bytes of `rng`.
///
/// # Errors
/// [`ErrorCode::PkceLength`] when `length` is outside `43..=128`;
/// [`ErrorCode::InvalidArgument`] when `rng` is broken and yields almost only bytes
/// `>= 198`.
pub fn generate(length: usize, rng: &mut dyn Entropy) -> Result<PkcePair> {
    check_length(length)?;
    let verifier = sample_verifier(length, rng)?;
    let challenge = s256(&verifier);
    Ok(PkcePair {
        verifier,
        challenge,
        method: METHOD.to_owned(),
    })
}

/// Generate `count` independent pairs with verifiers of `length` characters.
///
/// # Errors
/// [`ErrorCode::PkceLength`] when `length` is outside `43..=128`;
/// [`ErrorCode::InvalidArgument`] when `count` is above 10 000 (or `rng` is broken).
pub fn generate_batch(length: usize, count: usize, rng: &mut dyn Entropy) -> Result<Vec<PkcePair>> {
    check_length(length)?;
    if count > MAX_BATCH {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("batch count {count} is above the limit of {MAX_BATCH}"),
        )
        .with_help(format!(
            "request at most {MAX_BATCH} pairs per call, or call it several times"
        )));
    }
    (0..count).map(|_| generate(length, rng)).collect()
}

/// Check that `verifier` is a valid RFC 7636 code verifier: 43..=128 characters, all
/// unreserved (`[A-Za-z0-9-._~]`).
///
/// # Errors
/// [`ErrorCode::PkceLength`] for a wrong length; [`ErrorCode::PkceCharset`] naming the
/// 1-based position of the first bad character (the verifier itself is never echoed).
pub fn validate_verifier(verifier: &str) -> Result<()> {
    let length = verifier.chars().count();
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        return Err(length_error(length).with_help(format!(
            "a code verifier has {MIN_LENGTH} to {MAX_LENGTH} characters; check that it was copied whole and without surrounding whitespace"
        )));
    }
    if let Some((index, bad)) = verifier
        .chars()
        .enumerate()
        .find(|&(_, c)| !is_unreserved(c))
    {
        let position = index + 1;
        return Err(Error::new(
            ErrorCode::PkceCharset,
            format!(
                "code verifier character {position} `{bad:?}` is not an unreserved character [A-Za-z0-9-._~] (RFC 7636 §4.1)"
            ),
        )
        .with_help(
            "use the verifier exactly as generated; it must not be URL-encoded, base64 (`+`, `/`, `=`) or contain whitespace",
        ));
    }
    Ok(())
}

/// Check that `challenge` is a well-formed `S256` challenge and decode it to the digest.
fn decode_challenge(challenge: &str) -> Result<Vec<u8>> {
    if challenge.ends_with('=') {
        return Err(Error::new(
            ErrorCode::PkceChallenge,
            "code challenge has `=` padding",
        )
        .with_help(
            "an S256 challenge is base64url without padding (RFC 7636 §4.2); remove the trailing `=`",
        ));
    }
    let length = challenge.chars().count();
    if length != CHALLENGE_LENGTH {
        return Err(Error::new(
            ErrorCode::PkceChallenge,
            format!(
                "code challenge has {length} characters, expected {CHALLENGE_LENGTH} (base64url of a SHA-256 digest, RFC 7636 §4.2)"
            ),
        )
        .with_help("pass the challenge exactly as computed by `challenge` or `generate`"));
    }
    if let Some((index, bad)) = challenge
        .chars()
        .enumerate()
        .find(|&(_, c)| !is_base64url(c))
    {
        let position = index + 1;
        return Err(Error::new(
            ErrorCode::PkceCharset,
            format!(
                "code challenge character {position} `{bad:?}` is not in the base64url alphabet [A-Za-z0-9-_]"
            ),
        )
        .with_help(
            "an S256 challenge is base64url (`-` and `_`, not `+` and `/`) without padding (RFC 7636 §4.2)",
        ));
    }
    URL_SAFE_NO_PAD.decode(challenge).map_err(|_| {
        Error::new(
            ErrorCode::PkceChallenge,
            format!("code challenge `{challenge}` is not the canonical base64url of a SHA-256 digest"),
        )
        .with_help(
            "its last character must encode zero padding bits; pass the challenge exactly as computed by `challenge`",
        )
    })
}

/// The `S256` challenge of `verifier`: `BASE64URL-NOPAD(SHA256(ASCII(verifier)))`.
///
/// # Errors
/// The errors of [`validate_verifier`]; the verifier is validated first.
pub fn challenge(verifier: &str) -> Result<String> {
    validate_verifier(verifier)?;
    Ok(s256(verifier))
}

/// Whether `challenge` is the `S256` challenge of `verifier`, compared in constant time.
///
/// # Errors
/// The errors of [`validate_verifier`] for a malformed verifier;
/// [`ErrorCode::PkceChallenge`] when `challenge` is not exactly 43 base64url characters
/// without padding (or not canonical), [`ErrorCode::PkceCharset`] when it has a character
/// outside the base64url alphabet. A mismatch is `Ok(false)`, never an error.
pub fn verify(verifier: &str, challenge: &str) -> Result<bool> {
    validate_verifier(verifier)?;
    let expected = decode_challenge(challenge)?;
    let actual = Sha256::digest(verifier.as_bytes());
    Ok(bool::from(actual.as_slice().ct_eq(expected.as_slice())))
}

/// A fresh random token for `state` or `nonce`: 32 random bytes as base64url without
/// padding (43 characters).
pub fn random_token(rng: &mut dyn Entropy) -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rng.fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn invalid(message: String, help: &str) -> Error {
    Error::new(ErrorCode::InvalidArgument, message).with_help(help)
}

/// Whether `url` is on a loopback host where plain `http` is tolerated (local test providers).
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        None => false,
    }
}

fn parse_endpoint(endpoint: &str) -> Result<Url> {
    const HELP: &str = "pass the provider's full authorization endpoint, e.g. `https://auth.example.com/oauth2/authorize`";
    let url = crate::idn::parse_url(endpoint).map_err(|e| {
        invalid(
            format!("authorization endpoint `{endpoint}` is not an absolute URL: {e}"),
            HELP,
        )
    })?;
    let secure = match url.scheme() {
        "https" => true,
        "http" => is_loopback(&url),
        _ => false,
    };
    if !secure {
        return Err(invalid(
            format!("authorization endpoint `{endpoint}` must use https"),
            "OAuth requires TLS (RFC 6749 §3.1); plain http is accepted only for loopback test providers (127.0.0.1, [::1], localhost)",
        ));
    }
    if url.fragment().is_some() {
        return Err(invalid(
            format!("authorization endpoint `{endpoint}` has a fragment"),
            "remove the `#...` part; RFC 6749 §3.1 forbids a fragment in the authorization endpoint",
        ));
    }
    if let Some((name, _)) = url
        .query_pairs()
        .find(|(name, _)| RESERVED_PARAMS.contains(&name.as_ref()))
    {
        return Err(invalid(
            format!("authorization endpoint `{endpoint}` already has the query parameter `{name}`"),
            "remove it from the endpoint; microvet sets response_type, client_id, redirect_uri, scope, state, code_challenge, code_challenge_method and nonce itself",
        ));
    }
    Ok(url)
}

fn check_redirect_uri(redirect_uri: &str) -> Result<()> {
    const HELP: &str = "pass the full redirect URI registered with the provider, e.g. `https://app.example.com/callback`";
    if redirect_uri.trim().is_empty() {
        return Err(invalid("redirect uri is empty".to_owned(), HELP));
    }
    let url = crate::idn::parse_url(redirect_uri).map_err(|e| {
        invalid(
            format!("redirect uri `{redirect_uri}` is not an absolute URL: {e}"),
            HELP,
        )
    })?;
    if url.fragment().is_some() {
        return Err(invalid(
            format!("redirect uri `{redirect_uri}` has a fragment"),
            "remove the `#...` part; RFC 6749 §3.1.2 forbids a fragment in the redirect uri",
        ));
    }
    Ok(())
}

fn check_scopes(scopes: &[String]) -> Result<()> {
    const HELP: &str = "pass each scope as its own list item (e.g. `openid`, `email`); a scope token is printable ASCII without spaces, `\"` or `\\` (RFC 6749 §3.3)";
    for (index, scope) in scopes.iter().enumerate() {
        let number = index + 1;
        if scope.is_empty() {
            return Err(invalid(format!("scope {number} is empty"), HELP));
        }
        if let Some((at, bad)) = scope.chars().enumerate().find(|&(_, c)| !is_scope_char(c)) {
            let position = at + 1;
            return Err(invalid(
                format!(
                    "scope `{}` has `{bad:?}` at position {position}, which a scope token may not contain",
                    scope.escape_debug()
                ),
                HELP,
            ));
        }
    }
    Ok(())
}

fn check_extra(extra: &[(String, String)]) -> Result<()> {
    for (index, (name, value)) in extra.iter().enumerate() {
        if name.is_empty() {
            return Err(invalid(
                format!("extra parameter {} has an empty name", index + 1),
                "give every extra query parameter a name, or drop it",
            ));
        }
        if name == "code_challenge_method" && value.eq_ignore_ascii_case("plain") {
            return Err(invalid(
                "the `plain` code challenge method is refused".to_owned(),
                "microvet always uses S256 (RFC 7636 §4.2, §7.2); remove `code_challenge_method` from `extra`",
            ));
        }
        if RESERVED_PARAMS.contains(&name.as_str()) {
            return Err(invalid(
                format!("extra parameter `{name}` would override a parameter microvet sets"),
                "remove it from `extra`; response_type, client_id, redirect_uri, scope, state, code_challenge, code_challenge_method and nonce are set by microvet",
            ));
        }
    }
    Ok(())
}

/// Build an authorization-code request URL with PKCE `S256`, a fresh `state` and, when
/// `scopes` contains `openid`, a fresh `nonce`.
///
/// The endpoint's own query is kept; appended, in order, are `response_type=code`,
/// `client_id`, `redirect_uri`, `scope` (space-separated, only when `scopes` is not
/// empty), `state`, `code_challenge`, `code_challenge_method=S256`, `nonce` (only for
/// `openid`), then the `extra` parameters in their order. The verifier has
/// [`DEFAULT_LENGTH`] characters. Randomness is drawn in the order verifier, state, nonce.
///
/// # Errors
/// [`ErrorCode::InvalidArgument`] when the endpoint is not an absolute `https` URL (plain
/// `http` is accepted only for `127.0.0.1`, `[::1]` and `localhost`), has a fragment or
/// already sets one of the parameters above; when `client_id` is empty; when
/// `redirect_uri` is empty, not an absolute URL or has a fragment; when a scope is not an
/// RFC 6749 §3.3 scope token; when an `extra` name is empty or one of the parameters set
/// here (including `code_challenge_method=plain`).
pub fn authorize_url(
    endpoint: &str,
    client_id: &str,
    redirect_uri: &str,
    scopes: &[String],
    extra: &[(String, String)],
    rng: &mut dyn Entropy,
) -> Result<AuthorizeRequest> {
    let mut url = parse_endpoint(endpoint)?;
    if client_id.trim().is_empty() {
        return Err(invalid(
            "client id is empty".to_owned(),
            "pass the client id registered with the provider",
        ));
    }
    check_redirect_uri(redirect_uri)?;
    check_scopes(scopes)?;
    check_extra(extra)?;

    let pair = generate(DEFAULT_LENGTH, rng)?;
    let state = random_token(rng);
    let nonce = scopes
        .iter()
        .any(|scope| scope == "openid")
        .then(|| random_token(rng));

    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri);
        if !scopes.is_empty() {
            query.append_pair("scope", &scopes.join(" "));
        }
        query
            .append_pair("state", &state)
            .append_pair("code_challenge", &pair.challenge)
            .append_pair("code_challenge_method", METHOD);
        if let Some(nonce) = &nonce {
            query.append_pair("nonce", nonce);
        }
        for (name, value) in extra {
            query.append_pair(name, value);
        }
    }

    Ok(AuthorizeRequest {
        url: url.into(),
        verifier: pair.verifier,
        challenge: pair.challenge,
        state,
        nonce,
    })
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    /// A host that counts its calls and hands out 0, 1, 2, … (or `short` bytes fewer).
    fn counting(calls: &std::cell::Cell<usize>, short: usize) -> impl FnMut(usize) -> Vec<u8> + '_ {
        let mut next = 0u8;
        move |n| {
            calls.set(calls.get() + 1);
            (0..n.saturating_sub(short))
                .map(|_| {
                    next = next.wrapping_add(1);
                    next
                })
                .collect()
        }
    }

    #[test]
    fn pooled_draws_once_per_chunk_and_never_hands_out_a_byte_twice() {
        let calls = std::cell::Cell::new(0);
        let mut src = Pooled::new(100, counting(&calls, 0));
        let mut seen = Vec::new();
        for _ in 0..10 {
            let mut buf = [0u8; 10];
            src.fill(&mut buf);
            seen.extend_from_slice(&buf);
        }
        assert_eq!(
            calls.get(),
            1,
            "ten fills of 10 bytes from one 100-byte draw"
        );
        assert_eq!(seen, (1..=100).collect::<Vec<u8>>());
        let mut buf = [0u8; 10];
        src.fill(&mut buf);
        assert_eq!(calls.get(), 2, "the pool is refilled when it runs out");
        assert_eq!(buf[0], 101);
        assert!(
            src.pool[..10].iter().all(|b| *b == 0),
            "handed-out bytes are zeroed"
        );
        assert!(!src.short());
    }

    #[test]
    fn pooled_without_budget_or_for_large_asks_draws_exactly() {
        let calls = std::cell::Cell::new(0);
        let mut src = Pooled::new(0, counting(&calls, 0));
        let mut buf = [0u8; 7];
        src.fill(&mut buf);
        src.fill(&mut buf);
        assert_eq!(calls.get(), 2);
        assert!(src.pool.is_empty());
        let mut big = Pooled::new(usize::MAX, counting(&calls, 0));
        assert_eq!(big.chunk, MAX_CHUNK);
        let mut huge = vec![0u8; MAX_CHUNK + 1];
        big.fill(&mut huge);
        assert_eq!(
            calls.get(),
            3,
            "a fill larger than a chunk is one draw of its own"
        );
        assert!(big.pool.is_empty());
    }

    #[test]
    fn a_short_draw_fails_the_call() {
        let calls = std::cell::Cell::new(0);
        let err = Pooled::new(0, counting(&calls, 1))
            .run(|rng| generate(DEFAULT_LENGTH, rng))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("fewer bytes"), "{}", err.message);
        let ok = Pooled::new(256, counting(&calls, 0)).run(|rng| generate(DEFAULT_LENGTH, rng));
        assert!(ok.is_ok());
    }

    /// Deterministic xorshift64* entropy for tests.
    struct TestRng(u64);

    impl Entropy for TestRng {
        fn fill(&mut self, buf: &mut [u8]) {
            for byte in buf {
                self.0 ^= self.0 >> 12;
                self.0 ^= self.0 << 25;
                self.0 ^= self.0 >> 27;
                *byte = (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
            }
        }
    }

    /// A broken source that always returns the same byte.
    struct Constant(u8);

    impl Entropy for Constant {
        fn fill(&mut self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }

    const APPENDIX_B_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const APPENDIX_B_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn rng() -> TestRng {
        TestRng(0x9e37_79b9_7f4a_7c15)
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn params(url: &str) -> Vec<(String, String)> {
        Url::parse(url)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn names(url: &str) -> Vec<String> {
        params(url).into_iter().map(|(k, _)| k).collect()
    }

    fn param(url: &str, name: &str) -> Option<String> {
        params(url)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    #[test]
    fn pkce_appendix_b_vector() {
        assert_eq!(
            challenge(APPENDIX_B_VERIFIER).unwrap(),
            APPENDIX_B_CHALLENGE
        );
        assert!(verify(APPENDIX_B_VERIFIER, APPENDIX_B_CHALLENGE).unwrap());
    }

    #[test]
    fn pkce_generate_lengths_and_charset() {
        let mut rng = rng();
        for length in [MIN_LENGTH, DEFAULT_LENGTH, 100, MAX_LENGTH] {
            let pair = generate(length, &mut rng).unwrap();
            assert_eq!(pair.verifier.len(), length);
            assert!(pair.verifier.chars().all(is_unreserved));
            assert_eq!(pair.method, "S256");
            assert_eq!(pair.challenge, challenge(&pair.verifier).unwrap());
            assert_eq!(pair.challenge.len(), 43);
            assert!(verify(&pair.verifier, &pair.challenge).unwrap());
        }
    }

    #[test]
    fn pkce_generate_is_deterministic_per_source_and_distinct() {
        let a = generate(DEFAULT_LENGTH, &mut rng()).unwrap();
        let b = generate(DEFAULT_LENGTH, &mut rng()).unwrap();
        assert_eq!(a, b);
        let mut r = rng();
        let c = generate(DEFAULT_LENGTH, &mut r).unwrap();
        let d = generate(DEFAULT_LENGTH, &mut r).unwrap();
        assert_ne!(c.verifier, d.verifier);
    }

    #[test]
    fn pkce_generate_length_errors() {
        for length in [0, 42, 129, usize::MAX] {
            let err = generate(length, &mut rng()).unwrap_err();
            assert_eq!(err.code, ErrorCode::PkceLength);
            assert_eq!(
                err.message,
                format!("code verifier length {length} is outside 43..=128 (RFC 7636 §4.1)")
            );
            assert_eq!(
                err.help.as_deref(),
                Some("use a length between 43 and 128; 64 is the default")
            );
        }
        assert_eq!(
            generate_batch(42, 1, &mut rng()).unwrap_err().code,
            ErrorCode::PkceLength
        );
    }

    #[test]
    fn pkce_rejection_sampling_maps_bytes_without_modulo_bias() {
        // 197 is the last accepted byte (197 % 66 = 65 -> `~`); 198..=255 are rejected.
        assert_eq!(
            generate(43, &mut Constant(197)).unwrap().verifier,
            "~".repeat(43)
        );
        assert_eq!(
            generate(43, &mut Constant(0)).unwrap().verifier,
            "A".repeat(43)
        );
        assert_eq!(
            generate(43, &mut Constant(66)).unwrap().verifier,
            "A".repeat(43)
        );
        // A source that only yields rejected bytes errors instead of hanging.
        let err = generate(43, &mut Constant(198)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert_eq!(
            generate(43, &mut Constant(255)).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
    }

    #[test]
    fn pkce_generate_batch() {
        let pairs = generate_batch(50, 20, &mut rng()).unwrap();
        assert_eq!(pairs.len(), 20);
        assert!(pairs.iter().all(|p| p.verifier.len() == 50));
        assert!(generate_batch(50, 0, &mut rng()).unwrap().is_empty());
        let err = generate_batch(50, 10_001, &mut rng()).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("10001"), "{}", err.message);
    }

    #[test]
    fn pkce_validate_verifier_lengths() {
        assert!(validate_verifier(&"a".repeat(43)).is_ok());
        assert!(validate_verifier(&"a".repeat(128)).is_ok());
        for length in [0, 42, 129] {
            let err = validate_verifier(&"a".repeat(length)).unwrap_err();
            assert_eq!(err.code, ErrorCode::PkceLength);
            assert!(err.message.contains(&format!("length {length} ")));
        }
        // Length counts characters, not bytes.
        let err = validate_verifier(&"é".repeat(30)).unwrap_err();
        assert_eq!(err.code, ErrorCode::PkceLength);
        assert!(err.message.contains("length 30 "));
    }

    #[test]
    fn pkce_charset_errors_name_position_not_verifier() {
        let secret = "SECRETsecretSECRETsecretSECRETsecretSECRET";
        let verifier = format!("{secret}+x");
        let err = validate_verifier(&verifier).unwrap_err();
        assert_eq!(err.code, ErrorCode::PkceCharset);
        assert!(
            err.message.contains("character 43 `'+'`"),
            "{}",
            err.message
        );
        assert!(!err.message.contains(secret));
        assert!(!err.help.as_deref().unwrap_or_default().contains(secret));

        let with_space = format!("{secret} x");
        let err = challenge(&with_space).unwrap_err();
        assert_eq!(err.code, ErrorCode::PkceCharset);
        assert!(
            err.message.contains("character 43 `' '`"),
            "{}",
            err.message
        );

        let with_newline = format!("\n{secret}x");
        let err = verify(&with_newline, APPENDIX_B_CHALLENGE).unwrap_err();
        assert_eq!(err.code, ErrorCode::PkceCharset);
        assert!(
            err.message.contains("character 1 `'\\n'`"),
            "{}",
            err.message
        );

        let non_ascii = format!("{secret}é");
        let err = validate_verifier(&non_ascii).unwrap_err();
        assert_eq!(err.code, ErrorCode::PkceCharset);
        assert!(
            err.message.contains("character 43 `'é'`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn pkce_verify_true_false() {
        assert!(verify(APPENDIX_B_VERIFIER, APPENDIX_B_CHALLENGE).unwrap());
        let other = "eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(!verify(other, APPENDIX_B_CHALLENGE).unwrap());
        let other_challenge = challenge(other).unwrap();
        assert!(!verify(APPENDIX_B_VERIFIER, &other_challenge).unwrap());
        // The challenge is case-sensitive.
        let upper = APPENDIX_B_CHALLENGE.to_ascii_uppercase();
        assert!(!verify(APPENDIX_B_VERIFIER, &upper).unwrap());
    }

    #[test]
    fn pkce_verify_invalid_inputs() {
        // Padding.
        let err = verify(APPENDIX_B_VERIFIER, &format!("{APPENDIX_B_CHALLENGE}=")).unwrap_err();
        assert_eq!(err.code, ErrorCode::PkceChallenge);
        assert!(err.message.contains("padding"));
        // Wrong lengths.
        for bad in [
            "",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cMA",
        ] {
            let err = verify(APPENDIX_B_VERIFIER, bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::PkceChallenge, "{bad}");
        }
        // Standard base64 characters are outside the base64url alphabet.
        let plus = APPENDIX_B_CHALLENGE.replace('-', "+");
        let err = verify(APPENDIX_B_VERIFIER, &plus).unwrap_err();
        assert_eq!(err.code, ErrorCode::PkceCharset);
        assert!(
            err.message.contains("character 41 `'+'`"),
            "{}",
            err.message
        );
        // Non-canonical last character (non-zero padding bits).
        let noncanonical = APPENDIX_B_CHALLENGE.replace("cM", "cN");
        let err = verify(APPENDIX_B_VERIFIER, &noncanonical).unwrap_err();
        assert_eq!(err.code, ErrorCode::PkceChallenge);
        // `plain` (challenge == verifier) is not accepted as a match.
        assert!(!verify(APPENDIX_B_VERIFIER, APPENDIX_B_VERIFIER).unwrap());
        // A malformed verifier is an error even with a well-formed challenge.
        assert_eq!(
            verify("short", APPENDIX_B_CHALLENGE).unwrap_err().code,
            ErrorCode::PkceLength
        );
    }

    #[test]
    fn pkce_random_token() {
        let mut r = rng();
        let a = random_token(&mut r);
        let b = random_token(&mut r);
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(is_base64url));
        assert_ne!(a, b);
    }

    #[test]
    fn pkce_authorize_url_params_and_order() {
        let req = authorize_url(
            "https://auth.example.com/oauth2/authorize?tenant=acme&x=a%20b",
            "my-client",
            "https://app.example.com/callback?from=login",
            &strings(&["email", "profile"]),
            &[
                ("prompt".to_owned(), "consent".to_owned()),
                ("login_hint".to_owned(), "a b&c=d".to_owned()),
            ],
            &mut rng(),
        )
        .unwrap();
        assert!(
            req.url.starts_with(
                "https://auth.example.com/oauth2/authorize?tenant=acme&x=a%20b&response_type=code&"
            ),
            "{}",
            req.url
        );
        assert_eq!(
            names(&req.url),
            [
                "tenant",
                "x",
                "response_type",
                "client_id",
                "redirect_uri",
                "scope",
                "state",
                "code_challenge",
                "code_challenge_method",
                "prompt",
                "login_hint"
            ]
        );
        let url = &req.url;
        assert_eq!(param(url, "response_type").as_deref(), Some("code"));
        assert_eq!(param(url, "client_id").as_deref(), Some("my-client"));
        assert_eq!(
            param(url, "redirect_uri").as_deref(),
            Some("https://app.example.com/callback?from=login")
        );
        assert_eq!(param(url, "scope").as_deref(), Some("email profile"));
        assert!(url.contains("&scope=email+profile&"));
        assert_eq!(param(url, "state"), Some(req.state.clone()));
        assert_eq!(param(url, "code_challenge"), Some(req.challenge.clone()));
        assert_eq!(param(url, "code_challenge_method").as_deref(), Some("S256"));
        assert_eq!(param(url, "login_hint").as_deref(), Some("a b&c=d"));
        assert_eq!(req.nonce, None);
        assert_eq!(req.verifier.len(), DEFAULT_LENGTH);
        assert!(verify(&req.verifier, &req.challenge).unwrap());
        assert_eq!(req.state.len(), 43);
        assert!(!url.contains(&req.verifier));
    }

    #[test]
    fn pkce_authorize_url_without_scopes_has_no_scope_param() {
        let req = authorize_url(
            "http://127.0.0.1:8080/authorize",
            "c",
            "http://localhost:3000/cb",
            &[],
            &[],
            &mut rng(),
        )
        .unwrap();
        assert_eq!(
            names(&req.url),
            [
                "response_type",
                "client_id",
                "redirect_uri",
                "state",
                "code_challenge",
                "code_challenge_method"
            ]
        );
    }

    #[test]
    fn pkce_authorize_url_accepts_idn_hosts_as_a_browser_would() {
        // The component's `url` has the ASCII-only IDNA back end: Unicode hosts go through
        // `idn` first, so a provider or app on an IDN still works (as its A-label).
        let req = authorize_url(
            "https://bücher.example/authorize",
            "c",
            "https://app.bücher.example/cb",
            &[],
            &[],
            &mut rng(),
        )
        .unwrap();
        assert!(
            req.url
                .starts_with("https://xn--bcher-kva.example/authorize?"),
            "{}",
            req.url
        );
        // The redirect_uri parameter is sent as written (the provider compares strings).
        assert!(params(&req.url).contains(&(
            "redirect_uri".to_owned(),
            "https://app.bücher.example/cb".to_owned()
        )));
        // A host no browser mapping can be trusted for is refused, naming it.
        let err = authorize_url(
            "https://exa\u{200b}mple.com/authorize",
            "c",
            "https://app.example/cb",
            &[],
            &[],
            &mut rng(),
        )
        .unwrap_err();
        assert!(
            err.message.contains("is not an absolute URL"),
            "{}",
            err.message
        );
    }

    #[test]
    fn pkce_authorize_url_openid_adds_nonce() {
        let req = authorize_url(
            "https://auth.example.com/authorize",
            "c",
            "https://app.example.com/cb",
            &strings(&["openid", "email"]),
            &[("prompt".to_owned(), "login".to_owned())],
            &mut rng(),
        )
        .unwrap();
        let nonce = req.nonce.clone().unwrap();
        assert_eq!(nonce.len(), 43);
        assert_ne!(nonce, req.state);
        assert_eq!(param(&req.url, "nonce"), Some(nonce));
        assert_eq!(
            names(&req.url),
            [
                "response_type",
                "client_id",
                "redirect_uri",
                "scope",
                "state",
                "code_challenge",
                "code_challenge_method",
                "nonce",
                "prompt"
            ]
        );
        // `openid` must be a whole scope token.
        let req = authorize_url(
            "https://auth.example.com/authorize",
            "c",
            "https://app.example.com/cb",
            &strings(&["openid_like"]),
            &[],
            &mut rng(),
        )
        .unwrap();
        assert_eq!(req.nonce, None);
        assert_eq!(param(&req.url, "nonce"), None);
    }

    #[test]
    fn pkce_authorize_url_refuses_reserved_extra_params() {
        for name in RESERVED_PARAMS {
            let err = authorize_url(
                "https://auth.example.com/authorize",
                "c",
                "https://app.example.com/cb",
                &[],
                &[(name.to_owned(), "x".to_owned())],
                &mut rng(),
            )
            .unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument);
            assert!(
                err.message.contains(&format!("`{name}`")),
                "{}",
                err.message
            );
            assert!(err.help.is_some());
        }
        for plain in ["plain", "PLAIN"] {
            let err = authorize_url(
                "https://auth.example.com/authorize",
                "c",
                "https://app.example.com/cb",
                &[],
                &[("code_challenge_method".to_owned(), plain.to_owned())],
                &mut rng(),
            )
            .unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument);
            assert!(err.message.contains("`plain`"), "{}", err.message);
        }
        let err = authorize_url(
            "https://auth.example.com/authorize?state=fixed",
            "c",
            "https://app.example.com/cb",
            &[],
            &[],
            &mut rng(),
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("`state`"), "{}", err.message);
        let err = authorize_url(
            "https://auth.example.com/authorize",
            "c",
            "https://app.example.com/cb",
            &[],
            &[(String::new(), "x".to_owned())],
            &mut rng(),
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
    }

    #[test]
    fn pkce_authorize_url_endpoint_rules() {
        let ok = |endpoint: &str| {
            authorize_url(
                endpoint,
                "c",
                "https://app.example.com/cb",
                &[],
                &[],
                &mut rng(),
            )
        };
        for good in [
            "https://auth.example.com/authorize",
            "http://127.0.0.1/authorize",
            "http://[::1]:9000/authorize",
            "http://localhost:8080/authorize",
            "http://LOCALHOST/authorize",
        ] {
            assert!(ok(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/authorize",
            "auth.example.com/authorize",
            "http://auth.example.com/authorize",
            "http://127.0.0.2/authorize",
            "http://localhost.example.com/authorize",
            "ftp://auth.example.com/authorize",
            "javascript:alert(1)",
            "https://auth.example.com/authorize#frag",
            "https://auth.example.com/authorize#",
        ] {
            let err = ok(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument, "{bad}");
            assert!(err.help.is_some(), "{bad}");
        }
    }

    #[test]
    fn pkce_authorize_url_argument_rules() {
        let call = |client_id: &str, redirect_uri: &str, scopes: &[&str]| {
            authorize_url(
                "https://auth.example.com/authorize",
                client_id,
                redirect_uri,
                &strings(scopes),
                &[],
                &mut rng(),
            )
        };
        assert!(call("c", "com.example.app:/oauth2redirect", &["a:b", "x!#$"]).is_ok());
        let cases: [(&str, &str, &[&str]); 8] = [
            ("", "https://app.example.com/cb", &[]),
            ("  ", "https://app.example.com/cb", &[]),
            ("c", "", &[]),
            ("c", "/cb", &[]),
            ("c", "https://app.example.com/cb#x", &[]),
            ("c", "https://app.example.com/cb", &["openid email"]),
            ("c", "https://app.example.com/cb", &["a\"b"]),
            ("c", "https://app.example.com/cb", &[""]),
        ];
        for (client_id, redirect_uri, scopes) in cases {
            let err = call(client_id, redirect_uri, scopes).unwrap_err();
            assert_eq!(
                err.code,
                ErrorCode::InvalidArgument,
                "{client_id:?} {redirect_uri:?} {scopes:?}"
            );
            assert!(err.help.is_some());
        }
        let err = call("c", "https://app.example.com/cb", &["ok", "bad\\scope"]).unwrap_err();
        assert!(err.message.contains("position 4"), "{}", err.message);
    }

    #[test]
    fn pkce_authorize_url_keeps_redirect_uri_verbatim() {
        // No normalisation: the token request must send the identical string.
        let req = authorize_url(
            "https://auth.example.com/authorize",
            "c",
            "https://App.Example.com",
            &[],
            &[],
            &mut rng(),
        )
        .unwrap();
        assert_eq!(
            param(&req.url, "redirect_uri").as_deref(),
            Some("https://App.Example.com")
        );
    }
}
