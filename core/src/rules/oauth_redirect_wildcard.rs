//! MV-OAUTH-018 redirect-uri-wildcard
use super::prelude::*;
use super::support::oauth_client::Hard;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-018",
    name: "redirect-uri-wildcard",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "a redirect URI contains a wildcard",
    what: "A `*` anywhere in the raw redirect URI (host, port, path or query). The raw text is checked: a WHATWG parser accepts `*` in a host (`https://*.example.com` parses) and may percent-encode it elsewhere.",
    why: "Redirect URIs must be compared by exact string match. Wildcards are how authorization codes and tokens get sent to a subdomain takeover, a user-content path or an open redirector on an allowed host (RFC 9700 §4.1 attacks).",
    example: "client:\n  redirect_uris: [\"https://*.example.com/callback\"]",
    fix: "Register every exact callback URI instead.",
    references: &[
        "RFC 9700 §2.1 and §4.1.3 (exact string matching)",
        "OAuth 2.1 draft §2.3 (redirect URIs compared by exact string matching)",
        "RFC 6749 §3.1.2.2",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for r in cx.redirects() {
        if r.hard == Some(Hard::Wildcard) {
            out.at(
                r.raw,
                format!(
                    "redirect URI `{}` contains a wildcard `*`: redirect URIs must match exactly",
                    r.raw.value
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testing::uri;

    #[test]
    fn stars_anywhere() {
        for u in [
            "https://*.example.com/cb",
            "https://apps.example.com/*",
            "https://apps.example.com/cb?x=*",
            "https://apps.example.com:*/cb",
            "com.example.*:/cb",
        ] {
            assert_eq!(uri("web", u, &super::RULE).len(), 1, "{u}");
        }
        assert!(uri("web", "https://apps.example.com/cb", &super::RULE).is_empty());
    }
}
