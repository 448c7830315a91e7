//! MV-OAUTH-032 jwks-uri-not-https
use super::prelude::*;
use super::support::oauth_client::{self as oc, Hard};

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-032",
    name: "jwks-uri-not-https",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "the client's `jwks_uri` is not an https URL",
    what: "`jwks_uri` must be an absolute `https` URL as a browser or HTTP client reads it (no wildcard, whitespace, backslash or missing slashes; scheme and host case-insensitive). Anything else, including an unparseable value, is reported.",
    why: "The key set at `jwks_uri` is the client's credential: the authorization server verifies `private_key_jwt` assertions and self-signed mTLS certificates (RFC 8705 §2.2) and signed request objects against it. Fetched over plain http, anyone on the path can swap in their own keys and authenticate as the client. RFC 7591 §2 requires the referenced key set to be retrieved over TLS; OIDC Registration §2 says the same of `jwks_uri`.",
    example: "client:\n  token_endpoint_auth_method: private_key_jwt\n  jwks_uri: http://apps.example.com/jwks.json",
    fix: "Serve the key set over https (the fix rewrites `http` to `https` when the host is a domain name).",
    references: &[
        "RFC 7591 §2 (`jwks_uri`: the key set is the client's credential)",
        "OpenID Connect Dynamic Client Registration 1.0 §2 (`jwks_uri`)",
        "RFC 8705 §2.2 (self-signed certificate mutual TLS: the client's keys from `jwks_uri`)",
        "RFC 7523 §3 (JWT client authentication)",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let Some(raw) = &c.jwks_uri else { return };
    let a = oc::analyse(raw);
    let value = &raw.value;
    match (&a.hard, a.sound()) {
        (None, Some(url)) if url.scheme() == "https" => {}
        (None, Some(url)) if url.scheme() == "http" && url.domain().is_some() => {
            let mut u = url.clone();
            let rep = out.at(
                raw,
                format!("`jwks_uri` `{value}` uses plain http: anyone on the path can replace the client's keys"),
            );
            if u.set_scheme("https").is_ok() {
                if u.port() == Some(80) {
                    let _ = u.set_port(None);
                }
                let fixed = oc::canonical(&u);
                rep.fix(
                    "replace",
                    &raw.path,
                    Some(json!(fixed)),
                    format!("use `{fixed}`"),
                );
            }
        }
        (None, Some(url)) => {
            out.at(
                raw,
                format!(
                    "`jwks_uri` `{value}` uses the `{}:` scheme: the client's key set must be fetched over https",
                    url.scheme()
                ),
            );
        }
        (Some(Hard::Unparseable(e)), _) => {
            out.at(
                raw,
                format!("`jwks_uri` `{value}` is not an absolute https URL ({e})"),
            );
        }
        (_, _) => {
            out.at(
                raw,
                format!("`jwks_uri` `{value}` is not a plain absolute https URL (wildcard, whitespace, backslash, missing slashes or an unsafe host)"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::support::testing::{fix_value, manifest, of, vet, vet_dcr};

    fn jwks_uri(v: &str) -> Vec<(String, String)> {
        let m = manifest(&format!(
            "  token_endpoint_auth_method: private_key_jwt\n  redirect_uris: [https://apps.example.com/cb]\n  code_challenge_method: S256\n  jwks_uri: {}\n",
            serde_json::to_string(v).unwrap()
        ));
        of(&vet(&m), &super::RULE)
    }

    #[test]
    fn the_key_set_is_fetched_over_https() {
        assert!(jwks_uri("https://apps.example.com/jwks.json").is_empty());
        assert!(jwks_uri("HTTPS://Apps.Example.com/jwks.json").is_empty());
        for bad in [
            "http://apps.example.com/jwks.json",
            "HTTP://apps.example.com/jwks.json",
            "http://127.0.0.1/jwks.json",
            "ftp://apps.example.com/jwks.json",
            "//apps.example.com/jwks.json",
            "https://*.example.com/jwks.json",
            "https:apps.example.com/jwks.json",
            "urn:ietf:wg:oauth:2.0:oob",
        ] {
            let f = jwks_uri(bad);
            assert_eq!(f.len(), 1, "{bad}");
            assert_eq!(f[0].0, "/client/jwks_uri", "{bad}");
        }
        let m = manifest(
            "  token_endpoint_auth_method: private_key_jwt\n  jwks_uri: http://apps.example.com:80/k\n",
        );
        assert_eq!(
            fix_value(&vet(&m), &super::RULE).unwrap(),
            serde_json::json!("https://apps.example.com/k")
        );
        let f = vet_dcr(
            r#"{"token_endpoint_auth_method":"private_key_jwt","grant_types":["client_credentials"],"jwks_uri":"http://apps.example.com/k"}"#,
        );
        assert_eq!(of(&f, &super::RULE)[0].0, "/jwks_uri");
    }
}
