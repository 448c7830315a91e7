//! MV-OAUTH-024 redirect-uri-localhost
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-024",
    name: "redirect-uri-localhost",
    category: Category::Oauth,
    severity: Severity::Low,
    summary: "a native app's loopback redirect uses `localhost` instead of a loopback IP",
    what: "A native app's `http`/`https` redirect URI whose host is `localhost` (or under `.localhost`).",
    why: "`localhost` is resolved by the system and can end up on a non-loopback interface or be captured by another program listening on it (firewall prompts, IPv4/IPv6 mismatch); RFC 8252 says to use the loopback IP literal. Keycloak's OAuth 2.1 profile rejects `localhost`.",
    example: "client:\n  application_type: native\n  redirect_uris: [\"http://localhost:8080/callback\"]",
    fix: "Use `http://127.0.0.1:{port}/path` (the fix rewrites the host); the port may vary at request time.",
    references: &[
        "RFC 8252 §7.3 (loopback interface redirection), §8.3 (loopback redirect considerations)",
        "OAuth 2.1 draft §8 (native applications: loopback redirects)",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    if !oc::is_native(c) {
        return;
    }
    for r in cx.redirects() {
        let Some(url) = r.sound() else { continue };
        if !matches!(url.scheme(), "http" | "https")
            || !url.host().is_some_and(|h| oc::is_localhost(&h))
        {
            continue;
        }
        let rep = out.at(
            r.raw,
            format!(
                "redirect URI `{}` uses `localhost`: use the loopback IP `127.0.0.1`",
                r.raw.value
            ),
        );
        let mut u = url.clone();
        if u.set_scheme("http").is_ok() && u.set_host(Some("127.0.0.1")).is_ok() {
            let fixed = oc::canonical(&u);
            rep.fix(
                "replace",
                &r.raw.path,
                Some(json!(fixed)),
                format!("use `{fixed}`"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::support::testing::{fix_value, uri, vet, with_uris};

    #[test]
    fn localhost_becomes_the_loopback_ip() {
        let f = vet(&with_uris("native", &["http://localhost:8080/cb"]));
        assert_eq!(
            fix_value(&f, &super::RULE).unwrap(),
            serde_json::json!("http://127.0.0.1:8080/cb")
        );
        assert_eq!(uri("native", "http://LOCALHOST/cb", &super::RULE).len(), 1);
        assert!(uri("native", "http://127.0.0.1/cb", &super::RULE).is_empty());
        // In a web app localhost is a foreign host over http instead.
        assert!(uri("web", "http://localhost/cb", &super::RULE).is_empty());
        assert_eq!(
            uri(
                "web",
                "http://localhost/cb",
                &crate::rules::oauth_redirect_https::RULE
            )
            .len(),
            1
        );
        assert_eq!(
            uri(
                "web",
                "http://localhost/cb",
                &crate::rules::oauth_redirect_host::RULE
            )
            .len(),
            1
        );
    }
}
