//! MV-OAUTH-007 pkce-method-not-s256
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-007",
    name: "pkce-method-not-s256",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "PKCE uses `plain` (or an unknown method) instead of `S256`",
    what: "`code_challenge_method` is anything but `S256` (the value is case-sensitive), for every client and input kind.",
    why: "With `plain` the challenge *is* the verifier, so whoever sees the authorization request (logs, proxies, a malicious app on the device) can redeem the code; an authorization server may also downgrade or reject an unknown method. Keycloak's `pkce-enforcer` and OAuth 2.1 profiles accept only `S256`.",
    example: "client:\n  code_challenge_method: plain",
    fix: "Set `code_challenge_method: S256` (the fix replaces the value).",
    references: &[
        "RFC 7636 §4.2 (plain is for clients that cannot do S256), §7.2",
        "RFC 9700 §2.1.1 (use S256)",
        "OAuth 2.1 draft §4.1.1",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let Some(m) = &c.code_challenge_method else {
        return;
    };
    let v = m.value.trim();
    if v == "S256" {
        return;
    }
    let msg = if v == "plain" {
        String::from("PKCE method `plain` sends the verifier itself as the challenge")
    } else if v.eq_ignore_ascii_case("s256") {
        format!("PKCE method `{}` is not `S256` (case-sensitive)", m.value)
    } else {
        format!("unknown PKCE method `{}`", m.value)
    };
    out.at(m, msg).fix(
        "replace",
        &m.path,
        Some(json!("S256")),
        "set `code_challenge_method: S256`",
    );
}
