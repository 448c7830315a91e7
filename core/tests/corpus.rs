//! Golden corpus: every case in `tests/corpus/<case>/` is vetted by the native core and
//! compared byte for byte with the canonical form of `expected.json`. The same files are the
//! contract for the wasmtime host, Node and Chromium (parity). Regenerate with
//! `MICROVET_BLESS=1`.
//!
//! A case may also hold `waivers.yaml` (a waivers file added to the built-in policy) and
//! `today` (the day of the vet, `YYYY-MM-DD`; without it the vet is made on no day).
//!
//! Golden files are stored pretty-printed, so that a change shows as a readable diff; the
//! bytes every runtime must produce are their compact form (`canonical`), and this test
//! checks that the compact form of each stored file gives back exactly the verdict's bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use microvet_core::{Date, InputKind, Policy, Verdict};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus")
}

/// One case of the corpus.
struct Case {
    name: String,
    kind: InputKind,
    text: String,
    dir: PathBuf,
    /// The case's waivers file, if any.
    waivers: Option<String>,
    /// The day of the vet, if the case says.
    today: Option<Date>,
}

impl Case {
    /// The case's vet: the built-in policy with the case's waivers, on the case's day.
    fn vet(&self) -> microvet_core::Result<Verdict> {
        let mut policy = Policy::builtin().unwrap();
        if let Some(w) = &self.waivers {
            policy = policy.with_waivers(w)?;
        }
        policy.vet_on(self.kind, &self.text, self.today)
    }
}

/// Every case, sorted by name.
fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let (kind, file) = if dir.join("dcr.json").exists() {
            (InputKind::Dcr, "dcr.json")
        } else if dir.join("input.json").exists() {
            (InputKind::Manifest, "input.json")
        } else {
            (InputKind::Manifest, "input.yaml")
        };
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let waivers = std::fs::read_to_string(dir.join("waivers.yaml")).ok();
        let today = std::fs::read_to_string(dir.join("today"))
            .ok()
            .map(|t| Date::parse(t.trim_end()).unwrap());
        out.push(Case {
            name,
            kind,
            text,
            dir,
            waivers,
            today,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The bytes a golden file stands for: its JSON, compact, members in stored order.
fn canonical(golden: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(golden).ok()?;
    serde_json::to_string(&value).ok()
}

/// How a verdict's canonical JSON is stored: pretty-printed, with a final newline.
fn pretty(canonical: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(canonical).unwrap();
    serde_json::to_string_pretty(&value).unwrap() + "\n"
}

/// The parity output: the verdict's canonical JSON, or `{"error":…}`.
fn output(case: &Case) -> String {
    match case.vet() {
        Ok(v) => v.to_json(),
        Err(e) => format!("{{\"error\":{}}}", serde_json::to_string(&e).unwrap()),
    }
}

#[test]
fn corpus_matches_golden_files() {
    let bless = std::env::var_os("MICROVET_BLESS").is_some();
    let mut failures = Vec::new();
    for case in cases() {
        let (name, dir) = (&case.name, &case.dir);
        let got = output(&case);
        // The stored form must give back these exact bytes, or no runtime could be
        // checked against it.
        if canonical(&pretty(&got)).as_deref() != Some(got.as_str()) {
            failures.push(format!(
                "{name}: the pretty form does not round-trip to {got}"
            ));
            continue;
        }
        let path = dir.join("expected.json");
        if bless {
            std::fs::write(&path, pretty(&got)).unwrap();
            continue;
        }
        let stored = std::fs::read_to_string(&path).unwrap_or_default();
        match canonical(&stored) {
            Some(want) if want == got => {
                if stored != pretty(&got) {
                    failures.push(format!(
                        "{name}: expected.json is not stored pretty-printed"
                    ));
                }
            }
            Some(want) => failures.push(format!("{name}:\n  want {want}\n  got  {got}")),
            None => failures.push(format!("{name}: expected.json is missing or not JSON")),
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (rerun with MICROVET_BLESS=1 after review):\n{}",
        failures.join("\n")
    );
}

#[test]
fn corpus_is_big_enough_and_covers_every_rule_both_ways() {
    let cases = cases();
    assert!(cases.len() >= 12, "only {} cases", cases.len());
    let mut fired: BTreeSet<String> = BTreeSet::new();
    let mut verdicts = 0;
    let mut errors = 0;
    let mut silent_somewhere: BTreeSet<String> = BTreeSet::new();
    for case in &cases {
        match case.vet() {
            Ok(v) => {
                verdicts += 1;
                let here: BTreeSet<String> =
                    v.findings.iter().map(|f| f.rule.to_string()).collect();
                for r in microvet_core::rules::RULES {
                    if !here.contains(r.id) {
                        silent_somewhere.insert(r.id.to_string());
                    }
                }
                fired.extend(here);
            }
            Err(_) => errors += 1,
        }
    }
    assert!(
        errors >= 3,
        "need at least three broken inputs, have {errors}"
    );
    assert!(verdicts >= 9);
    let missing: Vec<&str> = microvet_core::rules::RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| !fired.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "rules with no triggering corpus case: {missing:?}"
    );
    let never_silent: Vec<&str> = microvet_core::rules::RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| !silent_somewhere.contains(*id))
        .collect();
    assert!(
        never_silent.is_empty(),
        "rules that fire on every case: {never_silent:?}"
    );
}

#[test]
fn json_twin_gives_the_same_decision_and_findings_as_yaml() {
    let policy = Policy::builtin().unwrap();
    let dir = corpus_dir();
    let y = policy
        .vet(&std::fs::read_to_string(dir.join("article-example/input.yaml")).unwrap())
        .unwrap();
    let j = policy
        .vet(&std::fs::read_to_string(dir.join("article-example-json/input.json")).unwrap())
        .unwrap();
    assert_eq!(y.decision, j.decision);
    assert_eq!(y.risk, j.risk);
    let strip = |v: &microvet_core::Verdict| {
        v.findings
            .iter()
            .map(|f| (f.rule, f.path.clone(), f.message.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&y), strip(&j));
}
