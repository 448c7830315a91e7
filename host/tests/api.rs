//! The HTTP API of `microvet serve` as a contract, against the real server (the built
//! binary) on 127.0.0.1: content types and encodings (415), bodies that are required
//! (400), JSON request objects (422 naming the field), 405 with `Allow` and the JSON error
//! shape on every route, the PKCE routes, the OpenAPI document's request bodies, and the
//! overload log (one line per interval, not one per 503).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::{Duration, Instant};

mod common;
use common::*;

const MANIFEST_JSON: &str = include_str!("../../tests/corpus/article-example-json/input.json");
const DCR: &str = include_str!("../../tests/corpus/dcr-basic/dcr.json");
/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

// ---------------------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------------------

#[test]
fn content_types_and_encodings() {
    let server = Server::start_bare(&[]);
    let verdict = vetter().vet(MANIFEST).unwrap().json;
    let verdict_json = vetter().vet(MANIFEST_JSON).unwrap().json;

    // Text: YAML types, text/plain and no Content-Type at all.
    for ty in [
        None,
        Some("application/yaml"),
        Some("application/x-yaml"),
        Some("text/yaml"),
        Some("text/plain; charset=utf-8"),
    ] {
        let r = server.post_typed("/v1/vet", ty, MANIFEST.as_bytes());
        assert_eq!(r.status, 200, "{ty:?}: {}", r.text());
        assert_eq!(r.text(), verdict, "{ty:?}");
    }
    // application/json: the manifest object.
    let r = server.post_json("/v1/vet", MANIFEST_JSON);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), verdict_json);
    let r = server.post_typed(
        "/v1/vet",
        Some("Application/JSON; charset=\"UTF-8\""),
        MANIFEST_JSON.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // JSON's surrogate-pair escapes (an emoji) are read as the character they stand for.
    let emoji = r#"{"name": "shift-planner", "purpose": "plans shifts \uD83D\uDCC5", "owner": "a@example.com"}"#;
    let r = server.post_json("/v1/vet", emoji);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.text(),
        vetter()
            .vet(&emoji.replace("\\uD83D\\uDCC5", "\u{1F4C5}"))
            .unwrap()
            .json
    );
    // ... and nothing else: YAML text is not JSON (400), a JSON string or array is not the
    // manifest object (422).
    let r = server.post_json("/v1/vet", MANIFEST);
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "bad-json"),
        "{}",
        r.text()
    );
    for (body, kind) in [
        (r#""name: x\nowner: a@example.com""#, "a string"),
        (r#"[{"name": "x"}]"#, "an array"),
        ("null", "null"),
    ] {
        let r = server.post_json("/v1/vet", body);
        assert_eq!(
            (r.status, r.code().as_str()),
            (422, "not-an-object"),
            "{body}"
        );
        assert!(r.text().contains(kind), "{}", r.text());
    }
    // The registration request likewise.
    let r = server.post_json("/v1/vet/dcr", DCR);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), vetter().vet_dcr(DCR).unwrap().json);
    let r = server.post_json("/v1/vet/dcr", "[]");
    assert_eq!((r.status, r.code().as_str()), (422, "not-an-object"));

    // 415: a type, a charset or an encoding the route does not understand.
    for (headers, code) in [
        (
            vec![("Content-Type", "application/octet-stream")],
            "unsupported-media-type",
        ),
        (
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            "unsupported-media-type",
        ),
        (
            vec![("Content-Type", "text/plain; charset=iso-8859-1")],
            "unsupported-media-type",
        ),
        (
            vec![
                ("Content-Type", "text/yaml"),
                ("Content-Type", "application/json"),
            ],
            "unsupported-media-type",
        ),
        (vec![("Content-Encoding", "gzip")], "unsupported-encoding"),
        (
            vec![
                ("Content-Type", "application/yaml"),
                ("Content-Encoding", "identity, br"),
            ],
            "unsupported-encoding",
        ),
    ] {
        for path in ["/v1/vet", "/v1/vet/dcr"] {
            let r = server.call("POST", path, &headers, MANIFEST.as_bytes());
            assert_eq!(r.status, 415, "{path} {headers:?}: {}", r.text());
            assert_eq!(r.code(), code, "{headers:?}");
            assert!(r.header("x-request-id").is_some());
            if code == "unsupported-encoding" {
                assert_eq!(r.header("accept-encoding"), Some("identity"));
            } else {
                assert!(r.text().contains("application/yaml"), "{}", r.text());
            }
        }
    }
    // A gzip body is refused for its encoding, not vetted as bytes.
    let gz = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03";
    let r = server.call("POST", "/v1/vet", &[("Content-Encoding", "gzip")], gz);
    assert_eq!((r.status, r.code().as_str()), (415, "unsupported-encoding"));
    // `identity` is no encoding.
    let r = server.call(
        "POST",
        "/v1/vet",
        &[("Content-Encoding", "identity")],
        MANIFEST.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // The PKCE routes take JSON only.
    for path in [
        "/v1/pkce",
        "/v1/pkce/challenge",
        "/v1/pkce/verify",
        "/v1/pkce/authorize-url",
    ] {
        let r = server.post_typed(path, Some("text/plain"), b"{}");
        assert_eq!(
            (r.status, r.code().as_str()),
            (415, "unsupported-media-type"),
            "{path}"
        );
        let r = server.call("POST", path, &[("Content-Encoding", "gzip")], b"{}");
        assert_eq!(
            (r.status, r.code().as_str()),
            (415, "unsupported-encoding"),
            "{path}"
        );
    }
}

#[test]
fn a_vet_needs_a_body() {
    let server = Server::start_bare(&[]);
    for path in ["/v1/vet", "/v1/vet/dcr"] {
        for (ty, body) in [
            (None, ""),
            (Some("application/json"), ""),
            (Some("application/yaml"), ""),
            (None, " \r\n\t\n"),
        ] {
            let r = server.post_typed(path, ty, body.as_bytes());
            assert_eq!(r.status, 400, "{path} {ty:?} {body:?}: {}", r.text());
            assert_eq!(r.code(), "empty-body");
        }
    }
    // A YAML document that is empty or null is no manifest either.
    for path in ["/v1/vet", "/v1/vet/dcr"] {
        for (ty, body) in [
            (Some("application/yaml"), "null\n"),
            (None, "~"),
            (Some("text/plain"), "# nothing yet\n---\n"),
        ] {
            let r = server.post_typed(path, ty, body.as_bytes());
            assert_eq!(r.status, 422, "{path} {ty:?} {body:?}: {}", r.text());
            assert_eq!(r.code(), "empty-document");
        }
    }
    // No decision was made.
    let m = server.call("GET", "/metrics", &[], b"").text();
    for line in m
        .lines()
        .filter(|l| l.starts_with("microvet_decisions_total{"))
    {
        assert!(line.ends_with(" 0"), "{line}");
    }
}

#[test]
fn pkce_requests_are_objects_with_checked_fields() {
    let server = Server::start_bare(&[]);
    // Not an object.
    for body in ["[43,2]", "43", "\"x\"", "null", "true"] {
        let r = server.post_json("/v1/pkce", body);
        assert_eq!(
            (r.status, r.code().as_str()),
            (422, "not-an-object"),
            "{body}: {}",
            r.text()
        );
    }
    // A field of the wrong value or type, or an unknown one: 422 naming it, in user words.
    for (body, path, words) in [
        (
            r#"{"length": 64, "count": 0}"#,
            "/count",
            "`count` must be a whole number from 1 to 10000",
        ),
        (
            r#"{"count": "3"}"#,
            "/count",
            "`count` must be a whole number from 1 to 10000, not a string",
        ),
        (r#"{"count": 1.5}"#, "/count", "`count` must be"),
        (r#"{"count": -1}"#, "/count", "`count` must be"),
        (
            r#"{"length": null}"#,
            "/length",
            "`length` must be a whole number from 43 to 128, not null",
        ),
        (r#"{"length": 99999999999}"#, "/length", "`length` must be"),
        (r#"{"lenght": 43}"#, "/lenght", "unknown field `lenght`"),
    ] {
        let r = server.post_json("/v1/pkce", body);
        assert_eq!(
            (r.status, r.code().as_str()),
            (422, "invalid-field"),
            "{body}: {}",
            r.text()
        );
        let e = &r.json()["error"];
        assert_eq!(e["path"], path, "{body}");
        let message = e["message"].as_str().unwrap();
        assert!(message.contains(words), "{body}: {message}");
        assert!(
            !r.text().contains("PkceRequest") && !r.text().contains("struct"),
            "{}",
            r.text()
        );
    }
    // Malformed JSON is 400; a whole number written as a float is still one.
    let r = server.post_json("/v1/pkce", "{nope");
    assert_eq!((r.status, r.code().as_str()), (400, "bad-json"));
    let r = server.post_json("/v1/pkce", r#"{"length": 43.0, "count": 2}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["pairs"].as_array().unwrap().len(), 2);
    // The component's own limits still answer (its codes).
    let r = server.post_json("/v1/pkce", r#"{"count": 10001}"#);
    assert_eq!(
        (r.status, r.code().as_str()),
        (422, "invalid-argument"),
        "{}",
        r.text()
    );
}

#[test]
fn every_route_answers_405_with_allow_and_a_json_error() {
    let server = Server::start_bare(&[]);
    for (method, path, allow) in [
        ("GET", "/v1/pkce", "POST"),
        ("GET", "/v1/vet", "POST"),
        ("PUT", "/v1/vet/dcr", "POST"),
        ("GET", "/v1/pkce/verify", "POST"),
        ("POST", "/healthz", "GET,HEAD"),
        ("DELETE", "/v1/rules/MV-SCOPE-001", "GET,HEAD"),
        ("PATCH", "/openapi.json", "GET,HEAD"),
        ("POST", "/", "GET,HEAD"),
    ] {
        let r = server.call(method, path, &[], b"");
        assert_eq!(r.status, 405, "{method} {path}");
        assert_eq!(r.code(), "method-not-allowed", "{method} {path}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains(method)
        );
        assert!(r.header("x-request-id").is_some());
    }
}

#[test]
fn pkce_challenge_verify_and_authorize_url() {
    let server = Server::start_bare(&[]);
    // The challenge of RFC 7636 Appendix B.
    let r = server.post_json(
        "/v1/pkce/challenge",
        &format!(r#"{{"verifier": "{VERIFIER}"}}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(
        r.json(),
        serde_json::json!({"challenge": CHALLENGE, "method": "S256"})
    );
    // Verify: a match, a mismatch (200 false), a malformed verifier (422, never echoed).
    let verify = |v: &str, c: &str| {
        server.post_json(
            "/v1/pkce/verify",
            &serde_json::json!({"verifier": v, "challenge": c}).to_string(),
        )
    };
    let r = verify(VERIFIER, CHALLENGE);
    assert_eq!(
        (r.status, r.json()),
        (200, serde_json::json!({"match": true})),
        "{}",
        r.text()
    );
    let other = &format!("{}A", &VERIFIER[..VERIFIER.len() - 1]);
    let r = verify(other, CHALLENGE);
    assert_eq!(
        (r.status, r.json()),
        (200, serde_json::json!({"match": false}))
    );
    let short = &VERIFIER[..20];
    let r = verify(short, CHALLENGE);
    assert_eq!(
        (r.status, r.code().as_str()),
        (422, "pkce-length"),
        "{}",
        r.text()
    );
    assert!(!r.text().contains(short), "{}", r.text());
    let r = server.post_json(
        "/v1/pkce/challenge",
        &format!(r#"{{"verifier": "{VERIFIER}!"}}"#),
    );
    assert_eq!(
        (r.status, r.code().as_str()),
        (422, "pkce-charset"),
        "{}",
        r.text()
    );
    assert!(!r.text().contains(VERIFIER), "{}", r.text());
    // Required fields, by name.
    let r = server.post_json(
        "/v1/pkce/verify",
        &format!(r#"{{"verifier": "{VERIFIER}"}}"#),
    );
    assert_eq!((r.status, r.code().as_str()), (422, "invalid-field"));
    assert_eq!(r.json()["error"]["path"], "/challenge");
    let r = server.post_json("/v1/pkce/challenge", "");
    assert_eq!((r.status, r.code().as_str()), (400, "empty-body"));

    // Authorize URL: the component's URL and secrets; the challenge is the verifier's.
    let body = serde_json::json!({
        "endpoint": "https://login.example.com/authorize?tenant=a",
        "client_id": "shift-planner",
        "redirect_uri": "https://apps.example.com/cb",
        "scopes": ["openid", "email"],
        "extra": {"prompt": "consent", "login_hint": "a@example.com"},
    });
    let r = server.post_json("/v1/pkce/authorize-url", &body.to_string());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let a = r.json();
    let url = a["url"].as_str().unwrap();
    let verifier = a["verifier"].as_str().unwrap();
    let challenge = a["challenge"].as_str().unwrap();
    assert!(vetter().pkce_verify(verifier, challenge).unwrap());
    assert!(url.starts_with("https://login.example.com/authorize?tenant=a&response_type=code&client_id=shift-planner&"), "{url}");
    assert!(
        url.contains(&format!(
            "code_challenge={challenge}&code_challenge_method=S256"
        )),
        "{url}"
    );
    assert!(
        url.contains(&format!("state={}", a["state"].as_str().unwrap())),
        "{url}"
    );
    assert!(
        url.contains(&format!("nonce={}", a["nonce"].as_str().unwrap())),
        "{url}"
    );
    assert!(
        url.ends_with("&prompt=consent&login_hint=a%40example.com"),
        "{url}"
    );
    // `extra` as [name, value] pairs, no openid: no nonce.
    let body = serde_json::json!({
        "endpoint": "https://login.example.com/authorize",
        "client_id": "c",
        "redirect_uri": "https://apps.example.com/cb",
        "extra": [["prompt", "none"]],
    });
    let r = server.post_json("/v1/pkce/authorize-url", &body.to_string());
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json().get("nonce").is_none());
    assert!(r.json()["url"].as_str().unwrap().ends_with("&prompt=none"));
    // Refusals: the component's (naming what), and the shape's (naming the field).
    for (body, status, code, path) in [
        (
            serde_json::json!({"endpoint": "http://login.example.com/a", "client_id": "c", "redirect_uri": "https://a.example/cb"}),
            422,
            "invalid-argument",
            None,
        ),
        (
            serde_json::json!({"endpoint": "https://l.example/a", "client_id": "c", "redirect_uri": "https://a.example/cb", "extra": {"state": "x"}}),
            422,
            "invalid-argument",
            None,
        ),
        (
            serde_json::json!({"endpoint": "https://l.example/a", "redirect_uri": "https://a.example/cb"}),
            422,
            "invalid-field",
            Some("/client_id"),
        ),
        (
            serde_json::json!({"endpoint": "https://l.example/a", "client_id": "c", "redirect_uri": "https://a.example/cb", "scopes": "openid"}),
            422,
            "invalid-field",
            Some("/scopes"),
        ),
        (
            serde_json::json!({"endpoint": "https://l.example/a", "client_id": "c", "redirect_uri": "https://a.example/cb", "scopes": ["openid", 7]}),
            422,
            "invalid-field",
            Some("/scopes/1"),
        ),
        (
            serde_json::json!({"endpoint": "https://l.example/a", "client_id": "c", "redirect_uri": "https://a.example/cb", "extra": [["a"]]}),
            422,
            "invalid-field",
            Some("/extra/0"),
        ),
        (
            serde_json::json!({"endpoint": "https://l.example/a", "client_id": "c", "redirect_uri": "https://a.example/cb", "extra": {"a/b": 1}}),
            422,
            "invalid-field",
            Some("/extra/a~1b"),
        ),
    ] {
        let r = server.post_json("/v1/pkce/authorize-url", &body.to_string());
        assert_eq!(
            (r.status, r.code().as_str()),
            (status, code),
            "{body}: {}",
            r.text()
        );
        if let Some(path) = path {
            assert_eq!(r.json()["error"]["path"], path, "{body}");
        }
    }
    // Nothing of a PKCE request reaches the log.
    let logs = server.logs();
    assert!(
        !logs.contains(VERIFIER) && !logs.contains(verifier),
        "{logs}"
    );
}

/// The request bodies the OpenAPI document describes are the ones the server takes: its
/// own examples are answered 200 under each documented media type.
#[test]
fn the_documented_request_bodies_are_accepted() {
    let server = Server::start_bare(&[]);
    let api = server.call("GET", "/openapi.json", &[], b"").json();
    let resolve = |v: &serde_json::Value| -> serde_json::Value {
        match v["$ref"].as_str() {
            Some(r) => api.pointer(r.trim_start_matches('#')).unwrap().clone(),
            None => v.clone(),
        }
    };
    for path in ["/v1/vet", "/v1/vet/dcr"] {
        let body = &api["paths"][path]["post"]["requestBody"];
        assert_eq!(body["required"], true, "{path}");
        for ty in ["application/json", "application/yaml"] {
            let schema = resolve(&body["content"][ty]["schema"]);
            assert_eq!(schema["type"], "object", "{path} {ty}: {schema}");
            let example = &schema["examples"][0];
            assert!(example.is_object(), "{path} {ty}");
            // JSON text is YAML text too.
            let r = server.post_typed(path, Some(ty), example.to_string().as_bytes());
            assert_eq!(r.status, 200, "{path} {ty}: {}", r.text());
        }
        for status in ["400", "404", "413", "415", "422", "500", "503"] {
            assert!(
                api["paths"][path]["post"]["responses"][status].is_object(),
                "{path} {status}"
            );
        }
    }
    for path in [
        "/v1/pkce",
        "/v1/pkce/challenge",
        "/v1/pkce/verify",
        "/v1/pkce/authorize-url",
    ] {
        let op = &api["paths"][path]["post"];
        for status in ["200", "400", "413", "415", "422", "500", "503"] {
            assert!(op["responses"][status].is_object(), "{path} {status}");
        }
    }
    let schema = resolve(
        &api["paths"]["/v1/pkce/authorize-url"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"],
    );
    let r = server.post_json("/v1/pkce/authorize-url", &schema["examples"][0].to_string());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        api["components"]["schemas"]["PkceRequest"]["properties"]["count"]["minimum"],
        1
    );
}

/// Under overload, refused requests are counted in one log line per second, not logged one
/// by one; the counts add up to the 503s sent.
#[test]
fn overload_is_logged_once_per_interval_with_a_count() {
    let server = Server::start_bare(&["--max-concurrency", "1", "--time-limit-ms", "60000"]);
    // A vet that holds the only permit for a while: a large manifest.
    let mut slow = String::from("name: big\nowner: a@example.com\ndata_access:\n");
    let mut i = 0;
    while slow.len() < 1_000_000 {
        slow.push_str(&format!("  - type: hr.employee_records{i}\n"));
        i += 1;
    }
    let refused = std::thread::scope(|s| {
        let heavy = s.spawn(|| server.post_typed("/v1/vet", None, slow.as_bytes()));
        wait_until(
            "the large vet to hold the permit",
            Duration::from_secs(30),
            || {
                server
                    .call("GET", "/metrics", &[], b"")
                    .text()
                    .contains("microvet_in_flight_requests 1")
            },
        );
        let mut refused = 0u64;
        let start = Instant::now();
        while !heavy.is_finished() && start.elapsed() < Duration::from_secs(60) {
            let r = server.post_typed("/v1/pkce", None, b"");
            if r.status == 503 {
                assert_eq!(r.code(), "overloaded");
                refused += 1;
            }
        }
        let r = heavy.join().unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        refused
    });
    assert!(refused >= 10, "only {refused} requests were refused");
    let counted = |logs: &str| -> u64 {
        logs.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["refused"].as_u64())
            .sum()
    };
    wait_until(
        "the refusals to be counted in the log",
        Duration::from_secs(10),
        || counted(&server.logs()) == refused,
    );
    let logs = server.logs();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let per_request = lines.iter().filter(|v| v["status"] == 503).count();
    assert_eq!(per_request, 0, "a 503 was logged on its own line");
    let overload_lines = lines
        .iter()
        .filter(|v| v["refused"].is_u64() || v["max_concurrency"].is_u64() && v["level"] == "WARN")
        .count();
    assert!(
        overload_lines <= 2 + 2 * 60,
        "{overload_lines} overload lines for {refused} refusals"
    );
    // The metrics still count every one.
    let m = server.call("GET", "/metrics", &[], b"").text();
    assert!(
        m.contains(&format!("microvet_overload_rejections_total {refused}")),
        "{m}"
    );
}
