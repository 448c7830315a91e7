//! MV-SECRET-001 literal-secret
use super::prelude::*;
use crate::yaml::{Node, Value, escape_token, push_index};

mod scan;
pub(crate) use scan::is_reference;
use scan::{KeyClass, scan};

pub static RULE: Rule = Rule {
    id: "MV-SECRET-001",
    name: "literal-secret",
    category: Category::Secrets,
    severity: Severity::Critical,
    summary: "a literal secret is written in the manifest",
    what: "Every string and every mapping key of the manifest, prose and URLs included: values (strings or numbers) of secret-named keys (`client_secret`, `password`, `api_key`, `token`, `private_key`...) that are not vault references or placeholders; vendor token formats (AWS key IDs and the secret key next to one, GitHub, GitLab, Slack tokens and webhook URLs, Google, Stripe, SendGrid, npm, OpenAI); PEM private keys; JWTs and `Bearer` tokens; `Basic` credentials; URLs with a password; secret `name=value` pairs (query strings, connection strings such as `AccountKey=`); long high-entropy tokens and hex keys outside URLs, digests and identifiers.",
    why: "\"Micro Apps, Macro Risk\" (2026): poor secret management, with client secrets and API keys embedded in spreadsheets and documents; secrets belong in approved vaults. A manifest is copied into tickets, logs and builder UIs: any secret in it is leaked. microvet never repeats the secret in any output, in any form (trimmed, another case, percent-encoded or decoded, escaped), and a key that is a secret is reported at a redacted path.",
    example: "client:\n  client_secret: s3cr3t-Value-123",
    fix: "Rotate the secret (it is exposed), store it in the vault and reference it, e.g. `vault://micro-apps/<app>/client_secret`.",
    references: &[
        "\"Micro Apps, Macro Risk\" (2026): secrets in approved vaults, not in spreadsheets or documents",
        "RFC 9700 §2.5 (client authentication)",
        "RFC 6750 §2.1 (bearer tokens in the Authorization header); RFC 7617 §2 (Basic credentials)",
        "RFC 3986 §3.2.1 (a password in the userinfo of a URI is deprecated)",
        "OWASP ASVS V2.10 / V6.4",
    ],
    relational: false,
    check,
};

/// The path segment that replaces a mapping key that is a secret.
pub(crate) const REDACTED_KEY: &str = "[REDACTED]";

const SECRET_KEYS: &[&str] = &[
    "client_secret",
    "secret",
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "api_key",
    "apikey",
    "access_key",
    "secret_key",
    "private_key",
    "token",
    "access_token",
    "refresh_token",
    "auth_token",
    "bearer",
    "credentials",
    "aws_secret_access_key",
    "connection_string",
];

/// Keys whose values are identifiers or digests: only vendor formats are looked for there.
const QUIET_KEYS: &[&str] = &[
    "id",
    "kid",
    "client_id",
    "sha",
    "sha256",
    "digest",
    "checksum",
    "hash",
    "commit",
    "etag",
    "fingerprint",
    "integrity",
];

/// A secret found in the manifest: where, what kind, and the exact text (for redaction only).
pub(crate) struct SecretHit {
    pub path: String,
    pub line: u32,
    pub kind: &'static str,
    /// The whole string (or key, or number as text) that holds the secret.
    pub secret: String,
    /// The tokens inside it, and parts that outputs may quote in another form (the
    /// userinfo of a URL as written and as `url` serializes it): redacted too.
    pub parts: Vec<String>,
    /// Byte ranges of the tokens in `secret` (for a fix that keeps the text around them).
    spans: Vec<std::ops::Range<usize>>,
    /// The whole value is the secret (a secret-named key's value, a number, a key).
    whole: bool,
    /// The secret is a mapping key.
    key: bool,
    /// How many tokens the scanner found in it (for the engine's limit on secrets).
    pub tokens: usize,
}

/// A URL with a password (possibly empty), read as a browser would.
struct UrlCredentials {
    /// The URL without its userinfo, if it can be written.
    stripped: Option<String>,
    /// The userinfo as `url` serializes it and as written.
    parts: Vec<String>,
}

/// The credentials of `t` if it is an absolute URL with a password. The host is mapped as
/// a browser maps it ([`crate::idn::parse_url`]); a host that cannot be mapped (`exa\u{200b}mple`)
/// is set aside, so the userinfo is still found.
fn url_credentials(t: &str) -> Option<UrlCredentials> {
    let info = crate::idn::userinfo(t);
    let (u, exact) = match crate::idn::parse_url(t) {
        Ok(u) => (u, true),
        Err(_) => (url::Url::parse(&info.as_ref()?.placeholder).ok()?, false),
    };
    let password = u.password()?;
    let mut parts = vec![format!("{}:{password}", u.username())];
    let stripped = if exact {
        let mut u = u;
        u.set_password(None)
            .ok()
            .and_then(|()| u.set_username("").ok())
            .map(|()| u.to_string())
    } else {
        info.as_ref().map(|i| i.without.clone())
    };
    if let Some(i) = info {
        parts.push(i.userinfo);
    }
    Some(UrlCredentials { stripped, parts })
}

/// The byte range of the (non-empty) password of a URL written as `scheme://user:pw@host`,
/// read from the text as written: the authority ends at `/`, `\`, `?` or `#`, the userinfo
/// at its last `@`, the user name at the first `:`.
fn url_password(w: &str) -> Option<std::ops::Range<usize>> {
    let scheme_end = w.find("://")?;
    let start = scheme_end + 3;
    let rest = w.get(start..)?;
    let authority = rest
        .find(['/', '\\', '?', '#'])
        .map_or(rest, |end| rest.get(..end).unwrap_or(rest));
    let at = authority.rfind('@')?;
    let userinfo = authority.get(..at)?;
    let colon = userinfo.find(':')?;
    let from = start + colon + 1;
    let to = start + at;
    (to > from).then_some(from..to)
}

/// The kind of secret a string looks like, if any (outside any key's context).
#[cfg(test)]
fn shape(s: &str) -> Option<&'static str> {
    scan(s, KeyClass::Plain).kind
}

/// A key in snake case, ASCII lowercase: `clientSecret`, `Client-Secret` and
/// `CLIENT_SECRET` all read `client_secret`.
fn snake(k: &str) -> std::borrow::Cow<'_, str> {
    if !k
        .bytes()
        .any(|b| b.is_ascii_uppercase() || matches!(b, b'-' | b' ' | b'.'))
    {
        return std::borrow::Cow::Borrowed(k);
    }
    let mut out = String::with_capacity(k.len() + 4);
    let mut prev_lower = false;
    for c in k.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(match c {
            '-' | ' ' | '.' => '_',
            c => c.to_ascii_lowercase(),
        });
    }
    std::borrow::Cow::Owned(out)
}

/// Whether a key names a secret (`client_secret`, `X_TOKEN`, `clientSecret`, `x-api-key`...).
fn is_secret_key(k: &str) -> bool {
    let k = snake(k);
    let ends_with = |suffix: &str| k.ends_with(suffix);
    SECRET_KEYS.iter().any(|s| k == *s)
        || ends_with("_secret")
        || ends_with("_password")
        || ends_with("_token")
        || ends_with("_api_key")
        || ends_with("_apikey")
        || ends_with("_private_key")
        || ends_with("_secret_key")
}

fn is_quiet_key(k: &str) -> bool {
    let k = snake(k);
    QUIET_KEYS.iter().any(|s| k == *s)
        || ["_id", "_sha256", "_digest", "_hash", "_checksum"]
            .iter()
            .any(|s| k.ends_with(s))
}

/// Whether a mapping key is itself a secret (a token written where a field name goes).
/// Messages and pointers never quote such a key.
pub(crate) fn key_is_secret(k: &str) -> bool {
    scan(k, KeyClass::Plain).kind.is_some()
}

/// How a key makes its value read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keyed {
    Secret,
    Quiet,
    Plain,
}

impl Keyed {
    fn of(k: &str) -> Keyed {
        if is_secret_key(k) {
            Keyed::Secret
        } else if is_quiet_key(k) {
            Keyed::Quiet
        } else {
            Keyed::Plain
        }
    }
}

fn hit_of(path: &str, line: u32, text: &str, keyed: Keyed, key: bool, hits: &mut Vec<SecretHit>) {
    let class = if keyed == Keyed::Quiet {
        KeyClass::Quiet
    } else {
        KeyClass::Plain
    };
    let found = scan(text, class);
    // A percent-encoded secret (`%73k_live_...`) is a secret too: the decoded text is
    // scanned as well, and its tokens are redacted.
    let decoded = if text.contains('%') {
        let d = percent_encoding::percent_decode_str(text).decode_utf8_lossy();
        (d != text).then(|| {
            let d = d.into_owned();
            let f = scan(&d, class);
            (d, f)
        })
    } else {
        None
    };
    let whole = key || (keyed == Keyed::Secret && !is_reference(text));
    let kind = match found.kind.or(decoded.as_ref().and_then(|(_, f)| f.kind)) {
        Some(k) => k,
        None if whole => "secret value",
        None => return,
    };
    let mut parts: Vec<String> = found
        .spans
        .iter()
        .filter_map(|r| text.get(r.clone()))
        .map(str::to_string)
        .collect();
    if let Some((d, f)) = &decoded {
        parts.extend(
            f.spans
                .iter()
                .filter_map(|r| d.get(r.clone()))
                .map(str::to_string),
        );
    }
    if text.contains('@')
        && let Some(c) = url_credentials(text.trim())
    {
        parts.extend(c.parts);
    }
    hits.push(SecretHit {
        path: path.to_string(),
        line,
        kind,
        secret: text.to_string(),
        parts,
        tokens: found.count + decoded.as_ref().map_or(0, |(_, f)| f.count),
        spans: found.spans,
        whole,
        key,
    });
}

/// `path` is the pointer of `node`; it is extended in place for children and restored.
fn walk(node: &Node, path: &mut String, keyed: Keyed, hits: &mut Vec<SecretHit>) {
    match &node.value {
        Value::Str(s) => hit_of(path, node.line, s, keyed, false, hits),
        // A number under a secret-named key (`password: 12345678`) is a secret too.
        Value::Int(n) if keyed == Keyed::Secret => {
            hit_of(path, node.line, &n.to_string(), keyed, false, hits);
        }
        Value::Float(f) if keyed == Keyed::Secret => {
            hit_of(path, node.line, &f.to_string(), keyed, false, hits);
        }
        Value::Seq(items) => {
            let len = path.len();
            for (i, item) in items.iter().enumerate() {
                path.push('/');
                push_index(path, i);
                walk(item, path, keyed, hits);
                path.truncate(len);
            }
        }
        Value::Map(entries) => {
            let len = path.len();
            for (k, v) in entries {
                path.push('/');
                if key_is_secret(&k.name) {
                    path.push_str(REDACTED_KEY);
                    hit_of(path, k.line, &k.name, Keyed::Plain, true, hits);
                } else {
                    push_token(path, &k.name);
                }
                walk(v, path, Keyed::of(&k.name), hits);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Append an escaped RFC 6901 reference token (what `escape_token` returns).
fn push_token(path: &mut String, token: &str) {
    if crate::yaml::needs_escape(token) {
        path.push_str(&escape_token(token));
    } else {
        path.push_str(token);
    }
}

impl Ctx<'_> {
    /// The literal secrets of the document, in document order, found once per vet (this
    /// rule's findings, the engine's limit on secrets and the redaction of the verdict).
    pub(crate) fn secrets(&self) -> &[SecretHit] {
        self.shared.secrets.get_or_init(|| find(self.root))
    }
}

/// Every literal secret of a document, in document order.
pub(crate) fn find(root: &Node) -> Vec<SecretHit> {
    let mut hits = Vec::new();
    walk(
        root,
        &mut String::with_capacity(64),
        Keyed::Plain,
        &mut hits,
    );
    hits
}

/// Every form in which an output could quote the secrets of `hits`, longest first: each
/// secret and token as written and trimmed, in Unicode lower case (matching is ASCII case-insensitive), percent-encoded (with
/// the sets URLs and forms use) and percent-decoded, JSON-, Rust- and JSON-pointer-escaped,
/// and as IDNA A-labels and U-labels. Forms shorter than 4 characters are left out (they
/// would scrub ordinary words); matching is ASCII case-insensitive on top of these.
pub(crate) fn redaction_forms(hits: &[SecretHit]) -> Vec<String> {
    use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
    const FRAGMENT: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'<').add(b'>').add(b'`');
    const QUERY: &AsciiSet = &FRAGMENT.add(b'#').add(b'\'');
    const PATH: &AsciiSet = &QUERY.add(b'?').add(b'^').add(b'{').add(b'}');
    const USERINFO: &AsciiSet = &PATH
        .add(b'/')
        .add(b':')
        .add(b';')
        .add(b'=')
        .add(b'@')
        .add(b'[')
        .add(b'\\')
        .add(b']')
        .add(b'|');
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if s.chars().count() >= 4 {
            out.push(s);
        }
    };
    for h in hits {
        for x in std::iter::once(&h.secret).chain(&h.parts) {
            let decoded = percent_encoding::percent_decode_str(x)
                .decode_utf8_lossy()
                .into_owned();
            let mut bases = vec![x.clone()];
            for b in [x.trim(), decoded.trim(), decoded.as_str()] {
                if !bases.iter().any(|have| have == b) {
                    bases.push(b.to_string());
                }
            }
            for b in bases {
                for set in [NON_ALPHANUMERIC, USERINFO, PATH, QUERY, FRAGMENT] {
                    push(utf8_percent_encode(&b, set).to_string());
                }
                push(url::form_urlencoded::byte_serialize(b.as_bytes()).collect());
                let json = serde_json::Value::String(b.clone()).to_string();
                push(
                    json.get(1..json.len().saturating_sub(1))
                        .unwrap_or("")
                        .to_string(),
                );
                push(b.escape_debug().to_string());
                push(escape_token(&b));
                if let Ok(ascii) = crate::idn::to_ascii(&b) {
                    push(ascii.into_owned());
                }
                push(crate::idn::to_unicode(&b));
                push(b.to_lowercase());
                push(b);
            }
        }
    }
    // Matching is ASCII case-insensitive: forms that differ only in ASCII case are one.
    for f in &mut out {
        f.make_ascii_lowercase();
    }
    // Longest first so a secret containing another is replaced whole.
    crate::engine::stable_sort_by(&mut out, |a, b| {
        b.len().cmp(&a.len()).then_with(|| a.cmp(b))
    });
    out.dedup();
    out
}

/// Remove every secret from a document (the JSON form of `root`, after fixes): entries
/// whose key is a secret go, and every remaining form of a secret of `root` in a string
/// becomes `[REDACTED]`.
pub(crate) fn scrub_document(doc: &mut serde_json::Value, root: &Node) {
    let hits = find(root);
    if hits.is_empty() {
        return;
    }
    let forms = redaction_forms(&hits);
    fn go(v: &mut serde_json::Value, forms: &[String]) {
        match v {
            serde_json::Value::String(s) => {
                for f in forms {
                    if let Some(clean) = crate::engine::replace_ci(s, f) {
                        *s = clean;
                    }
                }
            }
            serde_json::Value::Number(n) if forms.contains(&n.to_string()) => {
                *v = serde_json::Value::String("[REDACTED]".to_string());
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| go(x, forms)),
            serde_json::Value::Object(o) => {
                o.retain(|k, _| !key_is_secret(k));
                o.values_mut().for_each(|x| go(x, forms));
            }
            _ => {}
        }
    }
    go(doc, &forms);
}

/// [`scrub_document`] for a JSON value on its own (an identity provider's export of a
/// client): every secret of the value redacted, and every entry whose key names a secret
/// (`secret`, `clientSecret`, `registrationAccessToken`...) removed, whatever its value.
/// Returns how many secrets were found (hits plus removed entries).
pub(crate) fn scrub_json(doc: &mut serde_json::Value) -> crate::Result<usize> {
    let text = doc.to_string();
    let root = crate::yaml::parse(&text, crate::yaml::Limits::MANIFEST)?;
    let found = find(&root).len();
    scrub_document(doc, &root);
    fn drop_keys(v: &mut serde_json::Value) -> usize {
        match v {
            serde_json::Value::Array(a) => a.iter_mut().map(drop_keys).sum(),
            serde_json::Value::Object(o) => {
                let before = o.len();
                o.retain(|k, _| !is_secret_key(k) && !key_is_secret(k));
                let removed = before - o.len();
                removed + o.values_mut().map(drop_keys).sum::<usize>()
            }
            _ => 0,
        }
    }
    Ok(found.max(drop_keys(doc)))
}

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let app = cx
        .manifest
        .name
        .as_ref()
        .filter(|n| super::app_name::is_slug(&n.value))
        .map_or("app", |n| n.value.as_str());
    for hit in cx.secrets() {
        let field = hit.path.rsplit('/').next().unwrap_or("secret");
        let field = if field.is_empty()
            || field.bytes().all(|c| c.is_ascii_digit())
            || !field
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            "secret"
        } else {
            field
        };
        let reference = format!("vault://micro-apps/{app}/{field}");
        if hit.key {
            out.report(
                &hit.path,
                Some(hit.line),
                format!(
                    "a mapping key is a literal {} (redacted); remove the entry, rotate the secret and move it to the vault",
                    hit.kind
                ),
            );
            continue;
        }
        let r = out.report(
            &hit.path,
            Some(hit.line),
            format!(
                "literal {} in the {} (redacted); rotate it and move it to the vault",
                hit.kind,
                if cx.dcr {
                    "registration request"
                } else {
                    "manifest"
                }
            ),
        );
        // A URL with a password keeps its URL: only the credentials go.
        let stripped = if hit.whole {
            None
        } else {
            url_credentials(hit.secret.trim()).and_then(|c| c.stripped)
        };
        let trimmed = hit.secret.trim();
        let covers_all = hit
            .spans
            .iter()
            .any(|s| hit.secret.get(s.clone()) == Some(trimmed));
        match stripped {
            Some(clean) => r.fix(
                "replace",
                &hit.path,
                Some(json!(clean)),
                "remove the credentials from the URL; authenticate with a vault-held secret",
            ),
            // The secret is the whole value, or cannot be found in it as written (it was
            // found percent-decoded), or the value is a URL (a webhook or other credential
            // URL): it goes whole. In any other text only the secret goes.
            None if hit.whole
                || covers_all
                || hit.spans.is_empty()
                || (!trimmed.contains(char::is_whitespace) && trimmed.contains("://")) =>
            {
                r.fix(
                    "replace",
                    &hit.path,
                    Some(json!(reference)),
                    format!("reference the vault (`{reference}`) instead of the literal secret"),
                );
            }
            None => {
                // A secret inside text: the text stays, each token becomes the reference.
                let mut spans = hit.spans.clone();
                spans.sort_by_key(|s| std::cmp::Reverse(s.start));
                let mut text = hit.secret.clone();
                let mut last = usize::MAX;
                for s in spans {
                    if s.end <= last && text.get(s.clone()).is_some() {
                        text.replace_range(s.clone(), &reference);
                        last = s.start;
                    }
                }
                r.fix(
                    "replace",
                    &hit.path,
                    Some(json!(text)),
                    format!("replace the secret in the text by a vault reference (`{reference}`)"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shape;
    use proptest::strategy::Strategy as _;

    /// The gates in front of the prefix searches change no answer.
    #[test]
    fn gated_prefixes_still_match() {
        for t in [
            "x ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
            "github_pat_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789_abcdefgh",
            // No `gh` anywhere but inside the prefix's `github` (which has none): the gate
            // in front of the `gh?_` prefixes must not hide it.
            "github_pat_11ABCDEFG0123456789abcdef_zyxwvutsrqponmlkjiABCDE",
            "use github_pat_11abcdefg0123456789abcdef0123456789abcdef01234 for the CI",
            "gh gh_ ghp_short",
            "xoxs-1234567890-abc",
            "xox xoxq-1234567890",
            "sk_live_0123456789abcdef",
            "rk_live_0123456789abcdef",
            "k_live_0123456789abcdefgh",
        ] {
            let github = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
                .iter()
                .any(|p| charset_run(t, p, 30, ""))
                || charset_run(t, "github_pat_", 40, "_");
            assert_eq!(shape(t) == Some("GitHub token"), github, "{t}");
        }
        assert_eq!(
            shape("use github_pat_11abcdefg0123456789abcdef0123456789abcdef01234 for the CI"),
            Some("GitHub token")
        );
        assert_eq!(shape("xoxs-1234567890-abc"), Some("Slack token"));
        assert_eq!(shape("xox xoxq-1234567890"), None);
        assert_eq!(shape("sk_live_0123456789abcdef"), Some("Stripe key"));
        assert_eq!(shape("rk_live_0123456789abcdef"), Some("Stripe key"));
    }

    /// A run of at least `min` token characters (ASCII alphanumerics and `extra`) after an
    /// occurrence of `prefix` (the search the prefix detectors do, without gates).
    fn charset_run(s: &str, prefix: &str, min: usize, extra: &str) -> bool {
        s.match_indices(prefix).any(|(i, _)| {
            s.get(i + prefix.len()..).is_some_and(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || extra.contains(*c))
                    .count()
                    >= min
            })
        })
    }

    /// The prefix families, searched without any gate: what `shape` must answer for text
    /// made only of these fragments (no private key, AWS or Google shapes among them).
    fn ungated(t: &str) -> Option<&'static str> {
        if ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
            .iter()
            .any(|p| charset_run(t, p, 30, ""))
            || charset_run(t, "github_pat_", 40, "_")
        {
            return Some("GitHub token");
        }
        if ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"]
            .iter()
            .any(|p| charset_run(t, p, 10, "-"))
        {
            return Some("Slack token");
        }
        if ["sk_live_", "rk_live_"]
            .iter()
            .any(|p| charset_run(t, p, 16, ""))
        {
            return Some("Stripe key");
        }
        None
    }

    proptest::proptest! {
        /// The gates change no answer: for text built from the families' prefixes, their
        /// shared parts, separators and token characters, `shape` finds a family exactly
        /// when the ungated search does.
        #[test]
        fn gates_agree_with_ungated_search(parts in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::sample::select(vec![
                    "gh", "ghp_", "gho_", "ghs_", "github_pat_", "github", "xox", "xoxb-",
                    "xoxs-", "k_live_", "sk_live_", "rk_live_", "_", "-", " ", "g", "h",
                ]).prop_map(str::to_owned),
                "[a-zA-Z0-9]{1,45}",
            ],
            1..8,
        )) {
            let t = parts.concat();
            let got = shape(&t);
            let want = ungated(&t);
            if want.is_some() {
                proptest::prop_assert_eq!(got, want, "{}", t);
            } else {
                proptest::prop_assert!(
                    !matches!(got, Some("GitHub token" | "Slack token" | "Stripe key")),
                    "{} gave {:?}", t, got
                );
            }
        }
    }

    #[test]
    #[allow(clippy::unwrap_used, clippy::indexing_slicing)]
    fn scrub_json_drops_secret_named_entries_and_redacts_the_rest() {
        let mut doc = serde_json::json!({
            "clientId": "app",
            "secret": "password",
            "registrationAccessToken": "x",
            "redirectUris": ["https://a.example/cb?token=ghp_R8d2Kq7Lm4Np9Xs3Vt6Wy1Za5Bc0De2Fg8Hj"],
            "attributes": {"client.secret.creation.time": "1700000000"}
        });
        let n = super::scrub_json(&mut doc).unwrap();
        let text = doc.to_string();
        assert!(n >= 2, "{n}");
        assert!(doc.get("secret").is_none() && doc.get("registrationAccessToken").is_none());
        assert!(!text.contains("ghp_R8d2"), "{text}");
        assert_eq!(doc["clientId"], "app");
        assert_eq!(
            doc["attributes"]["client.secret.creation.time"],
            "1700000000"
        );
    }

    #[test]
    fn shapes() {
        assert_eq!(shape("AKIAIOSFODNN7EXAMPLE"), Some("AWS access key"));
        assert_eq!(
            shape("ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
            Some("GitHub token")
        );
        assert_eq!(shape("xoxb-123456789012-abcdefghij"), Some("Slack token"));
        assert_eq!(
            shape("https://user:hunter2@example.com/x"),
            Some("password in URL")
        );
        // Unicode hosts: mapped to A-labels, or set aside when they cannot be.
        assert_eq!(
            shape("https://user:hunter2@b\u{fc}cher.example/x"),
            Some("password in URL")
        );
        assert_eq!(
            shape("https://user:hunter2@exa\u{200b}mple.com/x"),
            Some("password in URL")
        );
        assert_eq!(shape("https://user:@exa\u{200b}mple.com/x"), None);
        assert_eq!(
            shape("https://apps.example.com/hr-onboarding/callback"),
            None
        );
        assert_eq!(shape("automate candidate onboarding checklists"), None);
        assert_eq!(shape("hr-onboarding-helper"), None);
        assert_eq!(
            shape("Zx9Qw3Er7Ty1Ui5Op0As8Df2Gh6Jk4Lz"),
            Some("high-entropy token")
        );
    }
}
