//! MV-OAUTH-006 pkce-missing
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-006",
    name: "pkce-missing",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "a public client runs the code flow without PKCE",
    what: "A public client (`token_endpoint_auth_method: none`, including browser apps, or `application_type: native`) with the `authorization_code` grant (the default) and no `code_challenge_method`. A DCR request cannot express PKCE (RFC 7591 has no such metadata), so for `--dcr` input the `pkce_required` control asks the authorization server to enforce it instead.",
    why: "A public client cannot authenticate at the token endpoint, so a stolen or injected authorization code is as good as a token. PKCE binds the code to the client instance that asked for it. RFC 9700 says public clients MUST use PKCE; the fix in Micro Apps, Macro Risk (2026) is PKCE S256 for public clients.",
    example: "client:\n  token_endpoint_auth_method: none\n  grant_types: [authorization_code]",
    fix: "Add `code_challenge_method: S256` (the fix adds it) and send a fresh code verifier per request (`microvet pkce` makes one).",
    references: &[
        "RFC 9700 §2.1.1 (authorization code grant: PKCE)",
        "RFC 7636 §4 (protocol), §7.2 (S256)",
        "RFC 8252 §8.1 (native apps MUST use PKCE)",
        "OAuth 2.1 draft §4.1.1 (code_challenge REQUIRED)",
        "Micro Apps, Macro Risk (2026): PKCE S256 for public clients",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    if cx.dcr || !oc::is_public(c) || !oc::code_flow(c) || c.code_challenge_method.is_some() {
        return;
    }
    let msg = format!(
        "{} uses the authorization code flow without PKCE",
        oc::public_reason(c)
    );
    let r = match (&c.token_endpoint_auth_method, &c.application_type) {
        (Some(m), _) if oc::auth_none(c) => out.at(m, msg),
        (_, Some(t)) => out.at(t, msg),
        _ => out.report(&oc::field(c, "code_challenge_method"), Some(c.line), msg),
    };
    r.fix(
        "add",
        &oc::field(c, "code_challenge_method"),
        Some(json!("S256")),
        "add `code_challenge_method: S256`",
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::support::testing::{fix_value, manifest, of, vet, vet_dcr};

    #[test]
    fn spa_with_s256_is_a_browser_app_and_fine() {
        let f = vet(&manifest(
            "  application_type: web\n  token_endpoint_auth_method: none\n  grant_types: [authorization_code]\n  response_types: [code]\n  redirect_uris: [https://apps.example.com/cb]\n  code_challenge_method: S256\n",
        ));
        assert!(f.iter().all(|x| !x.rule.starts_with("MV-OAUTH")), "{f:?}");
    }

    #[test]
    fn public_and_native_clients_need_pkce() {
        let f = vet(&manifest(
            "  token_endpoint_auth_method: none\n  redirect_uris: [https://apps.example.com/cb]\n",
        ));
        assert_eq!(of(&f, &super::RULE).len(), 1);
        assert_eq!(
            fix_value(&f, &super::RULE).unwrap(),
            serde_json::json!("S256")
        );
        let f = vet(&manifest(
            "  application_type: native\n  token_endpoint_auth_method: private_key_jwt\n  redirect_uris: [com.example.app:/cb]\n",
        ));
        assert_eq!(of(&f, &super::RULE)[0].0, "/client/application_type");
        assert!(of(&f, &crate::rules::oauth_pkce_confidential::RULE).is_empty());
    }

    #[test]
    fn dcr_cannot_express_pkce_so_the_control_covers_it() {
        let f = vet_dcr(
            r#"{"redirect_uris":["https://apps.example.com/cb"],"token_endpoint_auth_method":"none"}"#,
        );
        assert!(of(&f, &super::RULE).is_empty());
        let f = vet_dcr(
            r#"{"redirect_uris":["https://apps.example.com/cb"],"token_endpoint_auth_method":"none","code_challenge_method":"plain"}"#,
        );
        assert_eq!(
            of(&f, &crate::rules::oauth_pkce_method::RULE)[0].0,
            "/code_challenge_method"
        );
    }
}
