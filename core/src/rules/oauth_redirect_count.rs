//! MV-OAUTH-029 too-many-redirect-uris
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-029",
    name: "too-many-redirect-uris",
    category: Category::Oauth,
    severity: Severity::Medium,
    summary: "more redirect URIs are registered than the policy allows",
    what: "The number of `redirect_uris` against the policy's `client.max_redirect_uris` (5 in the default policy).",
    why: "Every redirect URI is a place authorization codes may be sent; long lists collect stale test hosts, preview deployments and forgotten domains (subdomain takeover targets). A micro app needs one or two.",
    example: "client:\n  redirect_uris: [six or more URIs]",
    fix: "Keep only the callbacks the app uses in production; register test environments as separate clients.",
    references: &[
        "RFC 9700 §4.1 (redirect URI attacks)",
        "policy key `client.max_redirect_uris`",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let Some(list) = &c.redirect_uris else { return };
    let max = cx.policy.client.max_redirect_uris;
    if list.value.len() > max {
        out.at(
            list,
            format!(
                "{} redirect URIs registered; the policy allows at most {max}",
                list.value.len()
            ),
        );
    }
}
