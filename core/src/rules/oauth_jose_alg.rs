//! MV-OAUTH-035 jose-alg-weak
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-035",
    name: "jose-alg-weak",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "a JOSE algorithm in the client metadata is `none`, `RSA1_5`, or not understood",
    what: "The signing algorithms (`id_token_signed_response_alg`, `userinfo_signed_response_alg`, `request_object_signing_alg`, `token_endpoint_auth_signing_alg`, `authorization_signed_response_alg`, `introspection_signed_response_alg`) must not be `none`; the key-management algorithms (`id_token_encrypted_response_alg`, `userinfo_encrypted_response_alg`, `request_object_encryption_alg`, `authorization_encrypted_response_alg`, `introspection_encrypted_response_alg`) must not be `RSA1_5`. Compared ASCII case-insensitively (`NONE` is `none`); a value that is not a registered JWS or JWE algorithm is reported too, since a gate cannot vet what it does not understand.",
    why: "`none` means an unsigned JWT: anyone can forge the ID token, the request object or the client assertion, and libraries that honour the header's `alg` accept it. RSA1_5 (RSAES-PKCS1-v1_5) is open to padding-oracle attacks (Bleichenbacher) that recover the content-encryption key. RFC 8725 §3.1-§3.2 tells applications to reject `none` unless the JWT is otherwise protected and to avoid RSA1_5; RFC 7518 §4.2 lists RSA1_5 as Recommended- with the same warning.",
    example: "client:\n  id_token_signed_response_alg: none\n  userinfo_encrypted_response_alg: RSA1_5",
    fix: "Sign with an asymmetric algorithm (`ES256`, `PS256`, `RS256`, `EdDSA`) and encrypt with `RSA-OAEP-256` or `ECDH-ES`; the fix sets `RS256` for `none` (the OIDC default for ID tokens) and `RSA-OAEP-256` for `RSA1_5`.",
    references: &[
        "RFC 8725 §3.1 (perform algorithm verification), §3.2 (use appropriate algorithms)",
        "RFC 7518 §3.1 (JWS `alg` values), §4.1, §4.2 (RSA1_5: Recommended-, RFC 3218)",
        "OpenID Connect Dynamic Client Registration 1.0 §2 (the `*_alg` metadata)",
        "OpenID Connect Core 1.0 §6.1 (request objects), RFC 9101 §10.5",
    ],
    relational: false,
    check,
};

/// Registered JWS algorithms (RFC 7518 §3.1, RFC 8037, RFC 8812, RFC 9864) and `none`.
const JWS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "ES256K",
    "PS256", "PS384", "PS512", "EdDSA", "Ed25519", "Ed448",
];
/// Registered JWE key-management algorithms (RFC 7518 §4.1).
const JWE: &[&str] = &[
    "RSA1_5",
    "RSA-OAEP",
    "RSA-OAEP-256",
    "RSA-OAEP-384",
    "RSA-OAEP-512",
    "A128KW",
    "A192KW",
    "A256KW",
    "dir",
    "ECDH-ES",
    "ECDH-ES+A128KW",
    "ECDH-ES+A192KW",
    "ECDH-ES+A256KW",
    "A128GCMKW",
    "A192GCMKW",
    "A256GCMKW",
    "PBES2-HS256+A128KW",
    "PBES2-HS384+A192KW",
    "PBES2-HS512+A256KW",
];

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    // A field present but not a string (a list, a number): not understood.
    for field in crate::manifest::ALG_FIELDS {
        if let Some(node) = oc::raw_field(cx, field)
            && node.as_str().is_none()
        {
            out.report(
                &oc::field(c, field),
                Some(node.line),
                format!("`{field}` is not an algorithm name: it cannot be vetted"),
            );
        }
    }
    for a in &c.algs {
        let field = a.path.rsplit('/').next().unwrap_or("");
        let signing = field.ends_with("_signed_response_alg") || field.ends_with("_signing_alg");
        let v = a.value.trim();
        if signing && v.eq_ignore_ascii_case("none") {
            out.at(
                a,
                format!(
                    "`{field}` is `{}`: the JWT is unsigned and anyone can forge it",
                    a.value
                ),
            )
            .fix(
                "replace",
                &a.path,
                Some(json!("RS256")),
                "sign with `RS256`",
            );
        } else if !signing && v.eq_ignore_ascii_case("RSA1_5") {
            out.at(
                a,
                format!(
                    "`{field}` is `{}`: RSAES-PKCS1-v1_5 is open to padding-oracle attacks",
                    a.value
                ),
            )
            .fix(
                "replace",
                &a.path,
                Some(json!("RSA-OAEP-256")),
                "encrypt with `RSA-OAEP-256`",
            );
        } else {
            let known = if signing { JWS } else { JWE };
            if !known.iter().any(|k| k.eq_ignore_ascii_case(v)) {
                let kind = if signing {
                    "a JWS signing algorithm"
                } else {
                    "a JWE key-management algorithm"
                };
                out.at(
                    a,
                    format!(
                        "`{field}` `{}` is not {kind} microvet understands: it cannot be vetted",
                        a.value
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::support::testing::{fix_value, manifest, of, vet, vet_dcr};

    fn alg(field: &str, value: &str) -> usize {
        of(
            &vet(&manifest(&format!(
                "  {field}: {}\n",
                serde_json::to_string(value).unwrap_or_default()
            ))),
            &super::RULE,
        )
        .len()
    }

    #[test]
    fn none_rsa1_5_and_unknown_algorithms() {
        for f in [
            "id_token_signed_response_alg",
            "userinfo_signed_response_alg",
            "request_object_signing_alg",
            "token_endpoint_auth_signing_alg",
        ] {
            for v in ["none", "NONE", " None "] {
                assert_eq!(alg(f, v), 1, "{f} {v}");
            }
            assert_eq!(alg(f, "RS256"), 0, "{f}");
            assert_eq!(alg(f, "ES256"), 0, "{f}");
            assert_eq!(alg(f, "RS257"), 1, "{f}");
            assert_eq!(alg(f, ""), 1, "{f}");
        }
        for f in [
            "id_token_encrypted_response_alg",
            "userinfo_encrypted_response_alg",
            "request_object_encryption_alg",
        ] {
            assert_eq!(alg(f, "RSA1_5"), 1, "{f}");
            assert_eq!(alg(f, "rsa1_5"), 1, "{f}");
            assert_eq!(alg(f, "RSA-OAEP-256"), 0, "{f}");
            assert_eq!(alg(f, "none"), 1, "{f}");
        }
        let f = vet_dcr(
            r#"{"redirect_uris":["https://apps.example.com/cb"],"id_token_signed_response_alg":"none","userinfo_encrypted_response_alg":"RSA1_5"}"#,
        );
        let got = of(&f, &super::RULE);
        assert_eq!(got[0].0, "/id_token_signed_response_alg");
        assert_eq!(got[1].0, "/userinfo_encrypted_response_alg");
        assert_eq!(
            fix_value(&f, &super::RULE),
            Some(serde_json::json!("RS256"))
        );
    }
}
