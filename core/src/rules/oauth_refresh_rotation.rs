//! MV-OAUTH-013 refresh-token-not-rotated
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-013",
    name: "refresh-token-not-rotated",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "a public client gets refresh tokens that are neither rotated nor sender-constrained",
    what: "A public client (`none` or native) with the `refresh_token` grant whose `refresh_token_rotation` is not `true` and whose tokens are not sender-constrained (`dpop_bound_access_tokens: true`, RFC 9449 §5.2, or `tls_client_certificate_bound_access_tokens: true`, RFC 8705 §3.4: a public client's refresh tokens are then bound to its key or certificate). For `--dcr` input only an explicit `false` is reported (RFC 7591 has no rotation metadata; the `refresh_token` control asks the server to rotate or bind).",
    why: "A public client's refresh token is a bearer credential that lives in a browser or on a device; stolen, it mints access tokens for weeks. RFC 9700 requires public clients' refresh tokens to be sender-constrained (DPoP, mTLS: useless without the client's private key) or rotated (one-time use, so reuse by an attacker is detected and the family revoked). Micro Apps, Macro Risk (2026): rotate refresh tokens or disable them.",
    example: "client:\n  token_endpoint_auth_method: none\n  grant_types: [authorization_code, refresh_token]\n  refresh_token_rotation: false",
    fix: "Set `refresh_token_rotation: true` (the fix sets it), or bind the tokens with `dpop_bound_access_tokens: true`, or drop the `refresh_token` grant.",
    references: &[
        "RFC 9700 §4.14.2 (refresh tokens of public clients: sender-constrained or rotated)",
        "RFC 9449 §5 (DPoP-bound refresh tokens of public clients), §5.2 (`dpop_bound_access_tokens`)",
        "RFC 8705 §3.4 (`tls_client_certificate_bound_access_tokens`), §4 (certificate-bound refresh tokens of public clients)",
        "OAuth 2.1 draft §4.3 (refresh token grant: rotation for public clients)",
        "Micro Apps, Macro Risk (2026): rotate refresh tokens or disable them for micro apps",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    if !oc::is_public(c) || oc::sender_constrained(c).is_some() {
        return;
    }
    let Some(g) = oc::grant_item(c, "refresh_token") else {
        return;
    };
    let who = oc::public_reason(c);
    match &c.refresh_token_rotation {
        Some(r) if r.value => {}
        Some(r) => out
            .at(
                r,
                format!("refresh tokens of this {who} are neither rotated nor sender-constrained: a stolen one stays usable"),
            )
            .fix(
                "replace",
                &r.path,
                Some(json!(true)),
                "set `refresh_token_rotation: true`",
            ),
        None if cx.dcr => {}
        None => out
            .at(
                g,
                format!(
                    "{who} gets refresh tokens but declares neither `refresh_token_rotation: true` nor sender-constrained tokens (`dpop_bound_access_tokens: true`)"
                ),
            )
            .fix(
                "add",
                &oc::field(c, "refresh_token_rotation"),
                Some(json!(true)),
                "add `refresh_token_rotation: true`",
            ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::support::testing::{manifest, of, vet, vet_dcr};

    const PUBLIC: &str = "  token_endpoint_auth_method: none\n  code_challenge_method: S256\n  redirect_uris: [https://apps.example.com/cb]\n  grant_types: [authorization_code, refresh_token]\n";

    #[test]
    fn sender_constrained_tokens_are_the_alternative_to_rotation() {
        assert_eq!(of(&vet(&manifest(PUBLIC)), &super::RULE).len(), 1);
        for extra in [
            "  dpop_bound_access_tokens: true\n",
            "  tls_client_certificate_bound_access_tokens: true\n",
            "  refresh_token_rotation: true\n",
            "  refresh_token_rotation: false\n  dpop_bound_access_tokens: true\n",
        ] {
            let m = manifest(&format!("{PUBLIC}{extra}"));
            assert!(of(&vet(&m), &super::RULE).is_empty(), "{extra}");
        }
        let m = manifest(&format!("{PUBLIC}  dpop_bound_access_tokens: false\n"));
        assert_eq!(of(&vet(&m), &super::RULE).len(), 1);
        let dcr = r#"{"redirect_uris":["https://apps.example.com/cb"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"refresh_token_rotation":false,"dpop_bound_access_tokens":true}"#;
        assert!(of(&vet_dcr(dcr), &super::RULE).is_empty());
        assert_eq!(
            of(&vet_dcr(&dcr.replace("true}", "false}")), &super::RULE).len(),
            1
        );
    }
}
