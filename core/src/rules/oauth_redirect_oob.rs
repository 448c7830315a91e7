//! MV-OAUTH-031 redirect-uri-out-of-band
use super::prelude::*;
use super::support::oauth_client::{self as oc, Hard};

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-031",
    name: "redirect-uri-out-of-band",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "a redirect URI is the out-of-band value `urn:ietf:wg:oauth:2.0:oob`",
    what: "A redirect URI equal to `urn:ietf:wg:oauth:2.0:oob` or `urn:ietf:wg:oauth:2.0:oob:auto` (ASCII case-insensitive, whitespace ignored). It is not a private-use URI scheme and no other redirect rule looks at it.",
    why: "The out-of-band value is not a redirect at all: the authorization server shows the authorization code on a page and the user copies it into the app. Nothing ties the code to the app that started the flow, so a phishing page can ask the user to paste it (consent phishing), and the code sits in the clipboard and the window title. RFC 8252 §7 lists exactly three redirect options for native apps (private-use scheme, claimed https, loopback); Google blocked the OOB flow for all clients in 2022-23. Micro apps that copy a years-old tutorial still register it.",
    example: "client:\n  application_type: native\n  redirect_uris: [\"urn:ietf:wg:oauth:2.0:oob\"]",
    fix: "Use a loopback redirect (`http://127.0.0.1/callback`; the app listens on an ephemeral port, RFC 8252 §7.3) or a claimed https redirect under the organisation's domains (§7.2). For native apps the fix replaces the value with the loopback form.",
    references: &[
        "RFC 8252 §7 (the three redirect URI options of native apps), §7.2, §7.3",
        "RFC 9700 §4.1 (redirect URI validation)",
        "Google: out-of-band (OOB) flow migration (blocked for all clients, 2023)",
    ],
    relational: false,
    check,
};

/// The loopback redirect a native app uses instead (RFC 8252 §7.3: any port at request time).
const LOOPBACK: &str = "http://127.0.0.1/callback";

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let native = oc::client(cx).is_some_and(oc::is_native);
    for r in cx.redirects() {
        if r.hard != Some(Hard::OutOfBand) {
            continue;
        }
        let instead = if native {
            "use a loopback (`http://127.0.0.1/callback`) or a claimed https redirect"
        } else {
            "register the app's https callback"
        };
        let msg = format!(
            "redirect URI `{}` is the out-of-band value: the code is shown to the user to copy, not redirected to the app; {instead}",
            r.raw.value
        );
        let rep = out.at(r.raw, msg);
        if native {
            rep.fix(
                "replace",
                &r.raw.path,
                Some(json!(LOOPBACK)),
                format!("use the loopback redirect `{LOOPBACK}` (any port, RFC 8252 §7.3)"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::support::testing::{fix_value, uri, vet, with_uris};

    #[test]
    fn out_of_band_is_not_a_private_scheme() {
        for u in [
            "urn:ietf:wg:oauth:2.0:oob",
            "urn:ietf:wg:oauth:2.0:oob:auto",
            "URN:IETF:WG:OAUTH:2.0:OOB",
            " urn:ietf:wg:oauth:2.0:oob\t",
        ] {
            assert_eq!(uri("native", u, &super::RULE).len(), 1, "{u}");
            let web = uri("web", u, &super::RULE);
            assert_eq!(web.len(), 1, "{u}");
            assert!(!web[0].contains("loopback"), "{web:?}");
            for other in [
                &crate::rules::oauth_redirect_https::RULE,
                &crate::rules::oauth_redirect_private_scheme::RULE,
                &crate::rules::oauth_redirect_scheme_owner::RULE,
                &crate::rules::oauth_redirect_malformed::RULE,
            ] {
                assert!(uri("native", u, other).is_empty(), "{u} {}", other.id);
                assert!(uri("web", u, other).is_empty(), "{u} {}", other.id);
            }
        }
        let f = vet(&with_uris("native", &["urn:ietf:wg:oauth:2.0:oob"]));
        assert_eq!(
            fix_value(&f, &super::RULE).unwrap(),
            serde_json::json!("http://127.0.0.1/callback")
        );
        // The replacement is accepted by every redirect rule of a native app.
        let fixed = vet(&with_uris("native", &["http://127.0.0.1/callback"]));
        assert!(
            !fixed
                .iter()
                .any(|x| x.rule.starts_with("MV-OAUTH-0")
                    && x.path.starts_with("/client/redirect_uris")),
            "{fixed:?}"
        );
        assert!(uri("native", "urn:ietf:wg:oauth:2.0:oobx", &super::RULE).is_empty());
    }
}
