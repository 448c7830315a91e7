//! MV-SCOPE-005 scope-grants-undeclared-data
use super::prelude::*;
use super::support::matching::scope_grants;

pub static RULE: Rule = Rule {
    id: "MV-SCOPE-005",
    name: "scope-grants-undeclared-data",
    category: Category::Scopes,
    severity: Severity::Medium,
    summary: "a scope grants data the manifest does not declare in data_access",
    what: "For each catalogued scope that grants data types: that at least one of them is declared in `data_access`.",
    why: "Over-privilege: a token that can read data the app says it does not touch is pure blast radius. Least privilege by scope is Micro Apps, Macro Risk's core control.",
    example: "data_access: [{ type: user.profile }]\noauth_scopes: [openid, profile, customer.read]",
    fix: "Remove the scope, or declare the data it is really needed for.",
    references: &[
        "Micro Apps, Macro Risk (2026): least privilege by scope",
        "RFC 9700 §2.3 (privilege restriction)",
    ],
    relational: true,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    if cx.dcr {
        return;
    }
    // Whether a catalogued scope's data is declared, once per scope definition (by its
    // address): a list repeating one scope would otherwise scan the data list each time.
    // (At most one entry per definition of the policy's catalogue.)
    let mut used_of: Vec<(*const crate::policy::ScopeDef, bool)> = Vec::new();
    for (s, def) in &cx.scopes {
        let Some(def) = def else { continue };
        if def.grants.is_empty() || def.denied {
            continue;
        }
        let id = std::ptr::from_ref(*def);
        let used = match used_of.iter().find(|(d, _)| *d == id) {
            Some((_, used)) => *used,
            None => {
                let used = cx.data.iter().any(|d| scope_grants(def, &d.name.value));
                used_of.push((id, used));
                used
            }
        };
        if !used {
            out.at(
                s,
                format!(
                    "scope `{}` grants data that `data_access` does not declare ({})",
                    s.value,
                    def.grants.join(", ")
                ),
            )
            .scope_fix(cx, s, None);
        }
    }
}
