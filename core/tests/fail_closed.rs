//! Values vetted in another shape or form than written (scopes split from one string,
//! normal forms) never bring a literal secret back into the output.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
use support::rule;

use microvet_core::Policy;

const TOKEN: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";

#[test]
fn a_token_inside_a_scope_string_is_redacted_in_every_finding() {
    let policy = Policy::builtin().unwrap();
    for scopes in [
        format!("\"openid {TOKEN}\""),
        format!("[\"profile {TOKEN}\"]"),
        format!("[\" {TOKEN}\\u00ad\"]"),
    ] {
        let text = format!(
            "name: a\nowner: it@example.com\npurpose: read the roster\noauth_scopes: {scopes}\n"
        );
        let v = policy.vet(&text).unwrap();
        assert!(
            v.findings
                .iter()
                .any(|f| f.rule == rule("MV-SECRET-001").id),
            "{scopes}: {:?}",
            v.findings
        );
        let json = v.to_json();
        assert!(!json.contains("ghp_"), "{scopes}: {json}");
    }
}
