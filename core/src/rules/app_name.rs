//! MV-APP-002 name-not-slug
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-APP-002",
    name: "name-not-slug",
    category: Category::Identity,
    severity: Severity::Low,
    summary: "the app name is missing or not a slug",
    what: "That `name` is present and a slug: 3-63 characters of lowercase letters, digits and single hyphens, starting with a letter.",
    why: "The name becomes the client's identifier in the IdP, in logs and in SIEM queries; a stable slug makes the app findable in every inventory Micro Apps, Macro Risk's playbook asks for.",
    example: "name: HR Onboarding Helper!",
    fix: "Use a slug such as `hr-onboarding-helper`.",
    references: &["Micro Apps, Macro Risk (2026): playbook step 1 (inventory)"],
    relational: false,
    check,
};

/// Turn any text into a slug (for the fix).
fn slugify(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').chars().take(63).collect::<String>();
    out.trim_end_matches('-').to_string()
}

pub(crate) fn is_slug(s: &str) -> bool {
    let len = s.len();
    (3..=63).contains(&len)
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && !s.contains("--")
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn check(cx: &Ctx<'_>, out: &mut Out<'_>) {
    if cx.dcr {
        return;
    }
    match &cx.manifest.name {
        None => {
            out.report("/name", None, "the app has no `name`");
        }
        // A name holding a secret is neither quoted nor turned into a slug (MV-SECRET-001).
        Some(n) if cx.secrets().iter().any(|h| h.path == n.path) => {
            out.at(
                n,
                "the name holds a secret (redacted) and is not a slug (lowercase letters, digits, hyphens)",
            );
        }
        Some(n) if !is_slug(&n.value) => {
            let slug = slugify(&n.value);
            let r = out.at(
                n,
                format!(
                    "name `{}` is not a slug (lowercase letters, digits, hyphens)",
                    n.value
                ),
            );
            if is_slug(&slug) {
                r.fix(
                    "replace",
                    &n.path,
                    Some(json!(slug)),
                    format!("rename the app to `{slug}`"),
                );
            }
        }
        Some(_) => {}
    }
}
