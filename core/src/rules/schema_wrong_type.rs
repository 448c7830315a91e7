//! MV-SCHEMA-002 wrong-type
use super::prelude::*;
use crate::manifest::SchemaIssueKind;

pub static RULE: Rule = Rule {
    id: "MV-SCHEMA-002",
    name: "wrong-type",
    category: Category::Schema,
    severity: Severity::Medium,
    summary: "a manifest field has the wrong type, so it could not be vetted",
    what: "That each known field that grants no access has the type manifest v1 gives it: strings, whole numbers of days, booleans (`expiry_days`, `retention_days`, `owner`, `name`, `purpose`, `instrumentation`, the client's token lifetimes and refresh rotation). Wrong types in fields that grant access are MV-SCHEMA-003 (meaning clear) and MV-SCHEMA-004 (not interpretable), both high.",
    why: "A value of the wrong type cannot be checked: `expiry_days: soon` hides the client's lifetime and `refresh_token_rotation: maybe` its rotation. Vetting must not approve what it could not read.",
    example: "expiry_days: soon\nclient:\n  refresh_token_rotation: maybe",
    fix: "Write the value with the type given in the message (see schemas/manifest.schema.json).",
    references: &["schemas/manifest.schema.json"],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for issue in cx
        .manifest
        .issues
        .iter()
        .filter(|i| i.kind == SchemaIssueKind::WrongType)
    {
        out.report(&issue.path, Some(issue.line), issue.message.clone());
    }
}
