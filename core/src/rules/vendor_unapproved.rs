//! MV-VENDOR-001 vendor-not-approved
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-VENDOR-001",
    name: "vendor-not-approved",
    category: Category::Vendors,
    severity: Severity::Medium,
    summary: "a third-party dependency's vendor is not on the approved list",
    what: "Each `third_party_deps[].vendor` against the policy's `vendors.approved` domains.",
    why: "Add-ons and chatbots embedded in micro apps leak data or execute code (Micro Apps, Macro Risk's threat model, item 5); an auditor flagged the lack of vendor contracts in Micro Apps, Macro Risk's case study.",
    example: "third_party_deps: [{ name: chat-plugin, vendor: plugin-vendor.com }]",
    fix: "Use an approved vendor, or have the vendor reviewed and added to the policy.",
    references: &[
        "policy: vendors.approved",
        "Micro Apps, Macro Risk (2026): Threat model item 5 and case study",
    ],
    relational: false,
    check,
};

impl<'a> Ctx<'a> {
    /// The approved vendor of each third-party dependency, in `third_party_deps` order,
    /// looked up once per vet (this rule, `MV-VENDOR-002`, `-004` and the risk score).
    pub(crate) fn approved_vendors(&self) -> &[Option<&'a crate::policy::Vendor>] {
        self.shared.approved_vendors.get_or_init(|| {
            let deps = self.manifest.third_party_deps.as_ref();
            deps.map_or(&[][..], |d| &d.value)
                .iter()
                .map(|d| {
                    d.vendor
                        .as_ref()
                        .and_then(|v| approved(self.policy, &v.value))
                })
                .collect()
        })
    }
}

/// The approved vendor whose domain covers `vendor`, if any.
pub(crate) fn approved<'p>(
    policy: &'p crate::policy::PolicyDoc,
    vendor: &str,
) -> Option<&'p crate::policy::Vendor> {
    let v = vendor
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let v = v.split('/').next().unwrap_or(v);
    policy
        .vendors
        .approved
        .iter()
        .find(|a| super::support::matching::host_in_domain(v, &a.domain))
}

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let deps = cx
        .manifest
        .third_party_deps
        .iter()
        .flat_map(|d| d.value.iter());
    for (d, approved) in deps.zip(cx.approved_vendors()) {
        if let Some(v) = &d.vendor
            && !v.value.trim().is_empty()
            && approved.is_none()
        {
            out.at(
                v,
                [
                    "vendor `",
                    v.value.trim(),
                    "` is not on the approved vendor list",
                ]
                .concat(),
            );
        }
    }
}
