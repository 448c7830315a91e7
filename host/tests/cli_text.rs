//! Snapshots of `microvet check`'s text output (what a developer reads in a terminal) for a
//! few corpus cases: an approval, approval with controls, the article's case study, a rejected
//! app and a syntax error. The verdicts' JSON is pinned by the corpus; this pins its rendering.
//! Review a change with `INSTA_UPDATE=always cargo test -p microvet --test cli_text` and
//! `git diff host/tests/snapshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_microvet");

fn check_text(cache: &Path, case: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let input = format!("tests/corpus/{case}/input.yaml");
    let out = Command::new(BIN)
        .args(["check", &input])
        .current_dir(&root)
        .env("MICROVET_CACHE_DIR", cache)
        .env_remove("NO_COLOR")
        .output()
        .expect("run microvet");
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn check_text_output() {
    // One compiled-code cache for every case: the component is compiled once.
    let cache = tempfile::tempdir().expect("temp dir");
    for case in [
        "clean-approve",
        "hr-onboarding-helper",
        "case-study",
        "scopes-denied-and-broad",
        "broken-syntax",
    ] {
        insta::assert_snapshot!(case, check_text(cache.path(), case));
    }
}
