//! How a live client differs from the client its manifest approved: each redirect URI,
//! grant type, response type, scope or other URI added or removed, and each single-valued
//! setting (authentication method, PKCE method, application type, JWK Set URI) changed.
//! RFC 7591 §2 defaults apply on both sides (no `grant_types` is `authorization_code`, no
//! `response_types` is `code`, no `token_endpoint_auth_method` is `client_secret_basic`,
//! no `application_type` is `web`), so writing a default out is not a change. Values are
//! compared exactly as written: any other spelling is a difference.

use serde::Serialize;
use serde_json::{Map, Value};

/// The settings compared: what decides where tokens go and who may get them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientConfig {
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub scopes: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub code_challenge_method: Option<String>,
    pub application_type: Option<String>,
    pub jwks_uri: Option<String>,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The RFC 7591 member (`redirect_uris`, `scope`, ...), or `status` for the inventory.
    pub field: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// The value added or removed, or the new value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The approved value of a changed setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved: Option<String>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.value.as_deref().unwrap_or("(none)");
        match self.change {
            "changed" => write!(
                f,
                "{} changed: `{}` → `{v}`",
                self.field,
                self.approved.as_deref().unwrap_or("(none)")
            ),
            c => write!(f, "{} {c}: `{v}`", self.field),
        }
    }
}

fn list(m: &Map<String, Value>, key: &str) -> Vec<String> {
    match m.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn one(m: &Map<String, Value>, key: &str) -> Option<String> {
    match m.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    }
}

impl ClientConfig {
    /// The live configuration from the RFC 7591 metadata a format module produced.
    pub fn from_metadata(m: &Map<String, Value>) -> ClientConfig {
        ClientConfig {
            redirect_uris: list(m, "redirect_uris"),
            grant_types: list(m, "grant_types"),
            response_types: list(m, "response_types"),
            scopes: one(m, "scope")
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            post_logout_redirect_uris: list(m, "post_logout_redirect_uris"),
            token_endpoint_auth_method: one(m, "token_endpoint_auth_method"),
            code_challenge_method: one(m, "code_challenge_method"),
            application_type: one(m, "application_type"),
            jwks_uri: one(m, "jwks_uri"),
        }
    }
}

fn with_default(v: &[String], default: &str) -> Vec<String> {
    if v.is_empty() {
        vec![default.to_owned()]
    } else {
        v.to_vec()
    }
}

fn sets(field: &str, approved: &[String], live: &[String], out: &mut Vec<Difference>) {
    for v in live {
        if !approved.contains(v) {
            out.push(Difference {
                field: field.to_owned(),
                change: "added",
                value: Some(v.clone()),
                approved: None,
            });
        }
    }
    for v in approved {
        if !live.contains(v) {
            out.push(Difference {
                field: field.to_owned(),
                change: "removed",
                value: Some(v.clone()),
                approved: None,
            });
        }
    }
}

fn single(field: &str, approved: Option<&str>, live: Option<&str>, out: &mut Vec<Difference>) {
    if approved != live {
        out.push(Difference {
            field: field.to_owned(),
            change: "changed",
            value: live.map(str::to_owned),
            approved: approved.map(str::to_owned),
        });
    }
}

/// Every difference of `live` from `approved`, in a fixed order (field, then change, then
/// value).
pub fn differences(approved: &ClientConfig, live: &ClientConfig) -> Vec<Difference> {
    let mut out = Vec::new();
    sets(
        "redirect_uris",
        &approved.redirect_uris,
        &live.redirect_uris,
        &mut out,
    );
    sets(
        "grant_types",
        &with_default(&approved.grant_types, "authorization_code"),
        &with_default(&live.grant_types, "authorization_code"),
        &mut out,
    );
    sets(
        "response_types",
        &with_default(&approved.response_types, "code"),
        &with_default(&live.response_types, "code"),
        &mut out,
    );
    sets("scope", &approved.scopes, &live.scopes, &mut out);
    sets(
        "post_logout_redirect_uris",
        &approved.post_logout_redirect_uris,
        &live.post_logout_redirect_uris,
        &mut out,
    );
    single(
        "token_endpoint_auth_method",
        Some(
            approved
                .token_endpoint_auth_method
                .as_deref()
                .unwrap_or("client_secret_basic"),
        ),
        Some(
            live.token_endpoint_auth_method
                .as_deref()
                .unwrap_or("client_secret_basic"),
        ),
        &mut out,
    );
    single(
        "code_challenge_method",
        approved.code_challenge_method.as_deref(),
        live.code_challenge_method.as_deref(),
        &mut out,
    );
    single(
        "application_type",
        Some(approved.application_type.as_deref().unwrap_or("web")),
        Some(live.application_type.as_deref().unwrap_or("web")),
        &mut out,
    );
    single(
        "jwks_uri",
        approved.jwks_uri.as_deref(),
        live.jwks_uri.as_deref(),
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use serde_json::json;

    fn cfg(v: Value) -> ClientConfig {
        ClientConfig::from_metadata(v.as_object().unwrap())
    }

    #[test]
    fn defaults_written_out_are_not_changes() {
        let a = cfg(json!({"redirect_uris": ["https://a.example/cb"]}));
        let b = cfg(
            json!({"redirect_uris": ["https://a.example/cb"], "grant_types": ["authorization_code"],
            "response_types": ["code"], "token_endpoint_auth_method": "client_secret_basic", "application_type": "web"}),
        );
        assert_eq!(differences(&a, &b), vec![]);
    }

    #[test]
    fn case_and_trailing_slash_are_differences() {
        let a = cfg(json!({"redirect_uris": ["https://a.example/cb"]}));
        let b = cfg(json!({"redirect_uris": ["https://A.example/cb/"]}));
        let d: Vec<String> = differences(&a, &b)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            d,
            [
                "redirect_uris added: `https://A.example/cb/`",
                "redirect_uris removed: `https://a.example/cb`"
            ]
        );
    }
}
