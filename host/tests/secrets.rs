//! No output of the built `microvet` binary holds a detected secret in any form (as written,
//! trimmed, lowercased, percent-encoded or decoded): `check` in text, JSON and SARIF, `fix`
//! (the fixed manifest replaces every secret by a vault reference or drops it), errors, the
//! HTTP server's `/v1/vet` and `/v1/vet/dcr` responses, its logs and its decision log.
//! The manifests are generated from every kind of secret the scanner knows, placed in
//! values, keys, URLs, prose and the app's name, padded or not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

mod common;
use common::*;

/// Fake secrets, one per kind the scanner knows.
const SECRETS: &[&str] = &[
    "ghp_Zx9Qw3Er7Ty1Ui5Op0As8Df2Gh6Jk4LzMn7B",
    "github_pat_11ABCDEFG0123456789abc_Zx9Qw3Er7Ty1Ui5Op0As8Df2Gh6Jk4LzMn7BvC5xZ8aQ1wS3eD",
    "glpat-Zx9Qw3Er7Ty1Ui5Op0As",
    "xoxb-123456789012-123456789012-Zx9Qw3Er7Ty1Ui5Op0As8Df2",
    "xapp-1-A0BCDEFGHIJ-1234567890123-0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "sk_live_Zx9Qw3Er7Ty1Ui5Op0As8Df2",
    "sk_test_Zx9Qw3Er7Ty1Ui5Op0As8Df2",
    "whsec_Zx9Qw3Er7Ty1Ui5Op0As8Df2Gh6Jk4Lz",
    "AKIAZX9QW3ER7TY1UI5O",
    "AIzaSyZx9Qw3Er7Ty1Ui5Op0As8Df2Gh6Jk4Lz",
    "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",
    "SG.Zx9Qw3Er7Ty1Ui5Op0As8D.Zx9Qw3Er7Ty1Ui5Op0As8Df2Gh6Jk4LzMn7BvC5xZ8",
    "npm_Zx9Qw3Er7Ty1Ui5Op0As8Df2Gh6Jk4LzMn7B",
    "sk-proj-Zx9Qw3Er7Ty1Ui5Op0As8Df2Gh6Jk4LzMn7BvC5xZ8aQ1",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaS1ib3QifQ.Zx9Qw3Er7Ty1Ui5Op0As8Df2Gh6Jk4LzMn7B",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4",
    "Zx9Qw3Er7Ty1Ui5Op0As8Df2Gh6Jk4LzMn7BvC5x",
];

const BASE: &str = "\
owner: ops@example.com
purpose: post notices
data_access: []
retention_days: 7
oauth_scopes: [openid]
expiry_days: 30
instrumentation: { audit_log: \"siem://corp/micro-apps\", contact: \"ops@example.com\" }
";

fn json(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// (manifest, the secret in it): every secret in every place, padded in some.
fn manifests() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, secret) in SECRETS.iter().enumerate() {
        let pad = ["", " ", "\n", "  "][i % 4];
        let padded = format!("{pad}{secret}{pad}");
        let places = [
            format!(
                "name: app-{i}\n{BASE}client:\n  client_secret: {}\n",
                json(&padded)
            ),
            format!(
                "name: app-{i}\n{BASE}notes: {}\n",
                json(&format!("deploy with {secret} daily"))
            ),
            format!("name: app-{i}\n{BASE}client:\n  {}: 1\n", json(&padded)),
            format!("name: {}\n{BASE}", json(&padded)),
            format!(
                "name: app-{i}\n{BASE}client:\n  application_type: web\n  redirect_uris: [{}]\n",
                json(&format!(
                    "https://apps.example.com/cb?access_token={secret}"
                ))
            ),
        ];
        for m in places {
            out.push((m, secret.to_string()));
        }
    }
    // The secret of a URL's userinfo, and a number under a secret-named key.
    out.push((
        format!("name: creds\n{BASE}external_sinks: [\"https://svc:Hunter2-Pass^word@files.example.com/up\"]\n"),
        "Hunter2-Pass^word".to_string(),
    ));
    out.push((
        format!("name: pin\n{BASE}client:\n  password: 87654321\n"),
        "87654321".to_string(),
    ));
    out
}

/// Every form of `secret` that must not appear, lowercased.
fn forms(secret: &str) -> Vec<String> {
    let t = secret.trim();
    let encoded: String = t
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    vec![secret.to_string(), t.to_string(), encoded]
        .into_iter()
        .filter(|f| f.chars().count() >= 4)
        .map(|f| f.to_lowercase())
        .collect()
}

fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    let lower = text.to_lowercase();
    for s in secrets {
        for f in forms(s) {
            assert!(!lower.contains(&f), "{what} shows `{f}`:\n{text}");
        }
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("MICROVET_CACHE_DIR", cache())
        .output()
        .expect("run microvet")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The manifests, written to files.
fn files(dir: &Path) -> Vec<(PathBuf, String)> {
    manifests()
        .into_iter()
        .enumerate()
        .map(|(i, (m, secret))| {
            let p = dir.join(format!("m{i}.yaml"));
            std::fs::write(&p, m).unwrap();
            (p, secret)
        })
        .collect()
}

#[test]
fn check_and_fix_never_show_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let files = files(dir.path());
    let secrets: Vec<String> = files.iter().map(|(_, s)| s.clone()).collect();
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.to_str().unwrap()).collect();
    for format in ["text", "json", "sarif"] {
        let mut args = vec!["check", "--format", format];
        args.extend(&paths);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let t = text(&out);
        assert!(
            t.matches("MV-SECRET-001").count() >= files.len(),
            "{format}: not every secret reported:\n{t}"
        );
        assert_clean(&format!("check --format {format}"), &t, &secrets);
    }
    for (p, secret) in &files {
        let fixed = dir.path().join("fixed.yaml");
        let out = run(&["fix", p.to_str().unwrap(), "-o", fixed.to_str().unwrap()]);
        let fixed_text = std::fs::read_to_string(&fixed).unwrap();
        assert_clean("fix", &text(&out), std::slice::from_ref(secret));
        assert_clean(
            "the fixed manifest",
            &fixed_text,
            std::slice::from_ref(secret),
        );
        let again = run(&["check", "--format", "json", fixed.to_str().unwrap()]);
        assert!(
            !text(&again).contains(rule("MV-SECRET-001")),
            "the fixed manifest still has a secret:\n{fixed_text}"
        );
    }
}

#[test]
fn errors_never_show_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let secret = SECRETS[0];
    let p = dir.path().join("dup.yaml");
    std::fs::write(
        &p,
        format!("name: dup\n{BASE}client:\n  {secret}: 1\n  {secret}: 2\n"),
    )
    .unwrap();
    for format in ["text", "json", "sarif"] {
        let out = run(&["check", "--format", format, p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains("duplicate key"), "{}", text(&out));
        assert_clean(
            "the duplicate-key error",
            &text(&out),
            &[secret.to_string()],
        );
    }
}

/// A POST's status, and its head and body as text (headers can leak too).
fn post(server: &Server, path: &str, body: &[u8]) -> (u16, String) {
    let r = server.post(path, body);
    (r.status, format!("{:?}\n{}", r.headers, r.text()))
}

#[test]
fn the_server_and_its_logs_never_show_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let mut server = Server::start_bare(&["--decision-log", log.to_str().unwrap()]);
    let mut secrets = Vec::new();
    for (m, secret) in manifests() {
        let (status, resp) = post(&server, "/v1/vet", m.as_bytes());
        assert_eq!(status, 200, "{resp}");
        assert!(resp.contains("MV-SECRET-001"), "{resp}");
        assert_clean("/v1/vet", &resp, std::slice::from_ref(&secret));
        secrets.push(secret);
    }
    for secret in SECRETS {
        let dcr = serde_json::json!({
            "client_name": format!("reports {secret}"),
            "redirect_uris": ["https://apps.example.com/cb"],
            "grant_types": ["authorization_code"],
            "client_secret": format!(" {secret}"),
            *secret: "x",
        });
        let (status, resp) = post(&server, "/v1/vet/dcr", dcr.to_string().as_bytes());
        assert_eq!(status, 200, "{resp}");
        assert!(resp.contains("MV-SECRET-001"), "{resp}");
        assert_clean("/v1/vet/dcr", &resp, &[secret.to_string()]);
    }
    // An error response does not quote a secret key either.
    let dup = format!("name: dup\n{BASE}client:\n  {0}: 1\n  {0}: 2\n", SECRETS[2]);
    let (status, resp) = post(&server, "/v1/vet", dup.as_bytes());
    assert!(status >= 400, "{resp}");
    assert_clean("an error response", &resp, &[SECRETS[2].to_string()]);
    // A graceful stop: every log line and decision-log entry is written.
    server.signal("TERM");
    server.wait(Duration::from_secs(60));
    let stderr = server.logs();
    drop(server);
    let all: Vec<String> = secrets
        .into_iter()
        .chain(SECRETS.iter().map(|s| s.to_string()))
        .collect();
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(!log_text.is_empty());
    assert_clean("the decision log", &log_text, &all);
    assert_clean("the server log", &stderr, &all);
}
