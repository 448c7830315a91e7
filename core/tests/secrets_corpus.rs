//! Recall and false-positive rate of MV-SECRET-001 over a labelled corpus
//! (`secrets_corpus.tsv`): positives per kind (vendor token formats, secrets in prose, URLs,
//! keys, numbers under secret-named keys) and negatives that are realistic non-secrets in
//! manifests (UUIDs, digests, git SHAs in URLs, vault references, placeholders...).
//!
//! In a fragment `\n` is a new line and `\\n` a YAML escape (backslash, `n`).
//!
//! A positive counts as found when the verdict has an MV-SECRET-001 finding, and as leaked
//! when the verdict JSON still holds its token in any case. A negative is a false positive
//! when the verdict has an MV-SECRET-001 finding. `cargo test -p microvet-core --test
//! secrets_corpus -- --nocapture` prints the table per kind (docs/RULES.md quotes it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
use support::rule;

use microvet_core::Policy;
use std::collections::BTreeMap;

/// A clean manifest (no MV-SECRET-001), as top-level entries a fragment may replace.
const BASE: &[(&str, &str)] = &[
    ("name", "name: team-lunch-poll"),
    ("owner", "owner: facilities@example.com"),
    (
        "purpose",
        "purpose: let the office vote on the weekly team lunch venue",
    ),
    ("data_access", "data_access:\n  - type: user.profile"),
    ("retention_days", "retention_days: 14"),
    ("oauth_scopes", "oauth_scopes: [openid, profile]"),
    (
        "external_sinks",
        "external_sinks: [https://polls.example.com/api/results]",
    ),
    ("expiry_days", "expiry_days: 30"),
    (
        "instrumentation",
        "instrumentation:\n  audit_log: siem://corp/micro-apps/team-lunch-poll\n  contact: facilities-oncall@example.com",
    ),
];

struct Case {
    positive: bool,
    kind: String,
    token: String,
    manifest: String,
}

fn cases() -> Vec<Case> {
    let text = include_str!("secrets_corpus.tsv");
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 4, "line {}: {line}", n + 1);
        let fragment = cols[3]
            .replace("\\\\n", "\u{0}")
            .replace("\\n", "\n")
            .replace('\u{0}', "\\n")
            .replace("{T}", cols[2]);
        let top = fragment.split(':').next().unwrap().to_string();
        let mut manifest: String = BASE
            .iter()
            .filter(|(k, _)| *k != top)
            .map(|(_, v)| format!("{v}\n"))
            .collect();
        manifest.push_str(&fragment);
        manifest.push('\n');
        out.push(Case {
            positive: cols[0] == "+",
            kind: cols[1].to_string(),
            token: cols[2].to_string(),
            manifest,
        });
    }
    out
}

#[test]
fn recall_and_false_positive_rate() {
    let policy = Policy::builtin().unwrap();
    // kind -> (cases, flagged, leaked)
    let mut per_kind: BTreeMap<(bool, String), (u32, u32, u32)> = BTreeMap::new();
    let mut misses = Vec::new();
    for c in cases() {
        let v = policy
            .vet(&c.manifest)
            .unwrap_or_else(|e| panic!("{}: {e:?}\n{}", c.kind, c.manifest));
        let flagged = v
            .findings
            .iter()
            .any(|f| f.rule == rule("MV-SECRET-001").id);
        let json = v.to_json().to_lowercase();
        let leaked = c.positive && json.contains(&c.token.trim().to_lowercase());
        let e = per_kind.entry((c.positive, c.kind.clone())).or_default();
        e.0 += 1;
        e.1 += u32::from(flagged);
        e.2 += u32::from(leaked);
        if flagged != c.positive || leaked {
            misses.push(format!(
                "{} {} (flagged {flagged}, leaked {leaked}):\n{}",
                if c.positive { "+" } else { "-" },
                c.kind,
                c.manifest
            ));
        }
    }
    let (mut pos, mut found, mut leaks, mut neg, mut fps) = (0, 0, 0, 0, 0);
    println!("| label | kind | cases | flagged | leaked |\n|---|---|---|---|---|");
    for ((positive, kind), (n, flagged, leaked)) in &per_kind {
        println!(
            "| {} | {kind} | {n} | {flagged} | {leaked} |",
            if *positive { "secret" } else { "not a secret" }
        );
        if *positive {
            pos += n;
            found += flagged;
            leaks += leaked;
        } else {
            neg += n;
            fps += flagged;
        }
    }
    let recall = f64::from(found) / f64::from(pos);
    let fpr = f64::from(fps) / f64::from(neg);
    println!(
        "positives {pos}, found {found} (recall {recall:.3}), leaked {leaks}; negatives {neg}, flagged {fps} (FPR {fpr:.3})"
    );
    for m in &misses {
        println!("{m}");
    }
    assert!(recall >= 0.98, "recall {recall:.3}");
    assert!(fpr <= 0.02, "false-positive rate {fpr:.3}");
    assert_eq!(leaks, 0, "secrets quoted back");
}
