//! MV-VENDOR-004 vendor-data-undeclared
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-VENDOR-004",
    name: "vendor-data-undeclared",
    category: Category::Vendors,
    severity: Severity::Low,
    summary: "a dependency of an app with personal data does not say what data it receives",
    what: "When the app declares personal data: each dependency without a DPA that has no `data` list.",
    why: "Whether a plugin needs a DPA depends on what it receives; if the manifest does not say, reviewers must ask. Declaring `data: []` states that it receives none.",
    example: "data_access: [{ type: customer.pii }]\nthird_party_deps: [{ name: chat-plugin, vendor: plugin-vendor.com }]",
    fix: "Add `data:` to the dependency listing the data types it receives (`[]` if none).",
    references: &[
        "GDPR Art. 28",
        "Micro Apps, Macro Risk (2026): map data flows for high-sensitivity data",
    ],
    relational: true,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    if !cx.personal {
        return;
    }
    let deps = cx
        .manifest
        .third_party_deps
        .iter()
        .flat_map(|d| d.value.iter());
    for (d, approved) in deps.zip(cx.approved_vendors()) {
        if d.data.is_none() && !super::vendor_dpa::has_dpa(d, *approved) {
            let who = d.name.as_ref().or(d.vendor.as_ref());
            let (open, who, close) =
                who.map_or(("", "a dependency", ""), |v| ("`", v.value.trim(), "`"));
            out.report(
                &d.path,
                Some(d.line),
                [
                    open,
                    who,
                    close,
                    " does not declare which data it receives; the app handles personal data",
                ]
                .concat(),
            );
        }
    }
}
