//! MV-APP-001 purpose-missing-or-vague
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-APP-001",
    name: "purpose-missing-or-vague",
    category: Category::Identity,
    severity: Severity::Medium,
    summary: "the app's purpose is missing or too vague to judge its access",
    what: "That `purpose` is present, has at least three words and 15 characters, and is not a placeholder (`test`, `tbd`, `misc`, `stuff`, `various`, `app`, `todo`).",
    why: "Data minimisation is judged against the purpose: reviewers, auditors and consent screens need to know why the app needs what it asks for. Regulators focus on data minimisation (Micro Apps, Macro Risk).",
    example: "purpose: stuff",
    fix: "Describe in one sentence what the app does and for whom, e.g. `automate candidate onboarding checklists`.",
    references: &[
        "Micro Apps, Macro Risk (2026): manifest (owner, purpose, data accessed ...)",
        "GDPR Art. 5(1)(b) purpose limitation",
    ],
    relational: false,
    check,
};

const VAGUE: &[&str] = &[
    "test", "testing", "tbd", "todo", "misc", "stuff", "various", "app", "n/a", "na", "none",
    "demo", "tmp", "temp", "things",
];

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    if cx.dcr {
        return;
    }
    match &cx.manifest.purpose {
        None => {
            out.report(
                "/purpose",
                None,
                "the app has no `purpose`; reviewers cannot judge its access without one",
            );
        }
        Some(p) => {
            let text = p.value.trim();
            let words = text.split_whitespace().count();
            let lower = text.to_ascii_lowercase();
            if VAGUE.contains(&lower.as_str()) || words < 3 || text.chars().count() < 15 {
                out.at(p, format!("purpose `{text}` is too vague; say what the app does and for whom in a sentence"));
            }
        }
    }
}
