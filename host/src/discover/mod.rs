//! Discovery: vet every OAuth client an identity provider already has, and label it
//! (`approved`, `drifted`, `unvetted`, `built-in`, plus `ownerless`) against the approved
//! manifests and the inventory. See docs/DISCOVERY.md.
//!
//! Each export format has one module that maps a client of the IdP's own export to RFC
//! 7591 client metadata, the DCR-kind input the component vets
//! ([`crate::Vetter::vet_kind`] with [`crate::InputKind::Dcr`]): [`keycloak`] (realm
//! export), [`rfc7591`] (RFC 7591 §3.2.1 / RFC 7592 §3 client information), [`okta`]
//! (`GET /api/v1/apps`), [`entra`] (Microsoft Graph `GET /applications`). A field the
//! mapping cannot express is reported with the client ([`Unmapped`]), never dropped.
//!
//! Secrets: every client is scrubbed with the component's own secret detection
//! ([`microvet_core::scrub_secrets`]) the moment it is read, before it is mapped, vetted or
//! written anywhere; only the number of secrets removed is kept.
//!
//! [`label`] matches clients to approved manifests, [`drift`] lists how a live client
//! differs from its approved manifest, [`report`] vets the clients one at a time and writes
//! the text, JSON, SARIF or CSV report.

pub mod drift;
pub mod entra;
pub mod keycloak;
pub mod label;
pub mod okta;
pub mod report;
pub mod rfc7591;

use serde::Serialize;
use serde_json::{Map, Value};

/// The largest export read (bytes): [`DEFAULT_MAX_EXPORT_BYTES`].
pub const DEFAULT_MAX_EXPORT_BYTES: usize = 256 << 20;

/// The most clients one run reads (all files together).
pub const MAX_CLIENTS: usize = 100_000;

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A Keycloak realm export (`clients[]`), or the admin API's client list (an array).
    Keycloak,
    /// RFC 7591 §3.2.1 / RFC 7592 §3 client information: one object or an array.
    Rfc7591,
    /// Okta `GET /api/v1/apps`: an array of apps.
    Okta,
    /// Microsoft Graph `GET /applications`: `{"value": [...]}` (or a bare array).
    Entra,
}

impl Format {
    pub const ALL: [Format; 4] = [
        Format::Keycloak,
        Format::Rfc7591,
        Format::Okta,
        Format::Entra,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Keycloak => "keycloak",
            Format::Rfc7591 => "rfc7591",
            Format::Okta => "okta",
            Format::Entra => "entra",
        }
    }

    /// What an export of the format is, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Keycloak => "a Keycloak realm export",
            Format::Rfc7591 => "RFC 7591 client information",
            Format::Okta => "an Okta apps list",
            Format::Entra => "a Microsoft Graph applications list",
        }
    }

    /// `keycloak`, `rfc7591` (or `rfc7592`, `dcr`), `okta`, `entra` (or `azure`, `graph`).
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "keycloak" => Some(Format::Keycloak),
            "rfc7591" | "rfc7592" | "dcr" => Some(Format::Rfc7591),
            "okta" => Some(Format::Okta),
            "entra" | "azure" | "graph" => Some(Format::Entra),
            _ => None,
        }
    }
}

/// A field of a client that the mapping to RFC 7591 metadata cannot express: reported
/// with the client, so that nothing the IdP grants is silently left out of the vet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmapped {
    /// The field, as a path in the IdP's export (`webOrigins`, `attributes.saml.signature.algorithm`).
    pub field: String,
    /// What it means and why it is not vetted.
    pub note: String,
}

/// One client read from an export, already scrubbed of secrets.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// The export file (or `request` over HTTP).
    pub source: String,
    /// The client's position in the export (0-based).
    pub index: usize,
    /// The OAuth `client_id`.
    pub client_id: String,
    /// The display name, if the IdP has one.
    pub name: Option<String>,
    /// The RFC 7591 client metadata that is vetted (a DCR-kind input).
    pub metadata: Map<String, Value>,
    /// Owners recorded at the IdP (owner fields, `contacts`).
    pub owners: Vec<String>,
    /// An IdP built-in client (Keycloak's `admin-cli`, ...).
    pub builtin: bool,
    /// `false` when the IdP has the client disabled.
    pub enabled: bool,
    /// Fields the mapping cannot express.
    pub unmapped: Vec<Unmapped>,
    /// How many secrets were removed from the client at import.
    pub secrets_redacted: usize,
    /// Compared settings ([`drift`]) the export's format cannot express for this client
    /// (each also in `unmapped`): never a difference from the approval.
    pub not_compared: Vec<&'static str>,
}

impl Discovered {
    /// The metadata as the JSON text that is vetted.
    pub fn dcr_json(&self) -> String {
        Value::Object(self.metadata.clone()).to_string()
    }
}

/// A client of an export that could not be read: the others are still reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientError {
    pub source: String,
    pub index: usize,
    /// The client's id or name where the export has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The field at fault (a path in the export).
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.client {
            Some(c) => write!(
                f,
                "{}: client {} (`{}`): `{}`: {}",
                self.source, self.index, c, self.field, self.message
            ),
            None => write!(
                f,
                "{}: client {}: `{}`: {}",
                self.source, self.index, self.field, self.message
            ),
        }
    }
}

/// A whole export that could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExportError {
    /// Not JSON (truncated, ...): where the parser stopped.
    #[error("{source_name}: not valid JSON at line {line}, column {column}: {message}")]
    Json {
        source_name: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// JSON, but not the shape of the format given (with a hint of the right one).
    #[error("{source_name}: {message}")]
    Shape {
        source_name: String,
        message: String,
    },
    /// Over [`DEFAULT_MAX_EXPORT_BYTES`] or [`MAX_CLIENTS`].
    #[error("{source_name}: {message}")]
    Limit {
        source_name: String,
        message: String,
    },
}

/// What one export holds.
#[derive(Debug, Default)]
pub struct Export {
    pub clients: Vec<Discovered>,
    pub errors: Vec<ClientError>,
    /// Entries that are not OAuth clients (an Okta SAML app, ...), with why.
    pub skipped: Vec<ClientError>,
}

/// Read an export of `format`. `source` names it in every message.
///
/// # Errors
/// [`ExportError`] when the text is not JSON or not the format's shape; a client that
/// cannot be read is a [`ClientError`] in [`Export::errors`] instead.
pub fn read_export(format: Format, source: &str, text: &str) -> Result<Export, ExportError> {
    if text.len() > DEFAULT_MAX_EXPORT_BYTES {
        return Err(ExportError::Limit {
            source_name: source.to_owned(),
            message: format!(
                "the export is {} bytes, over the limit of {} bytes",
                text.len(),
                DEFAULT_MAX_EXPORT_BYTES
            ),
        });
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let doc: Value = serde_json::from_str(text).map_err(|e| ExportError::Json {
        source_name: source.to_owned(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let items = match format {
        Format::Keycloak => keycloak::clients(doc),
        Format::Rfc7591 => rfc7591::clients(doc),
        Format::Okta => okta::clients(doc),
        Format::Entra => entra::clients(doc),
    }
    .map_err(|message| ExportError::Shape {
        source_name: source.to_owned(),
        message: format!("{message}{}", hint(format, text)),
    })?;
    if items.len() > MAX_CLIENTS {
        return Err(ExportError::Limit {
            source_name: source.to_owned(),
            message: format!(
                "the export has {} clients, over the limit of {MAX_CLIENTS}",
                items.len()
            ),
        });
    }
    let total = items.len();
    let mut export = Export::default();
    for (index, mut raw) in items.into_iter().enumerate() {
        let id_hint = format_id(format, &raw);
        // Secrets go first: nothing below (mapping, messages, vet, outputs) sees them.
        let had_secret = format_has_secret(format, &raw);
        let pre = match format {
            Format::Entra => entra::pre_scrub(&mut raw),
            Format::Okta => okta::pre_scrub(&mut raw),
            _ => 0,
        };
        let secrets_redacted = match microvet_core::scrub_secrets(&mut raw) {
            Ok(n) => n.saturating_add(pre),
            Err(e) => {
                export.errors.push(ClientError {
                    source: source.to_owned(),
                    index,
                    client: id_hint.map(|s| redact_label(&s)),
                    field: String::new(),
                    message: format!(
                        "the client cannot be scanned for secrets, so it is not reported: {}",
                        e.message
                    ),
                });
                continue;
            }
        };
        let read = match format {
            Format::Keycloak => keycloak::map(&raw, had_secret),
            Format::Rfc7591 => rfc7591::map(&raw),
            Format::Okta => okta::map(&raw),
            Format::Entra => entra::map(&raw),
        };
        match read {
            Mapped::Client(c) => export.clients.push(Discovered {
                source: source.to_owned(),
                index,
                secrets_redacted,
                ..*c
            }),
            Mapped::Error {
                client,
                field,
                message,
            } => export.errors.push(ClientError {
                source: source.to_owned(),
                index,
                client,
                field,
                message,
            }),
            Mapped::Skipped {
                client,
                field,
                message,
            } => export.skipped.push(ClientError {
                source: source.to_owned(),
                index,
                client,
                field,
                message,
            }),
        }
    }
    // Not one entry is a client of this format, and the text looks like another one: the
    // flag is wrong, not every client.
    let wrong = hint(format, text);
    if total > 0 && export.errors.len() == total && !wrong.is_empty() {
        return Err(ExportError::Shape {
            source_name: source.to_owned(),
            message: format!(
                "none of the {total} entries is a `{}` client{wrong}",
                format.as_str()
            ),
        });
    }
    Ok(export)
}

/// A client's id or name for a message about a client that failed before mapping.
fn format_id(format: Format, raw: &Value) -> Option<String> {
    let keys: &[&str] = match format {
        Format::Keycloak => &["clientId", "name"],
        Format::Rfc7591 => &["client_id", "client_name"],
        Format::Okta => &["label", "id"],
        Format::Entra => &["appId", "displayName"],
    };
    keys.iter()
        .find_map(|k| raw.get(*k).and_then(Value::as_str))
        .map(str::to_owned)
}

/// Whether the IdP holds a shared secret for the client (read before the scrub removes
/// it; only the fact is kept).
fn format_has_secret(format: Format, raw: &Value) -> bool {
    match format {
        Format::Keycloak => raw
            .get("secret")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty()),
        _ => false,
    }
}

/// A name taken from the export before the scrub: shown only when it holds no secret.
fn redact_label(s: &str) -> String {
    let mut v = Value::String(s.to_owned());
    match microvet_core::scrub_secrets(&mut v) {
        Ok(_) => v.as_str().map(str::to_owned).unwrap_or_default(),
        Err(_) => "[REDACTED]".to_owned(),
    }
}

/// What a format module made of one client.
pub(crate) enum Mapped {
    Client(Box<Discovered>),
    Error {
        client: Option<String>,
        field: String,
        message: String,
    },
    /// Not an OAuth client: listed, not vetted.
    Skipped {
        client: Option<String>,
        field: String,
        message: String,
    },
}

impl Mapped {
    pub(crate) fn error(client: Option<&str>, field: &str, message: impl Into<String>) -> Mapped {
        Mapped::Error {
            client: client.map(str::to_owned),
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// A new client record with what every format sets; `source`, `index` and
/// `secrets_redacted` are filled in by [`read_export`].
pub(crate) fn discovered(client_id: String, name: Option<String>) -> Discovered {
    Discovered {
        source: String::new(),
        index: 0,
        client_id,
        name,
        metadata: Map::new(),
        owners: Vec::new(),
        builtin: false,
        enabled: true,
        unmapped: Vec::new(),
        secrets_redacted: 0,
        not_compared: Vec::new(),
    }
}

/// The client id of a raw client: a non-empty string, or the error naming the field.
pub(crate) fn required_id<'a>(
    raw: &'a Value,
    field: &str,
    name: Option<&str>,
) -> Result<&'a str, Mapped> {
    match raw.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(Mapped::error(name, field, "the client id is empty")),
        Some(other) => Err(Mapped::error(
            name,
            field,
            format!(
                "the client id should be a string, found {}",
                type_name(other)
            ),
        )),
        None => Err(Mapped::error(name, field, "the client has no id")),
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The list of items of a document: the array at `key` of an object, or the document
/// itself when it is an array.
pub(crate) fn list_at(doc: Value, key: &str, what: &str) -> Result<Vec<Value>, String> {
    match doc {
        Value::Array(items) => Ok(items),
        Value::Object(mut o) => match o.remove(key) {
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(format!(
                "`{key}` should be a list of {what}, found {}",
                type_name(&other)
            )),
            None => Err(format!("no `{key}` list of {what}")),
        },
        other => Err(format!(
            "expected an object with `{key}` or a list of {what}, found {}",
            type_name(&other)
        )),
    }
}

/// When an export of one format is given with `--from` another: which it looks like.
fn hint(given: Format, text: &str) -> String {
    let looks = if text.contains("\"clientId\"") {
        Some(Format::Keycloak)
    } else if text.contains("\"appId\"") || text.contains("\"@odata.context\"") {
        Some(Format::Entra)
    } else if text.contains("\"signOnMode\"") {
        Some(Format::Okta)
    } else if text.contains("\"client_id\"") {
        Some(Format::Rfc7591)
    } else {
        None
    };
    match looks {
        Some(f) if f != given => format!(
            "; it looks like {}: try `--from {}`",
            f.describe(),
            f.as_str()
        ),
        _ => String::new(),
    }
}

/// Strings of a JSON list (others are reported by the caller through `bad`).
pub(crate) fn strings(v: Option<&Value>) -> Result<Vec<String>, &'static str> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                _ => Err("a list of strings"),
            })
            .collect(),
        Some(_) => Err("a list of strings"),
    }
}

/// Push `value` into `list` unless it is there.
pub(crate) fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_owned());
    }
}

/// `Value::Array` of strings.
pub(crate) fn string_list(list: &[String]) -> Value {
    Value::Array(list.iter().cloned().map(Value::String).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn truncated_json_names_where_it_stopped() {
        let e = read_export(
            Format::Keycloak,
            "realm.json",
            "{\"clients\": [{\"clientId\": \"a\"",
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("realm.json: not valid JSON at line 1"),
            "{msg}"
        );
    }

    #[test]
    fn wrong_format_flag_says_which_format_it_looks_like() {
        let okta = r#"[{"id":"0oa1","label":"x","signOnMode":"OPENID_CONNECT"}]"#;
        // A bare list is an Entra shape too, but none of its items has an `appId`.
        let e = read_export(Format::Entra, "apps.json", okta).unwrap_err();
        assert!(e.to_string().contains("none of the 1 entries is a `entra` client; it looks like an Okta apps list: try `--from okta`"), "{e}");
        let e = read_export(
            Format::Keycloak,
            "apps.json",
            r#"{"value":[{"appId":"1"}]}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("try `--from entra`"), "{e}");
        // One bad client among good ones is that client's error, not the flag's.
        let kc = r#"{"clients":[{"clientId":"a"},{"name":"b"}]}"#;
        let export = read_export(Format::Keycloak, "realm.json", kc).unwrap();
        assert_eq!(export.clients.len(), 1);
        assert_eq!(export.errors.len(), 1);
    }
}
