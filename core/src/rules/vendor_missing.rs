//! MV-VENDOR-003 vendor-missing
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-VENDOR-003",
    name: "vendor-missing",
    category: Category::Vendors,
    severity: Severity::Medium,
    summary: "a third-party dependency does not name its vendor",
    what: "That each `third_party_deps` item has a non-empty `vendor`.",
    why: "A dependency without a vendor cannot be checked against approved vendors or DPAs; it is exactly the undocumented add-on Micro Apps, Macro Risk warns about.",
    example: "third_party_deps: [{ name: pdf-export }]",
    fix: "Add the vendor's domain, e.g. `vendor: pdf-tools.com`.",
    references: &[
        "Micro Apps, Macro Risk (2026): manifest (3rd-party sinks)",
        "policy: vendors.approved",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for d in cx
        .manifest
        .third_party_deps
        .iter()
        .flat_map(|d| d.value.iter())
    {
        if d.vendor.as_ref().is_none_or(|v| v.value.trim().is_empty()) {
            let name = d.name.as_ref().map_or_else(
                || "a dependency".to_string(),
                |n| format!("dependency `{}`", n.value),
            );
            out.report(&d.path, Some(d.line), format!("{name} has no `vendor`"));
        }
    }
}
