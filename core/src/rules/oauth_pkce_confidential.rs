//! MV-OAUTH-008 pkce-advised-confidential
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-008",
    name: "pkce-advised-confidential",
    category: Category::Oauth,
    severity: Severity::Low,
    summary: "a confidential client runs the code flow without PKCE",
    what: "A confidential client (any authentication method but `none`, not native) with the `authorization_code` grant and no `code_challenge_method`. Not checked for `--dcr` input (the `pkce_required` control covers it).",
    why: "Client authentication does not stop authorization code injection: an attacker who plants a stolen code in a victim's session gets the victim's tokens redeemed by the honest client. PKCE prevents it, and OAuth 2.1 requires it for every client.",
    example: "client:\n  token_endpoint_auth_method: private_key_jwt\n  grant_types: [authorization_code]",
    fix: "Add `code_challenge_method: S256` (the fix adds it).",
    references: &[
        "RFC 9700 §2.1.1 (PKCE is RECOMMENDED for confidential clients)",
        "RFC 9700 §4.5 (authorization code injection)",
        "OAuth 2.1 draft §4.1.1",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    if cx.dcr || oc::is_public(c) || !oc::code_flow(c) || c.code_challenge_method.is_some() {
        return;
    }
    let msg = "confidential client uses the authorization code flow without PKCE (recommended against code injection)";
    let r = match oc::grant_item(c, "authorization_code") {
        Some(g) => out.at(g, msg),
        None => out.report(&oc::field(c, "code_challenge_method"), Some(c.line), msg),
    };
    r.fix(
        "add",
        &oc::field(c, "code_challenge_method"),
        Some(json!("S256")),
        "add `code_challenge_method: S256`",
    );
}
