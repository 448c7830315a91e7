//! MV-SCHEMA-004 access-field-uninterpretable
use super::prelude::*;
use crate::manifest::SchemaIssueKind;

pub static RULE: Rule = Rule {
    id: "MV-SCHEMA-004",
    name: "access-field-uninterpretable",
    category: Category::Schema,
    severity: Severity::High,
    summary: "a field that grants access holds a value microvet cannot interpret",
    what: "The fields that grant access (`oauth_scopes`, DCR `scope`, `data_access` and its `access` values, `external_sinks`, `third_party_deps`, the `client` section as a whole and its `grant_types`, `response_types`, `redirect_uris` and other URIs, `token_endpoint_auth_method`, `code_challenge_method`, `application_type`, `jwks_uri`, `jwks`, `software_statement`) for values of a type that has no clear meaning there: numbers, booleans, mappings, nested lists, null items inside lists. Wrong types in other fields are MV-SCHEMA-002.",
    why: "What cannot be read cannot be vetted: `grant_types: {implicit: true}` or `redirect_uris: [null, [https://evil.io/cb]]` hide exactly the values the OAuth and scope checks exist for, and an authorization server or provisioning script may read them differently. A gate must fail closed: the access such a value grants is unknown, so it blocks approval.",
    example: "oauth_scopes: 42\nclient:\n  grant_types: {implicit: true}\n  redirect_uris: [null]",
    fix: "Write the value with the type given in the message (see schemas/manifest.schema.json).",
    references: &[
        "RFC 7591 §2 (client metadata types)",
        "RFC 6749 §3.3 (scope)",
        "\"Micro Apps, Macro Risk\" (2026): block approval of what security has not vetted",
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
        .filter(|i| i.kind == SchemaIssueKind::AccessUninterpretable)
    {
        out.report(&issue.path, Some(issue.line), issue.message.clone());
    }
}
