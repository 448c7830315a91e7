//! MV-OAUTH-023 redirect-uri-open-redirect
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-023",
    name: "redirect-uri-open-redirect",
    category: Category::Oauth,
    severity: Severity::Medium,
    summary: "a redirect URI has the shape of an open redirector",
    what: "A query parameter named like a forwarding target (`redirect`, `redirect_uri`, `redirect_url`, `redir`, `url`, `uri`, `next`, `return`, `return_to`, `returnTo`, `return_url`, `continue`, `dest`, `destination`, `target`, `goto`, `forward`, `callback`; case, `_` and `-` ignored) whose value, percent-decoded up to three times, is an absolute or scheme-relative URL (`https://...`, `//host`, `\\\\host`).",
    why: "A callback that forwards to a URL taken from its query is an open redirector: with a different parameter value it forwards authorization codes (and the Referer) to an attacker, and exact redirect URI matching cannot help once the registered endpoint itself forwards.",
    example: "client:\n  redirect_uris: [\"https://apps.example.com/cb?next=https%3A%2F%2Fevil.io\"]",
    fix: "Register the final callback itself; keep post-login navigation in `state` or the session, validated against an allowlist.",
    references: &[
        "RFC 9700 §4.11 (open redirection), §4.11.1 (client as open redirector)",
        "RFC 6749 §10.15 (open redirectors)",
    ],
    relational: false,
    check,
};

const NAMES: &[&str] = &[
    "redirect",
    "redirecturi",
    "redirecturl",
    "redir",
    "url",
    "uri",
    "next",
    "return",
    "returnto",
    "returnurl",
    "continue",
    "dest",
    "destination",
    "target",
    "goto",
    "forward",
    "callback",
];

/// Whether a parameter value (already decoded once) carries a URL.
fn carries_url(value: &str) -> Option<String> {
    let mut v = value.trim().to_string();
    for _ in 0..3 {
        let lower = v.to_ascii_lowercase();
        if lower.starts_with("//") || lower.starts_with("\\\\") || lower.starts_with("/\\") {
            return Some(v);
        }
        if let Some((scheme, rest)) = lower.split_once(':') {
            let mut chars = scheme.chars();
            if chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && (rest.starts_with("//") || rest.starts_with("\\\\"))
            {
                return Some(v);
            }
        }
        let decoded = oc::percent_decode(&v);
        if decoded == v {
            break;
        }
        v = decoded;
    }
    None
}

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for r in cx.redirects() {
        let Some(url) = r.sound() else { continue };
        for (name, value) in url.query_pairs() {
            let key: String = name
                .chars()
                .filter(|c| !matches!(c, '_' | '-'))
                .collect::<String>()
                .to_ascii_lowercase();
            if !NAMES.contains(&key.as_str()) {
                continue;
            }
            if let Some(target) = carries_url(&value) {
                let shown = crate::idn::parse_url(&target)
                    .ok()
                    .and_then(|t| t.host_str().map(oc::show_host))
                    .map_or_else(String::new, |h| format!(" (host {h})"));
                out.at(
                    r.raw,
                    format!(
                        "redirect URI `{}` forwards to the url in its `{name}` parameter{shown}: an open redirector shape",
                        r.raw.value
                    ),
                );
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::super::support::testing::uri;

    fn open(u: &str) -> Vec<String> {
        uri("web", u, &super::RULE)
    }

    #[test]
    fn forwarding_parameters_carrying_urls() {
        let m = open("https://apps.example.com/cb?next=https%3A%2F%2Fevil.io%2Fx");
        assert!(m[0].contains("`next` parameter (host `evil.io`)"), "{m:?}");
        assert_eq!(
            open("https://apps.example.com/cb?returnTo=%2F%2Fevil.io").len(),
            1
        );
        assert_eq!(
            open("https://apps.example.com/cb?Return-To=https%253A%252F%252Fevil.io").len(),
            1
        );
        assert_eq!(
            open("https://apps.example.com/cb?redirect_uri=https://evil.io/").len(),
            1
        );
    }

    /// An IDN target is shown by its A-label (the host a browser visits) and Unicode form.
    #[test]
    fn idn_targets_show_their_host() {
        let m = open("https://apps.example.com/cb?next=https%3A%2F%2Fb%C3%BCcher.example%2Fx");
        assert!(
            m[0].contains("(host `xn--bcher-kva.example` (`b\u{fc}cher.example`))"),
            "{m:?}"
        );
        let m = open("https://apps.example.com/cb?next=https://\u{ff45}vil.io/x");
        assert!(m[0].contains("(host `evil.io`)"), "{m:?}");
    }

    #[test]
    fn local_paths_and_other_parameters_pass() {
        assert!(open("https://apps.example.com/cb?next=/home").is_empty());
        assert!(open("https://apps.example.com/cb?tenant=https%3A%2F%2Fx").is_empty());
    }
}
