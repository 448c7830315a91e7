//! MV-SCOPE-001 denied-scope
use super::prelude::*;
use super::support::matching::glob_match_ignore_ascii_case;

pub static RULE: Rule = Rule {
    id: "MV-SCOPE-001",
    name: "denied-scope",
    category: Category::Scopes,
    severity: Severity::Critical,
    summary: "the app requests a scope the policy denies",
    what: "Each of `oauth_scopes` (in normal form, see MV-SCHEMA-005) against the catalogue's `denied: true` scopes and the policy's `denied_scope_patterns`, ignoring ASCII case: `ADMIN` and `Directory.Admin` are denied like `admin` and `directory.admin`.",
    why: "Denied scopes (directory administration, secrets, wildcards) give a micro app the blast radius of an administrator; consent phishing with such scopes is Micro Apps, Macro Risk's first threat. Micro Apps, Macro Risk: block approval for risky scopes unless vetted by security.",
    example: "oauth_scopes: [openid, directory.admin]",
    fix: "Remove the scope; request the narrow scope that covers the data the app needs.",
    references: &[
        "policy: scopes.*.denied, denied_scope_patterns",
        "Micro Apps, Macro Risk (2026): Consent & scopes (block risky scopes)",
        "RFC 9700 §2.3 (privilege restriction)",
    ],
    relational: false,
    check,
};

/// Whether a scope is denied by the policy (catalogue or pattern), ignoring ASCII case:
/// a deny list fails closed on case variants, which some authorization servers treat as
/// the same scope.
pub(crate) fn is_denied(
    policy: &crate::policy::PolicyDoc,
    scope: &str,
    def: Option<&crate::policy::ScopeDef>,
) -> bool {
    def.is_some_and(|d| d.denied)
        || policy
            .scopes
            .iter()
            .any(|(k, d)| d.denied && k.eq_ignore_ascii_case(scope))
        || policy
            .denied_scope_patterns
            .iter()
            .any(|p| glob_match_ignore_ascii_case(p, scope))
}

impl Ctx<'_> {
    /// Whether each of [`Ctx::scopes`] is denied ([`is_denied`]), decided once per vet:
    /// this rule reports it and the other scope rules skip a denied scope.
    pub(crate) fn scope_denied(&self) -> &[bool] {
        self.shared.scope_denied.get_or_init(|| {
            self.scopes
                .iter()
                .map(|(s, def)| is_denied(self.policy, &s.value, *def))
                .collect()
        })
    }
}

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for ((s, _), denied) in cx.scopes.iter().zip(cx.scope_denied()) {
        if *denied {
            out.at(s, format!("scope `{}` is denied by policy", s.value))
                .scope_fix(cx, s, None);
        }
    }
}
