//! MV-OAUTH-012 shared-secret-auth
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-012",
    name: "shared-secret-auth",
    category: Category::Oauth,
    severity: Severity::Low,
    summary: "the client authenticates with a shared secret where the policy prefers keys",
    what: "A confidential, non-native client whose effective `token_endpoint_auth_method` is `client_secret_basic` (the default), `client_secret_post` or `client_secret_jwt`, when the policy allows it but also allows an asymmetric method (`private_key_jwt`, `tls_client_auth`, `self_signed_tls_client_auth`). Advice: the method is permitted.",
    why: "A shared secret lives in two places, is sent (or usable) on every request, and ends up in spreadsheets and tickets (the case in Micro Apps, Macro Risk (2026)). Asymmetric client authentication keeps the private key with the client only; RFC 9700 recommends it.",
    example: "client:\n  token_endpoint_auth_method: client_secret_basic",
    fix: "Switch to `private_key_jwt` (publish the public key at `jwks_uri`) or mTLS. Whatever the method, keep any secret in the vault (a literal secret is MV-SECRET-001).",
    references: &[
        "RFC 9700 §2.5 (asymmetric client authentication RECOMMENDED)",
        "RFC 7523 §2.2 (`private_key_jwt`)",
        "Micro Apps, Macro Risk (2026): secrets in approved vaults",
    ],
    relational: false,
    check,
};

const ASYMMETRIC: &[&str] = &[
    "private_key_jwt",
    "tls_client_auth",
    "self_signed_tls_client_auth",
];

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let method = oc::auth_method(c);
    let allowed = &cx.policy.client.auth_methods;
    if oc::is_native(c)
        || !oc::SECRET_METHODS.contains(&method)
        || !allowed.iter().any(|a| a == method)
    {
        return;
    }
    let Some(better) = allowed.iter().find(|a| ASYMMETRIC.contains(&a.as_str())) else {
        return;
    };
    let msg = format!("`{method}` authenticates with a shared secret; prefer `{better}`");
    match &c.token_endpoint_auth_method {
        Some(m) => {
            out.at(m, msg);
        }
        None => {
            out.report(
                &oc::field(c, "token_endpoint_auth_method"),
                Some(c.line),
                format!("no `token_endpoint_auth_method`: the default {msg}"),
            );
        }
    }
}
