//! MV-LIFE-001 expiry-missing
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-LIFE-001",
    name: "expiry-missing",
    category: Category::Lifecycle,
    severity: Severity::High,
    summary: "the app's client has no expiry",
    what: "That `expiry_days` (the client's TTL) is present.",
    why: "Micro apps create identities that outlive their usefulness. Micro Apps, Macro Risk's vet provisions a short-lived client (TTL 30-90 days) and disables unreviewed apps at expiry; without an expiry there is nothing to recertify.",
    example: "name: quick-report\n# expiry_days: missing",
    fix: "Add `expiry_days` within the policy's range (default 30-90); the fix proposes the middle of the range.",
    references: &[
        "Micro Apps, Macro Risk (2026): 7-step vet, steps 5 and 7",
        "policy: lifecycle.ttl_days",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    if cx.dcr || cx.manifest.expiry_days.is_some() || cx.root.get("expiry_days").is_some() {
        return;
    }
    let r = cx.policy.lifecycle.ttl_days;
    let value = (r.min + r.max) / 2;
    out.report(
        "/expiry_days",
        None,
        format!(
            "the app has no `expiry_days`; clients must expire within {}-{} days",
            r.min, r.max
        ),
    )
    .fix(
        "add",
        "/expiry_days",
        Some(json!(value)),
        format!("set `expiry_days` to {value}"),
    );
}
