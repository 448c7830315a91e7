//! MV-SCOPE-003 broad-scope
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-SCOPE-003",
    name: "broad-scope",
    category: Category::Scopes,
    severity: Severity::High,
    summary: "a scope looks like a wildcard, admin or all-access scope",
    what: "Each scope not already denied by policy, for shapes that grant everything: a `*`, an `admin`, `all`, `full`, `root` or `superuser` segment, or `.ReadWrite.All`-style names.",
    why: "Over-privileged tokens with broad scopes are Micro Apps, Macro Risk's second risk; a scope named like `files.all` grants far more than a micro app needs and makes consent meaningless.",
    example: "oauth_scopes: [files.full_access]",
    fix: "Replace it with the narrow read scope for the data the app declares.",
    references: &[
        "Micro Apps, Macro Risk (2026): over-privileged tokens with broad scopes",
        "RFC 9700 §2.3 (privilege restriction)",
        "RFC 6749 §3.3",
    ],
    relational: false,
    check,
};

const BROAD: &[&str] = &[
    "*",
    "admin",
    "all",
    "full",
    "full_access",
    "fullaccess",
    "root",
    "superuser",
    "any",
    "everything",
];

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for ((s, _), denied) in cx.scopes.iter().zip(cx.scope_denied()) {
        if *denied {
            continue;
        }
        // ASCII case-insensitive (BROAD is lowercase), without a lowercased copy.
        let v = s.value.as_str();
        let broad = v.contains('*')
            || v.split(['.', ':', '/', '_', '-'])
                .any(|seg| BROAD.iter().any(|b| seg.eq_ignore_ascii_case(b)))
            || v.len() >= 13
                && v.as_bytes()
                    .get(v.len() - 13..)
                    .is_some_and(|t| t.eq_ignore_ascii_case(b"readwrite.all"));
        if broad {
            out.at(
                s,
                format!("scope `{}` looks like a wildcard or admin scope", s.value),
            )
            .scope_fix(cx, s, None);
        }
    }
}
