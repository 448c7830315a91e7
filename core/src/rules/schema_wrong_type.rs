//! MV-SCHEMA-002 wrong-type
use super::prelude::*;
use crate::manifest::SchemaIssueKind;

pub static RULE: Rule = Rule {
    id: "MV-SCHEMA-002",
    name: "wrong-type",
    category: Category::Schema,
    severity: Severity::Medium,
    summary: "a manifest field has the wrong type, so it could not be vetted",
    what: "That each known field has the type manifest v1 gives it: strings, whole numbers of days, booleans, lists of strings, lists of `{ type, access }` and `{ name, vendor }` items.",
    why: "A value of the wrong type cannot be checked: `expiry_days: soon` hides the client's lifetime and `oauth_scopes: openid hr.write` (one string) hides its scopes. Vetting must not approve what it could not read.",
    example: "expiry_days: soon\noauth_scopes: openid profile   # should be a list",
    fix: "Write the value with the type given in the message (see schemas/manifest.schema.json).",
    references: &["schemas/manifest.schema.json"],
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
