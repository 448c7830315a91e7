//! MV-OWNER-001 owner-missing
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-OWNER-001",
    name: "owner-missing",
    category: Category::Identity,
    severity: Severity::High,
    summary: "the app has no accountable owner",
    what: "That `owner` is present and not empty.",
    why: "An OAuth client without an owner is shadow IT: nobody recertifies it, nobody is paged when it leaks, and it survives its usefulness. Micro Apps, Macro Risk's playbook starts with an inventory that flags clients without owners.",
    example: "name: hr-onboarding-helper\n# owner: missing",
    fix: "Set `owner` to the accountable person's work email, e.g. `owner: hr@example.com`.",
    references: &[
        "Micro Apps, Macro Risk (2026): playbook step 1 (flag clients without owners)",
        "Micro Apps, Macro Risk (2026): 7-step vet, step 6 (owner contact info)",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    if cx.dcr {
        return;
    }
    match &cx.manifest.owner {
        None => {
            out.report(
                "/owner",
                None,
                "the app has no `owner`; every micro app needs an accountable person",
            );
        }
        Some(o) if o.value.trim().is_empty() => {
            out.at(
                o,
                "`owner` is empty; every micro app needs an accountable person",
            );
        }
        Some(_) => {}
    }
}
