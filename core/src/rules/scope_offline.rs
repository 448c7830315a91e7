//! MV-SCOPE-007 offline-access-without-need
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-SCOPE-007",
    name: "offline-access-without-need",
    category: Category::Scopes,
    severity: Severity::Low,
    summary: "the app asks for offline access (refresh tokens) without a refresh grant",
    what: "Whether an `offline: true` scope (e.g. `offline_access`) is requested while the client does not declare the `refresh_token` grant.",
    why: "Offline access issues long-lived refresh tokens; Micro Apps, Macro Risk asks to disable refresh tokens for micro apps unless strictly necessary. Requesting the scope without the grant is either a leftover or a hidden need.",
    example: "oauth_scopes: [openid, offline_access]\nclient: { grant_types: [authorization_code] }",
    fix: "Remove `offline_access`, or declare the `refresh_token` grant with rotation and a short lifetime.",
    references: &[
        "Micro Apps, Macro Risk (2026): rotate refresh tokens or disable them for micro apps",
        "OpenID Connect Core 1.0 §11",
        "RFC 9700 §4.14",
    ],
    relational: true,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let refresh = cx
        .manifest
        .client
        .as_ref()
        .and_then(|c| c.grant_types.as_ref())
        .is_some_and(|g| g.value.iter().any(|x| x.value == "refresh_token"));
    if refresh {
        return;
    }
    for (s, def) in &cx.scopes {
        if def.is_some_and(|d| d.offline) {
            out.at(s, format!("scope `{}` requests offline access but the client has no `refresh_token` grant", s.value))
                .scope_fix(cx, s, None);
        }
    }
}
