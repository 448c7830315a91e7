//! MV-INSTR-002 contact-missing
use super::owner_not_email::email_domain;
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-INSTR-002",
    name: "contact-missing",
    category: Category::Instrumentation,
    severity: Severity::Medium,
    summary: "the app has no on-call contact",
    what: "That `instrumentation.contact` is present and an email address.",
    why: "Micro Apps, Macro Risk's vet, step 6 requires owner contact info: when the SIEM alerts on the app, someone must be reachable who can revoke it.",
    example: "instrumentation: { audit_log: siem://corp/micro-apps }",
    fix: "Add `instrumentation.contact` with an on-call address; the fix proposes the owner.",
    references: &[
        "Micro Apps, Macro Risk (2026): 7-step vet, step 6",
        "policy: rules.MV-INSTR-002.severity",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    if cx.dcr {
        return;
    }
    match cx
        .manifest
        .instrumentation
        .as_ref()
        .and_then(|i| i.contact.as_ref())
    {
        None => {
            let owner = cx
                .manifest
                .owner
                .as_ref()
                .filter(|o| email_domain(&o.value).is_some());
            let r = out.report(
                "/instrumentation/contact",
                None,
                "no `instrumentation.contact`: name an on-call address",
            );
            if let (Some(o), Some(_)) = (owner, cx.manifest.instrumentation.as_ref()) {
                r.fix(
                    "add",
                    "/instrumentation/contact",
                    Some(json!(o.value.trim())),
                    "use the owner as contact",
                );
            }
        }
        Some(c) if email_domain(&c.value).is_none() => {
            out.at(c, format!("contact `{}` is not an email address", c.value));
        }
        Some(_) => {}
    }
}
