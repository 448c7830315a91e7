//! MV-OAUTH-002 password-grant
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-002",
    name: "password-grant",
    category: Category::Oauth,
    severity: Severity::Critical,
    summary: "the client uses the resource owner password credentials grant",
    what: "The `password` grant type in `grant_types`.",
    why: "With ROPC the app sees the user's password, trains users to type it into third-party forms, and bypasses MFA, consent and phishing-resistant sign-in. RFC 9700 says it MUST NOT be used and OAuth 2.1 removes it.",
    example: "client:\n  grant_types: [password]",
    fix: "Sign users in with the authorization code flow and PKCE; machine access uses a confidential client with `client_credentials`. The fix removes `password` (or replaces it with `authorization_code` when it is the only grant).",
    references: &[
        "RFC 9700 §2.4 (resource owner password credentials grant)",
        "OAuth 2.1 draft §10 (the password grant is omitted)",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let Some(g) = oc::grant_item(c, "password") else {
        return;
    };
    let others = oc::grants(c)
        .iter()
        .any(|x| !matches!(*x, "password" | "refresh_token"));
    let r = out.at(
        g,
        "grant type `password` (resource owner password credentials) is forbidden: the app would handle users' passwords",
    );
    if others {
        r.fix("remove", &g.path, None, "remove the `password` grant");
    } else {
        r.fix(
            "replace",
            &g.path,
            Some(json!("authorization_code")),
            "replace `password` with `authorization_code` (with PKCE)",
        );
    }
}
