//! The secret scanner of MV-SECRET-001: which kind of secret a string holds, and where.
//!
//! Every string (and mapping key) of the manifest goes through [`scan`], so each detector
//! is gated on bytes its pattern needs (one pass builds the set of bytes present) and none
//! allocates unless it finds something. The token formats are the vendors' documented ones
//! (as secret scanners such as gitleaks and trufflehog encode them); the generic detectors
//! (high-entropy tokens, hex keys) stay out of URLs, digests and identifiers, where random
//! text is normal. `core/tests/secrets_corpus.tsv` measures recall and false positives.

use std::ops::Range;

/// What the value's key says about it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum KeyClass {
    /// Any other key (or none).
    Plain,
    /// An identifier or digest (`client_id`, `sha256`, `checksum`...): random-looking text
    /// is expected there, so only the vendor formats are looked for.
    Quiet,
}

/// The kind of the first secret found in a string and the byte range of every token found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub kind: Option<&'static str>,
    pub spans: Vec<Range<usize>>,
    /// How many tokens were found (`spans` keeps the first [`MAX_SPANS`]).
    pub count: usize,
}

/// The most token ranges kept per string: more than the engine's limit on secrets
/// (`MAX_SECRETS`) is refused anyway, and the containment check stays bounded.
const MAX_SPANS: usize = 300;

impl Found {
    fn add(&mut self, kind: &'static str, span: Range<usize>) {
        self.kind.get_or_insert(kind);
        if self.spans.len() >= MAX_SPANS {
            self.count += 1;
            return;
        }
        // A token inside one already found (a JWT's parts, the token after `Bearer`) adds
        // nothing.
        if !self
            .spans
            .iter()
            .any(|s| s.start <= span.start && span.end <= s.end)
        {
            self.spans.push(span);
            self.count += 1;
        }
    }
}

/// A token format that starts with a fixed prefix.
struct Prefix {
    prefix: &'static str,
    /// Minimum run of token characters after the prefix.
    min: usize,
    /// Token characters besides ASCII letters and digits.
    extra: &'static str,
    kind: &'static str,
    /// Only at the start of a word (the prefix is short or a common word part), and the
    /// run must mix at least two of lowercase, uppercase and digits (not a placeholder
    /// such as `glpat-xxxxxxxxxxxxxxxxxxxx` or a slug).
    strict: bool,
    /// The set of the prefix's bytes: a text without one of them cannot hold the prefix.
    mask: AsciiSet,
}

/// A set of ASCII bytes, as two 64-bit words: a 128-bit shift is a library call in
/// WebAssembly (`__ashlti3`), which made the gate pass of [`scan`] ~5 % of a warm vet
/// in the guest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct AsciiSet([u64; 2]);

impl AsciiSet {
    /// The set of the ASCII bytes of `s`.
    const fn of(s: &str) -> AsciiSet {
        let mut rest = s.as_bytes();
        let mut set = AsciiSet([0, 0]);
        while let [b, tail @ ..] = rest {
            set = set.with(*b);
            rest = tail;
        }
        set
    }

    /// The set with `b` added (unchanged when `b` is not ASCII).
    const fn with(self, b: u8) -> AsciiSet {
        let AsciiSet([lo, hi]) = self;
        match b {
            0..64 => AsciiSet([lo | 1 << b, hi]),
            64..128 => AsciiSet([lo, hi | 1 << (b - 64)]),
            _ => self,
        }
    }

    const fn has(self, b: u8) -> bool {
        let AsciiSet([lo, hi]) = self;
        match b {
            0..64 => lo & (1 << b) != 0,
            64..128 => hi & (1 << (b - 64)) != 0,
            _ => false,
        }
    }

    /// Whether every byte of `other` is in this set.
    const fn has_all(self, other: AsciiSet) -> bool {
        let (AsciiSet([a, b]), AsciiSet([c, d])) = (self, other);
        a & c == c && b & d == d
    }
}

const fn p(
    prefix: &'static str,
    min: usize,
    extra: &'static str,
    kind: &'static str,
    strict: bool,
) -> Prefix {
    Prefix {
        prefix,
        min,
        extra,
        kind,
        strict,
        mask: AsciiSet::of(prefix),
    }
}

const GITHUB: &str = "GitHub token";
const SLACK: &str = "Slack token";
const STRIPE: &str = "Stripe key";
const OPENAI: &str = "OpenAI API key";

/// The prefix formats, grouped by the byte every prefix of the group contains (the gate).
/// The prefix formats, grouped by a byte every prefix of the group contains (the gate),
/// in the order their kinds are preferred when a text holds several.
const PREFIXES: &[(u8, &[Prefix])] = &[
    (
        b'_',
        &[
            p("ghp_", 30, "", GITHUB, false),
            p("gho_", 30, "", GITHUB, false),
            p("ghu_", 30, "", GITHUB, false),
            p("ghs_", 30, "", GITHUB, false),
            p("ghr_", 30, "", GITHUB, false),
            p("github_pat_", 40, "_", GITHUB, false),
        ],
    ),
    (
        b'-',
        &[
            p("xoxb-", 10, "-", SLACK, false),
            p("xoxa-", 10, "-", SLACK, false),
            p("xoxp-", 10, "-", SLACK, false),
            p("xoxr-", 10, "-", SLACK, false),
            p("xoxs-", 10, "-", SLACK, false),
            p("xoxe-", 10, "-", SLACK, true),
            p("xapp-", 10, "-", SLACK, true),
            p("glpat-", 20, "-_", "GitLab token", true),
            p("GOCSPX-", 24, "-_", "Google OAuth client secret", true),
            p("sk-", 40, "-_", OPENAI, true),
        ],
    ),
    (b'A', &[p("AIza", 35, "-_", "Google API key", false)]),
    (
        b'_',
        &[
            p("sk_live_", 16, "", STRIPE, false),
            p("rk_live_", 16, "", STRIPE, false),
            p("sk_test_", 16, "", STRIPE, true),
            p("rk_test_", 16, "", STRIPE, true),
            p("whsec_", 24, "", "Stripe webhook secret", true),
            p("npm_", 36, "", "npm token", true),
        ],
    ),
    (b'.', &[p("SG.", 60, "-_.", "SendGrid API key", true)]),
];

/// Webhook URLs whose path is the credential: the path after the prefix is the secret.
const WEBHOOKS: &[&str] = &[
    "hooks.slack.com/services/",
    "hooks.slack.com/workflows/",
    "hooks.slack.com/triggers/",
    "discord.com/api/webhooks/",
    "discordapp.com/api/webhooks/",
];

/// `name=value` pairs (query strings, connection strings, prose) whose value is a secret.
/// ASCII case-insensitive; `key` and `sig` also need the value to look random.
const NAMED: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "auth_token",
    "api_key",
    "apikey",
    "api-key",
    "accountkey",
    "sharedaccesskey",
    "aws_secret_access_key",
    "private_key",
];
const NAMED_RANDOM: &[&str] = &["key", "sig", "signature", "code"];

/// Words before a hex string that say it is a digest or a commit, not a key.
const DIGEST_WORDS: &[&str] = &[
    "sha",
    "sha1",
    "sha256",
    "sha384",
    "sha512",
    "md5",
    "digest",
    "checksum",
    "hash",
    "commit",
    "revision",
    "rev",
    "etag",
    "fingerprint",
    "integrity",
    "manifest_sha256",
    "policy_sha256",
];

/// Byte offsets of the non-overlapping occurrences of `needle` in `hay`, left to right
/// (what `str::match_indices` yields), without building a `StrSearcher` per call.
pub(crate) fn occurrences<'h>(hay: &'h [u8], needle: &'h [u8]) -> impl Iterator<Item = usize> + 'h {
    let mut from = 0usize;
    std::iter::from_fn(move || {
        let (&first, rest) = needle.split_first()?;
        loop {
            let at = from + hay.get(from..)?.iter().position(|&b| b == first)?;
            if hay.get(at + 1..at + needle.len()) == Some(rest) {
                from = at + needle.len();
                return Some(at);
            }
            from = at + 1;
        }
    })
}

pub(crate) fn contains(hay: &str, needle: &str) -> bool {
    occurrences(hay.as_bytes(), needle.as_bytes())
        .next()
        .is_some()
}

/// The first ASCII case-insensitive occurrence of `needle` in `hay` at or after `from`.
fn find_ci(hay: &str, needle: &str, from: usize) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return None;
    }
    (from..=h.len().checked_sub(n.len())?).find(|&i| {
        h.get(i..i + n.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(n))
    })
}

/// The length of the run of token characters (ASCII alphanumerics and `extra`) at `from`.
fn run_len(s: &str, from: usize, extra: &str) -> usize {
    s.get(from..).map_or(0, |rest| {
        rest.bytes()
            .take_while(|&b| b.is_ascii_alphanumeric() || extra.as_bytes().contains(&b))
            .count()
    })
}

/// How many of lowercase, uppercase and digits `s` has.
fn classes(s: &str) -> usize {
    let (mut l, mut u, mut d) = (false, false, false);
    for b in s.bytes() {
        l |= b.is_ascii_lowercase();
        u |= b.is_ascii_uppercase();
        d |= b.is_ascii_digit();
    }
    usize::from(l) + usize::from(u) + usize::from(d)
}

fn at_word_start(s: &str, i: usize) -> bool {
    i == 0
        || s.as_bytes()
            .get(i - 1)
            .is_some_and(|b| !b.is_ascii_alphanumeric())
}

pub(crate) fn shannon_bits(s: &str) -> f64 {
    let mut counts = [0u32; 128];
    let mut n = 0u32;
    for b in s.bytes().filter(u8::is_ascii) {
        if let Some(c) = counts.get_mut(usize::from(b)) {
            *c += 1;
            n += 1;
        }
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Whether a value is a reference to a secret, or a placeholder, rather than a secret.
pub(crate) fn is_reference(v: &str) -> bool {
    let v = v.trim();
    let mut chars = v.chars();
    let first = chars.next();
    v.is_empty()
        || [
            "vault://",
            "vault:",
            "secret://",
            "secretref:",
            "env:",
            "arn:aws:secretsmanager:",
            "arn:aws:ssm:",
            "projects/",
            "keyvault://",
            "op://",
            "sm://",
            "aws-sm://",
            "gcp-sm://",
        ]
        .iter()
        .any(|p| v.starts_with(p))
        || (v.starts_with("${") && v.ends_with('}'))
        || (v.starts_with("{{") && v.ends_with("}}"))
        || (v.starts_with('<') && v.ends_with('>'))
        // A mask of one repeated character (`********`, `xxxxxxxx`).
        || first.is_some_and(|f| !f.is_ascii_digit() && chars.all(|c| c == f))
        || v.eq_ignore_ascii_case("[redacted]")
        || v.eq_ignore_ascii_case("redacted")
}

/// The kind of secret `s` holds and where, if any.
pub(crate) fn scan(s: &str, class: KeyClass) -> Found {
    let mut found = Found::default();
    // One pass: which ASCII bytes occur (the gates) and the longest run of token
    // characters (random words need 32).
    let (mut mask, mut run, mut longest) = (AsciiSet::default(), 0usize, 0usize);
    for b in s.bytes() {
        mask = mask.with(b);
        if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-') {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let has = |b: u8| mask.has(b);
    if has(b'-') && contains(s, "-----BEGIN") && contains(s, "PRIVATE KEY") {
        let start = occurrences(s.as_bytes(), b"-----BEGIN").next().unwrap_or(0);
        found.add("private key", start..s.len());
    }
    if has(b'A') {
        aws(s, &mut found);
    }
    for (gate, group) in PREFIXES {
        if has(*gate) {
            prefixes(s, group, mask, &mut found);
        }
    }
    if has(b'/') && has(b'.') {
        for hook in WEBHOOKS.iter().filter(|h| mask.has_all(AsciiSet::of(h))) {
            for i in occurrences(s.as_bytes(), hook.as_bytes()) {
                let from = i + hook.len();
                let n = run_len(s, from, "/_-+");
                if n >= 20 {
                    found.add("webhook URL", from..from + n);
                }
            }
        }
    }
    if has(b'=') {
        named(s, &mut found);
    }
    if has(b' ') && (has(b'B') || has(b'b')) {
        authorization(s, &mut found);
    }
    if has(b'u') && has(b':') && has(b' ') {
        curl_user(s, &mut found);
    }
    if has(b'@') && has(b':') {
        for (start, w) in words(s) {
            if let Some(span) = super::url_password(w) {
                found.add("password in URL", start + span.start..start + span.end);
            }
        }
    }
    if has(b'J') && contains(s, "eyJ") {
        jwts(s, &mut found);
    }
    if longest >= 32 && class == KeyClass::Plain {
        random_words(s, &mut found);
    }
    found
}

/// AWS access key IDs (`AKIA`/`ASIA` + 16); with one, a 40-character secret access key
/// in the same text.
fn aws(s: &str, found: &mut Found) {
    let mut key_id = false;
    for p in ["AKIA", "ASIA"] {
        for i in occurrences(s.as_bytes(), p.as_bytes()) {
            if s.get(i + 4..i + 20).is_some_and(|r| {
                r.bytes()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            }) {
                found.add("AWS access key", i..i + 20);
                key_id = true;
            }
        }
    }
    if key_id {
        for (start, w) in words(s) {
            for (at, part) in split_keep(w, |b| !(b.is_ascii_alphanumeric() || b"/+".contains(&b)))
            {
                if part.len() == 40 && classes(part) >= 2 {
                    found.add("AWS secret access key", start + at..start + at + 40);
                }
            }
        }
    }
}

fn prefixes(s: &str, group: &[Prefix], mask: AsciiSet, found: &mut Found) {
    for f in group.iter().filter(|f| mask.has_all(f.mask)) {
        // When the prefix is made of run characters, an occurrence inside the run of the
        // previous one ends where that run ends: it is skipped (linear, not quadratic, on
        // `github_pat_github_pat_...`).
        let self_run = f
            .prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || f.extra.as_bytes().contains(&b));
        let mut covered = 0usize;
        for i in occurrences(s.as_bytes(), f.prefix.as_bytes()) {
            if self_run && i < covered {
                continue;
            }
            if f.strict && !at_word_start(s, i) {
                continue;
            }
            let from = i + f.prefix.len();
            let n = run_len(s, from, f.extra);
            covered = from + n;
            if n < f.min {
                continue;
            }
            if f.strict && s.get(from..from + n).is_none_or(|r| classes(r) < 2) {
                continue;
            }
            found.add(f.kind, i..from + n);
        }
    }
}

/// `name=value` with a secret name: the value (up to a separator) is the secret.
fn named(s: &str, found: &mut Found) {
    let bytes = s.as_bytes();
    // An `=` inside the value of the previous pair is part of that value.
    let mut covered = 0usize;
    for (eq, _) in s.match_indices('=') {
        if eq < covered {
            continue;
        }
        let name_start = bytes.get(..eq).map_or(eq, |b| {
            eq - b
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'-')
                .count()
        });
        let Some(name) = s.get(name_start..eq) else {
            continue;
        };
        let secret_name = NAMED.iter().any(|n| name.eq_ignore_ascii_case(n))
            || name.len() > 7
                && [
                    "_password",
                    "_secret",
                    "_token",
                    "-password",
                    "-secret",
                    "-token",
                ]
                .iter()
                .any(|suffix| ends_with_ci(name, suffix));
        let random_name = NAMED_RANDOM.iter().any(|n| name.eq_ignore_ascii_case(n));
        if !secret_name && !random_name {
            continue;
        }
        let from = eq + 1;
        let len = s.get(from..).map_or(0, |rest| {
            rest.bytes()
                .take_while(|b| !b" \t\r\n&;#\"'<>,)]}|".contains(b))
                .count()
        });
        covered = from + len;
        let Some(value) = s.get(from..from + len) else {
            continue;
        };
        // A sentence's full stop is not part of the value.
        let value = value.trim_end_matches(['.', '!', '?', ':']);
        if value.is_empty() || is_reference(value) || value.starts_with("${") {
            continue;
        }
        if random_name && (value.len() < 16 || classes(value) < 2) {
            continue;
        }
        found.add("secret in a name=value pair", from..from + value.len());
    }
}

fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len()
        .checked_sub(suffix.len())
        .and_then(|cut| s.as_bytes().get(cut..))
        .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix.as_bytes()))
}

/// `Basic <base64 of user:password>` and `Bearer <token>` (HTTP Authorization values).
fn authorization(s: &str, found: &mut Found) {
    use base64::Engine as _;
    for (scheme, basic) in [("basic ", true), ("bearer ", false)] {
        let mut from = 0;
        while let Some(i) = find_ci(s, scheme, from) {
            from = i + scheme.len();
            if !at_word_start(s, i) {
                continue;
            }
            let start = from + s.get(from..).map_or(0, |r| r.len() - r.trim_start().len());
            let n = run_len(s, start, "-._~+/=");
            let Some(token) = s.get(start..start + n) else {
                continue;
            };
            let token = token.trim_end_matches('.');
            let secret = if basic {
                token.len() >= 8
                    && base64::engine::general_purpose::STANDARD
                        .decode(token)
                        .is_ok_and(|d| d.contains(&b':') && std::str::from_utf8(&d).is_ok())
            } else {
                token.len() >= 16 && classes(token) >= 2 && !is_reference(token)
            };
            if secret {
                let kind = if basic {
                    "HTTP Basic credentials"
                } else {
                    "bearer token"
                };
                found.add(kind, start..start + token.len());
            }
        }
    }
}

/// `curl -u user:password` / `--user user:password`: the password after the first `:`.
fn curl_user(s: &str, found: &mut Found) {
    for flag in ["-u ", "--user "] {
        for i in occurrences(s.as_bytes(), flag.as_bytes()) {
            if !at_word_start(s, i) {
                continue;
            }
            let from = i + flag.len();
            let n = s.get(from..).map_or(0, |r| {
                r.bytes()
                    .take_while(|b| !b.is_ascii_whitespace() && !b"\"'`".contains(b))
                    .count()
            });
            let Some(userinfo) = s.get(from..from + n) else {
                continue;
            };
            if let Some(colon) = userinfo.find(':') {
                let password = userinfo.get(colon + 1..).unwrap_or("");
                if !password.is_empty() && !is_reference(password) && !password.starts_with('$') {
                    found.add("password in a command line", from + colon + 1..from + n);
                }
            }
        }
    }
}

/// JSON Web Tokens (and JWEs): `eyJ` + base64url, dot-separated, at the start of a word.
fn jwts(s: &str, found: &mut Found) {
    let mut covered = 0usize;
    for i in occurrences(s.as_bytes(), b"eyJ") {
        if i < covered || !at_word_start(s, i) {
            continue;
        }
        let n = run_len(s, i, "-_.");
        covered = i + n;
        let Some(token) = s.get(i..i + n) else {
            continue;
        };
        let token = token.trim_end_matches('.');
        let parts: Vec<&str> = token.split('.').collect();
        let ok = match parts.as_slice() {
            [h, p] => h.len() >= 10 && p.len() >= 10 && token.len() < n,
            [h, p, ..] => parts.len() <= 5 && h.len() >= 10 && p.len() >= 10,
            _ => false,
        };
        if ok {
            found.add("JWT", i..i + token.len());
        }
    }
}

/// Words split on whitespace and quotes, with their byte offsets.
fn words(s: &str) -> impl Iterator<Item = (usize, &str)> {
    split_keep(s, |b| {
        b.is_ascii_whitespace() || b"\"'`<>()[]{},|".contains(&b)
    })
}

/// The non-empty pieces of `s` between bytes where `sep` holds, with their offsets.
fn split_keep(s: &str, sep: impl Fn(u8) -> bool) -> impl Iterator<Item = (usize, &str)> {
    let mut from = 0usize;
    std::iter::from_fn(move || {
        loop {
            let rest = s.get(from..)?;
            if rest.is_empty() {
                return None;
            }
            let skip = rest.bytes().take_while(|b| sep(*b)).count();
            let start = from + skip;
            let len = s.get(start..)?.bytes().take_while(|b| !sep(*b)).count();
            from = start + len;
            if len > 0 {
                return s.get(start..start + len).map(|w| (start, w));
            }
            if from >= s.len() {
                return None;
            }
        }
    })
}

/// Random-looking words outside URLs, data URIs and digests: high-entropy tokens (32+
/// characters, upper, lower and digits, 4+ bits per character) and hex keys (32+ hex
/// digits, letters and digits, 3+ bits per character).
fn random_words(s: &str, found: &mut Found) {
    let mut previous: &str = "";
    for (start, w) in words(s) {
        let before = previous;
        previous = w;
        // The payload of a data URI (`data:image/png;base64,iVBOR...`) is not a secret.
        if w.len() < 32
            || w.contains("://")
            || w.starts_with("data:")
            || s.get(..start).is_some_and(|b| ends_with_ci(b, ";base64,"))
        {
            continue;
        }
        let digest_context = {
            let b = before.trim_end_matches([':', '=', '-']);
            DIGEST_WORDS.iter().any(|d| b.eq_ignore_ascii_case(d))
        };
        for (at, part) in split_keep(w, |b| !(b.is_ascii_alphanumeric() || b"+/=_-".contains(&b))) {
            if part.len() < 32 {
                continue;
            }
            let prefix = w.get(..at).unwrap_or("");
            let digest = digest_context
                || DIGEST_WORDS
                    .iter()
                    .any(|d| ends_with_ci(prefix.trim_end_matches([':', '=', '-', '@']), d));
            let hex = part.bytes().all(|b| b.is_ascii_hexdigit());
            let kind = if hex {
                let single_case = !(part.bytes().any(|b| b.is_ascii_lowercase())
                    && part.bytes().any(|b| b.is_ascii_uppercase()));
                (!digest && single_case && classes(part) >= 2 && shannon_bits(part) >= 3.0)
                    .then_some("hex key")
            } else {
                // A path (`com/spreadsheets/d/...`) has plain words between its slashes.
                let path = part.contains('/')
                    && part
                        .split('/')
                        .any(|seg| seg.len() >= 3 && seg.bytes().all(|b| b.is_ascii_lowercase()));
                (!path && classes(part) >= 3 && shannon_bits(part) >= 4.0)
                    .then_some("high-entropy token")
            };
            if let Some(kind) = kind {
                found.add(kind, start + at..start + at + part.len());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn kind(s: &str) -> Option<&'static str> {
        scan(s, KeyClass::Plain).kind
    }

    #[test]
    fn an_ascii_set_holds_each_ascii_byte_in_its_word_and_nothing_else() {
        for b in 0u8..128 {
            let one = AsciiSet::default().with(b);
            assert!(one.has(b), "{b}");
            for other in (0u8..=255).filter(|o| *o != b) {
                assert!(!one.has(other), "{b} holds {other}");
            }
        }
        for b in 128u8..=255 {
            assert_eq!(AsciiSet::default().with(b), AsciiSet::default(), "{b}");
        }
        let set = AsciiSet::of("sk_live_?@~\u{e9}");
        assert!(set.has_all(AsciiSet::of("sk_")) && set.has_all(AsciiSet::of("?~@")));
        assert!(!set.has_all(AsciiSet::of("sk-")));
        assert!(set.has_all(AsciiSet::default()));
    }

    fn tokens(s: &str) -> Vec<&str> {
        scan(s, KeyClass::Plain)
            .spans
            .into_iter()
            .map(|r| &s[r])
            .collect()
    }

    #[test]
    fn vendor_formats_in_prose() {
        let hook = "post to https://hooks.slack.com/services/T0ABCDEFG/B0ABCDEFGHI/abcdefghijklmnopqrstuvwx daily";
        assert_eq!(kind(hook), Some("webhook URL"));
        assert_eq!(
            tokens(hook),
            ["T0ABCDEFG/B0ABCDEFGHI/abcdefghijklmnopqrstuvwx"]
        );
        assert_eq!(
            tokens("use glpat-ab12CD34ef56GH78ij90 now"),
            ["glpat-ab12CD34ef56GH78ij90"]
        );
        assert_eq!(kind("glpat-xxxxxxxxxxxxxxxxxxxx"), None);
        assert_eq!(
            tokens("key sk_test_4eC39HqLyjWDarjtT1zdp7dc."),
            ["sk_test_4eC39HqLyjWDarjtT1zdp7dc"]
        );
        assert_eq!(
            kind("hr-onboarding-helper-for-new-employees-2026-edition"),
            None
        );
        assert_eq!(
            tokens("Authorization: Basic dXNlcjpodW50ZXIy"),
            ["dXNlcjpodW50ZXIy"]
        );
        assert_eq!(kind("Basic information about the onboarding"), None);
        assert_eq!(
            tokens("https://x.example.com/cb?user=a&password=hunter2&x=1"),
            ["hunter2"]
        );
        assert_eq!(kind("rotate the password=${DB_PASSWORD} monthly"), None);
        assert_eq!(
            tokens("AccountName=a;AccountKey=abc+/def==;EndpointSuffix=core.windows.net"),
            ["abc+/def=="]
        );
    }

    #[test]
    fn jwts_with_and_without_bearer() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(kind(jwt), Some("JWT"));
        assert_eq!(tokens(&format!("Authorization: Bearer {jwt}.")), [jwt]);
        // Unsigned (`alg: none`): the signature part is empty.
        let none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.";
        assert_eq!(tokens(none), [none.trim_end_matches('.')]);
    }

    #[test]
    fn digests_ids_and_urls_are_not_random_secrets() {
        let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(kind(sha), Some("hex key"));
        assert_eq!(kind(&format!("sha256:{sha}")), None);
        assert_eq!(kind(&format!("manifest_sha256 {sha}")), None);
        assert_eq!(kind(&format!("commit {}", &sha[..40])), None);
        assert_eq!(scan(sha, KeyClass::Quiet).kind, None);
        assert_eq!(
            kind("https://github.com/o/r/blob/e3b0c44298fc1c149afbf4c8996fb92427ae41e4/README.md"),
            None
        );
        assert_eq!(
            kind(
                "docs.google.com/spreadsheets/d/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/edit"
            ),
            None
        );
        assert_eq!(kind("123e4567-e89b-12d3-a456-426614174000"), None);
    }
}
