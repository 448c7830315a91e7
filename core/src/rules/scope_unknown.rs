//! MV-SCOPE-004 unknown-scope
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-SCOPE-004",
    name: "unknown-scope",
    category: Category::Scopes,
    severity: Severity::Medium,
    summary: "a scope is not in the policy's scope catalogue",
    what: "Each of `oauth_scopes` against the policy's `scopes` catalogue.",
    why: "A scope the organisation has not classified cannot be judged: nobody knows what data it grants. Fine-grained scopes only help when they are catalogued (Micro Apps, Macro Risk: least privilege by scope).",
    example: "oauth_scopes: [hr.export]",
    fix: "Use a catalogued scope (the message suggests the closest), or ask the IAM team to catalogue it.",
    references: &[
        "policy: scopes",
        "Micro Apps, Macro Risk (2026): least privilege by scope",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    // For a scope outside the catalogue, `scope_denied` is the pattern verdict alone.
    for ((s, def), denied) in cx.scopes.iter().zip(cx.scope_denied()) {
        if def.is_some() || *denied {
            continue;
        }
        let suggestion =
            crate::policy::did_you_mean(&s.value, cx.policy.scopes.keys().map(String::as_str));
        match suggestion {
            Some(sug) => out
                .at(
                    s,
                    format!(
                        "scope `{}` is not in the policy's catalogue; did you mean `{sug}`?",
                        s.value
                    ),
                )
                .scope_fix(cx, s, Some(sug)),
            None => {
                out.at(
                    s,
                    format!("scope `{}` is not in the policy's catalogue", s.value),
                );
            }
        }
    }
}
