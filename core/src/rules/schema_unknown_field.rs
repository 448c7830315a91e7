//! MV-SCHEMA-001 unknown-field
use super::prelude::*;
use crate::manifest::SchemaIssueKind;

pub static RULE: Rule = Rule {
    id: "MV-SCHEMA-001",
    name: "unknown-field",
    category: Category::Schema,
    severity: Severity::Low,
    summary: "the manifest has a field that manifest v1 does not define",
    what: "Every key of the manifest (and of its `data_access`, `third_party_deps`, `client` and `instrumentation` items) against the fields manifest v1 defines; the finding suggests the closest known field.",
    why: "A misspelt field is silently ignored by every consumer: `oauth_scope:` instead of `oauth_scopes:` means the scopes the app really requests were never vetted. The organisation's micro-app policy mandates a manifest whose fields mean one thing to every reader.",
    example: "oauth_scope: [openid, hr.write]   # typo: oauth_scopes",
    fix: "Rename the field to the one suggested, or remove it.",
    references: &[
        "Micro Apps, Macro Risk (2026): Governance & policy (a published micro-app manifest)",
        "schemas/manifest.schema.json",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for issue in cx
        .manifest
        .issues
        .iter()
        .filter(|i| i.kind == SchemaIssueKind::UnknownField)
    {
        out.report(&issue.path, Some(issue.line), issue.message.clone());
    }
}
