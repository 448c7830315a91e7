//! RFC 7591 §3.2.1 client information responses and RFC 7592 §3 read responses (one
//! object per file, or an array of them): also what oidc-provider, Curity, Authlete and
//! most standards-based IdPs return. Members are vetted as they are; the
//! registration-management members (RFC 7592) and the secret (redacted) are not metadata.

use serde_json::Value;

use super::{Mapped, Unmapped, discovered, required_id};

/// Members the component reads from a DCR-kind input (docs/DISCOVERY.md).
pub const VETTED: &[&str] = &[
    "client_id",
    "client_name",
    "scope",
    "contacts",
    "redirect_uris",
    "grant_types",
    "response_types",
    "token_endpoint_auth_method",
    "application_type",
    "code_challenge_method",
    "jwks_uri",
    "jwks",
    "post_logout_redirect_uris",
    "request_uris",
    "sector_identifier_uri",
    "initiate_login_uri",
    "response_modes",
    "dpop_bound_access_tokens",
    "tls_client_certificate_bound_access_tokens",
    "refresh_token_rotation",
    "refresh_token_ttl_days",
    "access_token_ttl_minutes",
    "id_token_signed_response_alg",
    "userinfo_signed_response_alg",
    "request_object_signing_alg",
    "token_endpoint_auth_signing_alg",
    "authorization_signed_response_alg",
    "introspection_signed_response_alg",
    "id_token_encrypted_response_alg",
    "userinfo_encrypted_response_alg",
    "request_object_encryption_alg",
    "authorization_encrypted_response_alg",
    "introspection_encrypted_response_alg",
    "software_statement",
];

/// Members that describe the client without granting anything (RFC 7591 §2, §3.2.1;
/// RFC 7592 §3; OIDC Registration §2).
const INFORMATIONAL: &[&str] = &[
    "client_id_issued_at",
    "client_secret_expires_at",
    "registration_client_uri",
    "client_uri",
    "logo_uri",
    "tos_uri",
    "policy_uri",
    "software_id",
    "software_version",
    "subject_type",
    "default_max_age",
    "require_auth_time",
    "default_acr_values",
    "id_token_encrypted_response_enc",
    "userinfo_encrypted_response_enc",
    "request_object_encryption_enc",
    "authorization_encrypted_response_enc",
    "introspection_encrypted_response_enc",
];

pub(crate) fn clients(doc: Value) -> Result<Vec<Value>, String> {
    match doc {
        Value::Array(items) => Ok(items),
        Value::Object(o) if o.contains_key("clients") => {
            super::list_at(Value::Object(o), "clients", "client information documents")
        }
        Value::Object(o) => Ok(vec![Value::Object(o)]),
        other => Err(format!(
            "expected a client information object or a list of them, found {}",
            super::type_name(&other)
        )),
    }
}

/// `client_name` with a language tag (RFC 7591 §2.2) counts as the name when there is no
/// plain one.
fn name_of(obj: &serde_json::Map<String, Value>) -> Option<String> {
    obj.get("client_name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            obj.iter()
                .filter(|(k, _)| k.starts_with("client_name#"))
                .find_map(|(_, v)| v.as_str().map(str::to_owned))
        })
}

pub(crate) fn map(raw: &Value) -> Mapped {
    let Some(obj) = raw.as_object() else {
        return Mapped::error(
            None,
            "",
            format!(
                "a client should be an object, found {}",
                super::type_name(raw)
            ),
        );
    };
    let name = name_of(obj);
    let client_id = match required_id(raw, "client_id", name.as_deref()) {
        Ok(id) => id.to_owned(),
        Err(e) => return e,
    };
    let mut c = discovered(client_id, name);
    for (k, v) in obj {
        let base = k.split('#').next().unwrap_or(k);
        if VETTED.contains(&base) {
            c.metadata.insert(k.clone(), v.clone());
        } else if !INFORMATIONAL.contains(&base) {
            // Kept in the vetted document (RFC 7591 §2 is extensible) and reported.
            c.metadata.insert(k.clone(), v.clone());
            c.unmapped.push(Unmapped {
                field: k.clone(),
                note: "not client metadata microvet reads: not vetted".into(),
            });
        }
    }
    if !obj.contains_key("code_challenge_method") {
        // RFC 7591 has no member for it: an IdP that enforces PKCE does so by its own
        // policy, which a metadata document does not show. Not compared with the approval.
        c.unmapped.push(Unmapped {
            field: "code_challenge_method".into(),
            note: "RFC 7591 client metadata has no PKCE setting (the IdP's policy decides): not compared with the approval".into(),
        });
        c.not_compared.push("code_challenge_method");
    }
    if let Ok(contacts) = super::strings(obj.get("contacts")) {
        c.owners = contacts
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect();
    }
    Mapped::Client(Box::new(c))
}
