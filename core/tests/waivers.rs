//! Waivers: strict validation (every error names the waiver and points at its field), and
//! what a waiver does and does not do to a verdict. The corpus (`tests/corpus/waiver-*`)
//! pins whole verdicts; these tests pin the edges.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
use support::rule;

use microvet_core::{Date, Decision, InputKind, Policy, sha256_hex};

const MANIFEST: &str = "name: expense-summary\nowner: jane.doe@gmail.com\npurpose: summarise monthly team expenses for managers\ndata_access: [{ type: finance.reports }]\nretention_days: 30\noauth_scopes: [openid, finance.read]\nexpiry_days: 60\ninstrumentation: { audit_log: \"siem://corp/micro-apps\", contact: \"finance-oncall@example.com\" }\n";

fn day(s: &str) -> Option<Date> {
    Some(Date::parse(s).unwrap())
}

/// A waivers file with one waiver of MV-OWNER-004 for [`MANIFEST`]; `extra` lines are
/// appended to (or replace, by key) its fields.
fn waivers(over: &[(&str, &str)]) -> String {
    let mut fields: Vec<(String, String)> = [
        ("id", "WVR-1"),
        ("rule", "MV-OWNER-004"),
        ("app", "expense-summary"),
        ("manifest_sha256", &sha256_hex(MANIFEST.as_bytes())),
        ("reason", "owner account migration pending"),
        ("approved_by", "it-governance@example.com"),
        ("approved_on", "2026-12-01"),
        ("expires", "2027-01-31"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in over {
        match fields.iter_mut().find(|(f, _)| f == k) {
            Some(slot) if *v == "<absent>" => slot.1 = String::from("<absent>"),
            Some(slot) => slot.1 = (*v).to_owned(),
            None => fields.push(((*k).to_owned(), (*v).to_owned())),
        }
    }
    let mut out = String::from("waivers:\n");
    for (i, (k, v)) in fields.iter().filter(|(_, v)| v != "<absent>").enumerate() {
        out.push_str(if i == 0 { "  - " } else { "    " });
        out.push_str(&format!("{k}: {v}\n"));
    }
    out
}

fn error_of(text: &str) -> microvet_core::Error {
    Policy::builtin().unwrap().with_waivers(text).unwrap_err()
}

#[test]
fn a_waiver_in_force_moves_the_finding_to_waived_and_out_of_the_decision() {
    let plain = Policy::builtin().unwrap().vet(MANIFEST).unwrap();
    assert_eq!(plain.decision, Decision::Remediate);
    assert_eq!(plain.rule_ids(), ["MV-OWNER-004"]);
    let p = Policy::builtin()
        .unwrap()
        .with_waivers(&waivers(&[]))
        .unwrap();
    let v = p
        .vet_on(InputKind::Manifest, MANIFEST, day("2026-12-03"))
        .unwrap();
    assert_eq!(v.decision, Decision::Approve);
    assert!(v.findings.is_empty(), "{:?}", v.findings);
    assert_eq!(v.waived.len(), 1);
    assert_eq!(v.waived[0].finding, plain.findings[0]);
    assert_eq!(v.waived[0].waiver.id, "WVR-1");
    assert_eq!(v.waived[0].waiver.expires, "2027-01-31");
    // The policy is the same policy: its hash does not change with the waivers file.
    assert_eq!(v.policy_sha256, plain.policy_sha256);
    // The first and the last day are in force; the day after is not.
    for (d, in_force) in [
        ("2026-11-30", false),
        ("2026-12-01", true),
        ("2027-01-31", true),
        ("2027-02-01", false),
    ] {
        let v = p.vet_on(InputKind::Manifest, MANIFEST, day(d)).unwrap();
        assert_eq!(v.waived.len(), usize::from(in_force), "{d}");
        assert_eq!(
            v.rule_ids().contains(&rule("MV-WAIVER-001").id),
            !in_force,
            "{d}: {:?}",
            v.rule_ids()
        );
    }
}

#[test]
fn without_a_day_no_waiver_applies_and_the_verdict_says_so() {
    let p = Policy::builtin()
        .unwrap()
        .with_waivers(&waivers(&[]))
        .unwrap();
    let v = p.vet(MANIFEST).unwrap();
    assert!(v.waived.is_empty());
    assert_eq!(v.decision, Decision::Remediate);
    let note = v
        .findings
        .iter()
        .find(|f| f.rule == rule("MV-WAIVER-001").id)
        .unwrap();
    assert!(note.message.contains("no date"), "{}", note.message);
}

#[test]
fn one_changed_byte_makes_the_waiver_stale() {
    let p = Policy::builtin()
        .unwrap()
        .with_waivers(&waivers(&[]))
        .unwrap();
    let changed = MANIFEST.replace("monthly", "weekly");
    let v = p
        .vet_on(InputKind::Manifest, &changed, day("2026-12-03"))
        .unwrap();
    assert!(v.waived.is_empty());
    assert_eq!(v.decision, Decision::Remediate);
    assert!(v.rule_ids().contains(&rule("MV-WAIVER-002").id));
    // A waiver for another app is not about this manifest at all: no finding.
    let other = Policy::builtin()
        .unwrap()
        .with_waivers(&waivers(&[
            ("app", "other-app"),
            ("manifest_sha256", &"f".repeat(64)),
        ]))
        .unwrap();
    let v = other
        .vet_on(InputKind::Manifest, MANIFEST, day("2026-12-03"))
        .unwrap();
    assert_eq!(v.rule_ids(), ["MV-OWNER-004"]);
}

#[test]
fn a_path_covers_whole_segments_only() {
    for (path, covers) in [
        ("/owner", true),
        ("\"\"", true),
        ("/own", false),
        ("/owner/0", false),
        ("/ownerx", false),
    ] {
        let p = Policy::builtin()
            .unwrap()
            .with_waivers(&waivers(&[("path", path)]))
            .unwrap();
        let v = p
            .vet_on(InputKind::Manifest, MANIFEST, day("2026-12-03"))
            .unwrap();
        assert_eq!(v.waived.len(), usize::from(covers), "{path}");
        assert_eq!(
            v.rule_ids().contains(&rule("MV-WAIVER-003").id),
            !covers,
            "{path}: {:?}",
            v.rule_ids()
        );
    }
}

#[test]
fn waived_findings_are_redacted_like_every_other_output() {
    let manifest = "name: leaky\nowner: a@example.com\npurpose: ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\nexpiry_days: 60\n";
    let plain = Policy::builtin().unwrap().vet(manifest).unwrap();
    let secret_rules: Vec<_> = plain.rule_ids();
    assert!(
        secret_rules.contains(&rule("MV-SECRET-001").id),
        "{secret_rules:?}"
    );
    // Waive every other rule at the purpose: MV-APP-001's message quotes it, secret and all.
    let rules: Vec<&str> = plain
        .findings
        .iter()
        .filter(|f| f.path == "/purpose" && f.rule != rule("MV-SECRET-001").id)
        .map(|f| f.rule)
        .collect();
    assert!(!rules.is_empty());
    let mut text = String::from("waivers:\n");
    for (i, r) in rules.iter().enumerate() {
        text.push_str(&format!(
            "  - {{ id: W{i}, rule: {r}, app: leaky, manifest_sha256: {}, reason: r, approved_by: b, approved_on: 2026-12-01, expires: 2026-12-31 }}\n",
            sha256_hex(manifest.as_bytes())
        ));
    }
    let v = Policy::builtin()
        .unwrap()
        .with_waivers(&text)
        .unwrap()
        .vet_on(InputKind::Manifest, manifest, day("2026-12-03"))
        .unwrap();
    assert_eq!(v.waived.len(), rules.len());
    assert!(v.waived[0].finding.message.contains("[REDACTED]"));
    let json = v.to_json();
    assert!(!json.contains("ghp_0123456789"), "{json}");
}

#[test]
fn the_waiver_rules_obey_the_policy_overrides() {
    assert!(microvet_core::DEFAULT_POLICY.contains("\nrules: {}\n"));
    let policy = microvet_core::DEFAULT_POLICY.replace(
        "\nrules: {}\n",
        "\nrules:\n  MV-WAIVER-001: { enabled: false }\n",
    );
    let p = Policy::parse(&policy)
        .unwrap()
        .with_waivers(&waivers(&[("expires", "2026-12-02")]))
        .unwrap();
    let v = p
        .vet_on(InputKind::Manifest, MANIFEST, day("2026-12-03"))
        .unwrap();
    assert_eq!(v.rule_ids(), ["MV-OWNER-004"]);
}

#[test]
fn every_invalid_waiver_is_refused_with_its_name_and_field() {
    let upper = sha256_hex(MANIFEST.as_bytes()).to_uppercase();
    // (fields changed, the pointer the error names, words of its message)
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("rule", "MV-OWNR-004")],
            "/waivers/0/rule",
            "unknown rule `MV-OWNR-004`",
        ),
        (
            vec![("rule", "mv-owner-004")],
            "/waivers/0/rule",
            "unknown rule",
        ),
        (
            vec![("rule", "MV-SECRET-001")],
            "/waivers/0/rule",
            "cannot be waived",
        ),
        (
            vec![("rule", "MV-WAIVER-003")],
            "/waivers/0/rule",
            "cannot be waived",
        ),
        (
            vec![("reason", "\"  \"")],
            "/waivers/0/reason",
            "`reason` is empty",
        ),
        (
            vec![("reason", "<absent>")],
            "/waivers/0",
            "missing required field `reason`",
        ),
        (
            vec![("approved_by", "<absent>")],
            "/waivers/0",
            "missing required field `approved_by`",
        ),
        (
            vec![("expires", "2027-06-01")],
            "/waivers/0/expires",
            "at most 90",
        ),
        (
            vec![("expires", "2026-11-30")],
            "/waivers/0/expires",
            "before it was approved",
        ),
        (
            vec![("expires", "2027-02-30")],
            "/waivers/0/expires",
            "expected a date",
        ),
        (
            vec![("expires", "20270131")],
            "/waivers/0/expires",
            "expected a date",
        ),
        (
            vec![("manifest_sha256", "ABC")],
            "/waivers/0/manifest_sha256",
            "64 lowercase hex",
        ),
        (
            vec![("manifest_sha256", &upper)],
            "/waivers/0/manifest_sha256",
            "64 lowercase hex",
        ),
        (vec![("path", "owner")], "/waivers/0/path", "RFC 6901"),
        (vec![("path", "/a~2b")], "/waivers/0/path", "RFC 6901"),
        (
            vec![("path", "[/owner]")],
            "/waivers/0/path",
            "expected a string",
        ),
        (
            vec![("approved", "yes")],
            "/waivers/0/approved",
            "unknown field",
        ),
        (vec![("id", "[1]")], "/waivers/0/id", "expected a string"),
    ];
    for (over, ptr, words) in cases {
        let e = error_of(&waivers(&over));
        assert_eq!(e.path.as_deref(), Some(ptr), "{over:?}: {e:?}");
        assert!(e.message.contains(words), "{over:?}: {}", e.message);
        assert!(
            e.message.starts_with("invalid waivers file"),
            "{}",
            e.message
        );
        assert!(e.line.is_some(), "{over:?}: no line");
        // Errors found once the waiver is read name it.
        if !words.contains("missing")
            && !words.contains("expected")
            && !words.contains("unknown field")
        {
            assert!(e.message.contains("waiver `WVR-1`"), "{}", e.message);
        }
    }
    // Two waivers with one id.
    let twice = waivers(&[]) + &waivers(&[]).replacen("waivers:\n", "", 1);
    let e = error_of(&twice);
    assert_eq!(e.path.as_deref(), Some("/waivers/1/id"));
    assert!(
        e.message.contains("used by an earlier waiver"),
        "{}",
        e.message
    );
    // Not a waivers file.
    for text in [
        "[]",
        "waiver: []",
        "waivers: {}",
        "waivers: [1]",
        "{waivers: [], x: 1}",
    ] {
        let e = error_of(text);
        assert!(
            e.message.starts_with("invalid waivers file"),
            "{text}: {}",
            e.message
        );
    }
    assert!(
        Policy::builtin()
            .unwrap()
            .with_waivers("waivers: []")
            .is_ok()
    );
}

#[test]
fn the_policy_section_is_validated_the_same_way_and_sets_the_cap() {
    let base = microvet_core::DEFAULT_POLICY.trim_end();
    let entry = waivers(&[("expires", "2027-06-01")])
        .replacen("waivers:\n", "", 1)
        .replace("\n    ", "\n      ")
        .replacen("  - ", "    - ", 1);
    let with = |settings: &str| format!("{base}\nwaivers:\n{settings}  list:\n{entry}");
    let e = Policy::parse(&with("")).unwrap_err();
    assert_eq!(e.path.as_deref(), Some("/waivers/list/0/expires"));
    assert!(e.message.contains("at most 90"), "{}", e.message);
    let p = Policy::parse(&with("  max_days: 200\n")).unwrap();
    let v = p
        .vet_on(InputKind::Manifest, MANIFEST, day("2026-12-03"))
        .unwrap();
    assert_eq!(v.waived.len(), 1);
    // A policy's own `never` adds to the rules no waiver may waive; it cannot allow them.
    let secret = waivers(&[("rule", "MV-SECRET-001")]).replacen("waivers:\n", "", 1);
    let e = Policy::parse(&format!(
        "{base}\nwaivers:\n  never: [MV-VENDOR-001]\n  list:\n{}",
        secret
            .replace("\n    ", "\n      ")
            .replacen("  - ", "    - ", 1)
    ))
    .unwrap_err();
    assert_eq!(e.path.as_deref(), Some("/waivers/list/0/rule"), "{e:?}");
    for (settings, ptr) in [
        ("  max_days: 0\n", "/waivers/max_days"),
        ("  max_days: 5000\n", "/waivers/max_days"),
        ("  never: [MV-NOPE-001]\n", "/waivers/never/0"),
        (
            "  max_days: 200\n  never: [MV-OWNER-004]\n",
            "/waivers/list/0/rule",
        ),
    ] {
        let e = Policy::parse(&with(settings)).unwrap_err();
        assert_eq!(e.path.as_deref(), Some(ptr), "{settings}: {e:?}");
    }
    // A waivers file is capped by the policy it is added to.
    let e = Policy::builtin()
        .unwrap()
        .with_waivers(&waivers(&[("expires", "2027-06-01")]))
        .unwrap_err();
    assert!(e.message.contains("at most 90"), "{}", e.message);
    assert!(
        Policy::parse(&with("  max_days: 200\n"))
            .unwrap()
            .with_waivers(&waivers(&[("id", "WVR-2"), ("expires", "2027-06-01")]))
            .is_ok()
    );
    // Ids are unique across the policy's list and the file.
    let e = p.with_waivers(&waivers(&[])).unwrap_err();
    assert!(
        e.message.contains("used by an earlier waiver"),
        "{}",
        e.message
    );
}

#[test]
fn a_registration_request_is_never_waived() {
    // The same bytes vetted as a manifest and as an RFC 7591 request: the waiver, granted on
    // the manifest's verdict, must not cover what the request's reading finds.
    let text = "{\"name\": \"dual\", \"client_name\": \"dual\", \"owner\": \"jane.doe@gmail.com\", \"redirect_uris\": [\"http://evil.example.net/cb\"]}";
    let w = format!(
        "waivers:\n  - {{ id: W1, rule: MV-OAUTH-020, app: dual, manifest_sha256: {}, reason: r, approved_by: b, approved_on: 2026-12-01, expires: 2026-12-31 }}\n",
        sha256_hex(text.as_bytes())
    );
    let p = Policy::builtin().unwrap().with_waivers(&w).unwrap();
    let dcr = p.vet_on(InputKind::Dcr, text, day("2026-12-03")).unwrap();
    assert!(dcr.waived.is_empty(), "{:?}", dcr.waived);
    assert!(
        dcr.rule_ids().contains(&rule("MV-OAUTH-020").id),
        "{:?}",
        dcr.rule_ids()
    );
    let plain = Policy::builtin()
        .unwrap()
        .vet_kind(InputKind::Dcr, text)
        .unwrap();
    assert_eq!(dcr, plain);
}

#[test]
fn a_bad_day_is_an_invalid_argument() {
    let e = Date::parse_today("2026-13-01").unwrap_err();
    assert_eq!(e.code.as_str(), "invalid-argument");
    assert!(e.message.contains("`2026-13-01`"), "{}", e.message);
}
