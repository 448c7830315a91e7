//! MV-LIFE-002 expiry-out-of-range
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-LIFE-002",
    name: "expiry-out-of-range",
    category: Category::Lifecycle,
    severity: Severity::High,
    summary: "the client's TTL is outside the policy's range",
    what: "That `expiry_days` lies within the policy's `lifecycle.ttl_days` range (default 30-90, Micro Apps, Macro Risk's TTL).",
    why: "Long-lived clients are Micro Apps, Macro Risk's case-study failure: an HR app with a 365-day client survives every reorganisation. Too short a TTL (under the minimum) pushes owners to re-register constantly, which trains them to click through.",
    example: "expiry_days: 365",
    fix: "Set `expiry_days` within the range; the fix clamps it to the nearest bound.",
    references: &[
        "Micro Apps, Macro Risk (2026): 7-step vet, step 5 (TTL = 30-90 days)",
        "Micro Apps, Macro Risk (2026): case study (30-day expiry)",
        "policy: lifecycle.ttl_days",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(e) = &cx.manifest.expiry_days else {
        return;
    };
    let r = cx.policy.lifecycle.ttl_days;
    if e.value < r.min || e.value > r.max {
        let clamped = e.value.clamp(r.min, r.max);
        out.at(
            e,
            format!(
                "expiry_days {} is outside the policy's {}-{} days",
                e.value, r.min, r.max
            ),
        )
        .fix(
            "replace",
            &e.path,
            Some(json!(clamped)),
            format!("set `expiry_days` to {clamped}"),
        );
    }
}
