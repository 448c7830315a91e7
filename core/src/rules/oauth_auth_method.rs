//! MV-OAUTH-011 auth-method-not-allowed
use super::oauth_unknown_value::AUTH_METHODS;
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-011",
    name: "auth-method-not-allowed",
    category: Category::Oauth,
    severity: Severity::Medium,
    summary: "the client authentication method is not on the policy's allowlist",
    what: "For a confidential client (native apps with a secret method are MV-OAUTH-010), the effective `token_endpoint_auth_method` (default `client_secret_basic`) against the policy's `client.auth_methods`. `none` (public clients) is governed by the PKCE rules; unknown names are MV-OAUTH-005.",
    why: "The organisation decides how strongly clients must prove who they are: a strict policy allows only asymmetric keys or mTLS (`private_key_jwt`, `tls_client_auth`), which cannot be phished or leaked from a config file like a shared secret.",
    example: "client:\n  token_endpoint_auth_method: client_secret_post",
    fix: "Use a method from the policy's `client.auth_methods`, preferably the first (`private_key_jwt` in the default policy).",
    references: &[
        "RFC 9700 §2.5 (client authentication: asymmetric methods recommended)",
        "RFC 7591 §2 (`token_endpoint_auth_method`)",
        "RFC 7523 §2.2 (`private_key_jwt`), RFC 8705 §2 (mTLS)",
        "policy key `client.auth_methods`",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let method = oc::auth_method(c);
    let allowed = &cx.policy.client.auth_methods;
    // Native apps with a secret are MV-OAUTH-010 (whose fix makes them public).
    if method == "none"
        || !AUTH_METHODS.contains(&method)
        || allowed.iter().any(|a| a == method)
        || (oc::is_native(c) && !cx.dcr && oc::SECRET_METHODS.contains(&method))
    {
        return;
    }
    let list = allowed
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match &c.token_endpoint_auth_method {
        Some(m) => {
            out.at(
                m,
                format!("auth method `{method}` is not allowed by the policy (allowed: {list})"),
            );
        }
        None => {
            out.report(
                &oc::field(c, "token_endpoint_auth_method"),
                Some(c.line),
                format!("no `token_endpoint_auth_method`: the default `{method}` is not allowed by the policy (allowed: {list})"),
            );
        }
    }
}
