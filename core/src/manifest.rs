//! The manifest model (v1): Micro Apps, Macro Risk's fields plus the OAuth client section.
//!
//! Extraction is lenient: the builder UI vets half-written manifests live, so a missing
//! or mistyped field becomes a finding (rules `MV-SCHEMA-*`) and never an error. Only
//! text that is not YAML/JSON, or that breaks the input limits, is an error.

use crate::normalise::{normalise, visible};
use crate::policy::did_you_mean;
use crate::yaml::{Key, Node, Value, escape_token};
use std::borrow::Cow;

/// A value with the pointer and line it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Sp<T> {
    pub value: T,
    pub path: String,
    pub line: u32,
}

/// Access mode of a data_access item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DataAccess {
    pub data_type: Sp<String>,
    pub access: Access,
    pub path: String,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    pub name: Option<Sp<String>>,
    pub vendor: Option<Sp<String>>,
    pub dpa: Option<Sp<bool>>,
    /// Data types the dependency receives.
    pub data: Option<Sp<Vec<Sp<String>>>>,
    pub path: String,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Client {
    pub application_type: Option<Sp<String>>,
    pub token_endpoint_auth_method: Option<Sp<String>>,
    pub grant_types: Option<Sp<Vec<Sp<String>>>>,
    pub response_types: Option<Sp<Vec<Sp<String>>>>,
    pub redirect_uris: Option<Sp<Vec<Sp<String>>>>,
    pub code_challenge_method: Option<Sp<String>>,
    pub refresh_token_rotation: Option<Sp<bool>>,
    pub refresh_token_ttl_days: Option<Sp<i64>>,
    pub access_token_ttl_minutes: Option<Sp<i64>>,
    pub client_secret: Option<Sp<String>>,
    pub client_id: Option<Sp<String>>,
    pub client_name: Option<Sp<String>>,
    pub jwks_uri: Option<Sp<String>>,
    /// The inline `jwks`, as far as it matters here: the private key members of its keys.
    pub jwks: Option<Jwks>,
    /// Other URIs the client registers (OIDC Registration §2, RP-Initiated Logout §3.1).
    pub post_logout_redirect_uris: Option<Sp<Vec<Sp<String>>>>,
    pub request_uris: Option<Sp<Vec<Sp<String>>>>,
    pub sector_identifier_uri: Option<Sp<String>>,
    pub initiate_login_uri: Option<Sp<String>>,
    /// `response_modes` (OAuth 2.0 Multiple Response Type Encoding Practices, JARM).
    pub response_modes: Option<Sp<Vec<Sp<String>>>>,
    /// JOSE algorithm metadata (`*_signed_response_alg`, `*_signing_alg`,
    /// `*_encrypted_response_alg`, `*_encryption_alg`), in [`ALG_FIELDS`] order.
    pub algs: Vec<Sp<String>>,
    /// Sender-constrained tokens: RFC 9449 §5.2, RFC 8705 §3.4.
    pub dpop_bound_access_tokens: Option<Sp<bool>>,
    pub tls_client_certificate_bound_access_tokens: Option<Sp<bool>>,
    pub path: String,
    pub line: u32,
}

/// An inline JWK Set (RFC 7517 §5), reduced to what the rules look at.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Jwks {
    /// Private key members (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`) found in its keys:
    /// the member name at its path (the value is never kept).
    pub private_members: Vec<Sp<String>>,
    pub path: String,
    pub line: u32,
}

/// JWK members that hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2,
/// §6.4.1; RFC 8037 §2).
pub const PRIVATE_JWK_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Client metadata that names a JOSE algorithm (OIDC Registration §2, RFC 7591 §2,
/// JARM §3, RFC 9101 §10.5): signing algorithms first, then key-management (encryption)
/// algorithms.
pub const ALG_FIELDS: &[&str] = &[
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
];

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Instrumentation {
    pub audit_log: Option<Sp<String>>,
    pub contact: Option<Sp<String>>,
    pub path: String,
    pub line: u32,
}

/// A schema problem found while extracting (becomes a `MV-SCHEMA-*` finding).
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaIssue {
    pub kind: SchemaIssueKind,
    pub path: String,
    pub line: u32,
    pub message: String,
    /// The value a machine-applicable fix puts at `path` (JSON Patch `replace`), if any.
    pub fix: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaIssueKind {
    UnknownField,
    /// A value of the wrong type in a field that grants no access (`MV-SCHEMA-002`).
    WrongType,
    /// A field that grants access written in another shape whose meaning is clear: one
    /// string for a list (`oauth_scopes: openid profile`, the RFC 6749 §3.3 form), a list
    /// for DCR's space-separated `scope`, several scopes in one list item. Vetted as what
    /// it says (`MV-SCHEMA-003`).
    AccessShape,
    /// A value of a type that cannot be interpreted in a field that grants access
    /// (`MV-SCHEMA-004`).
    AccessUninterpretable,
    /// A value whose raw form differs from its normal form ([`crate::normalise`]); vetted
    /// in normal form (`MV-SCHEMA-005`).
    NotNormal,
}

/// The fields that grant access: what the app may read or write (`oauth_scopes`, DCR's
/// `scope`, `data_access`), where data goes and who receives it (`external_sinks`,
/// `third_party_deps`), and how the OAuth client gets and sends tokens (the `client`
/// section's grant and response types, redirect and other URIs, authentication and PKCE
/// methods, keys). A value microvet cannot interpret in one of them blocks approval
/// (`MV-SCHEMA-004`, high) instead of being a medium schema finding (`MV-SCHEMA-002`).
/// Names are matched on the path's first key, or its second under `/client`.
pub const ACCESS_FIELDS: &[&str] = &[
    "oauth_scopes",
    "scope",
    "data_access",
    "external_sinks",
    "third_party_deps",
    "grant_types",
    "response_types",
    "redirect_uris",
    "post_logout_redirect_uris",
    "request_uris",
    "initiate_login_uri",
    "sector_identifier_uri",
    "backchannel_logout_uri",
    "frontchannel_logout_uri",
    "token_endpoint_auth_method",
    "code_challenge_method",
    "application_type",
    "jwks_uri",
    "jwks",
    "software_statement",
];

/// The field name a pointer is classified by: its first key, or the second under
/// `/client` (`None` for the `client` section itself).
fn field_of(path: &str) -> Option<&str> {
    let mut segs = path.split('/').skip(1);
    let first = segs.next().unwrap_or("");
    if first == "client" {
        segs.next()
    } else {
        Some(first)
    }
}

/// Whether the value at `path` is in a field that grants access ([`ACCESS_FIELDS`]; the
/// `client` section as a whole too).
pub fn grants_access(path: &str) -> bool {
    field_of(path).is_none_or(|f| ACCESS_FIELDS.contains(&f))
}

/// Fields holding URLs. Their hosts are mapped as browsers map them by [`crate::idn`]
/// (UTS-46: full-width letters mapped, invisible characters refused) and the URL rules
/// judge the rest of the text as written, so they are not normalised here.
const URL_FIELDS: &[&str] = &[
    "external_sinks",
    "redirect_uris",
    "post_logout_redirect_uris",
    "request_uris",
    "initiate_login_uri",
    "sector_identifier_uri",
    "backchannel_logout_uri",
    "frontchannel_logout_uri",
    "jwks_uri",
];

/// Whether the value at `path` is matched against the policy's lists (or the registries'
/// names) and so is vetted in normal form: the fields that grant access (but not their
/// URLs, see [`URL_FIELDS`], nor the free text of `name` and `purpose` inside them), the
/// owner and DCR's `contacts`.
fn matched(path: &str) -> bool {
    match field_of(path) {
        Some("owner" | "contacts") => true,
        Some(f) if URL_FIELDS.contains(&f) => false,
        Some(_) if path.ends_with("/name") || path.ends_with("/purpose") => false,
        _ => grants_access(path),
    }
}

/// Whether a list field holds scope tokens (space-separated when one string).
fn scope_list(key: &str) -> bool {
    key == "oauth_scopes" || key == "scope"
}

/// The manifest, as far as it could be read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Manifest {
    pub name: Option<Sp<String>>,
    pub owner: Option<Sp<String>>,
    pub purpose: Option<Sp<String>>,
    pub data_access: Option<Sp<Vec<DataAccess>>>,
    pub retention_days: Option<Sp<i64>>,
    pub oauth_scopes: Option<Sp<Vec<Sp<String>>>>,
    pub external_sinks: Option<Sp<Vec<Sp<String>>>>,
    pub expiry_days: Option<Sp<i64>>,
    pub third_party_deps: Option<Sp<Vec<Dependency>>>,
    pub client: Option<Client>,
    pub instrumentation: Option<Instrumentation>,
    pub issues: Vec<SchemaIssue>,
}

/// Top-level fields of manifest v1.
pub const FIELDS: &[&str] = &[
    "manifest_version",
    "name",
    "owner",
    "purpose",
    "description",
    "data_access",
    "retention_days",
    "oauth_scopes",
    "external_sinks",
    "expiry_days",
    "third_party_deps",
    "client",
    "instrumentation",
];
const DATA_FIELDS: &[&str] = &["type", "access", "purpose"];
const DEP_FIELDS: &[&str] = &["name", "vendor", "dpa", "data", "purpose"];
/// Fields of the `client` section (RFC 7591 / OIDC registration names).
pub const CLIENT_FIELDS: &[&str] = &[
    "application_type",
    "token_endpoint_auth_method",
    "grant_types",
    "response_types",
    "redirect_uris",
    "code_challenge_method",
    "refresh_token_rotation",
    "refresh_token_ttl_days",
    "access_token_ttl_minutes",
    "client_secret",
    "client_id",
    "client_name",
    "jwks_uri",
    "jwks",
    "post_logout_redirect_uris",
    "request_uris",
    "sector_identifier_uri",
    "initiate_login_uri",
    "response_modes",
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
    "dpop_bound_access_tokens",
    "tls_client_certificate_bound_access_tokens",
];
const INSTR_FIELDS: &[&str] = &["audit_log", "contact"];

struct Cx {
    issues: Vec<SchemaIssue>,
}

/// `format!("{path}/{}", escape_token(key))`, in one allocation.
fn child(path: &str, key: &str) -> String {
    if crate::yaml::needs_escape(key) {
        return format!("{path}/{}", escape_token(key));
    }
    let mut out = String::with_capacity(path.len() + 1 + key.len());
    out.push_str(path);
    out.push('/');
    out.push_str(key);
    out
}

/// `format!("{path}/{i}")`.
fn index(path: &str, i: usize) -> String {
    let mut out = String::with_capacity(path.len() + 4);
    out.push_str(path);
    out.push('/');
    crate::yaml::push_index(&mut out, i);
    out
}

impl Cx {
    fn wrong(&mut self, node: &Node, path: &str, expected: &str) {
        let message = format!(
            "`{}` should be {expected}, found {}",
            display_path(path),
            node.kind()
        );
        self.type_issue(path, node.line, message);
    }

    /// A type problem at `path`: blocking in a field that grants access.
    fn type_issue(&mut self, path: &str, line: u32, mut message: String) {
        let kind = if grants_access(path) {
            message
                .push_str(": microvet cannot interpret it, so the access it grants is not vetted");
            SchemaIssueKind::AccessUninterpretable
        } else {
            SchemaIssueKind::WrongType
        };
        self.issues.push(SchemaIssue {
            kind,
            path: path.to_string(),
            line,
            message,
            fix: None,
        });
    }

    /// A string value, in normal form where it is matched against lists; a raw form that
    /// differs is an issue with a fix to the normal form.
    fn text(&mut self, raw: &str, path: String, line: u32) -> Sp<String> {
        if field_of(&path) == Some("external_sinks")
            && let Cow::Owned(normal) = normalise(raw)
        {
            // A sink stays as written (its host is read as a browser reads it); its raw
            // form is reported all the same: it is matched against the sink lists.
            self.issues.push(SchemaIssue {
                kind: SchemaIssueKind::NotNormal,
                message: format!(
                    "`{}` is `{}`, which differs from its normal form `{}` (white space at either end, invisible or compatibility characters); it is read as a browser reads it",
                    display_path(&path),
                    visible(raw),
                    visible(&normal)
                ),
                fix: Some(serde_json::Value::String(normal)),
                path: path.clone(),
                line,
            });
        } else if matched(&path)
            && let Cow::Owned(normal) = normalise(raw)
        {
            self.issues.push(SchemaIssue {
                kind: SchemaIssueKind::NotNormal,
                message: format!(
                    "`{}` is `{}`, which differs from its normal form `{}` (white space at either end, invisible or compatibility characters); it is vetted as `{}`",
                    display_path(&path),
                    visible(raw),
                    visible(&normal),
                    visible(&normal)
                ),
                fix: Some(serde_json::Value::String(normal.clone())),
                path: path.clone(),
                line,
            });
            return Sp {
                value: normal,
                path,
                line,
            };
        }
        Sp {
            value: raw.to_string(),
            path,
            line,
        }
    }

    /// Scope tokens of one list item: several white-space separated tokens are each
    /// vetted, and reported (a list item is one scope).
    fn scope_item(&mut self, sp: Sp<String>, out: &mut Vec<Sp<String>>) {
        if !sp.value.contains(char::is_whitespace) {
            out.push(sp);
            return;
        }
        let tokens: Vec<&str> = sp.value.split_whitespace().collect();
        self.issues.push(SchemaIssue {
            kind: SchemaIssueKind::AccessShape,
            path: sp.path.clone(),
            line: sp.line,
            message: format!(
                "`{}` holds {} scopes separated by white space (`{}`); each is vetted: write one scope per list item",
                display_path(&sp.path),
                tokens.len(),
                visible(&sp.value)
            ),
            fix: None,
        });
        for t in tokens {
            out.push(Sp {
                value: t.to_string(),
                path: sp.path.clone(),
                line: sp.line,
            });
        }
    }

    fn unknown_fields(&mut self, node: &Node, path: &str, known: &[&str]) {
        if let Value::Map(entries) = &node.value {
            for (k, _) in entries {
                if !known.contains(&k.name.as_str()) {
                    self.unknown(k, path, known);
                }
            }
        }
    }

    fn unknown(&mut self, k: &Key, path: &str, known: &[&str]) {
        // A key that is a secret (MV-SECRET-001) is neither quoted nor put in the path.
        if crate::rules::key_is_secret(&k.name) {
            self.issues.push(SchemaIssue {
                kind: SchemaIssueKind::UnknownField,
                path: child(path, crate::rules::REDACTED_KEY),
                line: k.line,
                message: "unknown field (its name is a secret, redacted)".to_string(),
                fix: None,
            });
            return;
        }
        let mut message = format!("unknown field `{}`", k.name);
        if let Some(s) = did_you_mean(&k.name, known.iter().copied()) {
            message.push_str(&format!("; did you mean `{s}`?"));
        }
        self.issues.push(SchemaIssue {
            kind: SchemaIssueKind::UnknownField,
            path: child(path, &k.name),
            line: k.line,
            message,
            fix: None,
        });
    }

    /// A string field; numbers and booleans are wrong types (a YAML `owner: 123`).
    fn string(&mut self, map: &Node, path: &str, key: &str) -> Option<Sp<String>> {
        let node = map.get(key)?;
        let p = child(path, key);
        match &node.value {
            Value::Str(s) => Some(self.text(s, p, node.line)),
            Value::Null => None,
            _ => {
                self.wrong(node, &p, "a string");
                None
            }
        }
    }

    fn int(&mut self, map: &Node, path: &str, key: &str) -> Option<Sp<i64>> {
        let node = map.get(key)?;
        let p = child(path, key);
        match &node.value {
            Value::Int(i) => Some(Sp {
                value: *i,
                path: p,
                line: node.line,
            }),
            Value::Null => None,
            _ => {
                self.wrong(node, &p, "a whole number of days/minutes");
                None
            }
        }
    }

    fn boolean(&mut self, map: &Node, path: &str, key: &str) -> Option<Sp<bool>> {
        let node = map.get(key)?;
        let p = child(path, key);
        match &node.value {
            Value::Bool(b) => Some(Sp {
                value: *b,
                path: p,
                line: node.line,
            }),
            Value::Null => None,
            _ => {
                self.wrong(node, &p, "`true` or `false`");
                None
            }
        }
    }

    /// A list of strings. In a field that grants access, one string stands for a list
    /// (space-separated scopes, RFC 6749 §3.3; otherwise one item): it is vetted as that
    /// list and reported with a fix to the list form. Elsewhere it is a wrong type.
    fn strings(&mut self, map: &Node, path: &str, key: &str) -> Option<Sp<Vec<Sp<String>>>> {
        let node = map.get(key)?;
        let p = child(path, key);
        let scopes = scope_list(key);
        match &node.value {
            Value::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let ip = index(&p, i);
                    match &item.value {
                        Value::Str(s) => {
                            let sp = self.text(s, ip, item.line);
                            if scopes {
                                self.scope_item(sp, &mut out);
                            } else {
                                out.push(sp);
                            }
                        }
                        _ => self.wrong(item, &ip, "a string"),
                    }
                }
                Some(Sp {
                    value: out,
                    path: p,
                    line: node.line,
                })
            }
            Value::Null => Some(Sp {
                value: Vec::new(),
                path: p,
                line: node.line,
            }),
            Value::Str(s) if grants_access(&p) => {
                let normal = if matched(&p) {
                    normalise(s)
                } else {
                    Cow::Borrowed(s.as_str())
                };
                let items: Vec<String> = if scopes {
                    normal.split_whitespace().map(str::to_string).collect()
                } else {
                    vec![normal.into_owned()]
                };
                let list: Vec<String> = items.iter().map(|i| format!("`{}`", visible(i))).collect();
                self.issues.push(SchemaIssue {
                    kind: SchemaIssueKind::AccessShape,
                    path: p.clone(),
                    line: node.line,
                    message: format!(
                        "`{}` should be a list of strings, found a string; it is vetted as the list [{}]",
                        display_path(&p),
                        list.join(", ")
                    ),
                    fix: Some(serde_json::Value::from(items.clone())),
                });
                // Each item is placed where the list form puts it (`/oauth_scopes/1`), so
                // fixes to items apply after the MV-SCHEMA-003 fix writes the list (`microvet
                // fix` applies replacements before removals).
                let value = items
                    .into_iter()
                    .enumerate()
                    .map(|(i, value)| Sp {
                        value,
                        path: index(&p, i),
                        line: node.line,
                    })
                    .collect();
                Some(Sp {
                    value,
                    path: p,
                    line: node.line,
                })
            }
            _ => {
                self.wrong(node, &p, "a list of strings");
                None
            }
        }
    }

    fn map<'a>(&mut self, parent: &'a Node, path: &str, key: &str) -> Option<&'a Node> {
        let node = parent.get(key)?;
        match &node.value {
            Value::Map(_) => Some(node),
            Value::Null => None,
            _ => {
                self.wrong(node, &child(path, key), "a mapping");
                None
            }
        }
    }
}

impl Cx {
    fn client(&mut self, c: &Node, p: &str) -> Client {
        Client {
            application_type: self.string(c, p, "application_type"),
            token_endpoint_auth_method: self.string(c, p, "token_endpoint_auth_method"),
            grant_types: self.strings(c, p, "grant_types"),
            response_types: self.strings(c, p, "response_types"),
            redirect_uris: self.strings(c, p, "redirect_uris"),
            code_challenge_method: self.string(c, p, "code_challenge_method"),
            refresh_token_rotation: self.boolean(c, p, "refresh_token_rotation"),
            refresh_token_ttl_days: self.int(c, p, "refresh_token_ttl_days"),
            access_token_ttl_minutes: self.int(c, p, "access_token_ttl_minutes"),
            client_secret: self.string(c, p, "client_secret"),
            client_id: self.string(c, p, "client_id"),
            client_name: self.string(c, p, "client_name"),
            jwks_uri: self.string(c, p, "jwks_uri"),
            jwks: self.jwks(c, p),
            post_logout_redirect_uris: self.strings(c, p, "post_logout_redirect_uris"),
            request_uris: self.strings(c, p, "request_uris"),
            sector_identifier_uri: self.string(c, p, "sector_identifier_uri"),
            initiate_login_uri: self.string(c, p, "initiate_login_uri"),
            response_modes: self.strings(c, p, "response_modes"),
            algs: ALG_FIELDS
                .iter()
                .filter_map(|k| self.string(c, p, k))
                .collect(),
            dpop_bound_access_tokens: self.boolean(c, p, "dpop_bound_access_tokens"),
            tls_client_certificate_bound_access_tokens: self.boolean(
                c,
                p,
                "tls_client_certificate_bound_access_tokens",
            ),
            path: p.to_string(),
            line: c.line,
        }
    }

    /// The inline `jwks`: `{keys: [ {kty, ...}, ... ]}`, or the same JSON text in a string
    /// (some servers accept it so). Only the names of private key members are kept; a shape
    /// that cannot be read is a wrong-type issue.
    fn jwks(&mut self, c: &Node, p: &str) -> Option<Jwks> {
        let node = c.get("jwks")?;
        let jp = child(p, "jwks");
        let mut out = Jwks {
            private_members: Vec::new(),
            path: jp.clone(),
            line: node.line,
        };
        match &node.value {
            Value::Map(_) => self.jwk_set(node, &jp, true, &mut out),
            Value::Null => return None,
            Value::Str(text) => match crate::yaml::parse(text, crate::yaml::Limits::MANIFEST) {
                // Pointers cannot address the inside of a string: members point at `jwks`.
                Ok(inner) if matches!(inner.value, Value::Map(_)) => {
                    let line = node.line;
                    let before = out.private_members.len();
                    self.jwk_set(&inner, &jp, false, &mut out);
                    for m in out.private_members.iter_mut().skip(before) {
                        m.line = line;
                    }
                }
                _ => self.wrong(node, &jp, "a JWK Set (`{keys: [...]}`)"),
            },
            _ => self.wrong(node, &jp, "a JWK Set (`{keys: [...]}`)"),
        }
        Some(out)
    }

    /// The private members of the keys of a JWK Set. `addressable`: the set is part of the
    /// document, so members get their own pointers (else they all point at `jwks`).
    fn jwk_set(&mut self, set: &Node, jp: &str, addressable: bool, out: &mut Jwks) {
        let Some(keys) = set.get("keys") else {
            return;
        };
        let kp = child(jp, "keys");
        let Value::Seq(items) = &keys.value else {
            let at = if addressable { kp.as_str() } else { jp };
            self.wrong(keys, at, "a list of JWKs");
            return;
        };
        for (i, key) in items.iter().enumerate() {
            let ip = index(&kp, i);
            let Value::Map(members) = &key.value else {
                let at = if addressable { ip.as_str() } else { jp };
                self.wrong(key, at, "a JWK (a mapping)");
                continue;
            };
            for (k, _) in members {
                // Member names are case-sensitive (RFC 7517 §4), but a `D` is read as the
                // private key it would be by a lenient library: fail closed.
                if PRIVATE_JWK_MEMBERS
                    .iter()
                    .any(|m| k.name.trim().eq_ignore_ascii_case(m))
                {
                    out.private_members.push(Sp {
                        value: k.name.clone(),
                        path: if addressable {
                            child(&ip, &k.name)
                        } else {
                            jp.to_string()
                        },
                        line: k.line,
                    });
                }
            }
        }
    }
}

/// Read a raw RFC 7591 dynamic client registration request. Its metadata lands in
/// [`Manifest::client`]; `scope` (space-separated) becomes `oauth_scopes`, `contacts[0]`
/// the owner, `client_name` the name. Unknown members are allowed (RFC 7591 §2 is
/// extensible), so only wrong types are issues.
pub fn extract_dcr(root: &Node) -> Manifest {
    let mut cx = Cx { issues: Vec::new() };
    let mut m = Manifest::default();
    let mut client = cx.client(root, "");
    client.line = root.line;
    if root
        .get("scope")
        .is_some_and(|n| matches!(n.value, Value::Seq(_)))
    {
        // A list where RFC 7591 §2 has one space-separated string: vetted item by item.
        if let Some(list) = cx.strings(root, "", "scope") {
            let joined: Vec<&str> = list.value.iter().map(|s| s.value.as_str()).collect();
            let joined = joined.join(" ");
            cx.issues.push(SchemaIssue {
                kind: SchemaIssueKind::AccessShape,
                path: list.path.clone(),
                line: list.line,
                message: format!(
                    "`scope` should be one string of space-separated scopes (RFC 7591 §2), found a list; it is vetted as `{}`",
                    visible(&joined)
                ),
                fix: Some(serde_json::Value::String(joined)),
            });
            m.oauth_scopes = Some(list);
        }
    } else if let Some(scope) = cx.string(root, "", "scope") {
        // Split on any white space, not only U+0020: a tab-separated scope is vetted too.
        let list = scope
            .value
            .split_whitespace()
            .map(|s| Sp {
                value: s.to_string(),
                path: scope.path.clone(),
                line: scope.line,
            })
            .collect();
        m.oauth_scopes = Some(Sp {
            value: list,
            path: scope.path,
            line: scope.line,
        });
    }
    if let Some(contacts) = cx.strings(root, "", "contacts") {
        m.owner = contacts.value.into_iter().next();
    }
    m.name = client.client_name.clone();
    m.client = Some(client);
    m.issues = cx.issues;
    m
}

/// `/client/redirect_uris/0` → `client.redirect_uris[0]`, for messages.
pub fn display_path(pointer: &str) -> String {
    let mut out = String::new();
    for tok in pointer.split('/').skip(1) {
        if !tok.is_empty() && tok.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{tok}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&tok.replace("~1", "/").replace("~0", "~"));
        }
    }
    out
}

/// Read a manifest from its parsed tree. `root` must be a mapping or null.
pub fn extract(root: &Node) -> Manifest {
    let mut cx = Cx { issues: Vec::new() };
    let mut m = Manifest::default();
    cx.unknown_fields(root, "", FIELDS);
    m.name = cx.string(root, "", "name");
    m.owner = cx.string(root, "", "owner");
    m.purpose = cx.string(root, "", "purpose");
    m.retention_days = cx.int(root, "", "retention_days");
    m.expiry_days = cx.int(root, "", "expiry_days");
    m.oauth_scopes = cx.strings(root, "", "oauth_scopes");
    m.external_sinks = cx.strings(root, "", "external_sinks");

    if let Some(node) = root.get("data_access") {
        let p = String::from("/data_access");
        match &node.value {
            Value::Seq(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let ip = index(&p, i);
                    match &item.value {
                        // `- hr.employee_records` is accepted as shorthand for `- type: ...`.
                        Value::Str(s) => out.push(DataAccess {
                            data_type: cx.text(s, ip.clone(), item.line),
                            access: Access::Read,
                            path: ip,
                            line: item.line,
                        }),
                        Value::Map(_) => {
                            cx.unknown_fields(item, &ip, DATA_FIELDS);
                            let access = match cx.string(item, &ip, "access") {
                                Some(a)
                                    if a.value.eq_ignore_ascii_case("write")
                                        || a.value.eq_ignore_ascii_case("read-write") =>
                                {
                                    Access::Write
                                }
                                Some(a) if a.value.eq_ignore_ascii_case("read") => Access::Read,
                                Some(a) => {
                                    // Unknown: vetted as the wider access.
                                    cx.type_issue(
                                        &a.path,
                                        a.line,
                                        format!(
                                            "access `{}` should be `read` or `write`",
                                            visible(&a.value)
                                        ),
                                    );
                                    Access::Write
                                }
                                // Of a type that cannot be read (MV-SCHEMA-004): the wider too.
                                None if item
                                    .get("access")
                                    .is_some_and(|n| !matches!(n.value, Value::Null)) =>
                                {
                                    Access::Write
                                }
                                None => Access::Read,
                            };
                            if let Some(t) = cx.string(item, &ip, "type") {
                                out.push(DataAccess {
                                    data_type: t,
                                    access,
                                    path: ip,
                                    line: item.line,
                                });
                            } else if item.get("type").is_none() {
                                cx.type_issue(
                                    &ip,
                                    item.line,
                                    format!("`data_access[{i}]` has no `type`"),
                                );
                            }
                        }
                        _ => cx.wrong(item, &ip, "a mapping with `type`"),
                    }
                }
                m.data_access = Some(Sp {
                    value: out,
                    path: p,
                    line: node.line,
                });
            }
            Value::Null => {
                m.data_access = Some(Sp {
                    value: Vec::new(),
                    path: p,
                    line: node.line,
                })
            }
            Value::Str(s) => {
                // One data type for the list of one (the `- hr.employee_records` shorthand).
                let normal = normalise(s).into_owned();
                cx.issues.push(SchemaIssue {
                    kind: SchemaIssueKind::AccessShape,
                    path: p.clone(),
                    line: node.line,
                    message: format!(
                        "`data_access` should be a list, found a string; it is vetted as the list [`{}`]",
                        visible(&normal)
                    ),
                    fix: Some(serde_json::Value::from(vec![normal.clone()])),
                });
                let ip = index(&p, 0);
                m.data_access = Some(Sp {
                    value: vec![DataAccess {
                        data_type: Sp {
                            value: normal,
                            path: ip.clone(),
                            line: node.line,
                        },
                        access: Access::Read,
                        path: ip,
                        line: node.line,
                    }],
                    path: p,
                    line: node.line,
                });
            }
            _ => cx.wrong(node, &p, "a list of `{ type, access }` items"),
        }
    }

    if let Some(node) = root.get("third_party_deps") {
        let p = String::from("/third_party_deps");
        match &node.value {
            Value::Seq(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let ip = index(&p, i);
                    if matches!(item.value, Value::Map(_)) {
                        cx.unknown_fields(item, &ip, DEP_FIELDS);
                        out.push(Dependency {
                            name: cx.string(item, &ip, "name"),
                            vendor: cx.string(item, &ip, "vendor"),
                            dpa: cx.boolean(item, &ip, "dpa"),
                            data: cx.strings(item, &ip, "data"),
                            path: ip,
                            line: item.line,
                        });
                    } else {
                        cx.wrong(item, &ip, "a mapping with `name` and `vendor`");
                    }
                }
                m.third_party_deps = Some(Sp {
                    value: out,
                    path: p,
                    line: node.line,
                });
            }
            Value::Null => {
                m.third_party_deps = Some(Sp {
                    value: Vec::new(),
                    path: p,
                    line: node.line,
                })
            }
            _ => cx.wrong(node, &p, "a list of `{ name, vendor }` items"),
        }
    }

    if let Some(c) = cx.map(root, "", "client") {
        cx.unknown_fields(c, "/client", CLIENT_FIELDS);
        m.client = Some(cx.client(c, "/client"));
    }

    if let Some(i) = cx.map(root, "", "instrumentation") {
        let p = "/instrumentation";
        cx.unknown_fields(i, p, INSTR_FIELDS);
        m.instrumentation = Some(Instrumentation {
            audit_log: cx.string(i, p, "audit_log"),
            contact: cx.string(i, p, "contact"),
            path: p.to_string(),
            line: i.line,
        });
    }
    m.issues = cx.issues;
    m
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
    use crate::yaml::{Limits, parse};

    #[test]
    fn reads_the_article_example_without_issues() {
        let text = "name: hr-onboarding-helper\nowner: hr@example.com\npurpose: automate candidate onboarding checklists\ndata_access:\n  - type: user.profile\n  - type: hr.employee_records\nretention_days: 30\noauth_scopes:\n  - openid\n  - profile\n  - hr.read_only\nexternal_sinks:\n  - s3://corp-hr-temp\nexpiry_days: 60\nthird_party_deps:\n  - name: chat-plugin\n    vendor: plugin-vendor.com\n";
        let m = extract(&parse(text, Limits::MANIFEST).unwrap());
        assert!(m.issues.is_empty(), "{:?}", m.issues);
        assert_eq!(m.owner.unwrap().line, 2);
        let scopes = m.oauth_scopes.unwrap().value;
        assert_eq!(scopes[2].value, "hr.read_only");
        assert_eq!(scopes[2].path, "/oauth_scopes/2");
        assert_eq!(
            m.data_access.unwrap().value[1].data_type.value,
            "hr.employee_records"
        );
    }

    #[test]
    fn unknown_and_wrong_types_are_issues_not_errors() {
        let m = extract(
            &parse(
                "oauth_scope: [x]\nexpiry_days: soon\nclient: {grant_type: [code]}\n",
                Limits::MANIFEST,
            )
            .unwrap(),
        );
        assert_eq!(m.issues.len(), 3);
        assert!(
            m.issues[0].message.contains("did you mean `oauth_scopes`?"),
            "{:?}",
            m.issues
        );
        assert_eq!(m.issues[1].path, "/expiry_days");
        assert!(m.issues[2].message.contains("did you mean `grant_types`?"));
    }

    fn kinds(m: &Manifest) -> Vec<(SchemaIssueKind, &str)> {
        m.issues.iter().map(|i| (i.kind, i.path.as_str())).collect()
    }

    #[test]
    fn one_string_in_a_field_that_grants_access_is_vetted_as_its_list() {
        let m = extract(
            &parse(
                "oauth_scopes: \"openid admin.all\t*\"\nclient: { redirect_uris: https://evil.io/cb }\n",
                Limits::MANIFEST,
            )
            .unwrap(),
        );
        let scopes: Vec<_> = m
            .oauth_scopes
            .as_ref()
            .unwrap()
            .value
            .iter()
            .map(|s| (s.value.as_str(), s.path.as_str()))
            .collect();
        assert_eq!(
            scopes,
            [
                ("openid", "/oauth_scopes/0"),
                ("admin.all", "/oauth_scopes/1"),
                ("*", "/oauth_scopes/2")
            ]
        );
        let uris = &m
            .client
            .as_ref()
            .unwrap()
            .redirect_uris
            .as_ref()
            .unwrap()
            .value;
        assert_eq!(uris[0].value, "https://evil.io/cb");
        assert_eq!(
            kinds(&m),
            [
                (SchemaIssueKind::AccessShape, "/oauth_scopes"),
                (SchemaIssueKind::AccessShape, "/client/redirect_uris")
            ]
        );
        assert_eq!(
            m.issues[0].fix,
            Some(serde_json::json!(["openid", "admin.all", "*"]))
        );
    }

    #[test]
    fn dcr_strings_and_lists_are_vetted_as_what_they_say() {
        let m = extract_dcr(
            &parse(
                r#"{"grant_types": "implicit", "response_types": "token", "scope": ["openid", "profile admin"]}"#,
                Limits::MANIFEST,
            )
            .unwrap(),
        );
        let c = m.client.as_ref().unwrap();
        assert_eq!(c.grant_types.as_ref().unwrap().value[0].value, "implicit");
        assert_eq!(c.response_types.as_ref().unwrap().value[0].value, "token");
        let scopes: Vec<_> = m
            .oauth_scopes
            .as_ref()
            .unwrap()
            .value
            .iter()
            .map(|s| s.value.as_str())
            .collect();
        assert_eq!(scopes, ["openid", "profile", "admin"]);
        assert!(
            m.issues
                .iter()
                .all(|i| i.kind == SchemaIssueKind::AccessShape),
            "{:?}",
            m.issues
        );
        assert_eq!(m.issues.len(), 4);
        // A tab-separated scope string is split too.
        let m = extract_dcr(&parse(r#"{"scope": "openid\tadmin"}"#, Limits::MANIFEST).unwrap());
        assert_eq!(m.oauth_scopes.unwrap().value[1].value, "admin");
    }

    #[test]
    fn other_types_in_fields_that_grant_access_are_uninterpretable() {
        let m = extract(
            &parse(
                "oauth_scopes: 42\nexpiry_days: soon\nclient: { grant_types: {implicit: true}, redirect_uris: [null], token_endpoint_auth_method: [none], refresh_token_rotation: maybe }\ndata_access: [{ type: x, access: admin }]\n",
                Limits::MANIFEST,
            )
            .unwrap(),
        );
        use SchemaIssueKind::{AccessUninterpretable as U, WrongType as W};
        assert_eq!(
            kinds(&m),
            [
                (W, "/expiry_days"),
                (U, "/oauth_scopes"),
                (U, "/data_access/0/access"),
                (U, "/client/token_endpoint_auth_method"),
                (U, "/client/grant_types"),
                (U, "/client/redirect_uris/0"),
                (W, "/client/refresh_token_rotation"),
            ]
        );
        // An unknown access is vetted as the wider one.
        assert_eq!(m.data_access.unwrap().value[0].access, Access::Write);
        let m = extract(
            &parse(
                "data_access: [{ type: x, access: [read] }]\n",
                Limits::MANIFEST,
            )
            .unwrap(),
        );
        assert_eq!(m.data_access.unwrap().value[0].access, Access::Write);
        let m = extract(&parse("client: public\n", Limits::MANIFEST).unwrap());
        assert_eq!(kinds(&m), [(U, "/client")]);
    }

    #[test]
    fn matched_values_are_vetted_in_normal_form() {
        let m = extract(
            &parse(
                "owner: \" jane@ｇｍａｉｌ.com\"\noauth_scopes: [\"adm\\u00adin\", profile]\nexternal_sinks: [\" s3://corp-x\"]\nname: \" x \"\nthird_party_deps: [{ name: \" n\", vendor: \"\\ufeffslack.com\" }]\nclient: { client_secret: \" s \" }\n",
                Limits::MANIFEST,
            )
            .unwrap(),
        );
        assert_eq!(m.owner.as_ref().unwrap().value, "jane@gmail.com");
        assert_eq!(m.oauth_scopes.as_ref().unwrap().value[0].value, "admin");
        // URLs are left to the URL rules (a sink's raw form is reported), free text and
        // secrets untouched.
        assert_eq!(
            m.external_sinks.as_ref().unwrap().value[0].value,
            " s3://corp-x"
        );
        assert_eq!(m.name.as_ref().unwrap().value, " x ");
        let deps = &m.third_party_deps.as_ref().unwrap().value;
        assert_eq!(deps[0].name.as_ref().unwrap().value, " n");
        assert_eq!(deps[0].vendor.as_ref().unwrap().value, "slack.com");
        assert_eq!(
            kinds(&m),
            [
                (SchemaIssueKind::NotNormal, "/owner"),
                (SchemaIssueKind::NotNormal, "/oauth_scopes/0"),
                (SchemaIssueKind::NotNormal, "/external_sinks/0"),
                (SchemaIssueKind::NotNormal, "/third_party_deps/0/vendor"),
            ]
        );
        assert_eq!(m.issues[1].fix, Some(serde_json::json!("admin")));
        assert!(
            m.issues[1].message.contains("`adm\\u{ad}in`"),
            "{}",
            m.issues[1].message
        );
    }

    #[test]
    fn display_paths() {
        assert_eq!(
            display_path("/client/redirect_uris/0"),
            "client.redirect_uris[0]"
        );
    }
}
