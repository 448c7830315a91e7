//! MV-OAUTH-009 server-side-public-client
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-009",
    name: "server-side-public-client",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "a server-side app with credentials is registered as a public client",
    what: "`token_endpoint_auth_method: none` on a client that has a `client_secret`, a `jwks_uri` or an inline `jwks`: it holds a credential, so it runs on a server, yet it does not authenticate. (A web app with `none`, PKCE S256 and neither is treated as a browser-based app, an SPA, and is allowed.) Client-credentials on a public client is MV-OAUTH-004; a literal secret in the manifest is MV-SECRET-001.",
    why: "A server-side app can keep a credential, so it must use it: an unauthenticated client can be impersonated with its public `client_id`, its codes redeemed by anyone who steals them, and its tokens cannot be tied to it. RFC 9700 says confidential clients SHOULD authenticate, preferably with asymmetric keys.",
    example: "client:\n  token_endpoint_auth_method: none\n  jwks_uri: https://apps.example.com/app/jwks.json",
    fix: "Authenticate: `private_key_jwt` when the client publishes keys (`jwks_uri`), otherwise the policy's secret-based method with the secret in the vault (the fix sets the method).",
    references: &[
        "RFC 9700 §2.5 (client authentication)",
        "RFC 6749 §2.1 (client types)",
        "RFC 7591 §2 (`token_endpoint_auth_method`, `jwks_uri`)",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    if !oc::auth_none(c) {
        return;
    }
    let Some(m) = &c.token_endpoint_auth_method else {
        return;
    };
    let secret = c
        .client_secret
        .as_ref()
        .is_some_and(|s| !s.value.trim().is_empty());
    let keys = if c
        .jwks_uri
        .as_ref()
        .is_some_and(|s| !s.value.trim().is_empty())
    {
        Some("a `jwks_uri`")
    } else if c.jwks.is_some() {
        Some("an inline `jwks`")
    } else {
        None
    };
    let (what, method) = match (keys, secret) {
        (Some(keys), _) => (keys, Some("private_key_jwt")),
        (None, true) => (
            "a `client_secret`",
            cx.policy
                .client
                .auth_methods
                .iter()
                .map(String::as_str)
                .find(|m| oc::SECRET_METHODS.contains(m)),
        ),
        (None, false) => return,
    };
    let r = out.at(
        m,
        format!(
            "client has {what} but authenticates with `none`: a server-side app must be a confidential client"
        ),
    );
    if let Some(method) = method
        && cx.policy.client.auth_methods.iter().any(|a| a == method)
    {
        r.fix(
            "replace",
            &m.path,
            Some(json!(method)),
            format!("authenticate with `{method}`"),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::support::testing::{manifest, of, vet};

    #[test]
    fn an_inline_key_set_is_a_credential_too() {
        let base = "  token_endpoint_auth_method: none\n  code_challenge_method: S256\n  redirect_uris: [https://apps.example.com/cb]\n";
        assert!(of(&vet(&manifest(base)), &super::RULE).is_empty());
        let with_keys = manifest(&format!(
            "{base}  jwks: {{keys: [{{kty: EC, crv: P-256, x: a, y: b}}]}}\n"
        ));
        let f = of(&vet(&with_keys), &super::RULE);
        assert_eq!(f.len(), 1);
        assert!(f[0].1.contains("an inline `jwks`"), "{f:?}");
        let with_uri = manifest(&format!("{base}  jwks_uri: https://apps.example.com/k\n"));
        assert!(
            of(&vet(&with_uri), &super::RULE)[0]
                .1
                .contains("a `jwks_uri`")
        );
    }
}
