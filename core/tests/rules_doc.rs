//! `docs/RULES.md` is the rule catalogue. Its table of every rule is generated from the
//! registry ([`microvet_core::rules::RULES`]); this test fails when the file is stale
//! (regenerate with `MICROVET_BLESS=1 cargo test -p microvet-core --test rules_doc`) and
//! when an OAuth rule is missing from the hand-written Keycloak mapping.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use microvet_core::rules::{RETIRED, RULES};
use std::path::{Path, PathBuf};

const BEGIN: &str = "<!-- BEGIN GENERATED: rule table (from the registry; `MICROVET_BLESS=1 cargo test -p microvet-core --test rules_doc` rewrites it) -->";
const END: &str = "<!-- END GENERATED: rule table -->";
const MAPPING: &str = "## OAuth rules, RFCs and Keycloak client policies";

fn doc_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/RULES.md")
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The generated table: ID, name, default severity, category, summary.
fn table() -> String {
    let mut out =
        String::from("| ID | Name | Severity | Category | Summary |\n|---|---|---|---|---|\n");
    for r in RULES {
        let category = serde_json::to_value(r.category).unwrap();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            r.id,
            r.name,
            r.severity.as_str(),
            category.as_str().unwrap_or(""),
            cell(r.summary)
        ));
    }
    for id in RETIRED {
        out.push_str(&format!("| `{id}` | (retired) | | | never reused |\n"));
    }
    out.push_str(&format!(
        "\n{} rules. `microvet explain ID` prints a rule's full documentation.\n",
        RULES.len()
    ));
    out
}

#[test]
fn rules_md_table_is_generated_from_the_registry() {
    let path = doc_path();
    let text = std::fs::read_to_string(&path).expect("docs/RULES.md exists");
    let start = text
        .find(BEGIN)
        .expect("docs/RULES.md has the BEGIN marker");
    let end = text.find(END).expect("docs/RULES.md has the END marker");
    assert!(start < end);
    let want = format!("{BEGIN}\n{}{END}", table());
    let got = &text[start..end + END.len()];
    if got != want {
        if std::env::var_os("MICROVET_BLESS").is_some() {
            let new = format!("{}{want}{}", &text[..start], &text[end + END.len()..]);
            std::fs::write(&path, new).unwrap();
        } else {
            panic!(
                "docs/RULES.md is out of date: rerun with MICROVET_BLESS=1 and commit the result"
            );
        }
    }
}

#[test]
fn every_oauth_rule_is_in_the_keycloak_mapping() {
    let text = std::fs::read_to_string(doc_path()).unwrap();
    let section = text
        .split(MAPPING)
        .nth(1)
        .expect("docs/RULES.md has the OAuth mapping section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let missing: Vec<&str> = RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| id.starts_with("MV-OAUTH-") && !section.contains(&format!("`{id}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "OAuth rules missing from the mapping table: {missing:?}"
    );
}
