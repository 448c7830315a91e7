//! MV-SCHEMA-003 access-field-shape
use super::prelude::*;
use crate::manifest::SchemaIssueKind;

pub static RULE: Rule = Rule {
    id: "MV-SCHEMA-003",
    name: "access-field-shape",
    category: Category::Schema,
    severity: Severity::High,
    summary: "a field that grants access is written in another shape; it was vetted as what it says",
    what: "The fields that grant access (`oauth_scopes`, DCR `scope`, `data_access`, `external_sinks`, `third_party_deps`, and the `client` section's grant and response types, redirect and other URIs, authentication and PKCE methods and keys) in a shape other than manifest v1's whose meaning is still clear: one string where a list is expected (`oauth_scopes: openid admin.all` is the space-separated RFC 6749 §3.3 form and is vetted as its scopes; one redirect URI, grant type or sink is vetted as a list of one), a list where RFC 7591 has DCR's one space-separated `scope` string, or several scopes in one list item.",
    why: "A string is not the list the authorization server or the provisioning step reads: one splits it, another takes it as one strange name, a third refuses it. Vetting what it says finds `admin.all` and `*`, but approving a value whose meaning depends on the reader would approve a configuration nobody vetted. The fix writes the list microvet vetted.",
    example: "oauth_scopes: openid admin.all *\nclient:\n  redirect_uris: https://evil.io/cb",
    fix: "Write the list form given in the message (the machine-applicable fix does); for DCR, one space-separated `scope` string.",
    references: &[
        "RFC 6749 §3.3 (scope: space-delimited, case-sensitive strings)",
        "RFC 7591 §2 (client metadata: `redirect_uris`, `grant_types`, `response_types` are arrays, `scope` a string)",
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
        .filter(|i| i.kind == SchemaIssueKind::AccessShape)
    {
        let r = out.report(&issue.path, Some(issue.line), issue.message.clone());
        if let Some(v) = &issue.fix {
            r.fix(
                "replace",
                &issue.path,
                Some(v.clone()),
                "write the list microvet vetted",
            );
        }
    }
}
