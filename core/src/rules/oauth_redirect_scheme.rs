//! MV-OAUTH-017 redirect-uri-dangerous-scheme
use super::prelude::*;
use super::support::oauth_client::Hard;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-017",
    name: "redirect-uri-dangerous-scheme",
    category: Category::Oauth,
    severity: Severity::Critical,
    summary: "a redirect URI uses a `javascript:`, `data:`, `file:`, `vbscript:` or `blob:` scheme",
    what: "The scheme of each redirect URI as a browser reads it (tabs and newlines dropped, case folded: `Java\\tScript:` is `javascript:`).",
    why: "The authorization server sends the authorization response to this URI: a script URI runs attacker-chosen code in the server's origin with the code or token in reach, a `data:` or `blob:` URI is attacker-controlled content, and `file:` reads the local disk.",
    example: "client:\n  redirect_uris: [\"javascript:alert(document.cookie)\"]",
    fix: "Remove the URI (the fix removes it) and register the app's real https callback.",
    references: &[
        "RFC 9700 §4.1 (insufficient redirect URI validation)",
        "RFC 6749 §3.1.2 (redirection endpoint), §10.6",
        "WHATWG URL §4.4 (basic URL parser: tab and newline removal)",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for r in cx.redirects() {
        if let Some(Hard::DangerousScheme(s)) = &r.hard {
            out.at(
                r.raw,
                format!("redirect URI `{}` uses the `{s}:` scheme", r.raw.value),
            )
            .fix("remove", &r.raw.path, None, "remove this redirect URI");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testing::uri;

    #[test]
    fn script_and_local_schemes_whatever_their_spelling() {
        for u in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<script>x</script>",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "blob:https://apps.example.com/uuid",
        ] {
            assert_eq!(uri("web", u, &super::RULE).len(), 1, "{u}");
            assert_eq!(uri("native", u, &super::RULE).len(), 1, "{u}");
        }
    }
}
