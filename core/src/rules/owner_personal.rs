//! MV-OWNER-004 owner-personal-mailbox
use super::owner_not_email::email_domain;
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-OWNER-004",
    name: "owner-personal-mailbox",
    category: Category::Identity,
    severity: Severity::High,
    summary: "the owner is a personal mailbox (gmail.com, outlook.com, ...)",
    what: "Whether the owner's email domain is one of the policy's `organisation.personal_email_domains`.",
    why: "A personal mailbox is outside the organisation's identity lifecycle: it survives offboarding, cannot be recertified through IGA and is the classic sign of a compromised or shadow citizen-developer account (Micro Apps, Macro Risk's threat model, item 2).",
    example: "owner: jane.doe@gmail.com",
    fix: "Make the owner the person's work address under the organisation's domain.",
    references: &[
        "policy: organisation.personal_email_domains",
        "Micro Apps, Macro Risk (2026): Threat model (compromised citizen developer account)",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    if let Some(o) = &cx.manifest.owner
        && let Some(domain) = email_domain(&o.value)
        && super::support::matching::is_personal_domain(cx.policy, domain)
        && !super::support::matching::is_org_domain(cx.policy, domain)
    {
        out.at(
            o,
            format!(
                "owner `{}` is a personal mailbox (`{domain}`)",
                o.value.trim()
            ),
        );
    }
}
