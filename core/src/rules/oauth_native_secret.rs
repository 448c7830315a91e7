//! MV-OAUTH-010 native-client-secret
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-010",
    name: "native-client-secret",
    category: Category::Oauth,
    severity: Severity::Medium,
    summary: "a native app authenticates with a shared client secret",
    what: "`application_type: native` with a secret-based `token_endpoint_auth_method` (`client_secret_basic`, the default, `client_secret_post` or `client_secret_jwt`). Not checked for `--dcr` input: a secret issued per installation by dynamic registration is allowed (RFC 8252 §8.5).",
    why: "A secret compiled into an app that is distributed to users is extracted within minutes; the authorization server then trusts an \"authenticated\" client that anyone can impersonate. RFC 8252 says native apps MUST NOT use client secrets shared by all installations.",
    example: "client:\n  application_type: native\n  token_endpoint_auth_method: client_secret_post",
    fix: "Make the native app a public client: `token_endpoint_auth_method: none` with PKCE S256 (the fix sets `none`; MV-OAUTH-006 then asks for PKCE).",
    references: &[
        "RFC 8252 §8.4 (registration of native app clients), §8.5 (client authentication)",
        "RFC 9700 §2.1.1",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    if cx.dcr || !oc::is_native(c) {
        return;
    }
    let method = oc::auth_method(c);
    if !oc::SECRET_METHODS.contains(&method) {
        return;
    }
    let path = oc::field(c, "token_endpoint_auth_method");
    match &c.token_endpoint_auth_method {
        Some(m) => out
            .at(
                m,
                format!("native app authenticates with `{method}`: a secret shipped in an app is no secret"),
            )
            .fix(
                "replace",
                &path,
                Some(json!("none")),
                "make the native app a public client (`none`, with PKCE)",
            ),
        None => out
            .report(
                &oc::field(c, "token_endpoint_auth_method"),
                Some(c.line),
                format!("native app has no `token_endpoint_auth_method`, so it defaults to `{method}`: a secret shipped in an app is no secret"),
            )
            .fix(
                "add",
                &path,
                Some(json!("none")),
                "make the native app a public client (`none`, with PKCE)",
            ),
    }
}
