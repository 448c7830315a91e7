//! `microvet discover` end to end: the fixtures of real exports (tests/discovery/), drift
//! against approved manifests, secrets in every output format, malformed exports, and a
//! large synthetic export.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_microvet");

fn cache() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(BIN)
            .args(["pkce", "--length", "43"])
            .env("MICROVET_CACHE_DIR", dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        dir
    })
    .path()
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("discover")
        .args(args)
        .env("MICROVET_CACHE_DIR", cache())
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_owned()
}

/// The reviewable summary of a JSON report.
fn summary_of(report: &Value) -> Value {
    let clients: Vec<Value> = report["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let rules: Vec<&str> = c["verdict"]["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["rule"].as_str().unwrap())
                .collect();
            let unmapped: Vec<&str> = c["unmapped"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["field"].as_str().unwrap())
                .collect();
            json!({
                "client_id": c["client_id"],
                "labels": c["labels"],
                "decision": c["decision"],
                "score": c["score"],
                "rules": rules,
                "unmapped": unmapped,
                "secrets_redacted": c["secrets_redacted"],
            })
        })
        .collect();
    let mut summary = report["summary"].clone();
    summary.as_object_mut().unwrap().remove("exports");
    json!({
        "summary": summary,
        "clients": clients,
        "errors": report["errors"].as_array().unwrap().iter().map(|e| json!({"client": e["client"], "field": e["field"], "message": e["message"]})).collect::<Vec<_>>(),
        "skipped": report["skipped"].as_array().unwrap().iter().map(|e| json!({"client": e["client"], "message": e["message"]})).collect::<Vec<_>>(),
    })
}

#[test]
fn fixtures_of_real_exports_match_their_expected_summaries() {
    let root = repo().join("tests/discovery");
    let bless = std::env::var_os("MICROVET_BLESS").is_some();
    let mut seen = 0;
    let mut failures = Vec::new();
    for format in ["keycloak", "rfc7591", "okta", "entra"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(format))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_str().unwrap();
                n.ends_with(".json") && !n.ends_with(".expected.json")
            })
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no fixture for {format}");
        for f in files {
            seen += 1;
            // Run from the fixtures' folder so `source` is the bare file name.
            let out = Command::new(BIN)
                .current_dir(f.parent().unwrap())
                .args(["discover", "--from", format, "--format", "json"])
                .arg(f.file_name().unwrap())
                .env("MICROVET_CACHE_DIR", cache())
                .output()
                .unwrap();
            let got = summary_of(&json_of(&out));
            let expected_path = f.with_extension("expected.json");
            let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
            if bless {
                std::fs::write(&expected_path, &text).unwrap();
                continue;
            }
            let expected = std::fs::read_to_string(&expected_path)
                .unwrap_or_else(|_| panic!("{} is missing", expected_path.display()));
            if expected != text {
                failures.push(format!("{}:\n{text}", f.display()));
            }
        }
    }
    assert!(seen >= 6);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const APPROVED: &str = r#"name: Payroll export
owner: payroll-team@example.com
purpose: Exports the monthly payroll summary to the finance share
oauth_scopes: [openid, profile]
client:
  client_id: payroll-export
  redirect_uris: ["https://payroll.example.com/callback"]
  grant_types: [authorization_code, refresh_token]
  response_types: [code]
  token_endpoint_auth_method: none
  code_challenge_method: S256
"#;

fn realm(client: Value) -> String {
    json!({"realm": "acme", "clients": [client]}).to_string()
}

fn payroll() -> Value {
    json!({
        "clientId": "payroll-export",
        "name": "Payroll export",
        "publicClient": true,
        "standardFlowEnabled": true,
        "redirectUris": ["https://payroll.example.com/callback"],
        "defaultClientScopes": ["openid", "profile"],
        "attributes": {"pkce.code.challenge.method": "S256"}
    })
}

#[test]
fn the_approved_client_is_approved_and_a_changed_one_drifts_with_exactly_its_changes() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("manifests");
    std::fs::create_dir(&manifests).unwrap();
    write(&manifests, "payroll.yaml", APPROVED);
    let m = manifests.to_str().unwrap();

    let same = write(dir.path(), "same.json", &realm(payroll()));
    let out = run(&[
        "--from",
        "keycloak",
        same.as_str(),
        "--manifests",
        m,
        "--format",
        "json",
    ]);
    let r = json_of(&out);
    let c = &r["clients"][0];
    assert_eq!(c["label"], "approved", "{c:#}");
    assert_eq!(c["differences"], json!([]));
    assert_eq!(
        c["matched"],
        json!({"by": "client_id", "source": manifests.join("payroll.yaml").to_str().unwrap()})
    );
    assert_eq!(c["owner"], "payroll-team@example.com");
    assert_eq!(c["labels"], json!(["approved"]));

    // After approval: a redirect URI added and the implicit flow enabled.
    let mut changed = payroll();
    changed["redirectUris"]
        .as_array_mut()
        .unwrap()
        .push(json!("https://evil.example.net/cb"));
    changed["implicitFlowEnabled"] = json!(true);
    let changed = write(dir.path(), "changed.json", &realm(changed));
    let out = run(&[
        "--from",
        "keycloak",
        changed.as_str(),
        "--manifests",
        m,
        "--format",
        "json",
    ]);
    let r = json_of(&out);
    let c = &r["clients"][0];
    assert_eq!(c["label"], "drifted");
    assert_eq!(
        c["differences"],
        json!([
            {"field": "redirect_uris", "change": "added", "value": "https://evil.example.net/cb"},
            {"field": "grant_types", "change": "added", "value": "implicit"},
            {"field": "response_types", "change": "added", "value": "token"},
            {"field": "response_types", "change": "added", "value": "id_token token"},
        ])
    );
    // A member the mapping does not know, named like a compared setting, hides nothing: it
    // is reported in `unmapped`, and the change is still a difference.
    {
        let mut named = payroll();
        named["redirectUris"]
            .as_array_mut()
            .unwrap()
            .push(json!("https://evil.example.net/cb"));
        named["redirect_uris"] = json!(["https://payroll.example.com/callback"]);
        named["code_challenge_method"] = json!("S256");
        named["attributes"] = json!({});
        let named = write(dir.path(), "named.json", &realm(named));
        let out = run(&[
            "--from",
            "keycloak",
            named.as_str(),
            "--manifests",
            m,
            "--format",
            "json",
        ]);
        let c = &json_of(&out)["clients"][0];
        assert_eq!(c["label"], "drifted", "{c:#}");
        assert_eq!(
            c["differences"],
            json!([
                {"field": "redirect_uris", "change": "added", "value": "https://evil.example.net/cb"},
                {"field": "code_challenge_method", "change": "changed", "approved": "S256"},
            ]),
            "{c:#}"
        );
    }

    // The live configuration is vetted too: the implicit grant is a finding.
    let rules: Vec<&str> = c["verdict"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"MV-OAUTH-001"), "{rules:?}");
    assert_eq!(out.status.code(), Some(1));

    // The text report lists the differences under the drifted client.
    let out = run(&["--from", "keycloak", changed.as_str(), "--manifests", m]);
    let text = stdout(&out);
    assert!(
        text.contains("Drifted clients\n  payroll-export (")
            && text.contains("    - redirect_uris added: `https://evil.example.net/cb`")
            && text.contains("    - grant_types added: `implicit`"),
        "{text}"
    );
}

#[test]
fn matching_by_name_only_without_a_client_id_and_only_on_the_exact_name() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("m");
    std::fs::create_dir(&manifests).unwrap();
    write(
        &manifests,
        "a.yaml",
        &APPROVED.replace("  client_id: payroll-export\n", ""),
    );
    let mut other_id = payroll();
    other_id["clientId"] = json!("3f1c-generated");
    let mut near = payroll();
    near["clientId"] = json!("other");
    near["name"] = json!("Payroll Export");
    let export = json!({"clients": [other_id, near]}).to_string();
    let f = write(dir.path(), "e.json", &export);
    let r = json_of(&run(&[
        "--from",
        "keycloak",
        f.as_str(),
        "--manifests",
        manifests.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let by_id: Vec<(&str, &str)> = r["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["client_id"].as_str().unwrap(),
                c["label"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_id,
        [("3f1c-generated", "approved"), ("other", "unvetted")]
    );
    assert_eq!(r["clients"][0]["matched"]["by"], "name");
}

#[test]
fn builtin_clients_are_labelled_and_still_vetted() {
    let dir = tempfile::tempdir().unwrap();
    let export = json!({"clients": [
        {"clientId": "admin-cli", "name": "${client_admin-cli}", "publicClient": true,
         "standardFlowEnabled": false, "directAccessGrantsEnabled": true},
        {"clientId": "admin-cli-copy", "name": "${client_admin-cli}", "publicClient": true},
        {"clientId": "admin-cli", "name": "Not Keycloak's", "publicClient": true}
    ]})
    .to_string();
    let f = write(dir.path(), "realm.json", &export);
    let r = json_of(&run(&[
        "--from",
        "keycloak",
        f.as_str(),
        "--format",
        "json",
    ]));
    let c = &r["clients"];
    assert_eq!(c[0]["labels"], json!(["built-in"]));
    assert_eq!(c[0]["decision"], "reject");
    assert!(
        c[0]["verdict"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "MV-OAUTH-002")
    );
    assert_eq!(c[1]["labels"], json!(["unvetted", "ownerless"]));
    assert_eq!(c[2]["labels"], json!(["unvetted", "ownerless"]));
    assert_eq!(r["summary"]["labels"]["built-in"], 1);
}

/// Secrets of every format, and the forms an output could quote them in.
const SECRETS: &[&str] = &[
    "kc-Sx7Qe2LmP9vTz4Rw8Yb3Nc6Hd1",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyZWctdG9rZW4ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
    "ghp_R8d2Kq7Lm4Np9Xs3Vt6Wy1Za5Bc0De2Fg8Hj",
    "rfc-Cf136dc3c1fc93f31185e5885805dQz",
    "reg-23410913-abewfq.123483",
    "okta-Gx5Vd8Sk2Lp7Qw4Er9Ty1Ui6Op3As0Df",
    "Ent~8Q~q1w2e3r4t5y6u7i8o9p0AsDfGhJkLzXcV",
];

fn secret_exports(dir: &Path) -> Vec<(&'static str, String)> {
    let kc = json!({"clients": [{
        "clientId": "leaky",
        "secret": SECRETS[0],
        "registrationAccessToken": SECRETS[1],
        "redirectUris": [format!("https://leaky.example.com/cb?token={}", SECRETS[2])],
        "attributes": {"client.secret.creation.time": "1700000000", "x-api-key": SECRETS[2]}
    }]});
    let rfc = json!([{
        "client_id": "rfc-leaky", "client_secret": SECRETS[3],
        "registration_access_token": SECRETS[4],
        "redirect_uris": ["https://rfc.example.com/cb"]
    }]);
    let okta = json!([{
        "id": "0oaLEAKY", "label": "Leaky", "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"client_id": "0oaLEAKY", "client_secret": SECRETS[5],
            "token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {"oauthClient": {"redirect_uris": ["https://okta.example.com/cb"],
            "grant_types": ["authorization_code"], "response_types": ["code"], "application_type": "web"}}
    }]);
    let entra = json!({"value": [{
        "appId": "11111111-2222-3333-4444-555555555555", "displayName": "Leaky",
        "web": {"redirectUris": ["https://entra.example.com/cb"]},
        "passwordCredentials": [{"displayName": "ci", "hint": "Ent", "secretText": SECRETS[6],
            "keyId": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}]
    }]});
    vec![
        ("keycloak", write(dir, "kc.json", &kc.to_string())),
        ("rfc7591", write(dir, "rfc.json", &rfc.to_string())),
        ("okta", write(dir, "okta.json", &okta.to_string())),
        ("entra", write(dir, "entra.json", &entra.to_string())),
    ]
}

#[test]
fn no_secret_of_an_export_is_in_any_output_format() {
    let dir = tempfile::tempdir().unwrap();
    // The manifest side of a difference is scrubbed too.
    let manifests = dir.path().join("m");
    std::fs::create_dir(&manifests).unwrap();
    write(
        &manifests,
        "leaky.yaml",
        &format!(
            "name: Leaky\nowner: a@example.com\nclient:\n  client_id: leaky\n  redirect_uris: [\"https://leaky.example.com/cb?token={}&x=1\"]\n",
            SECRETS[2]
        ),
    );
    for (format, file) in secret_exports(dir.path()) {
        for output in ["text", "json", "sarif", "csv"] {
            let out = run(&[
                "--from",
                format,
                file.as_str(),
                "--manifests",
                manifests.to_str().unwrap(),
                "--format",
                output,
            ]);
            let all = format!("{}{}", stdout(&out), stderr(&out));
            assert!(out.stdout.len() > 50, "{format}/{output}: {all}");
            let lower = all.to_ascii_lowercase();
            for s in SECRETS {
                let encoded: String = url_encode(s);
                for form in [
                    s.to_string(),
                    s.to_ascii_lowercase(),
                    encoded.to_ascii_lowercase(),
                ] {
                    assert!(
                        !lower.contains(&form.to_ascii_lowercase()),
                        "{format}/{output} echoes a secret ({s}):\n{all}"
                    );
                }
            }
            // The last 3 characters of Entra's hint are no secret, but the hint is removed.
            if format == "entra" && output == "json" {
                assert!(!all.contains("\"hint\""), "{all}");
            }
        }
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn the_count_of_removed_secrets_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let exports = secret_exports(dir.path());
    let (_, kc) = &exports[0];
    let r = json_of(&run(&[
        "--from",
        "keycloak",
        kc.as_str(),
        "--format",
        "json",
    ]));
    assert!(
        r["clients"][0]["secrets_redacted"].as_u64().unwrap() >= 3,
        "{r:#}"
    );
    // Entra: the secret text and its hint (which the secret scan alone would keep).
    let (_, entra) = &exports[3];
    let r = json_of(&run(&[
        "--from",
        "entra",
        entra.as_str(),
        "--format",
        "json",
    ]));
    assert!(
        r["clients"][0]["secrets_redacted"].as_u64().unwrap() >= 2,
        "{r:#}"
    );
}

#[test]
fn a_truncated_export_names_the_file_and_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let text = realm(payroll());
    let f = write(dir.path(), "cut.json", &text[..text.len() / 2]);
    let out = run(&["--from", "keycloak", f.as_str()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("cut.json: not valid JSON at line 1, column"),
        "{err}"
    );
}

#[test]
fn a_wrong_format_flag_says_which_format_the_export_looks_like() {
    let root = repo().join("tests/discovery");
    let okta = root.join("okta/okta-apps.json");
    let out = run(&["--from", "keycloak", okta.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("try `--from okta`"),
        "{}",
        stderr(&out)
    );
    let kc = root.join("keycloak/testrealm.json");
    let out = run(&["--from", "entra", kc.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("try `--from keycloak`"),
        "{}",
        stderr(&out)
    );
    let out = run(&["--from", "pingfederate", kc.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown export format `pingfederate`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_client_without_id_is_an_error_naming_it_and_the_others_are_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    let export = json!({"clients": [
        payroll(),
        {"name": "Nameless export job", "redirectUris": ["https://x.example.com/cb"]},
        {"clientId": 42},
        {"clientId": "third", "redirectUris": "https://not-a-list.example.com"}
    ]})
    .to_string();
    let f = write(dir.path(), "realm.json", &export);
    let out = run(&["--from", "keycloak", f.as_str(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(
            "realm.json: client 1 (`Nameless export job`): `clientId`: the client has no id"
        ),
        "{err}"
    );
    assert!(
        err.contains("client 2: `clientId`: the client id should be a string, found a number"),
        "{err}"
    );
    assert!(
        err.contains("client 3 (`third`): `redirectUris`: should be a list of strings"),
        "{err}"
    );
    let r = json_of(&out);
    assert_eq!(r["clients"].as_array().unwrap().len(), 1);
    assert_eq!(r["clients"][0]["client_id"], "payroll-export");
    assert_eq!(r["errors"].as_array().unwrap().len(), 3);
    assert_eq!(r["summary"]["errors"], 3);
    // CSV: one row per unread client, with the reason.
    let out = run(&["--from", "keycloak", f.as_str(), "--format", "csv"]);
    let csv = stdout(&out);
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(csv.contains(",error,"), "{csv}");
}

#[test]
fn output_is_deterministic_and_ordered_by_client_id() {
    let root = repo().join("tests/discovery/keycloak/testrealm.json");
    let a = run(&[
        "--from",
        "keycloak",
        root.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let b = run(&[
        "--from",
        "keycloak",
        root.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(a.stdout, b.stdout);
    let r = json_of(&a);
    let ids: Vec<&str> = r["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
}

#[test]
fn text_starts_with_the_summary_then_the_riskiest() {
    let root = repo().join("tests/discovery/keycloak/testrealm.json");
    let out = run(&["--from", "keycloak", root.to_str().unwrap()]);
    let text = stdout(&out);
    let label = text.find("  label ").unwrap();
    let decision = text.find("  decision ").unwrap();
    let riskiest = text.find("Riskiest clients").unwrap();
    assert!(label < decision && decision < riskiest, "{text}");
    // The riskiest first: direct-grant has the password grant.
    let first = text[riskiest..].lines().nth(2).unwrap();
    assert!(first.contains("direct-grant"), "{text}");
}

#[test]
fn a_large_synthetic_export_is_discovered_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let n = 5_000;
    let clients: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "clientId": format!("app-{i:05}"),
                "publicClient": i % 2 == 0,
                "implicitFlowEnabled": i % 7 == 0,
                "redirectUris": [format!("https://app-{i}.example.com/cb")],
                "attributes": {"pkce.code.challenge.method": "S256"},
                "secret": format!("s3cr3t-{i:05}-Qx7Lm2Pv9Tz")
            })
        })
        .collect();
    let f = write(
        dir.path(),
        "big.json",
        &json!({"clients": clients}).to_string(),
    );
    let out = run(&["--from", "keycloak", f.as_str(), "--format", "csv"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let csv = stdout(&out);
    assert_eq!(csv.lines().count(), n + 1);
    assert!(!csv.contains("s3cr3t-"));
}

// ---------------------------------------------------------------------------------------
// POST /v1/discover
// ---------------------------------------------------------------------------------------

struct Server {
    child: std::process::Child,
    addr: std::net::SocketAddr,
    _dir: tempfile::TempDir,
}

const ADMIN_TOKEN: &str = "tok-discover-admin-3f1c";
const REGISTER_TOKEN: &str = "tok-discover-register-77a0";

impl Server {
    /// `microvet serve` with an API tokens file (an `admin` and a `register` token).
    fn start(args: &[&str]) -> Server {
        use sha2::Digest as _;
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        let hex = |t: &str| {
            sha2::Sha256::digest(t.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        std::fs::write(
            &tokens,
            format!(
                "security admin {}\nportal register {}\n",
                hex(ADMIN_TOKEN),
                hex(REGISTER_TOKEN)
            ),
        )
        .unwrap();
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--log-level", "warn"])
            .arg("--api-tokens")
            .arg(&tokens)
            .args(args)
            .env("MICROVET_CACHE_DIR", cache())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("microvet: listening on http://")
            .unwrap_or_else(|| panic!("the server did not start: {line:?}"))
            .parse()
            .unwrap();
        Server {
            child,
            addr,
            _dir: dir,
        }
    }

    /// (status, body) of a POST with the admin token.
    fn post(&self, path: &str, body: &[u8]) -> (u16, String) {
        self.send(path, Some(ADMIN_TOKEN), body.len(), body)
    }

    /// (status, body) of a POST announcing `length` bytes and sending `body` (possibly
    /// fewer), within 20 s.
    fn send(&self, path: &str, token: Option<&str>, length: usize, body: &[u8]) -> (u16, String) {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n",
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)
            .unwrap_or_else(|e| panic!("no answer from POST {path}: {e}"));
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text.split(' ').nth(1).unwrap().parse().unwrap();
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn http_discover_is_off_by_default_and_reports_like_the_cli_when_on() {
    let realm = std::fs::read(repo().join("tests/discovery/keycloak/testrealm.json")).unwrap();
    let off = Server::start(&[]);
    let (status, body) = off.post("/v1/discover?from=keycloak", &realm);
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("not-enabled"), "{body}");
    drop(off);

    let on = Server::start(&["--discover", "--discover-max-bytes", "100000"]);
    let (status, body) = on.post("/v1/discover?from=keycloak&from=okta", &realm);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid query string: "), "{body}");
    let (status, body) = on.post("/v1/discover?from=keycloak", &realm);
    assert_eq!(status, 200, "{body}");
    let r: Value = serde_json::from_str(&body).unwrap();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/discovery/keycloak/testrealm.expected.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(summary_of(&r)["clients"], expected["clients"]);
    assert!(!body.contains("\"password\"") || !body.contains("\"secret\""));
    let (status, body) = on.post("/v1/discover?from=okta", &realm);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("try `--from keycloak`"), "{body}");
    let (status, body) = on.post("/v1/discover", &realm);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("the export format is missing"), "{body}");
    let big = vec![b' '; 100_001];
    let (status, _) = on.post("/v1/discover?from=keycloak", &big);
    assert_eq!(status, 413);
}

#[test]
fn http_discover_takes_the_admin_role_and_reads_no_strangers_or_slow_bodies() {
    let realm = std::fs::read(repo().join("tests/discovery/keycloak/testrealm.json")).unwrap();
    let on = Server::start(&["--discover", "--body-timeout-ms", "400"]);
    let path = "/v1/discover?from=keycloak";
    let (status, body) = on.send(path, None, realm.len(), &realm);
    assert_eq!(status, 401, "{body}");
    let (status, body) = on.send(path, Some("not-a-token"), realm.len(), &realm);
    assert_eq!(status, 401, "{body}");
    let (status, body) = on.send(path, Some(REGISTER_TOKEN), realm.len(), &realm);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("needs `admin`"), "{body}");
    // A stranger announcing 30 MB is answered at once: its body is never waited for.
    let (status, body) = on.send(path, None, 30 << 20, b"{");
    assert_eq!(status, 401, "{body}");
    // An admin's body that does not arrive in time: 408, not a held thread.
    let (status, body) = on.send(path, Some(ADMIN_TOKEN), realm.len(), &realm[..100]);
    assert_eq!(status, 408, "{body}");
    assert!(body.contains("body-timeout"), "{body}");
    let (status, body) = on.post(path, &realm);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn serve_refuses_discovery_without_api_tokens() {
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--discover"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--api-tokens"), "{}", stderr(&out));
}
