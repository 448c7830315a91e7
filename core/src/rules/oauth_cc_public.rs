//! MV-OAUTH-004 client-credentials-public-client
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-004",
    name: "client-credentials-public-client",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "a public client uses the client credentials grant",
    what: "The `client_credentials` grant on a public client: `token_endpoint_auth_method: none`, or a native app.",
    why: "The client credentials grant issues tokens on the client's own authority. A public client cannot authenticate, so anyone who knows its `client_id` (which is public) gets those tokens. RFC 6749 allows the grant for confidential clients only.",
    example: "client:\n  token_endpoint_auth_method: none\n  grant_types: [authorization_code, client_credentials]",
    fix: "Register machine access as a separate confidential client with `private_key_jwt`; the fix removes `client_credentials` from the public client when it has other grants.",
    references: &[
        "RFC 6749 §4.4 (client credentials grant: confidential clients only)",
        "RFC 9700 §2.5 (client authentication)",
        "RFC 8252 §8.5 (native apps cannot keep secrets)",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    if !oc::is_public(c) {
        return;
    }
    let Some(g) = oc::grant_item(c, "client_credentials") else {
        return;
    };
    let r = out.at(
        g,
        format!(
            "{} uses grant `client_credentials`: anyone who knows the client id can get its tokens",
            oc::public_reason(c)
        ),
    );
    if oc::grant_items(c).len() > 1 {
        r.fix(
            "remove",
            &g.path,
            None,
            "remove the `client_credentials` grant",
        );
    }
}
