//! Parity, wasmtime side: every case of the golden corpus, vetted by the component in
//! wasmtime (fresh instance per call, a warm instance, and `vet_summary` on a warm
//! instance), gives exactly the bytes of
//! `tests/corpus/<case>/expected.json` — which the native core test, Node and Chromium
//! check too. Errors compare as `{"error":…}` with the WIT error record in core's order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use microvet::decision_log::Record;
use microvet::{HostError, InputKind, PolicySource, Today, Vetter, VetterOptions, WarmPool};
use std::path::Path;

fn output(v: &Vetter, kind: InputKind, text: &str, summary: bool) -> String {
    let json = if summary {
        v.vet_summary(kind, text).map(|s| s.json)
    } else {
        v.vet_kind(kind, text).map(|o| o.json)
    };
    match json {
        Ok(json) => json,
        Err(HostError::Input(e)) => format!("{{\"error\":{}}}", serde_json::to_string(&e).unwrap()),
        Err(other) => panic!("not an input error: {other}"),
    }
}

/// The summary agrees with the typed verdict of the same vet, field for field, and so
/// do the decision-log records made from each.
fn summary_agrees(v: &Vetter, kind: InputKind, text: &str) -> Result<(), String> {
    let (typed, summary) = match (v.vet_kind(kind, text), v.vet_summary(kind, text)) {
        (Ok(t), Ok(s)) => (t, s),
        (Err(HostError::Input(a)), Err(HostError::Input(b))) if a == b => return Ok(()),
        (a, b) => return Err(format!("typed {a:?} vs summary {b:?}")),
    };
    let t = &typed.verdict;
    let mut rules: Vec<&str> = Vec::new();
    for f in &t.findings {
        if !rules.contains(&f.rule.as_str()) {
            rules.push(&f.rule);
        }
    }
    let same = summary.json == typed.json
        && summary.decision == t.decision
        && summary.score == t.risk.score
        && summary.rules == rules
        && summary.manifest_sha256 == t.manifest_sha256
        && summary.policy_sha256 == t.policy_sha256
        && summary.engine == t.engine
        && Record::from_summary("r", kind, "p", &summary)
            == Record::from_verdict("r", kind, "p", t);
    if same {
        Ok(())
    } else {
        Err(format!("typed {typed:?}\nsummary {summary:?}"))
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
        let Ok(stored) = std::fs::read_to_string(case.join("expected.json")) else {
            continue;
        };
        // Golden files are stored pretty-printed; the bytes to produce are their compact form.
        let value: serde_json::Value = serde_json::from_str(&stored).unwrap();
        let expected = serde_json::to_string(&value).unwrap() + "\n";
        let (kind, file) = if case.join("dcr.json").exists() {
            (InputKind::Dcr, "dcr.json")
        } else if case.join("input.json").exists() {
            (InputKind::Manifest, "input.json")
        } else {
            (InputKind::Manifest, "input.yaml")
        };
        let text = std::fs::read_to_string(case.join(file)).unwrap();
        // The case's waivers file and day, if it has them (a vetter always vets on a day:
        // the clock's unless told).
        let waivers = std::fs::read_to_string(case.join("waivers.yaml")).ok();
        let today = std::fs::read_to_string(case.join("today"))
            .ok()
            .map(|t| Today::Fixed(microvet_core::Date::parse(t.trim_end()).unwrap()));
        let for_case = |v: &Vetter| {
            let v = v.with_waivers(waivers.clone()).unwrap();
            today.map_or_else(|| v.clone(), |t| v.on(t))
        };
        let (fresh, warm) = (for_case(&fresh), for_case(&warm));
        for (mode, v, summary) in [
            ("fresh", &fresh, false),
            ("warm", &warm, false),
            ("warm summary", &warm, true),
        ] {
            let got = output(v, kind, &text, summary) + "\n";
            if got != expected {
                mismatches.push(format!(
                    "{} ({mode}):\n  want {expected}  got  {got}",
                    case.display()
                ));
            }
        }
        if let Err(e) = summary_agrees(&warm, kind, &text) {
            mismatches.push(format!("{} (summary vs typed): {e}", case.display()));
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
