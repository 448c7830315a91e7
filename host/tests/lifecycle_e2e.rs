//! The app lifecycle end to end: the built `microvet` binary (`serve` and `apps`) against a
//! real OpenID provider (npm `oidc-provider`, `web/test/support/op.mjs`, with RFC 7591
//! registration behind an initial access token and RFC 7592 management) and a real
//! inventory, on SQLite AND PostgreSQL:
//!
//! register → the provider knows the client (RFC 7592 read) → a full authorization-code +
//! PKCE flow completes with it (`web/test/support/flow.mjs`) → a sweep past its expiry →
//! the provider no longer knows it and the same flow fails. Also: 422 with nothing at the
//! provider, 409, 502 with the provider's RFC 7591 error, 503 with the provider down,
//! 401/403, secrets in no list/show answer, log line or decision-log line, a kill -9 between
//! the store write of the IdP's answer and the activation reconciled by the next sweep, and
//! two servers sweeping one PostgreSQL at once revoking each app exactly once.
//!
//! Needs `node` with `web/node_modules` (`npm ci` in `web/`) and, for the PostgreSQL half,
//! `MICROVET_TEST_POSTGRES_URL` (`scripts/postgres.sh`). Missing, the tests print
//! `skipped: …` and pass, unless `MICROVET_REQUIRE_SERVICES=1` (`scripts/test.sh`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use microvet::lifecycle::idp::{HttpIdp, HttpIdpOptions, Idp};
use microvet::lifecycle::store::{self, Store};
use microvet::lifecycle::{AppStatus, Secret};
use serde_json::Value;
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_microvet");
const REGISTER_TOKEN: &str = "tok-portal-3b1f0c2a9e";
const ADMIN_TOKEN: &str = "tok-security-7d6e5f4a1c";
const REDIRECT: &str = "https://apps.example.com/hr-onboarding/callback";
const DAY: i64 = 86_400;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn required() -> bool {
    std::env::var("MICROVET_REQUIRE_SERVICES").as_deref() == Ok("1")
}

fn skip(why: &str) {
    assert!(
        !required(),
        "required service missing (MICROVET_REQUIRE_SERVICES=1): {why}"
    );
    eprintln!("skipped: {why}");
}

// ---------------------------------------------------------------------------------------
// The OpenID provider

struct Op {
    issuer: String,
    iat_file: PathBuf,
    child: Child,
    _stdin: ChildStdin,
    _dir: tempfile::TempDir,
}

impl Op {
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Op {
    fn drop(&mut self) {
        self.kill();
    }
}

fn start_op(scopes: Option<&str>) -> Result<Op, String> {
    if !root()
        .join("web/node_modules/oidc-provider/package.json")
        .exists()
    {
        return Err("web/node_modules has no oidc-provider (run `npm ci` in web/)".into());
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let iat_file = dir.path().join("iat");
    let mut cmd = Command::new("node");
    cmd.arg(root().join("web/test/support/op.mjs"))
        .args(["--port", "0", "--watch-stdin", "--iat-file"])
        .arg(&iat_file);
    if let Some(s) = scopes {
        cmd.args(["--scopes", s]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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
    let parsed: Value = serde_json::from_str(&line).map_err(|_| {
        let _ = child.kill();
        format!("op.mjs did not start: {line:?}")
    })?;
    Ok(Op {
        issuer: parsed["issuer"].as_str().ok_or("no issuer")?.to_owned(),
        iat_file,
        child,
        _stdin: stdin,
        _dir: dir,
    })
}

fn op(scopes: Option<&str>) -> Option<Op> {
    match start_op(scopes) {
        Ok(op) => Some(op),
        Err(why) => {
            skip(&why);
            None
        }
    }
}

/// RFC 7592 read with the provider's own answer: does it still know the client?
fn op_knows(op: &Op, uri: &str, token: &Secret) -> bool {
    let idp = HttpIdp::discover(&op.issuer, HttpIdpOptions::default()).unwrap();
    idp.read(uri, token).unwrap().is_some()
}

fn flow(op: &Op, client_id: &str) -> bool {
    let out = Command::new("node")
        .arg(root().join("web/test/support/flow.mjs"))
        .args([
            "--issuer",
            &op.issuer,
            "--client-id",
            client_id,
            "--redirect-uri",
            REDIRECT,
        ])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|_| panic!("flow.mjs printed {stdout:?}"));
    out.status.success() && json["ok"] == true
}

// ---------------------------------------------------------------------------------------
// The inventory

#[derive(Clone, Copy, Debug)]
enum Kind {
    Sqlite,
    Postgres,
}

struct Inventory {
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Drop for Inventory {
    fn drop(&mut self) {
        if let Some((admin, db)) = &self.pg
            && let Ok(mut c) = postgres::Client::connect(admin, postgres::NoTls)
        {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
        }
    }
}

fn inventory(kind: Kind) -> Option<Inventory> {
    match kind {
        Kind::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            Some(Inventory {
                url: format!("sqlite:{}", dir.path().join("apps.db").display()),
                _dir: Some(dir),
                pg: None,
            })
        }
        Kind::Postgres => {
            let Ok(admin) = std::env::var("MICROVET_TEST_POSTGRES_URL") else {
                skip("MICROVET_TEST_POSTGRES_URL is not set (scripts/postgres.sh)");
                return None;
            };
            static N: AtomicU32 = AtomicU32::new(0);
            let db = format!(
                "mve2e_{}_{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            );
            let mut c = postgres::Client::connect(&admin, postgres::NoTls)
                .unwrap_or_else(|e| panic!("cannot reach MICROVET_TEST_POSTGRES_URL: {e}"));
            c.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
            let (base, query) = match admin.split_once('?') {
                Some((b, q)) => (b.to_owned(), format!("?{q}")),
                None => (admin.clone(), String::new()),
            };
            let (scheme, rest) = base.split_once("://").unwrap();
            let authority = rest.split('/').next().unwrap_or("");
            Some(Inventory {
                url: format!("{scheme}://{authority}/{db}{query}"),
                _dir: None,
                pg: Some((admin, db)),
            })
        }
    }
}

// ---------------------------------------------------------------------------------------
// The server

fn sha(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct Server {
    addr: SocketAddr,
    child: Child,
    stderr: PathBuf,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn serve(op: &Op, store_url: &str, env: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(
        &tokens,
        format!(
            "# test tokens\nportal register {}\nsecurity admin {}\n",
            sha(REGISTER_TOKEN),
            sha(ADMIN_TOKEN)
        ),
    )
    .unwrap();
    let stderr = dir.path().join("stderr");
    let log = dir.path().join("decisions.jsonl");
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--store",
            store_url,
            "--idp",
        ])
        .arg(&op.issuer)
        .arg("--idp-initial-access-token-file")
        .arg(&op.iat_file)
        .arg("--api-tokens")
        .arg(&tokens)
        .arg("--decision-log")
        .arg(&log)
        .args(["--log-level", "debug"])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("microvet: listening on http://")
        .unwrap_or_else(|| {
            panic!(
                "server did not start: {line:?} {}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            )
        })
        .parse()
        .unwrap();
    Server {
        addr,
        child,
        stderr,
        log,
        dir,
    }
}

struct Resp {
    status: u16,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

fn http(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: &str) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/yaml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Resp { status, body }
}

fn manifest(name: &str) -> String {
    std::fs::read_to_string(root().join("examples/hr-onboarding-helper.yaml"))
        .unwrap()
        .replace("name: hr-onboarding-helper", &format!("name: {name}"))
}

fn rfc3339(t: i64) -> String {
    microvet::lifecycle::service::rfc3339(t)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The app's RFC 7592 URI and token, read from the inventory (never from an answer).
fn credentials(store: &dyn Store, name: &str) -> (String, Secret) {
    let app = store.get(name).unwrap().unwrap();
    (
        app.registration_client_uri.unwrap(),
        app.registration_access_token.unwrap(),
    )
}

fn microvet(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// ---------------------------------------------------------------------------------------
// The tests

fn lifecycle_end_to_end(kind: Kind) {
    let Some(op) = op(None) else { return };
    let Some(inv) = inventory(kind) else { return };
    let server = serve(&op, &inv.url, &[]);
    let a = server.addr;

    // 401 / 403 / 404 before anything.
    assert_eq!(http(a, "GET", "/v1/apps", None, "").status, 401);
    assert_eq!(http(a, "GET", "/v1/apps", Some("wrong"), "").status, 401);
    // HEAD is answered by the GET handlers: the same token is needed.
    assert_eq!(http(a, "HEAD", "/v1/apps", None, "").status, 401);
    assert_eq!(http(a, "HEAD", "/v1/apps/hr-e2e", None, "").status, 401);
    assert_eq!(
        http(a, "POST", "/v1/apps/x/revoke", Some(REGISTER_TOKEN), "").status,
        403
    );
    assert_eq!(
        http(a, "POST", "/v1/apps/sweep", Some(REGISTER_TOKEN), "").status,
        403
    );
    assert_eq!(
        http(a, "GET", "/v1/apps/nope", Some(REGISTER_TOKEN), "").status,
        404
    );
    // A stranger announcing a large body is answered before any of it is read.
    {
        let mut s = TcpStream::connect(a).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(
            format!("POST /v1/apps HTTP/1.1\r\nHost: {a}\r\nContent-Length: 900000\r\n\r\nname:")
                .as_bytes(),
        )
        .unwrap();
        let mut head = [0u8; 12];
        s.read_exact(&mut head)
            .expect("a stranger's POST is answered without its body");
        assert_eq!(&head, b"HTTP/1.1 401");
    }

    // Register.
    let r = http(
        a,
        "POST",
        "/v1/apps",
        Some(REGISTER_TOKEN),
        &manifest("hr-e2e"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let answer = r.json();
    let client_id = answer["client_id"].as_str().unwrap().to_owned();
    assert_eq!(answer["name"], "hr-e2e");
    assert!(answer["env"].as_str().unwrap().contains(&client_id));
    assert!(
        answer["verdict"]["decision"]
            .as_str()
            .unwrap()
            .starts_with("approve")
    );
    let store = store::open(&inv.url).unwrap();
    let app = store.get("hr-e2e").unwrap().unwrap();
    assert_eq!(app.status, AppStatus::Active);
    assert_eq!(answer["expires_at"], rfc3339(app.expires_at));
    let (uri, token) = credentials(&*store, "hr-e2e");
    assert!(op_knows(&op, &uri, &token), "the OP knows the client");
    assert!(
        flow(&op, &client_id),
        "code + PKCE flow with the new client"
    );

    // A confidential client: its secret comes back once, in the 201 and its `.env`.
    let confidential = manifest("hr-conf").replace(
        "token_endpoint_auth_method: none ",
        "token_endpoint_auth_method: client_secret_basic ",
    );
    let r = http(a, "POST", "/v1/apps", Some(REGISTER_TOKEN), &confidential);
    assert_eq!(r.status, 201, "{}", r.body);
    let client_secret = r.json()["client_secret"].as_str().unwrap().to_owned();
    assert!(r.json()["env"].as_str().unwrap().contains(&client_secret));
    let (_, conf_token) = credentials(&*store, "hr-conf");

    // Secrets: in no list or show answer, log line or decision-log line.
    let list = http(a, "GET", "/v1/apps", Some(REGISTER_TOKEN), "");
    assert_eq!(list.status, 200);
    let listed = list.json();
    let e2e = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "hr-e2e")
        .unwrap();
    assert_eq!(e2e["client_id"], client_id.as_str());
    let show = http(a, "GET", "/v1/apps/hr-e2e", Some(REGISTER_TOKEN), "");
    assert_eq!(show.status, 200);
    assert_eq!(show.json()["events"][0]["actor"], "portal");
    let show_conf = http(a, "GET", "/v1/apps/hr-conf", Some(REGISTER_TOKEN), "");
    assert_eq!(show_conf.status, 200);
    let secrets = [
        token.expose().to_owned(),
        conf_token.expose().to_owned(),
        client_secret.clone(),
    ];
    for (what, text) in [
        ("list", list.body.as_str()),
        ("show", show.body.as_str()),
        ("show", show_conf.body.as_str()),
        ("server log", &server.stderr()),
        ("decision log", &server.log()),
    ] {
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{what} holds a secret: {text}");
        }
    }
    assert!(server.log().contains(r#""event":"registered""#));

    // 409 duplicate; 422 with the verdict and nothing registered.
    let dup = http(
        a,
        "POST",
        "/v1/apps",
        Some(REGISTER_TOKEN),
        &manifest("hr-e2e"),
    );
    assert_eq!(dup.status, 409, "{}", dup.body);
    let rejected = manifest("hr-bad").replace(
        "oauth_scopes: [openid, profile, hr.read_only]",
        "oauth_scopes: [openid, profile, hr.read_only, directory.admin]",
    );
    let r = http(a, "POST", "/v1/apps", Some(REGISTER_TOKEN), &rejected);
    assert_eq!(r.status, 422, "{}", r.body);
    let body = r.json();
    assert_eq!(body["error"]["code"], "not-approved");
    assert!(body["verdict"]["decision"].is_string());
    assert!(store.get("hr-bad").unwrap().is_none(), "nothing kept");

    // Discovery against the same inventory, from the OP's own RFC 7592 answer for the
    // client: as approved it is `approved`; with a redirect URI added at the IdP, `drifted`
    // with exactly that difference.
    {
        let idp = HttpIdp::discover(&op.issuer, HttpIdpOptions::default()).unwrap();
        let mut live = idp
            .read(&uri, &token)
            .unwrap()
            .expect("the OP knows the client");
        let dir = tempfile::tempdir().unwrap();
        let export = dir.path().join("clients.json");
        let discover = |export: &std::path::Path| {
            let (code, out, err) = microvet(&[
                "discover",
                "--from",
                "rfc7591",
                export.to_str().unwrap(),
                "--store",
                &inv.url,
                "--format",
                "json",
            ]);
            assert!(code == 0 || code == 1, "{err}");
            // The RFC 7592 answer carries the registration access token: never echoed.
            assert!(!out.contains(token.expose()), "discover echoes a secret");
            let report: Value = serde_json::from_str(&out).unwrap();
            report["clients"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["client_id"] == client_id.as_str())
                .cloned()
                .unwrap_or_else(|| panic!("{out}"))
        };
        // Another app whose manifest claims that client's id: the inventory trusts the id
        // the IdP issued, so this neither takes the client over nor breaks discovery.
        let claim = manifest("hr-claim").replace(
            "client:                               # optional",
            &format!("client:\n  client_id: {client_id}  #"),
        );
        assert!(claim.contains(&format!("client_id: {client_id}")));
        let r = http(a, "POST", "/v1/apps", Some(REGISTER_TOKEN), &claim);
        assert_eq!(r.status, 201, "{}", r.body);
        assert_ne!(r.json()["client_id"], client_id.as_str());
        std::fs::write(&export, serde_json::to_vec(&live).unwrap()).unwrap();
        let c = discover(&export);
        assert_eq!(c["label"], "approved", "{c:#}");
        assert_eq!(c["matched"]["source"], "inventory:hr-e2e", "{c:#}");
        assert_eq!(c["differences"], serde_json::json!([]), "{c:#}");
        live["redirect_uris"]
            .as_array_mut()
            .unwrap()
            .push("https://collector.example.net/cb".into());
        std::fs::write(&export, serde_json::to_vec(&live).unwrap()).unwrap();
        let c = discover(&export);
        assert_eq!(c["label"], "drifted", "{c:#}");
        assert_eq!(
            c["differences"],
            serde_json::json!([{"field": "redirect_uris", "change": "added", "value": "https://collector.example.net/cb"}]),
            "{c:#}"
        );
    }

    // The CLI on the same inventory: list in JSON, a dry run, then the sweep past expiry.
    let (code, out, _) = microvet(&["apps", "list", "--store", &inv.url, "--format", "json"]);
    assert_eq!(code, 0);
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed[0]["status"], "active");
    for s in &secrets {
        assert!(!out.contains(s.as_str()), "apps list shows a secret");
    }
    let past = rfc3339(app.expires_at + DAY);
    let iat = op.iat_file.to_str().unwrap();
    let (code, out, err) = microvet(&["apps", "sweep", "--store", &inv.url, "--at", &past]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("would expire hr-e2e"), "{out}");
    assert!(op_knows(&op, &uri, &token), "a dry run changes nothing");
    let (code, out, err) = microvet(&[
        "apps",
        "sweep",
        "--store",
        &inv.url,
        "--idp",
        &op.issuer,
        "--idp-initial-access-token-file",
        iat,
        "--at",
        &past,
        "--apply",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("expired hr-e2e"), "{out}");
    assert!(out.contains("expired hr-conf"), "{out}");
    assert!(
        !op_knows(&op, &uri, &token),
        "the OP no longer knows the client"
    );
    assert!(!flow(&op, &client_id), "the same flow fails");
    assert_eq!(
        store.get("hr-e2e").unwrap().unwrap().status,
        AppStatus::Expired
    );
}

#[test]
fn lifecycle_end_to_end_sqlite() {
    lifecycle_end_to_end(Kind::Sqlite);
}

#[test]
fn lifecycle_end_to_end_postgres() {
    lifecycle_end_to_end(Kind::Postgres);
}

fn idp_refusal_and_outage(kind: Kind) {
    // A provider that offers only `openid profile`: the example's hr.read_only is refused.
    let Some(mut op) = op(Some("openid profile")) else {
        return;
    };
    let Some(inv) = inventory(kind) else { return };
    let server = serve(&op, &inv.url, &[]);
    let r = http(
        server.addr,
        "POST",
        "/v1/apps",
        Some(REGISTER_TOKEN),
        &manifest("hr-odd"),
    );
    assert_eq!(r.status, 502, "{}", r.body);
    assert_eq!(r.json()["error"]["idp_error"], "invalid_client_metadata");
    let store = store::open(&inv.url).unwrap();
    assert!(store.get("hr-odd").unwrap().is_none());

    op.kill();
    let ok = manifest("basic-e2e").replace(
        "oauth_scopes: [openid, profile, hr.read_only]",
        "oauth_scopes: [openid, profile]",
    );
    let r = http(server.addr, "POST", "/v1/apps", Some(REGISTER_TOKEN), &ok);
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(store.get("basic-e2e").unwrap().is_none(), "nothing active");
}

#[test]
fn idp_refusal_and_outage_sqlite() {
    idp_refusal_and_outage(Kind::Sqlite);
}

#[test]
fn idp_refusal_and_outage_postgres() {
    idp_refusal_and_outage(Kind::Postgres);
}

fn crash_between_record_and_activate(kind: Kind) {
    let Some(op) = op(None) else { return };
    let Some(inv) = inventory(kind) else { return };
    let mut server = serve(&op, &inv.url, &[("MICROVET_TEST_ABORT_AFTER_RECORD", "1")]);
    let r = http(
        server.addr,
        "POST",
        "/v1/apps",
        Some(REGISTER_TOKEN),
        &manifest("hr-crash"),
    );
    assert_eq!(r.status, 0, "the server died before answering: {}", r.body);
    let status = server.child.wait().unwrap();
    assert!(!status.success());
    let store = store::open(&inv.url).unwrap();
    let app = store.get("hr-crash").unwrap().unwrap();
    assert_eq!(app.status, AppStatus::Pending);
    let (uri, token) = credentials(&*store, "hr-crash");
    assert!(op_knows(&op, &uri, &token), "the IdP holds the client");
    drop(server);

    let server = serve(&op, &inv.url, &[]);
    // Once the pending row is older than a registration in flight may be.
    let at = rfc3339(now() + 3600);
    let r = http(
        server.addr,
        "POST",
        &format!("/v1/apps/sweep?at={at}"),
        Some(ADMIN_TOKEN),
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    assert_eq!(report["actions"][0]["action"], "reconcile", "{report}");
    assert_eq!(report["actions"][0]["outcome"], "done", "{report}");
    assert!(
        !op_knows(&op, &uri, &token),
        "no client the inventory does not know"
    );
    assert!(store.get("hr-crash").unwrap().is_none());
    assert!(server.log().contains(r#""event":"reconciled""#));
    assert!(!server.log().contains(token.expose()));
    let _ = &server.dir;
}

#[test]
fn crash_between_record_and_activate_sqlite() {
    crash_between_record_and_activate(Kind::Sqlite);
}

#[test]
fn crash_between_record_and_activate_postgres() {
    crash_between_record_and_activate(Kind::Postgres);
}

#[test]
fn two_servers_sweeping_one_postgres_revoke_each_app_once() {
    let Some(op) = op(None) else { return };
    let Some(inv) = inventory(Kind::Postgres) else {
        return;
    };
    let one = serve(&op, &inv.url, &[]);
    let two = serve(&op, &inv.url, &[]);
    let names: Vec<String> = (0..6).map(|i| format!("hr-race-{i}")).collect();
    for (i, n) in names.iter().enumerate() {
        let server = if i % 2 == 0 { &one } else { &two };
        let r = http(
            server.addr,
            "POST",
            "/v1/apps",
            Some(REGISTER_TOKEN),
            &manifest(n),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let at = rfc3339(now() + 400 * DAY);
    let path = format!("/v1/apps/sweep?at={at}");
    let (a, b) = (one.addr, two.addr);
    let p1 = path.clone();
    let t1 = std::thread::spawn(move || http(a, "POST", &p1, Some(ADMIN_TOKEN), ""));
    let t2 = std::thread::spawn(move || http(b, "POST", &path, Some(ADMIN_TOKEN), ""));
    let (r1, r2) = (t1.join().unwrap(), t2.join().unwrap());
    assert_eq!(
        (r1.status, r2.status),
        (200, 200),
        "{} {}",
        r1.body,
        r2.body
    );
    let mut done: Vec<String> = Vec::new();
    for r in [&r1, &r2] {
        for a in r.json()["actions"].as_array().unwrap() {
            assert_eq!(a["outcome"], "done", "{a}");
            done.push(a["name"].as_str().unwrap().to_owned());
        }
    }
    done.sort();
    assert_eq!(done, names, "each app acted on exactly once");
    let store = store::open(&inv.url).unwrap();
    for n in &names {
        let events = store.events(n).unwrap();
        let finals = events
            .iter()
            .filter(|e| matches!(e.kind.as_str(), "expired" | "revoked"))
            .count();
        assert_eq!(finals, 1, "{n}: {events:?}");
    }
    let logged = one.log().matches(r#""event":"expired""#).count()
        + two.log().matches(r#""event":"expired""#).count();
    assert_eq!(logged, names.len());
}
