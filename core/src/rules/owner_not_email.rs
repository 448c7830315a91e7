//! MV-OWNER-002 owner-not-email
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-OWNER-002",
    name: "owner-not-email",
    category: Category::Identity,
    severity: Severity::High,
    summary: "the owner is not an email address",
    what: "That `owner` is a single email address `local@domain.tld` (no display name, no spaces, no list).",
    why: "Recertification, expiry notices and incident contact are automated by mail; an owner like `HR team` cannot be reached or mapped to an identity in IGA.",
    example: "owner: HR team",
    fix: "Use the accountable person's work email, e.g. `owner: hr@example.com`.",
    references: &[
        "Micro Apps, Macro Risk (2026): 7-step vet, step 6 (owner contact info)",
        "RFC 5322 §3.4.1 (addr-spec)",
    ],
    relational: false,
    check,
};

/// Split a plain `local@domain` address; `None` if it is not one.
pub(crate) fn email_domain(s: &str) -> Option<&str> {
    let s = s.trim();
    let (local, domain) = s.split_once('@')?;
    let ok_local = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    // At least two labels (a `.`), each a valid label; no list of them is built.
    let ok_domain = domain.contains('.')
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    (ok_local && ok_domain).then_some(domain)
}

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    if let Some(o) = &cx.manifest.owner
        && !o.value.trim().is_empty()
        && email_domain(&o.value).is_none()
    {
        out.at(
            o,
            format!("owner `{}` is not an email address", o.value.trim()),
        );
    }
}
