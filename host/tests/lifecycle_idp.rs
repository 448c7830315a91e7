//! `HttpIdp` against a real OpenID provider: npm `oidc-provider` run by
//! `web/test/support/op.mjs` on 127.0.0.1 (one per test binary; it stops when this process
//! ends, `--watch-stdin`), with RFC 7591 registration behind an initial access token and
//! RFC 7592 management. A client registered from a vetted manifest is read back, completes
//! an authorization-code + PKCE flow (`web/test/support/flow.mjs`), is deleted, and then
//! is unknown to the provider and fails the same flow.
//!
//! The provider needs `node` and `web/node_modules` (`npm ci` in `web/`, which
//! `scripts/test.sh` runs first). Without them these tests print `skipped: …` and pass,
//! unless `MICROVET_REQUIRE_SERVICES=1` (set by `scripts/test.sh`), which makes that a
//! failure. The bounds (timeouts, retries, size cap, redirects, error redaction) are
//! tested against small scripted servers in this file and need nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use microvet::lifecycle::Secret;
use microvet::lifecycle::idp::{HttpIdp, HttpIdpOptions, Idp, IdpError, client_metadata};
use microvet::{Vetter, VetterOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

// ---------------------------------------------------------------------------------------
// The real provider.

struct Op {
    issuer: String,
    initial_access_token: String,
    iat_file: PathBuf,
    child: Mutex<Child>,
    /// Held open: the provider stops when it closes (this process ending).
    _stdin: Mutex<ChildStdin>,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Op {
    fn drop(&mut self) {
        if let Ok(child) = self.child.get_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start_op() -> Result<Op, String> {
    let script = root().join("web/test/support/op.mjs");
    if !root()
        .join("web/node_modules/oidc-provider/package.json")
        .exists()
    {
        return Err("web/node_modules has no oidc-provider (run `npm ci` in web/)".into());
    }
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => return Err("`node` is not installed".into()),
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let iat_file = dir.path().join("iat");
    let stderr = dir.path().join("op.stderr");
    let mut child = Command::new("node")
        .arg(&script)
        .args(["--port", "0", "--watch-stdin", "--iat-file"])
        .arg(&iat_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("cannot start node: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let stdin = child.stdin.take().ok_or("no stdin")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
    let parsed: serde_json::Value = match serde_json::from_str(&line) {
        Ok(v) => v,
        Err(_) => {
            let _ = child.kill();
            let err = std::fs::read_to_string(&stderr).unwrap_or_default();
            return Err(format!("op.mjs did not start: {line:?} {err}"));
        }
    };
    let issuer = parsed["issuer"].as_str().ok_or("no issuer")?.to_owned();
    let initial_access_token = parsed["initial_access_token"]
        .as_str()
        .ok_or("no initial_access_token")?
        .to_owned();
    Ok(Op {
        issuer,
        initial_access_token,
        iat_file,
        child: Mutex::new(child),
        _stdin: Mutex::new(stdin),
        stderr,
        _dir: dir,
    })
}

/// The provider, or `None` (skipped) when it cannot run and services are not required.
fn op() -> Option<&'static Op> {
    static OP: OnceLock<Result<Op, String>> = OnceLock::new();
    match OP.get_or_init(start_op) {
        Ok(op) => Some(op),
        Err(why) if std::env::var("MICROVET_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("the test OpenID provider is required (MICROVET_REQUIRE_SERVICES=1): {why}")
        }
        Err(why) => {
            eprintln!("skipped: {why}");
            None
        }
    }
}

fn options(op: &Op) -> HttpIdpOptions {
    HttpIdpOptions {
        initial_access_token: Some(
            microvet::lifecycle::idp::read_initial_access_token(&op.iat_file).unwrap(),
        ),
        ..HttpIdpOptions::default()
    }
}

fn vetter() -> &'static Vetter {
    static V: OnceLock<Vetter> = OnceLock::new();
    // The compiled component is cached under cargo's directory for integration tests.
    V.get_or_init(|| {
        Vetter::new(VetterOptions {
            cache_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("lifecycle_idp-cache")),
            ..VetterOptions::default()
        })
        .unwrap()
    })
}

/// The example manifest with another name and, optionally, a line replaced.
fn manifest(name: &str, replace: Option<(&str, &str)>) -> String {
    let text = std::fs::read_to_string(root().join("examples/hr-onboarding-helper.yaml")).unwrap();
    let text = text.replace("name: hr-onboarding-helper", &format!("name: {name}"));
    match replace {
        Some((from, to)) => {
            assert!(text.contains(from), "{from}");
            text.replace(from, to)
        }
        None => text,
    }
}

/// Vet with the real component and build the registration request.
fn metadata(text: &str, software_id: &str) -> serde_json::Value {
    let verdict = vetter().vet(text).unwrap();
    assert!(verdict.verdict.decision.is_approved(), "{}", verdict.json);
    client_metadata(text, &verdict.json, software_id)
        .unwrap()
        .metadata
}

const REDIRECT: &str = "https://apps.example.com/hr-onboarding/callback";

struct FlowOutcome {
    ok: bool,
    json: serde_json::Value,
}

fn flow(op: &Op, client_id: &str, secret: Option<&Secret>) -> FlowOutcome {
    let mut cmd = Command::new("node");
    cmd.arg(root().join("web/test/support/flow.mjs")).args([
        "--issuer",
        &op.issuer,
        "--client-id",
        client_id,
        "--redirect-uri",
        REDIRECT,
    ]);
    if let Some(secret) = secret {
        cmd.args(["--client-secret", secret.expose()]);
    }
    let out = cmd.stderr(Stdio::null()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|_| panic!("flow.mjs printed {stdout:?}"));
    FlowOutcome {
        ok: out.status.success() && json["ok"] == true,
        json,
    }
}

// ---------------------------------------------------------------------------------------
// Against the real provider.

#[test]
fn discovery_finds_the_registration_endpoint() {
    let Some(op) = op() else { return };
    let idp = HttpIdp::discover(&op.issuer, options(op)).unwrap();
    assert_eq!(idp.issuer(), op.issuer);
    assert_eq!(idp.registration_endpoint(), format!("{}/reg", op.issuer));
    // The initial access token never shows in Debug.
    let debug = format!("{idp:?}");
    assert!(!debug.contains(&op.initial_access_token), "{debug}");
}

#[test]
fn issuer_mismatch_is_refused() {
    let Some(op) = op() else { return };
    // Same provider, but not the exact issuer string it names (OIDC Discovery §4.3).
    let given = format!("{}/", op.issuer);
    let err = HttpIdp::discover(&given, options(op)).unwrap_err();
    assert!(
        matches!(&err, IdpError::Protocol(m) if m.contains("§4.3") && m.contains(&op.issuer)),
        "{err}"
    );
}

#[test]
fn register_without_or_with_a_wrong_initial_access_token_is_refused_with_the_ops_error() {
    let Some(op) = op() else { return };
    let meta = metadata(&manifest("no-token-app", None), "sw-no-token");
    let without = HttpIdp::discover(&op.issuer, HttpIdpOptions::default()).unwrap();
    let err = without.register(&meta).unwrap_err();
    match &err {
        IdpError::Refused {
            status,
            error,
            description,
        } => {
            assert_eq!(*status, 401);
            assert_eq!(error, "invalid_token");
            assert_eq!(description.as_deref(), Some("no access token provided"));
        }
        other => panic!("{other:?}"),
    }
    let wrong_token = "wrong-initial-access-token-123456";
    let wrong = HttpIdp::discover(
        &op.issuer,
        HttpIdpOptions {
            initial_access_token: Some(Secret::new(wrong_token)),
            ..HttpIdpOptions::default()
        },
    )
    .unwrap();
    let err = wrong.register(&meta).unwrap_err();
    assert!(
        matches!(&err, IdpError::Refused { status: 401, error, .. } if error == "invalid_token"),
        "{err:?}"
    );
    for shown in [err.to_string(), format!("{err:?}"), format!("{wrong:?}")] {
        assert!(!shown.contains(wrong_token), "{shown}");
        assert!(!shown.contains(&op.initial_access_token), "{shown}");
    }
}

#[test]
fn register_read_flow_delete_then_the_client_is_gone() {
    let Some(op) = op() else { return };
    let idp = HttpIdp::discover(&op.issuer, options(op)).unwrap();
    let meta = metadata(&manifest("public-app", None), "sw-public-1");
    assert_eq!(meta["scope"], "openid profile hr.read_only");
    assert_eq!(meta["token_endpoint_auth_method"], "none");

    let reg = idp.register(&meta).unwrap();
    assert!(!reg.client_id.is_empty());
    assert!(
        reg.client_secret.is_none(),
        "a public client gets no secret"
    );
    let uri = reg.registration_client_uri.clone().unwrap();
    assert!(uri.starts_with(&format!("{}/reg/", op.issuer)), "{uri}");
    let token = reg.registration_access_token.clone().unwrap();
    // The stored metadata holds no secret; the IdP kept what was sent.
    assert!(reg.metadata.get("registration_access_token").is_none());
    assert!(reg.metadata.get("client_secret").is_none());
    assert_eq!(reg.metadata["software_id"], "sw-public-1");
    assert_eq!(reg.metadata["redirect_uris"], serde_json::json!([REDIRECT]));
    assert!(!format!("{reg:?}").contains(token.expose()));

    // RFC 7592 read: the provider knows the client, with what was registered.
    let read = idp.read(&uri, &token).unwrap().expect("the client exists");
    assert_eq!(read["client_id"], reg.client_id.as_str());
    assert_eq!(read["scope"], "openid profile hr.read_only");
    assert_eq!(read["software_id"], "sw-public-1");
    assert!(read.get("registration_access_token").is_none());

    // A full code + PKCE flow with the new client and its registered redirect URI.
    let ok = flow(op, &reg.client_id, None);
    assert!(ok.ok, "{}", ok.json);
    assert_eq!(ok.json["client_id"], reg.client_id.as_str());

    // RFC 7592 delete; then the client is unknown and the same flow fails.
    idp.delete(&uri, &token).unwrap();
    assert!(idp.read(&uri, &token).unwrap().is_none());
    idp.delete(&uri, &token).unwrap(); // already gone counts as done
    let failed = flow(op, &reg.client_id, None);
    assert!(!failed.ok, "{}", failed.json);
    assert_eq!(failed.json["stage"], "authorize");
    assert_eq!(failed.json["error"], "invalid_client");
}

#[test]
fn a_confidential_client_gets_its_secret_once_and_can_use_it() {
    let Some(op) = op() else { return };
    let idp = HttpIdp::discover(&op.issuer, options(op)).unwrap();
    // The example as a confidential web client: the IdP issues a secret.
    let text = manifest(
        "confidential-app",
        Some((
            "token_endpoint_auth_method: none ",
            "token_endpoint_auth_method: client_secret_basic ",
        )),
    );
    let meta = metadata(&text, "sw-confidential-1");
    assert_eq!(meta["token_endpoint_auth_method"], "client_secret_basic");
    let reg = idp.register(&meta).unwrap();
    let secret = reg.client_secret.clone().expect("the IdP issued a secret");
    let token = reg.registration_access_token.clone().unwrap();
    for shown in [format!("{reg:?}"), reg.metadata.to_string()] {
        assert!(!shown.contains(secret.expose()), "{shown}");
        assert!(!shown.contains(token.expose()), "{shown}");
    }
    let ok = flow(op, &reg.client_id, Some(&secret));
    assert!(ok.ok, "{}", ok.json);
    let wrong = flow(op, &reg.client_id, Some(&Secret::new("not-the-secret")));
    assert!(!wrong.ok);
    assert_eq!(wrong.json["stage"], "token");
    assert_eq!(wrong.json["error"], "invalid_client");
    let uri = reg.registration_client_uri.unwrap();
    idp.delete(&uri, &token).unwrap();
    assert!(idp.read(&uri, &token).unwrap().is_none());
}

#[test]
fn the_ops_refusal_of_metadata_is_passed_through() {
    let Some(op) = op() else { return };
    let idp = HttpIdp::discover(&op.issuer, options(op)).unwrap();
    // A scope the provider does not offer (RFC 7591 §3.2.2 invalid_client_metadata).
    let mut meta = metadata(&manifest("odd-scope-app", None), "sw-odd");
    meta["scope"] = "openid not.offered".into();
    let err = idp.register(&meta).unwrap_err();
    assert!(
        matches!(&err, IdpError::Refused { status: 400, error, description: Some(d) }
            if error == "invalid_client_metadata" && d.contains("scope")),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Bounds, against local sockets (no provider needed).

/// A listener that accepts and never answers; counts connections.
fn black_hole() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            held.push(conn);
        }
    });
    (addr, count)
}

fn fast(timeout_ms: u64, retries: u32) -> HttpIdpOptions {
    HttpIdpOptions {
        connect_timeout: Duration::from_millis(timeout_ms),
        request_timeout: Duration::from_millis(timeout_ms),
        retries,
        backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(100),
        ..HttpIdpOptions::default()
    }
}

#[test]
fn a_silent_idp_times_out_within_the_bound() {
    let (addr, count) = black_hole();
    let started = Instant::now();
    let err = HttpIdp::discover(&format!("http://{addr}"), fast(300, 0)).unwrap_err();
    let took = started.elapsed();
    eprintln!("a silent IdP, 300 ms bound, no retry: {took:?}");
    assert!(matches!(err, IdpError::Timeout(300)), "{err:?}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1500),
        "{took:?}"
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn read_and_delete_retry_with_backoff_register_never_retries() {
    let (addr, count) = black_hole();
    let idp = HttpIdp::with_endpoint(
        &format!("http://{addr}"),
        &format!("http://{addr}/reg"),
        fast(200, 2),
    )
    .unwrap();
    let token = Secret::new("rat-0123456789");

    let started = Instant::now();
    let err = idp
        .read(&format!("http://{addr}/reg/c1"), &token)
        .unwrap_err();
    let took = started.elapsed();
    eprintln!("a silent IdP, 200 ms bound, 2 retries: {took:?}");
    assert!(matches!(err, IdpError::Timeout(200)), "{err:?}");
    // 3 attempts of 200 ms and two waits of 25..=50 and 50..=100 ms.
    assert!(
        took >= Duration::from_millis(675) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(count.load(Ordering::SeqCst), 3);

    let err = idp
        .delete(&format!("http://{addr}/reg/c1"), &token)
        .unwrap_err();
    assert!(matches!(err, IdpError::Timeout(200)), "{err:?}");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(count.load(Ordering::SeqCst), 6);

    let err = idp
        .register(&serde_json::json!({"client_name": "x"}))
        .unwrap_err();
    assert!(matches!(err, IdpError::Timeout(200)), "{err:?}");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(count.load(Ordering::SeqCst), 7, "register is sent once");
}

#[test]
fn a_refused_connection_is_unavailable() {
    // Bind, learn the port, close: nothing listens there.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = HttpIdp::discover(&format!("http://{addr}"), fast(500, 0)).unwrap_err();
    assert!(matches!(err, IdpError::Unavailable(_)), "{err:?}");
}

#[test]
fn plain_http_is_refused_unless_loopback_before_anything_is_sent() {
    for issuer in [
        "http://idp.example.com",
        "http://localhost:8080",
        "http://10.1.2.3",
    ] {
        let started = Instant::now();
        let err = HttpIdp::discover(issuer, HttpIdpOptions::default()).unwrap_err();
        assert!(
            matches!(&err, IdpError::Config(m) if m.contains("plain http") && m.contains("loopback")),
            "{issuer}: {err}"
        );
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "no network call"
        );
    }
    let token = Secret::new("rat-0123456789");
    let idp = HttpIdp::with_endpoint(
        "https://idp.example.com",
        "https://idp.example.com/reg",
        HttpIdpOptions::default(),
    )
    .unwrap();
    let err = idp
        .delete("http://idp.example.com/reg/c1", &token)
        .unwrap_err();
    assert!(
        matches!(&err, IdpError::Config(m) if m.contains("plain http")),
        "{err}"
    );
}

/// One request as a scripted server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
}

/// A server answering each request with `respond(request)` (raw HTTP/1.1 response bytes).
fn scripted(
    respond: impl Fn(&Seen, SocketAddr) -> Vec<u8> + Send + 'static,
) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            if let Some(req) = read_request(&conn) {
                log.lock().unwrap().push(req.clone());
                let mut conn = conn;
                let _ = conn.write_all(&respond(&req, addr));
            }
        }
    });
    (addr, seen)
}

fn read_request(conn: &TcpStream) -> Option<Seen> {
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut authorization = None;
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "authorization" => authorization = Some(value.trim().to_owned()),
            "content-length" => length = value.trim().parse().ok()?,
            _ => {}
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(Seen {
        method,
        path,
        authorization,
    })
}

fn response(status: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

fn discovery(issuer: &str, registration: Option<&str>) -> Vec<u8> {
    let mut doc = serde_json::json!({"issuer": issuer});
    if let Some(r) = registration {
        doc["registration_endpoint"] = r.into();
    }
    response(
        "200 OK",
        &[("content-type", "application/json")],
        &doc.to_string(),
    )
}

#[test]
fn discovery_needs_the_same_issuer_and_a_registration_endpoint() {
    let (addr, _) = scripted(|_, _| {
        discovery(
            "https://evil.example.com",
            Some("https://evil.example.com/reg"),
        )
    });
    let err = HttpIdp::discover(&format!("http://{addr}"), fast(2000, 0)).unwrap_err();
    assert!(
        matches!(&err, IdpError::Protocol(m) if m.contains("`https://evil.example.com`") && m.contains("§4.3")),
        "{err}"
    );
    let (addr, _) = scripted(|_, addr| discovery(&format!("http://{addr}"), None));
    let err = HttpIdp::discover(&format!("http://{addr}"), fast(2000, 0)).unwrap_err();
    assert!(
        matches!(&err, IdpError::Protocol(m) if m.contains("registration_endpoint")),
        "{err}"
    );
    // A registration endpoint over plain http to another host is refused too.
    let (addr, _) = scripted(|_, addr| {
        discovery(
            &format!("http://{addr}"),
            Some("http://idp.example.com/reg"),
        )
    });
    let err = HttpIdp::discover(&format!("http://{addr}"), fast(2000, 0)).unwrap_err();
    assert!(
        matches!(&err, IdpError::Config(m) if m.contains("plain http")),
        "{err}"
    );
}

#[test]
fn redirects_are_not_followed_and_large_answers_are_cut_off() {
    let (addr, seen) = scripted(|req, addr| match req.path.as_str() {
        "/.well-known/openid-configuration" => discovery(
            &format!("http://{addr}"),
            Some(&format!("http://{addr}/reg")),
        ),
        "/reg" => response("303 See Other", &[("location", "/elsewhere")], ""),
        "/moved" => response("302 Found", &[("location", "/elsewhere")], ""),
        "/big" => response(
            "200 OK",
            &[("content-type", "application/json")],
            &format!("{{\"x\":\"{}\"}}", "a".repeat(10_000)),
        ),
        _ => response("200 OK", &[], "{}"),
    });
    let options = HttpIdpOptions {
        initial_access_token: Some(Secret::new("iat-0123456789")),
        max_response_bytes: 1024,
        ..fast(2000, 0)
    };
    let idp = HttpIdp::discover(&format!("http://{addr}"), options).unwrap();
    let err = idp
        .register(&serde_json::json!({"client_name": "x"}))
        .unwrap_err();
    assert!(
        matches!(&err, IdpError::Protocol(m) if m.contains("redirect")),
        "{err}"
    );
    let token = Secret::new("rat-0123456789");
    let err = idp
        .read(&format!("http://{addr}/moved"), &token)
        .unwrap_err();
    assert!(
        matches!(&err, IdpError::Protocol(m) if m.contains("redirect")),
        "{err}"
    );
    let err = idp
        .delete(&format!("http://{addr}/moved"), &token)
        .unwrap_err();
    assert!(
        matches!(&err, IdpError::Protocol(m) if m.contains("redirect")),
        "{err}"
    );
    let paths: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.path.clone())
        .collect();
    assert_eq!(
        paths,
        [
            "/.well-known/openid-configuration",
            "/reg",
            "/moved",
            "/moved"
        ],
        "no redirect is followed"
    );
    let reg = seen.lock().unwrap()[1].clone();
    assert_eq!(reg.method, "POST");
    assert_eq!(reg.authorization.as_deref(), Some("Bearer iat-0123456789"));

    let err = idp
        .read(
            &format!("http://{addr}/big"),
            &Secret::new("rat-0123456789"),
        )
        .unwrap_err();
    assert!(
        matches!(&err, IdpError::Protocol(m) if m.contains("larger than 1024 bytes")),
        "{err}"
    );
}

#[test]
fn statuses_of_read_and_delete_follow_rfc_7592() {
    let (addr, seen) = scripted(|req, _| {
        let json = [("content-type", "application/json")];
        match (req.method.as_str(), req.path.as_str()) {
            (_, "/gone") => response(
                "401 Unauthorized",
                &[("www-authenticate", "Bearer error=\"invalid_token\"")],
                "",
            ),
            (_, "/missing") => response("404 Not Found", &[], ""),
            (_, "/forbidden") => response(
                "403 Forbidden",
                &json,
                r#"{"error":"access_denied","error_description":"token rat-0123456789 may not do this"}"#,
            ),
            (_, "/down") => response("503 Service Unavailable", &[], ""),
            ("GET", "/rotating") => response(
                "200 OK",
                &json,
                r#"{"client_id":"c","registration_access_token":"a-new-one-0123456789"}"#,
            ),
            ("GET", _) => response(
                "200 OK",
                &json,
                r#"{"client_id":"c","client_secret":"sec-0123456789","registration_access_token":"rat-0123456789"}"#,
            ),
            ("DELETE", _) => response("204 No Content", &[], ""),
            _ => response("400 Bad Request", &[], ""),
        }
    });
    let idp = HttpIdp::with_endpoint(
        &format!("http://{addr}"),
        &format!("http://{addr}/reg"),
        fast(2000, 2),
    )
    .unwrap();
    let token = Secret::new("rat-0123456789");
    let url = |p: &str| format!("http://{addr}{p}");

    let read = idp.read(&url("/ok"), &token).unwrap().unwrap();
    assert_eq!(
        read,
        serde_json::json!({"client_id": "c"}),
        "secrets stripped"
    );
    assert!(idp.read(&url("/gone"), &token).unwrap().is_none());
    assert!(idp.read(&url("/missing"), &token).unwrap().is_none());
    idp.delete(&url("/ok"), &token).unwrap();
    idp.delete(&url("/gone"), &token).unwrap();
    idp.delete(&url("/missing"), &token).unwrap();

    // 403: the client exists but may not be read or deleted: an error, never "gone".
    for err in [
        idp.read(&url("/forbidden"), &token).unwrap_err(),
        idp.delete(&url("/forbidden"), &token).unwrap_err(),
    ] {
        match &err {
            IdpError::Refused {
                status: 403,
                error,
                description: Some(d),
            } => {
                assert_eq!(error, "access_denied");
                assert_eq!(d, "token [redacted] may not do this");
            }
            other => panic!("{other:?}"),
        }
        assert!(!err.to_string().contains(token.expose()));
    }

    // 503 is retried (3 attempts), then Unavailable.
    let before = seen.lock().unwrap().len();
    let err = idp.read(&url("/down"), &token).unwrap_err();
    assert!(matches!(err, IdpError::Unavailable(_)), "{err:?}");
    assert_eq!(seen.lock().unwrap().len() - before, 3);

    // A token rotated on read would be lost: refused loudly.
    let err = idp.read(&url("/rotating"), &token).unwrap_err();
    assert!(
        matches!(&err, IdpError::Protocol(m) if m.contains("rotation")),
        "{err}"
    );
    assert!(!err.to_string().contains("a-new-one"));

    // Every call carried the registration access token.
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .all(|s| s.authorization.as_deref() == Some("Bearer rat-0123456789"))
    );
}

#[test]
fn the_initial_access_token_file_is_checked_and_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("iat");
    std::fs::write(&path, "  tok-abc_DEF.123~+/==\n").unwrap();
    let token = microvet::lifecycle::idp::read_initial_access_token(&path).unwrap();
    assert_eq!(token.expose(), "tok-abc_DEF.123~+/==");
    for bad in [
        "",
        "\n",
        "two tokens-here",
        "tök-secret-value",
        "a\nb-secret-value",
    ] {
        std::fs::write(&path, bad).unwrap();
        let err = microvet::lifecycle::idp::read_initial_access_token(&path).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, IdpError::Config(_)), "{bad:?}: {msg}");
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(
            !msg.contains("secret-value") && !msg.contains("tokens-here"),
            "{msg}"
        );
    }
    std::fs::write(&path, "a".repeat(5000)).unwrap();
    assert!(microvet::lifecycle::idp::read_initial_access_token(&path).is_err());
    let err =
        microvet::lifecycle::idp::read_initial_access_token(&dir.path().join("none")).unwrap_err();
    assert!(matches!(err, IdpError::Config(_)));
}

/// The provider's stderr, for a failing test's output.
#[allow(dead_code)]
fn op_stderr(op: &Op) -> String {
    std::fs::read_to_string(&op.stderr).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// The metadata builder over the golden corpus (the component's exact verdict bytes).

/// Every corpus case: an approved verdict gives a request (or a reasoned refusal) in which
/// every scope and redirect URI sent is in the manifest with no denying finding at it, and
/// every item withheld has one; any other verdict is refused.
#[test]
fn client_metadata_over_the_golden_corpus() {
    let corpus = root().join("tests/corpus");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    let mut approved = 0;
    for case in cases {
        let Some(input) = ["input.yaml", "input.json"]
            .iter()
            .map(|f| case.join(f))
            .find(|p| p.exists())
        else {
            continue;
        };
        let text = std::fs::read_to_string(&input).unwrap();
        let verdict_json = std::fs::read_to_string(case.join("expected.json")).unwrap();
        let verdict: serde_json::Value = serde_json::from_str(&verdict_json).unwrap();
        let Some(decision) = verdict["decision"].as_str() else {
            continue; // an error case
        };
        let out = client_metadata(&text, verdict_json.trim_end(), "sw");
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        if !matches!(decision, "approve" | "approve-with-controls") {
            assert!(
                matches!(&out, Err(microvet::lifecycle::idp::MetadataError::NotApproved(d)) if d == decision),
                "{name}: {out:?}"
            );
            continue;
        }
        approved += 1;
        let denied = |path: &str| {
            verdict["findings"].as_array().unwrap().iter().any(|f| {
                let p = f["path"].as_str().unwrap();
                matches!(f["severity"].as_str(), Some("medium" | "high" | "critical"))
                    && (p == path || p.starts_with(&format!("{path}/")))
            })
        };
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                eprintln!("{name}: not registered: {e}");
                assert!(
                    !matches!(e, microvet::lifecycle::idp::MetadataError::Invalid(_)),
                    "{name}: {e}"
                );
                continue;
            }
        };
        eprintln!("{name}: {}", out.metadata);
        let doc = microvet_core::yaml::parse(&text, microvet_core::yaml::Limits::MANIFEST)
            .unwrap()
            .to_json();
        let sent_scopes: Vec<&str> = out.metadata["scope"].as_str().unwrap().split(' ').collect();
        for (list, sent) in [
            ("/oauth_scopes", sent_scopes),
            (
                "/client/redirect_uris",
                out.metadata["redirect_uris"]
                    .as_array()
                    .map(|a| a.iter().map(|v| v.as_str().unwrap()).collect())
                    .unwrap_or_default(),
            ),
        ] {
            for value in sent {
                let items = doc.pointer(list).and_then(|v| v.as_array()).unwrap();
                let i = items.iter().position(|v| v == value);
                assert!(i.is_some(), "{name}: `{value}` is not in {list}");
                assert!(
                    !denied(&format!("{list}/{}", i.unwrap())),
                    "{name}: `{value}` is denied"
                );
            }
        }
        for w in &out.withheld {
            assert!(
                denied(&w.path),
                "{name}: {w:?} withheld without a denying finding"
            );
        }
        assert!(
            !out.metadata.to_string().contains("client_secret\""),
            "{name}"
        );
    }
    assert!(approved >= 5, "the corpus has approved cases ({approved})");
}
