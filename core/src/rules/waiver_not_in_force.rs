//! MV-WAIVER-001 waiver-not-in-force
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-WAIVER-001",
    name: "waiver-not-in-force",
    category: Category::Waivers,
    severity: Severity::Low,
    summary: "a waiver for this manifest has expired or does not apply yet",
    what: "That every waiver granted for this exact manifest is in force on the day of the vet: `approved_on <= today <= expires`. A vet made without a date cannot check any waiver, so none applies.",
    why: "An exception must not outlive the reason it was granted for. Micro Apps, Macro Risk's playbook makes every approval expire and be recertified; a waiver is an approval of one finding and expires the same way. When it does, the finding it waived counts again, and this finding says why.",
    example: "# policy.yaml\nwaivers:\n  list:\n    - { id: WVR-7, rule: MV-SINK-003, app: quick-report, expires: 2026-11-30, ... }\n# vetted on 2026-12-03",
    fix: "Fix the finding the waiver covered, or have the waiver renewed (a new `approved_on` and `expires`, within `waivers.max_days`).",
    references: &[
        "Micro Apps, Macro Risk (2026): 10-step playbook, expiry and recertification",
        "policy: waivers.list, waivers.max_days",
    ],
    relational: false,
    check: super::waiver_pass,
};
