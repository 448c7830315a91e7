//! MV-LIFE-004 retention-exceeds-expiry
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-LIFE-004",
    name: "retention-exceeds-expiry",
    category: Category::Lifecycle,
    severity: Severity::Medium,
    summary: "data is retained longer than the app itself lives",
    what: "That `retention_days` is not longer than `expiry_days`.",
    why: "When the client expires nobody owns the data it copied: retention beyond expiry leaves orphaned data that no recertification sweep will find (Micro Apps, Macro Risk's playbook step 7).",
    example: "retention_days: 180\nexpiry_days: 60",
    fix: "Lower `retention_days` to at most `expiry_days` (the fix sets it equal).",
    references: &[
        "Micro Apps, Macro Risk (2026): playbook step 7 (recertification sweep)",
        "GDPR Art. 5(1)(e) storage limitation",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let (Some(r), Some(e)) = (&cx.manifest.retention_days, &cx.manifest.expiry_days) else {
        return;
    };
    if r.value > e.value && e.value > 0 {
        out.at(
            r,
            format!(
                "retention_days {} is longer than the app's expiry_days {}",
                r.value, e.value
            ),
        )
        .fix(
            "replace",
            &r.path,
            Some(json!(e.value)),
            format!("set `retention_days` to {}", e.value),
        );
    }
}
