//! Credentials in URLs are redacted from every output, whatever the host is written in.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use microvet_core::Policy;

/// A URL with a password whose host is Unicode (`bücher`), or one the IDN mapping refuses
/// (a zero-width space): the password is a secret all the same, and is never quoted, not
/// even inside a canonical form (A-label host, lowercased scheme) another rule suggests.
#[test]
fn passwords_in_urls_with_unicode_hosts_are_redacted() {
    let manifest = "\
name: idn-creds
owner: ops@example.com
purpose: post notices
data_access: []
retention_days: 7
oauth_scopes: [openid]
external_sinks:
  - https://user:hunter2@b\u{fc}cher.example/notify
  - \"https://user:hunter2@exa\\u200Bmple.com/notify\"
expiry_days: 30
instrumentation: { audit_log: \"siem://corp/micro-apps\", contact: \"ops@example.com\" }
client:
  application_type: web
  token_endpoint_auth_method: none
  grant_types: [authorization_code]
  response_types: [code]
  code_challenge_method: S256
  redirect_uris:
    - https://user:hunter2@b\u{fc}cher.example/cb
    - \"https://user:hunter2@exa\\u200Bmple.com/cb\"
    - HTTPS://user:hunter2@Apps.Example.com/cb
";
    let v = Policy::builtin().unwrap().vet(manifest).unwrap();
    let json = v.to_json();
    assert!(!json.contains("hunter2"), "{json}");
    assert!(json.contains("[REDACTED]"), "{json}");
    let secrets = v
        .findings
        .iter()
        .filter(|f| f.rule == "MV-SECRET-001")
        .count();
    assert_eq!(secrets, 5, "{json}");
}

/// A GitHub fine-grained token (`github_pat_…`) inside free text is a literal secret: it is
/// found (MV-SECRET-001, so the app is rejected) and never quoted. Session 3 briefly missed
/// it when a search gate assumed every GitHub prefix contains `gh`.
#[test]
fn github_fine_grained_tokens_in_text_are_found_and_redacted() {
    let token = "github_pat_11abcdefg0123456789abcdef0123456789abcdef01234";
    let manifest = format!(
        "\
name: ci-notices
owner: ops@example.com
purpose: post build notices; CI pushes with {token} to the repo
data_access: []
retention_days: 7
oauth_scopes: [openid]
expiry_days: 30
"
    );
    let v = Policy::builtin().unwrap().vet(&manifest).unwrap();
    let json = v.to_json();
    assert!(!json.contains(token), "{json}");
    let secret = v
        .findings
        .iter()
        .find(|f| f.rule == "MV-SECRET-001")
        .unwrap_or_else(|| panic!("no MV-SECRET-001: {json}"));
    assert_eq!(secret.path, "/purpose", "{json}");
    assert!(
        secret.message.contains("GitHub token"),
        "{}",
        secret.message
    );
    assert_eq!(v.decision.as_str(), "reject", "{json}");
}
