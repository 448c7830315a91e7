//! MV-OAUTH-013 refresh-token-not-rotated
use super::oauth_client as oc;
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-013",
    name: "refresh-token-not-rotated",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "a public client gets refresh tokens without rotation",
    what: "A public client (`none` or native) with the `refresh_token` grant whose `refresh_token_rotation` is not `true`. For `--dcr` input only an explicit `false` is reported (RFC 7591 has no rotation metadata; the `refresh_token` control asks the server to rotate).",
    why: "A public client's refresh token is a bearer credential that lives in a browser or on a device; stolen, it mints access tokens for weeks. RFC 9700 requires public clients' refresh tokens to be sender-constrained or rotated (one-time use, so reuse by an attacker is detected and the family revoked). Micro Apps, Macro Risk: rotate refresh tokens or disable them.",
    example: "client:\n  token_endpoint_auth_method: none\n  grant_types: [authorization_code, refresh_token]\n  refresh_token_rotation: false",
    fix: "Set `refresh_token_rotation: true` (the fix sets it), or drop the `refresh_token` grant.",
    references: &[
        "RFC 9700 §4.14.2 (refresh tokens of public clients: sender-constrained or rotated)",
        "OAuth 2.1 draft §4.3 (refresh token grant: rotation for public clients)",
        "Micro Apps, Macro Risk (2026): rotate refresh tokens or disable them for micro apps",
    ],
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    if !oc::is_public(c) {
        return;
    }
    let Some(g) = oc::grant_item(c, "refresh_token") else {
        return;
    };
    let who = oc::public_reason(c);
    match &c.refresh_token_rotation {
        Some(r) if r.value => {}
        Some(r) => out
            .at(
                r,
                format!("refresh tokens of this {who} are not rotated: a stolen one stays usable"),
            )
            .fix(
                "replace",
                &r.path,
                Some(json!(true)),
                "set `refresh_token_rotation: true`",
            ),
        None if cx.dcr => {}
        None => out
            .at(
                g,
                format!(
                    "{who} gets refresh tokens but does not declare `refresh_token_rotation: true`"
                ),
            )
            .fix(
                "add",
                &oc::field(c, "refresh_token_rotation"),
                Some(json!(true)),
                "add `refresh_token_rotation: true`",
            ),
    }
}
