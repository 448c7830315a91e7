//! `microvet whatif`: the golden report between `policies/default.yaml` and
//! `policies/strict.yaml` over `tests/corpus/` (text and JSON, in `tests/whatif/`;
//! regenerate with `MICROVET_BLESS=1` and review the diff), and its exit codes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_microvet");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `microvet whatif ARGS` run from the repository root (so the paths in the report are
/// the relative ones given).
fn whatif(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("whatif")
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

fn golden(name: &str, got: &str) {
    let path = repo().join("tests/whatif").join(name);
    if std::env::var_os("MICROVET_BLESS").is_some() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        got == want,
        "`{}` differs (rerun with MICROVET_BLESS=1 after review):\n--- want\n{want}\n--- got\n{got}",
        path.display()
    );
}

const DEFAULT_TO_STRICT: [&str; 5] = [
    "--from",
    "policies/default.yaml",
    "--to",
    "policies/strict.yaml",
    "tests/corpus",
];

#[test]
fn default_to_strict_over_the_corpus_matches_the_golden_reports() {
    let text = whatif(&DEFAULT_TO_STRICT);
    assert_eq!(text.status.code(), Some(0), "{text:?}");
    golden(
        "default-to-strict.txt",
        &String::from_utf8(text.stdout).unwrap(),
    );
    let json = whatif(&[&DEFAULT_TO_STRICT[..], &["--format", "json"]].concat());
    assert_eq!(json.status.code(), Some(0), "{json:?}");
    let json = String::from_utf8(json.stdout).unwrap();
    golden("default-to-strict.json", &json);

    // Every corpus case is one input (its `expected.json` is not vetted).
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let cases = std::fs::read_dir(repo().join("tests/corpus"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(report["summary"]["inputs"], cases);
    // The decision changes come first in the report, stricter before looser; the
    // summary counts what the lists hold.
    let changes = report["decision_changes"].as_array().unwrap();
    assert!(!changes.is_empty());
    let directions: Vec<&str> = changes
        .iter()
        .map(|c| c["direction"].as_str().unwrap())
        .collect();
    let mut sorted = directions.clone();
    sorted.sort_by_key(|d| *d != "stricter");
    assert_eq!(directions, sorted);
    let inputs = report["inputs"].as_array().unwrap();
    let added: usize = inputs
        .iter()
        .map(|i| i["added"].as_array().unwrap().len())
        .sum();
    assert_eq!(report["summary"]["findings_added"], added);
    assert_eq!(report["summary"]["decision_changes"], changes.len());
}

#[test]
fn fail_on_tightening_exits_1_only_when_a_decision_gets_stricter() {
    let tighter = whatif(&[&DEFAULT_TO_STRICT[..], &["--fail-on-tightening"]].concat());
    assert_eq!(tighter.status.code(), Some(1), "{tighter:?}");
    // The other way round every change is looser: exit 0 with the flag.
    let looser = whatif(&[
        "--from",
        "policies/strict.yaml",
        "--to",
        "policies/default.yaml",
        "tests/corpus",
        "--fail-on-tightening",
        "--format",
        "json",
    ]);
    assert_eq!(looser.status.code(), Some(0), "{looser:?}");
    let report: serde_json::Value = serde_json::from_slice(&looser.stdout).unwrap();
    assert_eq!(report["summary"]["stricter"], 0);
    assert!(report["summary"]["looser"].as_u64().unwrap() > 0);
    // The same policy on both sides: nothing changes.
    let same = whatif(&[
        "--from",
        "policies/strict.yaml",
        "--to",
        "policies/strict.yaml",
        "tests/corpus",
        "--fail-on-tightening",
    ]);
    assert_eq!(same.status.code(), Some(0), "{same:?}");
    let text = String::from_utf8(same.stdout).unwrap();
    assert!(text.contains("decision changes (0):\n  none"), "{text}");
}

#[test]
fn a_file_named_is_vetted_and_bad_paths_or_policies_exit_2() {
    let one = whatif(&[
        "--from",
        "policies/default.yaml",
        "--to",
        "policies/strict.yaml",
        "examples/hr-onboarding-helper.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(one.status.code(), Some(0), "{one:?}");
    let report: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(report["summary"]["inputs"], 1);
    assert_eq!(report["decision_changes"][0]["to"], "remediate", "{report}");
    let missing = whatif(&[
        "--from",
        "policies/default.yaml",
        "--to",
        "policies/strict.yaml",
        "no/such/dir",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no/such/dir"));
    let bad_policy = whatif(&[
        "--from",
        "policies/default.yaml",
        "--to",
        "examples/hr-onboarding-helper.yaml",
        "tests/corpus",
    ]);
    assert_eq!(bad_policy.status.code(), Some(2), "{bad_policy:?}");
    assert!(bad_policy.stdout.is_empty());
}

/// `--store`: the live apps of the inventory are vetted too, named `app:NAME`, from the
/// manifest bytes the inventory holds; no path is needed then.
#[test]
fn the_live_apps_of_the_inventory_are_compared() {
    use microvet::lifecycle::model::NewApp;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("apps.db").display());
    let store = microvet::lifecycle::store::open(&url).unwrap();
    for (name, case) in [
        ("hr-helper", "article-example"),
        ("room-finder", "oauth-clean-confidential"),
    ] {
        let manifest =
            std::fs::read(repo().join("tests/corpus").join(case).join("input.yaml")).unwrap();
        store
            .insert_pending(&NewApp {
                name: name.to_owned(),
                owner: "owner@example.com".to_owned(),
                manifest_sha256: microvet_core::sha256_hex(&manifest),
                manifest,
                policy_name: "default".to_owned(),
                policy_sha256: "ab".repeat(32),
                decision: "approve".to_owned(),
                score: 0,
                controls: serde_json::json!([]),
                verdict: "{}".to_owned(),
                created_at: 1_800_000_000,
                expires_at: 1_800_000_000 + 86_400,
                recertify_by: 1_800_000_000 + 86_400,
                software_id: format!("sw-{name}"),
            })
            .unwrap();
    }
    drop(store);
    let out = whatif(&[
        "--from",
        "policies/default.yaml",
        "--to",
        "policies/strict.yaml",
        "--store",
        &url,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["inputs"], 2, "{report}");
    let changes = report["decision_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{report}");
    assert_eq!(changes[0]["input"], "app:hr-helper");
    assert_eq!(changes[0]["from"], "approve-with-controls");
    assert_eq!(changes[0]["to"], "remediate");
}
