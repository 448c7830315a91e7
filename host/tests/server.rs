//! `microvet serve`: the real server (the built binary, a child process) on
//! 127.0.0.1:0, driven over plain HTTP/1.1: every endpoint, the limits (413, 503), a
//! limit hit in one request not affecting concurrent ones, policy reload (file change
//! and SIGHUP), graceful shutdown, the decision log's hash chain (and `log verify`
//! catching edits, drops and reorders), and a kill -9 under load.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::*;

const MANIFEST_JSON: &str = include_str!("../../tests/corpus/article-example-json/input.json");
const DCR: &str = include_str!("../../tests/corpus/dcr-basic/dcr.json");
const STRICT: &str = include_str!("../../policies/strict.yaml");

fn sha256_hex(bytes: &[u8]) -> String {
    microvet::decision_log::sha256_hex(bytes)
}

fn policies_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn log_verify(path: &Path) -> Output {
    Command::new(BIN)
        .args(["log", "verify", path.to_str().unwrap()])
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn policy_sha(server: &Server, name: &str) -> Option<String> {
    let v = server.get("/v1/policies").json();
    v["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .map(|p| p["sha256"].as_str().unwrap().to_owned())
}

/// A valid manifest that takes about a second to vet in the component.
fn slow_manifest() -> String {
    let mut s = String::from("name: big\nowner: a@example.com\ndata_access:\n");
    let mut i = 0;
    while s.len() < 1_000_000 {
        s.push_str(&format!("  - type: hr.employee_records{i}\n"));
        i += 1;
    }
    s
}

// ---------------------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------------------

#[test]
fn every_endpoint() {
    let dir = policies_dir(&[("strict.yaml", STRICT), ("README.md", "not a policy")]);
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("decisions.jsonl");
    let server = Server::start(&[
        "--policies",
        dir.path().to_str().unwrap(),
        "--decision-log",
        log.to_str().unwrap(),
    ]);
    let mut ids = Vec::new();

    // POST /v1/vet: exactly the component's canonical verdict JSON.
    let r = server.post("/v1/vet", MANIFEST.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let expected = vetter().vet(MANIFEST).unwrap();
    assert_eq!(r.text(), expected.json);
    assert_eq!(
        r.header("x-microvet-decision"),
        Some(expected.verdict.decision.as_str())
    );
    ids.push(r.header("x-request-id").unwrap().to_owned());
    // A JSON manifest.
    let r = server.post("/v1/vet", MANIFEST_JSON.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), vetter().vet(MANIFEST_JSON).unwrap().json);
    ids.push(r.header("x-request-id").unwrap().to_owned());
    // A named policy.
    let r = server.post("/v1/vet?policy=strict", MANIFEST.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["policy_sha256"], sha256_hex(STRICT.as_bytes()));
    ids.push(r.header("x-request-id").unwrap().to_owned());
    let r = server.post("/v1/vet?policy=nope", MANIFEST.as_bytes());
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "unknown-policy");
    assert!(
        r.json()["error"]["help"]
            .as_str()
            .unwrap()
            .contains("strict")
    );
    // A query string that does not parse: 400 saying so.
    let r = server.post("/v1/vet?policy=strict&policy=default", MANIFEST.as_bytes());
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "bad-request");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid query string: "),
        "{}",
        r.text()
    );
    // Invalid manifest text: 422 with the typed error.
    let r = server.post("/v1/vet", b"name: x\nowner: [\n");
    assert_eq!(r.status, 422, "{}", r.text());
    let e = &r.json()["error"];
    assert_eq!(e["code"], "syntax");
    assert!(e["line"].as_u64().is_some() && e["column"].as_u64().is_some());
    assert!(e["message"].as_str().is_some() && e["help"].as_str().is_some());
    // Invalid UTF-8: 400 naming the byte offset.
    let r = server.post("/v1/vet", b"name: caf\xe9\n");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "encoding");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("byte offset 9"),
        "{}",
        r.text()
    );
    // GET on a POST route.
    assert_eq!(server.get("/v1/vet").status, 405);

    // POST /v1/vet/dcr
    let r = server.post("/v1/vet/dcr", DCR.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), vetter().vet_dcr(DCR).unwrap().json);
    ids.push(r.header("x-request-id").unwrap().to_owned());

    // POST /v1/pkce
    let r = server.post("/v1/pkce", b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let pairs = r.json()["pairs"].as_array().unwrap().clone();
    assert_eq!(pairs.len(), 1);
    assert_eq!(pairs[0]["verifier"].as_str().unwrap().len(), 64);
    let r = server.post("/v1/pkce", br#"{"length": 43, "count": 3}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    for p in r.json()["pairs"].as_array().unwrap() {
        let verifier = p["verifier"].as_str().unwrap();
        assert_eq!(verifier.len(), 43);
        assert_eq!(p["method"], "S256");
        assert!(
            vetter()
                .pkce_verify(verifier, p["challenge"].as_str().unwrap())
                .unwrap()
        );
    }
    let r = server.post("/v1/pkce", br#"{"length": 10}"#);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "pkce-length");
    let r = server.post("/v1/pkce", b"{nope");
    assert_eq!(r.status, 400);

    // GET /v1/policies: the built-in default and the file, with their sha256.
    let v = server.get("/v1/policies").json();
    assert_eq!(v["default"], "default");
    let names: Vec<&str> = v["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "strict"]);
    assert_eq!(
        policy_sha(&server, "default").unwrap(),
        vetter().policy_sha256()
    );
    assert_eq!(
        policy_sha(&server, "strict").unwrap(),
        sha256_hex(STRICT.as_bytes())
    );

    // GET /v1/rules, /v1/rules/{id}
    let rules = server.get("/v1/rules").json();
    let first = rules[0]["id"].as_str().unwrap().to_owned();
    let r = server.get(&format!("/v1/rules/{}", first.to_lowercase()));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id"], first.as_str());
    let r = server.get("/v1/rules/MV-NOPE-999");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "unknown-rule");

    // GET /healthz
    let h = server.get("/healthz").json();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["component_sha256"], microvet::COMPONENT_SHA256);

    // GET /openapi.json: OpenAPI 3.1 with every endpoint.
    let api = server.get("/openapi.json").json();
    assert!(api["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/vet",
        "/v1/vet/dcr",
        "/v1/pkce",
        "/v1/policies",
        "/v1/rules",
        "/v1/rules/{id}",
        "/healthz",
        "/metrics",
        "/openapi.json",
        "/",
    ] {
        assert!(api["paths"][path].is_object(), "{path} is not documented");
    }
    assert_eq!(
        api,
        serde_json::from_str::<serde_json::Value>(microvet::server::OPENAPI).unwrap()
    );

    // GET / and the files the demo imports.
    let r = server.get("/");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text().contains("demo.js"));
    for (path, ty) in [
        ("/demo.js", "text/javascript"),
        ("/demo.css", "text/css"),
        ("/src/panel.js", "text/javascript"),
        ("/src/index.js", "text/javascript"),
        ("/examples/hr-onboarding-helper.yaml", "text/yaml"),
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.header("content-type").unwrap().starts_with(ty), "{path}");
    }
    for path in [
        "/../Cargo.toml",
        "/src/../../Cargo.toml",
        "/.git/HEAD",
        "/nope/x",
    ] {
        assert_eq!(server.get(path).status, 404, "{path}");
    }

    // Every response has a request id.
    let r = server.get("/nope");
    assert_eq!(r.status, 404);
    assert!(r.header("x-request-id").is_some());

    // GET /metrics (Prometheus text).
    let m = server.get("/metrics");
    assert_eq!(m.status, 200);
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
    let m = m.text();
    for needle in [
        "microvet_http_requests_total{route=\"/v1/vet\",status=\"200\"} 3",
        "microvet_http_requests_total{route=\"/v1/vet\",status=\"422\"} 1",
        "microvet_decisions_total{kind=\"dcr\",decision=\"approve\"} 1",
        "microvet_http_request_duration_seconds_bucket{route=\"/v1/vet\",le=\"+Inf\"}",
        "microvet_limit_hits_total{limit=\"time\"} 0",
        "microvet_decision_log_appends_total 4",
        "# TYPE microvet_http_request_duration_seconds histogram",
    ] {
        assert!(m.contains(needle), "no `{needle}` in\n{m}");
    }

    // The decision log: one line per verdict, chained, no manifest content.
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    for (line, id) in lines.iter().zip(&ids) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["request_id"], id.as_str());
        assert!(!line.contains("hr-onboarding-helper"), "{line}");
    }
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["manifest_sha256"], expected.verdict.manifest_sha256);
    assert_eq!(first["decision"], expected.verdict.decision.as_str());
    assert_eq!(first["policy"], "default");
    assert_eq!(first["prev"], "0".repeat(64));
    assert!(first["time"].as_str().unwrap().ends_with('Z'));
    let out = log_verify(&log);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("ok: 4 entries"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn body_over_the_limit_is_413() {
    let server = Server::start(&["--max-body-bytes", "2048"]);
    let r = server.post("/v1/vet", &vec![b'a'; 4096]);
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "body-too-large");
    assert!(r.header("x-request-id").is_some());
    let r = server.post("/v1/pkce", &vec![b' '; 4096]);
    assert_eq!(r.status, 413);
    // Under the limit is fine.
    assert_eq!(server.post("/v1/vet", MANIFEST.as_bytes()).status, 200);
}

/// Start a vet of [`slow_manifest`] (about 2 s in the component) on another thread: its
/// body arrives at once, then it holds a concurrency permit while it runs.
fn start_slow_vet(addr: SocketAddr) -> std::thread::JoinHandle<Resp> {
    let body = slow_manifest();
    std::thread::spawn(move || request(addr, "POST", "/v1/vet", &[], body.as_bytes()))
}

fn wait_for_permit_held(server: &Server) {
    wait_until(
        "the slow vet to hold the permit",
        Duration::from_secs(30),
        || {
            server
                .get("/metrics")
                .text()
                .contains("microvet_in_flight_requests 1")
        },
    );
}

#[test]
fn saturation_is_503_and_sigterm_drains() {
    let mut server = Server::start(&["--max-concurrency", "1", "--time-limit-ms", "30000"]);
    // While a slow vet holds the only permit, the next vet is refused at once. The slow
    // vet takes seconds; should it have ended before a probe, the attempt is repeated.
    let mut refused = 0;
    let mut checked = false;
    for _ in 0..5 {
        let slow = start_slow_vet(server.addr);
        wait_for_permit_held(&server);
        let vet = server.post("/v1/vet", MANIFEST.as_bytes());
        let pkce = server.post("/v1/pkce", b"");
        let statuses = [vet.status, pkce.status];
        let slow_done = slow.is_finished();
        refused += statuses.iter().filter(|s| **s == 503).count();
        assert_eq!(slow.join().unwrap().status, 200);
        if statuses == [503, 503] {
            assert_eq!(vet.header("retry-after"), Some("1"));
            assert_eq!(vet.json()["error"]["code"], "overloaded");
            checked = true;
            break;
        }
        assert!(slow_done, "{statuses:?} while the permit was held");
    }
    assert!(checked, "the slow vet never outlasted two requests");
    // A wrong method on a limited route is a 405, not an overload (it takes no permit).
    assert_eq!(server.get("/v1/vet").status, 405);
    // Monitoring is not behind the limit.
    assert_eq!(server.get("/healthz").status, 200);
    assert!(
        server
            .get("/metrics")
            .text()
            .contains(&format!("microvet_overload_rejections_total {refused}"))
    );
    // SIGTERM: no new connections, but the request in flight completes.
    let slow = start_slow_vet(server.addr);
    wait_for_permit_held(&server);
    server.signal("TERM");
    let r = slow.join().unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), vetter().vet(&slow_manifest()).unwrap().json);
    let status = server.wait(Duration::from_secs(30));
    assert!(status.success(), "{status:?}\n{}", server.logs());
    assert!(server.logs().contains("shutting down"), "{}", server.logs());
}

#[test]
fn a_limit_hit_in_one_request_does_not_affect_the_others() {
    for (mode, limit_args, code_word) in [
        ("warm", ["--time-limit-ms", "250"], "time limit"),
        ("fresh", ["--time-limit-ms", "250"], "time limit"),
        ("warm", ["--memory-limit-mib", "16"], "memory limit"),
    ] {
        let mut args = vec!["--instances", mode];
        args.extend(limit_args);
        let server = Server::start(&args);
        let expected = vetter().vet(MANIFEST).unwrap().json;
        let slow = slow_manifest();
        std::thread::scope(|s| {
            let heavy = s.spawn(|| server.post("/v1/vet", slow.as_bytes()));
            let normal: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        (0..8)
                            .map(|_| server.post("/v1/vet", MANIFEST.as_bytes()))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let r = heavy.join().unwrap();
            assert_eq!(r.status, 422, "{mode}: {}", r.text());
            assert_eq!(r.json()["error"]["code"], "host-limit");
            assert!(
                r.json()["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains(code_word),
                "{}",
                r.text()
            );
            for h in normal {
                for r in h.join().unwrap() {
                    assert_eq!(r.status, 200, "{mode}: {}", r.text());
                    assert_eq!(r.text(), expected);
                }
            }
        });
        // And after it.
        for _ in 0..5 {
            assert_eq!(server.post("/v1/vet", MANIFEST.as_bytes()).text(), expected);
        }
        let m = server.get("/metrics").text();
        let which = if code_word == "time limit" {
            "time"
        } else {
            "memory"
        };
        assert!(
            m.contains(&format!("microvet_limit_hits_total{{limit=\"{which}\"}} 1")),
            "{m}"
        );
        if mode == "warm" {
            assert!(
                m.contains("microvet_warm_instance_events_total{event=\"discarded\"} 1"),
                "{m}"
            );
        }
    }
}

#[test]
fn policies_reload_on_change_and_refuse_bad_ones() {
    let dir = policies_dir(&[]);
    let server = Server::start(&[
        "--policies",
        dir.path().to_str().unwrap(),
        "--reload-interval-ms",
        "200",
    ]);
    assert!(policy_sha(&server, "team").is_none());
    // A new file appears.
    std::fs::write(dir.path().join("team.yaml"), STRICT).unwrap();
    let sha = sha256_hex(STRICT.as_bytes());
    wait_until("the new policy", Duration::from_secs(20), || {
        policy_sha(&server, "team").as_deref() == Some(sha.as_str())
    });
    let r = server.post("/v1/vet?policy=team", MANIFEST.as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["policy_sha256"], sha.as_str());
    // A broken version is refused; the old one stays in force.
    std::fs::write(dir.path().join("team.yaml"), "policy_version: [\n").unwrap();
    wait_until("the refusal in the log", Duration::from_secs(20), || {
        server.logs().contains("policy refused")
    });
    assert_eq!(policy_sha(&server, "team").as_deref(), Some(sha.as_str()));
    let r = server.post("/v1/vet?policy=team", MANIFEST.as_bytes());
    assert_eq!(r.json()["policy_sha256"], sha.as_str());
    assert!(
        server
            .get("/metrics")
            .text()
            .contains("microvet_policy_reloads_total{result=\"error\"} 1")
    );
    // Fixed again: the new text is in force.
    let fixed = format!("{STRICT}\n# v2\n");
    std::fs::write(dir.path().join("team.yaml"), &fixed).unwrap();
    let sha2 = sha256_hex(fixed.as_bytes());
    wait_until("the fixed policy", Duration::from_secs(20), || {
        policy_sha(&server, "team").as_deref() == Some(sha2.as_str())
    });
    // Removed: the version in force stays (only a restart drops it), and says so.
    std::fs::remove_file(dir.path().join("team.yaml")).unwrap();
    wait_until("the removal noticed", Duration::from_secs(20), || {
        policy_state(&server, "team")["state"] == "stale"
    });
    assert_eq!(policy_sha(&server, "team").as_deref(), Some(sha2.as_str()));
    assert!(policy_sha(&server, "default").is_some());
}

fn policy_state(server: &Server, name: &str) -> serde_json::Value {
    let v = server.get("/v1/policies").json();
    v["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

#[test]
fn a_deleted_default_policy_stays_in_force_and_says_so() {
    let dir = policies_dir(&[("default.yaml", STRICT)]);
    let server = Server::start(&[
        "--policies",
        dir.path().to_str().unwrap(),
        "--reload-interval-ms",
        "0",
    ]);
    let sha = sha256_hex(STRICT.as_bytes());
    let before = server.post("/v1/vet", MANIFEST.as_bytes()).json();
    assert_eq!(before["policy_sha256"], sha.as_str());
    let builtin = vetter().vet(MANIFEST).unwrap().verdict;
    assert_ne!(
        before["decision"],
        builtin.decision.as_str(),
        "the test needs a policy that decides otherwise than the built-in one"
    );
    let state = policy_state(&server, "default");
    assert_eq!(state["state"], "ok", "{state}");
    assert!(state["last_error"].is_null(), "{state}");
    let since = state["in_force_since"].as_str().unwrap().to_owned();

    std::fs::remove_file(dir.path().join("default.yaml")).unwrap();
    server.signal("HUP");
    wait_until("the reload on SIGHUP", Duration::from_secs(20), || {
        policy_state(&server, "default")["state"] == "stale"
    });
    // The same policy decides.
    let after = server.post("/v1/vet", MANIFEST.as_bytes()).json();
    assert_eq!(after["decision"], before["decision"]);
    assert_eq!(after["policy_sha256"], sha.as_str());
    // ... and the state says why, in /v1/policies, /healthz and the log.
    let state = policy_state(&server, "default");
    assert_eq!(state["sha256"], sha.as_str(), "{state}");
    assert_eq!(state["source"], "file", "{state}");
    assert_eq!(state["in_force_since"], since.as_str(), "{state}");
    let message = state["last_error"]["message"].as_str().unwrap();
    assert!(
        message.contains("default.yaml") && message.contains("gone"),
        "{state}"
    );
    assert!(state["last_error"]["at"].as_str().unwrap() >= since.as_str());
    assert_eq!(server.get("/v1/policies").json()["all_ok"], false);
    let health = server.get("/healthz").json();
    assert_eq!(health["policies_ok"], false, "{health}");
    let listed = health["policy_states"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "default")
        .cloned()
        .unwrap();
    assert_eq!(listed, state);
    let logs = server.logs();
    assert!(
        logs.contains("policy refused") && logs.contains("gone"),
        "{logs}"
    );

    // Back again: in force as the file is, no error.
    std::fs::write(dir.path().join("default.yaml"), STRICT).unwrap();
    server.signal("HUP");
    wait_until("the file back", Duration::from_secs(20), || {
        policy_state(&server, "default")["state"] == "ok"
    });
    assert!(policy_state(&server, "default")["last_error"].is_null());
    assert_eq!(server.get("/healthz").json()["policies_ok"], true);
}

#[test]
fn policies_reload_on_sighup() {
    let dir = policies_dir(&[]);
    let server = Server::start(&[
        "--policies",
        dir.path().to_str().unwrap(),
        "--reload-interval-ms",
        "0",
    ]);
    std::fs::write(dir.path().join("team.yaml"), STRICT).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(policy_sha(&server, "team").is_none(), "no polling");
    server.signal("HUP");
    wait_until("the reload on SIGHUP", Duration::from_secs(20), || {
        policy_sha(&server, "team").is_some()
    });
    assert!(server.logs().contains("SIGHUP"));
}

/// The lines of a decision log written by a real server: `n` vets.
fn server_log(n: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let mut server = Server::start(&["--decision-log", log.to_str().unwrap()]);
    for i in 0..n {
        let body = if i % 2 == 0 { MANIFEST } else { MANIFEST_JSON };
        assert_eq!(server.post("/v1/vet", body.as_bytes()).status, 200);
    }
    server.signal("TERM");
    assert!(server.wait(Duration::from_secs(30)).success());
    (dir, log)
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn log_verify_catches_edits_drops_inserts_and_reorders() {
    let (dir, log) = server_log(6);
    let out = log_verify(&log);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let orig = lines(&log);
    assert_eq!(orig.len(), 6);
    let tampered = dir.path().join("tampered.jsonl");

    let check = |ls: &[String], line: usize, word: &str| {
        write_lines(&tampered, ls);
        let out = log_verify(&tampered);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(
            text.contains(&format!("line {line}: ")) && text.contains(word),
            "expected `line {line}: ...{word}` in:\n{text}"
        );
    };
    // Edited: a decision changed.
    let mut edited = orig.clone();
    edited[2] = edited[2].replacen("\"score\":", "\"score\":1", 1);
    assert_ne!(edited[2], orig[2]);
    check(&edited, 3, "changed");
    // Dropped.
    let mut dropped = orig.clone();
    dropped.remove(3);
    check(&dropped, 4, "dropped");
    // Reordered.
    let mut reordered = orig.clone();
    reordered.swap(1, 2);
    check(&reordered, 2, "out of order");
    // Inserted (a copy of a line).
    let mut inserted = orig.clone();
    inserted.insert(4, orig[3].clone());
    check(&inserted, 5, "inserted");
    // The first line dropped.
    check(&orig[1..], 1, "dropped");
    // A rewritten tail is caught with the head kept elsewhere.
    let head = sha256_hex(orig[5].as_bytes());
    write_lines(&tampered, &orig[..5]);
    let out = Command::new(BIN)
        .args(["log", "verify", tampered.to_str().unwrap(), "--expect-head"])
        .arg(&head)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("line 5: "), "{}", stdout(&out));
    // Unreadable: exit 2.
    let out = log_verify(&dir.path().join("missing.jsonl"));
    assert_eq!(out.status.code(), Some(2));

    // A torn last line is reported apart from tampering, and the server continues the
    // chain after cutting it off.
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.extend_from_slice(br#"{"seq":7,"time":"2026-"#);
    std::fs::write(&log, &bytes).unwrap();
    let out = log_verify(&log);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("line 7: torn"), "{}", stdout(&out));
    let mut server = Server::start(&["--decision-log", log.to_str().unwrap()]);
    assert!(server.logs().contains("torn"), "{}", server.logs());
    assert_eq!(server.post("/v1/vet", MANIFEST.as_bytes()).status, 200);
    server.signal("TERM");
    assert!(server.wait(Duration::from_secs(30)).success());
    let out = log_verify(&log);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("ok: 7 entries, last seq 7"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn decision_log_rotates_by_size_and_on_sigusr1_and_verifies_as_a_set() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let mut server = Server::start(&[
        "--decision-log",
        log.to_str().unwrap(),
        "--decision-log-max-bytes",
        "2000",
    ]);
    for _ in 0..12 {
        assert_eq!(server.post("/v1/vet", MANIFEST.as_bytes()).status, 200);
    }
    server.signal("USR1");
    wait_until("the rotation on SIGUSR1", Duration::from_secs(20), || {
        server.logs().contains("SIGUSR1: decision log rotated")
    });
    assert_eq!(server.post("/v1/vet", MANIFEST.as_bytes()).status, 200);
    server.signal("TERM");
    assert!(server.wait(Duration::from_secs(30)).success());
    // Oldest first; the file being written last.
    let mut rotated: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("decisions.jsonl.")
        })
        .collect();
    rotated.sort();
    assert!(rotated.len() >= 2, "{rotated:?}");
    let mut set = rotated.clone();
    set.push(log.clone());
    let verify = |files: &[PathBuf]| {
        let out = Command::new(BIN)
            .args(["log", "verify"])
            .args(files)
            .output()
            .unwrap();
        (out.status.code(), stdout(&out))
    };
    let (code, text) = verify(&set);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.starts_with("ok: 13 entries, last seq 13"), "{text}");
    // The first line of each new file names the file before it and links to its head.
    for pair in set.windows(2) {
        let first: serde_json::Value = serde_json::from_str(&lines(&pair[1])[0]).unwrap();
        let name = pair[0].file_name().unwrap().to_str().unwrap();
        assert_eq!(first["prev_file"], name);
        let last = lines(&pair[0]).last().unwrap().clone();
        assert_eq!(first["prev"], sha256_hex(last.as_bytes()));
    }
    // A gap: a middle file left out.
    let mut gap = set.clone();
    gap.remove(1);
    let (code, text) = verify(&gap);
    assert_eq!(code, Some(1), "{text}");
    let second = gap[1].display().to_string();
    assert!(text.contains(&format!("{second}: line 1: ")), "{text}");
    // Reordered files.
    let mut reordered = set.clone();
    reordered.swap(0, 1);
    let (code, text) = verify(&reordered);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!("{}: line 1: ", reordered[1].display())),
        "{text}"
    );
    // A truncated middle file (its last line cut off).
    let middle = &set[1];
    let kept = lines(middle);
    write_lines(middle, &kept[..kept.len() - 1]);
    let (code, text) = verify(&set);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!("{}: line 1: ", set[2].display())) && text.contains("dropped"),
        "{text}"
    );
    write_lines(middle, &kept);
    // Torn in the middle: the file was cut mid-line.
    let bytes = std::fs::read(middle).unwrap();
    std::fs::write(middle, &bytes[..bytes.len() - 10]).unwrap();
    let (code, text) = verify(&set);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("truncated"), "{text}");
}

#[test]
fn log_verify_bounds_the_line_length_and_names_the_line() {
    let (dir, log) = server_log(3);
    let mut ls = lines(&log);
    ls.insert(1, "x".repeat(200_000));
    let long = dir.path().join("long.jsonl");
    write_lines(&long, &ls);
    let out = log_verify(&long);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("line 2: ") && text.contains("over the limit of 65536 bytes"),
        "{text}"
    );
}

#[test]
fn kill_9_under_load_keeps_every_answered_vet() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let mut server = Server::start(&["--decision-log", log.to_str().unwrap()]);
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(Mutex::new(Vec::<String>::new()));
    let clients = 200;
    let handles: Vec<_> = (0..clients)
        .map(|i| {
            let stop = Arc::clone(&stop);
            let answered = Arc::clone(&answered);
            std::thread::spawn(move || {
                let body = if i % 2 == 0 { MANIFEST } else { MANIFEST_JSON };
                let deadline = Instant::now() + Duration::from_secs(60);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    match try_request(addr, "POST", "/v1/vet", &[], body.as_bytes()) {
                        Ok(r) if r.status == 200 => {
                            let id = r.header("x-request-id").unwrap().to_owned();
                            answered.lock().unwrap().push(id);
                        }
                        Ok(r) => assert_eq!(r.status, 503, "{}", r.text()),
                        // Refused or cut off by the kill.
                        Err(_) => {}
                    }
                }
            })
        })
        .collect();
    // Let the load build up, then kill -9 in the middle of it.
    wait_until("some answered vets", Duration::from_secs(60), || {
        answered.lock().unwrap().len() >= 300
    });
    server.child.kill().unwrap(); // SIGKILL
    let status = server.wait(Duration::from_secs(10));
    assert!(!status.success());
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    let out = log_verify(&log);
    let report = stdout(&out);
    println!("{} answered; log verify: {report}", answered.len());
    assert_eq!(out.status.code(), Some(0), "{report}");
    let text = std::fs::read_to_string(&log).unwrap();
    let logged: HashSet<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| v["request_id"].as_str().unwrap().to_owned())
        .collect();
    let missing: Vec<&String> = answered.iter().filter(|id| !logged.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} answered vets are not in the log: {missing:?}",
        missing.len()
    );
    assert!(logged.len() >= answered.len());
}

/// The value of a metric line (`name{labels} value`) in a `/metrics` text.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn decision_log_group_commit_shares_fsyncs_between_concurrent_vets() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let mut server = Server::start(&["--decision-log", log.to_str().unwrap()]);
    let addr = server.addr;
    let n = 64;
    let barrier = Arc::new(std::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let r = request(addr, "POST", "/v1/vet", &[], MANIFEST.as_bytes());
                assert_eq!(r.status, 200, "{}", r.text());
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let m = server.get("/metrics").text();
    let appends = metric(&m, "microvet_decision_log_appends_total").unwrap();
    let fsyncs = metric(&m, "microvet_decision_log_fsyncs_total").unwrap();
    let batches = metric(&m, "microvet_decision_log_batches_total").unwrap();
    println!("{n} concurrent vets: {appends} lines, {batches} batches, {fsyncs} fsyncs");
    assert_eq!(appends, n as f64);
    assert_eq!(fsyncs, batches, "one sync_data per batch");
    assert!(
        fsyncs < n as f64,
        "{n} concurrent vets took {fsyncs} fsyncs: no group commit"
    );
    server.signal("TERM");
    assert!(server.wait(Duration::from_secs(30)).success());
    let out = log_verify(&log);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(lines(&log).len(), n);
}

#[test]
fn shadow_policy_leaves_the_answer_unchanged_and_logs_and_counts_disagreements() {
    let clean = include_str!("../../tests/corpus/clean-approve/input.yaml");
    let native = include_str!("../../tests/corpus/oauth-clean-native/input.yaml");
    let retention = include_str!("../../tests/corpus/expiry-out-of-range/input.yaml");
    let policies = policies_dir(&[("strict.yaml", STRICT)]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let pdir = policies.path().to_str().unwrap();
    let args = ["--policies", pdir, "--decision-log", log.to_str().unwrap()];
    let mut server = Server::start(&[&args[..], &["--shadow-policy", "strict"]].concat());
    let plain = Server::start(&["--policies", pdir]);

    // (body, route, default decision, strict decision, whether the rule sets differ)
    let cases: [(&str, &str, &str, &str, bool); 6] = [
        (
            MANIFEST,
            "/v1/vet",
            "approve-with-controls",
            "remediate",
            true,
        ),
        (
            MANIFEST_JSON,
            "/v1/vet",
            "approve-with-controls",
            "remediate",
            true,
        ),
        (native, "/v1/vet", "approve", "approve-with-controls", true),
        (retention, "/v1/vet", "remediate", "remediate", true),
        (clean, "/v1/vet", "approve", "approve", false),
        (DCR, "/v1/vet/dcr", "approve", "approve", false),
    ];
    let mut ids = Vec::new();
    for (body, route, decision, _, _) in cases {
        let r = server.post(route, body.as_bytes());
        let p = plain.post(route, body.as_bytes());
        assert_eq!(r.status, 200, "{}", r.text());
        // The answer is the default policy's, byte for byte, as without a shadow.
        assert_eq!(r.body, p.body);
        let want = match route {
            "/v1/vet" => vetter().vet(body).unwrap().json,
            _ => vetter().vet_dcr(body).unwrap().json,
        };
        assert_eq!(r.text(), want);
        assert_eq!(r.header("x-microvet-decision"), Some(decision));
        ids.push(r.header("x-request-id").unwrap().to_owned());
    }
    // A request under the shadow policy itself is not shadowed.
    let r = server.post("/v1/vet?policy=strict", MANIFEST.as_bytes());
    assert_eq!(r.header("x-microvet-decision"), Some("remediate"));

    let shadowed = cases.len() as f64;
    wait_until("the shadow vets", Duration::from_secs(30), || {
        let m = server.get("/metrics").text();
        metric(&m, "microvet_shadow_vets_total") == Some(shadowed)
    });
    let m = server.get("/metrics").text();
    let count = |from: &str, to: &str| {
        metric(
            &m,
            &format!("microvet_shadow_disagreements_total{{from=\"{from}\",to=\"{to}\"}}"),
        )
        .unwrap()
    };
    assert_eq!(count("approve-with-controls", "remediate"), 2.0, "{m}");
    assert_eq!(count("approve", "approve-with-controls"), 1.0, "{m}");
    assert_eq!(count("remediate", "remediate"), 1.0, "{m}");
    assert_eq!(count("approve", "approve"), 0.0, "{m}");
    assert_eq!(count("approve-with-controls", "approve-with-controls"), 0.0);
    assert_eq!(metric(&m, "microvet_shadow_skipped_total"), Some(0.0));
    assert_eq!(metric(&m, "microvet_shadow_errors_total"), Some(0.0));
    assert!(
        !plain.get("/metrics").text().contains("microvet_shadow_"),
        "no shadow metrics without a shadow policy"
    );

    // The log: every answered vet, plus one `shadow` line per disagreement.
    let disagreements = cases.iter().filter(|c| c.4).count();
    wait_until("the shadow lines", Duration::from_secs(30), || {
        lines(&log).len() == cases.len() + 1 + disagreements
    });
    server.signal("TERM");
    assert!(server.wait(Duration::from_secs(30)).success());
    let out = log_verify(&log);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let entries: Vec<serde_json::Value> = lines(&log)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for ((_, _, decision, shadow_decision, differs), id) in cases.iter().zip(&ids) {
        let of_request: Vec<&serde_json::Value> =
            entries.iter().filter(|e| e["request_id"] == *id).collect();
        let answered = of_request[0];
        assert_eq!(answered["policy"], "default");
        assert_eq!(answered["decision"], *decision);
        assert!(answered.get("shadow").is_none());
        if !differs {
            assert_eq!(of_request.len(), 1, "{of_request:?}");
            continue;
        }
        assert_eq!(of_request.len(), 2, "{of_request:?}");
        let shadow = of_request[1];
        assert!(shadow["seq"].as_u64() > answered["seq"].as_u64());
        assert_eq!(shadow["policy"], "strict");
        assert_eq!(shadow["decision"], *shadow_decision);
        assert_eq!(shadow["manifest_sha256"], answered["manifest_sha256"]);
        assert_ne!(shadow["policy_sha256"], answered["policy_sha256"]);
        assert_eq!(shadow["shadow"]["answered_policy"], "default");
        assert_eq!(shadow["shadow"]["answered_decision"], *decision);
    }
}

#[test]
fn an_unknown_shadow_policy_stops_the_server_at_start() {
    let out = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--shadow-policy",
            "nope",
        ])
        .env("MICROVET_CACHE_DIR", cache())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--shadow-policy: no policy named `nope` (known: default)"),
        "{err}"
    );
}
