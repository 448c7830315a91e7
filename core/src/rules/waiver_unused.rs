//! MV-WAIVER-003 waiver-unused
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-WAIVER-003",
    name: "waiver-unused",
    category: Category::Waivers,
    severity: Severity::Info,
    summary: "a waiver for this manifest waives nothing",
    what: "That a waiver in force for this manifest covers at least one finding: its rule reports something at its `path` (or under it).",
    why: "An exception that no longer excepts anything is clutter that hides the ones that do, and it would silently cover the finding if it came back. Micro Apps, Macro Risk asks for an inventory that stays true; so does the list of exceptions.",
    example: "# policy.yaml\nwaivers:\n  list:\n    - { id: WVR-7, rule: MV-SINK-003, path: /external_sinks/1, app: quick-report, ... }\n# the sink was removed",
    fix: "Remove the waiver.",
    references: &[
        "Micro Apps, Macro Risk (2026): 10-step playbook, inventory",
        "policy: waivers.list",
    ],
    relational: false,
    check: super::waiver_pass,
};
