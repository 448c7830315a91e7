//! The RFC 7591 registration request of an approved manifest: ONLY what the verdict
//! approved. The mapping (one row per field) is in docs/LIFECYCLE.md.
//!
//! The manifest is read with the component's own loader (`microvet_core::yaml`, the same
//! code the component runs, with the same limits and refusals: duplicate keys, merge keys,
//! foreign tags), so what is registered is what was vetted; the verdict must carry the
//! manifest's sha256. An item of a list (a scope, a redirect URI, a grant type) that a
//! finding of severity `medium` or above points at is withheld; such a finding at a field
//! that cannot be partly sent (the auth method, the list as a whole) blocks the
//! registration. Anything the mapping does not understand blocks it too (fail closed).

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::types::{Severity, Verdict};

/// Findings at or above this severity deny what they point at.
const DENIES: Severity = Severity::Medium;

/// Grant types the mapping registers (RFC 7591 §2). Others block: the implicit and
/// password grants are never registered, extension grants are not vetted as such.
const GRANT_TYPES: &[&str] = &["authorization_code", "refresh_token", "client_credentials"];

/// RFC 7591 §2 / OpenID Connect Registration §2 values (the IANA registry's).
const AUTH_METHODS: &[&str] = &[
    "none",
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "tls_client_auth",
    "self_signed_tls_client_auth",
];

const APPLICATION_TYPES: &[&str] = &["web", "native"];

/// The request to send, and what was left out of it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientMetadata {
    /// The RFC 7591 client metadata (a JSON object).
    pub metadata: Value,
    /// Items of the manifest not sent because a finding denies them.
    pub withheld: Vec<Withheld>,
}

/// One item left out of the registration.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Withheld {
    /// RFC 6901 pointer into the manifest.
    pub path: String,
    /// The item (a scope, a URI, a grant type).
    pub value: String,
    /// The rule of the finding that denies it.
    pub rule: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MetadataError {
    /// The verdict does not approve the app.
    #[error("the verdict is `{0}`: only approved apps are registered")]
    NotApproved(String),
    /// The verdict or the manifest cannot be read, or they do not belong together.
    #[error("{0}")]
    Invalid(String),
    /// A finding denies a field that cannot be partly sent.
    #[error("`{path}` is denied by {rule} ({severity}): fix it before registering")]
    Blocked {
        path: String,
        rule: String,
        severity: String,
    },
    /// A value the mapping does not register (fail closed).
    #[error("`{path}`: {reason}")]
    Unsupported { path: String, reason: String },
}

/// The RFC 7591 metadata for `manifest` (its exact text, YAML or JSON) as `verdict_json`
/// (the component's canonical verdict of that text) approved it; `software_id` (RFC 7591
/// §2) is the random id the inventory keeps for the app.
pub fn client_metadata(
    manifest: &str,
    verdict_json: &str,
    software_id: &str,
) -> Result<ClientMetadata, MetadataError> {
    let verdict: Verdict = serde_json::from_str(verdict_json).map_err(|e| {
        MetadataError::Invalid(format!("the verdict is not a microvet verdict: {e}"))
    })?;
    if !verdict.decision.is_approved() {
        return Err(MetadataError::NotApproved(
            verdict.decision.as_str().to_owned(),
        ));
    }
    let digest = hex(&Sha256::digest(manifest.as_bytes()));
    if digest != verdict.manifest_sha256 {
        return Err(MetadataError::Invalid(
            "the verdict is not the verdict of this manifest (its manifest_sha256 differs)"
                .to_owned(),
        ));
    }
    let software_id = software_id.trim();
    if software_id.is_empty() || software_id.chars().any(char::is_control) {
        return Err(MetadataError::Invalid(
            "the software_id is empty or has control characters".to_owned(),
        ));
    }
    let root = microvet_core::yaml::parse(manifest, microvet_core::yaml::Limits::MANIFEST)
        .map_err(|e| MetadataError::Invalid(format!("the manifest cannot be read: {}", e.message)))?
        .to_json();
    let Value::Object(root) = root else {
        return Err(MetadataError::Invalid(
            "the manifest is not a mapping".to_owned(),
        ));
    };
    let empty = Map::new();
    let client = match root.get("client") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(c)) => c,
        Some(_) => {
            return Err(unsupported("/client", "is not a mapping"));
        }
    };

    let cx = Cx { verdict: &verdict };
    let mut withheld = Vec::new();
    let mut out = Map::new();

    // client_name: the client's own, else the app's name.
    let (name_path, name) = match client.get("client_name") {
        Some(v) => ("/client/client_name", v),
        None => ("/name", root.get("name").unwrap_or(&Value::Null)),
    };
    cx.single(name_path)?;
    match name {
        Value::String(s) if !s.trim().is_empty() => {
            out.insert("client_name".into(), Value::String(s.clone()));
        }
        _ => return Err(unsupported(name_path, "the app needs a name to register")),
    }

    // application_type (OIDC Registration §2; default `web`).
    cx.single("/client/application_type")?;
    let application_type = match client.get("application_type") {
        None => "web",
        Some(Value::String(s)) if APPLICATION_TYPES.contains(&s.as_str()) => s.as_str(),
        Some(_) => {
            return Err(unsupported(
                "/client/application_type",
                "is not `web` or `native`",
            ));
        }
    };
    out.insert("application_type".into(), application_type.into());

    // grant_types (RFC 7591 §2; default `authorization_code`), minus denied items.
    let grants = match client.get("grant_types") {
        None => vec!["authorization_code".to_owned()],
        Some(_) => cx.list(
            client,
            "/client",
            "grant_types",
            &mut withheld,
            |path, g| {
                if GRANT_TYPES.contains(&g) {
                    Ok(())
                } else {
                    Err(unsupported(
                        path,
                        &format!(
                            "grant type `{g}` is not registered by microvet (only {})",
                            GRANT_TYPES.join(", ")
                        ),
                    ))
                }
            },
        )?,
    };
    if grants.is_empty() {
        return Err(unsupported(
            "/client/grant_types",
            "no approved grant type is left",
        ));
    }
    let code_flow = grants.iter().any(|g| g == "authorization_code");
    // response_types follow the grants (RFC 7591 §2.1): `code` for the code grant, none else.
    let response_types: Vec<Value> = if code_flow {
        vec!["code".into()]
    } else {
        Vec::new()
    };

    // token_endpoint_auth_method (RFC 7591 §2; default `client_secret_basic`).
    cx.single("/client/token_endpoint_auth_method")?;
    let auth_method = match client.get("token_endpoint_auth_method") {
        None => "client_secret_basic",
        Some(Value::String(s)) if AUTH_METHODS.contains(&s.as_str()) => s.as_str(),
        Some(_) => {
            return Err(unsupported(
                "/client/token_endpoint_auth_method",
                "is not a registered client authentication method",
            ));
        }
    };

    // redirect_uris, minus denied items; the code flow needs one.
    let redirect_uris = match client.get("redirect_uris") {
        None => Vec::new(),
        Some(_) => cx.list(client, "/client", "redirect_uris", &mut withheld, no_check)?,
    };
    if code_flow && redirect_uris.is_empty() {
        let declared = client
            .get("redirect_uris")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        return Err(unsupported(
            "/client/redirect_uris",
            if declared {
                "the code flow needs an approved redirect URI and none is left"
            } else {
                "the manifest registers no redirect URI and the code flow needs one \
                 (add `client.redirect_uris`)"
            },
        ));
    }

    // scope (RFC 7591 §2: space-separated), minus denied items. Never empty: an IdP may
    // read a client without `scope` as allowed every scope.
    let scopes = match root.get("oauth_scopes") {
        None => Vec::new(),
        Some(_) => cx.list(&root, "", "oauth_scopes", &mut withheld, |path, s| {
            if is_scope_token(s) {
                Ok(())
            } else {
                Err(unsupported(path, "is not an RFC 6749 §3.3 scope token"))
            }
        })?,
    };
    if scopes.is_empty() {
        return Err(unsupported(
            "/oauth_scopes",
            "no approved scope is left to register",
        ));
    }

    out.insert(
        "grant_types".into(),
        Value::Array(grants.into_iter().map(Value::String).collect()),
    );
    out.insert("response_types".into(), Value::Array(response_types));
    out.insert("token_endpoint_auth_method".into(), auth_method.into());
    if !redirect_uris.is_empty() {
        out.insert(
            "redirect_uris".into(),
            Value::Array(redirect_uris.into_iter().map(Value::String).collect()),
        );
    }
    out.insert("scope".into(), Value::String(scopes.join(" ")));

    // OIDC RP-Initiated Logout §3.1, minus denied items.
    if client.contains_key("post_logout_redirect_uris") {
        let uris = cx.list(
            client,
            "/client",
            "post_logout_redirect_uris",
            &mut withheld,
            no_check,
        )?;
        if !uris.is_empty() {
            out.insert(
                "post_logout_redirect_uris".into(),
                Value::Array(uris.into_iter().map(Value::String).collect()),
            );
        }
    }

    // Keys for private_key_jwt (RFC 7591 §2): a URL, or public keys only.
    if let Some(v) = client.get("jwks_uri") {
        cx.single("/client/jwks_uri")?;
        let Value::String(uri) = v else {
            return Err(unsupported("/client/jwks_uri", "is not a string"));
        };
        out.insert("jwks_uri".into(), Value::String(uri.clone()));
    }
    if let Some(jwks) = client.get("jwks") {
        cx.single("/client/jwks")?;
        check_public_jwks(jwks)?;
        out.insert("jwks".into(), jwks.clone());
    }

    // JOSE algorithms and sender-constrained tokens, as vetted.
    for field in microvet_core::manifest::ALG_FIELDS {
        if let Some(v) = client.get(*field) {
            let path = format!("/client/{field}");
            cx.single(&path)?;
            let Value::String(alg) = v else {
                return Err(unsupported(&path, "is not a string"));
            };
            out.insert((*field).to_owned(), Value::String(alg.clone()));
        }
    }
    for field in [
        "dpop_bound_access_tokens",
        "tls_client_certificate_bound_access_tokens",
    ] {
        if let Some(v) = client.get(field) {
            let path = format!("/client/{field}");
            cx.single(&path)?;
            let Value::Bool(b) = v else {
                return Err(unsupported(&path, "is not a boolean"));
            };
            out.insert(field.to_owned(), Value::Bool(*b));
        }
    }

    out.insert("software_id".into(), Value::String(software_id.to_owned()));
    Ok(ClientMetadata {
        metadata: Value::Object(out),
        withheld,
    })
}

fn no_check(_: &str, _: &str) -> Result<(), MetadataError> {
    Ok(())
}

fn unsupported(path: &str, reason: &str) -> MetadataError {
    MetadataError::Unsupported {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// An inline JWK Set is sent only with public keys (RFC 7517 §5; RFC 7518 §6).
fn check_public_jwks(jwks: &Value) -> Result<(), MetadataError> {
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| unsupported("/client/jwks", "is not a JWK Set (`keys`: a list)"))?;
    for (i, key) in keys.iter().enumerate() {
        let Value::Object(members) = key else {
            return Err(unsupported(
                &format!("/client/jwks/keys/{i}"),
                "is not a JWK",
            ));
        };
        if let Some(private) = microvet_core::manifest::PRIVATE_JWK_MEMBERS
            .iter()
            .find(|m| members.contains_key(**m))
        {
            return Err(unsupported(
                &format!("/client/jwks/keys/{i}/{private}"),
                "private key material is never registered",
            ));
        }
    }
    Ok(())
}

struct Cx<'a> {
    verdict: &'a Verdict,
}

impl Cx<'_> {
    /// The first denying finding at `path` or inside it.
    fn denied_at(&self, path: &str) -> Option<&crate::types::Finding> {
        self.verdict.findings.iter().find(|f| {
            f.severity >= DENIES
                && (f.path == path
                    || f.path
                        .strip_prefix(path)
                        .is_some_and(|rest| rest.starts_with('/')))
        })
    }

    /// The first denying finding at an ancestor of `path` (not the document itself).
    fn denied_above(&self, path: &str) -> Option<&crate::types::Finding> {
        self.verdict.findings.iter().find(|f| {
            f.severity >= DENIES
                && !f.path.is_empty()
                && path
                    .strip_prefix(f.path.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }

    fn blocked(f: &crate::types::Finding) -> MetadataError {
        MetadataError::Blocked {
            path: f.path.clone(),
            rule: f.rule.clone(),
            severity: f.severity.as_str().to_owned(),
        }
    }

    /// A field sent whole or not at all: any denying finding at, in or above it blocks.
    fn single(&self, path: &str) -> Result<(), MetadataError> {
        match self.denied_at(path).or_else(|| self.denied_above(path)) {
            Some(f) => Err(Self::blocked(f)),
            None => Ok(()),
        }
    }

    /// A list of strings at `parent_path/key`: items with a denying finding are withheld
    /// (recorded), the others checked by `check` and deduplicated in order. A denying
    /// finding at the list itself or above it blocks.
    fn list(
        &self,
        parent: &Map<String, Value>,
        parent_path: &str,
        key: &str,
        withheld: &mut Vec<Withheld>,
        check: impl Fn(&str, &str) -> Result<(), MetadataError>,
    ) -> Result<Vec<String>, MetadataError> {
        let path = format!("{parent_path}/{key}");
        if let Some(f) = self
            .verdict
            .findings
            .iter()
            .find(|f| f.severity >= DENIES && f.path == path)
            .or_else(|| self.denied_above(&path))
        {
            return Err(Self::blocked(f));
        }
        let items = match parent.get(key) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(unsupported(&path, "is not a list")),
        };
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}/{i}");
            if let Some(f) = self.denied_at(&item_path) {
                withheld.push(Withheld {
                    path: item_path,
                    value: match item {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                    rule: f.rule.clone(),
                });
                continue;
            }
            let Value::String(s) = item else {
                return Err(unsupported(&item_path, "is not a string"));
            };
            check(&item_path, s)?;
            if seen.insert(s.as_str()) {
                out.push(s.clone());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]
    use super::*;
    use serde_json::json;

    fn verdict(manifest: &str, decision: &str, findings: Value) -> String {
        json!({
            "decision": decision,
            "risk": {"score": 10, "tier": "low", "factors": []},
            "findings": findings,
            "controls": [],
            "manifest_sha256": hex(&Sha256::digest(manifest.as_bytes())),
            "policy_sha256": "0".repeat(64),
            "engine": "microvet 0.1.0",
        })
        .to_string()
    }

    fn finding(rule: &str, severity: &str, path: &str) -> Value {
        json!({"rule": rule, "severity": severity, "path": path, "message": "m"})
    }

    const APP: &str = "name: hr-helper
owner: hr@example.com
oauth_scopes: [openid, profile, hr.read_only, profile]
client:
  token_endpoint_auth_method: none
  grant_types: [authorization_code, refresh_token]
  response_types: [code, token]
  redirect_uris: [https://apps.example.com/cb, https://apps.example.com/cb2]
  code_challenge_method: S256
  client_secret: do-not-send-me
  client_id: nor-me
  refresh_token_ttl_days: 30
";

    #[test]
    fn sends_the_approved_fields_only() {
        let v = verdict(
            APP,
            "approve",
            json!([finding("MV-OAUTH-015", "info", "/client/grant_types/1")]),
        );
        let out = client_metadata(APP, &v, "sw-1").map(|m| m.metadata);
        assert_eq!(
            out,
            Ok(json!({
                "client_name": "hr-helper",
                "application_type": "web",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
                "redirect_uris": ["https://apps.example.com/cb", "https://apps.example.com/cb2"],
                "scope": "openid profile hr.read_only",
                "software_id": "sw-1",
            }))
        );
    }

    #[test]
    fn withholds_items_a_finding_denies() {
        let v = verdict(
            APP,
            "approve-with-controls",
            json!([
                finding("MV-SCOPE-002", "medium", "/oauth_scopes/2"),
                finding("MV-OAUTH-023", "medium", "/client/redirect_uris/1"),
                finding("MV-SCOPE-007", "low", "/oauth_scopes/1"),
            ]),
        );
        let out = client_metadata(APP, &v, "sw-1");
        let Ok(out) = out else {
            panic!("{out:?}");
        };
        assert_eq!(out.metadata["scope"], "openid profile");
        assert_eq!(
            out.metadata["redirect_uris"],
            json!(["https://apps.example.com/cb"])
        );
        assert_eq!(
            out.withheld,
            vec![
                Withheld {
                    path: "/client/redirect_uris/1".into(),
                    value: "https://apps.example.com/cb2".into(),
                    rule: "MV-OAUTH-023".into()
                },
                Withheld {
                    path: "/oauth_scopes/2".into(),
                    value: "hr.read_only".into(),
                    rule: "MV-SCOPE-002".into()
                },
            ]
        );
    }

    #[test]
    fn refuses_what_is_not_approved_or_not_this_manifest() {
        for decision in ["remediate", "reject"] {
            let v = verdict(APP, decision, json!([]));
            assert_eq!(
                client_metadata(APP, &v, "sw"),
                Err(MetadataError::NotApproved(decision.into()))
            );
        }
        let other = verdict("name: other\n", "approve", json!([]));
        assert!(matches!(
            client_metadata(APP, &other, "sw"),
            Err(MetadataError::Invalid(m)) if m.contains("manifest_sha256")
        ));
        assert!(matches!(
            client_metadata(APP, "{\"decision\": \"approve\"}", "sw"),
            Err(MetadataError::Invalid(_))
        ));
        let v = verdict(APP, "approve", json!([]));
        assert!(matches!(
            client_metadata(APP, &v, " "),
            Err(MetadataError::Invalid(_))
        ));
    }

    #[test]
    fn blocks_fields_that_cannot_be_partly_sent() {
        for (path, rule) in [
            ("/client/token_endpoint_auth_method", "MV-OAUTH-011"),
            ("/client/redirect_uris", "MV-OAUTH-029"),
            ("/client", "MV-OAUTH-003"),
            ("/oauth_scopes", "MV-SCOPE-099"),
        ] {
            let v = verdict(
                APP,
                "approve-with-controls",
                json!([finding(rule, "medium", path)]),
            );
            assert_eq!(
                client_metadata(APP, &v, "sw"),
                Err(MetadataError::Blocked {
                    path: path.into(),
                    rule: rule.into(),
                    severity: "medium".into()
                }),
                "{path}"
            );
        }
        // A low finding at the same place does not.
        let v = verdict(
            APP,
            "approve",
            json!([finding("MV-OAUTH-027", "low", "/client/redirect_uris")]),
        );
        assert!(client_metadata(APP, &v, "sw").is_ok());
    }

    #[test]
    fn nothing_left_is_an_error_never_an_open_client() {
        let v = verdict(
            APP,
            "approve-with-controls",
            json!([
                finding("MV-SCOPE-004", "medium", "/oauth_scopes/0"),
                finding("MV-SCOPE-004", "medium", "/oauth_scopes/1"),
                finding("MV-SCOPE-004", "medium", "/oauth_scopes/2"),
                finding("MV-SCOPE-004", "medium", "/oauth_scopes/3"),
            ]),
        );
        assert!(matches!(
            client_metadata(APP, &v, "sw"),
            Err(MetadataError::Unsupported { path, .. }) if path == "/oauth_scopes"
        ));
        let v = verdict(
            APP,
            "approve-with-controls",
            json!([
                finding("MV-OAUTH-023", "medium", "/client/redirect_uris/0"),
                finding("MV-OAUTH-023", "medium", "/client/redirect_uris/1"),
            ]),
        );
        assert!(matches!(
            client_metadata(APP, &v, "sw"),
            Err(MetadataError::Unsupported { path, .. }) if path == "/client/redirect_uris"
        ));
        let no_scopes = "name: x\nclient:\n  redirect_uris: [https://a.example.com/cb]\n";
        let v = verdict(no_scopes, "approve", json!([]));
        assert!(matches!(
            client_metadata(no_scopes, &v, "sw"),
            Err(MetadataError::Unsupported { path, .. }) if path == "/oauth_scopes"
        ));
    }

    #[test]
    fn fails_closed_on_values_it_does_not_understand() {
        let cases = [
            (
                "grant_types: [authorization_code, implicit]",
                "/client/grant_types/1",
            ),
            ("grant_types: [password]", "/client/grant_types/0"),
            ("grant_types: authorization_code", "/client/grant_types"),
            (
                "grant_types: [authorization_code, 5]",
                "/client/grant_types/1",
            ),
            (
                "token_endpoint_auth_method: magic",
                "/client/token_endpoint_auth_method",
            ),
            ("application_type: desktop", "/client/application_type"),
            (
                "jwks: {keys: [{kty: oct, k: c2VjcmV0}]}",
                "/client/jwks/keys/0/k",
            ),
        ];
        for (line, path) in cases {
            let m = format!(
                "name: x\noauth_scopes: [openid]\nclient:\n  redirect_uris: [https://a.example.com/cb]\n  {line}\n"
            );
            let v = verdict(&m, "approve", json!([]));
            assert!(
                matches!(client_metadata(&m, &v, "sw"), Err(MetadataError::Unsupported { path: p, .. }) if p == path),
                "{line}: {:?}",
                client_metadata(&m, &v, "sw")
            );
        }
        // A scope with a space would be two scopes at the IdP.
        let m = "name: x\noauth_scopes: [\"openid admin\"]\nclient:\n  redirect_uris: [https://a.example.com/cb]\n";
        let v = verdict(m, "approve", json!([]));
        assert!(matches!(
            client_metadata(m, &v, "sw"),
            Err(MetadataError::Unsupported { path, .. }) if path == "/oauth_scopes/0"
        ));
        // The component's loader refuses what it refuses (a merge key here).
        let m = "name: x\nbase: &b {oauth_scopes: [admin]}\n<<: *b\n";
        let v = verdict(m, "approve", json!([]));
        assert!(matches!(
            client_metadata(m, &v, "sw"),
            Err(MetadataError::Invalid(_))
        ));
    }

    #[test]
    fn defaults_are_explicit_and_client_credentials_has_no_response_type() {
        let m = "name: batch\noauth_scopes: [tickets.read]\nclient:\n  grant_types: [client_credentials]\n  token_endpoint_auth_method: private_key_jwt\n  jwks_uri: https://batch.example.com/jwks\n";
        let v = verdict(m, "approve", json!([]));
        let out = client_metadata(m, &v, "sw").map(|m| m.metadata);
        assert_eq!(
            out,
            Ok(json!({
                "client_name": "batch",
                "application_type": "web",
                "grant_types": ["client_credentials"],
                "response_types": [],
                "token_endpoint_auth_method": "private_key_jwt",
                "scope": "tickets.read",
                "jwks_uri": "https://batch.example.com/jwks",
                "software_id": "sw",
            }))
        );
        let m = "name: web\noauth_scopes: [openid]\nclient:\n  redirect_uris: [https://a.example.com/cb]\n";
        let v = verdict(m, "approve", json!([]));
        let out = client_metadata(m, &v, "sw").map(|m| m.metadata);
        assert!(
            matches!(&out, Ok(o) if o["grant_types"] == json!(["authorization_code"])
            && o["token_endpoint_auth_method"] == "client_secret_basic"
            && o["response_types"] == json!(["code"])),
            "{out:?}"
        );
    }
}
