//! Okta: the Apps API's list (`GET /api/v1/apps`, an array of Application objects). OpenID
//! Connect apps (`signOnMode: OPENID_CONNECT`) are OAuth clients: `credentials.oauthClient`
//! and `settings.oauthClient` hold their RFC 7591 metadata under the same names. Other
//! sign-on modes (SAML, bookmarks, ...) are listed as skipped.

use serde_json::{Map, Value};

use super::{Mapped, Unmapped, discovered, string_list};

/// Top-level members that say nothing about what the client may obtain.
const INFORMATIONAL: &[&str] = &[
    "id",
    "name",
    "label",
    "status",
    "created",
    "lastUpdated",
    "signOnMode",
    "accessibility",
    "visibility",
    "features",
    "licensing",
    "profile",
    "orn",
    "universalLogout",
    "_links",
    "_embedded",
    "credentials",
    "settings",
    KEPT,
];

/// `settings.oauthClient` members copied as they are (RFC 7591 names).
const COPIED: &[&str] = &[
    "redirect_uris",
    "post_logout_redirect_uris",
    "response_types",
    "grant_types",
    "application_type",
    "initiate_login_uri",
    "jwks",
    "jwks_uri",
    "dpop_bound_access_tokens",
];

/// `settings.oauthClient` members that grant nothing.
const SETTINGS_INFORMATIONAL: &[&str] = &["client_uri", "logo_uri", "tos_uri", "policy_uri"];

pub(crate) fn clients(doc: Value) -> Result<Vec<Value>, String> {
    match doc {
        Value::Array(items) => Ok(items),
        Value::Object(o) if o.contains_key("signOnMode") => Ok(vec![Value::Object(o)]),
        other => Err(format!(
            "expected the list of `GET /api/v1/apps` (an array of apps), found {}",
            super::type_name(&other)
        )),
    }
}

/// Where [`pre_scrub`] keeps what `map` needs of `credentials.oauthClient`: the secret scan
/// removes `credentials` whole (its name says it holds secrets).
const KEPT: &str = "@microvet.credentials.oauthClient";

/// Before the secret scan: keep `client_id`, `token_endpoint_auth_method` and
/// `pkce_required` of `credentials.oauthClient`, drop its `client_secret`. Returns the
/// number of secrets dropped.
pub(crate) fn pre_scrub(raw: &mut Value) -> usize {
    let Some(obj) = raw.as_object_mut() else {
        return 0;
    };
    let oauth = obj
        .get("credentials")
        .and_then(|c| c.get("oauthClient"))
        .and_then(Value::as_object);
    let Some(oauth) = oauth else {
        return 0;
    };
    let dropped = usize::from(oauth.get("client_secret").is_some_and(|v| !v.is_null()));
    let mut kept = Map::new();
    for k in ["client_id", "token_endpoint_auth_method", "pkce_required"] {
        if let Some(v) = oauth.get(k) {
            kept.insert(k.to_owned(), v.clone());
        }
    }
    obj.insert(KEPT.to_owned(), Value::Object(kept));
    dropped
}

fn object(v: Option<&Value>) -> Option<&Map<String, Value>> {
    v.and_then(Value::as_object)
}

pub(crate) fn map(raw: &Value) -> Mapped {
    let Some(obj) = raw.as_object() else {
        return Mapped::error(
            None,
            "",
            format!(
                "an app should be an object, found {}",
                super::type_name(raw)
            ),
        );
    };
    let label = obj.get("label").and_then(Value::as_str).map(str::to_owned);
    let mode = obj.get("signOnMode").and_then(Value::as_str).unwrap_or("");
    if mode != "OPENID_CONNECT" {
        return Mapped::Skipped {
            client: label.or_else(|| obj.get("id").and_then(Value::as_str).map(str::to_owned)),
            field: "signOnMode".into(),
            message: format!("`{mode}` is not an OAuth client (only OPENID_CONNECT apps are)"),
        };
    }
    let creds = object(obj.get(KEPT));
    let settings = object(obj.get("settings")).and_then(|s| object(s.get("oauthClient")));
    let Some(settings) = settings else {
        return Mapped::error(
            label.as_deref(),
            "settings.oauthClient",
            "an OpenID Connect app without `settings.oauthClient`",
        );
    };
    let id = creds.and_then(|c| c.get("client_id"));
    let client_id = match id {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(other) if !other.is_null() => {
            return Mapped::error(
                label.as_deref(),
                "credentials.oauthClient.client_id",
                format!("should be a string, found {}", super::type_name(other)),
            );
        }
        _ => {
            return Mapped::error(
                label.as_deref(),
                "credentials.oauthClient.client_id",
                "the app has no client id",
            );
        }
    };
    let mut c = discovered(client_id.clone(), label.clone());
    c.enabled = obj.get("status").and_then(Value::as_str) != Some("INACTIVE");
    c.metadata
        .insert("client_id".into(), Value::String(client_id));
    if let Some(l) = &label {
        c.metadata
            .insert("client_name".into(), Value::String(l.clone()));
    }
    for (k, v) in settings {
        if COPIED.contains(&k.as_str()) {
            c.metadata.insert(k.clone(), v.clone());
        } else if SETTINGS_INFORMATIONAL.contains(&k.as_str()) {
        } else {
            let note = match (k.as_str(), v.as_str()) {
                ("wildcard_redirect", Some(w)) if w != "DISABLED" => format!(
                    "wildcard redirect URIs are allowed (`{w}`): a `*` in a redirect URI matches any subdomain"
                ),
                ("wildcard_redirect", _) => continue,
                ("consent_method", _) => "how users consent: not client metadata".to_owned(),
                _ => "an Okta setting with no RFC 7591 counterpart: not vetted".to_owned(),
            };
            c.unmapped.push(Unmapped {
                field: format!("settings.oauthClient.{k}"),
                note,
            });
        }
    }
    if let Some(creds) = creds {
        if let Some(m) = creds.get("token_endpoint_auth_method") {
            c.metadata
                .insert("token_endpoint_auth_method".into(), m.clone());
        }
        if creds.get("pkce_required").and_then(Value::as_bool) == Some(true) {
            c.metadata
                .insert("code_challenge_method".into(), Value::String("S256".into()));
        }
    }
    for k in obj.keys() {
        if !INFORMATIONAL.contains(&k.as_str()) {
            c.unmapped.push(Unmapped {
                field: k.clone(),
                note: "an Okta app member with no RFC 7591 counterpart: not vetted".into(),
            });
        }
    }
    c.unmapped.push(Unmapped {
        field: "scopes".into(),
        note: "the scopes an Okta app is granted are not in the app object (`/api/v1/apps/{id}/grants`): not vetted".into(),
    });
    c.unmapped.sort_by(|a, b| a.field.cmp(&b.field));
    if !c.metadata.contains_key("grant_types") {
        c.metadata.insert(
            "grant_types".into(),
            string_list(&["authorization_code".to_owned()]),
        );
    }
    Mapped::Client(Box::new(c))
}
