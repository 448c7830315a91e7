//! Waivers through the host: `microvet check --waivers FILE --today DATE` (JSON, text,
//! SARIF, errors pointing at the waivers file) and `microvet serve --waivers FILE` (the
//! server's date, `?waivers=off`, the decision log). The verdict bytes are the corpus's
//! (`tests/corpus/waiver-*`), checked in every runtime by the parity tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{BIN, Server, cache, repo, rule};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(repo())
        .env("MICROVET_CACHE_DIR", cache())
        .env("NO_COLOR", "1")
        .output()
        .expect("run microvet")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const CASE: &str = "tests/corpus/waiver-applies";

fn case(file: &str) -> String {
    format!("{CASE}/{file}")
}

/// The compact form of the case's stored golden verdict.
fn golden() -> String {
    let text = std::fs::read_to_string(repo().join(case("expected.json"))).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    serde_json::to_string(&v).unwrap()
}

/// `microvet check` of the case's manifest with its waivers file, on `day`, in `format`.
fn check_case(day: &str, format: &str) -> Output {
    let (input, waivers) = (case("input.yaml"), case("waivers.yaml"));
    run(&[
        "check",
        &input,
        "--waivers",
        &waivers,
        "--today",
        day,
        "--format",
        format,
    ])
}

#[test]
fn check_applies_a_waivers_file_on_the_given_day() {
    let json = check_case("2026-12-03", "json");
    assert_eq!(stdout(&json).trim_end(), golden(), "{}", stderr(&json));
    assert_eq!(json.status.code(), Some(0));

    // Text: the waived finding is listed apart, with its waiver.
    let text = check_case("2026-12-03", "text");
    let out = stdout(&text);
    assert!(
        out.contains("waived (1, not counted toward the decision):"),
        "{out}"
    );
    assert!(
        out.contains("waiver WVR-101 until 2027-01-31, approved by ciso@example.com: vendor security review in progress"),
        "{out}"
    );
    let (findings, waived) = out.split_once("waived (").unwrap();
    assert!(!findings.contains(rule("MV-VENDOR-001")), "{out}");
    assert!(waived.contains("MV-VENDOR-001"), "{out}");

    // SARIF: a result with an accepted suppression and the waiver's justification.
    let sarif = check_case("2026-12-03", "sarif");
    let log: serde_json::Value = serde_json::from_str(&stdout(&sarif)).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let suppressed: Vec<_> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1, "{results:?}");
    assert_eq!(suppressed[0]["ruleId"], "MV-VENDOR-001");
    assert_eq!(suppressed[0]["suppressions"][0]["status"], "accepted");
    assert!(
        suppressed[0]["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("WVR-101")
    );

    // After its expiry the waiver no longer applies, and the verdict says so.
    let late = check_case("2027-02-01", "json");
    let v: serde_json::Value = serde_json::from_str(stdout(&late).trim_end()).unwrap();
    assert!(v.get("waived").is_none(), "{v}");
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"MV-VENDOR-001") && rules.contains(&"MV-WAIVER-001"),
        "{rules:?}"
    );

    // Without --waivers the finding counts.
    let plain = run(&[
        "check",
        &case("input.yaml"),
        "--today",
        "2026-12-03",
        "--format",
        "json",
    ]);
    assert!(stdout(&plain).contains("\"rule\":\"MV-VENDOR-001\""));
    assert!(!stdout(&plain).contains("\"waived\""));
}

#[test]
fn check_points_at_the_waivers_file_and_refuses_a_bad_day() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("waivers.yaml");
    let text = std::fs::read_to_string(repo().join(case("waivers.yaml")))
        .unwrap()
        .replace("expires: 2027-01-31", "expires: 2027-12-31");
    std::fs::write(&bad, text).unwrap();
    let out = run(&[
        "check",
        &case("input.yaml"),
        "--waivers",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("waiver `WVR-101`"), "{err}");
    assert!(err.contains("`waivers.max_days`"), "{err}");
    assert!(
        err.contains(&format!("--> {}:10:14", bad.display())),
        "the error points at the waivers file's `expires`: {err}"
    );

    let out = run(&["check", &case("input.yaml"), "--today", "2026-02-30"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`2026-02-30` is not a date `YYYY-MM-DD`"),
        "{}",
        stderr(&out)
    );
}

/// `YYYY-MM-DD` of today in UTC, plus `days`.
fn utc_day(days: i64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    microvet_core::Date::from_days(i64::try_from(secs / 86_400).unwrap() + days).to_string()
}

#[test]
fn serve_applies_its_waivers_file_on_its_own_date_and_logs_the_waiver() {
    let dir = tempfile::tempdir().unwrap();
    // Granted yesterday, for 30 days: in force on the server's date (UTC).
    let waivers = std::fs::read_to_string(repo().join(case("waivers.yaml")))
        .unwrap()
        .replace(
            "approved_on: 2026-11-20",
            &format!("approved_on: {}", utc_day(-1)),
        )
        .replace("expires: 2027-01-31", &format!("expires: {}", utc_day(29)));
    let file = dir.path().join("waivers.yaml");
    std::fs::write(&file, waivers).unwrap();
    let log = dir.path().join("decisions.jsonl");
    let server = Server::start_bare(&[
        "--waivers",
        file.to_str().unwrap(),
        "--decision-log",
        log.to_str().unwrap(),
    ]);
    let manifest = std::fs::read(repo().join(case("input.yaml"))).unwrap();

    let r = server.post_typed("/v1/vet", Some("application/yaml"), &manifest);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["waived"][0]["rule"], "MV-VENDOR-001", "{v}");
    assert_eq!(v["waived"][0]["waiver"]["id"], "WVR-101");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != rule("MV-VENDOR-001"))
    );

    // The same manifest without the server's waivers: the finding counts again.
    let r = server.post_typed("/v1/vet?waivers=off", Some("application/yaml"), &manifest);
    assert_eq!(r.status, 200, "{}", r.text());
    let off = r.json();
    assert!(off.get("waived").is_none(), "{off}");
    assert!(
        off["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "MV-VENDOR-001")
    );
    assert!(off["risk"]["score"].as_u64() > v["risk"]["score"].as_u64());

    let r = server.post_typed("/v1/vet?waivers=maybe", Some("application/yaml"), &manifest);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("`waivers` must be `on` or `off`"),
        "{}",
        r.text()
    );

    // The decision log names the waiver on the waived vet's line only.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["waivers"], serde_json::json!(["WVR-101"]));
    assert!(lines[1].get("waivers").is_none(), "{}", lines[1]);
    let verify = Command::new(BIN)
        .args(["log", "verify", log.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", stderr(&verify));
}

#[test]
fn serve_refuses_to_start_with_an_invalid_waivers_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("waivers.yaml");
    std::fs::write(&file, "waivers:\n  - { id: W1, rule: MV-NOPE-001 }\n").unwrap();
    let out = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--waivers",
            file.to_str().unwrap(),
        ])
        .env("MICROVET_CACHE_DIR", cache())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("invalid waivers file"), "{err}");
}

/// Each policy of the server validates the waivers file (a policy with a longer
/// `waivers.max_days` accepts a waiver the built-in one would refuse), and a shadow vet is
/// made with the waivers as the answer was (`?waivers=off` too), so they agree.
#[test]
fn serve_validates_waivers_per_policy_and_shadows_with_the_same_waivers() {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    let default = std::fs::read_to_string(repo().join("policies/default.yaml")).unwrap()
        + "\nwaivers:\n  max_days: 400\n";
    std::fs::write(policies.join("default.yaml"), &default).unwrap();
    std::fs::write(policies.join("twin.yaml"), &default).unwrap();
    // 200 days: more than the built-in 90, within this policy's 400.
    let waivers = std::fs::read_to_string(repo().join(case("waivers.yaml")))
        .unwrap()
        .replace(
            "approved_on: 2026-11-20",
            &format!("approved_on: {}", utc_day(-1)),
        )
        .replace("expires: 2027-01-31", &format!("expires: {}", utc_day(199)));
    let file = dir.path().join("waivers.yaml");
    std::fs::write(&file, waivers).unwrap();
    let server = Server::start_bare(&[
        "--policies",
        policies.to_str().unwrap(),
        "--shadow-policy",
        "twin",
        "--waivers",
        file.to_str().unwrap(),
    ]);
    let manifest = std::fs::read(repo().join(case("input.yaml"))).unwrap();
    for path in ["/v1/vet", "/v1/vet?waivers=off"] {
        let r = server.post_typed(path, Some("application/yaml"), &manifest);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert_eq!(
            r.json().get("waived").is_some(),
            path == "/v1/vet",
            "{path}: {}",
            r.text()
        );
    }
    common::wait_until(
        "two shadow vets",
        std::time::Duration::from_secs(30),
        || server.metric("microvet_shadow_vets_total") >= 2.0,
    );
    let metrics = server.get("/metrics").text();
    let disagreements: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("microvet_shadow_disagreements_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(disagreements, 0.0, "{metrics}");
}
