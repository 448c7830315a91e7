//! MV-LIFE-005 retention-missing
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-LIFE-005",
    name: "retention-missing",
    category: Category::Lifecycle,
    severity: Severity::Medium,
    summary: "the app touches data but does not say how long it keeps it",
    what: "That `retention_days` is present when `data_access` declares any data.",
    why: "Micro Apps, Macro Risk's manifest requires retention: without it the organisation cannot show auditors how long copied data lives.",
    example: "data_access: [{ type: customer.pii }]\n# retention_days: missing",
    fix: "Add `retention_days`; the fix proposes the policy's limit for the most sensitive class touched, capped at the expiry.",
    references: &[
        "Micro Apps, Macro Risk (2026): manifest (retention)",
        "policy: lifecycle.retention_max_days",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    if cx.dcr
        || cx.manifest.retention_days.is_some()
        || cx.root.get("retention_days").is_some()
        || cx.data.is_empty()
    {
        return;
    }
    let limit = cx
        .max_sensitivity
        .and_then(|s| cx.policy.lifecycle.retention_max_days.get(&s).copied())
        .unwrap_or(30);
    let value = match &cx.manifest.expiry_days {
        Some(e) if e.value > 0 => limit.min(e.value),
        _ => limit,
    };
    out.report(
        "/retention_days",
        None,
        "the app declares data but no `retention_days`",
    )
    .fix(
        "add",
        "/retention_days",
        Some(json!(value)),
        format!("set `retention_days` to {value}"),
    );
}
