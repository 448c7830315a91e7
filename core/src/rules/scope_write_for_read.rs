//! MV-SCOPE-006 write-scope-for-read-access
use super::prelude::*;
use super::support::matching::scope_grants;
use crate::policy::Access as ScopeAccess;

pub static RULE: Rule = Rule {
    id: "MV-SCOPE-006",
    name: "write-scope-for-read-access",
    category: Category::Scopes,
    severity: Severity::High,
    summary: "a write scope is requested where the app only declares read access",
    what: "For each catalogued write scope: whether every data type it grants that the app declares is declared read-only.",
    why: "Micro Apps, Macro Risk's case study: an HR app requested `hr:write` though it only needed read access, and candidate PII was exposed. A write token turns a leak into tampering.",
    example: "data_access: [{ type: hr.candidate_records }]\noauth_scopes: [hr.write]",
    fix: "Replace the write scope with its read alternative from the catalogue (e.g. `hr.read_only`), or remove it when the read scope is already requested.",
    references: &[
        "Micro Apps, Macro Risk (2026): case study (hr:write when read suffices)",
        "RFC 9700 §2.3 (privilege restriction)",
    ],
    relational: true,
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    // Whether a write scope is read-only for this app, once per scope definition (by its
    // address): a list repeating one scope would otherwise scan the data list each time.
    // (At most one entry per definition of the policy's catalogue.)
    let mut read_only_of: Vec<(*const crate::policy::ScopeDef, bool)> = Vec::new();
    for (s, def) in &cx.scopes {
        let Some(def) = def else { continue };
        if def.access != ScopeAccess::Write || def.denied {
            continue;
        }
        let id = std::ptr::from_ref(*def);
        let read_only = match read_only_of.iter().find(|(d, _)| *d == id) {
            Some((_, read_only)) => *read_only,
            None => {
                let mut covered = cx
                    .data
                    .iter()
                    .filter(|d| scope_grants(def, &d.name.value))
                    .peekable();
                let read_only =
                    covered.peek().is_some() && covered.all(|d| d.access != Access::Write);
                read_only_of.push((id, read_only));
                read_only
            }
        };
        if !read_only {
            continue;
        }
        let r = out.at(
            s,
            format!(
                "scope `{}` grants write access but `data_access` declares only read",
                s.value
            ),
        );
        match &def.read_alternative {
            // The read scope is already requested: the write scope goes, no duplicate comes.
            Some(alt) if !cx.scopes.iter().any(|(o, _)| o.value == *alt) => {
                r.scope_fix(cx, s, Some(alt));
            }
            _ => r.scope_fix(cx, s, None),
        }
    }
}
