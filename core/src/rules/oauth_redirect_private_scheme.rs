//! MV-OAUTH-025 redirect-uri-private-scheme
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-025",
    name: "redirect-uri-private-scheme",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "a native app's private-use URI scheme is not a reverse domain name",
    what: "For native apps, each redirect URI with a scheme other than `http`/`https`: the scheme must be a reverse domain name, so it contains a dot (`com.example.app`). (The one-slash form is MV-OAUTH-037; a scheme outside the organisation's domains is MV-OAUTH-026; the out-of-band value is MV-OAUTH-031.)",
    why: "RFC 8252 §7.1: apps MUST use a URI scheme based on a domain name under their control, in reverse order; \"a scheme such as `myapp` would not meet this requirement\". Any app can register any scheme, and a single-word scheme is claimed by whichever app asks the operating system first, which then receives the authorization code. A MUST of the native-app profile: high.",
    example: "client:\n  application_type: native\n  redirect_uris: [\"myapp:/callback\"]",
    fix: "Use `com.<your-domain-reversed>.<app>:/callback`, or a claimed https redirect (RFC 8252 §7.2).",
    references: &[
        "RFC 8252 §7.1 (private-use URI scheme redirection: MUST be based on a domain name under the app's control), §8.6",
        "OAuth 2.1 draft §8 (native applications: private-use URI schemes)",
        "RFC 7595 §3.8 (reverse domain name schemes)",
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
        let scheme = url.scheme();
        if matches!(scheme, "http" | "https") || scheme.contains('.') {
            continue;
        }
        out.at(
            r.raw,
            format!(
                "private-use scheme `{scheme}` is not a reverse domain name (e.g. `com.example.{scheme}`): RFC 8252 §7.1 requires one, since any app can claim a single-word scheme"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::support::testing::{fix_value, uri, vet, with_uris};

    #[test]
    fn reverse_domain_and_one_slash() {
        assert_eq!(uri("native", "myapp:/cb", &super::RULE).len(), 1);
        assert_eq!(uri("native", "myapp://cb", &super::RULE).len(), 1);
        assert_eq!(
            uri(
                "native",
                "myapp://cb",
                &crate::rules::oauth_redirect_private_scheme_authority::RULE
            )
            .len(),
            1
        );
        assert!(uri("native", "com.example.app:/cb", &super::RULE).is_empty());
        assert!(
            uri(
                "native",
                "com.example.app:/cb",
                &crate::rules::oauth_redirect_private_scheme_authority::RULE
            )
            .is_empty()
        );
        let f = vet(&with_uris(
            "native",
            &["com.example.notes://callback/x?y=1"],
        ));
        assert_eq!(
            fix_value(
                &f,
                &crate::rules::oauth_redirect_private_scheme_authority::RULE
            )
            .unwrap(),
            serde_json::json!("com.example.notes:/callback/x?y=1")
        );
        // RFC 8252 §7.1 grades: the reverse domain name is a MUST (high), the one-slash
        // form a consequence of RFC 3986 §3.2 (medium).
        let f = vet(&with_uris("native", &["myapp://cb"]));
        let sev = |r: &crate::rules::Rule| {
            f.iter()
                .find(|x| x.rule == r.id)
                .map(|x| x.severity.as_str())
        };
        assert_eq!(sev(&super::RULE), Some("high"));
        assert_eq!(
            sev(&crate::rules::oauth_redirect_private_scheme_authority::RULE),
            Some("medium")
        );
        // Web apps have no business with private schemes: that is MV-OAUTH-020.
        assert!(uri("web", "myapp:/cb", &super::RULE).is_empty());
        assert_eq!(
            uri(
                "web",
                "com.example.app:/cb",
                &crate::rules::oauth_redirect_https::RULE
            )
            .len(),
            1
        );
    }

    #[test]
    fn scheme_under_the_organisation() {
        assert!(
            uri(
                "native",
                "com.example.app:/cb",
                &crate::rules::oauth_redirect_scheme_owner::RULE
            )
            .is_empty()
        );
        assert!(
            uri(
                "native",
                "com.example:/cb",
                &crate::rules::oauth_redirect_scheme_owner::RULE
            )
            .is_empty()
        );
        assert_eq!(
            uri(
                "native",
                "com.examplex.app:/cb",
                &crate::rules::oauth_redirect_scheme_owner::RULE
            )
            .len(),
            1
        );
        assert_eq!(
            uri(
                "native",
                "org.other.app:/cb",
                &crate::rules::oauth_redirect_scheme_owner::RULE
            )
            .len(),
            1
        );
    }
}
