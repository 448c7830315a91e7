//! MV-VENDOR-002 personal-data-without-dpa
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-VENDOR-002",
    name: "personal-data-without-dpa",
    category: Category::Vendors,
    severity: Severity::High,
    summary: "a vendor receives personal data without a recorded DPA",
    what: "Each dependency whose `data` lists a personal data type (per the policy's data classes) and that has neither `dpa: true` nor a DPA on record in `vendors.approved`.",
    why: "Third-party processors of personal data need a data processing agreement (GDPR Art. 28); Micro Apps, Macro Risk: require additional approval and a DPA for third-party processors; its case study's auditor flagged missing vendor contracts.",
    example: "third_party_deps:\n  - { name: crm-sync, vendor: sync-tools.io, data: [customer.pii] }",
    fix: "Sign a DPA with the vendor and record it (`dpa: true`), or stop sending it personal data.",
    references: &[
        "GDPR Art. 28",
        "Micro Apps, Macro Risk (2026): require a DPA for third-party processors",
        "policy: vendors.approved[].dpa",
    ],
    relational: false,
    check,
};

/// Whether the dependency has a DPA, recorded in the manifest or on file in the policy.
/// `approved` is the dependency's approved vendor ([`Ctx::approved_vendors`]).
pub(crate) fn has_dpa(
    d: &crate::manifest::Dependency,
    approved: Option<&crate::policy::Vendor>,
) -> bool {
    d.dpa.as_ref().is_some_and(|x| x.value) || approved.is_some_and(|a| a.dpa)
}

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let deps = cx
        .manifest
        .third_party_deps
        .iter()
        .flat_map(|d| d.value.iter());
    for (d, approved) in deps.zip(cx.approved_vendors()) {
        if has_dpa(d, *approved) {
            continue;
        }
        for t in d.data.iter().flat_map(|x| x.value.iter()) {
            if cx.policy.class_of(&t.value).is_some_and(|c| c.1.personal) {
                let who = d.vendor.as_ref().or(d.name.as_ref()).map_or_else(
                    || "a dependency".to_string(),
                    |v| format!("`{}`", v.value.trim()),
                );
                out.at(
                    t,
                    format!(
                        "{who} receives personal data `{}` but has no DPA on record",
                        t.value
                    ),
                );
            }
        }
    }
}
