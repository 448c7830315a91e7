//! The `microvet` binary: exit codes, messages, the component bytes and the cache.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

mod common;
use common::rule;

const BIN: &str = env!("CARGO_BIN_EXE_microvet");

/// RFC 7636 Appendix B.
const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A cache directory shared by the tests that are not about the cache, warmed once so
/// that only one run pays for compiling the component.
fn warm_cache() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = run_in(dir.path(), &["-v", "pkce", "challenge", RFC_VERIFIER]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert!(stderr(&out).contains("cache miss"), "{}", stderr(&out));
        assert_eq!(cwasm_files(dir.path()).len(), 1);
        dir
    })
    .path()
}

fn run_in(cache: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("MICROVET_CACHE_DIR", cache)
        .env_remove("NO_COLOR")
        .output()
        .expect("run microvet")
}

fn run(args: &[&str]) -> Output {
    run_in(warm_cache(), args)
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn cwasm_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect()
}

#[test]
fn pkce_challenge_prints_the_rfc_value() {
    let out = run(&["pkce", "challenge", RFC_VERIFIER]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), RFC_CHALLENGE);
}

#[test]
fn pkce_length_42_exits_2_with_the_core_message() {
    let out = run(&["pkce", "--length", "42"]);
    assert_eq!(code(&out), 2);
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(err.contains("error[pkce-length]"), "{err}");
    assert!(err.contains("42"), "{err}");
}

#[test]
fn pkce_verify_exit_codes() {
    let ok = run(&["pkce", "verify", RFC_VERIFIER, RFC_CHALLENGE]);
    assert_eq!(code(&ok), 0, "{}", stderr(&ok));

    let other = run(&["pkce", "challenge", &"a".repeat(43)]);
    let other = stdout(&other).trim().to_owned();
    let mismatch = run(&["pkce", "verify", RFC_VERIFIER, &other]);
    assert_eq!(code(&mismatch), 1, "{}", stderr(&mismatch));

    let invalid = run(&["pkce", "verify", "too-short", RFC_CHALLENGE]);
    assert_eq!(code(&invalid), 2);
    assert!(stderr(&invalid).contains("error[pkce-length]"));
}

#[test]
fn pkce_env_format() {
    let out = run(&["pkce", "--format", "env"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("PKCE_CODE_VERIFIER="));
    assert!(lines[1].starts_with("PKCE_CODE_CHALLENGE="));
    assert_eq!(lines[2], "PKCE_CODE_CHALLENGE_METHOD=S256");
}

#[test]
fn pkce_authorize_url_json() {
    let out = run(&[
        "pkce",
        "authorize-url",
        "--endpoint",
        "https://login.example.com/authorize",
        "--client-id",
        "app-1",
        "--redirect-uri",
        "https://app.example.com/callback",
        "--scope",
        "openid profile",
        "--param",
        "prompt=consent",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("json");
    let url = v["url"].as_str().expect("url");
    assert!(
        url.starts_with("https://login.example.com/authorize?"),
        "{url}"
    );
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(url.contains("prompt=consent"), "{url}");
    assert!(v["nonce"].is_string(), "openid asks for a nonce");
}

#[test]
fn check_of_a_non_utf8_file_exits_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, b"name: ok\nowner: \xff\xfe\n").expect("write");
    let out = run(&["check", file.to_str().expect("utf-8 path")]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("is not valid UTF-8 (byte offset 16)"), "{err}");
}

#[test]
fn check_of_a_missing_file_exits_2() {
    let out = run(&["check", "/nonexistent/manifest.yaml"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("cannot read"));
}

#[test]
fn usage_errors_exit_2() {
    let out = run(&["check"]);
    assert_eq!(code(&out), 2);
    let out = run(&["pkce", "authorize-url", "--endpoint", "https://x.example"]);
    assert_eq!(code(&out), 2);
}

#[test]
fn explain_unknown_rule_exits_2() {
    let out = run(&["explain", "MV-NOPE-999"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("unknown rule `MV-NOPE-999`"));
}

#[test]
fn rules_prints_a_table() {
    let out = run(&["rules"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).starts_with("ID"));
}

#[test]
fn policy_check_of_the_default_policy() {
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/default.yaml");
    let out = run(&["policy", "check", policy.to_str().expect("utf-8 path")]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("is valid"));
}

#[test]
fn component_out_writes_the_embedded_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("microvet.wasm");
    let out = run(&["component", "--out", file.to_str().expect("utf-8 path")]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(std::fs::read(&file).expect("read"), microvet::COMPONENT);
    assert!(stderr(&out).contains(microvet::COMPONENT_SHA256));

    let wit = run(&["component", "--wit"]);
    assert_eq!(code(&wit), 0);
    assert!(stdout(&wit).contains("world microvet"));
}

#[test]
fn cache_is_written_then_hit_then_recovered() {
    // The first run in an empty cache directory (`warm_cache`) compiled the component
    // and wrote the cache file.
    let files = cwasm_files(warm_cache());
    assert_eq!(files.len(), 1, "{files:?}");
    let compiled = std::fs::read(&files[0]).expect("read");

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join(files[0].file_name().expect("name"));
    std::fs::write(&file, &compiled).expect("seed");
    let args = ["-v", "pkce", "challenge", RFC_VERIFIER];

    // A later run loads from the cache file.
    let hit = run_in(dir.path(), &args);
    assert_eq!(code(&hit), 0, "{}", stderr(&hit));
    assert!(stderr(&hit).contains("cache hit"), "{}", stderr(&hit));
    assert_eq!(stdout(&hit).trim(), RFC_CHALLENGE);

    // A corrupt cache file is recovered from: the run works and the file is rewritten.
    std::fs::write(&file, b"not a compiled component").expect("corrupt");
    let recovered = run_in(dir.path(), &args);
    assert_eq!(code(&recovered), 0, "{}", stderr(&recovered));
    assert!(
        stderr(&recovered).contains("rewrote"),
        "{}",
        stderr(&recovered)
    );
    assert_eq!(stdout(&recovered).trim(), RFC_CHALLENGE);
    assert_eq!(std::fs::read(&file).expect("read"), compiled);
    assert_eq!(cwasm_files(dir.path()), [file]);
}

#[test]
fn check_exit_codes_and_formats() {
    let dir = tempfile::tempdir().expect("temp dir");
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hr-onboarding-helper.yaml");
    let personal = dir.path().join("personal.yaml");
    std::fs::write(&personal, "name: bad-app\nowner: someone@gmail.com\n").expect("write");
    let invalid = dir.path().join("invalid.yaml");
    std::fs::write(&invalid, "name: x\nowner: [a\nfoo: : :\n").expect("write");
    let s = |p: &Path| p.to_str().expect("utf-8 path").to_owned();

    if example.is_file() {
        let ok = run(&["check", &s(&example)]);
        assert_eq!(code(&ok), 0, "{}{}", stdout(&ok), stderr(&ok));
        assert!(stdout(&ok).contains("approve"));
    }

    let bad = run(&["check", &s(&personal), "--format", "json"]);
    assert_eq!(code(&bad), 1, "{}", stderr(&bad));
    let v: serde_json::Value = serde_json::from_str(stdout(&bad).trim()).expect("json");
    assert!(
        matches!(v["decision"].as_str(), Some("remediate" | "reject")),
        "{v}"
    );

    // One JSON object per line for several files; the worst result wins.
    let both = run(&["check", &s(&personal), &s(&personal), "--format", "json"]);
    assert_eq!(code(&both), 1);
    assert_eq!(stdout(&both).lines().count(), 2);

    let err = run(&["check", &s(&invalid), &s(&personal)]);
    assert_eq!(code(&err), 2);
    let e = stderr(&err);
    assert!(e.contains("error[syntax]"), "{e}");
    assert!(e.contains(&format!("--> {}:", s(&invalid))), "{e}");
    assert!(
        stdout(&err).contains("personal.yaml"),
        "the other file is still vetted"
    );
}

fn corpus(case: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/corpus")
        .join(case)
        .join("input.yaml")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn fix_rewrites_the_case_study_and_the_fixed_findings_are_gone() {
    let dir = tempfile::tempdir().unwrap();
    let fixed = dir.path().join("fixed.yaml");
    let out = run(&["fix", &corpus("case-study"), "-o", fixed.to_str().unwrap()]);
    // The consumer sink has no safe automatic fix, so the fixed app is still refused.
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("replace `hr.write` with `hr.read_only`"),
        "{}",
        stderr(&out)
    );
    let text = std::fs::read_to_string(&fixed).unwrap();
    assert!(
        text.contains("hr.read_only") && !text.contains("hr.write"),
        "{text}"
    );
    let out = run(&["check", "--format", "json", fixed.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for gone in [
        "MV-SCOPE-006",
        "MV-LIFE-002",
        "MV-OAUTH-013",
        "MV-OAUTH-014",
    ] {
        assert!(!rules.contains(&rule(gone)), "{gone} still in {rules:?}");
    }
}

#[test]
fn fix_of_invalid_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "a: [1\n").unwrap();
    let out = run(&["fix", bad.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("error[syntax]"), "{}", stderr(&out));
}

#[test]
fn fix_keeps_every_comment_and_untouched_line_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.yaml");
    let text = "# Roster sync: reviewed by IT on request.\n\
name: roster-sync     # the slug the builder shows\n\
owner: it@example.com\n\
purpose: 'sync the staff directory into the team roster sheet'   # quoted on purpose\n\
data_access:\n\
  # what the app reads\n\
  - { type: user.profile, access: read }\n\
retention_days: 30\n\
oauth_scopes:\n\
  - openid            # sign-in\n\
  - directory.admin   # asked for by the template\n\
  - profile\n\
external_sinks: []\n\
instrumentation:\n\
  audit_log: \"siem://corp/micro-apps\"\n\
  contact: it-oncall@example.com\n\
# no expiry yet\n";
    std::fs::write(&file, text).unwrap();
    let out = run(&["fix", file.to_str().unwrap()]);
    let fixed = stdout(&out);
    assert!(
        stderr(&out).contains("comments and layout of the input kept"),
        "{}",
        stderr(&out)
    );
    // The denied scope's line goes and the missing expiry is added after the last entry;
    // every other line, comments included, is the input's, byte for byte and in order.
    let got: Vec<&str> = fixed.split_inclusive('\n').collect();
    assert_eq!(
        got.iter().filter(|l| **l == "expiry_days: 60\n").count(),
        1,
        "{fixed}"
    );
    let kept: Vec<&str> = text
        .split_inclusive('\n')
        .filter(|l| !l.contains("directory.admin"))
        .collect();
    let rest: Vec<&str> = got
        .iter()
        .copied()
        .filter(|l| *l != "expiry_days: 60\n")
        .collect();
    assert_eq!(rest, kept, "{fixed}");
    assert!(
        stderr(&out).contains("the fixed manifest is approve"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn sarif_format_carries_rules_levels_and_lines() {
    let out = run(&[
        "check",
        "--format",
        "sarif",
        &corpus("case-study"),
        &corpus("article-example"),
    ]);
    assert_eq!(code(&out), 1);
    let log: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert!(run["tool"]["driver"]["rules"].as_array().unwrap().len() >= 60);
    let results = run["results"].as_array().unwrap();
    let scope = results
        .iter()
        .find(|r| r["ruleId"] == "MV-SCOPE-006")
        .unwrap();
    assert_eq!(scope["level"], "error");
    assert_eq!(
        scope["locations"][0]["physicalLocation"]["region"]["startLine"],
        10
    );
    assert!(
        scope["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("case-study/input.yaml")
    );
    assert_eq!(run["properties"]["verdicts"].as_array().unwrap().len(), 2);
}

#[test]
fn explain_prints_the_rule_doc_from_the_component() {
    let out = run(&["explain", "mv-scope-006"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc = stdout(&out);
    assert!(
        doc.starts_with("# MV-SCOPE-006 write-scope-for-read-access"),
        "{doc}"
    );
    assert!(doc.contains("## References") && doc.contains("RFC 9700"));
}

/// `microvet` run in `cwd` (for files named like options).
fn run_at(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env("MICROVET_CACHE_DIR", warm_cache())
        .output()
        .expect("run microvet")
}

/// The OS random source, for real generated PKCE pairs.
struct OsEntropy;

impl microvet_core::pkce::Entropy for OsEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        getrandom::fill(buf).expect("OS random source");
    }
}

/// Generated pairs until one's verifier (or challenge) begins with `prefix`.
fn pair_starting_with(prefix: &str, in_challenge: bool) -> (String, String) {
    for _ in 0..200 {
        let batch = microvet_core::pkce::generate_batch(43, 10_000, &mut OsEntropy).unwrap();
        if let Some(p) = batch.into_iter().find(|p| {
            let value = if in_challenge {
                &p.challenge
            } else {
                &p.verifier
            };
            value.starts_with(prefix)
        }) {
            return (p.verifier, p.challenge);
        }
    }
    panic!("no generated pair with `{prefix}`");
}

#[test]
fn pkce_values_beginning_with_a_dash_are_values() {
    let other = stdout(&run(&["pkce", "challenge", &"a".repeat(43)]))
        .trim()
        .to_owned();
    for prefix in ["-h", "--", "-V", "-"] {
        for in_challenge in [false, true] {
            let (verifier, challenge) = pair_starting_with(prefix, in_challenge);
            let ok = run(&["pkce", "verify", &verifier, &challenge]);
            assert_eq!(
                (code(&ok), stdout(&ok).trim()),
                (0, "match"),
                "{verifier} {challenge}: {}",
                stderr(&ok)
            );
            // A mismatch is 1, never the help text and 0.
            let bad = run(&["pkce", "verify", &verifier, &other]);
            assert_eq!(code(&bad), 1, "{verifier}: {}", stderr(&bad));
            assert_eq!(stdout(&bad).trim(), "mismatch");
            let (_, wrong_challenge) = pair_starting_with(prefix, true);
            if wrong_challenge != challenge {
                let bad = run(&["pkce", "verify", &verifier, &wrong_challenge]);
                assert_eq!(code(&bad), 1, "{wrong_challenge}: {}", stderr(&bad));
            }
            let ch = run(&["pkce", "challenge", &verifier, "--format", "json"]);
            assert_eq!(code(&ch), 0, "{verifier}: {}", stderr(&ch));
            assert!(stdout(&ch).contains(&challenge), "{}", stdout(&ch));
        }
    }
    // `-h` and `--help` as values are malformed values (exit 2), not a request for help
    // that exits 0 ("match").
    for value in ["-h", "--help", "-hq", "-V"] {
        let out = run(&["pkce", "verify", value, RFC_CHALLENGE]);
        assert_eq!(code(&out), 2, "{value}: {}", stdout(&out));
        assert!(!stdout(&out).contains("Usage"), "{}", stdout(&out));
        let out = run(&["pkce", "verify", RFC_VERIFIER, value]);
        assert_eq!(code(&out), 2, "{value}: {}", stdout(&out));
    }
    // Help is still there.
    let help = run(&["help", "pkce", "verify"]);
    assert_eq!(code(&help), 0);
    assert!(stdout(&help).contains("CHALLENGE"), "{}", stdout(&help));
}

#[test]
fn files_named_like_options_are_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = std::fs::read_to_string(corpus("article-example")).expect("read");
    std::fs::write(dir.path().join("-x.yaml"), &manifest).expect("write");
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/default.yaml");
    std::fs::copy(&policy, dir.path().join("-p.yaml")).expect("copy");
    let direct = run(&["check", "--format", "json", &corpus("article-example")]);
    let out = run_at(dir.path(), &["check", "-x.yaml", "--format", "json"]);
    assert_eq!(code(&out), code(&direct), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&direct));
    let out = run_at(dir.path(), &["check", "--policy", "-p.yaml", "-x.yaml"]);
    assert!(stdout(&out).contains("-x.yaml"), "{}", stderr(&out));
    let out = run_at(dir.path(), &["fix", "-x.yaml"]);
    assert!(stdout(&out).contains("owner"), "{}", stderr(&out));
    let out = run_at(dir.path(), &["policy", "check", "-p.yaml"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("is valid"));
    // `-h` / `--help` as a file name: a file (missing here: exit 2), never help and 0.
    for value in ["-h", "--help"] {
        for cmd in [
            &["check"][..],
            &["fix"],
            &["policy", "check"],
            &["log", "verify"],
        ] {
            let mut args = cmd.to_vec();
            args.push(value);
            let out = run_at(dir.path(), &args);
            assert_eq!(code(&out), 2, "{args:?}: {}", stdout(&out));
            assert!(
                stderr(&out).contains("cannot read"),
                "{args:?}: {}",
                stderr(&out)
            );
        }
    }
    // `-` alone is standard input.
    let mut child = Command::new(BIN)
        .args(["check", "-", "--format", "json"])
        .env("MICROVET_CACHE_DIR", warm_cache())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(manifest.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out), stdout(&direct));
}

/// Feed `total` bytes of `a: b` lines on stdin; returns the output and how many bytes the
/// CLI took before it closed its end.
fn feed_stdin(args: &[&str], total: usize) -> (Output, usize) {
    use std::io::Write as _;
    let mut child = Command::new(BIN)
        .args(args)
        .env("MICROVET_CACHE_DIR", warm_cache())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = "k: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\n"
            .repeat(1024);
        let mut sent = 0;
        while sent < total {
            match stdin.write(chunk.as_bytes()) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
        }
        sent
    });
    let out = child.wait_with_output().unwrap();
    (out, writer.join().unwrap())
}

#[test]
fn stdin_is_read_up_to_the_input_limit_only() {
    let total = 64 << 20;
    for args in [&["check", "-"][..], &["fix", "-"], &["check", "--dcr", "-"]] {
        let (out, sent) = feed_stdin(args, total);
        assert_eq!(code(&out), 2, "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("input limit of 1048576 bytes") && err.contains("<stdin>"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("memory"), "{err}");
        // The limit plus what the pipe holds, not the 64 MiB sent.
        assert!(sent < 8 << 20, "{args:?}: {sent} bytes taken");
    }
    let (out, sent) = feed_stdin(&["policy", "check", "-"], total);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("input limit of 4194304 bytes"),
        "{}",
        stderr(&out)
    );
    assert!(sent < 12 << 20, "{sent} bytes taken");
    // A file over the limit: the same error, naming the file.
    let dir = tempfile::tempdir().expect("temp dir");
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, "k: v\n".repeat(300_000)).expect("write");
    let out = run(&["check", big.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("big.yaml` is over the input limit of 1048576 bytes"),
        "{}",
        stderr(&out)
    );
}
