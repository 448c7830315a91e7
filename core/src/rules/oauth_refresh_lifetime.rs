//! MV-OAUTH-014 refresh-token-lifetime
use super::prelude::*;
use super::support::oauth_client as oc;

pub static RULE: Rule = Rule {
    id: "MV-OAUTH-014",
    name: "refresh-token-lifetime",
    category: Category::Oauth,
    severity: Severity::High,
    summary: "refresh tokens live longer than the policy allows",
    what: "`refresh_token_ttl_days` against the policy's `client.refresh_token_max_days` (30 in the default policy, the playbook of Micro Apps, Macro Risk (2026)). When no lifetime is declared, the `refresh_token` control sets it.",
    why: "A refresh token's lifetime is how long a leaked token keeps working and how long access survives the user's departure or the app's retirement. The case study of Micro Apps, Macro Risk (2026) had refresh tokens living a year.",
    example: "client:\n  grant_types: [authorization_code, refresh_token]\n  refresh_token_ttl_days: 365",
    fix: "Lower `refresh_token_ttl_days` to the policy maximum or less (the fix sets the maximum).",
    references: &[
        "RFC 9700 §4.14.2 (refresh token expiration)",
        "RFC 6819 §5.2.2 (refresh token lifetime)",
        "Micro Apps, Macro Risk (2026): refresh tokens at most 30 days",
        "policy key `client.refresh_token_max_days`",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(c) = oc::client(cx) else { return };
    let Some(ttl) = &c.refresh_token_ttl_days else {
        return;
    };
    let max = cx.policy.client.refresh_token_max_days;
    if ttl.value > max {
        out.at(
            ttl,
            format!(
                "refresh_token_ttl_days {} exceeds the policy's {max} days",
                ttl.value
            ),
        )
        .fix(
            "replace",
            &ttl.path,
            Some(json!(max)),
            format!("set `refresh_token_ttl_days` to {max}"),
        );
    }
}
