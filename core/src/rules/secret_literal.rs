//! MV-SECRET-001 literal-secret
use super::prelude::*;
use crate::yaml::{Node, Value, escape_token, push_index};

pub static RULE: Rule = Rule {
    id: "MV-SECRET-001",
    name: "literal-secret",
    category: Category::Secrets,
    severity: Severity::Critical,
    summary: "a literal secret is written in the manifest",
    what: "Every string in the manifest for: values of secret-named keys (`client_secret`, `password`, `api_key`, `token`, `private_key`...) that are not vault references; AWS, GitHub, Slack, Google, Stripe key shapes; PEM private keys; JWTs; URLs with a password; long high-entropy tokens.",
    why: "Micro Apps, Macro Risk: poor secret management, client secrets and API keys embedded in spreadsheets and documents; enforce secrets in approved vaults. A manifest is copied into tickets, logs and builder UIs: any secret in it is leaked. microvet never repeats the secret in any output.",
    example: "client:\n  client_secret: s3cr3t-Value-123",
    fix: "Rotate the secret (it is exposed), store it in the vault and reference it, e.g. `vault://micro-apps/<app>/client_secret`.",
    references: &[
        "Micro Apps, Macro Risk (2026): secrets manager (do not store client secrets in spreadsheets)",
        "RFC 9700 §2.5 (client authentication)",
        "OWASP ASVS V2.10 / V6.4",
    ],
    check,
};

const SECRET_KEYS: &[&str] = &[
    "client_secret",
    "secret",
    "password",
    "passwd",
    "pwd",
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
];

/// A secret found in the manifest: where, what kind, and the exact text (for redaction only).
pub(crate) struct SecretHit {
    pub path: String,
    pub line: u32,
    pub kind: &'static str,
    pub secret: String,
    /// Parts of the secret that outputs may quote in another form (the userinfo of a URL
    /// as written and as `url` serializes it, e.g. inside a canonical form): redacted too.
    pub parts: Vec<String>,
}

/// A URL with a password (possibly empty), read as a browser would.
struct UrlCredentials {
    /// The URL without its userinfo, if it can be written.
    stripped: Option<String>,
    /// The userinfo as `url` serializes it and as written.
    parts: Vec<String>,
    empty_password: bool,
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
    let empty_password = password.is_empty();
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
    Some(UrlCredentials {
        stripped,
        parts,
        empty_password,
    })
}

fn is_reference(v: &str) -> bool {
    let v = v.trim();
    v.is_empty()
        || [
            "vault://",
            "vault:",
            "secret://",
            "secretref:",
            "env:",
            "arn:aws:secretsmanager:",
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
        || v.starts_with('<') && v.ends_with('>')
}

/// Byte offsets of the non-overlapping occurrences of `needle` in `hay`, left to right
/// (what `str::match_indices` yields), without building a `StrSearcher` per call.
fn occurrences<'h>(hay: &'h [u8], needle: &'h [u8]) -> impl Iterator<Item = usize> + 'h {
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

fn contains(hay: &str, needle: &str) -> bool {
    occurrences(hay.as_bytes(), needle.as_bytes())
        .next()
        .is_some()
}

fn charset_run(s: &str, prefix: &str, min: usize, extra: &str) -> bool {
    occurrences(s.as_bytes(), prefix.as_bytes()).any(|i| {
        s.get(i + prefix.len()..)
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || extra.contains(*c))
                    .count()
                    >= min
            })
            .unwrap_or(false)
    })
}

fn shannon_bits(s: &str) -> f64 {
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

/// The kind of secret a string looks like, if any.
///
/// Every string of the manifest goes through here, so the prefix searches are gated on
/// a byte every prefix of the family contains (`-` for PEM and Slack, `A` for AWS and
/// Google, `_` for GitHub and Stripe): a string without it cannot match any of them.
/// The white-space separated words of a secret value that are secrets of their own (a
/// token inside `oauth_scopes: "openid ghp_..."`, which the scope rules quote one by one),
/// with their URL credentials: redacted too.
pub(crate) fn secret_words(secret: &str) -> Vec<String> {
    let mut out = Vec::new();
    if !secret.trim().contains(char::is_whitespace) {
        return out;
    }
    for word in secret.split_whitespace() {
        if shape(word).is_some() {
            out.push(word.to_string());
            if word.contains('@')
                && let Some(c) = url_credentials(word)
            {
                out.extend(c.parts);
            }
        }
    }
    out
}

fn shape(s: &str) -> Option<&'static str> {
    let t = s.trim();
    let (mut dash, mut upper_a, mut underscore, mut colon) = (false, false, false, false);
    for b in t.bytes() {
        match b {
            b'-' => dash = true,
            b'A' => upper_a = true,
            b'_' => underscore = true,
            b':' => colon = true,
            _ => {}
        }
    }
    if dash && contains(t, "-----BEGIN") && contains(t, "PRIVATE KEY") {
        return Some("private key");
    }
    if upper_a {
        for p in ["AKIA", "ASIA"] {
            if occurrences(t.as_bytes(), p.as_bytes()).any(|i| {
                t.get(i + 4..i + 20).is_some_and(|r| {
                    r.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                })
            }) {
                return Some("AWS access key");
            }
        }
    }
    // Each family's prefixes share a part (`gh`, `xox`, `k_live_`): one search for it
    // first, and the per-prefix searches only when it is there. `github_pat_` does not
    // contain `gh`, so it is searched on its own.
    if underscore
        && ((contains(t, "gh")
            && ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
                .iter()
                .any(|p| charset_run(t, p, 30, "")))
            || charset_run(t, "github_pat_", 40, "_"))
    {
        return Some("GitHub token");
    }
    if dash
        && contains(t, "xox")
        && ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"]
            .iter()
            .any(|p| charset_run(t, p, 10, "-"))
    {
        return Some("Slack token");
    }
    if upper_a && charset_run(t, "AIza", 35, "-_") {
        return Some("Google API key");
    }
    if underscore
        && contains(t, "k_live_")
        && ["sk_live_", "rk_live_"]
            .iter()
            .any(|p| charset_run(t, p, 16, ""))
    {
        return Some("Stripe key");
    }
    // An absolute URL needs a `:` after its scheme, so without one it cannot parse; with
    // one, neither a JWT nor a token below (both `:`-free) can match, and a password needs
    // an `@`: only then is the URL parsed.
    if colon {
        if t.contains('@') && url_credentials(t).is_some_and(|c| !c.empty_password) {
            return Some("password in URL");
        }
        return None;
    }
    if t.starts_with("eyJ")
        && t.split('.').count() == 3
        && t.split('.').all(|p| {
            p.len() >= 10
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
    {
        return Some("JWT");
    }
    if t.len() < 32 {
        return None;
    }
    let tokenish = !t.contains(char::is_whitespace)
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=_-".contains(c));
    if !tokenish {
        return None;
    }
    let classes = [
        t.chars().any(|c| c.is_ascii_lowercase()),
        t.chars().any(|c| c.is_ascii_uppercase()),
        t.chars().any(|c| c.is_ascii_digit()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if classes >= 3 && shannon_bits(t) >= 4.0 {
        return Some("high-entropy token");
    }
    None
}

/// Whether a key names a secret (`client_secret`, `X_TOKEN`...), ASCII case-insensitive.
fn is_secret_key(k: &str) -> bool {
    let ends_with = |suffix: &str| {
        k.len()
            .checked_sub(suffix.len())
            .and_then(|cut| k.as_bytes().get(cut..))
            .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix.as_bytes()))
    };
    SECRET_KEYS.iter().any(|s| k.eq_ignore_ascii_case(s))
        || ends_with("_secret")
        || ends_with("_password")
        || ends_with("_token")
}

/// `path` is the pointer of `node`; it is extended in place for children and restored.
fn walk(node: &Node, path: &mut String, keyed: bool, hits: &mut Vec<SecretHit>) {
    match &node.value {
        Value::Str(s) => {
            let kind = if keyed && !is_reference(s) && !s.trim().is_empty() {
                Some(shape(s).unwrap_or("secret value"))
            } else {
                shape(s)
            };
            if let Some(kind) = kind {
                let parts = if s.contains('@') {
                    url_credentials(s.trim()).map_or_else(Vec::new, |c| c.parts)
                } else {
                    Vec::new()
                };
                hits.push(SecretHit {
                    path: path.clone(),
                    line: node.line,
                    kind,
                    secret: s.clone(),
                    parts,
                });
            }
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
                push_token(path, &k.name);
                walk(v, path, is_secret_key(&k.name), hits);
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

/// Every literal secret of a document, in document order.
pub(crate) fn find(root: &Node) -> Vec<SecretHit> {
    let mut hits = Vec::new();
    walk(root, &mut String::with_capacity(64), false, &mut hits);
    hits
}

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let app = cx
        .manifest
        .name
        .as_ref()
        .filter(|n| super::app_name::is_slug(&n.value))
        .map_or("app", |n| n.value.as_str());
    for hit in &cx.secrets {
        let field = hit.path.rsplit('/').next().unwrap_or("secret").to_string();
        let field = if field.chars().all(|c| c.is_ascii_digit()) || field.is_empty() {
            "secret".to_string()
        } else {
            field
        };
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
        let stripped = url_credentials(hit.secret.trim()).and_then(|c| c.stripped);
        match stripped {
            Some(clean) => r.fix(
                "replace",
                &hit.path,
                Some(json!(clean)),
                "remove the credentials from the URL; authenticate with a vault-held secret",
            ),
            None => {
                let reference = format!("vault://micro-apps/{app}/{field}");
                r.fix(
                    "replace",
                    &hit.path,
                    Some(json!(reference)),
                    format!("reference the vault (`{reference}`) instead of the literal secret"),
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
            // in front of the `gh?_` prefixes must not hide it (a regression of session 3).
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
                .any(|p| super::charset_run(t, p, 30, ""))
                || super::charset_run(t, "github_pat_", 40, "_");
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

    /// The prefix families, searched without any gate: what `shape` must answer for text
    /// made only of these fragments (no private key, AWS or Google shapes among them).
    fn ungated(t: &str) -> Option<&'static str> {
        use super::charset_run;
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
