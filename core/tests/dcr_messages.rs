//! Findings on an RFC 7591 registration request speak of what the request has: no
//! "manifest", no "purpose", and a missing member is pointed at by its own key (`/x`), never
//! at the root (`""`) or at a manifest path (`/client/x`). The same for a manifest's
//! `client` section: a missing client field is `/client/x`, not `/client`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;
use support::rule;

use microvet_core::{InputKind, Policy};

/// Registration requests that between them trigger most client rules.
const REQUESTS: &[&str] = &[
    r#"{"client_name":"Report Bot","redirect_uris":["https://apps.example.com/cb"],"grant_types":["authorization_code","refresh_token"],"scope":"openid profile","contacts":["ops@example.com"]}"#,
    r#"{"redirect_uris":["https://apps.example.com/cb"],"grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_post","client_secret":"hunter2hunter2hunter2hunter2","scope":"admin offline_access"}"#,
    r#"{"application_type":"native","redirect_uris":["urn:ietf:wg:oauth:2.0:oob","myapp://cb","http://notes.example.com/cb"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token","implicit","password"],"response_types":["code","token"],"response_modes":["fragment"],"id_token_signed_response_alg":"none","jwks_uri":"http://apps.example.com/k","post_logout_redirect_uris":["http://evil.io/bye"],"jwks":{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}}"#,
    r#"{"grant_types":["authorization_code"],"application_type":"native"}"#,
    r#"{}"#,
];

#[test]
fn dcr_findings_speak_of_the_request() {
    let policy = Policy::builtin().unwrap();
    let mut seen = 0;
    for req in REQUESTS {
        let v = policy.vet_kind(InputKind::Dcr, req).unwrap();
        for f in &v.findings {
            seen += 1;
            let m = f.message.to_lowercase();
            assert!(
                !m.contains("manifest") && !m.contains("purpose"),
                "{} on a DCR request: {}",
                f.rule,
                f.message
            );
            assert!(
                f.path.starts_with('/') && !f.path.starts_with("/client/") && f.path != "/client",
                "{} points at `{}` in a DCR request: {}",
                f.rule,
                f.path,
                f.message
            );
        }
    }
    assert!(
        seen >= 15,
        "only {seen} findings: the requests no longer exercise the rules"
    );
}

#[test]
fn missing_client_fields_are_pointed_at_by_their_key() {
    let policy = Policy::builtin().unwrap();
    // No `token_endpoint_auth_method` (the default `client_secret_basic` is a shared secret)
    // and no `code_challenge_method`.
    let v = policy
        .vet_kind(
            InputKind::Dcr,
            r#"{"redirect_uris":["https://apps.example.com/cb"]}"#,
        )
        .unwrap();
    let at = |rule: &str| -> Vec<String> {
        v.findings
            .iter()
            .filter(|f| f.rule == rule)
            .map(|f| f.path.clone())
            .collect()
    };
    assert_eq!(at("MV-OAUTH-012"), ["/token_endpoint_auth_method"]);
    let manifest = "name: t\nowner: it@example.com\npurpose: test the client rules\nclient:\n  application_type: native\n  redirect_uris: [\"http://127.0.0.1/cb\"]\n";
    let v = policy.vet_kind(InputKind::Manifest, manifest).unwrap();
    let paths: Vec<(&str, &str)> = v
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("MV-OAUTH"))
        .map(|f| (f.rule, f.path.as_str()))
        .collect();
    assert!(
        paths.contains(&("MV-OAUTH-010", "/client/token_endpoint_auth_method")),
        "{paths:?}"
    );
    assert!(paths.iter().all(|(_, p)| *p != "/client"), "{paths:?}");
    // A confidential web client with the default grant and no PKCE.
    let manifest = "name: t\nowner: it@example.com\npurpose: test the client rules\nclient:\n  token_endpoint_auth_method: private_key_jwt\n  jwks_uri: https://apps.example.com/k\n  redirect_uris: [\"https://apps.example.com/cb\"]\n";
    let v = policy.vet_kind(InputKind::Manifest, manifest).unwrap();
    let pkce: Vec<&str> = v
        .findings
        .iter()
        .filter(|f| f.rule == rule("MV-OAUTH-008").id)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(pkce, ["/client/code_challenge_method"]);
}

#[test]
fn scope_fixes_of_a_dcr_request_rewrite_the_scope_string() {
    let policy = Policy::builtin().unwrap();
    let v = policy
        .vet_kind(
            InputKind::Dcr,
            r#"{"redirect_uris":["https://apps.example.com/cb"],"scope":"openid admin  offline_access"}"#,
        )
        .unwrap();
    let fix = |rule: &str| {
        let f = v.findings.iter().find(|f| f.rule == rule).unwrap();
        let x = f.fix.as_ref().unwrap();
        (x.op, x.path.clone(), x.value.clone())
    };
    // Removing `/scope` would drop every scope: the fix is the string without the one.
    assert_eq!(
        fix("MV-SCOPE-001"),
        (
            "replace",
            "/scope".to_string(),
            Some(serde_json::json!("openid offline_access"))
        )
    );
    assert_eq!(
        fix("MV-SCOPE-007"),
        (
            "replace",
            "/scope".to_string(),
            Some(serde_json::json!("openid admin"))
        )
    );
    // A manifest's scopes are list items: removed one by one.
    let m = "name: t\nowner: it@example.com\npurpose: test the client rules\noauth_scopes: [openid, admin]\n";
    let v = policy.vet_kind(InputKind::Manifest, m).unwrap();
    let f = v
        .findings
        .iter()
        .find(|f| f.rule == rule("MV-SCOPE-001").id)
        .unwrap();
    let x = f.fix.as_ref().unwrap();
    assert_eq!((x.op, x.path.as_str()), ("remove", "/oauth_scopes/1"));
}
