//! MV-SCHEMA-005 value-not-normal-form
use super::prelude::*;
use crate::manifest::SchemaIssueKind;

pub static RULE: Rule = Rule {
    id: "MV-SCHEMA-005",
    name: "value-not-normal-form",
    category: Category::Schema,
    severity: Severity::High,
    summary: "a value matched against the policy has padding, invisible or look-alike characters",
    what: "Each value microvet matches against an allow or deny list or a registry (scopes, data types and access, vendors and dependency data, the owner and DCR contacts, and the `client` section's grant and response types and methods) against its normal form: without white space at either end, without default-ignorable code points (soft hyphen, zero-width characters, variation selectors, bidi controls, tags) and in Unicode normalization form NFKC (full-width `ａｄｍｉｎ` is `admin`). The value is vetted in normal form, and the raw form is reported. URLs are not rewritten: their hosts are mapped as browsers map them (UTS-46) and the sink and redirect rules judge the rest as written, refusing invisible characters in hosts; a sink whose text differs from its normal form is reported all the same (redirect URIs are judged by the redirect rules), and `mailto:` recipients are compared in normal form.",
    why: "A scope, grant type or redirect URI is an exact string at the authorization server: ` admin`, `adm\\u{ad}in` or `ａｄｍｉｎ` is at best a typo that fails at runtime and at worst a way past a deny list that compares exact strings, while the consent screen shows `admin`. Allow and deny lists match the normal form; the raw form still blocks approval until it is written plainly.",
    example: "oauth_scopes: [\" admin\", \"adm\\u00adin\", \"ａｄｍｉｎ\"]",
    fix: "Write the normal form given in the message (the machine-applicable fix does).",
    references: &[
        "Unicode UAX #15 (NFKC) and UAX #44 (Default_Ignorable_Code_Point)",
        "RFC 6749 §3.3 (scope tokens are exact, case-sensitive strings)",
        "Unicode UTS #39 §4 (confusable detection)",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for issue in cx
        .manifest
        .issues
        .iter()
        .filter(|i| i.kind == SchemaIssueKind::NotNormal)
    {
        // A value holding a literal secret is reported without its value (MV-SECRET-001
        // names the secret's place; no output quotes it in any form).
        if cx
            .secrets()
            .iter()
            .any(|s| s.path.starts_with(&issue.path) || issue.path.starts_with(&s.path))
        {
            out.report(
                &issue.path,
                Some(issue.line),
                "a value holding a literal secret differs from its normal form",
            );
            continue;
        }
        let r = out.report(&issue.path, Some(issue.line), issue.message.clone());
        if let Some(v) = &issue.fix {
            r.fix(
                "replace",
                &issue.path,
                Some(v.clone()),
                "write the normal form",
            );
        }
    }
}
