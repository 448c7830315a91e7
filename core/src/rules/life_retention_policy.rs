//! MV-LIFE-003 retention-above-policy
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-LIFE-003",
    name: "retention-above-policy",
    category: Category::Lifecycle,
    severity: Severity::High,
    summary: "data is kept longer than the policy allows for its most sensitive class",
    what: "That `retention_days` does not exceed `lifecycle.retention_max_days` for the most sensitive data class the app declares.",
    why: "Retention is part of data minimisation: the longer an uncontrolled copy of HR or payment data lives, the larger the blast radius of the slow leak Micro Apps, Macro Risk warns about.",
    example: "data_access: [{ type: payment.cards }]\nretention_days: 365",
    fix: "Lower `retention_days` to the limit (the fix sets it).",
    references: &[
        "policy: lifecycle.retention_max_days",
        "Micro Apps, Macro Risk (2026): regulators focus on data minimisation",
        "GDPR Art. 5(1)(e) storage limitation",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let (Some(r), Some(s)) = (&cx.manifest.retention_days, cx.max_sensitivity) else {
        return;
    };
    let Some(max) = cx.policy.lifecycle.retention_max_days.get(&s) else {
        return;
    };
    if r.value > *max {
        out.at(
            r,
            format!(
                "retention_days {} exceeds the policy's {} days for {} data",
                r.value,
                max,
                s.as_str()
            ),
        )
        .fix(
            "replace",
            &r.path,
            Some(json!(max)),
            format!("set `retention_days` to {max}"),
        );
    }
}
