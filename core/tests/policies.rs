//! The shipped policies parse, and differ from the default in the documented ways.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use microvet_core::{Decision, Policy};
use std::path::Path;

fn load(name: &str) -> Policy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../policies")
        .join(name);
    Policy::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn seed() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/seed-example/input.yaml"),
    )
    .unwrap()
}

#[test]
fn shipped_policies_parse_with_distinct_hashes() {
    let d = load("default.yaml");
    let s = load("strict.yaml");
    let b = load("sandbox.yaml");
    assert_eq!(
        (d.name(), s.name(), b.name()),
        ("default", "strict", "sandbox")
    );
    assert_eq!(
        d.sha256(),
        Policy::builtin().unwrap().sha256(),
        "built-in policy is policies/default.yaml"
    );
    assert_ne!(d.sha256(), s.sha256());
}

#[test]
fn seed_example_is_tighter_under_strict_and_sandbox() {
    let text = seed();
    assert_eq!(
        load("default.yaml").vet(&text).unwrap().decision,
        Decision::ApproveWithControls
    );
    // strict: unapproved vendor and missing instrumentation are high.
    assert_eq!(
        load("strict.yaml").vet(&text).unwrap().decision,
        Decision::Remediate
    );
    // sandbox: HR records are refused, the corp bucket is not a sandbox sink.
    let v = load("sandbox.yaml").vet(&text).unwrap();
    assert_eq!(v.decision, Decision::Reject);
    assert!(v.findings.iter().any(|f| f.rule == "MV-SINK-005"));
}

#[test]
fn policy_hash_is_in_every_verdict() {
    let p = load("strict.yaml");
    assert_eq!(p.vet(&seed()).unwrap().policy_sha256, p.sha256());
}

/// The parsed model of each shipped policy, as `{:#?}`, is pinned in `core/tests/golden/`
/// (`MICROVET_BLESS=1` rewrites). The files were first written by the serde-derived reader,
/// so the hand-written reader is checked to build exactly the same `PolicyDoc`.
#[test]
fn shipped_policies_build_the_pinned_model() {
    for name in ["default", "strict", "sandbox"] {
        let doc = format!("{:#?}\n", load(&format!("{name}.yaml")).doc());
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(format!("policy-{name}.txt"));
        if std::env::var_os("MICROVET_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &doc).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            want == doc,
            "{name}: parsed model differs from {}",
            path.display()
        );
    }
}
