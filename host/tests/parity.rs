//! Parity, wasmtime side: every case of the golden corpus, vetted by the component in
//! wasmtime (fresh instance per call, and a warm instance), gives exactly the bytes of
//! `tests/corpus/<case>/expected.json` — which the native core test, Node and Chromium
//! check too. Errors compare as `{"error":…}` with the WIT error record in core's order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use microvet::{HostError, InputKind, PolicySource, Vetter, VetterOptions, WarmPool};
use std::path::Path;

fn output(v: &Vetter, kind: InputKind, text: &str) -> String {
    match v.vet_kind(kind, text) {
        Ok(o) => o.json,
        Err(HostError::Input(e)) => format!("{{\"error\":{}}}", serde_json::to_string(&e).unwrap()),
        Err(other) => panic!("not an input error: {other}"),
    }
}

#[test]
fn wasmtime_matches_every_golden_file_byte_for_byte() {
    let fresh = Vetter::new(VetterOptions::default()).unwrap();
    let warm = Vetter::new(VetterOptions {
        policy: PolicySource::Builtin,
        warm_pool: Some(WarmPool::new(1)),
        ..VetterOptions::default()
    })
    .unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
    let mut cases = 0;
    let mut mismatches = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let case = entry.unwrap().path();
        let Ok(expected) = std::fs::read_to_string(case.join("expected.json")) else {
            continue;
        };
        let (kind, file) = if case.join("dcr.json").exists() {
            (InputKind::Dcr, "dcr.json")
        } else if case.join("input.json").exists() {
            (InputKind::Manifest, "input.json")
        } else {
            (InputKind::Manifest, "input.yaml")
        };
        let text = std::fs::read_to_string(case.join(file)).unwrap();
        for (mode, v) in [("fresh", &fresh), ("warm", &warm)] {
            let got = output(v, kind, &text) + "\n";
            if got != expected {
                mismatches.push(format!(
                    "{} ({mode}):\n  want {expected}  got  {got}",
                    case.display()
                ));
            }
        }
        cases += 1;
    }
    assert!(cases >= 12, "only {cases} cases");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn rfc7636_appendix_b_through_wasmtime() {
    let v = Vetter::new(VetterOptions::default()).unwrap();
    assert_eq!(
        v.pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
            .unwrap(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}
