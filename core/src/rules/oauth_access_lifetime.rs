//! MV-OAUTH-016 access-token-lifetime
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-016",
    name: "access-token-lifetime",
    category: Category::Oauth,
    severity: Severity::Medium,
    summary: "access tokens live longer than the policy allows",
    what: "`access_token_ttl_minutes` against the policy's `client.access_token_max_minutes` (60 in the default policy).",
    why: "Bearer access tokens usually cannot be revoked at the resource server: their lifetime is the window in which a leaked one works. Short-lived access tokens plus (rotated) refresh or silent re-authentication are the standard trade-off.",
    example: "client:\n  access_token_ttl_minutes: 1440",
    fix: "Lower `access_token_ttl_minutes` to the policy maximum or less (the fix sets the maximum).",
    references: &[
        "RFC 9700 §2.2 (token replay prevention), §4.10 (misuse of stolen access tokens)",
        "RFC 6819 §5.1.5.3 (short expiration time)",
        "policy key `client.access_token_max_minutes`",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let Some(ttl) = &c.access_token_ttl_minutes else {
        return;
    };
    let max = cx.policy.client.access_token_max_minutes;
    if ttl.value > max {
        out.at(
            ttl,
            format!(
                "access_token_ttl_minutes {} exceeds the policy's {max} minutes",
                ttl.value
            ),
        )
        .fix(
            "replace",
            &ttl.path,
            Some(json!(max)),
            format!("set `access_token_ttl_minutes` to {max}"),
        );
    }
}
