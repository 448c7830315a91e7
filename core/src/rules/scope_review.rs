//! MV-SCOPE-002 scope-needs-review
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-SCOPE-002",
    name: "scope-needs-review",
    category: Category::Scopes,
    severity: Severity::Medium,
    summary: "a scope needs a security review before approval",
    what: "Each of `oauth_scopes` marked `review: true` in the policy's scope catalogue.",
    why: "Some scopes are legitimate but powerful (HR write, payments read). Micro Apps, Macro Risk: block approval for risky scopes unless the app is vetted by security; the verdict adds a `security_review` control.",
    example: "oauth_scopes: [payments.read]",
    fix: "Request the security review, or use a narrower scope.",
    references: &[
        "policy: scopes.*.review",
        "Micro Apps, Macro Risk (2026): Consent & scopes",
    ],
    relational: false,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for (s, def) in &cx.scopes {
        if def.is_some_and(|d| d.review && !d.denied) {
            out.at(s, format!("scope `{}` requires a security review", s.value));
        }
    }
}
