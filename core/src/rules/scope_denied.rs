//! MV-SCOPE-001 denied-scope
use super::matching::glob_match;
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-SCOPE-001",
    name: "denied-scope",
    category: Category::Scopes,
    severity: Severity::Critical,
    summary: "the app requests a scope the policy denies",
    what: "Each of `oauth_scopes` against the catalogue's `denied: true` scopes and the policy's `denied_scope_patterns`.",
    why: "Denied scopes (directory administration, secrets, wildcards) give a micro app the blast radius of an administrator; consent phishing with such scopes is the seed's first threat. The seed: block approval for risky scopes unless vetted by security.",
    example: "oauth_scopes: [openid, directory.admin]",
    fix: "Remove the scope; request the narrow scope that covers the data the app needs.",
    references: &[
        "policy: scopes.*.denied, denied_scope_patterns",
        "the seed: Consent & scopes (block risky scopes)",
        "RFC 9700 §2.3 (privilege restriction)",
    ],
    check,
};

/// Whether a scope is denied by the policy (catalogue or pattern).
/// Decided once per vet, in [`Ctx::scope_denied`].
pub(crate) fn is_denied(
    policy: &crate::policy::PolicyDoc,
    scope: &str,
    def: Option<&crate::policy::ScopeDef>,
) -> bool {
    def.is_some_and(|d| d.denied)
        || policy
            .denied_scope_patterns
            .iter()
            .any(|p| glob_match(p, scope))
}

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for ((s, _), denied) in cx.scopes.iter().zip(&cx.scope_denied) {
        if *denied {
            out.at(s, format!("scope `{}` is denied by policy", s.value))
                .scope_fix(cx, s, None);
        }
    }
}
