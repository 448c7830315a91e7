//! MV-SCOPE-008 non-canonical-scope
use super::prelude::*;
use super::support::matching::catalogued;
use crate::normalise::visible;

pub static RULE: Rule = Rule {
    id: "MV-SCOPE-008",
    name: "non-canonical-scope",
    category: Category::Scopes,
    severity: Severity::High,
    summary: "a scope is not a valid scope token, or differs from a catalogued scope only in case",
    what: "Each of `oauth_scopes` (in normal form, see MV-SCHEMA-005): that it is an RFC 6749 §3.3 scope token (one or more printable ASCII characters other than space, `\"` and `\\`), and that a scope equal to a catalogued one ignoring case is written exactly as catalogued. A case variant is vetted as the catalogued scope (its review, denial and grants apply).",
    why: "A scope is an exact string to a standard authorization server, but Microsoft Entra ID and others compare scopes ignoring case: `HR.Write` may be granted as `hr.write` while a vetting tool that compares exact strings sees an unknown scope and approves it. Non-ASCII letters (`аdmin` with a Cyrillic `а`) are not scope tokens at all and are how look-alikes get past a deny list. Either way the string sent to the authorization server is not one the policy vetted.",
    example: "oauth_scopes: [HR.Write, \"аdmin\"]",
    fix: "Write the scope exactly as the catalogue spells it (the fix does); remove scopes that are not plain ASCII tokens.",
    references: &[
        "RFC 6749 §3.3 (scope-token syntax; case-sensitive)",
        "Unicode UTS #39 (confusables)",
        "policy: scopes",
    ],
    relational: false,
    check,
};

/// Whether `s` is an RFC 6749 §3.3 `scope-token`: 1*( %x21 / %x23-5B / %x5D-7E ).
pub(crate) fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for (s, _) in &cx.scopes {
        if !is_scope_token(&s.value) {
            out.at(
                s,
                format!(
                    "scope `{}` is not a valid scope token (RFC 6749 §3.3: printable ASCII other than space, `\"` and `\\`)",
                    visible(&s.value)
                ),
            );
        } else if let Some((name, _)) = catalogued(cx.policy, &s.value)
            && name != s.value
        {
            out.at(
                s,
                format!(
                    "scope `{}` differs from the catalogued `{name}` only in case; it is vetted as `{name}`",
                    s.value
                ),
            )
            .fix(
                "replace",
                &s.path,
                Some(json!(name)),
                format!("write `{name}`"),
            );
        }
    }
}
