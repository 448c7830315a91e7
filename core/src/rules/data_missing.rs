//! MV-DATA-003 data-access-missing
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-DATA-003",
    name: "data-access-missing",
    category: Category::Data,
    severity: Severity::Medium,
    summary: "the manifest does not declare what data the app touches",
    what: "That `data_access` is present.",
    why: "Everything else is judged against the declared data: scope over-privilege, retention, sinks and vendors. An app that declares nothing cannot be vetted for data minimisation.",
    example: "name: quick-report\n# data_access: missing",
    fix: "List every data type the app reads or writes under `data_access` (an empty list if it touches none).",
    references: &["Micro Apps, Macro Risk (2026): manifest (data accessed)"],
    relational: true,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    if cx.dcr || cx.manifest.data_access.is_some() || cx.root.get("data_access").is_some() {
        return;
    }
    out.report(
        "/data_access",
        None,
        "the manifest has no `data_access`; declare the data the app touches",
    );
}
