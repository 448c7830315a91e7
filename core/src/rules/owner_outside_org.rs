//! MV-OWNER-003 owner-outside-organisation
use super::owner_not_email::email_domain;
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-OWNER-003",
    name: "owner-outside-organisation",
    category: Category::Identity,
    severity: Severity::Medium,
    summary: "the owner's address is not in the organisation's domains",
    what: "That the owner's email domain is one of the policy's `organisation.domains` (or a subdomain). Personal mailboxes are reported by MV-OWNER-004 instead.",
    why: "An owner outside the organisation leaves with a contractor's engagement and cannot be held to the organisation's recertification and offboarding; the app's identity then has no accountable insider.",
    example: "owner: jane@partner-agency.io",
    fix: "Make an employee with an address under the organisation's domains the owner.",
    references: &[
        "policy: organisation.domains",
        "Micro Apps, Macro Risk (2026): Identity governance & compliance",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    if let Some(o) = &cx.manifest.owner
        && let Some(domain) = email_domain(&o.value)
        && !super::support::matching::is_org_domain(cx.policy, domain)
        && !super::support::matching::is_personal_domain(cx.policy, domain)
    {
        out.at(
            o,
            format!(
                "owner domain `{domain}` is not one of the organisation's domains ({})",
                cx.policy.organisation.domains.join(", ")
            ),
        );
    }
}
