//! MV-OAUTH-025 redirect-uri-private-scheme
use super::oauth_client as oc;
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-025",
    name: "redirect-uri-private-scheme",
    category: Category::Oauth,
    severity: Severity::Medium,
    summary: "a native app's private-use URI scheme is not a reverse domain name or has an authority",
    what: "For native apps, each redirect URI with a scheme other than `http`/`https`: the scheme must be a reverse domain name containing a dot (`com.example.app`), and the URI must have no authority (`com.example.app:/callback`, one slash; not `com.example.app://callback`).",
    why: "Any app can register any scheme; a single-word scheme (`myapp:`) is claimed by the first app that asks, which then receives the authorization code. The reverse-domain convention ties the scheme to a domain the publisher controls, and the authority form is ambiguous across platforms.",
    example: "client:\n  application_type: native\n  redirect_uris: [\"myapp://callback\", \"com.example.app://callback\"]",
    fix: "Use `com.<your-domain-reversed>.<app>:/callback`; the fix rewrites `scheme://host/path` to `scheme:/host/path`.",
    references: &[
        "RFC 8252 §7.1 (private-use URI scheme redirection), §8.4",
        "OAuth 2.1 draft §8 (native applications: private-use URI schemes)",
        "RFC 7595 §3.8 (reverse domain name schemes)",
    ],
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    if !oc::is_native(c) {
        return;
    }
    for r in cx.redirects() {
        let Some(url) = r.sound() else { continue };
        let scheme = url.scheme();
        if matches!(scheme, "http" | "https") {
            continue;
        }
        let dotted = scheme.contains('.');
        if !dotted {
            out.at(
                r.raw,
                format!(
                    "private-use scheme `{scheme}` is not a reverse domain name (e.g. `com.example.{scheme}`): any app can claim it"
                ),
            );
        }
        if url.has_authority() {
            let rep = out.at(
                r.raw,
                format!(
                    "redirect URI `{}` has an authority: private-use scheme URIs take one slash (`{scheme}:/path`)",
                    r.raw.value
                ),
            );
            if dotted {
                let canonical = oc::canonical(url);
                let rest = canonical
                    .get(scheme.len() + 1..)
                    .unwrap_or("")
                    .trim_start_matches('/');
                let fixed = format!("{scheme}:/{rest}");
                if url::Url::parse(&fixed).is_ok_and(|u| !u.has_authority()) {
                    rep.fix(
                        "replace",
                        &r.raw.path,
                        Some(json!(fixed)),
                        format!("use `{fixed}`"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::oauth_client::testing::{fix_value, uri, vet, with_uris};

    #[test]
    fn reverse_domain_and_one_slash() {
        assert_eq!(uri("native", "myapp:/cb", "MV-OAUTH-025").len(), 1);
        assert_eq!(uri("native", "myapp://cb", "MV-OAUTH-025").len(), 2);
        assert!(uri("native", "com.example.app:/cb", "MV-OAUTH-025").is_empty());
        let f = vet(&with_uris(
            "native",
            &["com.example.notes://callback/x?y=1"],
        ));
        assert_eq!(
            fix_value(&f, "MV-OAUTH-025").unwrap(),
            serde_json::json!("com.example.notes:/callback/x?y=1")
        );
        // Web apps have no business with private schemes: that is MV-OAUTH-020.
        assert!(uri("web", "myapp:/cb", "MV-OAUTH-025").is_empty());
        assert_eq!(uri("web", "com.example.app:/cb", "MV-OAUTH-020").len(), 1);
    }

    #[test]
    fn scheme_under_the_organisation() {
        assert!(uri("native", "com.example.app:/cb", "MV-OAUTH-026").is_empty());
        assert!(uri("native", "com.example:/cb", "MV-OAUTH-026").is_empty());
        assert_eq!(
            uri("native", "com.examplex.app:/cb", "MV-OAUTH-026").len(),
            1
        );
        assert_eq!(uri("native", "org.other.app:/cb", "MV-OAUTH-026").len(), 1);
    }
}
