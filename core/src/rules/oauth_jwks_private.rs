//! MV-OAUTH-033 jwks-private-key
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-033",
    name: "jwks-private-key",
    category: Category::Oauth,
    severity: Severity::Critical,
    summary: "the inline `jwks` holds private or symmetric key material",
    what: "Each key of an inline `jwks` (`{keys: [...]}`) for the members that only private or symmetric keys have: `d` (RSA, EC, OKP private key), `p`, `q`, `dp`, `dq`, `qi`, `oth` (RSA private key parts), `k` (a symmetric `oct` key). Member names are compared ASCII case-insensitively (a lenient library reads `D` as `d`). A `jwks` given as JSON text in a string is read the same way (its findings point at `jwks`); a `jwks` that cannot be read, or `keys` that is not a list of mappings, is MV-SCHEMA-002.",
    why: "Client metadata is public: the authorization server stores it, returns it from the registration endpoint, and shows it to administrators. A `jwks` with `d` is the client's literal private key, so anyone who reads the registration can sign `private_key_jwt` assertions and request objects as the client. RFC 7517 §9.2 and RFC 7591 §2 expect public keys only in client metadata.",
    example: "client:\n  token_endpoint_auth_method: private_key_jwt\n  jwks:\n    keys:\n      - {kty: EC, crv: P-256, x: \"...\", y: \"...\", d: \"...\"}",
    fix: "Rotate the key (it is compromised), keep the private key in a vault, and register only the public members (`kty`, `crv`, `x`, `y` or `n`, `e`, `kid`, `use`, `alg`) or a `jwks_uri`. The fix removes the private member.",
    references: &[
        "RFC 7591 §2 (`jwks`: the client's public keys)",
        "RFC 7517 §9.2 (private key members must be protected)",
        "RFC 7518 §6.2.2, §6.3.2, §6.4.1 (private and symmetric key parameters); RFC 8037 §2",
        "Micro Apps, Macro Risk (2026): no secrets in the manifest",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let Some(jwks) = &c.jwks else { return };
    for m in &jwks.private_members {
        let what = if m.value.trim().eq_ignore_ascii_case("k") {
            "a symmetric key (`k`)"
        } else {
            "private key material"
        };
        out.at(
            m,
            format!(
                "inline `jwks` contains {what} in member `{}`: client metadata is public, so this key is compromised",
                m.value
            ),
        )
        .fix(
            "remove",
            &m.path,
            None,
            format!("remove the private member `{}` (and rotate the key)", m.value),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::support::testing::{manifest, of, vet, vet_dcr};

    #[test]
    fn private_members_of_inline_keys() {
        let m = manifest(
            "  token_endpoint_auth_method: private_key_jwt\n  jwks:\n    keys:\n      - {kty: EC, crv: P-256, x: abc, y: def}\n      - {kty: RSA, n: abc, e: AQAB, d: s3cr3t, p: s3, q: cr}\n",
        );
        let f = vet(&m);
        let got = of(&f, &super::RULE);
        let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/client/jwks/keys/1/d",
                "/client/jwks/keys/1/p",
                "/client/jwks/keys/1/q"
            ]
        );
        // The message names the member, never its value.
        assert!(got.iter().all(|(_, msg)| !msg.contains("s3")), "{got:?}");
        let public = manifest(
            "  token_endpoint_auth_method: private_key_jwt\n  jwks: {keys: [{kty: EC, crv: P-256, x: abc, y: def}]}\n",
        );
        assert!(of(&vet(&public), &super::RULE).is_empty());
        let f = vet_dcr(
            r#"{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}}"#,
        );
        assert_eq!(of(&f, &super::RULE)[0].0, "/jwks/keys/0/k");
        // The same set as JSON text in a string; a member name in another case.
        let text = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"abc","y":"def","D":"s3cr3t"}]}"#;
        let m = manifest(&format!(
            "  token_endpoint_auth_method: private_key_jwt\n  jwks: {}\n",
            serde_json::to_string(text).unwrap()
        ));
        let got = of(&vet(&m), &super::RULE);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "/client/jwks");
        assert!(!got[0].1.contains("s3cr3t"));
        // A wrong shape is a schema finding, not silence: `jwks` grants access (it is the
        // client's credential), so a value that cannot be read blocks (MV-SCHEMA-004).
        let f = vet(&manifest("  jwks: \"not json\"\n"));
        assert_eq!(
            of(&f, &crate::rules::schema_access_uninterpretable::RULE)[0].0,
            "/client/jwks"
        );
        let f = vet(&manifest("  jwks: [abc]\n"));
        assert_eq!(
            of(&f, &crate::rules::schema_access_uninterpretable::RULE)[0].0,
            "/client/jwks"
        );
        let f = vet(&manifest("  jwks: {keys: [abc]}\n"));
        assert_eq!(
            of(&f, &crate::rules::schema_access_uninterpretable::RULE)[0].0,
            "/client/jwks/keys/0"
        );
    }
}
