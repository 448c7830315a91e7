//! MV-DATA-001 unknown-data-type
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-DATA-001",
    name: "unknown-data-type",
    category: Category::Data,
    severity: Severity::Medium,
    summary: "a data type is not in the policy's data catalogue",
    what: "Each `data_access[].type` against the policy's `data_types`.",
    why: "Risk is scored from data sensitivity; an unclassified data type cannot be scored, so it could hide HR or payment data. Micro Apps, Macro Risk: map data flows for high-sensitivity data.",
    example: "data_access: [{ type: hr.salaries }]",
    fix: "Use a catalogued data type (the message suggests the closest), or ask for it to be classified.",
    references: &[
        "policy: data_types, data_classes",
        "Micro Apps, Macro Risk (2026): map data flows for high-sensitivity data",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for d in &cx.data {
        if cx.policy.data_types.contains_key(&d.name.value) {
            continue;
        }
        match crate::policy::did_you_mean(
            &d.name.value,
            cx.policy.data_types.keys().map(String::as_str),
        ) {
            Some(sug) => out
                .at(
                    d.name,
                    format!(
                        "data type `{}` is not in the policy's catalogue; did you mean `{sug}`?",
                        d.name.value
                    ),
                )
                .fix(
                    "replace",
                    &d.name.path,
                    Some(json!(sug)),
                    format!("replace `{}` with `{sug}`", d.name.value),
                ),
            None => {
                out.at(
                    d.name,
                    format!(
                        "data type `{}` is not in the policy's catalogue",
                        d.name.value
                    ),
                );
            }
        }
    }
}
