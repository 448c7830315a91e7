//! MV-OAUTH-021 redirect-uri-foreign-host
use super::prelude::*;
use super::support::oauth_client as oc;
use url::Host;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-021",
    name: "redirect-uri-foreign-host",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "a redirect URI sends codes to a host outside the organisation's domains",
    what: "The host of each `http`/`https` redirect URI *after WHATWG parsing* (percent-decoding, case folding, `。` and fullwidth forms mapped, Unicode labels as `xn--` A-labels; a Unicode host that cannot be mapped without doubt is MV-OAUTH-019's) must be one of the policy's `organisation.domains` or a subdomain. Suffix tricks (`apps.example.com.evil.io`), userinfo tricks (`apps.example.com@evil.io`), encoded dots (`apps.example.com%2eevil.io`) and homographs (`exаmple.com` with a Cyrillic `а`, shown as `xn--...` and in Unicode) are judged by the host the browser actually visits. No DNS lookups. Native apps' loopback hosts are exempt.",
    why: "Whoever runs the redirect host receives the authorization code (and, with PKCE missing or leaked, the tokens). Micro apps are hosted by the organisation; a callback elsewhere is a data flow to a third party that was never reviewed.",
    example: "client:\n  redirect_uris: [https://apps.example.com.evil.io/callback]",
    fix: "Host the callback under one of the organisation's domains.",
    references: &[
        "RFC 9700 §4.1 (insufficient redirect URI validation)",
        "RFC 6749 §10.6 (authorization code redirection URI manipulation)",
        "RFC 8252 §7.2 (claimed https redirects)",
        "WHATWG URL §3.5 (host parsing: percent-decoding, IDNA)",
        "policy key `organisation.domains`",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let native = oc::is_native(c);
    for r in cx.redirects() {
        let Some(url) = r.sound() else { continue };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let Some(host) = url.host() else { continue };
        let Host::Domain(domain) = host else { continue };
        if native && oc::is_localhost(&host) {
            continue;
        }
        if super::support::matching::is_org_domain(cx.policy, domain) {
            continue;
        }
        out.at(
            r.raw,
            format!(
                "redirect URI `{}` sends codes to host {}, outside the organisation's domains ({})",
                r.raw.value,
                oc::show_host(domain),
                oc::org_domains(cx)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::support::testing::uri;

    fn host(u: &str) -> Vec<String> {
        uri("web", u, &super::RULE)
    }

    #[test]
    fn suffix_trick_reports_the_real_host() {
        let m = host("https://apps.example.com.evil.io/callback");
        assert_eq!(m.len(), 1);
        assert!(m[0].contains("host `apps.example.com.evil.io`"), "{m:?}");
        assert_eq!(host("https://notexample.com/cb").len(), 1);
    }

    #[test]
    fn userinfo_trick_goes_to_the_host_after_the_at() {
        let m = host("https://apps.example.com@evil.io/callback");
        assert!(m[0].contains("host `evil.io`"), "{m:?}");
    }

    #[test]
    fn encoded_and_unicode_dots_are_read_as_dots() {
        let m = host("https://apps.example.com%2eevil.io/cb");
        assert!(m[0].contains("host `apps.example.com.evil.io`"), "{m:?}");
        // U+3002 IDEOGRAPHIC FULL STOP is a label separator in IDNA.
        let m = host("https://apps.example.com\u{3002}evil.io/cb");
        assert!(m[0].contains("host `apps.example.com.evil.io`"), "{m:?}");
    }

    #[test]
    fn homographs_are_shown_in_both_forms() {
        let m = host("https://ex\u{430}mple.com/cb");
        assert!(
            m[0].contains("host `xn--exmple-4nf.com` (`ex\u{430}mple.com`)"),
            "{m:?}"
        );
        let m = host("https://xn--exmple-cua.com/cb");
        assert!(
            m[0].contains("`xn--exmple-cua.com` (`ex\u{e4}mple.com`)"),
            "{m:?}"
        );
    }

    #[test]
    fn normalised_organisation_hosts_pass() {
        for u in [
            "https://apps.example.com./cb",
            "https://%61pps.example.com/cb",
            "https://APPS.EXAMPLE.COM/cb",
            "https://\u{ff41}pps.example.com/cb",
            "https://example.com/cb",
        ] {
            assert!(host(u).is_empty(), "{u}");
        }
        // Loopback of a native app is not a foreign host (MV-OAUTH-024 covers localhost).
        assert!(uri("native", "http://localhost:8080/cb", &super::RULE).is_empty());
    }
}
