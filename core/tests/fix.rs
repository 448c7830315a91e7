//! `fix` applies every machine-applicable fix; vetting the fixed manifest must not show the
//! fixed findings again.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use microvet_core::{Decision, Policy};
use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn fixed_findings_do_not_come_back_on_any_corpus_manifest() {
    let policy = Policy::builtin().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
    let mut checked = 0;
    let mut applied_total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let case = entry.unwrap().path();
        let input = ["input.yaml", "input.json"]
            .iter()
            .map(|f| case.join(f))
            .find(|p| p.exists());
        let Some(input) = input else { continue };
        let text = std::fs::read_to_string(&input).unwrap();
        let Ok(before) = policy.vet(&text) else {
            continue;
        };
        let fixed = policy.fix(&text).unwrap();
        // Every fix is an edit of the text: no corpus manifest is written out again, and
        // every comment stays.
        assert!(!fixed.rewritten, "{}: rewritten", case.display());
        for c in text.lines().filter(|l| l.trim_start().starts_with('#')) {
            assert!(
                fixed.manifest.contains(c),
                "{}: lost the comment {c:?}",
                case.display()
            );
        }
        let after = policy.vet(&fixed.manifest).unwrap_or_else(|e| {
            panic!(
                "{}: fixed manifest does not vet: {e:?}\n{}",
                case.display(),
                fixed.manifest
            )
        });
        let applied: BTreeSet<&str> = fixed.applied.iter().map(|f| f.path.as_str()).collect();
        let gone: Vec<(&str, &str)> = before
            .findings
            .iter()
            .filter(|f| {
                f.fix
                    .as_ref()
                    .is_some_and(|fx| applied.contains(fx.path.as_str()))
            })
            .map(|f| (f.rule, f.message.as_str()))
            .collect();
        for (rule, message) in &gone {
            assert!(
                !after
                    .findings
                    .iter()
                    .any(|f| f.rule == *rule && f.message == *message),
                "{}: {rule} `{message}` is back after fix\n{}",
                case.display(),
                fixed.manifest
            );
        }
        assert!(
            after.decision <= before.decision || fixed.applied.is_empty(),
            "{}: fix made it worse",
            case.display()
        );
        applied_total += fixed.applied.len();
        checked += 1;
    }
    assert!(
        checked >= 10 && applied_total >= 10,
        "checked {checked} cases, {applied_total} fixes"
    );
}

#[test]
fn case_study_write_scope_becomes_the_read_scope() {
    let policy = Policy::builtin().unwrap();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/case-study/input.yaml"),
    )
    .unwrap();
    let fixed = policy.fix(&text).unwrap();
    assert!(
        fixed.manifest.contains("hr.read_only"),
        "{}",
        fixed.manifest
    );
    assert!(!fixed.manifest.contains("hr.write"));
    assert!(fixed.manifest.contains("expiry_days: 90"));
    let after = policy.vet(&fixed.manifest).unwrap();
    // The consumer sink has no safe automatic fix: still refused, but for that alone.
    assert_eq!(after.decision, Decision::Reject);
    assert!(
        after
            .findings
            .iter()
            .filter(|f| f.severity >= microvet_core::Severity::High)
            .all(|f| f.rule.starts_with("MV-SINK")),
        "{:#?}",
        after.findings
    );
}

#[test]
fn scopes_written_as_one_string_are_fixed_into_a_list_without_the_denied_ones() {
    let policy = Policy::builtin().unwrap();
    let text = "name: roster\nowner: it@example.com\npurpose: export the roster for planning\ndata_access: [{ type: user.profile }]\nretention_days: 30\noauth_scopes: \"openid admin.all profile\"\nexternal_sinks: []\nexpiry_days: 30\ninstrumentation: { audit_log: \"siem://corp/micro-apps\", contact: \"it-oncall@example.com\" }\n";
    let fixed = policy.fix(text).unwrap();
    let after = policy.vet(&fixed.manifest).unwrap();
    let root = microvet_core::yaml::parse(&fixed.manifest, microvet_core::yaml::Limits::MANIFEST)
        .unwrap()
        .to_json();
    assert_eq!(
        root["oauth_scopes"],
        serde_json::json!(["openid", "profile"]),
        "{}",
        fixed.manifest
    );
    assert!(
        !matches!(after.decision, Decision::Remediate | Decision::Reject),
        "{:?}",
        after.findings
    );
}

#[test]
fn fixes_change_only_what_they_fix() {
    let policy = Policy::builtin().unwrap();
    let read = |case: &str| {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../tests/corpus/{case}/input.yaml")),
        )
        .unwrap()
    };
    // The read scope is already there: the write scope goes, no duplicate comes.
    let fixed = policy.fix(&read("fix-write-scope-read-present")).unwrap();
    assert!(
        fixed
            .manifest
            .contains("oauth_scopes: [openid, hr.read_only]\n"),
        "{}",
        fixed.manifest
    );
    // A secret inside a purpose: the token goes, the description stays.
    let text = read("fix-secret-in-prose");
    let fixed = policy.fix(&text).unwrap();
    assert!(
        fixed.manifest.contains(
            "purpose: \"社員名簿をチームのシートに毎晩同期する（トークンvault://micro-apps/roster-sync/purpose）\"\n"
        ),
        "{}",
        fixed.manifest
    );
    assert!(!fixed.manifest.contains("ghp_"), "{}", fixed.manifest);
}

#[test]
fn fix_leaves_no_secret_anywhere_and_keeps_the_rest_of_the_text() {
    let policy = Policy::builtin().unwrap();
    let text = "# rotated on Monday; the old one was Zx9Qw3Er7Ty1Ui5Op0As8Df2Gh6Jk4Lz\nname: roster-sync   # slug\nowner: it@example.com\nclient:\n  client_secret: \"Zx9Qw3Er7Ty1Ui5Op0As8Df2Gh6Jk4Lz\"  # from the console\n  token_endpoint_auth_method: client_secret_basic\n";
    let fixed = policy.fix(text).unwrap();
    let lower = fixed.manifest.to_ascii_lowercase();
    assert!(
        !lower.contains("zx9qw3er7ty1ui5op0as8df2gh6jk4lz"),
        "{}",
        fixed.manifest
    );
    assert!(
        fixed.manifest.starts_with(
            "# rotated on Monday; the old one was [REDACTED]\nname: roster-sync   # slug\n"
        ),
        "{}",
        fixed.manifest
    );
    assert!(!fixed.rewritten);
}
