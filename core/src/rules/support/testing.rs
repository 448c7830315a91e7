//! Helpers for the rule files' unit tests: vet a small manifest with the default policy.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::rules::Rule;
use crate::{Finding, InputKind, Policy};

/// A complete manifest around a `client` section given as YAML lines (indented by 2).
pub fn manifest(client: &str) -> String {
    format!(
        "name: t\nowner: it@example.com\npurpose: test the client rules\ndata_access: [{{type: user.profile}}]\nretention_days: 30\noauth_scopes: [openid, profile]\nexpiry_days: 60\ninstrumentation: {{audit_log: siem://corp/t, contact: it@example.com}}\nclient:\n{client}"
    )
}

/// A public client of `app_type` with PKCE S256 and these redirect URIs.
pub fn with_uris(app_type: &str, uris: &[&str]) -> String {
    let list: Vec<String> = uris
        .iter()
        .map(|u| format!("    - {}\n", serde_json::to_string(u).unwrap()))
        .collect();
    manifest(&format!(
        "  application_type: {app_type}\n  token_endpoint_auth_method: none\n  grant_types: [authorization_code]\n  code_challenge_method: S256\n  redirect_uris:\n{}",
        list.concat()
    ))
}

pub fn vet(text: &str) -> Vec<Finding> {
    Policy::builtin().unwrap().vet(text).unwrap().findings
}

pub fn vet_dcr(text: &str) -> Vec<Finding> {
    Policy::builtin()
        .unwrap()
        .vet_kind(InputKind::Dcr, text)
        .unwrap()
        .findings
}

/// The findings of one rule, as (path, message).
pub fn of(findings: &[Finding], rule: &Rule) -> Vec<(String, String)> {
    findings
        .iter()
        .filter(|f| f.rule == rule.id)
        .map(|f| (f.path.clone(), f.message.clone()))
        .collect()
}

/// Findings of `rule` for one redirect URI in a web (or native) app.
pub fn uri(app_type: &str, uri: &str, rule: &Rule) -> Vec<String> {
    of(&vet(&with_uris(app_type, &[uri])), rule)
        .into_iter()
        .map(|(_, m)| m)
        .collect()
}

/// The fix value of the first finding of `rule`.
pub fn fix_value(findings: &[Finding], rule: &Rule) -> Option<serde_json::Value> {
    findings
        .iter()
        .find(|f| f.rule == rule.id)
        .and_then(|f| f.fix.as_ref())
        .and_then(|x| x.value.clone())
}
